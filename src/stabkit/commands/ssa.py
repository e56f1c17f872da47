"""``stabkit ssa NETWORK --runs N``: simulate a reaction network stochastically.

``NETWORK`` is a TOML file of kind ``reactions``, an SBML file (``.xml`` / ``.sbml``,
needs python-libsbml) or the name of a shipped network (``birth_death``,
``schlogl``, ...). :func:`run_from_cli` is also what ``stabkit simulate NETWORK --ssa``
calls.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.commands._common import parse_params, seconds_text
from stabkit.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.integrate.ssa import SSAMethod, SSAResult
    from stabkit.model.reactions import ReactionNetwork

__all__ = ["HELP", "NAME", "add_arguments", "load_network_spec", "run", "run_from_cli"]

NAME = "ssa"
HELP = "simulate a reaction network stochastically (Gillespie, next reaction, tau-leaping)"

_METHODS = ("direct", "next", "tau")
_OUTPUT_SUFFIXES = (".parquet", ".csv", ".json")
_SBML_SUFFIXES = (".xml", ".sbml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit ssa``."""
    parser.description = (
        "Simulate a reaction network with the stochastic simulation algorithm: many "
        "independent runs on a common time grid, with the ensemble mean and variance "
        "(standard errors over runs) at the end time."
    )
    parser.add_argument(
        "network",
        metavar="NETWORK",
        help="a reactions .toml file, an SBML file (.xml), or a shipped network name",
    )
    parser.add_argument("--runs", type=int, default=100, metavar="N", help="runs (default: 100)")
    parser.add_argument(
        "--t-end", type=float, default=10.0, metavar="T", help="end time (default: 10)"
    )
    parser.add_argument(
        "--t-start", type=float, default=0.0, metavar="T", help="start time (default: 0)"
    )
    parser.add_argument(
        "--num-points", type=int, default=101, metavar="N", help="output times (default: 101)"
    )
    parser.add_argument(
        "--method",
        default="direct",
        choices=_METHODS,
        help="direct (Gillespie), next (Gibson-Bruck) or tau (tau-leaping); default: direct",
    )
    parser.add_argument(
        "--epsilon", type=float, metavar="X", help="tau-leaping accuracy (default: 0.03)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="override parameter values, e.g. --param k1=5",
    )
    parser.add_argument(
        "--count",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=N",
        help="override initial counts, e.g. --count X=100",
    )
    parser.add_argument("--volume", type=float, metavar="OMEGA", help="system size Omega")
    parser.add_argument("--threads", type=int, metavar="N", help="threads (default: numba's)")
    parser.add_argument(
        "--max-reactions", type=int, metavar="N", help="reactions per run before it stops"
    )
    parser.add_argument("--out", metavar="FILE", help="output file: .parquet, .csv or .json")


def load_network_spec(spec: str) -> ReactionNetwork:
    """A network from a TOML or SBML file path or a shipped network name.

    Raises
    ------
    InputError
        The file does not exist or the name is unknown (with did-you-mean).
    ModelError
        A malformed file (naming file, line and column).
    """
    from stabkit.model._reaction_files import library_network, network_names

    path = Path(spec)
    suffix = path.suffix.lower()
    if path.is_file() or suffix in (".toml", *_SBML_SUFFIXES) or "/" in spec or "\\" in spec:
        if not path.is_file():
            raise InputError(f"network file {spec!r} not found")
        if suffix in _SBML_SUFFIXES:
            from stabkit.model.sbml import load_sbml

            return load_sbml(path)
        from stabkit.model.files import load_network

        return load_network(path)
    if spec not in network_names():
        from stabkit.errors import suggest

        hint = suggest(spec, network_names())
        raise InputError(
            f"NETWORK {spec!r} is neither a file nor a shipped network; the shipped ones "
            f"are {', '.join(network_names())}" + (f"; {hint}" if hint else "")
        )
    return library_network(spec)


def _method(name: str, epsilon: float | None) -> SSAMethod:
    from stabkit.integrate.ssa import Direct, NextReaction, TauLeaping

    if name not in _METHODS:
        raise InputError(f"--method {name!r}: choose one of {', '.join(_METHODS)}")
    if epsilon is not None and name != "tau":
        raise InputError("--epsilon applies to --method tau only")
    if name == "tau":
        return TauLeaping() if epsilon is None else TauLeaping(epsilon=epsilon)
    return Direct() if name == "direct" else NextReaction()


