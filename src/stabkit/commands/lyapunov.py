"""``stabkit lyapunov MODEL``: the Lyapunov spectrum with error bars, sum rule, dimension."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from stabkit.commands._common import load_model_spec, parse_params, parse_state, seconds_text

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "lyapunov"
HELP = "Lyapunov spectrum with error bars, sum rule and Kaplan-Yorke dimension"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit lyapunov``."""
    parser.description = (
        "Lyapunov exponents of a flow or a map (Benettin's algorithm on the exact "
        "variational equations), each with a standard error from batch means; the sum "
        "rule (sum of exponents against the orbit average of tr J, or log|det J| for "
        "maps) and the Kaplan-Yorke dimension."
    )
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="override parameter values, e.g. --param rho=28",
    )
    parser.add_argument("--start", metavar="X=V,...", help="initial state (default: the model's)")
    parser.add_argument(
        "--t-max", type=float, metavar="T", help="largest averaging time (iterations for maps)"
    )
    parser.add_argument(
        "--tol", type=float, metavar="X", help="stop when every standard error is below X"
    )
    parser.add_argument("--transient", type=float, metavar="T", help="orbit discarded first")
    parser.add_argument(
        "--num-exponents", type=int, metavar="K", help="only the K largest (default: all)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    parser.add_argument(
        "--max-wall-time", type=float, default=120.0, metavar="S", help="seconds (default: 120)"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    """Compute and print the spectrum; exit 1 when the status is not ok."""
    from rich.table import Table

    from stabkit.analysis.lyapunov import QR, lyapunov_spectrum

    model = load_model_spec(args.model)
    params = parse_params(args.param)
    y0 = parse_state(args.start, model.variables) if args.start else None
    settings: dict[str, object] = {"max_wall_time": args.max_wall_time}
    if args.t_max is not None:
        settings["t_max"] = args.t_max
    if args.tol is not None:
        settings["tol"] = args.tol
    if args.transient is not None:
        settings["transient"] = args.transient
    method = QR(**settings)  # type: ignore[arg-type]
    result = lyapunov_spectrum(
        model,
        params or None,
        y0=y0,
        num_exponents=args.num_exponents,
        method=method,
        seed=args.seed,
    )
    unit = "per iteration" if result.kind == "map" else "per unit time"
    console.print(
        f"[bold]{model.name}[/bold]: Lyapunov exponents ({unit}), "
        f"status [bold]{result.status}[/bold]",
        highlight=False,
    )
    table = Table(show_edge=False)
    for column in ("i", "exponent", "standard error"):
        table.add_column(column, justify="right")
    for i, (lam, se) in enumerate(zip(result.exponents, result.standard_errors, strict=True)):
        mark = " (flow direction)" if i == result.zero_exponent_index else ""
        table.add_row(str(i + 1), f"{lam:.6g}{mark}", f"{se:.2g}")
    console.print(table)
    sr = result.sum_rule
    if sr is not None:
        what = "<log|det J|>" if result.kind == "map" else "<tr J>"
        console.print(
            f"sum rule: sum = {sr.exponent_sum:.8g}, {what} = {sr.trace_average:.8g}, "
            f"difference {sr.difference:.2g}",
            highlight=False,
            markup=False,
        )
        console.print(
            f"Kaplan-Yorke dimension: {result.kaplan_yorke_dimension:.4f}", highlight=False
        )
    console.print(
        f"averaged over {result.averaging_time:.6g} after a transient of "
        f"{result.transient:.6g}; renormalised every {result.renormalisation_interval:.3g}; "
        f"run {seconds_text(result.stats.wall_time)}, compile "
        f"{seconds_text(result.stats.compile_time)}",
        highlight=False,
        markup=False,
    )
    console.print(result.message, highlight=False, markup=False, soft_wrap=True)
    return 0 if result.ok else 1
