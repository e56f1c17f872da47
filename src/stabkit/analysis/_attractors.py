"""Attractors found by the basin mappers: what kind each one is.

:func:`characterize` guesses the kind of an attractor from points on it (states sampled
every ``sample_interval`` after the orbit settled) and from short extra integrations:

``"fixed_point"``
    the samples stay in place and so does the orbit between samples;
``"periodic"``
    the samples repeat after ``L`` steps (a cycle locked to the sampling, e.g. of a driven
    oscillator), or the orbit returns to its start after a time ``T`` and repeats
    (an autonomous limit cycle); ``period`` is ``L * sample_interval`` or ``T``;
``"chaotic"``
    none of the above and two orbits started ``1e-8`` apart separate exponentially
    (finite-time largest Lyapunov exponent, Benettin renormalisation every sample
    interval, up to 1000 intervals: total log growth of the separation > 10);
``"quasiperiodic"``
    none of the above and no exponential separation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from stabkit.integrate.methods import Method
from stabkit.model.model import Model

__all__ = ["Attractor", "characterize"]

_SAME = 0.05  # cell widths: two states closer than this are "the same" for the guess
_CHAOS_GROWTH = 10.0  # total log growth of a separation that counts as exponential


@dataclasses.dataclass(frozen=True)
class Attractor:
    """One attractor found by :func:`~stabkit.analysis.basins.basins_of_attraction`.

    Attributes
    ----------
    id
        Label in ``BasinsResult.labels`` (1, 2, ...).
    kind
        ``"fixed_point"``, ``"periodic"``, ``"quasiperiodic"`` or ``"chaotic"`` (a guess,
        see :mod:`stabkit.analysis._attractors`).
    points
        ``(R, n)`` states on the attractor (sampled every ``sample_interval``).
    num_cells
        Recurrence-grid cells labelled with it (0 for feature clustering).
    period
        Period in time units for ``"periodic"``, else NaN.
    lyapunov_estimate
        Finite-time largest Lyapunov exponent where it was computed, else NaN.
    """

    id: int
    kind: str
    points: np.ndarray = dataclasses.field(repr=False)
    num_cells: int = 0
    period: float = math.nan
    lyapunov_estimate: float = math.nan

    @property
    def centre(self) -> np.ndarray:
        """Mean of :attr:`points`, shape ``(n,)``."""
        return np.asarray(self.points.mean(axis=0))


def _sample_period(points: np.ndarray, width: np.ndarray) -> int:
    """Smallest lag at which the samples repeat (0 if none)."""
    m = points.shape[0]
    for lag in range(1, max(1, m // 3) + 1):
        if m - lag < 3:
            break
        dev = np.max(np.abs(points[lag:] - points[:-lag]) / width)
        if dev < _SAME:
            return lag
    return 0


def _solve(model: Model, y0: np.ndarray, t0: float, t1: float, num: int, ctx: dict[str, Any]):
    from stabkit.integrate.solve import solve_ensemble

    te = np.linspace(t0, t1, num)
    if ctx["is_map"]:
        te = np.unique(np.round(te))
    return solve_ensemble(
        model, y0[None, :], (t0, t1), t_eval=te, params=ctx["params"], method=ctx["method"]
    )


def _flow_period(model: Model, x0: np.ndarray, t0: float, ctx: dict[str, Any]) -> float:
    """Return time of an autonomous limit cycle through ``x0`` (NaN if none is seen)."""
    width = ctx["width"]
    window = ctx["window"]
    ens = _solve(model, x0, t0, t0 + window, 4001, ctx)
    ys = ens.y[0]
    if not np.all(np.isfinite(ys)):
        return math.nan
    d = np.max(np.abs(ys - x0) / width, axis=1)
    left = np.flatnonzero(d > 10 * _SAME)
    if left.size == 0:
        return math.nan
    start = int(left[0])
    for i in range(start + 1, d.size - 1):
        if d[i] < 2 * _SAME and d[i] <= d[i - 1] and d[i] <= d[i + 1]:
            lag = i
            if 2 * lag >= d.size:
                return math.nan
            dev = np.max(np.abs(ys[lag:] - ys[:-lag]) / width)
            return float(ens.t[lag] - ens.t[0]) if dev < 4 * _SAME else math.nan
    return math.nan


def _finite_time_lyapunov(
    model: Model, x0: np.ndarray, t0: float, ctx: dict[str, Any]
) -> tuple[float, float]:
    """(largest finite-time Lyapunov exponent, total log growth) by renormalised pairs."""
    from stabkit.integrate.solve import solve_ensemble

    dt = ctx["dt"]
    steps = ctx["lyapunov_steps"]
    delta = 1e-8 * max(1.0, float(np.max(np.abs(x0))))
    direction = np.ones_like(x0) / math.sqrt(x0.size)
    pair = np.stack([x0, x0 + delta * direction])
    t = t0
    total = 0.0
    done = 0
    for done in range(1, steps + 1):
        ens = solve_ensemble(model, pair, (t, t + dt), params=ctx["params"], method=ctx["method"])
        ends = ens.y[:, -1]
        if not np.all(np.isfinite(ends)):
            return math.nan, math.nan
        sep = ends[1] - ends[0]
        dist = float(np.linalg.norm(sep))
        if dist == 0.0:
            return -math.inf, -math.inf
        total += math.log(dist / delta)
        pair = np.stack([ends[0], ends[0] + sep * (delta / dist)])
        t += dt
        if total > 2 * _CHAOS_GROWTH and done >= 50:
            break  # clearly exponential: no need to go on
    return total / (done * dt), total


def characterize(
    model: Model,
    points: np.ndarray,
    times: np.ndarray,
    *,
    width: np.ndarray,
    sample_interval: float,
    params: Mapping[str, float] | None,
    method: Method | None,
) -> tuple[str, float, float]:
    """Guess the kind of an attractor from points on it.

    Parameters
    ----------
    model
        The model.
    points, times
        ``(R, n)`` states sampled on the attractor and their times ``(R,)``.
    width
        ``(n,)`` the recurrence cell widths (the scale of "the same state").
    sample_interval
        Time between samples.
    params, method
        As for the integration.

    Returns
    -------
    (kind, period, lyapunov_estimate)
    """
    from stabkit.model.model import ModelKind

    is_map = model.kind is ModelKind.MAP
    pts = points[np.all(np.isfinite(points), axis=1)]
    tms = times[: pts.shape[0]]
    if pts.shape[0] == 0:
        return "unknown", math.nan, math.nan
    tail = pts[pts.shape[0] // 2 :]
    ttail = tms[tms.shape[0] // 2 :]
    x0, t0 = tail[-1].copy(), float(ttail[-1])
    ctx: dict[str, Any] = {
        "is_map": is_map,
        "params": params,
        "method": None if is_map else method,
        "width": width,
        "dt": 1.0 if is_map else sample_interval,
        "window": 60.0 * sample_interval,
        "lyapunov_steps": 2000 if is_map else 1000,
    }
    lag = _sample_period(tail, width) if tail.shape[0] >= 4 else 0
    if lag == 1 and is_map:
        return "fixed_point", math.nan, math.nan
    if lag == 1:
        ens = _solve(model, x0, t0, t0 + sample_interval, 51, ctx)
        spread = np.max(np.abs(ens.y[0] - x0) / width) if np.all(np.isfinite(ens.y)) else 1.0
        if spread < _SAME:
            return "fixed_point", math.nan, math.nan
        return "periodic", float(sample_interval), math.nan
    if lag > 1:
        return "periodic", float(lag * ctx["dt"]), math.nan
    if not is_map:
        period = _flow_period(model, x0, t0, ctx)
        if math.isfinite(period):
            return "periodic", period, math.nan
    lam, growth = _finite_time_lyapunov(model, x0, t0, ctx)
    if math.isfinite(growth) and growth > _CHAOS_GROWTH:
        return "chaotic", math.nan, lam
    return "quasiperiodic", math.nan, lam
