"""The SSA benchmark: reactions fired per second, stabkit against GillesPy2.

Run ``python bench/ssa.py`` (1,000 trajectories per network) or ``--quick`` (100;
seconds, for the smoke test). Writes ``bench/results/ssa.json`` and ``bench/results/ssa.md``
(quick runs write ``ssa-quick.*``).

Two networks, each simulated on 101 output times over ``t`` in [0, 100]:

* birth-death: ``0 -> X @ 10``, ``X -> 0 @ 1`` from ``X = 0`` (about 2,000 reactions per
  trajectory);
* dimerisation: ``2 X <-> D`` from 30 monomers, GillesPy2's example rates (its binding
  propensity ``kc X (X - 1)`` with ``kc = 0.005`` is stabkit's ``kon X (X - 1) / 2`` with
  ``kon = 0.01``; unbinding ``kd = 0.08``).

Rows: stabkit's direct method on 1 and 2 threads and its next-reaction method (kernels
compiled and warmed first: compile time reported apart), GillesPy2's ``SSACSolver``
(C++; the build, done once per model, timed apart and excluded) and ``NumPySSASolver``
(pure Python; fewer trajectories, the rate per reaction is what counts). GillesPy2 does
not report how many reactions fired, so its rate is stabkit's mean number of reactions
per trajectory (the same process) times the trajectories it ran, over its run time. The
table checks every row's mean count at t = 100 against the exact mean (Poisson for
birth-death, the master equation's matrix exponential for dimerisation), in standard
errors.
Each timing is the best of ``--repeats`` runs, all in one process, one after the other,
so every ratio compares like with like on the same (possibly busy) machine; the CPU time
(this process and its children) is recorded too, a load-independent measure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
T_END = 100.0
NUM_TIMES = 101
#: Goals of issue 6 (the ratio of stabkit's direct method, one thread, to each row).
GOAL_CPP = 4.0


def networks() -> dict[str, Any]:
    from stabkit.model.reactions import ReactionNetwork

    return {
        "birth_death": ReactionNetwork.from_strings(
            "birth_death",
            species={"X": 0},
            reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
            parameters={"k1": 10.0, "k2": 1.0},
        ),
        "dimerisation": ReactionNetwork.from_strings(
            "dimerisation",
            species={"X": 30, "D": 0},
            reactions={"bind": "2 X -> D @ kon", "unbind": "D -> 2 X @ koff"},
            parameters={"kon": 0.01, "koff": 0.08},
        ),
    }


def gillespy2_model(name: str) -> Any:
    """The same networks in GillesPy2 (its mass-action conventions, see the docstring)."""
    import gillespy2

    model = gillespy2.Model(name=name)
    if name == "birth_death":
        k1 = gillespy2.Parameter(name="k1", expression=10.0)
        k2 = gillespy2.Parameter(name="k2", expression=1.0)
        model.add_parameter([k1, k2])
        x = gillespy2.Species(name="X", initial_value=0, mode="discrete")
        model.add_species([x])
        model.add_reaction([
            gillespy2.Reaction(name="birth", reactants={}, products={x: 1}, rate=k1),
            gillespy2.Reaction(name="death", reactants={x: 1}, products={}, rate=k2),
        ])  # fmt: skip
    else:
        kc = gillespy2.Parameter(name="kc", expression=0.005)
        kd = gillespy2.Parameter(name="kd", expression=0.08)
        model.add_parameter([kc, kd])
        x = gillespy2.Species(name="X", initial_value=30, mode="discrete")
        d = gillespy2.Species(name="D", initial_value=0, mode="discrete")
        model.add_species([x, d])
        model.add_reaction([
            gillespy2.Reaction(name="bind", reactants={x: 2}, products={d: 1}, rate=kc),
            gillespy2.Reaction(name="unbind", reactants={d: 1}, products={x: 2}, rate=kd),
        ])  # fmt: skip
    model.timespan(np.linspace(0.0, T_END, NUM_TIMES))
    return model


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (GillesPy2's C++ solver)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _final_mean(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the first species at the end time."""
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


