"""Benchmark rows: scipy, torchdiffeq, diffrax and stabkit runners.

Every third-party import happens inside the function that needs it, so a missing package
(or a stabkit API that does not exist yet) disables only its own row: the row then carries
``available=False`` and ``reason``.
"""

from __future__ import annotations

import math
import time
import traceback
from typing import Any

import numpy as np
from _problems import (
    BETA,
    RHO,
    ROBERTSON_Y0,
    SIGMA,
    Timer,
    lorenz_scipy_rhs,
    robertson_jac,
    robertson_reference,
    robertson_rhs,
)


def _unavailable(exc: BaseException, **extra: Any) -> dict[str, Any]:
    reason = f"{type(exc).__name__}: {exc}".strip()
    reason = " ".join(reason.split())
    if len(reason) > 300:
        reason = reason[:297] + "..."
    row = {"available": False, "reason": reason, "times": []}
    row.update(extra)
    return row


# scipy ------------------------------------------------------------------------------------


def scipy_loop(
    y0s: np.ndarray, t_span: tuple[float, float], rtol: float, atol: float
) -> dict[str, Any]:
    """solve_ivp(RK45) member by member; throughput extrapolated from this subset."""
    try:
        from scipy.integrate import solve_ivp
    except ImportError as exc:  # pragma: no cover - scipy is a core dependency
        return _unavailable(exc)
    out = np.full_like(y0s, np.nan)
    accepted = np.zeros(len(y0s))
    rejected = np.zeros(len(y0s))
    nfev = np.zeros(len(y0s))
    ok = 0
    tm = Timer().__enter__()
    for j, y0 in enumerate(y0s):
        sol = solve_ivp(lorenz_scipy_rhs, t_span, y0, method="RK45", rtol=rtol, atol=atol)
        out[j] = sol.y[:, -1]
        ok += int(sol.status == 0)
        accepted[j] = sol.t.size - 1
        nfev[j] = sol.nfev
        # RK45: 1 evaluation at t0, 1 in select_initial_step, 6 per attempted step (FSAL).
        rejected[j] = (sol.nfev - 2) / 6 - accepted[j]
    tm.__exit__()
    return {
        "members": len(y0s),
        "times": [tm.wall],
        "cpu": [tm.cpu],
        "y_final": out,
        "accepted_mean": float(accepted.mean()),
        "rejected_mean": float(rejected.mean()),
        "nfev_mean": float(nfev.mean()),
        "ok": ok,
        "notes": (
            f"timed {len(y0s)} trajectories one after another and extrapolated; "
            "one repeat (each trajectory is its own sample); single-threaded by design"
        ),
    }


# torchdiffeq ------------------------------------------------------------------------------


def torchdiffeq_batch(
    y0s: np.ndarray,
    t_span: tuple[float, float],
    rtol: float,
    atol: float,
    repeats: int,
    threads: int,
    strict: bool,
    budget_s: float,
) -> dict[str, Any]:
    """One odeint call on the whole batch (float64, CPU, dopri5, no autograd)."""
    try:
        import torch
        import torchdiffeq
    except ImportError as exc:
        return _unavailable(exc)
    try:
        torch.set_num_threads(threads)
        nfev = [0]

        def f(t: Any, u: Any) -> Any:
            nfev[0] += 1
            x, y, z = u[:, 0], u[:, 1], u[:, 2]
            return torch.stack((SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z), dim=1)

        options: dict[str, Any] = {}
        if strict:
            # Every member meets its own tolerance: max over members of the per-member RMS.
            options["norm"] = lambda r: r.pow(2).mean(dim=-1).sqrt().max()
        tt = torch.tensor(list(t_span), dtype=torch.float64)

        def solve(batch: np.ndarray) -> tuple[Any, int]:
            nfev[0] = 0
            y0 = torch.from_numpy(np.ascontiguousarray(batch))
            with torch.no_grad():
                ys = torchdiffeq.odeint(
                    f, y0, tt, rtol=rtol, atol=atol, method="dopri5", options=options
                )
            return ys[-1].numpy().copy(), nfev[0]

        # Probe with a smaller batch to keep a slow configuration inside the time budget
        # (linear extrapolation over-estimates: small batches are overhead-bound).
        members = len(y0s)
        probe = min(members, 1000)
        start = time.perf_counter()
        solve(y0s[:probe])
        probe_s = time.perf_counter() - start
        note_subset = ""
        projected = probe_s * members / probe
        if projected > budget_s:
            members = max(probe, int(members * budget_s / projected))
            note_subset = f"batch cut to {members} members to fit the time budget; "
        if repeats > 1:
            # Untimed full-size call first: the first large allocations of a process are
            # slower (malloc's mmap threshold adapts after them), a one-off cost.
            solve(y0s[:members])
            note_subset += "first full-size call untimed (warm-up); "
        times, cpus = [], []
        yf = None
        evals = 0
        for _ in range(repeats):
            with Timer() as tm:
                yf, evals = solve(y0s[:members])
            times.append(tm.wall)
            cpus.append(tm.cpu)
        attempts = (evals - 2) / 6  # 2 evaluations for the initial step, 6 per attempt (FSAL)
        return {
            "members": members,
            "times": times,
            "cpu": cpus,
            "y_final": yf,
            "accepted_mean": float("nan"),
            "attempted_steps_shared": float(attempts),
            "nfev_mean": float(evals),
            "ok": members,
            "notes": note_subset
            + (
                "one step size shared by the whole batch; "
                + (
                    "error norm = max over members of each member's RMS norm "
                    "(every member meets rtol/atol)"
                    if strict
                    else "default error norm = RMS over all 3*members components, so single "
                    "members may exceed the tolerance"
                )
                + f"; torch.set_num_threads({threads}); {attempts:.0f} shared step attempts"
            ),
        }
    except Exception as exc:
        return _unavailable(exc)


