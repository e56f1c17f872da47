"""Figures of periodic orbits and their branches (matplotlib imported on first use).

* :func:`plot_cycle`: the orbit in a plane of two variables (or one variable against time);
* :func:`plot_multipliers`: the Floquet multipliers in the complex plane with the unit circle;
* :func:`plot_cycle_branch`: amplitude (or period, max, min) against the parameter, stable
  solid and unstable dashed, with the LPC, PD and NS points marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.report._style import PALETTE, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.analysis._cycle_branch import CycleBranch
    from stabkit.analysis._cycle_solve import Cycle

__all__ = ["plot_cycle", "plot_cycle_branch", "plot_multipliers"]

_MARKERS = {"LPC": ("s", "#D55E00"), "PD": ("^", "#E69F00"), "NS": ("v", "#56B4E9")}
_MEASURES = ("amplitude", "period", "max", "min")


def _index(variables: Sequence[str], variable: int | str, where: str) -> int:
    if isinstance(variable, str):
        if variable not in variables:
            hint = suggest(variable, variables)
            raise InputError(
                f"{where}(variable={variable!r}): the variables are {', '.join(variables)}"
                + (f"; {hint}" if hint else "")
            )
        return list(variables).index(variable)
    if isinstance(variable, bool) or not isinstance(variable, (int, np.integer)):
        raise InputError(f"{where}(variable={variable!r}): give a variable name or index")
    if not -len(variables) <= variable < len(variables):
        raise InputError(f"{where}(variable={variable}): there are {len(variables)} variables")
    return int(variable) % len(variables)


def plot_cycle(
    cycle: Cycle,
    ax: Axes | None = None,
    *,
    variables: Sequence[str] | str | None = None,
    num: int = 400,
    show_mesh: bool = False,
    color: str | None = None,
    label: str | None = None,
) -> Axes:
    """Draw a periodic orbit from its collocation polynomials.

    Parameters
    ----------
    cycle
        A :class:`~stabkit.analysis.cycles.Cycle`.
    ax
        Axes to draw on (a new figure when ``None``).
    variables
        Two names: the orbit in that plane (default the first two variables); one name:
        that variable against time over one period.
    num
        Points along the orbit.
    show_mesh
        Mark the mesh points (dense where the orbit is fast after mesh adaptation).
    color, label
        Line colour and legend label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if cycle.states.size == 0:
        raise InputError(f"plot_cycle: no cycle to draw (status {cycle.status!r})")
    ax = new_axes(ax)
    color = color or PALETTE[0]
    t, y = cycle.profile(num)
    names = list(cycle.variables)
    if isinstance(variables, str) or (variables is None and len(names) == 1):
        j = _index(names, variables if isinstance(variables, str) else 0, "plot_cycle")
        ax.plot(t, y[:, j], color=color, label=label)
        if show_mesh:
            ax.plot(cycle.times[:: cycle.degree], cycle.states[:: cycle.degree, j], "|", color="k")
        ax.set_xlabel("t")
        ax.set_ylabel(names[j])
    else:
        pair = list(variables) if variables is not None else names[:2]
        if len(pair) != 2:
            raise InputError(f"plot_cycle(variables={variables!r}): give one or two names")
        i, j = (_index(names, v, "plot_cycle") for v in pair)
        ax.plot(y[:, i], y[:, j], color=color, label=label)
        if show_mesh:
            mesh_nodes = cycle.states[:: cycle.degree]
            ax.plot(mesh_nodes[:, i], mesh_nodes[:, j], ".", color="k", ms=3)
        ax.set_xlabel(names[i])
        ax.set_ylabel(names[j])
    ax.set_title(f"period {cycle.period:.6g}, {'stable' if cycle.stable else 'unstable'}")
    return ax


def plot_multipliers(cycle: Cycle, ax: Axes | None = None) -> Axes:
    """The Floquet multipliers in the complex plane, with the unit circle.

    The trivial multiplier (near 1) is drawn hollow.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    theta = np.linspace(0.0, 2 * np.pi, 361)
    ax.plot(np.cos(theta), np.sin(theta), color="#777777", lw=0.8)
    mult = np.asarray(cycle.floquet_multipliers)
    for k, mu in enumerate(mult):
        trivial = k == cycle.trivial_multiplier_index
        ax.plot(
            [mu.real], [mu.imag], "o", color=PALETTE[1], ms=7,
            markerfacecolor="none" if trivial else PALETTE[1],
        )  # fmt: skip
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("Re mu")
    ax.set_ylabel("Im mu")
    return ax


def plot_cycle_branch(
    branch: CycleBranch,
    ax: Axes | None = None,
    *,
    variable: int | str = 0,
    measure: str = "amplitude",
    color: str | None = None,
    label: str | None = None,
    annotate: bool = True,
) -> Axes:
    """A branch of cycles against its parameter: stable solid, unstable dashed.

    Parameters
    ----------
    branch
        A :class:`~stabkit.analysis.cycles.CycleBranch`.
    ax
        Axes to draw on (a new figure when ``None``).
    variable
        Name or index of the variable measured.
    measure
        ``"amplitude"`` (max - min), ``"max"``, ``"min"`` of ``variable``, or ``"period"``.
    color, label
        Line colour and legend label.
    annotate
        Write the kind next to every special point.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if measure not in _MEASURES:
        raise InputError(f"plot_cycle_branch(measure={measure!r}): choose one of {_MEASURES}")
    ax = new_axes(ax)
    j = _index(branch.variables, variable, "plot_cycle_branch")
    color = color or PALETTE[0]

    def value(cycle: Cycle) -> float:
        if measure == "period":
            return float(cycle.period)
        if measure == "amplitude":
            return float(cycle.amplitude[j])
        column = cycle.profile(200)[1][:, j]
        return float(np.max(column) if measure == "max" else np.min(column))

    p = branch.parameter_values
    y = np.array([value(c) for c in branch.cycles])
    stable = branch.stable
    start, first = 0, True
    for k in range(1, len(y) + 1):
        if k == len(y) or stable[k] != stable[start]:
            end = min(k + 1, len(y))
            ax.plot(
                p[start:end], y[start:end], linestyle="-" if stable[start] else "--",
                color=color, label=label if first else None,
            )  # fmt: skip
            first, start = False, k
    for sp in branch.special_points:
        marker, mcolor = _MARKERS.get(sp.kind, ("*", "#000000"))
        yv = value(sp.cycle)
        ax.plot([sp.parameter_value], [yv], marker=marker, color=mcolor, linestyle="")
        if annotate:
            ax.annotate(
                sp.kind, (sp.parameter_value, yv), textcoords="offset points", xytext=(4, 4),
                fontsize="small", color=mcolor,
            )  # fmt: skip
    ax.set_xlabel(branch.parameter)
    ax.set_ylabel("period" if measure == "period" else f"{measure} of {branch.variables[j]}")
    return ax


def _register() -> None:
    """Let :func:`stabkit.report.plot_result` draw cycles and branches of cycles."""
    from stabkit.analysis._cycle_branch import CycleBranch
    from stabkit.analysis._cycle_solve import Cycle
    from stabkit.report.figures import register_plotter

    register_plotter(Cycle, plot_cycle)
    register_plotter(CycleBranch, plot_cycle_branch)


_register()
