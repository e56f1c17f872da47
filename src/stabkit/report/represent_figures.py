"""Figures of representation stability and similarity results.

matplotlib is imported on first use (through :mod:`stabkit.report._style`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from stabkit.report._style import PALETTE, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.represent import RepresentationResult

__all__ = ["plot_representation"]


def plot_representation(
    result: RepresentationResult, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Histogram of the split scores or bootstrap replicates, with estimate and interval.

    Parameters
    ----------
    result
        A :class:`~stabkit.represent.RepresentationResult`.
    ax
        Axes to draw on; ``None``: a new figure.
    title
        Axes title (default: the measure's name).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    comps = np.asarray(result.components, dtype=float)
    comps = comps[np.isfinite(comps)]
    if comps.size:
        ax.hist(
            comps,
            bins=min(30, max(5, comps.size // 3)),
            color=PALETTE[5],
            alpha=0.7,
            label="split scores" if "split" in result.measure else "bootstrap",
        )
    ax.axvline(result.estimate, color=PALETTE[0], lw=2, label=f"estimate {result.estimate:.4g}")
    if np.isfinite(result.ci_low):
        ax.axvspan(
            result.ci_low,
            result.ci_high,
            color=PALETTE[1],
            alpha=0.15,
            label=f"{100 * result.ci_level:g}% interval",
        )
    ax.set_xlabel(result.measure.replace("_", " "))
    ax.set_ylabel("count")
    ax.set_title(title or result.measure.replace("_", " "))
    ax.legend(loc="best", fontsize="small")
    return ax
