"""``stabkit models``: the library models."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from stabkit.commands._common import short_citation

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "models"
HELP = "list the library models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``stabkit models`` takes no options."""
    parser.description = "List the library models."


def run(args: argparse.Namespace, console: Console) -> int:
    """Print a table of the library models."""
    from rich.table import Table

    from stabkit.model import library

    t = Table(title="Library models", title_justify="left", show_edge=False)
    for c in ("name", "kind", "variables", "parameters", "citation"):
        t.add_column(c, overflow="fold")
    for name in library.names():
        m = library.get(name)
        t.add_row(
            name,
            m.kind.value,
            ", ".join(m.variables),
            ", ".join(m.parameters),
            short_citation(m.citation),
        )
    console.print(t)
    console.print("Show one with: stabkit info NAME", highlight=False)
    return 0