def bench_stabkit(name: str, network: Any, runs: int, repeats: int) -> list[dict[str, Any]]:
    from stabkit.integrate.ssa import Direct, NextReaction, ssa

    t_eval = np.linspace(0.0, T_END, NUM_TIMES)
    rows = []
    warm = ssa(network, (0.0, T_END), num_runs=2, seed=0, t_eval=t_eval, method=Direct())
    compile_seconds = warm.stats.compile_time
    warm_next = ssa(network, (0.0, T_END), num_runs=2, seed=0, t_eval=t_eval,
                    method=NextReaction())  # fmt: skip
    for label, method, threads in (
        ("stabkit Direct, 1 thread", Direct(), 1),
        ("stabkit Direct, 2 threads", Direct(), 2),
        ("stabkit NextReaction, 1 thread", NextReaction(), 1),
    ):
        best: Any = None
        cpu = wall = math.inf
        for _ in range(repeats):  # one seed: the repeats differ only in their timing
            before, tic = cpu_seconds(), time.perf_counter()
            result = ssa(network, (0.0, T_END), num_runs=runs, seed=1, t_eval=t_eval,
                         method=method, num_threads=threads)  # fmt: skip
            # the whole call, as for GillesPy2's model.run (kernels compiled beforehand)
            elapsed = time.perf_counter() - tic
            cpu = min(cpu, cpu_seconds() - before)
            if elapsed < wall:
                best, wall = result, elapsed
        mean, error = _final_mean(best.counts[:, -1, 0])
        rows.append({
            "network": name,
            "method": label,
            "trajectories": runs,
            "seconds": wall,
            "kernel_seconds": best.stats.wall_time,
            "cpu_seconds": cpu,
            "reactions": best.total_reactions,
            "reactions_per_second": best.total_reactions / wall,
            "reactions_per_cpu_second": best.total_reactions / cpu,
            "build_seconds": compile_seconds if "Direct" in label else warm_next.stats.compile_time,
            "final_mean": mean,
            "final_standard_error": error,
            "status": best.status,
        })  # fmt: skip
    return rows


def bench_gillespy2(
    name: str, runs: int, numpy_runs: int, repeats: int, per_trajectory: float, skip: set[str]
) -> list[dict[str, Any]]:
    try:
        import gillespy2
    except ImportError:
        return [{"network": name, "method": m, "skipped": "gillespy2 not installed"}
                for m in ("GillesPy2 SSACSolver (C++)", "GillesPy2 NumPySSASolver")]  # fmt: skip
    # GillesPy2 finds SCons on PATH; the one installed beside this interpreter
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    rows = []
    model = gillespy2_model(name)
    for label, make, count in (
        ("GillesPy2 SSACSolver (C++)", lambda: gillespy2.SSACSolver(model=model), runs),
        ("GillesPy2 NumPySSASolver", lambda: gillespy2.NumPySSASolver(model=model), numpy_runs),
    ):
        key = "cpp" if "C++" in label else "numpy"
        if key in skip:
            rows.append({"network": name, "method": label, "skipped": "--skip"})
            continue
        try:
            tic = time.perf_counter()
            solver = make()
            build = time.perf_counter() - tic
            best, cpu, final = math.inf, math.inf, None
            for repeat in range(repeats):
                before = cpu_seconds()
                tic = time.perf_counter()
                result = model.run(solver=solver, number_of_trajectories=count, seed=11 + repeat)
                seconds = time.perf_counter() - tic
                cpu = min(cpu, cpu_seconds() - before)
                if seconds < best:
                    best = seconds
                    species = "X"
                    final = np.array([traj[species][-1] for traj in result], dtype=float)
        except Exception as exc:  # a failed build is a row, not a crash
            rows.append({"network": name, "method": label,
                         "skipped": f"{type(exc).__name__}: {str(exc)[:200]}"})  # fmt: skip
            continue
        assert final is not None
        mean, error = _final_mean(final)
        reactions = per_trajectory * count
        rows.append({
            "network": name,
            "method": label,
            "trajectories": count,
            "seconds": best,
            "cpu_seconds": cpu,
            "reactions": reactions,
            "reactions_per_second": reactions / best,
            "reactions_per_cpu_second": reactions / cpu,
            "build_seconds": build,
            "final_mean": mean,
            "final_standard_error": error,
            "status": "ok",
        })  # fmt: skip
    return rows


def exact_mean(name: str) -> float:
    """The exact mean of X at t = 100: Poisson for birth-death, the master equation else."""
    if name == "birth_death":
        return 10.0 * (1.0 - math.exp(-T_END))
    import scipy.linalg

    size = 16  # D = 0..15, X = 30 - 2 D
    generator = np.zeros((size, size))
    for d in range(size):
        x = 30 - 2 * d
        bind, unbind = 0.01 * x * (x - 1) / 2, 0.08 * d
        if d + 1 < size:
            generator[d + 1, d] += bind
            generator[d, d] -= bind
        if d > 0:
            generator[d - 1, d] += unbind
            generator[d, d] -= unbind
    start = np.zeros(size)
    start[0] = 1.0
    law = scipy.linalg.expm(generator * T_END) @ start
    return float(law @ (30 - 2 * np.arange(size)))


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """``stabkit_speedup``: stabkit Direct (1 thread) reactions/s over the row's."""
    for network in {r["network"] for r in rows}:
        group = [r for r in rows if r["network"] == network]
        anchor = next(r for r in group if r["method"] == "stabkit Direct, 1 thread")
        exact = exact_mean(network)
        for r in group:
            if r.get("reactions_per_second"):
                r["stabkit_speedup"] = anchor["reactions_per_second"] / r["reactions_per_second"]
                r["stabkit_cpu_speedup"] = (
                    anchor["reactions_per_cpu_second"] / r["reactions_per_cpu_second"]
                )
                r["cores_used"] = r["cpu_seconds"] / r["seconds"]
                r["exact_mean"] = exact
                r["agreement_z"] = (r["final_mean"] - exact) / r["final_standard_error"]


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for network in sorted({r["network"] for r in rows}):
        group = {r["method"]: r for r in rows if r["network"] == network}
        cpp = group.get("GillesPy2 SSACSolver (C++)", {})
        if cpp.get("stabkit_speedup"):
            out.append({"goal": f"{network}: stabkit Direct >= {GOAL_CPP:g}x GillesPy2 C++ "
                                "reactions/s (build excluded)",
                        "value": cpp["stabkit_speedup"],
                        "met": cpp["stabkit_speedup"] >= GOAL_CPP})  # fmt: skip
            out.append({"goal": f"{network}: the same per CPU second (load-independent)",
                        "value": cpp["stabkit_cpu_speedup"],
                        "met": cpp["stabkit_cpu_speedup"] >= GOAL_CPP})  # fmt: skip
        one, two = group["stabkit Direct, 1 thread"], group["stabkit Direct, 2 threads"]
        speedup = two["reactions_per_second"] / one["reactions_per_second"]
        out.append({"goal": f"{network}: parallel speed-up of 2 threads over 1 (> 1; "
                            f"cores obtained {one['cores_used']:.2f} and {two['cores_used']:.2f})",
                    "value": speedup, "met": speedup > 1.0})  # fmt: skip
    return out


