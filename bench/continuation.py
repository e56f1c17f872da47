"""Continuation benchmark: stabkit's continue_branch against xpplab (AUTO) and jaxcont.

Run ``python bench/continuation.py`` (full) or ``--quick`` (stabkit and xpplab only, a few
repeats, no cold-process runs; seconds). Writes ``bench/results/continuation.{json,md}``
(``continuation-quick.*`` in quick mode, or under ``--output-dir``).

Problems (bench/_continuation_runners.py): the Brusselator equilibrium branch in b (a = 1,
b from 0.5 to 4, Hopf at b = 1 + a^2) and the Lorenz C+ branch in rho (2 to 30, Hopf at
rho = sigma (sigma + beta + 3) / (sigma - beta - 1) = 24.7368...). Every tool gets the same
start, range, largest step and (where it has one) Newton tolerance 1e-10.

Reported: per-branch time warm (kernels compiled; repeated and interleaved, min and median)
and cold (a fresh process; stabkit also with an empty kernel cache, i.e. the numba compile),
as ratios against xpplab measured in the same run; the error of every point against the
exact branch, the Hopf location against the exact value and against stabkit, the error of
a cubic spline through the points at a few parameter values (a resolution measure), and
the first Lyapunov coefficient each tool reports.

The two-parameter row (the Brusselator Hopf curve in (a, b)) comes from the codim-2
module: a module ``bench/_continuation_codim2.py`` defining ``rows(quick: bool) ->
list[dict]`` (each with ``problem``, ``tool``, ``seconds``, ``max_error`` and ``notes``) is
picked up when present and its rows go into the same files.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

_BENCH = Path(__file__).resolve().parent
if str(_BENCH) not in sys.path:
    sys.path.insert(0, str(_BENCH))

import _continuation_runners as runners  # noqa: E402

GOAL_RATIO = 2.0  # stabkit warm time per branch within 2x of xpplab's


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "(not installed)"


def environment() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg": list(os.getloadavg()),
        "versions": {
            m: _version(m) for m in ("stabkit", "numpy", "numba", "xpplab", "jaxcont", "jax")
        },
    }


def _warm(problem: runners.Problem, repeats: int) -> dict[str, Any]:
    """stabkit and xpplab branches interleaved; each tool's last row and its times."""
    out: dict[str, Any] = {}
    stabkit_row = runners.stabkit_branch(problem)  # compile / load kernels
    out["stabkit"] = {**stabkit_row, "times": [], "trace_only_times": []}
    try:
        xpp = runners.XppRunner(problem)
        xpp_row = xpp()
        out["xpplab"] = {**xpp_row, "times": []}
    except Exception as exc:
        xpp = None
        out["xpplab"] = runners._unavailable(exc)
    for _ in range(repeats):
        row = runners.stabkit_branch(problem)
        out["stabkit"]["times"].append(row["seconds"])
        out["stabkit"]["trace_only_times"].append(
            runners.stabkit_branch(problem, detect=False)["seconds"]
        )
        if xpp is not None:
            out["xpplab"]["times"].append(xpp()["seconds"])
    return out


