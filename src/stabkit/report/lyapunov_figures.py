"""Figures of Lyapunov results: convergence curves, divergence curves (matplotlib, lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.report._style import PALETTE, new_axes, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.analysis.lyapunov import LyapunovResult

__all__ = ["plot_lyapunov", "plot_lyapunov_convergence", "plot_lyapunov_divergence"]


def _check(result: Any, where: str) -> LyapunovResult:
    from stabkit.analysis.lyapunov import LyapunovResult

    if not isinstance(result, LyapunovResult):
        raise InputError(f"{where}(result={type(result).__name__}): expected a LyapunovResult")
    return result


def plot_lyapunov_convergence(
    result: LyapunovResult, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Running estimate of each exponent against averaging time (log axis), with the final
    value and its standard error as a band.

    Parameters
    ----------
    result
        From :func:`stabkit.lyapunov_spectrum` or :func:`stabkit.largest_lyapunov_exponent`.
    ax
        Axes to draw on; ``None``: a new figure.
    title
        Axes title; ``None``: the model and the status.
    """
    result = _check(result, "plot_lyapunov_convergence")
    times, est = result.running
    if times.size == 0:
        raise InputError("plot_lyapunov_convergence: the result holds no running estimates")
    with style():
        ax = new_axes(ax)
        for i in range(est.shape[1]):
            colour = PALETTE[i % len(PALETTE)]
            lam, se = result.exponents[i], result.standard_errors[i]
            ax.plot(times, est[:, i], color=colour, label=f"λ{i + 1} = {lam:.4g} ± {se:.1g}")
            if np.isfinite(se):
                ax.axhspan(lam - se, lam + se, color=colour, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.set_xlabel("averaging iterations" if result.kind == "map" else "averaging time")
        ax.set_ylabel("running estimate")
        ax.axhline(0.0, color="0.4", linewidth=0.6)
        if title is None:
            title = f"Lyapunov exponents ({result.status})"
        ax.set_title(title)
        ax.legend(loc="best")
    return ax


def plot_lyapunov_divergence(
    result: LyapunovResult, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Rosenstein's mean log divergence against time, with the fitted line and window."""
    result = _check(result, "plot_lyapunov_divergence")
    diag = result.diagnostics
    if "divergence_curve" not in diag:
        raise InputError(
            "plot_lyapunov_divergence: the result has no divergence curve "
            "(only lyapunov_from_series(..., method=Rosenstein()) makes one)"
        )
    times = np.asarray(diag["divergence_time"])
    curve = np.asarray(diag["divergence_curve"])
    lo, hi = diag["fit_window"]
    sel = (times >= lo) & (times <= hi)
    slope = result.exponents[0]
    intercept = float(np.mean(curve[sel] - slope * times[sel]))
    with style():
        ax = new_axes(ax)
        ax.plot(times, curve, color=PALETTE[0], label="⟨ln distance⟩")
        ax.plot(
            times[sel],
            intercept + slope * times[sel],
            color=PALETTE[1],
            linewidth=2.2,
            label=f"fit: λ1 = {slope:.4g} ± {result.standard_errors[0]:.1g}",
        )
        ax.axvspan(lo, hi, color=PALETTE[1], alpha=0.1, linewidth=0)
        ax.set_xlabel("time")
        ax.set_ylabel("mean log divergence")
        ax.set_title(title or "Rosenstein divergence curve")
        ax.legend(loc="lower right")
    return ax


def plot_lyapunov(result: LyapunovResult, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The figure of a :class:`LyapunovResult`: divergence curve for a Rosenstein series
    result, convergence curves otherwise."""
    result = _check(result, "plot_lyapunov")
    if "divergence_curve" in result.diagnostics:
        return plot_lyapunov_divergence(result, ax, **kwargs)
    return plot_lyapunov_convergence(result, ax, **kwargs)
