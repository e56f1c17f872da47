"""The representation benchmark: Shesha and CKA, stabkit against shesha-geometry and torch-cka.

Run ``python bench/represent.py`` (2,000 x 256 and 50,000 x 768) or ``--quick``
(300 x 64 and 2,000 x 128; seconds, for the smoke test). Writes
``bench/results/represent.{json,md}`` (quick: ``represent-quick.*``).

Data: ``X = Z W + noise`` (32 latent factors, unit noise) and ``Y = X A + noise`` (a
random linear read-out of the same width), float64, seed 0.

Quick mode measures in-process (seconds; its memory figures are only indicative).
In the full run each measurement runs in its own worker process (``--worker``), after imports, data
generation and a warm-up call on a small slice (numba compiles cached, then excluded),
so that its memory is its own: ``peak_rss_mb`` is the rise of the process's peak
resident set (``resource.getrusage``) over the resident set before the call (this
catches numba and BLAS buffers that tracemalloc does not see); ``tracemalloc_mb`` is the
peak of Python/numpy allocations. Time is wall-clock of one call (best of
``--repeats``); CPU time is recorded too, a load-independent measure on a busy machine.

Rows compare like with like: the same seed gives both packages the same row subsample
and feature partitions, so the feature-split values must agree to 1e-10. torch-cka's
``CKA.compare`` averages the unbiased HSIC over minibatches (Nguyen et al. 2021); with
one batch of all rows it is the debiased CKA, and it is run that way at 2,000 rows; at
50,000 rows an n x n kernel (10 GB in float32) is not usable, so it runs on batches of
2,000 (its intended use: a different, minibatch estimator, so only its time is compared).
shesha-geometry's ``cka_debiased`` and ``rdm_similarity`` build n x n matrices: at
50,000 rows they are reported as infeasible (memory estimate) rather than run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Goal of issue 8: stabkit's feature-split stability this many times faster.
GOAL_SPEEDUP = 10.0


def make_data(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 32)) @ rng.standard_normal((32, d)) + rng.standard_normal((n, d))
    y = x @ (rng.standard_normal((d, d)) / np.sqrt(d)) + rng.standard_normal((n, d))
    return x, y


def _torch_cka(x: np.ndarray, y: np.ndarray, batch: int) -> float:
    import warnings

    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from torch_cka import CKA

    net1 = torch.nn.Sequential(torch.nn.Identity())
    net2 = torch.nn.Sequential(torch.nn.Identity())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = CKA(net1, net2, "a", "b", model1_layers=["0"], model2_layers=["0"])
        ds1 = TensorDataset(torch.from_numpy(x).float())
        ds2 = TensorDataset(torch.from_numpy(y).float())
        with open(os.devnull, "w") as null:
            err, sys.stderr = sys.stderr, null
            try:
                c.compare(DataLoader(ds1, batch_size=batch), DataLoader(ds2, batch_size=batch))
            finally:
                sys.stderr = err
    return float(c.hsic_matrix[0, 0])


def _call(name: str, x: np.ndarray, y: np.ndarray) -> float:
    if name == "stabkit feature_split":
        from stabkit.represent import feature_split_stability

        return feature_split_stability(x, seed=0).estimate
    if name == "stabkit feature_split, all cores":
        from stabkit.represent import feature_split_stability

        return feature_split_stability(x, seed=0, n_jobs=-1).estimate
    if name == "shesha feature_split":
        import shesha

        return float(shesha.feature_split(x, seed=0))
    if name == "stabkit rdm_similarity":
        from stabkit.represent import rdm_similarity

        return rdm_similarity(x, y).estimate
    if name == "shesha rdm_similarity":
        import shesha

        return float(shesha.rdm_similarity(x, y))
    if name == "stabkit cka linear":
        from stabkit.represent import cka

        return cka(x, y).estimate
    if name == "shesha cka_linear":
        from shesha.sim import cka_linear

        return float(cka_linear(x, y))
    if name == "stabkit cka debiased":
        from stabkit.represent import cka

        return cka(x, y, "debiased").estimate
    if name == "shesha cka_debiased":
        from shesha.sim import cka_debiased

        return float(cka_debiased(x, y))
    if name == "torch-cka (one batch)":
        return _torch_cka(x, y, x.shape[0])
    if name == "torch-cka (batches of 2,000)":
        return _torch_cka(x, y, 2000)
    if name == "stabkit procrustes":
        from stabkit.represent import procrustes_similarity

        return procrustes_similarity(x, y).estimate
    if name == "shesha procrustes":
        from shesha.sim import procrustes_similarity as sp

        return float(sp(x, y))
    raise KeyError(name)


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(name: str, n: int, d: int, repeats: int) -> dict[str, Any]:
    import tracemalloc

    x, y = make_data(n, d)
    _call(name, x[:64, : min(d, 64)], y[:64, : min(d, 64)])  # warm-up, compiles
    best = float("inf")
    cpu = float("inf")
    value = float("nan")
    rss0 = _rss_mb()
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tm_peak = 0.0
    for rep in range(repeats):
        if rep == 0:
            tracemalloc.start()
        t0, c0 = time.perf_counter(), time.process_time()
        value = _call(name, x, y)
        t1, c1 = time.perf_counter(), time.process_time()
        if rep == 0:
            tm_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        best = min(best, t1 - t0)
        cpu = min(cpu, c1 - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "value": value,
        "seconds": best,
        "cpu_seconds": cpu,
        "peak_rss_mb": max(peak - max(rss0, peak0), 0.0) if peak > peak0 else 0.0,
        "rss_rise_mb": max(peak - rss0, 0.0),
        "tracemalloc_mb": tm_peak,
    }


def run_worker(name: str, n: int, d: int, repeats: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name, str(n), str(d), str(repeats)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout after {timeout:.0f} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": f"failed: {last[:200]}"}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["status"] = "ok"
    return res


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


PAIRS = [
    # (statistic, stabkit row (anchor), competitor rows, agreement tolerance or None)
    (
        "feature_split",
        "stabkit feature_split",
        ["stabkit feature_split, all cores", "shesha feature_split"],
        1e-10,
    ),
    ("rdm_similarity", "stabkit rdm_similarity", ["shesha rdm_similarity"], 1e-10),
    ("cka linear", "stabkit cka linear", ["shesha cka_linear"], 1e-10),
    (
        "cka debiased",
        "stabkit cka debiased",
        ["torch-cka (one batch)", "shesha cka_debiased"],
        None,
    ),
    ("procrustes", "stabkit procrustes", ["shesha procrustes"], 1e-10),
]


def plan(n: int, d: int, quick: bool) -> list[tuple[str, str, str, float | None]]:
    rows = []
    big = n > 10000
    for stat, anchor, others, tol in PAIRS:
        rows.append((stat, anchor, "anchor", None))
        for other in others:
            if big and other in ("shesha rdm_similarity", "shesha cka_debiased"):
                gb = n * n * 8 / 2**30 * (0.5 if "rdm" in other else 2)
                rows.append((stat, other, f"infeasible: n x n matrices, about {gb:.0f} GB", None))
                continue
            if other == "torch-cka (one batch)" and big:
                other = "torch-cka (batches of 2,000)"
            rows.append((stat, other, "run", tol if "torch" not in other else 1e-5))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--skip", nargs="*", default=[], help="competitors to skip: shesha, torch-cka")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--worker", nargs=4, metavar=("NAME", "N", "D", "REPEATS"))
    args = ap.parse_args(argv)
    if args.worker:
        name, n, d, reps = args.worker
        print(json.dumps(worker(name, int(n), int(d), int(reps))))
        return 0
    sizes = [(120, 32), (400, 48)] if args.quick else [(2000, 256), (50000, 768)]
    repeats = args.repeats or (1 if args.quick else 2)
    have = {
        "shesha": _available("shesha") and "shesha" not in args.skip,
        "torch-cka": _available("torch_cka") and "torch-cka" not in args.skip,
    }
    rows: list[dict[str, Any]] = []
    for n, d in sizes:
        anchor: dict[str, Any] = {}
        for stat, name, kind, tol in plan(n, d, args.quick):
            needs = (
                "shesha" if name.startswith("shesha") else "torch-cka" if "torch" in name else None
            )
            row: dict[str, Any] = {"n": n, "d": d, "statistic": stat, "method": name}
            if needs and not have[needs]:
                row["status"] = f"skipped: {needs} not installed or --skip"
            elif kind.startswith("infeasible"):
                row["status"] = kind
            elif args.quick:  # in-process: seconds, memory figures only indicative
                row.update(worker(name, n, d, repeats), status="ok")
            else:
                row.update(run_worker(name, n, d, repeats, args.timeout))
            if kind == "anchor":
                anchor = row
            elif row.get("status") == "ok" and anchor.get("status") == "ok":
                row["stabkit_speedup"] = row["seconds"] / anchor["seconds"]
                row["stabkit_cpu_speedup"] = row["cpu_seconds"] / anchor["cpu_seconds"]
                row["memory_ratio"] = (row["rss_rise_mb"] + 1) / (anchor["rss_rise_mb"] + 1)
                row["abs_difference"] = abs(row["value"] - anchor["value"])
                row["agrees"] = None if tol is None else bool(row["abs_difference"] < tol)
            if kind == "anchor":
                row["stabkit_speedup"] = 1.0
            rows.append(row)
    out = {
        "benchmark": "represent",
        "quick": args.quick,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "goal_feature_split_speedup": GOAL_SPEEDUP,
        "rows": rows,
    }
    stem = "represent-quick" if args.quick else "represent"
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / f"{stem}.json").write_text(json.dumps(out, indent=1, default=float))
    (res_dir / f"{stem}.md").write_text(markdown(out))
    return 0


def _fmt(v: Any, spec: str) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def markdown(out: dict[str, Any]) -> str:
    lines = [
        "| n x d | statistic | method | value | time (s) | CPU (s) | stabkit speed-up | "
        "memory rise (MB) | memory ratio | agrees | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in out["rows"]:
        agrees = {True: "yes", False: "NO", None: "n/a"}.get(r.get("agrees"), "")
        lines.append(
            f"| {r['n']:,} x {r['d']} | {r['statistic']} | {r['method']} | "
            f"{_fmt(r.get('value'), '.10f')} | {_fmt(r.get('seconds'), '.3g')} | "
            f"{_fmt(r.get('cpu_seconds'), '.3g')} | {_fmt(r.get('stabkit_speedup'), '.1f')} | "
            f"{_fmt(r.get('rss_rise_mb'), '.0f')} | {_fmt(r.get('memory_ratio'), '.2f')} | "
            f"{agrees} | {r.get('status', '')} |"
        )
    m = out["machine"]
    lines.append("")
    lines.append(
        f"Speed-up = competitor time / stabkit time (same process-isolated protocol, best of "
        f"runs); memory ratio = competitor / stabkit rise of peak RSS (+1 MB). Machine: "
        f"{m['cpus']} CPUs, load average {m['load_average'][0]:.1f} at the end; "
        f"{'quick' if out['quick'] else 'full'} run {out['created']}."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
