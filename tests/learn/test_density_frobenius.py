"""SLQ spectral density and Frobenius-norm estimates against dense oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.errors import InputError
from stabkit.learn import (
    SLQ,
    FrobeniusResult,
    MatrixOperator,
    SpectralDensityResult,
    frobenius_estimate,
    spectral_density,
)


def _sym(n, seed, eigs):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * eigs) @ q.T


def test_slq_moments_are_exact_per_probe_when_steps_cover_them():
    # with m Lanczos steps Gauss quadrature integrates t^k exactly for k <= 2m - 1:
    # each probe's moment equals v^T A^k v, whose mean over Rademacher probes is tr(A^k)/n
    rng = np.random.default_rng(0)
    eigs = rng.uniform(-2.0, 5.0, 40)
    a = _sym(40, 1, eigs)
    r = spectral_density(MatrixOperator(a), SLQ(num_probes=6, num_steps=5), seed=3)
    probes = np.random.default_rng(3)
    for k in (1, 2, 3, 9):
        direct = []
        for _ in range(6):
            v = probes.choice([-1.0, 1.0], size=40)
            v /= np.linalg.norm(v)
            direct.append(v @ np.linalg.matrix_power(a, k) @ v)
        per_probe = np.sum(r.weights * r.nodes**k, axis=1)
        np.testing.assert_allclose(per_probe, direct, rtol=1e-9, atol=1e-9)
        # reset the probe stream for the next k
        probes = np.random.default_rng(3)


def test_slq_density_matches_smoothed_spectrum():
    rng = np.random.default_rng(1)
    eigs = np.concatenate([rng.normal(0.0, 0.3, 150), rng.normal(4.0, 0.2, 50)])
    op = MatrixOperator(_sym(200, 2, eigs))
    sigma = 0.25
    r = spectral_density(op, SLQ(num_probes=30, num_steps=60), sigma=sigma, seed=0)
    assert isinstance(r, SpectralDensityResult) and r.ok
    exact = np.exp(-0.5 * ((r.grid[:, None] - eigs[None, :]) / sigma) ** 2).sum(axis=1)
    exact /= 200 * sigma * np.sqrt(2 * np.pi)
    # integrates to one
    assert np.trapezoid(r.density, r.grid) == pytest.approx(1.0, abs=1e-3)
    # close to the smoothed true density, and within a few standard errors of it
    assert np.max(np.abs(r.density - exact)) < 0.05 * exact.max()
    big = exact > 0.05 * exact.max()
    z = np.abs(r.density - exact)[big] / np.maximum(r.density_standard_error[big], 1e-12)
    assert np.median(z) < 3
    # masses of the two bulks: 3/4 and 1/4
    assert r.cdf(2.0)[0] == pytest.approx(0.75, abs=0.05)
    tr, se = r.trace()
    assert abs(tr - eigs.sum()) < 4 * se + 1e-9
    assert r.num_matvecs == 30 * 60


def test_slq_small_operator_full_steps_is_exact_cdf():
    eigs = np.array([-1.0, 0.5, 2.0, 7.0])
    r = spectral_density(MatrixOperator(np.diag(eigs)), SLQ(num_probes=1, num_steps=10))
    # Rademacher probe on a diagonal matrix: every eigenvalue gets weight 1/4 exactly
    np.testing.assert_allclose(r.cdf(eigs + 0.1), [0.25, 0.5, 0.75, 1.0], atol=1e-12)
    assert r.cdf(-2.0)[0] == 0.0
    assert np.all(r.density_standard_error == 0)
    assert r.to_frame().shape == (1000, 3)


def test_slq_bad_input():
    op = MatrixOperator(np.eye(3))
    with pytest.raises(InputError, match="SLQ"):
        spectral_density(op, method="slq")
    with pytest.raises(InputError, match="num_probes"):
        SLQ(num_probes=0)
    with pytest.raises(InputError, match="sigma"):
        spectral_density(op, sigma=-1.0)
    with pytest.raises(InputError, match="grid"):
        spectral_density(op, grid=[1.0])


def test_frobenius_of_dense_symmetric_matrix():
    eigs = np.linspace(-3.0, 3.0, 30)
    a = _sym(30, 4, eigs)
    true = float(np.linalg.norm(a, "fro"))
    r = frobenius_estimate(MatrixOperator(a), num_matvecs=400, seed=1)
    assert isinstance(r, FrobeniusResult) and r.num_matvecs == 400
    assert abs(r.estimate - true) < 4 * r.standard_error
    assert r.interval[0] <= r.estimate <= r.interval[1]


def test_frobenius_interval_coverage():
    a = _sym(20, 5, np.random.default_rng(5).uniform(0.5, 3.0, 20))
    true = float(np.linalg.norm(a, "fro"))
    covered = sum(
        (lambda r: r.interval[0] <= true <= r.interval[1])(
            frobenius_estimate(MatrixOperator(a), num_matvecs=20, seed=s, confidence=0.9)
        )
        for s in range(200)
    )
    # Binomial(200, 0.9): mean 180, sd 4.2
    assert 163 <= covered <= 197


@settings(max_examples=25)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=12))
def test_frobenius_of_diagonal_is_exact(d):
    # ||D z||^2 = sum d_i^2 z_i^2 = sum d_i^2 for every Rademacher z
    r = frobenius_estimate(MatrixOperator(np.diag(d)), num_matvecs=3)
    assert r.estimate == pytest.approx(float(np.linalg.norm(d)), rel=1e-12, abs=1e-12)
