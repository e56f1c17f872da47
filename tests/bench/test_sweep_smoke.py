"""Smoke test of bench/sweep.py: the quick run writes its table and the diagram agrees with
the analytic Hopf line b = 1 + a^2 of the Brusselator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_results() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sweep.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((ROOT / "bench" / "results" / "sweep-quick.json").read_text())
    d = data["diagram"]
    assert d["num_points"] == 900 and d["hopf_line_mismatches"] == 0
    assert 0.0 < d["stable_fraction"] < 1.0
    assert d["ratio_equilibria_over_sweep"] > 1.0  # why the diagram uses LinearStability
    assert data["speedup"]["num_points"] == 20 and data["speedup"]["speedup"] > 0
    assert data["overhead"]["overhead_serial_us"] < 1000.0
    text = (ROOT / "bench" / "results" / "sweep-quick.md").read_text()
    assert "| Brusselator diagram 30 x 30 (900 points)" in text
