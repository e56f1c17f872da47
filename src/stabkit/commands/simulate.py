"""``stabkit simulate MODEL --t-end T``: integrate one state or an ensemble and save it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from stabkit.commands._common import load_model_spec, parse_params, seconds_text
from stabkit.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.integrate.trajectory import Ensemble, Trajectory
    from stabkit.model.model import Model

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "simulate"
HELP = "integrate a model (one state or an ensemble) and save the result"

_OUTPUT_SUFFIXES = (".parquet", ".csv", ".json")
_PROGRESS_MEMBERS = 2000  # ensembles at least this large show a progress bar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit simulate``."""
    parser.description = (
        "Integrate a model from its default state, or an ensemble of states sampled "
        "around it (default state + spread * standard normal), and save the result."
    )
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    parser.add_argument(
        "--t-end", type=float, required=True, metavar="T", help="end time (iterations for maps)"
    )
    parser.add_argument(
        "--t-start", type=float, default=0.0, metavar="T", help="start time (default: 0)"
    )
    parser.add_argument("--ensemble", type=int, metavar="N", help="number of ensemble members")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.1,
        metavar="S",
        help="std. dev. of the initial states (default: 0.1)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    parser.add_argument(
        "--method", metavar="NAME", help="dopri5, tsit5, dop853, rk4, rodas5, rosenbrock23, auto"
    )
    parser.add_argument("--rtol", type=float, metavar="X", help="relative tolerance")
    parser.add_argument("--atol", type=float, metavar="X", help="absolute tolerance")
    parser.add_argument("--dt", type=float, metavar="X", help="step size (rk4)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="step limit per trajectory")
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="override parameter values, e.g. --param b=3.2 a=1",
    )
    parser.add_argument(
        "--num-points",
        type=int,
        default=501,
        metavar="N",
        help="output times (default: %(default)s)",
    )
    parser.add_argument("--out", metavar="FILE", help="output file: .parquet, .csv or .json")
    parser.add_argument(
        "--ssa",
        action="store_true",
        help="stochastic simulation of a reaction network (--ensemble runs; --method direct, "
        "next or tau); same as `stabkit ssa`",
    )
    parser.add_argument("--runs", type=int, metavar="N", help="SSA runs (same as --ensemble)")


def run(args: argparse.Namespace, console: Console) -> int:
    """Integrate and print a summary; write ``--out`` when given."""
    if getattr(args, "ssa", False):
        from stabkit.commands.ssa import run_from_cli

        if args.method is not None and args.method not in ("direct", "next", "tau"):
            raise InputError(f"--method {args.method!r} with --ssa: use direct, next or tau")
        return run_from_cli(args, console)
    import numpy as np

    import stabkit
    from stabkit.integrate.methods import method_from_name
    from stabkit.report.demo import states_around

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise InputError(
            f"--out {args.out!r}: unknown file type; use a name ending in "
            + ", ".join(_OUTPUT_SUFFIXES)
        )
    if not args.t_end > args.t_start:
        raise InputError(f"--t-end {args.t_end:g} must be larger than --t-start {args.t_start:g}")
    if args.num_points < 2:
        raise InputError(f"--num-points {args.num_points}: need at least 2 output times")
    if args.ensemble is not None and args.ensemble < 1:
        raise InputError(f"--ensemble {args.ensemble}: need at least 1 member")
    params = parse_params(args.param)
    settings = {
        key: getattr(args, key)
        for key in ("rtol", "atol", "dt", "max_steps")
        if getattr(args, key) is not None
    }
    if settings and args.method is None:
        raise InputError(
            f"--{next(iter(settings)).replace('_', '-')} needs --method "
            "(e.g. --method dopri5) so that it is clear which scheme it applies to"
        )
    method = method_from_name(args.method, **settings) if args.method else None
    model = load_model_spec(args.model)
    model.param_vector(params)  # unknown names fail here, before any work
    t_span = (args.t_start, args.t_end)
    t_eval = np.linspace(args.t_start, args.t_end, args.num_points)
    if model.kind.value == "map":
        t_eval = np.unique(np.round(t_eval))
    result: Trajectory | Ensemble
    began = time.perf_counter()
    if args.ensemble is None:
        with console.status(f"integrating {model.name} ..."):
            result = stabkit.solve(
                model, t_span=t_span, method=method, t_eval=t_eval, params=params or None
            )
    else:
        y0s = states_around(model, args.ensemble, args.spread, seed=args.seed)
        progress = args.ensemble >= _PROGRESS_MEMBERS and console.is_terminal
        if progress:
            result = stabkit.solve_ensemble(
                model,
                y0s,
                t_span,
                method=method,
                t_eval=t_eval,
                params=params or None,
                progress=True,
            )
        else:
            with console.status(f"integrating {args.ensemble} members of {model.name} ..."):
                result = stabkit.solve_ensemble(
                    model, y0s, t_span, method=method, t_eval=t_eval, params=params or None
                )
    elapsed = time.perf_counter() - began
    _print_run_summary(console, model, result, args, elapsed)
    if out is not None:
        written = result.save(out)
        rows = result.y.shape[0] * result.y.shape[1] if result.y.ndim == 3 else result.y.shape[0]
        console.print(
            f"wrote [bold]{written}[/bold] ({rows} rows)", highlight=False, soft_wrap=True
        )
    return 0


def _print_run_summary(
    console: Console,
    model: Model,
    result: Trajectory | Ensemble,
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    import numpy as np
    from rich.table import Table

    from stabkit.integrate.trajectory import Ensemble

    method = (result.provenance.method or args.method or "default").split("(")[0]
    settings = [
        f"{key}={getattr(args, key):g}"
        for key in ("rtol", "atol", "dt", "max_steps")
        if getattr(args, key) is not None
    ]
    if settings:
        method += f"({', '.join(settings)})"
    console.print(
        f"[bold]{model.name}[/bold]: t in [{args.t_start:g}, {args.t_end:g}], "
        f"{result.t.size} output times, method {method}",
        highlight=False,
        soft_wrap=True,
    )
    t = Table(show_header=False, show_edge=False, box=None, padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    if isinstance(result, Ensemble):
        n = result.num_members
        t.add_row("members", f"{n} (seed {args.seed}, spread {args.spread:g})")
        for label, count in result.status_counts().items():
            colour = "green" if label in ("ok", "terminated") else "red"
            t.add_row(f"  {label}", f"[{colour}]{count}[/{colour}] ({100 * count / n:.1f}%)")
        t.add_row(
            "steps per member",
            f"mean {np.mean(result.num_steps):.1f}, max {int(np.max(result.num_steps))}",
        )
    else:
        colour = "green" if result.status == "ok" else "red"
        status = result.status + (f" ({result.message})" if result.message else "")
        t.add_row("status", f"[{colour}]{status}[/{colour}]")
        t.add_row(
            "steps", f"{result.stats.num_steps} accepted, {result.stats.num_rejected} rejected"
        )
    t.add_row("compile time", seconds_text(result.stats.compile_time))
    t.add_row("run time", seconds_text(result.stats.wall_time))
    t.add_row("total", seconds_text(elapsed))
    console.print(t)
