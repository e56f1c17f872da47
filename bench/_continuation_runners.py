"""Branch runners for bench/continuation.py: stabkit, xpplab (AUTO in XPPAUT), jaxcont.

Each runner traces one branch of one problem and returns a row: the points (parameter,
state), the Hopf point and l1 where the tool reports them, and timings. Third-party imports
happen inside the runners, so a missing package disables only its own rows.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIGMA, BETA = 10.0, 8.0 / 3.0


@dataclass(frozen=True)
class Problem:
    """One branch: model, parameter range, start, and the exact answers."""

    key: str
    title: str
    parameter: str
    p_start: float
    p_end: float
    state0: tuple[float, ...]
    params: dict[str, float]
    hopf: float  # exact Hopf parameter
    ds_max: float
    probe: tuple[float, ...] = field(default_factory=tuple)  # parameter values to interpolate at

    def exact_state(self, p: np.ndarray) -> np.ndarray:
        """The analytic branch at parameter values p, shape (len(p), n)."""
        p = np.asarray(p, dtype=float)
        if self.key == "brusselator_b":
            a = self.params["a"]
            return np.stack([np.full_like(p, a), p / a], axis=1)
        c = np.sqrt(BETA * (p - 1.0))
        return np.stack([c, c, p - 1.0], axis=1)


PROBLEMS = {
    "brusselator_b": Problem(
        "brusselator_b", "Brusselator in b (a = 1), b from 0.5 to 4", "b", 0.5, 4.0,
        (1.0, 0.5), {"a": 1.0}, 2.0, 0.1, (1.0, 1.75, 3.0),
    ),
    "lorenz_rho": Problem(
        "lorenz_rho", "Lorenz C+ in rho, rho from 2 to 30", "rho", 2.0, 30.0,
        (math.sqrt(BETA), math.sqrt(BETA), 1.0), {"sigma": SIGMA, "beta": BETA},
        SIGMA * (SIGMA + BETA + 3) / (SIGMA - BETA - 1), 0.5, (5.0, 10.0, 20.0, 28.0),
    ),
}  # fmt: skip


def _unavailable(exc: BaseException) -> dict[str, Any]:
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return {"available": False, "reason": reason}


# stabkit ----------------------------------------------------------------------------------
def stabkit_branch(problem: Problem, *, detect: bool = True) -> dict[str, Any]:
    """One stabkit branch (warm once the kernels are compiled in this process)."""
    from stabkit.analysis.continuation import PALC, continue_branch
    from stabkit.model import library

    model = library.get(problem.key.split("_")[0])
    params = {**problem.params, problem.parameter: problem.p_start}
    t0 = time.perf_counter()
    br = continue_branch(
        model, problem.parameter, list(problem.state0), params=params, to=problem.p_end,
        method=PALC(ds=0.01, ds_max=problem.ds_max), detect=None if detect else (),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    hopf = br.special("H")
    return {
        "available": True,
        "seconds": wall,
        "compile_seconds": br.stats.compile_time,
        "status": br.status,
        "message": br.message,
        "p": br.parameter_values.tolist(),
        "states": br.states.tolist(),
        "hopf": hopf[0].parameter_value if hopf else None,
        "l1": hopf[0].first_lyapunov_coefficient if hopf else None,
        "p_last": float(br.parameter_values[-1]),
    }


def stabkit_cold(problem: Problem, *, empty_cache: bool) -> dict[str, Any]:
    """A fresh process: import, compile (or load the disk caches), one branch."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if empty_cache:
            env["STABKIT_CACHE_DIR"] = tmp
        return _subprocess(["stabkit", problem.key], env)