# diffrax ----------------------------------------------------------------------------------


def diffrax_vmap(
    y0s: np.ndarray, t_span: tuple[float, float], rtol: float, atol: float, repeats: int
) -> dict[str, Any]:
    """jax.jit(jax.vmap(solve)), Dopri5, PIDController (defaults: I-controller), float64."""
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import diffrax
        import jax.numpy as jnp
    except ImportError as exc:
        return _unavailable(exc)
    try:

        def vf(t: Any, u: Any, args: Any) -> Any:
            x, y, z = u[0], u[1], u[2]
            return jnp.stack((SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z))

        term = diffrax.ODETerm(vf)
        solver = diffrax.Dopri5()
        controller = diffrax.PIDController(rtol=rtol, atol=atol)

        def solve(y0: Any) -> tuple[Any, Any, Any, Any]:
            sol = diffrax.diffeqsolve(
                term,
                solver,
                t0=t_span[0],
                t1=t_span[1],
                dt0=None,
                y0=y0,
                saveat=diffrax.SaveAt(t1=True),
                stepsize_controller=controller,
                max_steps=1_000_000,
                throw=False,
            )
            return (
                sol.ys[-1],
                sol.stats["num_accepted_steps"],
                sol.stats["num_rejected_steps"],
                sol.result == diffrax.RESULTS.successful,
            )

        batched = jax.jit(jax.vmap(solve))
        y0j = jnp.asarray(y0s, dtype=jnp.float64)
        start = time.perf_counter()
        compiled = batched.lower(y0j).compile()
        compile_time = time.perf_counter() - start
        # First execution (included in nothing: reported apart), then timed runs.
        start = time.perf_counter()
        jax.block_until_ready(compiled(y0j))
        first_run = time.perf_counter() - start
        times, cpus = [], []
        out = None
        for _ in range(repeats):
            with Timer() as tm:
                out = jax.block_until_ready(compiled(y0j))
            times.append(tm.wall)
            cpus.append(tm.cpu)
        assert out is not None
        yf, acc, rej, ok = (np.asarray(v) for v in out)
        return {
            "members": len(y0s),
            "times": times,
            "cpu": cpus,
            "compile_time": compile_time,
            "first_run_s": first_run,
            "y_final": yf,
            "accepted_mean": float(acc.mean()),
            "rejected_mean": float(rej.mean()),
            "accepted_max": int(acc.max()),
            "ok": int(ok.sum()),
            "notes": (
                "per-member step size, but vmap runs the while-loop in lockstep until the "
                "slowest member finishes (finished members are masked); "
                f"compile (lower+compile) {compile_time:.2f} s reported apart; "
                f"jax {jax.__version__} on {jax.devices()[0].platform}, XLA picks its own "
                "threads"
            ),
        }
    except Exception as exc:
        return _unavailable(exc)


