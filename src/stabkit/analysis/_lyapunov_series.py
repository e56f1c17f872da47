"""Lyapunov exponents from a measured scalar series (Rosenstein, Eckmann).

Both methods work in a delay embedding (:mod:`stabkit.analysis._lyapunov_embedding`)
and exclude temporal neighbours (a Theiler window of one mean period by default).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from stabkit.analysis._lyapunov_embedding import (
    choose_delay,
    choose_embedding_dimension,
    delay_embed,
    mean_period,
    minimum_length,
)
from stabkit.analysis._lyapunov_result import LyapunovResult, kaplan_yorke_dimension
from stabkit.errors import InputError
from stabkit.results import Provenance, Stats

__all__ = ["Eckmann", "Rosenstein", "lyapunov_from_series"]

_MIN_POINTS = 100


def _int_or_none(owner: str, name: str, value: object, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{owner}({name}={value!r}): expected an integer >= {minimum} or None")


@dataclasses.dataclass(frozen=True)
class Rosenstein:
    """Largest exponent from the mean divergence of nearest neighbours.

    Parameters
    ----------
    trajectory_steps
        Samples each neighbour pair is followed; ``None``: a tenth of the embedded
        series, at most 2000.
    theiler_window
        Neighbours closer than this in time (samples) are excluded; ``None``: one mean
        period.
    fit_range
        ``(t_start, t_end)`` (time units) of the linear fit; ``None``: automatic, the
        stretch where the curve has risen from 20% to 70% of its way from its start to its
        saturation level (the mean of its last fifth).
    num_groups
        Reference points are split into this many contiguous groups; the standard error is
        the spread of the slopes fitted to their separate curves over the same window.
        It is statistical only: the method's own bias (where the window sits on a curve
        whose slope is not constant, finite data) is often larger, about 5-10% on the
        Lorenz x(t) with 10,000 samples.

    References
    ----------
    Rosenstein, Collins & De Luca, Physica D 65 (1993) 117-134.
    """

    trajectory_steps: int | None = None
    theiler_window: int | None = None
    fit_range: tuple[float, float] | None = None
    num_groups: int = 10

    def __post_init__(self) -> None:
        _int_or_none("Rosenstein", "trajectory_steps", self.trajectory_steps, 4)
        _int_or_none("Rosenstein", "theiler_window", self.theiler_window, 0)
        _int_or_none("Rosenstein", "num_groups", self.num_groups, 2)
        if self.fit_range is not None:
            lo, hi = (float(v) for v in self.fit_range)
            if not (0 <= lo < hi and math.isfinite(hi)):
                raise InputError(
                    f"Rosenstein(fit_range={self.fit_range!r}): need 0 <= start < end (time units)"
                )


@dataclasses.dataclass(frozen=True)
class Eckmann:
    """Spectrum from local linear maps fitted in the embedding (Eckmann-Ruelle).

    Parameters
    ----------
    num_neighbours
        Neighbours per local least-squares fit; ``None``: ``4 m + 4``.
    evolution_steps
        Samples each local map advances; ``None``: the delay.
    theiler_window
        As for :class:`Rosenstein`.
    num_blocks
        Blocks of the orbit for the batch-means standard errors.

    References
    ----------
    Eckmann, Kamphorst, Ruelle & Ciliberto, Phys. Rev. A 34 (1986) 4971-4979; Sano &
    Sawada, Phys. Rev. Lett. 55 (1985) 1082-1085.
    """

    num_neighbours: int | None = None
    evolution_steps: int | None = None
    theiler_window: int | None = None
    num_blocks: int = 10

    def __post_init__(self) -> None:
        _int_or_none("Eckmann", "num_neighbours", self.num_neighbours, 2)
        _int_or_none("Eckmann", "evolution_steps", self.evolution_steps, 1)
        _int_or_none("Eckmann", "theiler_window", self.theiler_window, 0)
        _int_or_none("Eckmann", "num_blocks", self.num_blocks, 2)


def _neighbours(emb: np.ndarray, usable: int, window: int, count: int) -> np.ndarray:
    """Indices (usable, count) of nearest neighbours among the first ``usable`` points,
    excluding |i - j| <= window."""
    from scipy.spatial import cKDTree

    pts = emb[:usable]
    tree = cKDTree(pts)
    out = np.full((usable, count), -1, dtype=np.int64)
    k = min(usable, count + 2 * window + 2)
    todo = np.arange(usable)
    while todo.size:
        _, idx = tree.query(pts[todo], k=k)
        idx = np.asarray(idx).reshape(todo.size, k)
        ok = np.abs(idx - todo[:, None]) > window
        enough = ok.sum(axis=1) >= count
        for row in np.flatnonzero(enough):
            out[todo[row]] = idx[row][ok[row]][:count]
        todo = todo[~enough]
        if k >= usable:
            break
        k = min(usable, 2 * k)
    return out


def _rosenstein(
    emb: np.ndarray, dt: float, method: Rosenstein, window: int
) -> tuple[float, float, dict[str, Any]]:
    num = emb.shape[0]
    steps = method.trajectory_steps or max(4, min(num // 10, 2000))
    usable = num - steps
    if usable < _MIN_POINTS or usable <= 2 * window + 2:
        raise InputError(
            f"lyapunov_from_series: the embedded series has {num} points, too few to follow "
            f"{steps} steps with a Theiler window of {window}; it needs at least "
            f"{steps + max(_MIN_POINTS, 2 * window + 3)} embedded points"
        )
    nb = _neighbours(emb, usable, window, 1)[:, 0]
    ref = np.flatnonzero(nb >= 0)
    nb = nb[ref]
    logd = np.empty((ref.size, steps + 1))
    for s in range(steps + 1):
        d = np.linalg.norm(emb[ref + s] - emb[nb + s], axis=1)
        with np.errstate(divide="ignore"):
            logd[:, s] = np.log(d)
    logd[~np.isfinite(logd)] = np.nan
    curve = np.nanmean(logd, axis=0)
    times = np.arange(steps + 1) * dt
    if method.fit_range is not None:
        lo_t, hi_t = method.fit_range
        sel = (times >= lo_t) & (times <= hi_t)
        rule = "given"
    else:
        start = curve[0]
        sat = float(np.nanmean(curve[-max(2, (steps + 1) // 5) :]))
        rise = sat - start
        lo_i = int(np.argmax(curve >= start + 0.2 * rise))
        hi_i = int(np.argmax(curve >= start + 0.7 * rise))
        sel = np.zeros(steps + 1, dtype=bool)
        sel[lo_i : hi_i + 1] = True
        rule = "automatic (20% to 70% of the rise to saturation)"
    if sel.sum() < 3:
        raise InputError(
            "lyapunov_from_series: the linear region of the divergence curve holds fewer "
            "than 3 samples; give Rosenstein(fit_range=...) or a finer / longer series"
        )
    slope = float(np.polyfit(times[sel], curve[sel], 1)[0])
    groups = np.array_split(np.arange(ref.size), method.num_groups)
    slopes = []
    for g in groups:
        c = np.nanmean(logd[g][:, sel], axis=0)
        if np.all(np.isfinite(c)):
            slopes.append(float(np.polyfit(times[sel], c, 1)[0]))
    se = float(np.std(slopes, ddof=1) / math.sqrt(len(slopes))) if len(slopes) > 1 else math.inf
    info = {
        "divergence_time": times,
        "divergence_curve": curve,
        "fit_window": (float(times[sel][0]), float(times[sel][-1])),
        "fit_rule": rule,
        "trajectory_steps": steps,
        "num_reference_points": int(ref.size),
    }
    return slope, se, info


def _eckmann(
    emb: np.ndarray, dt: float, method: Eckmann, window: int, delay: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    num, m = emb.shape
    s = method.evolution_steps or delay
    count = method.num_neighbours or 4 * m + 4
    usable = num - s
    if usable < _MIN_POINTS or usable <= count + 2 * window + 2:
        raise InputError(
            f"lyapunov_from_series: the embedded series has {num} points, too few for local "
            f"fits with {count} neighbours, {s} evolution steps and a Theiler window of "
            f"{window}; it needs at least {s + max(_MIN_POINTS, count + 2 * window + 3)}"
        )
    nbrs = _neighbours(emb, usable, window, count)
    orbit = np.arange(0, usable, s)
    Q = np.eye(m)
    logs = np.zeros((orbit.size, m))
    valid = 0
    for i in orbit:
        nb = nbrs[i]
        nb = nb[nb >= 0]
        if nb.size < m + 1:
            continue
        dx = emb[nb] - emb[i]
        dy = emb[nb + s] - emb[i + s]
        sol, *_ = np.linalg.lstsq(dx, dy, rcond=None)
        Q, R = np.linalg.qr(sol.T @ Q)
        diag = np.abs(np.diag(R))
        if np.any(diag == 0) or not np.all(np.isfinite(diag)):
            continue
        Q = Q * np.sign(np.diag(R))
        logs[valid] = np.log(diag)
        valid += 1
    logs = logs[:valid]
    step_time = s * dt
    if valid < 2 * method.num_blocks:
        raise InputError(
            f"lyapunov_from_series: only {valid} usable local maps; give a longer series"
        )
    exps = logs.mean(axis=0) / step_time
    b = valid // method.num_blocks
    blocks = logs[: b * method.num_blocks].reshape(method.num_blocks, b, m).mean(axis=1)
    se = blocks.std(axis=0, ddof=1) / math.sqrt(method.num_blocks) / step_time
    order = np.argsort(-exps)
    info = {"num_neighbours": count, "evolution_steps": s, "num_local_maps": valid}
    return exps[order], se[order], info


def lyapunov_from_series(
    x: np.ndarray,
    *,
    dt: float,
    embedding_dimension: int | None = None,
    delay: int | None = None,
    method: Rosenstein | Eckmann | None = None,
) -> LyapunovResult:
    r"""Lyapunov exponents of a measured scalar series.

    Parameters
    ----------
    x
        Equally spaced samples, shape ``(N,)``.
    dt
        Sampling interval (> 0); exponents are per this time unit.
    embedding_dimension
        Delay-embedding dimension ``m``; ``None``: false nearest neighbours (Kennel et
        al. 1992; fraction below 2%).
    delay
        Delay in samples; ``None``: first minimum of the mutual information, else the
        1/e autocorrelation time.
    method
        :class:`Rosenstein` (largest exponent; the default) or :class:`Eckmann`
        (``m`` exponents from local Jacobians).

    Returns
    -------
    LyapunovResult
        ``kind="series"``; ``diagnostics`` holds the embedding and, for Rosenstein, the
        divergence curve and the fitted window.

    Raises
    ------
    InputError
        A non-finite, constant or too short series (the message states the minimum
        length for the embedding), or bad settings.

    Notes
    -----
    Rosenstein: :math:`y(k) = \langle \ln \| Y_{i+k} - Y_{j(i)+k} \| \rangle_i`, with
    :math:`y(k) \approx y(0) + \lambda_1 k\,\Delta t` on its linear stretch.
    Eckmann: :math:`\lambda_i = \langle \ln |R_{ii}| \rangle / (s\,\Delta t)` from the QR
    factorisation of products of fitted local maps.

    Examples
    --------
    >>> x = np.empty(4000); x[0] = 0.3
    >>> for i in range(3999): x[i + 1] = 4 * x[i] * (1 - x[i])
    >>> r = lyapunov_from_series(x, dt=1.0, embedding_dimension=1, delay=1, method=Eckmann())
    >>> bool(abs(r.exponents[0] - np.log(2)) < 0.05)
    True
    """
    tic = time.perf_counter()
    if method is None:
        method = Rosenstein()
    if not isinstance(method, (Rosenstein, Eckmann)):
        raise InputError(f"lyapunov_from_series(method={method!r}): expected Rosenstein or Eckmann")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("lyapunov_from_series(x=...): expected a sequence of numbers") from None
    if arr.ndim != 1:
        raise InputError(f"lyapunov_from_series(x): expected shape (N,), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"lyapunov_from_series(x): x[{bad}] = {arr[bad]} is not finite")
    if (
        isinstance(dt, bool)
        or not isinstance(dt, (int, float))
        or not (math.isfinite(dt) and dt > 0)
    ):
        raise InputError(f"lyapunov_from_series(dt={dt!r}): expected a positive number")
    _int_or_none("lyapunov_from_series", "embedding_dimension", embedding_dimension, 1)
    _int_or_none("lyapunov_from_series", "delay", delay, 1)
    if arr.size < _MIN_POINTS:
        raise InputError(
            f"lyapunov_from_series(x): {arr.size} samples; at least {_MIN_POINTS} are needed "
            "(and many more for a useful estimate: thousands)"
        )
    if float(np.std(arr)) == 0.0:
        raise InputError("lyapunov_from_series(x): the series is constant")
    delay_rule = "given"
    if delay is None:
        delay, delay_rule = choose_delay(arr)
    fnn: list[float] = []
    if embedding_dimension is None:
        embedding_dimension, fnn = choose_embedding_dimension(arr, delay)
    extra = 2 * _MIN_POINTS
    need = minimum_length(embedding_dimension, delay, extra)
    if arr.size < need:
        raise InputError(
            f"lyapunov_from_series(x): {arr.size} samples are too short for embedding "
            f"dimension {embedding_dimension} with delay {delay}; at least {need} are needed "
            f"(= (m - 1) * delay + {extra})"
        )
    emb = delay_embed(arr, embedding_dimension, delay)
    window = method.theiler_window
    if window is None:
        window = int(min(round(mean_period(arr)), emb.shape[0] // 10))
    diagnostics: dict[str, Any] = {
        "embedding_dimension": embedding_dimension,
        "delay": delay,
        "delay_rule": delay_rule,
        "false_nearest_fractions": fnn,
        "theiler_window": window,
    }
    if isinstance(method, Rosenstein):
        lam, se, info = _rosenstein(emb, float(dt), method, window)
        exps, ses = np.array([lam]), np.array([se])
        source = "divergence of neighbours"
    else:
        exps, ses, info = _eckmann(emb, float(dt), method, window, delay)
        source = "local fits"
    diagnostics.update(info)
    status, message = "ok", f"{type(method).__name__} on a {embedding_dimension}-dim embedding"
    if not np.all(np.isfinite(ses)):
        status, message = "not_converged", message + "; no finite standard error"
    return LyapunovResult(
        status=status,
        message=message,
        stats=Stats(wall_time=time.perf_counter() - tic),
        provenance=Provenance(analysis="lyapunov_from_series", method=repr(method)),
        exponents=exps,
        standard_errors=ses,
        kaplan_yorke_dimension=kaplan_yorke_dimension(exps) if exps.size > 1 else math.nan,
        variables=("x",),
        kind="series",
        averaging_time=float(arr.size * dt),
        jacobian_source=source,
        diagnostics=diagnostics,
    )
