"""Study wortsman2023_small_scale_proxies in quick mode, and its synthetic language."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from stabkit.studies import run_study
from stabkit.studies.wortsman2023_small_scale_proxies import study

# claims the tiny quick-mode sweep does not reproduce (recorded as failed with evidence,
# not tuned away): no run is classified as diverged by lr_sensitivity's default
# thresholds (high-LR runs end far above the optimum but below the initial loss), and
# z-loss at 1e-4 over 120 steps neither lowers |log Z| nor the LR sensitivity
NOT_REPRODUCED = {"high_lr_divergence", "z_loss_log_partition", "z_loss_sensitivity"}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_study("wortsman2023_small_scale_proxies", quick=True, out=out)


def test_quick_mode_reproduces_what_it_can(result):
    assert result.status == "ok", result.error_detail
    failed = {r.key for r in result.failures}
    assert failed == NOT_REPRODUCED, [(r.key, r.text) for r in result.failures]
    passed = {r.key for r in result.checks if r.passed}
    assert passed == {"attention_logit_growth", "qk_layernorm_flatter"}
    for row in result.failures:
        assert " -- " in row.text and len(row.text.split(" -- ")[1]) > 40


def test_runs_table(result):
    table = result.tables["runs"]
    assert set(table.config) == {"baseline", "qk_layernorm", "z_loss"}
    assert len(table) == 3 * 5
    base = table[table.config == "baseline"].sort_values("lr")
    # attention logits grow by orders of magnitude at the top of the grid
    assert base.max_attention_logit.iloc[-1] > 1e3 * base.max_attention_logit.iloc[0]
    assert result.figures and result.figures[0].read_bytes()[:4] == b"\x89PNG"


def test_markov_chain_samples_follow_the_transitions():
    config = {"seed": 3, "vocab": 6, "successors": 2}
    matrix = study.markov_chain(config)
    assert np.allclose(matrix.sum(1), 1) and ((matrix > 0).sum(1) == 2).all()
    seqs = study.sample(matrix, 4000, 3, np.random.default_rng(0))
    counts = np.zeros((6, 6))
    np.add.at(counts, (seqs[:, :-1].ravel(), seqs[:, 1:].ravel()), 1)
    assert (counts[matrix == 0] == 0).all()
    empirical = counts / counts.sum(1, keepdims=True)
    assert np.abs(empirical - matrix).max() < 0.05
    # entropy rate of a deterministic chain is 0, of a uniform 2-successor chain ln 2
    assert study.entropy_rate(np.eye(6)[[1, 2, 3, 4, 5, 0]]) == 0.0
    half = np.zeros((2, 2)) + 0.5
    assert study.entropy_rate(half) == pytest.approx(np.log(2))
