"""Study wu2023_sgd_dynamical_stability in quick mode, and its building blocks."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.studies import run_study

pytest.importorskip("torch")

from stabkit.studies.wu2023_sgd_dynamical_stability import _nets, study


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_study(
        "wu2023_sgd_dynamical_stability", quick=True, out=tmp_path_factory.mktemp("out")
    )


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_some_sgd_run_diverged_beyond_the_trace_bound(result):
    # the grid reaches divergence, as the spec asks
    t = result.tables["minima"]
    sgd = t[t.optimizer == "sgd"]
    assert sgd.diverged.any() and (~sgd.diverged).sum() >= 4


def test_output_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    w, a = rng.standard_normal((5, 3)), rng.standard_normal(5)
    g = _nets.relu_output_gradients(w, a, x)
    theta = np.concatenate([a, w.ravel()])

    def f(t):
        aa, ww = t[:5], t[5:].reshape(5, 3)
        return np.maximum(x @ ww.T, 0) @ aa

    eps = 1e-7
    fd = np.column_stack(
        [(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in np.eye(20)]
    )
    np.testing.assert_allclose(g, fd, atol=1e-6)
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(_nets.diagonal_output_gradients(u, v, x), np.hstack([v * x, u * x]))


def test_reduction_keeps_the_gram_matrix_and_the_criterion():
    from stabkit.learn import sgd_mean_square_stability

    rng = np.random.default_rng(0)
    g = rng.standard_normal((4, 7))
    r = _nets.reduce_gradients(g)
    assert r.shape == (4, 4)
    np.testing.assert_allclose(r @ r.T, g @ g.T, atol=1e-10)
    # the complement of span{g_i} is left alone (neutral); stabkit reports the radius on the
    # span, so the full and the reduced problem give the same number
    for lr in (0.05, 0.5):
        full = sgd_mean_square_stability(g, lr).spectral_radius
        reduced = sgd_mean_square_stability(r, lr).spectral_radius
        assert reduced == pytest.approx(full, rel=1e-8)
    assert sgd_mean_square_stability(r, 0.05).spectral_radius < 1
    assert sgd_mean_square_stability(r, 0.5).spectral_radius > 1


def test_exact_second_moment_against_simulation():
    rng = np.random.default_rng(1)
    g = rng.standard_normal((6, 4)) * 0.5
    exact = study.second_moment(g, 0.3, 20)[-1]
    sims = study.simulate(g, 0.3, 20, 20000, seed=2)
    se = sims.std(ddof=1) / np.sqrt(sims.size)
    # S_0 = I / r is the mean of delta_0 delta_0^T for delta_0 uniform on the sphere
    assert abs(sims.mean() - exact) < 4 * se
