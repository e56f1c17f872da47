"""Ensemble and stiff benchmarks: stabkit against scipy, torchdiffeq, diffrax and a numba anchor.

Run ``python bench/ensemble.py`` (full: 10,000 Lorenz members) or ``--quick`` (smoke run).
Writes ``bench/results/ensemble.md`` and ``bench/results/ensemble.json``; ``bench/assemble.py``
puts the tables of all benchmarks into ``docs/BENCHMARKS.md``.

The machine this runs on is shared and noisy, so the headline numbers are *ratios* against
anchors measured in the same run (the hand-written numba Dormand-Prince kernel below for
the Lorenz ensemble, scipy Radau for Robertson); seconds appear only in the detail tables.

This file also holds the anchor itself: :func:`dopri5_lorenz_ensemble`, a plain
hand-written Dormand-Prince 5(4) integrator for the Lorenz system, one adaptive step size
per member, compiled with numba (``parallel=True``, ``fastmath=False``). stabkit's generated
code is expected to be within 20% of it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit, prange

ROOT = Path(__file__).resolve().parents[1]
_BENCH = str(Path(__file__).resolve().parent)
if _BENCH not in sys.path:
    sys.path.insert(0, _BENCH)

from _problems import (  # noqa: E402
    LORENZ_ATOL,
    LORENZ_PARAMS,
    LORENZ_RTOL,
    LORENZ_SEED,
    LORENZ_TSPAN,
    Timer,
    lorenz_initial_states,
    lorenz_reference,
)

__all__ = [
    "LORENZ_ATOL",
    "LORENZ_PARAMS",
    "LORENZ_RTOL",
    "LORENZ_TSPAN",
    "dopri5_lorenz_ensemble",
    "dopri5_lorenz_member",
    "lorenz_initial_states",
    "lorenz_reference",
    "lorenz_rhs",
    "main",
    "solve_lorenz_numba",
]

# Status codes, same values as stabkit.integrate.trajectory.MemberStatus.
STATUS_OK = 0
STATUS_NON_FINITE = 3
STATUS_MAX_STEPS = 4
STATUS_STEP_TOO_SMALL = 5


# The anchor: hand-written numba Dormand-Prince 5(4) for Lorenz ---------------------------
#
# Dormand & Prince, J. Comput. Appl. Math. 6 (1980); the step-size control follows Hairer's
# DOPRI5 code (Hairer, Norsett & Wanner, Solving ODEs I, II.4 and II.5):
#   err   = sqrt(mean((e_i / (atol + rtol * max(|y_i|, |ynew_i|)))^2))     (RMS norm)
#   fac   = clip(safety * err^-(1/5 - 0.75 beta) * errold^beta, 0.2, 10)   (beta = 0: the
#           classical 0.9 * err^(-1/5) controller; beta = 0.04: Hairer's PI default,
#           which is also stabkit's Dopri5 default)
#   after a rejection: h *= max(0.2, safety * err^-(1/5 - 0.75 beta)), and the step
#   following a rejection may not grow.
# The last stage is the first stage of the next step (FSAL); the first step comes from the
# heuristic of Hairer et al. II.4 (RMS norms, as scipy's select_initial_step).

_C2, _C3, _C4, _C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0
_A64, _A65 = 49.0 / 176.0, -5103.0 / 18656.0
_A71, _A73, _A74 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0
_A75, _A76 = -2187.0 / 6784.0, 11.0 / 84.0
_E1, _E3, _E4 = 71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0
_E5, _E6, _E7 = -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0

_UROUND = 2.220446049250313e-16


@njit(cache=False, fastmath=False)
def lorenz_rhs(y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Lorenz right-hand side into ``out``; ``p = (sigma, rho, beta)``."""
    out[0] = p[0] * (y[1] - y[0])
    out[1] = y[0] * (p[1] - y[2]) - y[1]
    out[2] = y[0] * y[1] - p[2] * y[2]


