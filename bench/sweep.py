"""Sweep benchmark: overhead per point, 1 vs 2 workers, a 40,000-point Brusselator diagram.

Run ``python bench/sweep.py`` (full) or ``--quick`` (smoke run, seconds). Writes
``bench/results/sweep.json`` and ``bench/results/sweep.md`` (quick: ``sweep-quick.*``).

Sections (all times wall-clock, in one run, on a machine shared with other jobs):

Each in-process timing is the least of a few repeats (the machine is shared).

* **overhead**: a trivial per-point analysis (``{"v": a * b}``) over ``N`` points by
  ``sweep`` in-process (``Serial``) and on a 2-process pool (``LocalPool(2)``, pool start
  included), against a plain Python loop calling the same function. Overhead per point =
  (sweep time - loop time) / N.
* **speed-up**: a CPU-bound analysis (about 2 ms of numpy work per point) with one worker
  (in-process) and with a 2-process pool; speed-up = t(1) / t(2).
* **diagram**: the Brusselator's stability over a 200 x 200 grid of (a, b) in
  [0.5, 2] x [0, 4] (40,000 points) with :class:`stabkit.sweep.fast_analyses.LinearStability`
  (the compiled Jacobian at the known equilibrium (a, b/a), eigenvalues by LAPACK), on a
  2-process pool, with and without a Parquet store; goal under 60 s. Checked against the
  analytic Hopf line b = 1 + a^2. The **plain loop** row calls the same analysis on
  ``Model.with_params`` in a Python loop, timed on a random subsample of points and scaled
  to 40,000 (said so in the table); the ``Equilibria`` row (``find_equilibria``, all
  equilibria by a polynomial solve) is timed the same way, to show why the diagram uses
  the fast analysis.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 60.0


def trivial(point: dict[str, float]) -> dict[str, float]:
    return {"v": point["a"] * point["b"]}


def busy(point: dict[str, float]) -> dict[str, float]:
    """About 2 ms of numpy work: a 60 x 60 matrix's eigenvalues."""
    rng = np.random.default_rng(int(point["i"]))
    m = rng.standard_normal((60, 60))
    return {"v": float(np.max(np.linalg.eigvals(m).real))}


def brusselator_equilibrium(p: dict[str, float]) -> dict[str, float]:
    return {"x": p["a"], "y": p["b"] / p["a"]}


def _timed(fn: Any, repeats: int = 1) -> tuple[Any, float]:
    """The value and the least wall time of ``repeats`` calls (the least disturbed one)."""
    best = math.inf
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def _pool_start() -> float:
    """Seconds of a pool sweep of 2 trivial points: process start, imports, teardown."""
    from stabkit.sweep import LocalPool, sweep

    _, t = _timed(lambda: sweep(trivial, over={"a": [0.0, 1.0], "b": [1.0]}, executor=LocalPool(2)))
    return t


def overhead(n: int, pool: bool) -> dict[str, Any]:
    """Marginal cost per point: (t(N) - t(small)) / (N - small) minus the loop's cost."""
    from stabkit.sweep import LocalPool, Serial, sweep

    side = round(math.sqrt(n))
    n = side * side
    small = {"a": (0.0, 1.0, 2), "b": (0.0, 1.0, 2)}
    over = {"a": (0.0, 1.0, side), "b": (0.0, 1.0, side)}
    grid = [(a, b) for a in np.linspace(0, 1, side) for b in np.linspace(0, 1, side)]
    sweep(trivial, over=small, executor=Serial())  # imports and version look-ups, once
    _, loop = _timed(lambda: [trivial({"a": a, "b": b}) for a, b in grid], 5)
    _, t_small = _timed(lambda: sweep(trivial, over=small, executor=Serial()), 5)
    serial, t_serial = _timed(lambda: sweep(trivial, over=over, executor=Serial()), 3)
    out: dict[str, Any] = {
        "num_points": n,
        "loop_s": loop,
        "serial_s": t_serial,
        "serial_fixed_s": t_small,
        "overhead_serial_us": ((t_serial - t_small) / (n - 4) - loop / n) * 1e6,
    }
    if pool:
        start = _pool_start()
        res, t_pool = _timed(lambda: sweep(trivial, over=over, executor=LocalPool(2)))
        assert serial.ok and res.ok and np.array_equal(serial.table["v"], res.table["v"])
        out.update(
            pool2_s=t_pool,
            pool2_start_s=start,
            overhead_pool2_us=((t_pool - start) / n - loop / n) * 1e6,
        )
    return out


