"""Study edge_of_stability in quick mode."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.studies import run_study

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_study("edge_of_stability", quick=True, out=tmp_path_factory.mktemp("out"))


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_each_rate_plateaus_below_its_own_threshold(result):
    table = result.tables["sharpness"]
    for lr, rows in table.groupby("lr"):
        # the sharpness never settles far above 2/eta (GD would diverge there)
        assert np.median(rows.sharpness.to_numpy()[-5:]) < 1.2 * 2 / lr
