"""The Benettin driver: transient, chunked integration, batch-means convergence checks.

The compiled kernels (:mod:`stabkit.analysis._lyapunov_template`) advance the state and
the tangent vectors through a given number of renormalisation intervals and record
``log R_ii`` per interval; this module calls them in chunks sized to a fraction of a
second, checks the standard errors between chunks, and stops at the tolerance, at
``t_max``, at the wall-time limit, or when the orbit diverges.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from stabkit.analysis._lyapunov_kernels import LyapunovKernels

if TYPE_CHECKING:
    from stabkit.analysis.lyapunov import QR

__all__ = ["RawRun", "batch_means", "run_benettin"]

_STATUS = {
    0: "ok",
    2: "diverged",
    3: "non_finite",
    4: "max_steps",
    5: "step_too_small",
}
_MIN_RECORDS_PER_BLOCK = 20


@dataclasses.dataclass
class RawRun:
    """What the driver measured (the public result is built from it)."""

    logs: np.ndarray  # (R, k) log R_ii per interval, after the transient
    trace: np.ndarray  # (R,) integral of tr J (flows) or sum of log|det J| (maps) per interval
    interval: float  # length of one interval (time, or iterations for maps)
    transient: float
    status: str  # ok | not_converged | diverged | non_finite | max_steps | ...
    message: str
    t_final: float
    y_final: np.ndarray
    counters: np.ndarray
    converged: bool
    check_times: list[float]


def batch_means(logs: np.ndarray, interval: float, num_blocks: int) -> np.ndarray:
    """Standard errors of the mean exponents from ``num_blocks`` contiguous blocks.

    Parameters
    ----------
    logs
        ``(R, k)`` log growth per interval.
    interval
        Length of one interval.
    num_blocks
        Number of blocks ``B``; each holds ``R // B`` intervals (the remainder is left
        out of the error estimate, not of the mean).

    Returns
    -------
    numpy.ndarray
        ``(k,)`` standard errors ``std(block means) / sqrt(B)``; ``inf`` when there are
        fewer than two intervals per block.
    """
    num_records, k = logs.shape
    b = num_records // num_blocks
    if b < 1 or num_blocks < 2:
        return np.full(k, np.inf)
    blocks = logs[: num_blocks * b].reshape(num_blocks, b, k).sum(axis=1) / (b * interval)
    return np.asarray(blocks.std(axis=0, ddof=1) / math.sqrt(num_blocks))


def _cfg(method: QR, max_steps: int) -> np.ndarray:
    integ = method.integrator
    cfg = np.zeros(16)
    cfg[0] = integ.first_step or 0.0
    cfg[1] = integ.max_step
    cfg[2] = integ.safety
    cfg[3] = integ.min_factor
    cfg[4] = integ.max_factor
    cfg[5] = getattr(integ, "beta", 0.04)
    cfg[6] = integ.divergence_threshold
    cfg[7] = float(max_steps)
    return cfg


def _scalar_tolerances(method: QR) -> tuple[float, float]:
    integ = method.integrator
    rtol = integ.rtol if isinstance(integ.rtol, float) else float(min(integ.rtol))
    atol = integ.atol if isinstance(integ.atol, float) else float(min(integ.atol))
    return rtol, atol


def auto_interval(kernels: LyapunovKernels, states: list[np.ndarray], p: np.ndarray) -> float:
    """Renormalisation interval ``min(1, 4 / mean ||J||_inf)`` over sample states."""
    n = states[0].shape[0]
    J = np.empty((n, n))
    norms = []
    for y in states:
        with np.errstate(all="ignore"):
            kernels.module.jac(0.0, np.ascontiguousarray(y, dtype=np.float64), p, J)
        val = float(np.max(np.sum(np.abs(J), axis=1)))
        if math.isfinite(val):
            norms.append(val)
    scale = float(np.mean(norms)) if norms else 1.0
    return float(min(1.0, 4.0 / max(scale, 1e-12)))


class _Runner:
    """Calls the flow or map kernel in chunks, keeping the state between calls."""

    def __init__(
        self,
        kernels: LyapunovKernels,
        is_map: bool,
        y0: np.ndarray,
        Q0: np.ndarray,
        p: np.ndarray,
        method: QR,
        deadline: float,
    ) -> None:
        self.kernels = kernels
        self.is_map = is_map
        self.y = y0.copy()
        self.Q = np.asfortranarray(Q0).copy(order="C")
        self.p = p
        self.method = method
        self.t = 0.0
        self.h = method.integrator.first_step or 0.0
        self.rtol, self.atol = _scalar_tolerances(method)
        self.steps_left = int(method.integrator.max_steps)
        self.counters = np.zeros(16, dtype=np.int64)
        self.deadline = deadline
        self.want_det = self.Q.shape[1] == self.y.shape[0]

    def advance(self, interval: float, num_records: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Run ``num_records`` intervals; returns (logs, trace, kernel status)."""
        k = self.Q.shape[1]
        logs = np.zeros((num_records, k))
        trace = np.zeros(num_records)
        counters = np.zeros(16, dtype=np.int64)
        cfg = _cfg(self.method, self.steps_left)
        cfg[8] = 1.0 if self.want_det else 0.0
        if self.is_map:
            self.t = float(
                self.kernels.call(
                    "ly_map",
                    self.y,
                    self.Q,
                    self.p,
                    self.t,
                    round(interval),
                    num_records,
                    cfg,
                    logs,
                    trace,
                    counters,
                )
            )
        else:
            t, h = self.kernels.call(
                "ly_flow",
                self.y,
                self.Q,
                self.p,
                self.t,
                self.h,
                interval,
                num_records,
                self.rtol,
                self.atol,
                cfg,
                logs,
                trace,
                counters,
            )
            self.t, self.h = float(t), float(h)
        self.counters[:4] += counters[:4]
        self.counters[6] += counters[6]
        self.steps_left -= int(counters[0] + counters[1])
        done = int(counters[4])
        return logs[:done], trace[:done], int(counters[5])


