"""Figures of :class:`~stabkit.analysis.basins.BasinsResult`: basin images with attractors.

matplotlib is imported lazily (``pip install 'stabkit[report]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.report._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.analysis.basins import BasinsResult

__all__ = ["basin_colours", "plot_basins"]

_DIVERGED = "#4D4D4D"
_UNRESOLVED = "#FFFFFF"
# lighter versions of the palette for basins; the attractors are drawn in the full colour
_LIGHT = ("#9DC3E6", "#F4B183", "#A9D18E", "#E4B8D4", "#FFD966", "#BDD7EE", "#BFBFBF", "#FFF2A8")


def basin_colours(result: BasinsResult) -> dict[int, tuple[str, str]]:
    """``{label: (basin colour, attractor colour)}`` for every label of ``result``."""
    out: dict[int, tuple[str, str]] = {-1: (_DIVERGED, _DIVERGED), 0: (_UNRESOLVED, "#999999")}
    for i, a in enumerate(sorted(result.attractors, key=lambda a: a.id)):
        out[a.id] = (_LIGHT[i % len(_LIGHT)], PALETTE[i % len(PALETTE)])
    return out


def _axes_pair(result: BasinsResult, variables: Sequence[str] | None) -> tuple[int, int]:
    names = list(result.variables)
    if variables is None:
        chosen = list(result.grid_axes)[:2] if result.is_grid else names[:2]
        if len(chosen) < 2:
            chosen = (chosen + [v for v in names if v not in chosen])[:2]
    else:
        chosen = list(variables)
    if len(chosen) == 1 or len(names) == 1:
        j = names.index(chosen[0])
        return j, j
    bad = [v for v in chosen if v not in names]
    if bad or len(chosen) != 2:
        raise InputError(f"plot_basins(variables={variables!r}): give two of {', '.join(names)}")
    return names.index(chosen[0]), names.index(chosen[1])


def plot_basins(
    result: BasinsResult,
    ax: Axes | None = None,
    *,
    variables: Sequence[str] | None = None,
    draw_attractors: bool = True,
    legend: bool = True,
) -> Axes:
    """Draw the basins (image for 2-D grids, strip for 1-D grids, scatter for samples).

    Parameters
    ----------
    result
        A :class:`BasinsResult`.
    ax
        Axes to draw on; a new figure when ``None``.
    variables
        The two variables on the axes (default: the grid's first two).
    draw_attractors
        Draw the attractors' points on top.
    legend
        Label each basin with its fraction.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if ax is None:
        _, (ax,) = new_figure(figsize=(6.4, 5.2))
    colours = basin_colours(result)
    present = sorted(set(np.unique(result.labels).tolist()) | {a.id for a in result.attractors})
    index = {lab: i for i, lab in enumerate(present)}
    cmap = ListedColormap([colours.get(lab, (_UNRESOLVED, "#999999"))[0] for lab in present])
    jx, jy = _axes_pair(result, variables)
    names = list(result.variables)
    with style():
        grid_axes = list(result.grid_axes)
        if result.is_grid and len(grid_axes) == 2 and {names[jx], names[jy]} == set(grid_axes):
            img = np.vectorize(index.get)(result.labels)
            ax_x, ax_y = result.grid_axes[names[jx]], result.grid_axes[names[jy]]
            # img is indexed (first grid axis, second); pcolormesh wants (y, x)
            img = img.T if names[jx] == grid_axes[0] else img
            ax.pcolormesh(ax_x, ax_y, img, cmap=cmap, vmin=-0.5, vmax=len(present) - 0.5,
                          shading="nearest", rasterized=True)  # fmt: skip
        elif result.is_grid and len(grid_axes) == 1:
            x = result.grid_axes[grid_axes[0]]
            img = np.vectorize(index.get)(result.labels)[None, :]
            ax.pcolormesh(x, [0.0, 1.0], np.repeat(img, 2, axis=0), cmap=cmap, vmin=-0.5,
                          vmax=len(present) - 0.5, shading="nearest")  # fmt: skip
            ax.set_yticks([])
            jy = -1
        else:
            pts = result.initial_states
            c = [colours.get(int(v), (_UNRESOLVED, ""))[0] for v in result.labels.ravel()]
            ax.scatter(pts[:, jx], pts[:, jy], c=c, s=4, linewidths=0)
        if draw_attractors:
            for a in result.attractors:
                p = a.points
                if p.size == 0:
                    continue
                yv = p[:, jy] if jy >= 0 else np.full(p.shape[0], 0.5)
                style_kw: dict[str, Any] = (
                    {"marker": "o", "s": 40, "edgecolors": "black", "linewidths": 0.8}
                    if a.kind == "fixed_point" or p.shape[0] < 20
                    else {"marker": ".", "s": 3}
                )
                ax.scatter(p[:, jx], yv, color=colours[a.id][1], zorder=3, **style_kw)
        ax.set_xlabel(names[jx])
        if jy >= 0:
            ax.set_ylabel(names[jy])
        if legend:
            handles = [
                Patch(
                    facecolor=colours.get(lab, (_UNRESOLVED, ""))[0],
                    edgecolor="#666666",
                    label=f"{result.label_name(lab)}: {result.fractions.get(lab, 0.0):.3f}",
                )
                for lab in present
            ]
            ax.legend(handles=handles, loc="upper right", fontsize=8, frameon=True)
        ax.grid(False)
        ax.set_title("Basins of attraction")
    return ax
