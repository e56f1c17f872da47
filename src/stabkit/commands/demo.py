"""``stabkit demo``: run the bundled examples and write an HTML report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from stabkit.commands._common import seconds_text

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.report.demo import DemoSection
    from stabkit.report.html import ReportSection

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "demo"
HELP = "run the bundled examples and write an HTML report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit demo``."""
    parser.description = "Run the bundled examples and write a report folder (PNGs + index.html)."
    parser.add_argument(
        "--out",
        default="demo-report",
        metavar="FOLDER",
        help="report folder (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="small ensembles, short runs")
    parser.add_argument(
        "--only", metavar="KEYS", help="comma-separated section keys to run (default: all)"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the demo sections, show progress, and return 1 when a section failed."""
    from stabkit import __version__
    from stabkit.report.demo import run_demo

    only = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
    console.print(
        f"stabkit {__version__} demo ({'quick' if args.quick else 'full'}) -> {args.out}/",
        highlight=False,
        soft_wrap=True,
    )
    status = console.status("")

    def start(section: DemoSection) -> None:
        status.update(f"{section.title} ...")

    def finish(section: DemoSection, report: ReportSection) -> None:
        colour = {"ok": "green", "partial": "yellow"}.get(report.status, "red")
        timing = ""
        if report.wall_time is not None:
            timing = f"run {seconds_text(report.wall_time)}"
        if report.compile_time:
            timing += f", compile {seconds_text(report.compile_time)}"
        console.print(
            f"  [{colour}]{report.status:>7}[/{colour}]  {section.title}  [dim]{timing}[/dim]",
            highlight=False,
            soft_wrap=True,
        )
        if report.status == "error":
            lines = report.text.splitlines() or [""]
            console.print(f"           {lines[-1]}", style="red", markup=False)

    with status:
        report = run_demo(
            args.out,
            quick=args.quick,
            only=only,
            on_start=start,
            on_finish=finish,
            raise_errors=bool(getattr(args, "debug", False)),
        )
    figures = sum(len(s.figures) for s in report.sections)
    compile_time = sum(s.compile_time or 0.0 for s in report.sections)
    console.print(
        f"wrote {report.index} and {figures} figures in {report.total_time:.1f} s "
        f"(compiling kernels: {compile_time:.1f} s; they are cached for the next run)",
        highlight=False,
        soft_wrap=True,
    )
    return 0 if report.ok else 1