# stabkit ----------------------------------------------------------------------------------


def _stabkit_method(name: str, rtol: float, atol: float) -> Any:
    import stabkit

    return getattr(stabkit, name)(rtol=rtol, atol=atol)


def _stabkit_final(ens: Any) -> np.ndarray:
    y = np.asarray(ens.y)
    if y.ndim != 3:
        raise ValueError(f"Ensemble.y has shape {y.shape}, expected (members, times, variables)")
    return y[:, -1, :]


def stabkit_ensemble_prepare(
    name: str,
    y0s: np.ndarray,
    t_span: tuple[float, float],
    rtol: float,
    atol: float,
    budget_s: float,
) -> dict[str, Any]:
    """Warm up (compile) on a small batch; the timed calls come from stabkit_ensemble_time."""
    try:
        import stabkit

        model = stabkit.library.lorenz()
        method = _stabkit_method(name, rtol, atol)
        warm = y0s[: min(16, len(y0s))]
        start = time.perf_counter()
        ens = stabkit.solve_ensemble(model, warm, t_span, method=method)
        first = time.perf_counter() - start
        compile_time = float(getattr(getattr(ens, "stats", None), "compile_time", 0.0) or 0.0)
        _stabkit_final(ens)
        # Project the full-size call; cut the batch if it would not fit the budget.
        probe = y0s[: min(200, len(y0s))]
        start = time.perf_counter()
        stabkit.solve_ensemble(model, probe, t_span, method=method)
        probe_s = time.perf_counter() - start
        members = len(y0s)
        notes = ""
        projected = probe_s * members / len(probe)
        if projected > budget_s:
            members = max(len(probe), int(members * budget_s / projected))
            notes = f"cut to {members} members to fit the time budget; "
        return {
            "name": name,
            "available": True,
            "members": members,
            "times": [],
            "cpu": [],
            "compile_time": compile_time,
            "first_call_s": first,
            "notes": notes
            + "compile time (stats.compile_time of a 16-member warm-up call) excluded; "
            "stabkit caches compiled kernels on disk, so it is near zero when the cache is warm",
            "_call": (model, method, y0s[:members], t_span),
        }
    except Exception as exc:
        return _unavailable(exc, name=name, traceback=traceback.format_exc(limit=3))


def stabkit_ensemble_time(row: dict[str, Any], single_thread: bool = False) -> None:
    """One timed full-size call; appends to row['times'] and keeps the final states.

    ``single_thread``: run with ``numba.set_num_threads(1)`` and record wall and CPU seconds
    and calling-thread CPU seconds in ``row['wall1']``, ``row['cpu1']``, ``row['thread1']``
    instead (the noise-robust cross-check).
    """
    if not row.get("available", False):
        return
    import numba

    import stabkit

    model, method, y0s, t_span = row["_call"]
    try:
        if single_thread:
            prev = numba.get_num_threads()
            numba.set_num_threads(1)
            try:
                with Timer() as tm:
                    stabkit.solve_ensemble(model, y0s, t_span, method=method)
            finally:
                numba.set_num_threads(prev)
            row.setdefault("wall1", []).append(tm.wall)
            row.setdefault("cpu1", []).append(tm.cpu)
            row.setdefault("thread1", []).append(tm.thread)
            return
        with Timer() as tm:
            ens = stabkit.solve_ensemble(model, y0s, t_span, method=method)
        row["times"].append(tm.wall)
        row["cpu"].append(tm.cpu)
        row["y_final"] = _stabkit_final(ens)
        status = np.asarray(getattr(ens, "member_status", np.zeros(len(y0s))))
        row["ok"] = int((status == 0).sum())
        row["status"] = str(getattr(ens, "status", "?"))
        for attr, key in (("num_steps", "accepted_mean"), ("num_rejected", "rejected_mean")):
            val = getattr(ens, attr, None)
            if val is not None and np.size(val):
                row[key] = float(np.mean(val))
        stats = getattr(ens, "stats", None)
        nfev = getattr(stats, "num_rhs_evaluations", None)
        if nfev:
            row["nfev_mean"] = float(nfev) / len(y0s)
        inner = getattr(stats, "wall_time", None)
        if inner:
            row.setdefault("stats_wall_time", []).append(float(inner))
    except Exception as exc:
        row.update(_unavailable(exc))


