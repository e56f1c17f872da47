"""Smoke test of bench/curvature.py on a tiny saddle: stabkit finds the top eigenvalue with
the right sign and a true 1e-3; power iteration (PyHessian, if installed) goes to the
eigenvalue of largest magnitude instead."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import curvature  # noqa: E402


def test_saddle_case_rows():
    model, x, y, loss = curvature._negative_problem(d=20)
    case = curvature._eig_case("saddle", model, loss, x, y, "largest_algebraic", quick=True)
    assert case["reference"] == pytest.approx(2.0, rel=1e-5)
    rows = {r["method"]: r for r in case["rows"] if "skipped" not in r}
    for name, row in rows.items():
        if name.startswith("stabkit"):
            assert row["right_sign"] and row["reaches_1e-3"], row
    ph = [r for n, r in rows.items() if n.startswith("PyHessian")]
    if ph:
        assert ph[0]["value"] == pytest.approx(-10.0, rel=1e-2)
        assert not ph[0]["right_sign"]
    md = curvature._markdown(
        {
            "machine": "m",
            "torch": "t",
            "eigen": [case],
            "trace": {
                "problem": "p",
                "num_parameters": 1,
                "truth": 1.0,
                "truth_standard_error": 0.1,
                "truth_matvecs": 3,
                "rows": [],
            },
        }
    )
    assert "saddle" in md and "WRONG" in md if ph else True
