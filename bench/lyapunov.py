"""Lyapunov benchmark: time to the Lorenz spectrum within 1%, stabkit against nolds, dysts
and lyapax, in one run.

Run ``python bench/lyapunov.py`` (full) or ``--quick`` (smoke run, seconds). Writes
``bench/results/lyapunov.json`` and ``bench/results/lyapunov.md`` (quick: ``lyapunov-quick.*``).

Reference: Lorenz (sigma, rho, beta) = (10, 28, 8/3), spectrum (0.9056, 0, -14.5723)
(Sprott, *Chaos and Time-Series Analysis*, 2003). "Within 1%" means |λ1 - 0.9056| and
|λ2| at most 1% of 0.9056 and |λ3 + 14.5723| at most 1% of 14.5723 (λ1 alone for
the estimators that give only the largest exponent).

Rows:

* **stabkit** ``lyapunov_spectrum`` with the default ``QR()`` (stops when every standard
  error is below 0.002): one call, compile time reported apart (numba's disk cache makes
  it a one-off per model). Its error bars are checked over several seeds: how often the
  reference lies within two standard errors.
* **stabkit, largest only**: ``largest_lyapunov_exponent``.
* **stabkit solve() loop**: the alternative design, the augmented variational system as an
  ordinary stabkit model integrated by ``solve`` between renormalisations (QR in numpy):
  the measurement behind integrating state and tangents in one dedicated kernel.
* **lyapax** (JAX, fixed-step RK4 at dt = 0.01, QR every 10 steps): a ladder of run lengths
  until the spectrum is within 1%; each new length recompiles, so the time is of the
  first run that reached 1%, compile included, and the cumulative ladder time is given too.
* **nolds** ``lyap_r`` (Rosenstein) and ``lyap_e`` (Eckmann) on x(t) (10,000 samples,
  dt = 0.01), default settings and settings chosen for Lorenz (emb_dim 3, lag 16).
* **dysts** ``find_lyapunov_exponents`` on its own Lorenz (dysts' parameters beta = 2.667
  differ from 8/3 in the fourth digit: about 0.01% of λ3) at a run length bounded so the
  row finishes in minutes.
* **stabkit** ``lyapunov_from_series`` (Rosenstein) on the same x(t), for the estimators
  from data.

Ratios are times divided by stabkit's time in the same run (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = np.array([0.9056, 0.0, -14.5723])
SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0


def within_one_percent(exponents: np.ndarray) -> bool:
    ex = np.asarray(exponents, dtype=float)
    if ex.size == 1:
        return bool(abs(ex[0] - REFERENCE[0]) <= 0.01 * REFERENCE[0])
    if ex.size != 3 or not np.all(np.isfinite(ex)):
        return False
    return bool(
        abs(ex[0] - REFERENCE[0]) <= 0.01 * REFERENCE[0]
        and abs(ex[1]) <= 0.01 * REFERENCE[0]
        and abs(ex[2] - REFERENCE[2]) <= 0.01 * abs(REFERENCE[2])
    )


def max_relative_error(exponents: np.ndarray) -> float:
    ex = np.asarray(exponents, dtype=float)
    if ex.size == 1:
        return float(abs(ex[0] - REFERENCE[0]) / REFERENCE[0])
    if ex.size < 3:
        return math.nan
    return float(
        max(
            abs(ex[0] - REFERENCE[0]) / REFERENCE[0],
            abs(ex[1]) / REFERENCE[0],
            abs(ex[2] - REFERENCE[2]) / abs(REFERENCE[2]),
        )
    )


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def lorenz_series(num: int, dt: float = 0.01) -> np.ndarray:
    from stabkit import solve
    from stabkit.model import library

    t0 = 50.0
    traj = solve(library.get("lorenz"), [1.0, 1.0, 1.0], (0.0, t0 + num * dt),
                 t_eval=t0 + dt * np.arange(num))  # fmt: skip
    return np.asarray(traj.y)[:, 0]


def row(name: str, seconds: float | None, exponents: Any, **extra: Any) -> dict[str, Any]:
    ex = None if exponents is None else np.atleast_1d(np.asarray(exponents, dtype=float))
    out: dict[str, Any] = {"method": name, "seconds": seconds}
    out["exponents"] = None if ex is None else ex.tolist()
    out["max_relative_error"] = None if ex is None else max_relative_error(ex)
    out["within_1pct"] = None if ex is None else within_one_percent(ex)
    out.update(extra)
    return out


def bench_stabkit(quick: bool) -> list[dict[str, Any]]:
    from stabkit.analysis.lyapunov import QR, largest_lyapunov_exponent, lyapunov_spectrum
    from stabkit.model import library

    model = library.get("lorenz")
    method = QR(t_max=2000.0) if quick else QR()
    r = lyapunov_spectrum(model, seed=0, method=method)
    rows = [
        row("stabkit lyapunov_spectrum", r.stats.wall_time, r.exponents,
            standard_errors=r.standard_errors.tolist(), compile_seconds=r.stats.compile_time,
            averaging_time=r.averaging_time, status=r.status,
            sum_rule_difference=r.sum_rule.difference if r.sum_rule else None)
    ]  # fmt: skip
    seeds = range(1, 3 if quick else 11)
    covered, runs, times = 0, 0, []
    for seed in seeds:
        s = lyapunov_spectrum(model, seed=seed, method=method)
        runs += 1
        times.append(s.stats.wall_time)
        covered += int(np.all(np.abs(s.exponents - REFERENCE) <= 2 * s.standard_errors + 1e-4))
    rows[0]["seeds"] = runs
    rows[0]["reference_within_2se_all_three"] = covered
    rows[0]["median_seconds_over_seeds"] = float(np.median(times))
    rows[0]["within_1pct_over_seeds"] = None
    largest = largest_lyapunov_exponent(model, seed=0, method=method)
    rows.append(
        row("stabkit largest_lyapunov_exponent", largest.stats.wall_time, largest.exponents,
            standard_errors=largest.standard_errors.tolist(),
            compile_seconds=largest.stats.compile_time)
    )  # fmt: skip
    return rows


def bench_solve_loop(quick: bool) -> dict[str, Any]:
    """Augmented variational model through stabkit.solve between renormalisations."""
    from stabkit import Dopri5, solve
    from stabkit.model.model import Model

    eqs = {"x": "sigma*(y - x)", "y": "x*(rho - z) - y", "z": "x*y - beta*z"}
    jac = [["-sigma", "sigma", "0"], ["rho - z", "-1", "-x"], ["y", "x", "-beta"]]
    for c in range(3):
        for i in range(3):
            terms = [f"({jac[i][j]})*q{j}{c}" for j in range(3) if jac[i][j] != "0"]
            eqs[f"q{i}{c}"] = " + ".join(terms)
    model = Model.from_equations(
        eqs, parameters={"sigma": SIGMA, "rho": RHO, "beta": BETA}, name="lorenz_variational"
    )
    horizon = 50.0 if quick else 400.0
    dt = 0.2
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    state = np.array([1.0, 1.0, 1.0])
    method = Dopri5(rtol=1e-6, atol=1e-9)
    solve(model, np.concatenate([state, Q.ravel(order="F")]), (0.0, dt), method=method)  # compile
    logs = np.zeros(3)
    tic = time.perf_counter()
    t = 0.0
    steps = int(horizon / dt)
    for _ in range(steps):
        tr = solve(model, np.concatenate([state, Q.ravel(order="F")]), (t, t + dt), method=method,
                   t_eval=[t + dt])  # fmt: skip
        z = np.asarray(tr.y)[-1]
        state = z[:3]
        Q, R = np.linalg.qr(z[3:].reshape(3, 3, order="F"))
        logs += np.log(np.abs(np.diag(R)))
        t += dt
    seconds = time.perf_counter() - tic
    return row(
        "stabkit solve() loop on the augmented model", seconds, np.sort(logs / horizon)[::-1],
        averaging_time=horizon, seconds_per_time_unit=seconds / horizon,
    )  # fmt: skip


def bench_lyapax(quick: bool) -> dict[str, Any]:
    if _version("lyapax") is None:
        return row("lyapax", None, None, skipped="lyapax not installed")
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import lyapax

    def rhs(s: Any) -> Any:
        x, y, z = s[0], s[1], s[2]
        return jnp.array([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z])

    dt = 0.01
    problem = lyapax.ode_problem(rhs, jnp.array([1.0, 1.0, 1.0]), dt, integrator="rk4")
    ladder = [500.0, 1000.0] if quick else [500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0]
    total, tried = 0.0, []
    for horizon in ladder:
        n_steps = round(horizon / dt / 10) * 10
        tic = time.perf_counter()
        res = lyapax.lyapunov_spectrum(problem, n_steps=n_steps, renorm_every=10,
                                       t_transient=100.0, seed=0)  # fmt: skip
        ex = np.asarray(res.exponents)
        seconds = time.perf_counter() - tic
        total += seconds
        tried.append({"horizon": horizon, "seconds": seconds, "exponents": ex.tolist()})
        if within_one_percent(ex):
            break
    return row("lyapax (RK4 dt=0.01, compile included)", tried[-1]["seconds"], ex,
               averaging_time=tried[-1]["horizon"], ladder=tried, ladder_seconds=total)  # fmt: skip


def _import_nolds() -> Any:
    """Import nolds 0.6.3, which calls importlib.resources.files() on a module (Python >= 3.12
    only); on 3.11 the module's parent package is the same folder, so ask for that instead."""
    import importlib.resources as resources

    original = resources.files

    def files(anchor: Any) -> Any:
        try:
            return original(anchor)
        except TypeError:
            return original(str(anchor).rsplit(".", 1)[0])

    resources.files = files  # type: ignore[assignment]
    try:
        import nolds
    finally:
        resources.files = original
    return nolds


