"""Basins benchmark: 100,000 states of the driven Duffing oscillator, stabkit against a scipy
loop and pybasin, in one run.

Run ``python bench/basins.py`` (full) or ``--quick`` (smoke run, seconds). Writes
``bench/results/basins.json`` and ``bench/results/basins.md`` (quick: ``basins-quick.*``).

System (pybasin's Duffing case study): x'' + 0.08 x' + x^3 = 0.2 cos(t), states uniform in
[-1, 1] x [-0.5, 1]; five coexisting periodic attractors. Tolerances everywhere are
pybasin's defaults (rtol 1e-8, atol 1e-6; dopri5).

Rows:

* **stabkit, recurrences** (the anchor): ``basins_of_attraction`` with a ``Sampler`` of
  100,000 states and ``RecurrenceMapper(sample_interval=2 pi)`` (stroboscopic samples;
  orbits stop as soon as they are decided).
* **stabkit, features**: ``FeatureClustering`` with pybasin's integration window (t to
  1000, features on t in (900, 1000)) on the states pybasin gets: the same integration work.
* **scipy loop**: ``solve_ivp(method="RK45")`` state by state to t = 1000 (what the feature
  approach integrates), timed on a subsample and scaled linearly to the full count (said so
  in the table), classified by nothing: the time is the integration alone.
* **pybasin** ``BasinStabilityEstimator`` with its torchdiffeq solver on 10,000 states,
  run in its own interpreter (``--pybasin-python``; pybasin needs Python >= 3.12). When
  none is given or it fails, the row says so, and the figure measured by the issue's author
  (25-30 s for 10,000 states of pybasin's own examples) is shown, labelled as external.

The goal (issue 4): stabkit maps 100,000 states faster than pybasin maps 10,000.
Ratios are times divided by the anchor's time in the same run (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DELTA, K3, AMPLITUDE = 0.08, 1.0, 0.2
BOUNDS = {"x": (-1.0, 1.0), "y": (-0.5, 1.0)}
RTOL, ATOL = 1e-8, 1e-6
EXTERNAL_PYBASIN = (
    "25-30 s for 10,000 states (pybasin's own examples; measured by the issue's author, not here)"
)


def duffing_model() -> Any:
    from stabkit.model import library

    return library.duffing(delta=DELTA, alpha=0.0, beta=K3, gamma=AMPLITUDE, omega=1.0)


def run_stabkit_recurrence(num: int, seed: int) -> dict[str, Any]:
    from stabkit import Dopri5
    from stabkit.analysis.basins import RecurrenceMapper, Sampler, basins_of_attraction

    model = duffing_model()
    mapper = RecurrenceMapper(
        sample_interval=2 * math.pi, consecutive_recurrences=10, locate_steps=30,
        samples_per_round=20,
    )  # fmt: skip
    method = Dopri5(rtol=RTOL, atol=ATOL, divergence_threshold=1e6)
    # warm-up on a few states: compiles (or loads from numba's cache) every kernel
    basins_of_attraction(model, Sampler(BOUNDS, 50, seed + 1), mapper=mapper, method=method)
    start, cpu_start = time.perf_counter(), time.process_time()
    res = basins_of_attraction(
        model, Sampler(BOUNDS, num, seed), mapper=mapper, method=method, seed=seed
    )
    seconds = time.perf_counter() - start
    return {
        "n": num,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_start,
        "compile_seconds": res.stats.compile_time,
        "steps_per_state": res.stats.num_steps / num,
        "fractions": {str(k): v for k, v in sorted(res.fractions.items())},
        "standard_errors": {str(k): v for k, v in sorted(res.standard_errors.items())},
        "attractors": [
            {"id": a.id, "kind": a.kind, "period": a.period, "centre": a.centre.tolist()}
            for a in res.attractors
        ],
        "status": res.status,
    }


def run_stabkit_features(num: int, seed: int, t_end: float) -> dict[str, Any]:
    from stabkit import Dopri5
    from stabkit.analysis.basins import FeatureClustering, Sampler, basins_of_attraction

    model = duffing_model()
    method = Dopri5(rtol=RTOL, atol=ATOL, divergence_threshold=1e6)
    mapper = FeatureClustering(num_samples=200)
    basins_of_attraction(
        model, Sampler(BOUNDS, 20, seed + 1), mapper=mapper, method=method,
        t_transient=0.9 * t_end, t_max=t_end,
    )  # fmt: skip
    start, cpu_start = time.perf_counter(), time.process_time()
    res = basins_of_attraction(
        model, Sampler(BOUNDS, num, seed), mapper=mapper, method=method,
        t_transient=0.9 * t_end, t_max=t_end,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return {
        "n": num,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_start,
        "t_end": t_end,
        "fractions": {str(k): v for k, v in sorted(res.fractions.items())},
        "num_attractors": len(res.attractors),
    }


def run_scipy(num_timed: int, num_target: int, seed: int, t_end: float) -> dict[str, Any]:
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(seed)
    y0s = np.column_stack(
        [rng.uniform(*BOUNDS["x"], num_timed), rng.uniform(*BOUNDS["y"], num_timed)]
    )

    def rhs(t: float, s: np.ndarray) -> list[float]:
        return [s[1], -DELTA * s[1] - K3 * s[0] ** 3 + AMPLITUDE * math.cos(t)]

    start, cpu_start = time.perf_counter(), time.process_time()
    for y0 in y0s:
        solve_ivp(rhs, (0.0, t_end), y0, method="RK45", rtol=RTOL, atol=ATOL)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {
        "n_timed": num_timed,
        "seconds_timed": seconds,
        "n": num_target,
        "seconds": seconds * num_target / num_timed,
        "cpu_seconds": cpu * num_target / num_timed,
        "scaled": True,
        "t_end": t_end,
    }


def run_pybasin(
    python: str | None, num: int, seed: int, t_end: float, timeout: float
) -> dict[str, Any]:
    if not python:
        return {
            "available": False,
            "reason": "no --pybasin-python given",
            "external": EXTERNAL_PYBASIN,
        }
    cmd = [python, str(HERE / "_basins_pybasin.py"), str(num), str(t_end), str(seed)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {
            "available": False,
            "reason": f"{type(exc).__name__}: {exc}",
            "external": EXTERNAL_PYBASIN,
        }
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"available": False, "reason": " | ".join(tail), "external": EXTERNAL_PYBASIN}
    out = json.loads(lines[-1])
    out["available"] = True
    return out


def _fractions_text(fr: dict[str, float]) -> str:
    return ", ".join(f"{v:.3f}" for v in sorted(fr.values(), reverse=True))


def render(results: dict[str, Any]) -> str:
    anchor = results["stabkit_recurrence"]["seconds"]
    cpu_anchor = results["stabkit_recurrence"]["cpu_seconds"]

    def cpu(row: dict[str, Any]) -> str:
        c = row.get("cpu_seconds")
        return "-" if c is None else f"{c:.1f} | {c / cpu_anchor:.2f}"

    lines = [
        "## Basins of attraction: driven Duffing oscillator",
        "",
        "x'' + 0.08 x' + x^3 = 0.2 cos t, states uniform in [-1, 1] x [-0.5, 1] (pybasin's case "
        "study), tolerances rtol 1e-8, atol 1e-6 (pybasin's). Ratio: time / anchor time, same run; "
        "CPU seconds (all threads of the process) are given beside wall seconds because the "
        "machine is shared and wall times move with its load.",
        "",
        "| tool | states | wall (s) | wall ratio | CPU (s) | CPU ratio | basin fractions "
        "(largest first) | notes |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    rec = results["stabkit_recurrence"]
    lines.append(
        f"| stabkit recurrences (anchor) | {rec['n']:,} | {rec['seconds']:.2f} | 1.00 | "
        f"{cpu(rec)} | {_fractions_text(rec['fractions'])} | {len(rec['attractors'])} attractors, "
        f"{rec['steps_per_state']:.0f} steps per state; compile "
        f"{rec['compile_seconds']:.1f} s apart |"
    )
    feat = results.get("stabkit_features")
    if feat:
        lines.append(
            f"| stabkit features (t to {feat['t_end']:g}) | {feat['n']:,} | "
            f"{feat['seconds']:.2f} | "
            f"{feat['seconds'] / anchor:.2f} | {cpu(feat)} | "
            f"{_fractions_text(feat['fractions'])} | same "
            "integration work as pybasin |"
        )
    sp = results.get("scipy")
    if sp:
        lines.append(
            f"| scipy solve_ivp loop (t to {sp['t_end']:g}) | {sp['n']:,} | {sp['seconds']:.1f} | "
            f"{sp['seconds'] / anchor:.1f} | {cpu(sp)} | - | timed on {sp['n_timed']} states "
            "and scaled "
            f"linearly ({sp['seconds_timed']:.2f} s measured); integration only |"
        )
    pb = results.get("pybasin", {})
    if pb.get("available"):
        lines.append(
            f"| pybasin {pb.get('version', '')} (torchdiffeq) | {pb['n']:,} | "
            f"{pb['seconds']:.2f} | "
            f"{pb['seconds'] / anchor:.2f} | {cpu(pb)} | "
            f"{_fractions_text(pb['fractions'])} | Python "
            f"{pb.get('python')}, {pb.get('torch_threads')} torch threads |"
        )
    else:
        lines.append(
            f"| pybasin | - | - | - | - | - | - | not run here "
            f"({pb.get('reason', 'skipped')}); external "
            f"figure: {pb.get('external', EXTERNAL_PYBASIN)} |"
        )
    goal = results.get("goal", {})
    lines += [
        "",
        f"Goal (100,000 states faster than pybasin's 10,000): {goal.get('verdict', '-')}",
        "",
    ]
    lines.append(f"Machine: {results['machine']}; run {results['created']}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--pybasin-python", default=os.environ.get("PYBASIN_PYTHON"),
                        help="a Python >= 3.12 with pybasin installed")  # fmt: skip
    parser.add_argument("--no-pybasin", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    quick = args.quick
    n_stabkit = 500 if quick else 100_000
    n_pybasin = 100 if quick else 10_000
    t_end = 200.0 if quick else 1000.0
    results: dict[str, Any] = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "quick": quick,
    }
    results["stabkit_recurrence"] = run_stabkit_recurrence(n_stabkit, args.seed)
    results["stabkit_features"] = run_stabkit_features(50 if quick else n_pybasin, args.seed, t_end)
    results["scipy"] = run_scipy(1 if quick else 40, n_stabkit, args.seed, t_end)
    if args.no_pybasin:
        results["pybasin"] = {
            "available": False,
            "reason": "--no-pybasin",
            "external": EXTERNAL_PYBASIN,
        }
    else:
        results["pybasin"] = run_pybasin(
            args.pybasin_python, n_pybasin, args.seed, t_end, timeout=300 if quick else 2700
        )
    anchor = results["stabkit_recurrence"]["seconds"]
    pb = results["pybasin"]
    if pb.get("available"):
        ratio = pb["seconds"] / anchor
        cpu_anchor = results["stabkit_recurrence"]["cpu_seconds"]
        results["goal"] = {
            "pybasin_over_stabkit": ratio,
            "pybasin_over_stabkit_cpu": pb.get("cpu_seconds", math.nan) / cpu_anchor,
            "verdict": (
                f"{'met' if ratio > 1 else 'not met'}: stabkit {anchor:.1f} s for "
                f"{results['stabkit_recurrence']['n']:,} states, pybasin {pb['seconds']:.1f} s for "
                f"{pb['n']:,} ({ratio:.1f}x wall, "
                f"{pb.get('cpu_seconds', math.nan) / cpu_anchor:.1f}x CPU)"
            ),
        }
    else:
        results["goal"] = {
            "verdict": f"pybasin not run here; stabkit {anchor:.1f} s for "
            f"{results['stabkit_recurrence']['n']:,} states against the external figure "
            f"{EXTERNAL_PYBASIN}"
        }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "basins-quick" if quick else "basins"
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1, default=float))
    (out / f"{stem}.md").write_text(render(results))
    return results


if __name__ == "__main__":
    res = main()
    sys.stdout.write(render(res))
