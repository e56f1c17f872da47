"""Figures of sweep tables: a stability heat map over two swept names, a line over one.

matplotlib is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BOOKKEEPING", "grid_names", "outcome_columns", "plot_sweep_table"]

BOOKKEEPING = ("point_index", "status", "message", "seconds")


def outcome_columns(frame: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The numeric columns that are neither swept names nor bookkeeping."""
    skip = {*BOOKKEEPING, *names}
    return [c for c in frame.columns if c not in skip and frame[c].dtype.kind in "fiub"]


def grid_names(frame: pd.DataFrame) -> tuple[str, ...]:
    """The swept names of a table whose names are not recorded: the first one or two
    numeric columns (after ``point_index``) that form a complete product grid.

    Examples
    --------
    >>> import pandas as pd
    >>> grid_names(pd.DataFrame({"point_index": range(4), "a": [0, 0, 1, 1],
    ...                          "b": [1, 2, 1, 2], "v": [3, 4, 5, 6]}))
    ('a', 'b')
    """
    cols = [c for c in frame.columns if c not in BOOKKEEPING and frame[c].dtype.kind in "fi"]
    n = len(frame)
    for i, x in enumerate(cols):
        for y in cols[i + 1 :]:
            nx, ny = frame[x].nunique(), frame[y].nunique()
            grid = 1 < nx < n and 1 < ny < n and nx * ny == n
            if grid and not frame.duplicated([x, y]).any():
                return (x, y)
    return (cols[0],) if cols else ()


def plot_sweep_table(
    frame: pd.DataFrame,
    names: Sequence[str],
    outcome: str | None = None,
    ax: Any = None,
) -> Any:
    """Heat map of ``outcome`` over two swept names (a line over one).

    A signed outcome (values on both sides of 0, such as ``max_real_part``) is drawn with
    a diverging colour map centred on 0 and its zero contour: the stability boundary.

    Parameters
    ----------
    frame
        The sweep table.
    names
        The swept names (one or two; more: the first two, others averaged).
    outcome
        The column to draw (default: ``max_real_part`` if present, else the first numeric
        outcome).
    ax
        Axes to draw in (a new figure if ``None``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InputError
        No swept name, or no such numeric outcome.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    if not names:
        raise InputError("plot_sweep_table: no swept names to draw against")
    numeric = outcome_columns(frame, names)
    if outcome is None:
        if not numeric:
            raise InputError("plot_sweep_table: the table has no numeric outcome")
        outcome = "max_real_part" if "max_real_part" in numeric else numeric[0]
    if outcome not in numeric:
        raise InputError(
            f"plot_sweep_table(outcome={outcome!r}): not a numeric outcome"
            f"{suggest(outcome, numeric)}; outcomes: {numeric}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.8))
    values = frame[outcome].astype(float)
    if len(names) == 1:
        order = np.argsort(frame[names[0]].to_numpy())
        ax.plot(frame[names[0]].to_numpy()[order], values.to_numpy()[order], ".-")
        if values.min() < 0 < values.max():
            ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_xlabel(names[0])
        ax.set_ylabel(outcome)
        return ax
    x, y = names[0], names[1]
    pivot = frame.assign(_v=values).pivot_table(index=y, columns=x, values="_v", aggfunc="mean")
    z = pivot.to_numpy()
    xs, ys = pivot.columns.to_numpy(dtype=float), pivot.index.to_numpy(dtype=float)
    lo, hi = np.nanmin(z), np.nanmax(z)
    signed = bool(lo < 0 < hi)
    kw: dict[str, Any] = (
        {"cmap": "RdBu_r", "norm": TwoSlopeNorm(vcenter=0.0, vmin=lo, vmax=hi)}
        if signed
        else {"cmap": "viridis"}
    )
    mesh = ax.pcolormesh(xs, ys, z, shading="auto", **kw)
    ax.figure.colorbar(mesh, ax=ax, label=outcome)
    if signed and len(xs) > 1 and len(ys) > 1:
        ax.contour(xs, ys, z, levels=[0.0], colors="k", linewidths=1.0)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{outcome}" + (" (black: zero level)" if signed else ""))
    return ax
