"""Smoke test of bench/chaos.py: dysts equations traced into stabkit models, one quick row."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

pytest.importorskip("dysts.flows", reason="dysts (and its import-time dependencies) missing")

import chaos  # noqa: E402


@pytest.fixture(scope="module")
def meta() -> dict:
    return chaos.dysts_metadata()


def test_traced_lorenz_matches_dysts_right_hand_side(meta: dict) -> None:
    import dysts.flows

    model, how = chaos.build_model("Lorenz", meta["Lorenz"])
    assert how == "symbolic" and model.variables == ("x", "y", "z")
    system = dysts.flows.Lorenz()
    point = np.array([1.5, -2.0, 20.0])
    out = np.empty(3)
    model.compile(backend="numpy").rhs(0.0, point, model.param_vector(), out)
    assert np.allclose(out, system.rhs(point, 0.0))


def test_python_fallback_matches_dysts(meta: dict) -> None:
    import dysts.flows

    model = chaos.python_model("Hopfield", meta["Hopfield"])
    system = dysts.flows.Hopfield()
    point = np.asarray(meta["Hopfield"]["initial_conditions"], dtype=float)
    out = np.empty(point.size)
    model.compile(backend="numpy").rhs(0.0, point, model.param_vector(), out)
    assert np.allclose(out, system.rhs(point, 0.0))


def test_one_row_and_table(meta: dict) -> None:
    row = chaos.analyse("Lorenz", meta["Lorenz"], cap=0.5)
    assert row["equations"] == "symbolic" and len(row["exponents"]) == 3
    assert 0.7 < row["exponents"][0] < 1.1
    assert abs(row["sum_rule_error"]) < 1e-4
    # dysts' stored spectrum breaks the sum rule for Lorenz: 1.091 + 0.030 - 14.916 != -13.667
    assert abs(row["dysts_sum_rule_error"]) > 0.05
    head = chaos.summary([row])
    text = chaos.markdown([row], head, cap=0.5)
    assert "| Lorenz | 3 | symbolic |" in text
