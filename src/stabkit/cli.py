"""The ``stabkit`` command line: the face of the package, holding no analysis logic.

Every module of :mod:`stabkit.commands` whose name does not start with ``_`` is a
command (``NAME``, ``HELP``, ``add_arguments(parser)``, ``run(args, console)``); see
that package for the contract. ``stabkit --help`` lists them, for instance::

    stabkit demo [--out demo-report] [--quick]        run the bundled examples, write a report
    stabkit info MODEL                                 what a model is: values, equations, Jacobian
    stabkit simulate MODEL --t-end T [...] --out F     integrate one state or an ensemble
    stabkit models                                     list the library models

``MODEL`` is a path to a ``.toml`` model file or the name of a library model. Every
error a user can cause (a :class:`~stabkit.errors.StabkitError`, a missing file, a bad
argument) prints one red line and exits with status 2; ``--debug`` shows the traceback.
A command module that fails to load does not take the others down: it is listed as
unavailable, and invoking it reports why (``--debug`` shows the import traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import pkgutil
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, cast

from stabkit.errors import StabkitError, suggest

__all__ = ["CommandInfo", "discover_commands", "main"]

_PACKAGE = "stabkit.commands"


@dataclasses.dataclass(frozen=True)
class CommandInfo:
    """One command module as the CLI found it.

    Attributes
    ----------
    name
        The command word (the module's ``NAME``; for a module that failed to load, the
        module name without a trailing ``_``).
    module
        The module's dotted name.
    help
        The module's ``HELP`` line.
    add_arguments, run
        The module's functions (``None`` when it failed to load).
    error
        Why the module could not be used, in one line (empty when it loaded).
    detail
        The traceback of that failure (empty when it loaded).
    """

    name: str
    module: str
    help: str = ""
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    run: Callable[[argparse.Namespace, Any], int] | None = None
    error: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the module loaded and follows the contract."""
        return not self.error


def _broken(short: str, module: str, exc: BaseException) -> CommandInfo:
    name = short.rstrip("_")
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return CommandInfo(
        name=name,
        module=module,
        help="(unavailable: the command failed to load)",
        error=message[-1] if message else type(exc).__name__,
        detail=detail,
    )


def _load(short: str, module_name: str) -> CommandInfo:
    try:
        module = importlib.import_module(module_name)
        name = getattr(module, "NAME", None)
        help_ = getattr(module, "HELP", "")
        add_arguments = getattr(module, "add_arguments", None)
        run = getattr(module, "run", None)
        missing = [
            what
            for what, ok in (
                ("NAME (a non-empty string)", isinstance(name, str) and bool(name)),
                ("HELP (a string)", isinstance(help_, str)),
                ("add_arguments(parser)", callable(add_arguments)),
                ("run(args, console)", callable(run)),
            )
            if not ok
        ]
        if missing:
            raise TypeError(f"module {module_name} does not define {', '.join(missing)}")
        add_arguments = cast("Callable[[argparse.ArgumentParser], None]", add_arguments)
        run = cast("Callable[[argparse.Namespace, Any], int]", run)
        name = str(name)
        add_arguments(_Parser(prog=f"stabkit {name}", add_help=False))  # a dry run
    except Exception as exc:  # a broken command must not break the others
        return _broken(short, module_name, exc)
    return CommandInfo(
        name=name, module=module_name, help=help_, add_arguments=add_arguments, run=run
    )


def discover_commands(package: str = _PACKAGE) -> list[CommandInfo]:
    """Every command module of ``package`` (names not starting with ``_``), sorted by name.

    A module that fails to import, lacks part of the contract, whose ``add_arguments``
    fails, or whose ``NAME`` repeats another's is returned with ``error`` set instead of
    raising, so that one broken command never disables the others.
    """
    pkg = importlib.import_module(package)
    found: dict[str, CommandInfo] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        command = _load(info.name, f"{package}.{info.name}")
        if command.name in found:
            other = found[command.name]
            if not other.ok:  # the working one wins the name
                found[command.name] = command
                continue
            command = dataclasses.replace(
                command,
                name=f"{command.name} ({info.name})",
                error=f"NAME {command.name!r} is already used by {other.module}",
                add_arguments=None,
                run=None,
            )
        found[command.name] = command
    return sorted(found.values(), key=lambda c: c.name)


