"""``stabkit study NAME|list|all [--full] [--out DIR]``: reproduce the seed papers' numbers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from stabkit.commands._common import seconds_text
from stabkit.errors import StabkitError

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.studies import StudyResult

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "study"
HELP = "run a paper's study and compare with its published numbers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit study``."""
    parser.description = (
        "Run a study (one per seed paper) and compare what it finds with the numbers and "
        "claims the paper states. 'list' shows the studies, 'all' runs every one."
    )
    parser.add_argument("name", metavar="NAME", help="a study name, 'list' or 'all'")
    parser.add_argument(
        "--full", action="store_true", help="the full run (default: the quick mode)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="write figures, tables, results.csv and index.html here ('all': one folder each)",
    )


def _print_result(console: Console, result: StudyResult, *, verbose: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from stabkit.studies._page import row_text

    colour = "green" if result.passed else "red"
    verdict = "passed" if result.passed else ("error" if result.status == "error" else "FAILED")
    console.print(
        f"[{colour}]{verdict:>7}[/{colour}]  [bold]{result.name}[/bold] "
        f"({'quick' if result.quick else 'full'}): {result.message}  "
        f"[dim]{seconds_text(result.stats.wall_time)}[/dim]",
        highlight=False,
        soft_wrap=True,
    )
    rows = result.rows if verbose else result.failures
    if not rows:
        return
    t = Table(show_edge=False, box=None, padding=(0, 2))
    t.add_column("key", style="bold", overflow="fold")
    t.add_column("outcome", overflow="fold")
    for row in rows:
        style = {True: "green", False: "red", None: "dim"}[row.passed]
        t.add_row(row.key, Text(row_text(row), style=style))
    console.print(t)


def _list(console: Console) -> int:
    from rich.table import Table
    from rich.text import Text

    from stabkit.studies import list_studies
    from stabkit.studies._expected import load_expected
    from stabkit.studies._framework import _studies_folder

    t = Table(title="Studies", title_justify="left", show_edge=False)
    for c in ("name", "numbers", "claims"):
        t.add_column(c)
    for name in list_studies():
        try:
            entries = load_expected(_studies_folder() / name / "expected.json").values()
        except StabkitError as exc:
            t.add_row(name, Text(f"broken expected.json: {exc}", style="red"), "")
            continue
        numbers = sum(1 for e in entries if e.kind != "claim")
        t.add_row(name, str(numbers), str(len(entries) - numbers))
    console.print(t)
    console.print("Run one with: stabkit study NAME [--full] [--out DIR]", highlight=False)
    return 0


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the study (or all); exit 0 when every check passed, 1 otherwise."""
    from stabkit.report.html import ReportSection, write_html_report
    from stabkit.studies import list_studies, run_study

    if args.name == "list":
        return _list(console)
    quick = not args.full
    out = Path(args.out) if args.out else None
    if args.name != "all":
        with console.status(f"study {args.name} ..."):
            result = run_study(args.name, quick=quick, out=out)
        _print_result(console, result, verbose=True)
        if result.report is not None:
            console.print(f"wrote {result.report}", highlight=False, soft_wrap=True)
        return 0 if result.passed else 1
    results: list[StudyResult] = []
    status = console.status("")
    with status:
        for name in list_studies():
            status.update(f"study {name} ...")
            result = run_study(name, quick=quick, out=out / name if out else None)
            _print_result(console, result, verbose=False)
            results.append(result)
    failed = [r.name for r in results if not r.passed]
    console.print(
        f"{len(results) - len(failed)}/{len(results)} studies passed"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        highlight=False,
        soft_wrap=True,
    )
    if out is not None:
        sections = [
            ReportSection(
                title=r.name,
                summary=r.message,
                text=f"Details: {r.name}/index.html",
                facts=tuple((row.key, "pass" if row.passed else "FAIL") for row in r.checks),
                status="ok" if r.passed else ("error" if r.status == "error" else "partial"),
                wall_time=r.stats.wall_time,
            )
            for r in results
        ]
        page = write_html_report(
            out,
            sections,
            title="stabkit studies",
            facts=(("mode", "quick" if quick else "full"),),
        )
        console.print(f"wrote {page}", highlight=False, soft_wrap=True)
    return 0 if not failed else 1