def stabkit_ensemble_final(
    name: str, y0s: np.ndarray, t_span: tuple[float, float], rtol: float, atol: float
) -> np.ndarray | str:
    """Final states from stabkit.solve_ensemble, or the reason it is unavailable."""
    try:
        import stabkit

        ens = stabkit.solve_ensemble(
            stabkit.library.lorenz(), y0s, t_span, method=_stabkit_method(name, rtol, atol)
        )
        return _stabkit_final(ens)
    except Exception as exc:
        return "unavailable: " + _unavailable(exc)["reason"]


# Robertson --------------------------------------------------------------------------------


def _stiff_errors(y: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> dict[str, Any]:
    y = np.asarray(y, dtype=float)
    tol_units = np.abs(y - ref) / (atol + rtol * np.abs(ref))
    rel = np.abs(y - ref) / np.maximum(np.abs(ref), 1e-300)
    return {
        "max_err_in_tol_units": float(tol_units.max()),
        "rel_err": [float(v) for v in rel],
        "y_final": [float(v) for v in y],
    }


def robertson_suite(
    t1: float, rtol: float, atol: float, repeats: int, budget_s: float
) -> dict[str, Any]:
    from scipy.integrate import solve_ivp

    ref = robertson_reference(t1)
    rows: dict[str, Any] = {}
    for method in ("Radau", "BDF"):
        for with_jac in (True, False):
            key = f"scipy_{method.lower()}{'_jac' if with_jac else ''}"
            kwargs = {"jac": robertson_jac} if with_jac else {}
            times = []
            sol = None
            for _ in range(repeats):
                start = time.perf_counter()
                sol = solve_ivp(
                    robertson_rhs,
                    (0.0, t1),
                    ROBERTSON_Y0,
                    method=method,
                    rtol=rtol,
                    atol=atol,
                    **kwargs,
                )
                times.append(time.perf_counter() - start)
                if sum(times) > budget_s:
                    break
            assert sol is not None
            rows[key] = {
                "label": f"scipy solve_ivp {method}, "
                + ("analytic Jacobian" if with_jac else "finite-difference Jacobian"),
                "available": True,
                "times": times,
                "best_s": min(times),
                "median_s": float(np.median(times)),
                "ok": int(sol.status == 0),
                "nfev": int(sol.nfev),
                "njev": int(sol.njev),
                "nlu": int(sol.nlu),
                "steps": int(sol.t.size - 1),
                **_stiff_errors(sol.y[:, -1], ref, rtol, atol),
            }
    rows["stabkit_rodas5"] = _stabkit_stiff(t1, rtol, atol, repeats, ref)
    return {"t1": t1, "reference": [float(v) for v in ref], "rows": rows}


def _stabkit_stiff(
    t1: float, rtol: float, atol: float, repeats: int, ref: np.ndarray
) -> dict[str, Any]:
    label = "stabkit solve, Rodas5"
    try:
        import stabkit

        model = stabkit.library.robertson()
        method = stabkit.Rodas5(rtol=rtol, atol=atol)
        start = time.perf_counter()
        traj = stabkit.solve(model, ROBERTSON_Y0.copy(), (0.0, t1), method=method)
        first = time.perf_counter() - start
        compile_time = float(getattr(getattr(traj, "stats", None), "compile_time", 0.0) or 0.0)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            traj = stabkit.solve(model, ROBERTSON_Y0.copy(), (0.0, t1), method=method)
            times.append(time.perf_counter() - start)
        y_final = np.asarray(getattr(traj, "y_final", None))
        if y_final.shape != (3,):
            y_final = np.asarray(traj.y)[-1]
        stats = getattr(traj, "stats", None)
        return {
            "label": label,
            "available": True,
            "times": times,
            "best_s": min(times),
            "median_s": float(np.median(times)),
            "compile_time": compile_time,
            "first_call_s": first,
            "ok": int(str(getattr(traj, "status", "ok")) == "ok"),
            "steps": int(getattr(stats, "num_steps", -1)),
            "rejected": int(getattr(stats, "num_rejected", -1)),
            **_stiff_errors(y_final, ref, rtol, atol),
        }
    except Exception as exc:
        return {"label": label, **_unavailable(exc), "best_s": math.nan}