def run(quick: bool, repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {"quick": quick, "repeats": repeats, "problems": {}}
    for key, problem in runners.PROBLEMS.items():
        rows = _warm(problem, repeats)
        if not quick:
            rows["stabkit"]["cold"] = runners.stabkit_cold(problem, empty_cache=False)
            rows["stabkit"]["cold_empty_cache"] = runners.stabkit_cold(problem, empty_cache=True)
            if rows["xpplab"].get("available"):
                rows["xpplab"]["cold"] = runners.xpplab_cold(problem)
            rows["jaxcont"] = runners.jaxcont_rows(problem, x64=True)
            rows["jaxcont (float32 default)"] = runners.jaxcont_rows(problem, x64=False, calls=1)
        for row in rows.values():
            row["accuracy"] = runners.accuracy(problem, row, rows["stabkit"])
            times = row.get("times") or []
            if times:
                row["min_seconds"] = min(times)
                row["median_seconds"] = statistics.median(times)
            for bulky in ("p", "states"):
                row.pop(bulky, None)
        xpp_row = rows.get("xpplab", {})
        st = rows["stabkit"]
        if xpp_row.get("median_seconds"):
            results.setdefault("ratios", {})[key] = {
                "median": st["median_seconds"] / xpp_row["median_seconds"],
                "min": st["min_seconds"] / xpp_row["min_seconds"],
            }
        results["problems"][key] = {
            "title": problem.title,
            "exact_hopf": problem.hopf,
            "rows": rows,
        }
    try:
        codim2 = importlib.import_module("_continuation_codim2")
        results["codim2"] = codim2.rows(quick)
    except ModuleNotFoundError:
        results["codim2"] = []
    results["environment"] = environment()
    ratios = results.get("ratios", {})
    results["goal"] = {
        "ratio_limit": GOAL_RATIO,
        "met": bool(ratios) and all(r["median"] <= GOAL_RATIO for r in ratios.values()),
    }
    return results


def _fmt(x: Any, spec: str = ".3g") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return format(x, spec)
    return str(x)


def _ended(row: dict[str, Any]) -> str:
    """How the tool says the branch ended (stabkit's status; others say nothing)."""
    if row.get("status"):
        return f" ({row['status']}: {row.get('message', '')})"
    return " (no reason given)"


def _ms(x: Any) -> str:
    return "-" if x is None else f"{1e3 * x:.3g} ms"


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        "## Continuation of equilibria (bench/continuation.py)",
        "",
        f"{env['date']}, {env['nproc']} CPUs (shared; load {env['loadavg'][0]:.1f}), "
        f"Python {env['python']}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        + f". Warm times: {results['repeats']} interleaved repeats per tool.",
        "",
        "| branch | tool | warm / branch (median, min) | ratio to xpplab | cold "
        "| ended at | points vs exact | Hopf vs exact | Hopf vs stabkit | spline error | l1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, prob in results["problems"].items():
        ratio = results.get("ratios", {}).get(key, {})
        for tool, row in prob["rows"].items():
            if not row.get("available", False):
                lines.append(
                    f"| {prob['title']} | {tool} | unavailable: {row.get('reason')} |||||||| "
                )
                continue
            acc = row.get("accuracy", {})
            warm = f"{_ms(row.get('median_seconds'))}, {_ms(row.get('min_seconds'))}"
            if tool == "stabkit" and row.get("trace_only_times"):
                warm += f" (trace only {_ms(statistics.median(row['trace_only_times']))})"
            cold = row.get("cold") or {}
            cold_txt = _ms(cold.get("process_seconds")) if cold else _ms(row.get("cold_seconds"))
            if tool == "stabkit" and row.get("cold_empty_cache", {}).get("available"):
                ce = row["cold_empty_cache"]
                cold_txt += (
                    f"; empty cache {ce['process_seconds']:.3g} s "
                    f"(compile {ce['compile_seconds']:.3g} s)"
                )
            rtxt = ""
            if tool == "stabkit" and ratio:
                rtxt = f"{ratio['median']:.2f}x (min {ratio['min']:.2f}x)"
            lines.append(
                f"| {prob['title']} | {tool} | {warm} | {rtxt} | {cold_txt} "
                f"| {_fmt(acc.get('reached'), '.6g')}{_ended(row)} "
                f"| {_fmt(acc.get('max_point_error'))} | {_fmt(acc.get('hopf_error'))} "
                f"| {_fmt(acc.get('hopf_vs_stabkit'))} | {_fmt(acc.get('interpolation_error'))} "
                f"| {_fmt(row.get('l1'), '.6g') if row.get('l1') is not None else 'not reported'} |"
            )
    goal = results["goal"]
    lines += [
        "",
        f"Goal: stabkit within {goal['ratio_limit']:g}x of xpplab per branch once compiled: "
        f"**{'met' if goal['met'] else 'not met'}**. Times include special-point location and "
        "normal-form coefficients (stabkit: l1 by exact symbolic derivatives; 'trace only': "
        "detect=()). 'points vs exact': largest deviation of any computed point from the "
        "analytic branch; 'spline error': cubic spline through the points at a few parameter "
        "values (a measure of step size, not of correctness). 'ended at': the last parameter "
        "value of the branch (all tools were asked for the same range; AUTO and jaxcont step past "
        "the end, stabkit stops on it) and the reason the tool gives for stopping. The l1 "
        "normalisation is MatCont's (<q, q> = 1, <p, q> = 1); the Brusselator closed form is "
        "l1 = -(a^2 + 2) / (2a (2a^2 + 1)) = -0.5 at a = 1. 'jaxcont (float32 default)' runs "
        "jaxcont's own default settings without enabling float64.",
    ]
    for row in results.get("codim2", []):
        lines.append(f"- codim-2 {row.get('problem')} ({row.get('tool')}): {row.get('notes', '')}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stabkit and xpplab, few repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--output-dir", type=Path, default=_BENCH / "results")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 30)
    results = run(args.quick, repeats)
    stem = "continuation-quick" if args.quick else "continuation"
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / f"{stem}.json").write_text(json.dumps(results, indent=1, default=str))
    (args.output_dir / f"{stem}.md").write_text(markdown(results))
    return results


if __name__ == "__main__":
    out = main()
    print(markdown(out))
