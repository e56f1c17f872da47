"""Smoke test of bench/basins.py: the quick mode runs and writes its table (pybasin skipped)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import basins  # noqa: E402

pytest.importorskip("scipy")


def test_quick_run_writes_results(tmp_path: Path) -> None:
    results = basins.main(["--quick", "--no-pybasin", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "basins-quick.json").read_text())
    md = (tmp_path / "basins-quick.md").read_text()
    rec = data["stabkit_recurrence"]
    assert rec["n"] == 500 and rec["status"] == "ok"
    assert sum(rec["fractions"].values()) == pytest.approx(1.0)
    # pybasin's Duffing case: the period-1 orbit of large amplitude takes about half
    assert max(rec["fractions"].values()) == pytest.approx(0.5, abs=0.07)
    assert len(rec["attractors"]) >= 4
    assert data["scipy"]["scaled"] is True
    assert "external figure" in md and "anchor" in md
    assert results["goal"]["verdict"].startswith("pybasin not run here")