@njit(cache=False, fastmath=False)
def dopri5_lorenz_member(
    y0: np.ndarray,
    p: np.ndarray,
    t0: float,
    t1: float,
    rtol: float,
    atol: float,
    beta: float,
    max_steps: int,
    y_out: np.ndarray,
    counters: np.ndarray,
) -> int:
    """Integrate one member from ``t0`` to ``t1``; final state into ``y_out``.

    ``counters`` receives (accepted steps, rejected steps, rhs evaluations). Returns a
    status code (0 OK, 3 non-finite, 4 max steps, 5 step too small).
    """
    n = y0.shape[0]
    y = y0.copy()
    ynew = np.empty(n)
    ytmp = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    k5 = np.empty(n)
    k6 = np.empty(n)
    k7 = np.empty(n)
    hmax = abs(t1 - t0)
    nfev = 0

    # Initial step (Hairer, Norsett & Wanner II.4, RMS norms).
    lorenz_rhs(y, p, k1)
    nfev += 1
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        d0 += (y[i] / sk) ** 2
        d1 += (k1[i] / sk) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 1e-06 if d0 < 1e-05 or d1 < 1e-05 else 0.01 * d0 / d1
    h0 = min(h0, hmax)
    for i in range(n):
        ytmp[i] = y[i] + h0 * k1[i]
    lorenz_rhs(ytmp, p, k2)
    nfev += 1
    d2 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        d2 += ((k2[i] - k1[i]) / sk) ** 2
    d2 = math.sqrt(d2 / n) / h0
    dmax = max(d1, d2)
    h1 = max(1e-06, h0 * 0.001) if dmax <= 1e-15 else (0.01 / dmax) ** 0.2
    h = min(100.0 * h0, h1, hmax)

    expo1 = 0.2 - 0.75 * beta
    safety = 0.9
    facc1 = 1.0 / 0.2  # min factor 0.2
    facc2 = 1.0 / 10.0  # max factor 10
    facold = 1e-4
    t = t0
    naccept = 0
    nreject = 0
    reject = False
    status = STATUS_OK
    while True:
        if naccept + nreject >= max_steps:
            status = STATUS_MAX_STEPS
            break
        if 0.1 * h <= abs(t) * _UROUND:
            status = STATUS_STEP_TOO_SMALL
            break
        last = False
        if t + 1.01 * h - t1 >= 0.0:
            h = t1 - t
            last = True
        # Stages 2..7 (k1 holds f(t, y)).
        for i in range(n):
            ytmp[i] = y[i] + h * _A21 * k1[i]
        lorenz_rhs(ytmp, p, k2)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A31 * k1[i] + _A32 * k2[i])
        lorenz_rhs(ytmp, p, k3)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A41 * k1[i] + _A42 * k2[i] + _A43 * k3[i])
        lorenz_rhs(ytmp, p, k4)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A51 * k1[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i])
        lorenz_rhs(ytmp, p, k5)
        for i in range(n):
            ytmp[i] = y[i] + h * (
                _A61 * k1[i] + _A62 * k2[i] + _A63 * k3[i] + _A64 * k4[i] + _A65 * k5[i]
            )
        lorenz_rhs(ytmp, p, k6)
        for i in range(n):
            ynew[i] = y[i] + h * (
                _A71 * k1[i] + _A73 * k3[i] + _A74 * k4[i] + _A75 * k5[i] + _A76 * k6[i]
            )
        lorenz_rhs(ynew, p, k7)
        nfev += 6
        # Embedded error estimate, RMS norm.
        err = 0.0
        for i in range(n):
            e = h * (
                _E1 * k1[i] + _E3 * k3[i] + _E4 * k4[i] + _E5 * k5[i] + _E6 * k6[i] + _E7 * k7[i]
            )
            sk = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            err += (e / sk) ** 2
        err = math.sqrt(err / n)
        if not math.isfinite(err):
            # Overflow in a stage: shrink hard and retry; give up if h collapses.
            nreject += 1
            h *= 0.2
            reject = True
            if not math.isfinite(h) or h <= 0.0:
                status = STATUS_NON_FINITE
                break
            continue
        fac11 = err**expo1
        fac = fac11 / facold**beta
        fac = max(facc2, min(facc1, fac / safety))
        hnew = h / fac
        if err <= 1.0:
            facold = max(err, 1e-4)
            naccept += 1
            t += h
            for i in range(n):
                y[i] = ynew[i]
                k1[i] = k7[i]  # FSAL
            if last:
                break
            hnew = min(hnew, hmax)
            if reject:
                hnew = min(hnew, h)
            reject = False
            h = hnew
        else:
            h = h / min(facc1, fac11 / safety)
            reject = True
            nreject += 1
    for i in range(n):
        y_out[i] = y[i]
    counters[0] += naccept
    counters[1] += nreject
    counters[2] += nfev
    return status


