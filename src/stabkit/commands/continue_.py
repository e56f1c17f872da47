"""``stabkit continue MODEL --param b --from 0 --to 4``: follow equilibria in a parameter
and list the special points (folds, Hopf points with l1, branch points, flips, ...)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from stabkit.commands._common import load_model_spec, parse_params, parse_state

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "continue"
HELP = "continue equilibria in one parameter and list the special points"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit continue``."""
    parser.description = (
        "Follow branches of equilibria (fixed points of maps) in one parameter by "
        "pseudo-arclength continuation, from --start or from every equilibrium found at "
        "--from, and print the special points (kind, parameter value, state, first "
        "Lyapunov coefficient and criticality of Hopf points) and why each branch ended."
    )
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    parser.add_argument(
        "--param", required=True, metavar="NAME", help="the parameter to continue in"
    )
    parser.add_argument(
        "--from",
        dest="start_value",
        type=float,
        metavar="X",
        help="start value (default: the model's)",
    )
    parser.add_argument(
        "--to", dest="end_value", type=float, required=True, metavar="X", help="end value"
    )
    parser.add_argument(
        "--start",
        metavar="VAR=VALUE,...",
        help="a start state, e.g. --start x=1,y=0.5 (default: every equilibrium at --from)",
    )
    parser.add_argument(
        "--set",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="other parameter values, e.g. --set a=1.5",
    )
    parser.add_argument(
        "--bounds",
        action="extend",
        nargs="+",
        default=[],
        metavar="VAR=LO:HI",
        help="state box: where equilibria are sought and branches end",
    )
    parser.add_argument("--ds", type=float, metavar="X", help="initial arclength step")
    parser.add_argument("--max-points", type=int, metavar="N", help="points per branch at most")
    parser.add_argument(
        "--out", metavar="DIR", help="write the branches (CSV), the diagram and index.html here"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    """Continue, print the special points and how each branch ended; 0 unless none traced."""
    from stabkit.commands._continuation import (
        branch_section,
        branches_from_equilibria,
        continuation_request,
        parse_bounds_items,
        print_branches,
        save_diagram,
        write_report,
    )

    model = load_model_spec(args.model)
    params = parse_params(args.set, option="--set")
    model.param_vector(params)  # unknown names fail here
    start_value = args.start_value
    if start_value is None and args.param in model.parameters:
        start_value = {**model.default_parameter_map(), **params}[args.param]
    raw: dict[str, object] = {"parameter": args.param, "from": start_value, "to": args.end_value}
    if args.start:
        raw["start"] = parse_state(args.start, model.variables)
    if args.ds is not None:
        raw["ds"] = args.ds
    if args.max_points is not None:
        raw["max_points"] = args.max_points
    request = continuation_request(raw, model, "stabkit continue")
    bounds = parse_bounds_items(args.bounds, model)
    console.print(
        f"[bold]{model.name}[/bold]: continuation in {request.parameter} from "
        f"{request.start_value:g} to {request.end_value:g}",
        highlight=False,
        soft_wrap=True,
    )
    with console.status(f"continuing in {request.parameter} ..."):
        branches, note = branches_from_equilibria(model, request, params, bounds or None)
    console.print(f"  {note}", highlight=False, soft_wrap=True)
    print_branches(console, branches)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        figure, why = save_diagram(
            out,
            branches,
            "bifurcation_diagram",
            f"Equilibria against {request.parameter}: stable solid, unstable dashed.",
        )
        page = write_report(
            out,
            title=f"stabkit continue: {model.name}",
            subtitle=note,
            sections=[branch_section(branches, note, figure, why)],
            branches=branches,
        )
        console.print(f"wrote {page}", highlight=False, soft_wrap=True)
    return 0 if any(len(b) for b in branches) else 1