def bench_nolds(x: np.ndarray, dt: float) -> list[dict[str, Any]]:
    if _version("nolds") is None:
        return [row("nolds", None, None, skipped="nolds not installed")]
    nolds = _import_nolds()

    rows = []
    for label, kwargs in (
        ("nolds lyap_r (defaults)", {"tau": dt}),
        ("nolds lyap_r (emb_dim=3, lag=16)", {"tau": dt, "emb_dim": 3, "lag": 16,
                                               "trajectory_len": 200, "min_tsep": 100}),
    ):  # fmt: skip
        tic = time.perf_counter()
        val = nolds.lyap_r(x, **kwargs)
        rows.append(row(label, time.perf_counter() - tic, [val]))
    for label, kwargs in (
        ("nolds lyap_e (defaults)", {"tau": dt}),
        ("nolds lyap_e (emb_dim=7, matrix_dim=3)", {"tau": dt, "emb_dim": 7, "matrix_dim": 3}),
    ):
        tic = time.perf_counter()
        val = np.sort(np.asarray(nolds.lyap_e(x, **kwargs)))[::-1]
        rows.append(row(label, time.perf_counter() - tic, val))
    return rows


def bench_dysts(quick: bool) -> dict[str, Any]:
    if _version("dysts") is None:
        return row("dysts", None, None, skipped="dysts not installed")
    try:
        import dysts.flows
        from dysts.analysis import find_lyapunov_exponents
    except Exception as exc:  # dysts imports gluonts and more at import time
        return row("dysts", None, None, skipped=f"dysts does not import: {exc}")
    model = dysts.flows.Lorenz()
    traj_length = 100 if quick else 1000
    tic = time.perf_counter()
    ex = np.sort(np.asarray(find_lyapunov_exponents(model, traj_length, pts_per_period=100)))[::-1]
    return row(f"dysts find_lyapunov_exponents (traj_length={traj_length})",
               time.perf_counter() - tic, ex)  # fmt: skip


