"""``stabkit analyze MODEL``: equilibria with their stability, and the continuation the
model file asks for in its ``[analysis]`` table, with a bifurcation diagram and a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.commands._common import load_model_spec, parse_params
from stabkit.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.analysis.continuation import Branch
    from stabkit.report.html import ReportSection

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "analyze"
HELP = "equilibria and their stability, and the continuation asked in [analysis]"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit analyze``."""
    parser.description = (
        "Find the equilibria (fixed points of maps) with their linear stability; when the "
        "model file has an [analysis] table with continue = {parameter = 'b', from = 0.5, "
        "to = 4.0}, continue every equilibrium found at 'from' up to 'to' and list the "
        "special points (folds, Hopf points with their first Lyapunov coefficient, ...)."
    )
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="override parameter values, e.g. --param a=1.5",
    )
    parser.add_argument(
        "--bounds",
        action="extend",
        nargs="+",
        default=[],
        metavar="VAR=LO:HI",
        help="search box for equilibria, e.g. --bounds x=0:10 y=0:10 (also [analysis] bounds)",
    )
    parser.add_argument(
        "--no-continue", action="store_true", help="skip the continuation of [analysis]"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="write CSV tables, the diagram and index.html here"
    )


def _analysis_table(model: Any) -> dict[str, Any]:
    metadata = dict(model.metadata or ())
    table = metadata.get("analysis") or {}
    if not isinstance(table, dict):
        raise InputError(f"model {model.name!r}: [analysis] must be a table")
    return table


def _bounds(model: Any, table: dict[str, Any], items: list[str]) -> dict[str, tuple[float, float]]:
    from stabkit.commands._continuation import parse_bounds_items

    bounds: dict[str, tuple[float, float]] = {}
    raw = table.get("bounds")
    if raw is not None:
        if not isinstance(raw, dict):
            raise InputError("[analysis] bounds: expected a table such as {x = [0, 10]}")
        items_from_file = []
        for name, pair in raw.items():
            if not (isinstance(pair, list) and len(pair) == 2):
                raise InputError(f"[analysis] bounds.{name}: expected [lo, hi], got {pair!r}")
            items_from_file.append(f"{name}={pair[0]}:{pair[1]}")
        bounds.update(parse_bounds_items(items_from_file, model))
    bounds.update(parse_bounds_items(items, model))
    return bounds


def run(args: argparse.Namespace, console: Console) -> int:
    """Print the equilibria table and the continuation; write the report with ``--out``."""
    from stabkit.analysis.equilibria import find_equilibria
    from stabkit.commands._continuation import (
        branch_section,
        branches_from_equilibria,
        continuation_request,
        equilibria_facts,
        print_branches,
        print_equilibria,
        save_diagram,
        write_report,
    )
    from stabkit.report.html import ReportSection

    model = load_model_spec(args.model)
    params = parse_params(args.param)
    model.param_vector(params)  # unknown names fail here, before any work
    table = _analysis_table(model)
    bounds = _bounds(model, table, args.bounds)
    request = None
    if "continue" in table and not args.no_continue:
        request = continuation_request(table["continue"], model, "[analysis] continue")
    out = Path(args.out) if args.out else None

    values = {**model.default_parameter_map(), **params}
    shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
    console.print(
        f"[bold]{model.name}[/bold] ({model.kind.value}) at {shown or 'no parameters'}",
        highlight=False,
        soft_wrap=True,
    )
    began = time.perf_counter()
    with console.status("finding equilibria ..."):
        equilibria = find_equilibria(model, params or None, bounds=bounds or None, throw=False)
    what = "Fixed points" if model.kind.value == "map" else "Equilibria"
    print_equilibria(console, equilibria, what)
    sections: list[ReportSection] = [
        ReportSection(
            title=what,
            summary=f"find_equilibria({model.name}, {shown})",
            text=equilibria.message,
            facts=equilibria_facts(equilibria),
            status="ok" if equilibria.status == "ok" else "partial",
            wall_time=equilibria.stats.wall_time,
            compile_time=equilibria.stats.compile_time or None,
        )
    ]
    branches: list[Branch] = []
    if request is not None:
        console.print()
        console.print(
            f"[bold]Continuation[/bold] in {request.parameter} from "
            f"{request.start_value:g} to {request.end_value:g}",
            highlight=False,
        )
        with console.status(f"continuing in {request.parameter} ..."):
            branches, note = branches_from_equilibria(model, request, params, bounds or None)
        console.print(f"  {note}", highlight=False, soft_wrap=True)
        print_branches(console, branches)
        figure, why = None, ""
        if out is not None:
            figure, why = save_diagram(
                out,
                branches,
                "bifurcation_diagram",
                f"Equilibria against {request.parameter}: stable solid, unstable dashed, "
                "special points marked.",
            )
        sections.append(branch_section(branches, note, figure, why))
    elif "continue" not in table:
        console.print(
            "(no [analysis] continue = {parameter = ..., from = ..., to = ...} in the model: "
            "no continuation; or use 'stabkit continue')",
            style="dim",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if out is not None:
        page = write_report(
            out,
            title=f"stabkit analyze: {model.name}",
            subtitle=f"{model.kind.value} model; {time.perf_counter() - began:.1f} s",
            sections=sections,
            branches=branches,
            equilibria=equilibria,
        )
        console.print(f"wrote {page}", highlight=False, soft_wrap=True)
    return 0
