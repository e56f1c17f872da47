"""The commands of the ``stabkit`` command line, one module each.

:mod:`stabkit.cli` discovers every module of this package whose name does not start
with ``_``. A command module defines

``NAME: str``
    The word typed after ``stabkit`` (``"study"``).
``HELP: str``
    One line for ``stabkit --help``.
``add_arguments(parser: argparse.ArgumentParser) -> None``
    Adds its options to its subparser.
``run(args: argparse.Namespace, console: rich.console.Console) -> int``
    Does the work and returns the exit status. Bad input raises a
    :class:`~stabkit.errors.StabkitError`: the CLI prints it as one line and exits 2.

Command modules hold no analysis logic and import heavy modules inside ``run``, so
that ``stabkit --help`` stays fast. Shared helpers live in :mod:`stabkit.commands._common`.
"""

__all__: list[str] = []