def _next_chunk(done: int) -> int:
    """Intervals for the next kernel call: 1, 1, 2, 3, 4, 5, 7, ... (a quarter of those done).

    The sizes depend only on the count, never on timings, so a seeded run is reproducible;
    each call costs at most a quarter of the work so far, so a wall-time limit is overshot
    by at most that much.
    """
    return max(1, done // 4)


def _failure(code: int, t: float, phase: str, is_map: bool) -> tuple[str, str]:
    status = _STATUS.get(code, "solver_failure")
    where = f"iteration {int(t)}" if is_map else f"t = {t:.6g}"
    text = {
        "diverged": "the orbit diverged (|y| above the divergence threshold)",
        "non_finite": "non-finite values appeared (state or tangent vectors)",
        "max_steps": "the step budget (integrator max_steps) ran out",
        "step_too_small": "the step size fell below the resolution of t",
    }.get(status, "the integrator failed")
    return status, f"{text} at {where} during the {phase}"


def run_benettin(
    kernels: LyapunovKernels,
    *,
    is_map: bool,
    y0: np.ndarray,
    Q0: np.ndarray,
    p: np.ndarray,
    method: QR,
    transient: float,
    interval: float | None,
    t_max: float,
) -> RawRun:
    """Transient, then chunks until the standard errors meet ``method.tol`` or ``t_max``."""
    start = time.perf_counter()
    deadline = start + method.max_wall_time
    run = _Runner(kernels, is_map, y0, Q0, p, method, deadline)
    k = Q0.shape[1]
    empty = (np.zeros((0, k)), np.zeros(0))

    def finish(
        logs: np.ndarray, trace: np.ndarray, iv: float, status: str, message: str, conv: bool
    ) -> RawRun:
        return RawRun(
            logs, trace, iv, transient, status, message, run.t, run.y.copy(),
            run.counters.copy(), conv, checks,
        )  # fmt: skip

    checks: list[float] = []
    # ---- transient: in ten pieces, sampling states for the automatic interval
    if interval is None:
        iv0 = auto_interval(kernels, [y0], p)
        iv0 = min(iv0, transient / 10.0) if transient > 0 else iv0
    else:
        iv0 = interval
    samples = [y0.copy()]
    if transient > 0:
        per_piece = max(1, math.ceil(transient / iv0 / 10.0))
        total = math.ceil(transient / iv0)
        done = 0
        while done < total:
            num = min(per_piece, total - done, _next_chunk(done))
            _, _, code = run.advance(iv0, num)
            if code != 0:
                status, msg = _failure(code, run.t, "transient", is_map)
                return finish(*empty, iv0, status, msg, False)
            done += num
            samples.append(run.y.copy())
            if time.perf_counter() > deadline:
                msg = f"the wall-time limit ({method.max_wall_time:g} s) ran out in the transient"
                return finish(*empty, iv0, "time_limit", msg, False)
    iv = auto_interval(kernels, samples[-10:], p) if interval is None else interval
    if is_map:
        iv = float(max(1, round(iv)))
    # ---- averaging
    max_records = max(1, math.floor(t_max / iv + 1e-9))
    min_records = method.num_blocks * _MIN_RECORDS_PER_BLOCK
    chunk = 1
    all_logs: list[np.ndarray] = []
    all_trace: list[np.ndarray] = []
    total = 0
    t_avg_start = run.t
    while True:
        n_now = min(chunk, max_records - total)
        logs, trace, code = run.advance(iv, n_now)
        all_logs.append(logs)
        all_trace.append(trace)
        total += logs.shape[0]
        stacked = np.concatenate(all_logs) if len(all_logs) > 1 else all_logs[0]
        all_logs = [stacked]
        traces = np.concatenate(all_trace) if len(all_trace) > 1 else all_trace[0]
        all_trace = [traces]
        if code != 0:
            status, msg = _failure(code, run.t, "averaging", is_map)
            msg += f"; estimates use the {total} intervals finished before it"
            return finish(stacked, traces, iv, status, msg, False)
        checks.append(run.t - t_avg_start)
        if total >= min_records and method.tol is not None:
            se = batch_means(stacked, iv, method.num_blocks)
            if np.all(se <= method.tol):
                msg = (
                    f"converged: every standard error <= tol = {method.tol:g} after "
                    f"{total * iv:.6g} {'iterations' if is_map else 'time units'}"
                )
                return finish(stacked, traces, iv, "ok", msg, True)
        if total >= max_records:
            if method.tol is None:
                return finish(stacked, traces, iv, "ok", f"reached t_max = {t_max:g}", True)
            se = batch_means(stacked, iv, method.num_blocks)
            if np.all(se <= method.tol):
                msg = f"converged at t_max = {t_max:g}: every standard error <= tol"
                return finish(stacked, traces, iv, "ok", msg, True)
            msg = (
                f"reached t_max = {t_max:g} with the largest standard error "
                f"{float(np.max(se)):.3g} above tol = {method.tol:g}; raise t_max or tol"
            )
            return finish(stacked, traces, iv, "not_converged", msg, False)
        if time.perf_counter() > deadline:
            msg = (
                f"the wall-time limit ({method.max_wall_time:g} s) ran out after "
                f"{total * iv:.6g} {'iterations' if is_map else 'time units'} of averaging"
            )
            return finish(stacked, traces, iv, "time_limit", msg, False)
        chunk = _next_chunk(total)
