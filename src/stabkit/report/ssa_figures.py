"""Figures of stochastic simulation: sample paths with the ensemble band, stationary laws.

matplotlib is imported on first use (through :mod:`stabkit.report._style`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.report._style import PALETTE, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.integrate._ssa_result import SSAResult, StationaryDistribution

__all__ = ["plot_ssa", "plot_stationary_distribution"]


def plot_ssa(
    result: SSAResult,
    ax: Axes | None = None,
    *,
    species: str | Sequence[str] | None = None,
    max_runs: int = 5,
    band: bool = True,
    title: str | None = None,
) -> Axes:
    """Sample paths (steps) of a few runs, the ensemble mean and a band of one std. dev.

    Parameters
    ----------
    result
        An :class:`~stabkit.integrate.ssa.SSAResult`.
    ax
        Axes to draw on; ``None``: a new figure.
    species
        One name, several, or ``None`` (all).
    max_runs
        Sample paths drawn per species (thin steps).
    band
        Draw the mean and mean ± one standard deviation when there are two runs or more.
    title
        Axes title; ``None``: the network's runs and method.

    Returns
    -------
    matplotlib.axes.Axes
    """
    names = (
        list(result.species)
        if species is None
        else [species]
        if isinstance(species, str)
        else list(species)
    )
    for name in names:
        if name not in result.species:
            raise InputError(f"species={name!r}: the result has {', '.join(result.species)}")
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 0:
        raise InputError(f"max_runs={max_runs!r}: must be a whole number >= 0")
    axes = new_axes(ax)
    t = result.t
    for k, name in enumerate(names):
        colour = PALETTE[k % len(PALETTE)]
        data = result[name]
        for r in range(min(max_runs, result.num_runs)):
            axes.step(t, data[r], where="post", color=colour, alpha=0.35, linewidth=0.8)
        if band and result.num_runs >= 2:
            mean = result.mean(name).value
            std = np.sqrt(result.variance(name).value)
            axes.plot(t, mean, color=colour, linewidth=2.0, label=f"{name}: mean")
            axes.fill_between(t, mean - std, mean + std, color=colour, alpha=0.15, linewidth=0)
        else:
            axes.plot([], [], color=colour, label=name)
    axes.set_xlabel("t")
    axes.set_ylabel("molecules")
    method = result.provenance.method.split("(")[0] or "ssa"
    axes.set_title(title if title is not None else f"{result.num_runs} runs ({method})")
    axes.legend(loc="best")
    return axes


def plot_stationary_distribution(
    distribution: StationaryDistribution,
    ax: Axes | None = None,
    *,
    reference: np.ndarray | None = None,
    reference_label: str = "reference",
    title: str | None = None,
) -> Axes:
    """A stationary law as bars with error bars, optionally beside a reference law.

    ``reference``: probabilities at the counts ``distribution.values`` (e.g. a Poisson
    pmf), drawn as dots.
    """
    axes = new_axes(ax)
    values = distribution.values
    error = np.nan_to_num(distribution.standard_error, nan=0.0)
    axes.bar(values, distribution.probability, width=0.85, color=PALETTE[0], alpha=0.6,
             yerr=error, ecolor="#444444", error_kw={"linewidth": 0.8}, label="SSA")  # fmt: skip
    if reference is not None:
        ref = np.asarray(reference, dtype=float)
        if ref.shape != values.shape:
            raise InputError(
                f"reference has shape {ref.shape}; need one probability per count {values.shape}"
            )
        axes.plot(values, ref, "o", color=PALETTE[1], markersize=4, label=reference_label)
    axes.set_xlabel(f"{distribution.species} (molecules)")
    axes.set_ylabel("probability")
    axes.set_title(
        title
        if title is not None
        else f"stationary law of {distribution.species}: mean {distribution.mean:.4g}, "
        f"variance {distribution.variance:.4g}"
    )
    axes.legend(loc="best")
    return axes


def _register() -> None:
    from stabkit.integrate._ssa_result import SSAResult
    from stabkit.report.figures import register_plotter

    def plotter(result: Any, ax: Axes | None = None, **kw: Any) -> Axes:
        return plot_ssa(result, ax=ax, **kw)

    register_plotter(SSAResult, plotter)


_register()