def markdown(rows: list[dict[str, Any]], met: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "| network | method | trajectories | run time (s) | reactions/s | stabkit Direct × | "
        "reactions/CPU-s | stabkit Direct × (CPU) | build / compile (s) | "
        "mean X at t=100 (z vs exact) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['network']} | {r['method']} | - | - | - | - | - | - | - | "
                         f"skipped: {r['skipped']} |")  # fmt: skip
            continue
        lines.append(
            f"| {r['network']} | {r['method']} | {r['trajectories']} | {r['seconds']:.3g} | "
            f"{r['reactions_per_second']:.3g} | {r.get('stabkit_speedup', math.nan):.3g} | "
            f"{r['reactions_per_cpu_second']:.3g} | "
            f"{r.get('stabkit_cpu_speedup', math.nan):.3g} | {r['build_seconds']:.3g} | "
            f"{r['final_mean']:.4g} ± {r['final_standard_error']:.2g} "
            f"({r.get('agreement_z', 0.0):+.1f}) |"
        )
    lines.append("")
    exact = {r["network"]: r["exact_mean"] for r in rows if "exact_mean" in r}
    lines.append("Exact mean X(100): " + ", ".join(f"{k} {v:.5g}" for k, v in exact.items()))
    lines.append("")
    for g in met:
        lines.append(f"- {g['goal']}: {g['value']:.3g} ({'met' if g['met'] else 'NOT met'})")
    lines += [
        "",
        f"Machine: {meta['cpu']} ({meta['nproc']} cores, load average at the start "
        f"{meta['loadavg_start'][0]:.2f}, at the end {meta['loadavg_end'][0]:.2f}); each time "
        f"is the best of {meta['repeats']}. Reactions per CPU-second divide by the CPU time "
        "of the process and its children (GillesPy2 runs its solver as a child process): on "
        "a busy machine it is the fairer comparison, and the 2-thread row's speed-up is "
        "bounded by the cores the machine actually gave (cpu / wall). "
        "Build / compile: GillesPy2 compiles its C++ solver once per model (excluded from "
        "its run time); stabkit compiles its kernels once per network and caches them on "
        "disk (excluded likewise; 0 when the cache was warm).",
    ]
    if meta["quick"]:
        lines.append("(quick mode: fewer trajectories; not the recorded numbers)")
    return "\n".join(lines) + "\n"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str | None:
    try:
        module = __import__(name)
    except ImportError:
        return None
    return str(getattr(module, "__version__", "?"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--skip", default="", help="comma list: cpp,numpy,gillespy2")
    parser.add_argument("--repeats", type=int, default=None, help="timings per row (best kept)")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    runs = 100 if args.quick else 1000
    numpy_runs = 5 if args.quick else 50
    repeats = args.repeats or (1 if args.quick else 3)
    rows: list[dict[str, Any]] = []
    load_start = list(os.getloadavg())
    for name, network in networks().items():
        ours = bench_stabkit(name, network, runs, repeats)
        rows += ours
        per_trajectory = ours[0]["reactions"] / ours[0]["trajectories"]
        if "gillespy2" in skip:
            continue
        rows += bench_gillespy2(name, runs, numpy_runs, repeats, per_trajectory, skip)
    add_ratios(rows)
    met = goals(rows)
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "cpu": _cpu(),
        "nproc": os.cpu_count(),
        "loadavg_start": load_start,
        "loadavg_end": list(os.getloadavg()),
        "repeats": repeats,
        "quick": args.quick,
        "versions": {n: _version(n) for n in ("numba", "numpy", "gillespy2")},
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = "ssa-quick" if args.quick else "ssa"
    payload = {"meta": meta, "rows": rows, "goals": met}
    (out / f"{stem}.json").write_text(json.dumps(payload, indent=1, default=float))
    text = markdown(rows, met, meta)
    (out / f"{stem}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
