"""``stabkit sweep MODEL``: an analysis over a grid or sample of parameters, with progress.

Examples::

    stabkit sweep brusselator --analysis equilibria --over b=0:4:200 --over a=0.5:2:100 \\
        --executor local --store runs/brusselator --out diagram.parquet
    stabkit sweep lorenz --analysis lyapunov --sample lhs --num-samples 64 \\
        --over rho=20:40 --over sigma=5:15 --option t_max=100
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.commands._common import load_model_spec, parse_params, seconds_text
from stabkit.errors import InputError, suggest

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "sweep"
HELP = "run an analysis over a parameter grid or sample (pool or Dask), resumable"

_SAMPLES = ("grid", "lhs", "sobol")


def _registry() -> dict[str, Any]:
    """The ready-made analyses the CLI can run (those needing no Python function)."""
    from stabkit.sweep.analyses import ANALYSES
    from stabkit.sweep.fast_analyses import NewtonStability

    return {**ANALYSES, "newton": NewtonStability}


def _analysis_names() -> list[str]:
    return sorted(_registry())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit sweep``."""
    parser.description = (
        "Apply a ready-made analysis at every point of a product grid (or a Latin "
        "hypercube / Sobol sample) over model parameters and initial-state variables, "
        "on a local process pool or a Dask cluster. With --store, every finished chunk "
        "is kept in a Parquet dataset and a killed sweep resumes where it stopped."
    )
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    parser.add_argument(
        "--analysis",
        default="equilibria",
        metavar="NAME",
        help=f"per-point analysis: {', '.join(_analysis_names())} (default: equilibria); "
        "newton: Newton from the model's state, then the eigenvalues (fast)",
    )
    parser.add_argument(
        "--over",
        action="append",
        default=[],
        metavar="NAME=LO:HI:NUM",
        help="a swept parameter or variable (repeat for more); NAME=v1,v2,... for values; "
        "with --sample lhs|sobol write NAME=LO:HI",
    )
    parser.add_argument(
        "--sample",
        choices=_SAMPLES,
        default="grid",
        help="product grid (default), Latin hypercube or scrambled Sobol sample",
    )
    parser.add_argument(
        "--num-samples", type=int, metavar="N", help="points of an lhs/sobol sample"
    )
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="fixed values of other parameters, e.g. --param a=1",
    )
    parser.add_argument(
        "--option",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="settings of the analysis, e.g. --option t_end=50 (simulate), t_max=100 (lyapunov)",
    )
    parser.add_argument(
        "--executor",
        default="local",
        metavar="KIND",
        help="serial, local (process pool, default), dask-local or dask://host:port",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="workers of the pool / cluster")
    parser.add_argument("--store", metavar="DIR", help="resumable Parquet store directory")
    parser.add_argument("--chunk-size", type=int, metavar="N", help="points per task")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="sample seed (default 0)")
    parser.add_argument("--out", metavar="FILE", help="save the table (.parquet, .csv or .json)")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (for logs and scripts)"
    )


def _points(args: argparse.Namespace) -> Any:
    from stabkit.sweep.points import Grid, LatinHypercube, Sobol, parse_range

    if not args.over:
        raise InputError("stabkit sweep: give at least one --over NAME=LO:HI:NUM, e.g. b=0:4:200")
    if args.sample == "grid":
        if args.num_samples is not None:
            raise InputError("--num-samples goes with --sample lhs or sobol, not with a grid")
        axes: dict[str, Any] = {}
        for item in args.over:
            name, spec = parse_range(item)
            if name in axes:
                raise InputError(f"--over {item!r}: {name!r} is swept twice")
            axes[name] = spec
        return Grid(axes)
    if args.num_samples is None or args.num_samples < 1:
        raise InputError(f"--sample {args.sample}: give --num-samples N with N >= 1")
    bounds: dict[str, tuple[float, float]] = {}
    for item in args.over:
        name, sep, rest = item.partition("=")
        parts = rest.split(":")
        try:
            if not sep or not name.strip().isidentifier() or len(parts) != 2:
                raise ValueError
            lo, hi = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(
                f"--over {item!r}: with --sample {args.sample} write NAME=LO:HI (e.g. b=0:4); "
                "the number of points is --num-samples"
            ) from None
        if not lo < hi:
            raise InputError(f"--over {item!r}: empty range (need LO < HI)")
        bounds[name.strip()] = (lo, hi)
    cls = LatinHypercube if args.sample == "lhs" else Sobol
    return cls(bounds, args.num_samples, seed=args.seed)


