"""Figures of two-parameter analyses: bifurcation curves and stability diagrams.

matplotlib is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from stabkit.analysis._codim2_result import BifurcationCurve
    from stabkit.analysis.stability_diagram import StabilityDiagram

__all__ = ["plot_bifurcation_curve", "plot_stability_diagram"]

_CURVE_STYLE = {
    "LP": ("tab:blue", "fold (LP)"),
    "H": ("tab:red", "Hopf (H)"),
    "PD": ("tab:green", "flip (PD)"),
    "NS": ("tab:purple", "Neimark-Sacker (NS)"),
}
_MARKERS = {"CP": "v", "BT": "s", "GH": "D", "ZH": "^", "HH": "P"}


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(5.5, 4.2), layout="constrained")
    return ax


def plot_bifurcation_curve(
    curve: BifurcationCurve, ax: Any = None, *, label: str | None = None, **kwargs: Any
) -> Any:
    """Draw a fold or Hopf curve in its parameter plane with codim-2 points labelled.

    Hopf curves are solid where supercritical (``l1 < 0``), dashed where subcritical and
    dotted where the curve continues as neutral saddles (past a Bogdanov-Takens point).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    p1, p2 = curve.parameters
    default_color, default_name = _CURVE_STYLE.get(curve.kind, ("k", curve.kind))
    color = kwargs.pop("color", default_color)
    name = label or default_name
    if len(curve):
        pts = curve.points
        if curve.kind in ("H", "NS") and len(curve) > 1:
            _styled_segments(ax, curve, color, name, kwargs)
        else:
            ax.plot(pts[:, 0], pts[:, 1], color=color, label=name, **kwargs)
    for s in curve.special_points:
        ax.plot(*s.parameter_values, _MARKERS.get(s.kind, "o"), color="k", ms=6, zorder=5)
        ax.annotate(
            s.kind, s.parameter_values, textcoords="offset points", xytext=(5, 5), fontsize=9
        )
    ax.set_xlabel(p1)
    ax.set_ylabel(p2)
    return ax


def _styled_segments(
    ax: Any, curve: BifurcationCurve, color: str, name: str, kwargs: dict[str, Any]
) -> None:
    """Each segment styled by its ends: neutral saddle (dotted) if either end has a real
    pair, subcritical (dashed) if l1 > 0 at both ends, else solid."""
    from matplotlib.collections import LineCollection

    pts = curve.points
    real = np.isfinite(curve.frequency)
    l1 = np.nan_to_num(curve.first_lyapunov, nan=-1.0)
    groups: dict[str, list[np.ndarray]] = {"solid": [], "dashed": [], "dotted": []}
    for i in range(len(pts) - 1):
        segment = pts[i : i + 2]
        if not (real[i] and real[i + 1]):
            groups["dotted"].append(segment)
        elif l1[i] > 0 and l1[i + 1] > 0:
            groups["dashed"].append(segment)
        else:
            groups["solid"].append(segment)
    labels = {"solid": name, "dashed": f"{name}, subcritical", "dotted": "neutral saddle"}
    for style, segments in groups.items():
        if segments:
            width = kwargs.get("lw", kwargs.get("linewidth", 1.5 if style != "dotted" else 1.0))
            ax.add_collection(
                LineCollection(
                    segments,
                    colors=color,
                    linestyles=style,
                    linewidths=width,
                    label=labels[style],
                )
            )
    ax.autoscale_view()


def plot_stability_diagram(
    diagram: StabilityDiagram, ax: Any = None, *, what: str = "num_stable", **kwargs: Any
) -> Any:
    """Regions of a stability diagram, labelled, with the fold and Hopf curves on top.

    Parameters
    ----------
    diagram
        The diagram.
    ax
        Axes to draw into (default: a new figure).
    what
        ``"num_stable"`` (number of stable equilibria in each cell) or
        ``"num_unstable"`` (unstable eigenvalues of the equilibrium followed by continuation).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ax = _axes(ax)
    grid = np.asarray(getattr(diagram, what), dtype=float).copy()
    grid[np.asarray(diagram.num_equilibria) == 0] = -1  # no equilibrium at all
    x, y = diagram.p1_values, diagram.p2_values
    finite = grid[np.isfinite(grid)]
    top = max(int(finite.max()) if finite.size else 0, 0)
    palette = ["#f2f2f2", "#c6dbef", "#6baed6", "#2171b5", "#08306b", "#041a3b"]
    colors = ["white", *palette[: top + 1]]
    while len(colors) < top + 2:
        colors.append(palette[-1])
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(-1.5, top + 1.5), cmap.N)
    ax.pcolormesh(x, y, grid.T, cmap=cmap, norm=norm, shading="nearest", **kwargs)
    nouns = {
        "num_stable": ("stable equilibrium", "stable equilibria"),
        "min_unstable": ("unstable eigenvalue (fewest)", "unstable eigenvalues (fewest)"),
    }.get(what, (what, what))
    for value in np.unique(finite).astype(int):
        ii, jj = np.nonzero(grid == value)
        ci, cj = ii.mean(), jj.mean()
        k = int(np.argmin((ii - ci) ** 2 + (jj - cj) ** 2))
        text = "no equilibrium" if value < 0 else f"{value} {nouns[0] if value == 1 else nouns[1]}"
        ax.annotate(
            text,
            (x[ii[k]], y[jj[k]]),
            ha="center",
            fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.7, "lw": 0},
        )
    for curve in diagram.curves:
        plot_bifurcation_curve(curve, ax=ax)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel(diagram.parameters[0])
    ax.set_ylabel(diagram.parameters[1])
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    return ax