@njit(parallel=True, cache=False, fastmath=False)
def dopri5_lorenz_ensemble(
    y0s: np.ndarray,
    p: np.ndarray,
    t0: float,
    t1: float,
    rtol: float,
    atol: float,
    beta: float,
    max_steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All members in parallel (``prange``), each with its own adaptive step size.

    Returns (final states (m, 3), counters (m, 3) = accepted/rejected/rhs evaluations,
    status (m,)).
    """
    m = y0s.shape[0]
    out = np.full(y0s.shape, np.nan)
    counters = np.zeros((m, 3), dtype=np.int64)
    status = np.zeros(m, dtype=np.int64)
    for j in prange(m):
        status[j] = dopri5_lorenz_member(
            y0s[j], p, t0, t1, rtol, atol, beta, max_steps, out[j], counters[j]
        )
    return out, counters, status


def solve_lorenz_numba(
    y0s: np.ndarray,
    t_span: tuple[float, float] = LORENZ_TSPAN,
    rtol: float = LORENZ_RTOL,
    atol: float = LORENZ_ATOL,
    beta: float = 0.04,
    max_steps: int = 1_000_000,
    params: np.ndarray = LORENZ_PARAMS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convenience wrapper of :func:`dopri5_lorenz_ensemble` (final states, counters, status)."""
    y0s = np.ascontiguousarray(y0s, dtype=np.float64)
    if y0s.ndim == 1:
        y0s = y0s[None, :]
    return dopri5_lorenz_ensemble(
        y0s,
        np.ascontiguousarray(params, dtype=np.float64),
        float(t_span[0]),
        float(t_span[1]),
        float(rtol),
        float(atol),
        float(beta),
        int(max_steps),
    )


# Benchmark driver -----------------------------------------------------------------------


def _timed(fn: Any, repeats: int) -> tuple[list[float], list[float], Any]:
    """(wall seconds, process CPU seconds, last result) of ``repeats`` calls."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        with Timer() as tm:
            result = fn()
        walls.append(tm.wall)
        cpus.append(tm.cpu)
    return walls, cpus, result


def run_numba_anchor(y0s: np.ndarray, repeats: int, beta: float) -> dict[str, Any]:
    """Time the hand-written kernel; compile time from a first call on two members."""
    start = time.perf_counter()
    solve_lorenz_numba(y0s[:2], beta=beta)
    compile_time = time.perf_counter() - start
    times, cpus, (yf, counters, status) = _timed(
        lambda: solve_lorenz_numba(y0s, beta=beta), repeats
    )
    return {
        "members": len(y0s),
        "times": times,
        "cpu": cpus,
        "compile_time": compile_time,
        "y_final": yf,
        "accepted_mean": float(counters[:, 0].mean()),
        "rejected_mean": float(counters[:, 1].mean()),
        "nfev_mean": float(counters[:, 2].mean()),
        "accepted_max": int(counters[:, 0].max()),
        "ok": int((status == STATUS_OK).sum()),
    }


def _rel_err(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per-member max relative error (componentwise, scale max(|ref|, 1))."""
    return np.max(np.abs(a - ref) / np.maximum(np.abs(ref), 1.0), axis=-1)


def _single_thread_anchor(row: dict[str, Any], y0s: np.ndarray, beta: float, threads: int) -> None:
    numba.set_num_threads(1)
    try:
        with Timer() as tm:
            solve_lorenz_numba(y0s, beta=beta)
    finally:
        numba.set_num_threads(threads)
    row.setdefault("wall1", []).append(tm.wall)
    row.setdefault("cpu1", []).append(tm.cpu)
    row.setdefault("thread1", []).append(tm.thread)


def lorenz_benchmark(args: argparse.Namespace, log: Any) -> dict[str, Any]:
    import _competitors as comp

    members = args.members
    y0s = lorenz_initial_states(members)
    res: dict[str, Any] = {
        "members": members,
        "t_span": list(LORENZ_TSPAN),
        "rtol": LORENZ_RTOL,
        "atol": LORENZ_ATOL,
        "seed": LORENZ_SEED,
        "rows": {},
    }
    rows = res["rows"]
    n_check = min(args.check_members, members)

    # Anchor + stabkit, interleaved so that noise hits both alike.
    log(f"[lorenz] numba anchor (Hairer PI beta=0.04), {members} members")
    anchor = run_numba_anchor(y0s, 1, beta=0.04)
    anchor_i = run_numba_anchor(y0s, 1, beta=0.0)
    stabkit_rows: dict[str, dict[str, Any]] = {}
    for name in ("Dopri5", "Tsit5", "DOP853"):
        log(f"[lorenz] stabkit {name}: warm-up")
        stabkit_rows[name] = comp.stabkit_ensemble_prepare(
            name, y0s, LORENZ_TSPAN, LORENZ_RTOL, LORENZ_ATOL, budget_s=args.budget
        )
    for rnd in range(args.repeats):
        log(f"[lorenz] round {rnd + 1}/{args.repeats}: anchor, stabkit")
        for row, beta in ((anchor, 0.04), (anchor_i, 0.0)):
            w, c, _ = _timed(lambda b=beta: solve_lorenz_numba(y0s, beta=b), 1)
            row["times"] += w
            row["cpu"] += c
        for row in stabkit_rows.values():
            comp.stabkit_ensemble_time(row)
        # Noise-robust cross-check: one thread, process CPU seconds.
        _single_thread_anchor(anchor, y0s, 0.04, args.threads)
        comp.stabkit_ensemble_time(stabkit_rows["Dopri5"], single_thread=True)
    rows["numba_dopri5_pi"] = _finish_row(
        anchor,
        label="hand-written numba Dopri5 (PI, beta=0.04) [anchor]",
        notes="per-member adaptive step; prange over members; compile time excluded",
    )
    rows["numba_dopri5_i"] = _finish_row(
        anchor_i,
        label="hand-written numba Dopri5 (I-controller, beta=0)",
        notes="same kernel, classical 0.9*err^(-1/5) controller",
    )
    for name, row in stabkit_rows.items():
        rows[f"stabkit_{name.lower()}"] = _finish_row(
            row, label=f"stabkit {name}", notes=row.pop("notes", "")
        )

    # Competitors, each bracketed by anchor runs: their ratio to the anchor is taken against
    # anchor timings from the same minutes, which corrects for slow drifts of the load.
    def bracketed(key: str, label: str, run: Any) -> None:
        before = _timed(lambda: solve_lorenz_numba(y0s), args.anchor_bracket)[0]
        row = run()
        after = _timed(lambda: solve_lorenz_numba(y0s), args.anchor_bracket)[0]
        row["local_anchor_times"] = before + after
        rows[key] = _finish_row(row, label=label, notes="")

    n_sp = min(args.scipy_members, members)
    log(f"[lorenz] scipy RK45 loop, {n_sp} members")
    bracketed(
        "scipy_rk45",
        "scipy solve_ivp RK45, Python loop",
        lambda: comp.scipy_loop(y0s[:n_sp], LORENZ_TSPAN, LORENZ_RTOL, LORENZ_ATOL),
    )
    for strict in (False, True) if args.torch_strict else (False,):
        log(f"[lorenz] torchdiffeq dopri5, batch {args.torch_members}, strict norm={strict}")
        bracketed(
            "torchdiffeq_strict" if strict else "torchdiffeq",
            "torchdiffeq odeint dopri5, one batch"
            + (", max over members of RMS norm" if strict else ""),
            lambda strict=strict: comp.torchdiffeq_batch(
                y0s[: args.torch_members],
                LORENZ_TSPAN,
                LORENZ_RTOL,
                LORENZ_ATOL,
                repeats=1 if strict else args.torch_repeats,
                threads=args.threads,
                strict=strict,
                budget_s=args.budget,
            ),
        )
    log(f"[lorenz] diffrax Dopri5 jit(vmap), {members} members")
    bracketed(
        "diffrax",
        "diffrax Dopri5 + PIDController, jax.jit(jax.vmap)",
        lambda: comp.diffrax_vmap(
            y0s, LORENZ_TSPAN, LORENZ_RTOL, LORENZ_ATOL, repeats=args.repeats
        ),
    )

    # Accuracy: anchor on t = 1 against DOP853 1e-12 (and at the benchmark's t = 10, report).
    log(f"[lorenz] accuracy checks on {n_check} members")
    y_chk = y0s[:n_check]
    ref1 = lorenz_reference(y_chk, 1.0)
    ref10 = lorenz_reference(y_chk, LORENZ_TSPAN[1])
    acc: dict[str, Any] = {"members": n_check}
    yk, _, _ = solve_lorenz_numba(y_chk, t_span=(0.0, 1.0))
    acc["numba_t1_max_rel_err"] = float(_rel_err(yk, ref1).max())
    yk8, _, _ = solve_lorenz_numba(y_chk, t_span=(0.0, 1.0), rtol=1e-8, atol=1e-10)
    acc["numba_t1_rtol1e-8_max_rel_err"] = float(_rel_err(yk8, ref1).max())
    st1 = comp.stabkit_ensemble_final("Dopri5", y_chk, (0.0, 1.0), LORENZ_RTOL, LORENZ_ATOL)
    if isinstance(st1, np.ndarray):
        acc["stabkit_dopri5_t1_max_rel_err"] = float(_rel_err(st1, ref1).max())
    else:
        acc["stabkit_dopri5_t1_max_rel_err"] = st1
    t10: dict[str, Any] = {}
    for key, row in rows.items():
        yf = row.pop("y_final", None)
        if yf is None or len(yf) < n_check:
            continue
        e = _rel_err(yf[:n_check], ref10)
        t10[key] = {"median_rel_err": float(np.median(e)), "max_rel_err": float(e.max())}
    acc["t10_vs_dop853_1e-12"] = t10
    res["accuracy"] = acc
    return res


def _finish_row(raw: dict[str, Any], label: str, notes: str) -> dict[str, Any]:
    row = dict(raw)
    row["label"] = label
    if notes and not row.get("notes"):
        row["notes"] = notes
    times = row.get("times") or []
    n = row.get("members", 0)
    if times and n and row.get("available", True):
        row["best_s"] = float(min(times))
        row["median_s"] = float(np.median(times))
        row["throughput"] = n / row["best_s"]
        row["throughput_median"] = n / row["median_s"]
        if row.get("cpu"):
            row["cpu_per_wall"] = float(sum(row["cpu"]) / sum(times))
            row["cpu_s_per_1k"] = float(min(row["cpu"]) / n * 1000)
        if row.get("thread1"):
            # One-thread cross-check: valid when the work ran on the calling thread.
            th, cpu = np.asarray(row["thread1"]), np.asarray(row["cpu1"])
            row["thread1_share"] = float(th.sum() / cpu.sum())
            if row["thread1_share"] >= 0.6:
                row["thread1_per_member"] = float(th.min() / n)
    row.setdefault("available", True)
    return row


def robertson_benchmark(args: argparse.Namespace, log: Any) -> dict[str, Any]:
    import _competitors as comp

    out: dict[str, Any] = {"rtol": 1e-6, "atol": 1e-10, "spans": {}}
    spans = [1e5] if args.quick else [1e5, 1e11]
    for t1 in spans:
        log(f"[robertson] t1 = {t1:g}")
        out["spans"][f"{t1:g}"] = comp.robertson_suite(
            t1, rtol=1e-6, atol=1e-10, repeats=args.stiff_repeats, budget_s=args.budget
        )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 500 members, scipy 20")
    ap.add_argument("--members", type=int, default=None, help="Lorenz ensemble size")
    ap.add_argument("--scipy-members", type=int, default=None, help="scipy loop subset")
    ap.add_argument("--torch-members", type=int, default=None, help="torchdiffeq batch size")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per row")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--budget", type=float, default=180.0, help="seconds a single timed call may take"
    )
    ap.add_argument("--no-torch-strict", dest="torch_strict", action="store_false")
    ap.add_argument("--skip-stiff", action="store_true", help="skip the Robertson benchmark")
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite --out from the numbers already in --json",
    )
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/ensemble.md")
    ap.add_argument("--json", type=Path, default=None, help="default bench/results/ensemble.json")
    args = ap.parse_args(argv)
    # a smoke run never overwrites the recorded full results
    suffix = "-quick" if args.quick else ""
    if args.out is None:
        args.out = (
            ROOT / "bench" / "results" / "ensemble-quick.md"
            if args.quick
            else (ROOT / "bench" / "results" / "ensemble.md")
        )
    if args.json is None:
        args.json = ROOT / "bench" / "results" / f"ensemble{suffix}.json"
    if args.members is None:
        args.members = 500 if args.quick else 10_000
    if args.scipy_members is None:
        args.scipy_members = 20 if args.quick else 100
    args.scipy_members = min(args.scipy_members, args.members)
    if args.torch_members is None:
        args.torch_members = args.members
    args.torch_members = min(args.torch_members, args.members)
    if args.repeats is None:
        args.repeats = 5 if args.quick else 7
    args.torch_repeats = 2 if args.quick else 3
    args.anchor_bracket = 2
    args.stiff_repeats = 3 if args.quick else 7
    args.check_members = 5 if args.quick else 20
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.threads = max(1, min(args.threads, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(args.threads)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {msg}", flush=True)

    import _report

    if args.render_only:
        results = json.loads(args.json.read_text())
        _report.evaluate_goals(results)
        args.out.write_text(_report.markdown(results))
        print(_report.summary(results))
        return 0

    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    results["loadavg_start"] = list(os.getloadavg())
    results["lorenz"] = lorenz_benchmark(args, log)
    if not args.skip_stiff:
        results["robertson"] = robertson_benchmark(args, log)
    results["environment"] = _report.environment(args.threads)
    results["total_wall_s"] = time.perf_counter() - started
    _report.evaluate_goals(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_report.jsonable(results), indent=2) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_report.markdown(results))
    log(f"wrote {args.out} and {args.json}")
    print(_report.summary(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