def _analysis(name: str, options: list[str]) -> Any:
    registry = _registry()
    settings: dict[str, Any] = dict(parse_params(options, option="--option"))
    cls = registry.get(name)
    if cls is None:
        raise InputError(
            f"--analysis {name!r}: known analyses are {sorted(registry)}{suggest(name, registry)}"
        )
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "name"}
    for key, value in settings.items():
        if key not in fields:
            raise InputError(
                f"--option {key}=...: analysis {name!r} has no setting {key!r}"
                f"{suggest(key, list(fields))}; its settings: {', '.join(fields) or 'none'}"
            )
        if isinstance(fields[key].default, int) and float(value).is_integer():
            settings[key] = int(value)
    return cls(**settings)


def _executor(args: argparse.Namespace) -> Any:
    from stabkit.sweep.run import DaskCluster, LocalPool, as_executor

    ex = as_executor(args.executor)
    if args.workers is not None:
        if args.workers < 1:
            raise InputError(f"--workers {args.workers}: need at least 1")
        if isinstance(ex, LocalPool):
            return LocalPool(num_workers=args.workers)
        if isinstance(ex, DaskCluster):
            return DaskCluster(address=ex.address, num_workers=args.workers)
    return ex


def _save(result: Any, path: Path) -> Path:
    """The table as .parquet/.csv; .json holds the table's rows and the provenance too."""
    import json
    import os

    if path.suffix.lower() != ".json":
        return Path(result.save(path))
    from stabkit.results import to_jsonable

    data = {
        f.name: to_jsonable(getattr(result, f.name))
        for f in dataclasses.fields(result)
        if f.name != "table"
    }
    data["type"] = type(result).__name__
    frame = result.table.astype(object).where(result.table.notna(), None)
    data["table"] = frame.to_dict(orient="records")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False, default=str))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the sweep with a progress bar; print a status summary; save the table."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table

    from stabkit.sweep.points import describe
    from stabkit.sweep.run import sweep

    model = load_model_spec(args.model)
    params = parse_params(args.param)
    for name in params:
        if name not in model.parameters:
            raise InputError(
                f"--param {name}=...: model {model.name!r} has no parameter {name!r}"
                f"{suggest(name, list(model.parameters))}"
            )
    if params:
        model = model.with_params(**params)
    points = _points(args)
    analysis = _analysis(args.analysis, args.option)
    executor = _executor(args)
    if args.out is not None and Path(args.out).suffix.lower() not in {".parquet", ".csv", ".json"}:
        raise InputError(f"--out {args.out!r}: use a path ending in .parquet, .csv or .json")
    console.print(
        f"[bold]{model.name}[/bold]: {args.analysis} over {describe(points)} "
        f"({len(points)} points) on {type(executor).__name__}",
        highlight=False,
    )
    t0 = time.perf_counter()
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("points"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=bool(args.no_progress),
    ) as bar:
        task = bar.add_task("sweep", total=len(points))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = sweep(
            analysis,
            model,
            over=points,
            executor=executor,
            store=args.store,
            chunk_size=args.chunk_size,
            seed=args.seed,
            progress=progress,
        )
    wall = time.perf_counter() - t0
    counts: dict[str, int] = dict(result.stats.extra.get("status_counts", {}))
    summary = Table(title="point status", show_edge=False)
    summary.add_column("status")
    summary.add_column("points", justify="right")
    for status, num in sorted(counts.items(), key=lambda kv: (kv[0] != "ok", kv[0])):
        summary.add_row(status, str(num))
    console.print(summary)
    rate = result.num_computed / wall if wall > 0 else float("nan")
    console.print(
        f"{result.num_points} points: {result.num_computed} computed, "
        f"{result.num_reused} from the store; {seconds_text(wall)} "
        f"({rate:.4g} points/s)",
        highlight=False,
        markup=False,
    )
    frame = result.table
    errors = frame[frame["status"] == "error"] if len(frame) else frame
    if len(errors):
        first = errors.iloc[0]
        console.print(
            f"first error (point {int(first['point_index'])}): {first['message']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if result.store:
        console.print(f"store: {result.store}", highlight=False, markup=False)
    if args.out is not None:
        path = _save(result, Path(args.out))
        console.print(f"wrote {path}", highlight=False, markup=False)
    elif not result.store:
        console.print(frame.head(10).to_string(index=False), highlight=False, markup=False)
    return 0 if result.ok else 1
