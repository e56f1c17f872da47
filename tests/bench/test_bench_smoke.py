"""Smoke test of the benchmark's hand-written numba Dormand-Prince kernel (bench/ensemble.py).

Checks the kernel against scipy DOP853 at tight tolerances on Lorenz for t in [0, 1]; needs
neither torch nor jax.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import ensemble  # noqa: E402

pytest.importorskip("scipy")


@pytest.fixture(scope="module")
def y0s() -> np.ndarray:
    return ensemble.lorenz_initial_states(5)


def test_numba_kernel_matches_dop853_on_lorenz(y0s: np.ndarray) -> None:
    ref = ensemble.lorenz_reference(y0s, 1.0, tol=1e-12)
    for beta in (0.04, 0.0):
        yf, counters, status = ensemble.solve_lorenz_numba(
            y0s, t_span=(0.0, 1.0), rtol=1e-8, atol=1e-10, beta=beta
        )
        assert yf.shape == (5, 3)
        assert np.all(status == ensemble.STATUS_OK)
        rel = np.abs(yf - ref) / np.maximum(np.abs(ref), 1.0)
        assert rel.max() < 1e-4, rel
        accepted, rejected, nfev = counters.T
        assert np.all(accepted > 10)
        assert np.all(rejected >= 0)
        # FSAL: 2 evaluations for the first step, then 6 per attempted step.
        np.testing.assert_array_equal(nfev, 2 + 6 * (accepted + rejected))


def test_numba_kernel_tolerance_proportionality(y0s: np.ndarray) -> None:
    ref = ensemble.lorenz_reference(y0s[:2], 1.0, tol=1e-12)
    errs = []
    steps = []
    for rtol in (1e-5, 1e-8):
        yf, counters, _ = ensemble.solve_lorenz_numba(
            y0s[:2], t_span=(0.0, 1.0), rtol=rtol, atol=rtol * 1e-2
        )
        errs.append(np.max(np.abs(yf - ref) / np.maximum(np.abs(ref), 1.0)))
        steps.append(counters[:, 0].sum())
    assert errs[1] < errs[0] / 30
    assert steps[1] > steps[0]


def test_numba_kernel_reports_max_steps(y0s: np.ndarray) -> None:
    _, counters, status = ensemble.solve_lorenz_numba(y0s[:2], t_span=(0.0, 10.0), max_steps=5)
    assert np.all(status == ensemble.STATUS_MAX_STEPS)
    assert np.all(counters[:, 0] + counters[:, 1] == 5)


def test_report_handles_unavailable_rows() -> None:
    import _report

    results = {
        "args": {"quick": "True"},
        "total_wall_s": 1.0,
        "lorenz": {
            "members": 2,
            "rows": {
                "numba_dopri5_pi": {
                    "label": "anchor",
                    "available": True,
                    "members": 2,
                    "times": [0.1],
                    "best_s": 0.1,
                    "median_s": 0.1,
                    "throughput": 20.0,
                    "throughput_median": 20.0,
                },
                "stabkit_dopri5": {
                    "label": "stabkit Dopri5",
                    "available": False,
                    "reason": "ImportError: nope",
                    "times": [],
                },
            },
        },
    }
    _report.evaluate_goals(results)
    verdicts = {g["row"]: g["verdict"] for g in results["goals"]}
    assert verdicts["numba_dopri5_pi"] == "n/a"
    lines = _report._lorenz_md({**results, "lorenz": {**results["lorenz"], **_LOR}})
    assert any("unavailable: ImportError: nope" in ln for ln in lines)


_LOR = {"seed": 1, "t_span": [0.0, 10.0], "rtol": 1e-6, "atol": 1e-9}