def _get(args: argparse.Namespace, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            return value
    return default


def run_from_cli(args: argparse.Namespace, console: Console) -> int:
    """Simulate from parsed command-line options; print a summary, write ``--out``.

    Reads these attributes of ``args`` when present (others take their defaults, so
    ``stabkit simulate``'s namespace works too): ``network`` or ``model`` (the spec),
    ``runs`` or ``ensemble``, ``t_start``, ``t_end``, ``num_points``, ``ssa_method`` or
    ``method`` (direct, next, tau), ``epsilon``, ``seed``, ``param``, ``count``,
    ``volume``, ``threads``, ``max_reactions``, ``out``.

    Returns
    -------
    int
        0 when every run finished, 1 when some stopped early (the output is still
        written).
    """
    import numpy as np

    from stabkit.integrate.ssa import DEFAULT_MAX_REACTIONS, ssa

    spec = _get(args, "network", "model")
    if spec is None:
        raise InputError("no NETWORK given")
    out = Path(args.out) if getattr(args, "out", None) else None
    if out is not None and out.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise InputError(
            f"--out {args.out!r}: unknown file type; use a name ending in "
            + ", ".join(_OUTPUT_SUFFIXES)
        )
    t_start = float(_get(args, "t_start", default=0.0))
    t_end = float(_get(args, "t_end", default=10.0))
    if not t_end > t_start:
        raise InputError(f"--t-end {t_end:g} must be larger than --t-start {t_start:g}")
    num_points = int(_get(args, "num_points", default=101))
    if num_points < 1:
        raise InputError(f"--num-points {num_points}: need at least 1 output time")
    runs = int(_get(args, "runs", "ensemble", default=100))
    if runs < 1:
        raise InputError(f"--runs {runs}: need at least 1 run")
    method = _method(str(_get(args, "ssa_method", "method", default="direct")),
                     _get(args, "epsilon"))  # fmt: skip
    network = load_network_spec(str(spec))
    volume = _get(args, "volume")
    if volume is not None:
        network = network.with_volume(volume)
    params = parse_params(_get(args, "param", default=[]))
    counts_raw = parse_params(_get(args, "count", default=[]), option="--count")
    counts = {name: _whole(value, name) for name, value in counts_raw.items()}
    began = time.perf_counter()
    with console.status(f"simulating {runs} runs of {network.name} ..."):
        result = ssa(
            network,
            (t_start, t_end),
            num_runs=runs,
            t_eval=np.linspace(t_start, t_end, num_points),
            method=method,
            seed=int(_get(args, "seed", default=0)),
            params=params or None,
            y0=counts or None,
            max_reactions=int(_get(args, "max_reactions", default=DEFAULT_MAX_REACTIONS)),
            num_threads=_get(args, "threads"),
        )
    _print_summary(console, network, result, time.perf_counter() - began)
    if out is not None:
        written = result.save(out)
        console.print(
            f"wrote [bold]{written}[/bold] ({result.counts.shape[0] * result.counts.shape[1]} "
            "rows)",
            highlight=False,
            soft_wrap=True,
        )
    return 0 if result.ok else 1


def run(args: argparse.Namespace, console: Console) -> int:
    """``stabkit ssa``: see :func:`run_from_cli`."""
    return run_from_cli(args, console)


def _whole(value: float, name: str) -> int:
    if not float(value).is_integer() or value < 0:
        raise InputError(f"--count {name}={value:g}: a count is a whole number >= 0")
    return int(value)


def _print_summary(
    console: Console, network: ReactionNetwork, result: SSAResult, elapsed: float
) -> None:
    from rich.table import Table

    method = result.provenance.method.split("(")[0]
    console.print(
        f"[bold]{network.name}[/bold]: {len(network.species)} species, "
        f"{len(network.reactions)} reactions, volume {network.volume:g}; "
        f"t in [{result.t[0]:g}, {result.t[-1]:g}], {result.t.size} output times, "
        f"method {method}",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(show_header=False, show_edge=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    n = result.num_runs
    table.add_row("runs", f"{n} (seed {result.provenance.seed})")
    for label, count in result.status_counts().items():
        if count or label == "ok":
            colour = "green" if label == "ok" else "red"
            table.add_row(f"  {label}", f"[{colour}]{count}[/{colour}] ({100 * count / n:.1f}%)")
    if result.message:
        table.add_row("  note", result.message)
    table.add_row("reactions fired", f"{result.total_reactions:,}")
    table.add_row("reactions per second", f"{result.reactions_per_second:.3g}")
    table.add_row("compile time", seconds_text(result.stats.compile_time))
    table.add_row("run time", seconds_text(result.stats.wall_time))
    table.add_row("total", seconds_text(elapsed))
    console.print(table)
    stats = Table(title=f"at t = {result.t[-1]:g}", show_edge=False, box=None, padding=(0, 2))
    for column in ("species", "mean", "± s.e.", "variance", "± s.e."):
        stats.add_column(column, justify="left" if column == "species" else "right")
    mean, variance = result.mean(), result.variance()
    for i, name in enumerate(result.species):
        stats.add_row(
            name,
            f"{mean.value[-1, i]:.6g}",
            f"{mean.standard_error[-1, i]:.2g}",
            f"{variance.value[-1, i]:.6g}",
            f"{variance.standard_error[-1, i]:.2g}",
        )
    console.print(stats)
