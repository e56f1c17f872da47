"""Study delange2022_stability_gap in quick mode, and its building blocks."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from stabkit.studies import run_study
from stabkit.studies.delange2022_stability_gap import study


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_study("delange2022_stability_gap", quick=True, out=out)


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_per_task_table_is_consistent(result):
    table = result.tables["per_task"]
    earlier = table[table.task != "89"]
    # the per-iteration minimum can never exceed what any single evaluation saw
    assert (earlier.min_acc <= earlier.end_of_task_min_acc + 1e-12).all()
    assert (earlier.min_acc <= earlier.final_acc + 1e-12).all()
    assert np.isnan(table[table.task == "89"].min_acc).all()
    assert result.figures and result.figures[0].read_bytes()[:4] == b"\x89PNG"


def test_tasks_are_disjoint_two_class_splits():
    config = {"seed": 0, "test_fraction": 0.3, "task_classes": [[0, 1], [2, 3], [4, 5]]}
    train, test = study.digits_tasks(config)
    assert list(test) == ["01", "23", "45"]
    for (x, y), (name, (_xt, yt)) in zip(train, test.items(), strict=True):
        classes = {int(name[0]), int(name[1])}
        assert set(y.tolist()) == classes and set(yt.tolist()) == classes
        assert x.shape[1] == 64 and float(x.max()) <= 1.0
    # about 30 % held out per task (sklearn digits: ~180 images per class)
    n_test = sum(len(v[1]) for v in test.values())
    n_train = sum(len(v[1]) for v in train)
    assert 0.25 < n_test / (n_test + n_train) < 0.35