class _UsageError(Exception):
    """A bad command line (argparse's complaint), reported like any other error."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _BrokenCommandError(Exception):
    def __init__(self, command: CommandInfo) -> None:
        super().__init__(
            f"command {command.name!r} is unavailable: {command.module} failed to load "
            f"({command.error}); run with --debug for the traceback"
        )
        self.command = command


class _Parser(argparse.ArgumentParser):
    command_names: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)'", message)
        if match and "command" in message.lower():
            names = list(self.command_names)
            hint = suggest(match.group(1), names)
            message = f"unknown command {match.group(1)!r}; choose one of {', '.join(names)}"
            if hint:
                message += f"; {hint}"
        raise _UsageError(message, self.prog)


# --------------------------------------------------------------------------- parser
def _parser(commands: Sequence[CommandInfo]) -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser = _Parser(
        prog="stabkit",
        description="Is it stable, where does it lose stability, and why?",
        epilog="Run 'stabkit COMMAND --help' for the options of a command.",
    )
    parser.command_names = [c.name for c in commands if " " not in c.name]
    parser.add_argument("--version", action="version", version=f"stabkit {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in commands:
        if " " in command.name:  # a duplicate NAME: not reachable, reported under --debug
            continue
        p = sub.add_parser(
            command.name, parents=[common], help=command.help, description=command.help
        )
        if command.ok and command.add_arguments is not None:
            command.add_arguments(p)
        else:
            p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
        p.set_defaults(command_info=command)
    return parser


def _version() -> str:
    from stabkit import __version__

    return __version__


# --------------------------------------------------------------------------- entry point
def _report_error(message: str, *, hint: str = "") -> None:
    from rich.console import Console
    from rich.text import Text

    err = Console(stderr=True, highlight=False)
    first, *rest = message.splitlines() or [""]
    line = Text(f"error: {first}", style="bold red")
    if hint:
        line.append(f" ({hint})", style="dim")
    err.print(line, soft_wrap=True)
    for extra in rest:  # a model error's source line and caret
        err.print(Text(extra), soft_wrap=True)


def _warn_broken(commands: Sequence[CommandInfo]) -> None:
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    for command in commands:
        if not command.ok:
            err.print(
                f"warning: command module {command.module} is unavailable: {command.error}",
                style="yellow",
                markup=False,
                soft_wrap=True,
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Status 0: success; 1: the command finished but reported a failure (e.g. a demo
    section or a study check failed) or hit an unexpected error; 2: a user error (bad
    arguments, a missing or invalid model file, any :class:`StabkitError`, a command
    that failed to load); 130: interrupted.
    """
    from rich.console import Console

    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    console = Console(highlight=False)
    try:
        commands = discover_commands()
        if debug:
            _warn_broken(commands)
        parser = _parser(commands)
        args, extras = parser.parse_known_args(args_list)
        if args.command is None:
            parser.print_help()
            return 2
        command: CommandInfo = args.command_info
        if not command.ok or command.run is None:
            raise _BrokenCommandError(command)
        if extras:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return int(command.run(args, console))
    except _UsageError as exc:
        _report_error(str(exc), hint=f"see '{exc.prog} --help'")
        return 2
    except _BrokenCommandError as exc:
        if debug:
            sys.stderr.write(exc.command.detail)
        _report_error(str(exc))
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _report_error("interrupted")
        return 130
    except (StabkitError, OSError) as exc:
        if debug:
            traceback.print_exc()
        message = str(exc)
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.filename}: {exc.strerror}"
        _report_error(message)
        return 2
    except Exception as exc:
        if debug:
            raise
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        _report_error(
            f"unexpected {detail.splitlines()[-1] if detail else type(exc).__name__}",
            hint="a bug; rerun with --debug for the traceback",
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
