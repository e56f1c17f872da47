"""Smoke test of the two-parameter rows of bench/continuation.py (quick mode: stabkit)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import _continuation_codim2 as codim2  # noqa: E402


def test_quick_rows() -> None:
    (row,) = codim2.rows(quick=True)
    assert row["tool"] == "stabkit" and row["available"], row
    assert row["max_error"] < 1e-8
    assert row["l1_max_error"] < 1e-7
    assert row["a_range"] == [1.0, 3.0]
    assert row["seconds"] > 0 and row["points"] > 10
    assert "ms per curve" in row["notes"]
