"""Smoke test of bench/lyapunov.py: the accuracy criteria and a quick run of stabkit's rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import lyapunov as bench  # noqa: E402


def test_within_one_percent_criterion() -> None:
    assert bench.within_one_percent(np.array([0.9056, 0.0, -14.5723]))
    assert bench.within_one_percent(np.array([0.91, 0.005, -14.6]))
    assert not bench.within_one_percent(np.array([0.92, 0.0, -14.5723]))  # 1.6% off
    assert not bench.within_one_percent(np.array([0.9056, 0.02, -14.5723]))  # zero exponent
    assert not bench.within_one_percent(np.array([0.9056, 0.0]))
    assert bench.within_one_percent(np.array([0.90]))  # largest exponent only
    assert bench.max_relative_error(np.array([0.9056 * 1.02, 0.0, -14.5723])) == pytest.approx(0.02)


def test_quick_run_without_competitors(tmp_path: Path) -> None:
    assert bench.main(["--quick", "--skip", "lyapax,nolds,dysts,solve"]) == 0
    out = json.loads((bench.ROOT / "bench" / "results" / "lyapunov-quick.json").read_text())
    rows = {r["method"]: r for r in out["rows"]}
    head = rows["stabkit lyapunov_spectrum"]
    assert head["within_1pct"] is True and head["ratio_to_stabkit"] == 1.0
    assert len(head["standard_errors"]) == 3 and abs(head["sum_rule_difference"]) < 1e-4
    assert rows["stabkit largest_lyapunov_exponent"]["exponents"][0] > 0.85
    text = (bench.ROOT / "bench" / "results" / "lyapunov-quick.md").read_text()
    assert "| stabkit lyapunov_spectrum |" in text