def _subprocess(args: list[str], env: dict[str, str], timeout: float = 900) -> dict[str, Any]:
    """Run this file as a script with ``args``; the JSON row it prints."""
    try:
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *args], env=env,
            capture_output=True, text=True, timeout=timeout, cwd=str(ROOT),
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        return _unavailable(exc)
    if out.returncode != 0:
        return {"available": False, "reason": out.stderr.strip().splitlines()[-1:]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["available"] = True
    return row


# xpplab -----------------------------------------------------------------------------------
_XPP_TEXT = {
    "brusselator_b": "par a=1, b=0.5\ninit x=1, y=0.5\n"
    "x' = a - (b+1)*x + x^2*y\ny' = b*x - x^2*y\ndone\n",
    "lorenz_rho": "par sigma=10, rho=2, beta=2.6666666666666667\n"
    "init x=1.632993161855452, y=1.632993161855452, z=1\n"
    "x' = sigma*(y - x)\ny' = x*(rho - z) - y\nz' = x*y - beta*z\ndone\n",
}


class XppRunner:
    """An xpplab model kept open; each call traces the branch afresh."""

    def __init__(self, problem: Problem) -> None:
        import xpplab

        self.problem = problem
        self.model = xpplab.Model.from_text(_XPP_TEXT[problem.key], name=f"{problem.key}.ode")
        self.variables = list(self.model.initial_conditions)

    def __call__(self) -> dict[str, Any]:
        pr = self.problem
        m = self.model
        m.auto.reset()
        m.set(**{pr.parameter: pr.p_start})
        m.set(**dict(zip(self.variables, pr.state0, strict=True)))
        t0 = time.perf_counter()
        d = m.auto.equilibria(
            pr.parameter, ds=0.01, dsmin=1e-8, dsmax=pr.ds_max, parmin=min(pr.p_start, 0.0),
            parmax=pr.p_end, nmax=5000, epsl=1e-10, epsu=1e-10, epss=1e-10,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        hb = d.special("HB")
        frame = d.to_pandas()
        names = [v.upper() for v in self.variables]
        states = np.stack([frame[f"{v}_max"].to_numpy() for v in names], axis=1)
        return {
            "available": True,
            "seconds": wall,
            "p": frame[pr.parameter].tolist(),
            "states": states.tolist(),
            "hopf": float(hb[0].value) if hb else None,
            "l1": None,
            "p_last": float(frame[pr.parameter].iloc[-1]),
        }


def xpplab_cold(problem: Problem) -> dict[str, Any]:
    """A fresh process: import xpplab, load the model, one branch."""
    return _subprocess(["xpplab", problem.key], dict(os.environ))


# jaxcont ----------------------------------------------------------------------------------
def jaxcont_rows(problem: Problem, *, x64: bool, calls: int = 3) -> dict[str, Any]:
    """jaxcont in its own process: the first call (cold) and ``calls - 1`` warm calls."""
    args = ["jaxcont", problem.key, "x64" if x64 else "float32", str(calls)]
    return _subprocess(args, dict(os.environ), timeout=1800)


def _jaxcont_in_process(key: str, x64: bool, calls: int) -> dict[str, Any]:
    try:
        import jax

        jax.config.update("jax_enable_x64", x64)
        import jax.numpy as jnp
        import jaxcont as jc
    except Exception as exc:
        return _unavailable(exc)
    pr = PROBLEMS[key]

    def brusselator(u, p, args):  # type: ignore[no-untyped-def]
        x, y = u[0], u[1]
        return jnp.array([args - (p + 1) * x + x * x * y, p * x - x * x * y])

    def lorenz(u, p, args):  # type: ignore[no-untyped-def]
        x, y, z = u[0], u[1], u[2]
        return jnp.array([SIGMA * (y - x), x * (p - z) - y, x * y - BETA * z])

    f, args = (brusselator, pr.params.get("a")) if key == "brusselator_b" else (lorenz, None)
    try:
        prob = jc.bif_problem(f, jnp.array(pr.state0), pr.p_start, args=args)
        # float64: the same step and tolerance as the other tools; float32: jaxcont's defaults
        settings = (
            jc.ContinuationPar(ds=0.01, ds_max=pr.ds_max, newton_tol=1e-10, max_steps=5000)
            if x64
            else jc.ContinuationPar()
        )
        times = []
        res = None
        for _ in range(calls):
            t0 = time.perf_counter()
            res = jc.continuation(
                prob, p_span=(pr.p_start, pr.p_end), settings=settings,
                events=[jc.Fold(), jc.Hopf()],
            )  # fmt: skip
            times.append(time.perf_counter() - t0)
    except Exception as exc:
        row = _unavailable(exc)
        row["trace"] = traceback.format_exc()[-500:]
        return row
    assert res is not None
    hopf = [e for e in res.events if e.kind == "hopf"]
    p = np.asarray(res.branch.params, dtype=float)
    return {
        "available": True,
        "cold_seconds": times[0],
        "times": times[1:],
        "p": p.tolist(),
        "states": np.asarray(res.branch.states, dtype=float).tolist(),
        "hopf": float(hopf[0].p) if hopf else None,
        "l1": float(hopf[0].info["l1"]) if hopf and "l1" in hopf[0].info else None,
        "p_last": float(p[-1]),
        "dtype": str(res.branch.params.dtype),
    }


# accuracy ---------------------------------------------------------------------------------
def accuracy(problem: Problem, row: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Errors of a row's points against the exact branch and against stabkit's row."""
    if not row.get("available") or "p" not in row:
        return {}
    p = np.asarray(row["p"], dtype=float)
    states = np.asarray(row["states"], dtype=float)
    inside = (p >= min(problem.p_start, problem.p_end)) & (p <= max(problem.p_start, problem.p_end))
    exact = problem.exact_state(p[inside])
    point_error = float(np.max(np.abs(states[inside] - exact))) if inside.any() else None
    out: dict[str, Any] = {"max_point_error": point_error}
    if row.get("hopf") is not None:
        out["hopf_error"] = abs(row["hopf"] - problem.hopf)
        if reference.get("hopf") is not None:
            out["hopf_vs_stabkit"] = abs(row["hopf"] - reference["hopf"])
    order = np.argsort(p)
    if np.all(np.diff(p[order]) > 0) and problem.probe:
        from scipy.interpolate import CubicSpline

        probe = np.asarray(problem.probe)
        probe = probe[(probe >= p.min()) & (probe <= p.max())]  # never extrapolate
        if probe.size:
            spline = CubicSpline(p[order], states[order], axis=0)
            error = np.abs(spline(probe) - problem.exact_state(probe))
            out["interpolation_error"] = float(np.max(error))
    out["reached"] = row.get("p_last")
    return out


def _main(argv: list[str]) -> None:
    """``python _continuation_runners.py TOOL PROBLEM [...]``: one cold run, JSON on stdout."""
    t0 = time.perf_counter()
    tool, key = argv[0], argv[1]
    if tool == "jaxcont":
        row = _jaxcont_in_process(key, argv[2] == "x64", int(argv[3]))
    else:
        full = stabkit_branch(PROBLEMS[key]) if tool == "stabkit" else XppRunner(PROBLEMS[key])()
        row = {k: full.get(k) for k in ("seconds", "compile_seconds", "hopf")}
        row["process_seconds"] = time.perf_counter() - t0
    print(json.dumps(row))


if __name__ == "__main__":
    _main(sys.argv[1:])
