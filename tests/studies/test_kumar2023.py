"""Study kumar2023_grokking_lazy_rich in quick mode, and its building blocks."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.studies import run_study
from stabkit.studies.kumar2023_grokking_lazy_rich import study

SMALL = {"dim": 4, "train_samples": 6, "test_samples": 5, "width": 7, "seed": 3}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_study("kumar2023_grokking_lazy_rich", quick=True, out=tmp_path_factory.mktemp("o"))


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_ntk_is_the_gram_matrix_of_parameter_gradients():
    p = study.make_problem(SMALL)
    alpha, eps = 1.7, 0.3
    w, x = p["w"], p["x"]
    n = w.shape[0]
    # grad_w f(x) = (alpha/N) phi'(w_i . x) x for each row i
    grads = np.stack([((alpha / n) * (1 + eps * xi @ w.T))[:, None] * xi for xi in x])
    gram = np.einsum("aij,bij->ab", grads, grads)
    np.testing.assert_allclose(study.ntk(x, x, w, alpha, eps), gram, rtol=1e-12)


def test_linearised_closed_form_matches_iterated_gd():
    p = study.make_problem(SMALL)
    alpha, eps = 1.0, 0.2
    k = study.ntk(p["x"], p["x"], p["w"], alpha, eps)
    kt = study.ntk(p["xt"], p["x"], p["w"], alpha, eps)
    eta, pn = p["w"].shape[0] / alpha**2, p["x"].shape[0]
    a = np.zeros(pn)  # f_train - f_0 = K a
    losses = []
    for _ in range(30):
        a += (2 * eta / pn) * (p["y"] - k @ a)
        losses.append(np.mean((kt @ a - p["yt"]) ** 2))
    closed = study.linearised_test_loss(p, alpha, eps, np.array([10, 30]))
    np.testing.assert_allclose(closed, [losses[9], losses[29]], rtol=1e-9)


def test_large_alpha_network_tracks_its_linearisation_early():
    # very lazy network: the test loss follows the linearised model (deviation O(1/alpha))
    p = study.make_problem({**SMALL, "width": 50})
    rec = study.train(p, 5000.0, 0.1, 40, 10)
    lin = study.linearised_test_loss(p, 5000.0, 0.1, rec["step"])
    np.testing.assert_allclose(rec["test"], lin, rtol=1e-2)
