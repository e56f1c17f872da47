"""Agreement with shesha-geometry 0.3.0 on the same data and the same random splits.

How the splits are made identical: shesha-geometry draws everything from one
``numpy.random.default_rng(seed)``: first the row subsample
``rng.choice(n, max_samples, replace=False)`` (only when ``n > max_samples``), then one
``rng.permutation(d)`` per split (halves ``perm[:d//2]`` and ``perm[d//2 : 2*(d//2)]``);
its observation bootstrap uses ``default_rng(SeedSequence(seed).spawn(1)[0])`` with
``choice(n, n, replace=True)`` per replicate. stabkit consumes the same generator in
the same order, so passing the same ``seed`` to both gives the same subsample, the
same partitions and the same bootstrap rows. ``test_explicit_partitions`` re-derives
the partition sequence independently and passes it explicitly, so the agreement does
not rest on the seed convention alone. Replicate/RDM similarity use
``default_rng(seed)`` and ``choice(n, n, replace=True)`` for their bootstraps.
"""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.represent import (
    cka,
    feature_split_stability,
    procrustes_similarity,
    rdm_drift,
    rdm_similarity,
    replicate_stability,
)

shesha = pytest.importorskip("shesha")
sim = pytest.importorskip("shesha.sim")

TOL = 1e-10


def _data(n: int, d: int, rank: int, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d))
    return z + noise * rng.standard_normal((n, d))


@pytest.mark.parametrize("metric", ["cosine", "correlation"])
@pytest.mark.parametrize(("n", "d", "seed"), [(120, 33, 0), (260, 64, 7), (90, 8, 123)])
def test_feature_split_matches(metric: str, n: int, d: int, seed: int) -> None:
    x = _data(n, d, 6, 0.7, seed)
    ours = feature_split_stability(x, n_splits=12, metric=metric, seed=seed, max_samples=200)
    theirs = shesha.feature_split(
        x, n_splits=12, metric=metric, seed=seed, max_samples=200, return_type="result"
    )
    assert abs(ours.estimate - theirs.estimate) < TOL
    assert abs(ours.standard_error - theirs.monte_carlo_se) < TOL
    np.testing.assert_allclose(ours.components, theirs.component_scores, atol=TOL, rtol=0)
    assert ours.n_used == min(n, 200)


def test_feature_split_defaults_match() -> None:
    x = _data(300, 40, 5, 1.0, 3)
    assert (
        abs(feature_split_stability(x, seed=11).estimate - shesha.feature_split(x, seed=11)) < TOL
    )


def test_feature_split_bootstrap_interval_matches() -> None:
    x = _data(70, 24, 4, 0.8, 5)
    ours = feature_split_stability(x, n_splits=6, seed=9, n_bootstrap=25)
    theirs = shesha.feature_split(x, n_splits=6, seed=9, n_bootstrap_ci=25, return_type="result")
    assert abs(ours.ci_low - theirs.data_ci_low) < TOL
    assert abs(ours.ci_high - theirs.data_ci_high) < TOL


def test_explicit_partitions() -> None:
    x = _data(150, 30, 5, 0.5, 2)
    rng = np.random.default_rng(4)
    parts = []
    for _ in range(10):
        perm = rng.permutation(30)
        parts.append((perm[:15], perm[15:30]))
    ours = feature_split_stability(x, partitions=parts, seed=None)
    assert abs(ours.estimate - shesha.feature_split(x, n_splits=10, seed=4)) < TOL


@pytest.mark.parametrize("metric", ["cosine", "correlation", "euclidean"])
@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_rdm_similarity_drift_replicate(metric: str, method: str) -> None:
    x = _data(110, 20, 4, 0.5, 1)
    y = x + 0.8 * np.random.default_rng(2).standard_normal(x.shape)
    s = shesha.rdm_similarity(x, y, metric=metric, method=method)
    assert abs(rdm_similarity(x, y, metric=metric, method=method).estimate - s) < TOL
    assert abs(rdm_drift(x, y, metric=metric, method=method).estimate - (1 - s)) < TOL
    r = shesha.replicate_stability(x, y, metric=metric, method=method)
    assert abs(replicate_stability(x, y, metric=metric, method=method).estimate - r) < TOL


def test_replicate_bootstrap_matches() -> None:
    x = _data(60, 10, 3, 0.5, 8)
    y = x + 0.5 * np.random.default_rng(9).standard_normal(x.shape)
    ours = replicate_stability(x, y, n_bootstrap=30, seed=13)
    theirs = shesha.replicate_stability(x, y, n_bootstrap_ci=30, seed=13, return_type="result")
    assert abs(ours.ci_low - theirs.data_ci_low) < TOL
    assert abs(ours.ci_high - theirs.data_ci_high) < TOL


def test_cka_linear_and_procrustes_match() -> None:
    x = _data(150, 25, 5, 0.5, 4)
    rng = np.random.default_rng(5)
    y = x @ rng.standard_normal((25, 12)) + rng.standard_normal((150, 12))
    assert abs(cka(x, y).estimate - sim.cka_linear(x, y)) < TOL
    q, _ = np.linalg.qr(rng.standard_normal((25, 25)))
    z = x @ q + 0.7 * rng.standard_normal(x.shape)
    for center in (True, False):
        for scale in (True, False):
            ours = procrustes_similarity(x, z, center=center, scale=scale).estimate
            theirs = sim.procrustes_similarity(x, z, center=center, scale=scale)
            assert abs(ours - theirs) < TOL
