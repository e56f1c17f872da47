"""Two-parameter rows of bench/continuation.py: the Brusselator Hopf curve in (a, b).

The curve b = 1 + a^2 (x = a, y = b / a, omega = a) is traced from the Hopf point at
a = 1, b = 2 over a in [1, 3] by stabkit's ``continue_bifurcation_curve`` and by jaxcont's
``hopf_curve_problem`` + ``continuation`` (float64, the same largest step 0.1 and Newton
tolerance 1e-10; in its own process because jax's precision is fixed at start-up).
Reported per tool: warm seconds per curve (median of repeats), points, the largest
deviation |b - (1 + a^2)| of any point, and for stabkit the largest error of l1 along the
curve against the closed form -(a^2 + 2) / (2 a (2 a^2 + 1)).

``rows(quick)`` is what bench/continuation.py calls; ``python bench/_continuation_codim2.py``
prints the rows as JSON (``--quick``: stabkit only, three repeats).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = "Brusselator Hopf curve in (a, b), a from 1 to 3"
A_START, A_END, DS_MAX = 1.0, 3.0, 0.1


def _unavailable(tool: str, exc: BaseException) -> dict[str, Any]:
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return {"problem": PROBLEM, "tool": tool, "available": False, "notes": f"not run: {reason}"}


def _stabkit_curve() -> tuple[float, Any]:
    from stabkit.analysis._palc import PALC
    from stabkit.analysis.codim2 import continue_bifurcation_curve
    from stabkit.model import library

    model = library.brusselator()
    t0 = time.perf_counter()
    curve = continue_bifurcation_curve(
        model,
        ("H", [A_START, 2.0], {"a": A_START, "b": 1 + A_START**2}),
        ("a", "b"),
        to={"a": (A_START, A_END)},
        method=PALC(ds=0.01, ds_max=DS_MAX, newton_tol=1e-10),
    )
    return time.perf_counter() - t0, curve


def stabkit_row(repeats: int) -> dict[str, Any]:
    try:
        cold, curve = _stabkit_curve()
        times = [_stabkit_curve()[0] for _ in range(repeats)]
    except Exception as exc:
        return _unavailable("stabkit", exc)
    a, b = curve.points.T
    l1_exact = -(a**2 + 2) / (2 * a * (2 * a**2 + 1))
    max_error = float(np.max(np.abs(b - (1 + a**2))))
    l1_error = float(np.max(np.abs(curve.first_lyapunov - l1_exact)))
    median = statistics.median(times)
    return {
        "problem": PROBLEM,
        "tool": "stabkit",
        "available": True,
        "seconds": median,
        "min_seconds": min(times),
        "first_call_seconds": cold,
        "points": len(curve),
        "a_range": [float(a.min()), float(a.max())],
        "max_error": max_error,
        "l1_max_error": l1_error,
        "notes": (
            f"{median * 1e3:.3g} ms per curve (median of {repeats}), {len(curve)} points, "
            f"max |b - 1 - a^2| = {max_error:.2g}, l1 along the curve within {l1_error:.2g} "
            f"of the closed form, status {curve.status}"
        ),
    }


def _jaxcont_in_process(calls: int) -> dict[str, Any]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jaxcont as jc

    def brusselator(u, p, args):  # type: ignore[no-untyped-def]
        a, b = p[0], p[1]
        x, y = u[0], u[1]
        return jnp.array([a - (b + 1) * x + x * x * y, b * x - x * x * y])

    t0 = time.perf_counter()
    prob = jc.hopf_curve_problem(
        brusselator, jnp.array([A_START, 2.0]), jnp.array([A_START, 1 + A_START**2]),
        free=0, tol=1e-10,
    )  # fmt: skip
    setup = time.perf_counter() - t0
    settings = jc.ContinuationPar(
        ds=0.01, ds_max=DS_MAX, newton_tol=1e-10, max_steps=5000, compute_stability=False
    )
    times = []
    res = None
    for _ in range(calls):  # the same problem object: later calls reuse jax's compiled code
        t0 = time.perf_counter()
        res = jc.continuation(prob, p_span=(A_START, A_END), settings=settings)
        times.append(time.perf_counter() - t0)
    assert res is not None
    a = np.asarray(res.branch.params, dtype=float)
    b = np.asarray(res.branch.states, dtype=float)[:, 2]
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    return {"times": times, "setup": setup, "a": a.tolist(), "b": b.tolist()}


def jaxcont_row(calls: int) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--jaxcont-child", str(calls)],
            capture_output=True, text=True, timeout=1800, env=env, check=True,
        )  # fmt: skip
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except Exception as exc:
        return _unavailable("jaxcont", exc)
    if "error" in data:
        return {"problem": PROBLEM, "tool": "jaxcont", "available": False, "notes": data["error"]}
    a, b = np.array(data["a"]), np.array(data["b"])
    warm = data["times"][1:] or data["times"]
    median = statistics.median(warm)
    max_error = float(np.max(np.abs(b - (1 + a**2)))) if a.size else float("nan")
    return {
        "problem": PROBLEM,
        "tool": "jaxcont",
        "available": True,
        "seconds": median,
        "first_call_seconds": data["times"][0],
        "points": int(a.size),
        "a_range": [float(a.min()), float(a.max())] if a.size else None,
        "max_error": max_error,
        "notes": (
            f"{median * 1e3:.3g} ms per curve warm (median of {len(warm)}; first call "
            f"{data['times'][0]:.3g} s after {data['setup']:.3g} s building the problem), "
            f"{a.size} points, max |b - 1 - a^2| = {max_error:.2g}, no l1 along the curve"
        ),
    }


def rows(quick: bool) -> list[dict[str, Any]]:
    """The codim-2 rows: stabkit always, jaxcont in full mode; ratios in the notes."""
    out = [stabkit_row(3 if quick else 20)]
    if not quick:
        jax_row = jaxcont_row(4)
        if jax_row.get("available") and out[0].get("available"):
            ratio = jax_row["seconds"] / out[0]["seconds"]
            jax_row["ratio_to_stabkit"] = ratio
            jax_row["notes"] += f"; {ratio:.3g}x stabkit's time"
        out.append(jax_row)
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--jaxcont-child":
        try:
            print(json.dumps(_jaxcont_in_process(int(sys.argv[2]))))
        except Exception as exc:
            msg = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            print(json.dumps({"error": msg, "trace": traceback.format_exc()[-400:]}))
    else:
        print(json.dumps(rows("--quick" in sys.argv), indent=1))
