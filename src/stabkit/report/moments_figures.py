"""Figures of moment-closure results: errors against system size, closure vs SSA in time.

matplotlib is imported lazily (through :mod:`stabkit.report._style`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.report._style import PALETTE, new_axes, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.analysis.closure_validity import ClosureValidityResult

__all__ = ["plot_closure_trajectories", "plot_closure_validity"]

#: Marker of each verdict.
_MARKERS = {"valid": "o", "inaccurate": "s", "invalid": "X", "failed": "v"}
#: Letters of the failure modes written beside invalid points.
_LETTERS = {
    "negative_variance": "N",
    "spurious_oscillation": "O",
    "multiple_steady_states": "M",
    "initial_condition_dependence": "I",
}


def _check(result: Any, where: str) -> ClosureValidityResult:
    from stabkit.analysis.closure_validity import ClosureValidityResult

    if not isinstance(result, ClosureValidityResult):
        raise InputError(
            f"{where}(result={type(result).__name__}): expected a ClosureValidityResult"
        )
    return result


def plot_closure_validity(
    result: ClosureValidityResult,
    ax: Axes | None = None,
    *,
    quantity: str = "mean",
    kind: str = "error",
    **kwargs: Any,
) -> Axes:
    """Relative error at the final time against Omega, one line per closure (log-log).

    Markers give the verdict (o valid, s inaccurate, X invalid, v failed); letters beside
    a point name its failure modes: N negative variance, O spurious oscillation, M several
    steady states, I dependence on initial conditions.

    Parameters
    ----------
    result
        From :func:`stabkit.closure_validity`.
    ax
        Axes to draw on; ``None``: a new figure.
    quantity
        ``"mean"`` or ``"variance"``.
    kind
        ``"error"`` (this figure) or ``"trajectories"`` (:func:`plot_closure_trajectories`,
        to which further keywords go).
    """
    result = _check(result, "plot_closure_validity")
    if kind == "trajectories":
        return plot_closure_trajectories(result, ax, **kwargs)
    if kind != "error":
        raise InputError(f"kind={kind!r}: choose 'error' or 'trajectories'")
    if kwargs:
        raise InputError(f"plot_closure_validity: unknown keywords {sorted(kwargs)}")
    if quantity not in ("mean", "variance"):
        raise InputError(f"quantity={quantity!r}: choose 'mean' or 'variance'")
    with style():
        ax = new_axes(ax)
        for c, name in enumerate(result.closures):
            colour = PALETTE[c % len(PALETTE)]
            rows = [v for v in result.verdicts if v.closure == name]
            omega = np.array([v.volume for v in rows])
            error = np.array([getattr(v, f"{quantity}_error") for v in rows], dtype=float)
            shown = np.where(np.isfinite(error) & (error > 0), error, np.nan)
            ax.plot(omega, shown, color=colour, label=name)
            for v, x, y in zip(rows, omega, shown, strict=True):
                y_mark = y if np.isfinite(y) else np.nanmax(np.append(shown, 1.0))
                ax.scatter(
                    [x], [y_mark], marker=_MARKERS.get(v.verdict, "o"), color=colour, zorder=3
                )
                letters = "".join(_LETTERS[m] for m in v.failure_modes)
                if letters:
                    ax.annotate(
                        letters,
                        (x, y_mark),
                        textcoords="offset points",
                        xytext=(4, 4),
                        fontsize=8,
                        color=colour,
                    )
        ax.set_xscale("log")
        if np.nanmax([getattr(v, f"{quantity}_error") for v in result.verdicts] + [0.0]) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("system size $\\Omega$")
        ax.set_ylabel(f"relative error of the {quantity} at $t_1$")
        ax.set_title("closures against SSA (o valid, s inaccurate, X invalid)")
        ax.legend()
    return ax


def plot_closure_trajectories(
    result: ClosureValidityResult,
    ax: Axes | None = None,
    *,
    volume: float | None = None,
    species: str | None = None,
    quantity: str = "mean",
) -> Axes:
    """Closure solutions and the SSA estimate (band: two standard errors) against time.

    Parameters
    ----------
    result
        From :func:`stabkit.closure_validity`.
    ax
        Axes to draw on; ``None``: a new figure.
    volume
        The system size to show; ``None``: the smallest.
    species
        The species; ``None``: the first.
    quantity
        ``"mean"`` or ``"variance"``.
    """
    result = _check(result, "plot_closure_trajectories")
    if quantity not in ("mean", "variance"):
        raise InputError(f"quantity={quantity!r}: choose 'mean' or 'variance'")
    v = 0 if volume is None else int(np.argmin(np.abs(result.volumes - float(volume))))
    if volume is not None and not np.isclose(result.volumes[v], float(volume)):
        raise InputError(f"volume={volume!r}: not compared; the result has {result.volumes}")
    name = species or result.species[0]
    if name not in result.species:
        hint = suggest(name, result.species)
        raise InputError(f"species={name!r}: unknown" + (f"; {hint}" if hint else ""))
    s = result.species.index(name)
    ref = result.ssa_mean if quantity == "mean" else result.ssa_variance
    ref_se = result.ssa_mean_se if quantity == "mean" else result.ssa_variance_se
    own = result.closure_mean if quantity == "mean" else result.closure_variance
    with style():
        ax = new_axes(ax)
        t = result.t
        ax.fill_between(
            t,
            ref[v, :, s] - 2 * ref_se[v, :, s],
            ref[v, :, s] + 2 * ref_se[v, :, s],
            color="0.8",
            label="SSA (2 SE)",
        )
        ax.plot(t, ref[v, :, s], color="0.3", lw=1.0)
        for c, closure in enumerate(result.closures):
            ax.plot(t, own[c, v, :, s], color=PALETTE[c % len(PALETTE)], label=closure)
        ax.set_xlabel("t")
        ax.set_ylabel(f"{quantity} of {name}")
        ax.set_title(f"$\\Omega$ = {result.volumes[v]:g}")
        ax.legend()
    return ax
