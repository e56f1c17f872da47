"""Shesha stability: properties, the rank kernel, large-n path and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist
from scipy.stats import rankdata, spearmanr

from stabkit.errors import InputError
from stabkit.represent import (
    RepresentationResult,
    feature_split_stability,
    rdm_drift,
    rdm_similarity,
    replicate_stability,
)
from stabkit.represent._rank import average_ranks, spearman
from stabkit.represent._rdm import condensed_rdm


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=2, max_size=60).flatmap(
        lambda a: st.tuples(
            st.just(a), st.lists(st.integers(-3, 3), min_size=len(a), max_size=len(a))
        )
    )
)
def test_ranks_and_spearman_with_ties_match_scipy(pair: tuple[list[int], list[int]]) -> None:
    a = np.array(pair[0], dtype=float) * 0.37
    b = np.array(pair[1], dtype=float)
    ranks, ties = average_ranks(a)
    np.testing.assert_array_equal(ranks, rankdata(a))
    assert ties == (np.unique(a).size < a.size)
    ref = spearmanr(a, b)[0] if np.ptp(a) > 0 and np.ptp(b) > 0 else np.nan
    ours = spearman(a, b)
    assert (np.isnan(ref) and np.isnan(ours)) or abs(ours - ref) < 1e-12


def test_spearman_skewed_distribution() -> None:
    """Heavy tails put most values in few buckets; the fallback sort must handle it."""
    rng = np.random.default_rng(0)
    a = np.exp(5 * rng.standard_normal(20000))
    b = a + rng.standard_normal(20000)
    assert abs(spearman(a, b) - spearmanr(a, b)[0]) < 1e-12


@pytest.mark.parametrize("metric", ["cosine", "correlation", "euclidean"])
def test_condensed_rdm_matches_pdist(metric: str) -> None:
    x = np.random.default_rng(1).standard_normal((40, 7)) + 2.0
    np.testing.assert_allclose(condensed_rdm(x, metric), pdist(x, metric), atol=1e-12)


def test_low_rank_redundant_near_one_noise_near_zero() -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 128))
    low_rank = feature_split_stability(z + 0.05 * rng.standard_normal(z.shape), seed=1)
    noise = feature_split_stability(rng.standard_normal((300, 128)), seed=1)
    assert low_rank.estimate > 0.9
    assert abs(noise.estimate) < 4 * noise.standard_error + 0.02
    assert isinstance(low_rank, RepresentationResult)
    assert low_rank.components.size == 30 and low_rank.ok


def test_package_reference_numbers() -> None:
    """Spec (0.3.0, independently computed): iid Gaussian 500x256 -> 0.002 (+-0.02);
    signal in 10 coordinates -> ~0.003, and after a random rotation -> ~0.79."""
    rng = np.random.default_rng(0)
    iid = feature_split_stability(rng.standard_normal((500, 256)), seed=0).estimate
    assert abs(iid - 0.002) < 0.02
    x = np.zeros((500, 256))
    x[:, :10] = rng.standard_normal((500, 10)) * 10
    x += 0.1 * rng.standard_normal(x.shape)
    q, _ = np.linalg.qr(rng.standard_normal((256, 256)))
    axis = feature_split_stability(x, seed=0).estimate
    rotated = feature_split_stability(x @ q, seed=0).estimate
    assert rotated > axis + 0.3  # not rotation invariant, unlike CKA


def test_bootstrap_interval_and_threads_agree() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((80, 3)) @ rng.standard_normal((3, 30)) + rng.standard_normal((80, 30))
    one = feature_split_stability(x, n_splits=8, seed=2, n_bootstrap=10)
    two = feature_split_stability(x, n_splits=8, seed=2, n_bootstrap=10, n_jobs=2)
    assert one.estimate == two.estimate and one.ci_low == two.ci_low
    assert one.ci_low <= one.ci_high
    assert one.details["bootstrap"].size == 10


def test_subsampling_path_for_large_n() -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((20000, 4)) @ rng.standard_normal((4, 64))
    x = (z + rng.standard_normal(z.shape)).astype(np.float32)
    res = feature_split_stability(x, n_splits=5, max_samples=400, seed=0)
    assert res.n_used == 400 and res.n_samples == 20000
    assert "subsampled" in res.message
    # two independent subsamples agree within their stated (Monte Carlo) error scale
    other = feature_split_stability(x, n_splits=5, max_samples=400, seed=1)
    assert abs(res.estimate - other.estimate) < 0.1
    drift = rdm_drift(x, x + 0.1, max_samples=300)
    assert drift.n_used == 300 and drift.estimate >= 0


def test_drift_monotone_in_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 20))
    drifts = [rdm_drift(x, x + a * rng.standard_normal(x.shape)).estimate for a in (0.1, 0.5, 2)]
    assert drifts[0] < drifts[1] < drifts[2]
    assert rdm_similarity(x, x).estimate == pytest.approx(1.0)


def test_bad_input() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 8))
    with pytest.raises(InputError, match="30 rows but Xb has 20"):
        replicate_stability(x, x[:20])
    with pytest.raises(InputError, match="at least 4 samples"):
        feature_split_stability(x[:3])
    with pytest.raises(InputError, match="at least 4 features"):
        feature_split_stability(x[:, :3])
    with pytest.raises(InputError, match="at least 3 samples"):
        rdm_drift(x[:2], x[:2])
    with pytest.raises(InputError, match="metric"):
        feature_split_stability(x, metric="euclidean")
    with pytest.raises(InputError, match="unknown keyword"):
        feature_split_stability(x, n_split=3)
    bad = x.copy()
    bad[[2, 9], 0] = np.nan
    with pytest.raises(InputError, match=r"X rows \[2, 9\]"):
        feature_split_stability(bad)
    keep = np.setdiff1d(np.arange(30), [2, 9])
    a = feature_split_stability(bad, nan_policy="omit", seed=4).estimate
    assert a == feature_split_stability(x[keep], seed=4).estimate
    zero_row = x.copy()
    zero_row[0] = 0.0
    with pytest.raises(InputError, match="undefined"):
        rdm_similarity(zero_row, x)
    with pytest.raises(InputError, match="1-D"):
        rdm_similarity(x[:, 0], x[:, 0])


def test_constant_features_are_skipped_not_fatal() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 12))
    x[:, :3] = 1.0
    res = feature_split_stability(x, n_splits=5)
    assert np.isfinite(res.estimate)
    const = np.ones((40, 12))
    res = feature_split_stability(const, n_splits=3)
    assert res.status == "failed" and "no estimable" in res.message


def test_torch_float32_input() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((60, 16))
    ref = feature_split_stability(x, n_splits=4).estimate
    assert feature_split_stability(torch.from_numpy(x), n_splits=4).estimate == ref
    f32 = feature_split_stability(x.astype(np.float32), n_splits=4).estimate
    assert abs(f32 - ref) < 1e-5


def test_plot_and_serialisation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    x = np.random.default_rng(0).standard_normal((60, 16))
    res = feature_split_stability(x, n_splits=6, n_bootstrap=5)
    ax = res.plot()
    assert ax.get_xlabel() == "feature split stability"
    path = res.save(tmp_path / "r.json")
    assert '"estimate"' in path.read_text()
    assert "feature_split_stability" in str(res)