def bench_series(x: np.ndarray, dt: float) -> dict[str, Any]:
    from stabkit.analysis.lyapunov import lyapunov_from_series

    tic = time.perf_counter()
    r = lyapunov_from_series(x, dt=dt)
    return row("stabkit lyapunov_from_series (Rosenstein)", time.perf_counter() - tic,
               r.exponents, standard_errors=r.standard_errors.tolist())  # fmt: skip


def markdown(rows: list[dict[str, Any]], anchor: float, quick: bool) -> str:
    lines = [
        "| method | time (s) | × stabkit | exponents | max rel. error | within 1% |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['method']} | - | - | skipped: {r['skipped']} | - | - |")
            continue
        ex = r["exponents"] or []
        se = r.get("standard_errors")
        if se:
            text = ", ".join(f"{e:.4f} ± {s:.1g}" for e, s in zip(ex, se, strict=False))
        else:
            text = ", ".join(f"{e:.4f}" for e in ex)
        secs = r["seconds"]
        lines.append(
            f"| {r['method']} | {secs:.3g} | {secs / anchor:.3g} | {text} | "
            f"{r['max_relative_error']:.2%} | {'yes' if r['within_1pct'] else 'no'} |"
        )
    head = rows[0]
    lines += [
        "",
        f"stabkit: compile {head['compile_seconds']:.2g} s (once per model, cached on disk), "
        f"averaging time {head['averaging_time']:.0f}, sum-rule difference "
        f"{head['sum_rule_difference']:.1g}; reference within 2 standard errors (all three "
        f"exponents) on {head['reference_within_2se_all_three']} of {head['seeds']} seeds, "
        f"median time over seeds {head['median_seconds_over_seeds']:.3g} s.",
    ]
    loop = next((r for r in rows if r["method"].startswith("stabkit solve()")), None)
    if loop:
        kernel = head["seconds"] / head["averaging_time"]
        lines.append(
            f"Per unit of averaging time: stabkit's variational kernel {kernel:.3g} s, the "
            f"solve() loop on the augmented model {loop['seconds_per_time_unit']:.3g} s "
            f"({loop['seconds_per_time_unit'] / kernel:.3g}x slower): hence the dedicated kernel."
        )
    lad = next((r for r in rows if r["method"].startswith("lyapax") and r.get("ladder")), None)
    if lad:
        steps = "; ".join(f"T={t['horizon']:g}: {t['seconds']:.2g} s" for t in lad["ladder"])
        lines.append(
            f"lyapax ladder (each length recompiles): {steps}; total {lad['ladder_seconds']:.3g} s."
        )
    if quick:
        lines.append("(quick mode: shorter runs; not the recorded numbers)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--skip", default="", help="comma list: lyapax,nolds,dysts,solve")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    rows = bench_stabkit(args.quick)
    anchor = rows[0]["seconds"]
    if "solve" not in skip:
        rows.append(bench_solve_loop(args.quick))
    if "lyapax" not in skip:
        rows.append(bench_lyapax(args.quick))
    dt = 0.01
    x = lorenz_series(3000 if args.quick else 10000, dt)
    if "nolds" not in skip:
        rows.extend(bench_nolds(x, dt) if not args.quick else bench_nolds(x[:3000], dt)[:1])
    if "dysts" not in skip:
        rows.append(bench_dysts(args.quick))
    rows.append(bench_series(x, dt))
    for r in rows:
        if r.get("seconds") is not None:
            r["ratio_to_stabkit"] = r["seconds"] / anchor
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = "lyapunov-quick" if args.quick else "lyapunov"
    meta = {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "versions": {n: _version(n) for n in ("numba", "numpy", "jax", "lyapax", "nolds", "dysts")},
        "reference": REFERENCE.tolist(),
    }
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1,
                                                 default=float))  # fmt: skip
    text = markdown(rows, anchor, args.quick)
    (out / f"{stem}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