def speedup(n: int) -> dict[str, Any]:
    from stabkit.sweep import LocalPool, Serial, sweep

    over = {"i": (0.0, float(n - 1), n)}
    start = _pool_start()
    one, t1 = _timed(lambda: sweep(busy, over=over, executor=Serial()))
    two, t2 = _timed(lambda: sweep(busy, over=over, executor=LocalPool(2)))
    assert one.ok and two.ok and np.array_equal(one.table["v"], two.table["v"])
    return {
        "num_points": n,
        "per_point_ms": t1 / n * 1e3,
        "one_worker_s": t1,
        "two_workers_s": t2,
        "pool_start_s": start,
        "speedup": t1 / t2,
        "speedup_net_of_pool_start": t1 / max(t2 - start, 1e-9),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }


def diagram(
    side: int, loop_sample: int, equilibria_sample: int, pool: bool, seed: int = 0
) -> dict[str, Any]:
    from stabkit.model import library
    from stabkit.sweep import Equilibria, LocalPool, Serial, sweep
    from stabkit.sweep.fast_analyses import LinearStability

    model = library.get("brusselator")
    analysis = LinearStability(brusselator_equilibrium)
    over = {"a": (0.5, 2.0, side), "b": (0.0, 4.0, side)}
    n = side * side
    model.compile()  # the disk cache is warm for every row alike
    ex: Any = LocalPool(2) if pool else Serial()
    serial, t_serial = _timed(lambda: sweep(analysis, model, over=over, executor=Serial()))
    res, t_pool = (
        _timed(lambda: sweep(analysis, model, over=over, executor=ex))
        if pool
        else (serial, t_serial)
    )
    with tempfile.TemporaryDirectory() as tmp:
        stored, t_store = _timed(lambda: sweep(analysis, model, over=over, executor=ex, store=tmp))
        _, t_resume = _timed(lambda: sweep(analysis, model, over=over, executor=ex, store=tmp))
    table = res.table
    assert np.array_equal(
        serial.table["max_real_part"].to_numpy(), table["max_real_part"].to_numpy()
    )
    analytic = table["b"].to_numpy() < 1.0 + table["a"].to_numpy() ** 2
    mismatches = int(np.sum(table["stable"].to_numpy(dtype=bool) != analytic))
    assert res.ok and stored.ok and len(table) == n

    rng = np.random.default_rng(seed)
    pts = table[["a", "b"]].to_numpy()
    sample = pts[rng.choice(n, size=min(loop_sample, n), replace=False)]

    def loop(points: np.ndarray, fn: Any) -> None:
        for a, b in points:
            fn(model.with_params(a=a, b=b), {"a": a, "b": b})

    _, t_loop = _timed(lambda: loop(sample, analysis))
    eq_sample = sample[:equilibria_sample]
    eq = Equilibria()
    eq(model, {})  # first call loads the solver: not part of the per-point cost
    _, t_eq = _timed(lambda: loop(eq_sample, eq))
    loop_full = t_loop / len(sample) * n
    eq_full = t_eq / len(eq_sample) * n
    return {
        "grid": f"{side} x {side}",
        "num_points": n,
        "analysis": repr(analysis),
        "executor": type(ex).__name__ + ("(2)" if pool else ""),
        "serial_s": t_serial,
        "pool2_s": t_pool,
        "pool2_store_s": t_store,
        "resume_finished_store_s": t_resume,
        "points_per_s": n / t_pool,
        "goal_s": GOAL_SECONDS,
        "goal_met": bool(t_pool < GOAL_SECONDS),
        "hopf_line_mismatches": mismatches,
        "stable_fraction": float(np.mean(table["stable"].to_numpy(dtype=bool))),
        "plain_loop_sample": len(sample),
        "plain_loop_scaled_s": loop_full,
        "ratio_loop_over_sweep": loop_full / t_pool,
        "ratio_loop_over_serial_sweep": loop_full / t_serial,
        "equilibria_sample": len(eq_sample),
        "equilibria_loop_scaled_s": eq_full,
        "ratio_equilibria_over_sweep": eq_full / t_pool,
    }


