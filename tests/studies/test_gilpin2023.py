"""The gilpin2023 forecasting study reproduces its checks in quick mode."""

from __future__ import annotations

import pytest

from stabkit.studies import run_study


def test_gilpin2023_quick_mode_passes() -> None:
    pytest.importorskip("torch")
    result = run_study("gilpin2023_chaos_forecasting", quick=True)
    failed = [(row.key, row.text) for row in result.rows if row.passed is False]
    assert result.passed, failed
    keys = {row.key for row in result.rows}
    assert {
        "lorenz_lyapunov",
        "hybrids_beat_neural_with_little_data",
        "trained_models_beat_persistence",
    } <= keys
