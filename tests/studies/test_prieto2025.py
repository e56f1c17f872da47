"""Study prieto2025_grokking_numerical_stability in quick mode, and its data."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from stabkit.studies import run_study
from stabkit.studies.prieto2025_grokking_numerical_stability import study


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_study("prieto2025_grokking_numerical_stability", quick=True, out=out)


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_histories_cover_the_runs(result):
    table = result.tables["histories"]
    assert set(table.run) == {"float32", "float64", "perpgrad"}
    assert table.collapse.between(0, 1).all() and table.test_acc.between(0, 1).all()
    assert result.figures and result.figures[0].read_bytes()[:4] == b"\x89PNG"


def test_modular_addition_data():
    p = 7
    xtr, ytr, xte, yte = study.modular_addition(p, 0.4, 0)
    assert len(ytr) + len(yte) == p * p and len(ytr) == round(0.4 * p * p)
    for x, y in ((xtr, ytr), (xte, yte)):
        assert (x.sum(1) == 2).all()
        a, b = x[:, :p].argmax(1), x[:, p:].argmax(1)
        assert ((a + b) % p == y).all()
    pairs = {tuple(r) for r in xtr.nonzero()[:, 1].view(-1, 2).tolist()}
    assert not pairs & {tuple(r) for r in xte.nonzero()[:, 1].view(-1, 2).tolist()}
