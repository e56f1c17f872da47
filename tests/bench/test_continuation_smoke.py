"""Smoke test of bench/continuation.py: the quick mode runs and its numbers make sense."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import continuation  # noqa: E402


def test_quick_benchmark_writes_results(tmp_path: Path) -> None:
    pytest.importorskip("xpplab")
    results = continuation.main(["--quick", "--repeats", "2", "--output-dir", str(tmp_path)])
    assert (tmp_path / "continuation-quick.md").read_text().startswith("## Continuation")
    saved = json.loads((tmp_path / "continuation-quick.json").read_text())
    assert set(saved["problems"]) == {"brusselator_b", "lorenz_rho"}
    for key, problem in results["problems"].items():
        rows = problem["rows"]
        st, xpp = rows["stabkit"], rows["xpplab"]
        assert st["status"] == "ok" and len(st["times"]) == 2
        # both tools find the Hopf point of the exact formula and agree to 1e-6
        assert st["accuracy"]["hopf_error"] < 1e-8
        assert st["accuracy"]["max_point_error"] < 1e-8
        assert xpp["accuracy"]["hopf_vs_stabkit"] < 1e-6
        assert xpp["l1"] is None and st["l1"] is not None
        assert results["ratios"][key]["median"] > 0


def test_without_xpplab_the_stabkit_rows_remain(tmp_path: Path, monkeypatch) -> None:
    import _continuation_runners as runners

    def missing(problem):  # type: ignore[no-untyped-def]
        raise ModuleNotFoundError("No module named 'xpplab'")

    monkeypatch.setattr(runners, "XppRunner", missing)
    results = continuation.main(["--quick", "--repeats", "1", "--output-dir", str(tmp_path)])
    rows = results["problems"]["brusselator_b"]["rows"]
    assert rows["xpplab"]["available"] is False and "xpplab" in rows["xpplab"]["reason"]
    assert rows["stabkit"]["accuracy"]["hopf_error"] < 1e-8
    assert "unavailable" in (tmp_path / "continuation-quick.md").read_text()
    assert results["goal"]["met"] is False
