"""Bifurcation diagrams of continuation branches (matplotlib imported on first use)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.report._style import PALETTE, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.analysis._branch_result import Branch

__all__ = ["plot_branch", "plot_branches"]

_MARKERS = {
    "LP": ("s", "#D55E00"),
    "H": ("o", "#CC79A7"),
    "BP": ("D", "#009E73"),
    "PD": ("^", "#E69F00"),
    "NS": ("v", "#56B4E9"),
    "NSA": ("x", "#777777"),
}


def _variable_index(branch: Branch, variable: int | str) -> int:
    if isinstance(variable, str):
        if variable not in branch.variables:
            hint = suggest(variable, branch.variables)
            raise InputError(
                f"plot(variable={variable!r}): the branch has variables "
                f"{', '.join(branch.variables)}" + (f"; {hint}" if hint else "")
            )
        return branch.variables.index(variable)
    if isinstance(variable, bool) or not isinstance(variable, (int, np.integer)):
        raise InputError(f"plot(variable={variable!r}): give a variable name or index")
    if not -len(branch.variables) <= variable < len(branch.variables):
        raise InputError(
            f"plot(variable={variable}): the branch has {len(branch.variables)} variables"
        )
    return int(variable) % len(branch.variables)


def plot_branch(
    branch: Branch,
    ax: Axes | None = None,
    *,
    variable: int | str = 0,
    color: str | None = None,
    label: str | None = None,
    annotate: bool = True,
) -> Axes:
    """Draw ``variable`` against the parameter: stable solid, unstable dashed.

    Special points are marked (LP square, H circle, BP diamond, PD and NS triangles,
    neutral saddles a grey cross) and labelled with their kind.

    Parameters
    ----------
    branch
        A :class:`~stabkit.analysis.continuation.Branch`.
    ax
        Axes to draw on (a new figure when ``None``).
    variable
        Name or index of the state variable on the vertical axis.
    color
        Line colour (default the first palette colour).
    label
        Legend label of the branch.
    annotate
        Write the kind next to every special point.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    j = _variable_index(branch, variable)
    color = color or PALETTE[0]
    p = branch.parameter_values
    y = branch.states[:, j] if len(branch) else np.empty(0)
    stable = branch.stable
    first = True
    start = 0
    for k in range(1, len(branch) + 1):
        if k == len(branch) or stable[k] != stable[start]:
            end = min(k + 1, len(branch))  # overlap one point: no gaps between pieces
            ax.plot(
                p[start:end],
                y[start:end],
                linestyle="-" if stable[start] else "--",
                color=color,
                label=label if first else None,
            )
            first = False
            start = k
    for s in branch.special_points:
        marker, mcolor = _MARKERS.get(s.kind, ("*", "#000000"))
        ax.plot([s.parameter_value], [s.state[j]], marker=marker, color=mcolor, linestyle="")
        if annotate:
            ax.annotate(
                s.kind, (s.parameter_value, s.state[j]), textcoords="offset points",
                xytext=(4, 4), fontsize="small", color=mcolor,
            )  # fmt: skip
    ax.set_xlabel(branch.parameter)
    ax.set_ylabel(branch.variables[j] if branch.variables else "")
    return ax


def plot_branches(
    branches: Sequence[Branch], ax: Axes | None = None, *, variable: int | str = 0, **kw: Any
) -> Axes:
    """Several branches on one diagram, one palette colour each."""
    if not branches:
        raise InputError("plot_branches(branches=[]): give at least one Branch")
    ax = new_axes(ax)
    for i, branch in enumerate(branches):
        plot_branch(branch, ax, variable=variable, color=PALETTE[i % len(PALETTE)], **kw)
    return ax
