"""Smoke test of bench/represent.py: the quick run, its ratios and the agreement flags."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import represent as bench  # noqa: E402


def test_quick_run() -> None:
    assert bench.main(["--quick", "--skip", "torch-cka"]) == 0
    out = json.loads((bench.ROOT / "bench" / "results" / "represent-quick.json").read_text())
    rows = out["rows"]
    anchors = [r for r in rows if r["method"].startswith("stabkit") and r["stabkit_speedup"] == 1.0]
    assert anchors and all(r["status"] == "ok" and r["seconds"] > 0 for r in anchors)
    torch_rows = [r for r in rows if "torch" in r["method"]]
    assert torch_rows and all(r["status"].startswith("skipped") for r in torch_rows)
    for r in rows:
        if r["status"] == "ok" and r.get("agrees") is not None:
            assert r["agrees"], r
    md = (bench.ROOT / "bench" / "results" / "represent-quick.md").read_text()
    assert "| feature_split |" in md

    if "shesha" in sys.modules or _have("shesha"):
        checked = [
            r for r in rows if r["method"].startswith("shesha") and r.get("agrees") is not None
        ]
        assert len(checked) >= 8
        assert all(r["abs_difference"] < 1e-10 for r in checked)


def _have(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
