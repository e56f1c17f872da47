"""``stabkit basins MODEL --grid x=-2:2:400 y=-2:2:400``: attractors, basins, basin image."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from stabkit.commands._common import load_model_spec, parse_params, parse_state, seconds_text
from stabkit.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.analysis.basins import BasinsResult

__all__ = ["HELP", "NAME", "add_arguments", "parse_grid_item", "run"]

NAME = "basins"
HELP = "attractors and their basins of attraction on a grid (or basin stability by sampling)"


def parse_grid_item(item: str) -> tuple[str, tuple[float, float, int]]:
    """``"x=-2:2:400"`` as ``("x", (-2.0, 2.0, 400))``.

    Examples
    --------
    >>> parse_grid_item("x=-2:2:400")
    ('x', (-2.0, 2.0, 400))
    """
    name, sep, rest = item.partition("=")
    parts = rest.split(":")
    if not sep or not name.strip() or len(parts) != 3:
        raise InputError(
            f"--grid {item!r}: expected NAME=LO:HI:NUM, e.g. --grid x=-2:2:400 y=-2:2:400"
        )
    try:
        lo, hi = float(parts[0]), float(parts[1])
        num = int(parts[2])
    except ValueError:
        raise InputError(
            f"--grid {item!r}: LO and HI must be numbers and NUM an integer, e.g. x=-2:2:400"
        ) from None
    return name.strip(), (lo, hi, num)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit basins``."""
    parser.description = (
        "Find the attractors of a flow or map and the basin of each, on a grid of initial "
        "states (--grid) or on random states in the grid's box (--sample N: basin "
        "stability). Divergent orbits form their own class (-1). Prints the attractors "
        "with their basin fractions and standard errors; --out DIR writes the basin image "
        "(basins.png), the result (basins.json) and the table (basins.csv)."
    )
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    parser.add_argument(
        "--grid", nargs="+", required=True, metavar="NAME=LO:HI:NUM",
        help="grid axes, e.g. --grid x=-2:2:400 y=-2:2:400",
    )  # fmt: skip
    parser.add_argument(
        "--sample", type=int, metavar="N",
        help="N random states in the grid's box instead of the grid (basin stability)",
    )  # fmt: skip
    parser.add_argument(
        "--param", action="extend", nargs="+", default=[], metavar="NAME=VALUE",
        help="override parameter values, e.g. --param delta=0.3",
    )  # fmt: skip
    parser.add_argument(
        "--state", metavar="X=V,...", help="values of the variables the grid does not vary"
    )
    parser.add_argument(
        "--mapper", choices=("recurrence", "features"), default="recurrence",
        help="recurrences on a cell grid (default) or clustering of orbit features",
    )  # fmt: skip
    parser.add_argument(
        "--sample-interval", type=float, default=1.0, metavar="DT",
        help="time between samples of an orbit (recurrences; e.g. the driving period)",
    )  # fmt: skip
    parser.add_argument("--t-transient", type=float, metavar="T", help="time discarded first")
    parser.add_argument("--t-max", type=float, metavar="T", help="longest time per orbit")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    parser.add_argument("--out", metavar="DIR", help="folder for basins.png/.json/.csv")


def _table(console: Console, result: BasinsResult) -> None:
    from rich.table import Table

    table = Table(title="attractors and basin fractions", title_justify="left")
    for col in ("label", "kind", "fraction", "std. error", "period", *result.variables):
        table.add_column(col, justify="left" if col == "kind" else "right")
    frame = result.to_frame()
    for _, row in frame.iterrows():
        centre = ["-" if math.isnan(row[v]) else f"{row[v]:.5g}" for v in result.variables]
        table.add_row(
            str(int(row["label"])),
            str(row["kind"]),
            f"{row['fraction']:.4f}",
            f"{row['standard_error']:.4f}",
            "-" if math.isnan(row["period"]) else f"{row['period']:.5g}",
            *centre,
        )
    console.print(table)


def run(args: argparse.Namespace, console: Console) -> int:
    """Map the basins, print the table; exit 1 when some states stayed unresolved."""
    from stabkit.analysis.basins import (
        FeatureClustering,
        RecurrenceMapper,
        Sampler,
        basins_of_attraction,
    )

    grid = dict(parse_grid_item(item) for item in args.grid)
    if len(grid) != len(args.grid):
        raise InputError("--grid: each variable may appear once")
    model = load_model_spec(args.model)
    params = parse_params(args.param)
    model.param_vector(params)
    state = parse_state(args.state, model.variables, option="--state") if args.state else None
    spec: dict[str, tuple[float, float, int]] | Sampler = grid
    if args.sample is not None:
        if args.sample < 1:
            raise InputError(f"--sample {args.sample}: need at least 1 state")
        spec = Sampler({k: (v[0], v[1]) for k, v in grid.items()}, args.sample, args.seed)
    mapper = (
        RecurrenceMapper(sample_interval=args.sample_interval)
        if args.mapper == "recurrence"
        else FeatureClustering()
    )
    with console.status(f"mapping basins of {model.name} ..."):
        result = basins_of_attraction(
            model, spec, params=params or None, y0=state, mapper=mapper,
            t_transient=args.t_transient, t_max=args.t_max, seed=args.seed,
        )  # fmt: skip
    _table(console, result)
    console.print(
        f"{result.labels.size} states; status {result.status}"
        + (f": {result.message}" if result.message else "")
        + f"; {seconds_text(result.stats.wall_time)} (+ compile "
        f"{seconds_text(result.stats.compile_time)})",
        highlight=False,
        soft_wrap=True,
    )
    if result.is_grid and not math.isnan(result.basin_entropy):
        console.print(
            f"basin entropy S_b = {result.basin_entropy:.4f}, boundary basin entropy "
            f"S_bb = {result.boundary_basin_entropy:.4f} (ln 2 = {math.log(2):.4f})",
            highlight=False,
        )
    if args.out:
        from stabkit.report.figures import save_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        ax = result.plot()
        ax.set_title(f"{model.name}: basins of attraction")
        image = save_figure(ax.figure, folder / "basins.png")
        result.save(folder / "basins.json")
        result.save(folder / "basins.csv")
        console.print(f"wrote [bold]{image}[/bold], basins.json, basins.csv", soft_wrap=True)
    return 0 if result.ok else 1