def _markdown(meta: dict[str, Any], o: dict[str, Any], s: dict[str, Any], d: dict[str, Any]) -> str:
    n = d["num_points"]
    lines = [
        f"Sweep benchmark ({'quick' if meta['quick'] else 'full'} run, {meta['date']}, "
        f"{meta['cpu_count']} CPUs shared with other jobs; load average "
        f"{meta['load_average'][0]:.1f} at the end).",
        "",
        "| measurement | value |",
        "| --- | --- |",
        f"| plain loop, trivial function | {o['loop_s'] / o['num_points'] * 1e6:.2f} us/point |",
        f"| sweep overhead per point, in-process ({o['num_points']} trivial points; "
        f"marginal) | {o['overhead_serial_us']:.1f} us (+ {o['serial_fixed_s'] * 1e3:.0f} ms "
        "per sweep) |",
    ]
    if "overhead_pool2_us" in o:
        lines.append(
            f"| sweep overhead per point, 2-process pool | {o['overhead_pool2_us']:.1f} us "
            f"(+ {o['pool2_start_s']:.2f} s pool start per sweep) |"
        )
    lines += [
        f"| speed-up 1 -> 2 workers ({s['num_points']} points x {s['per_point_ms']:.1f} ms) | "
        f"{s['speedup']:.2f}x ({s['one_worker_s']:.2f} s -> {s['two_workers_s']:.2f} s); "
        f"{s['speedup_net_of_pool_start']:.2f}x net of the {s['pool_start_s']:.2f} s pool start |",
        f"| Brusselator diagram {d['grid']} ({n} points), LinearStability, in-process | "
        f"{d['serial_s']:.2f} s ({n / d['serial_s']:.0f} points/s) |",
        f"| same, {d['executor']} | {d['pool2_s']:.2f} s ({d['points_per_s']:.0f} points/s; goal "
        f"< {d['goal_s']:.0f} s: {'met' if d['goal_met'] else 'NOT met'}) |",
        f"| same, with a Parquet store | {d['pool2_store_s']:.2f} s |",
        f"| re-run on the finished store (computes nothing) | "
        f"{d['resume_finished_store_s']:.2f} s |",
        f"| plain Python loop, same analysis (timed on {d['plain_loop_sample']} random points, "
        f"scaled to {n}) | {d['plain_loop_scaled_s']:.1f} s; loop time / sweep time = "
        f"{d['ratio_loop_over_serial_sweep']:.2f}x in-process, "
        f"{d['ratio_loop_over_sweep']:.2f}x {d['executor']} |",
        f"| plain loop with Equilibria (find_equilibria; timed on {d['equilibria_sample']} "
        f"points, scaled to {n}) | {d['equilibria_loop_scaled_s']:.0f} s = "
        f"{d['ratio_equilibria_over_sweep']:.0f}x the diagram's time |",
        f"| points whose stability disagrees with b < 1 + a^2 | {d['hopf_line_mismatches']} |",
        "",
    ]
    if meta["load_average"][0] >= (meta["cpu_count"] or 1):
        lines += [
            f"The load average ({meta['load_average'][0]:.1f}) was at or above the "
            f"{meta['cpu_count']} CPUs: with no idle core a second worker process cannot "
            "add throughput, so the pool rows measure contention and process start-up, not "
            "the executor's scaling; small or negative overheads are within the noise.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the .md from the saved .json"
    )
    args = parser.parse_args(argv)
    out = ROOT / "bench" / "results"
    stem = "sweep-quick" if args.quick else "sweep"
    if args.markdown_only:
        saved = json.loads((out / f"{stem}.json").read_text())
        text = _markdown(saved["meta"], saved["overhead"], saved["speedup"], saved["diagram"])
        (out / f"{stem}.md").write_text(text)
        print(text)
        return 0
    if args.quick:  # one pool start (the speed-up row); the rest in-process
        o = overhead(900, pool=False)
        s = speedup(20)
        d = diagram(30, loop_sample=300, equilibria_sample=3, pool=False)
    else:
        o = overhead(20_000, pool=True)
        s = speedup(3_000)
        d = diagram(200, loop_sample=4_000, equilibria_sample=40, pool=True)
    meta = {
        "quick": bool(args.quick),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }
    out.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta, "overhead": o, "speedup": s, "diagram": d}
    (out / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    text = _markdown(meta, o, s, d)
    (out / f"{stem}.md").write_text(text)
    print(text)
    return 0 if d["hopf_line_mismatches"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
