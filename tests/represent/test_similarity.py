"""CKA, Procrustes and RSA against independent formulas, plus invariance properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from stabkit.errors import InputError
from stabkit.represent import cka, procrustes_similarity, rsa


def _hsic_biased(k: np.ndarray, l_: np.ndarray) -> float:
    n = k.shape[0]
    h = np.eye(n) - 1.0 / n
    return float(np.trace(k @ h @ l_ @ h)) / (n - 1) ** 2


def _hsic_unbiased(k: np.ndarray, l_: np.ndarray) -> float:
    """Song et al. (2012), eq. 5, written directly on n x n Gram matrices."""
    n = k.shape[0]
    k = k - np.diag(np.diag(k))
    l_ = l_ - np.diag(np.diag(l_))
    one = np.ones(n)
    term = (
        np.trace(k @ l_)
        + (one @ k @ one) * (one @ l_ @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ k @ l_ @ one)
    )
    return float(term / (n * (n - 3)))


def _direct(k: np.ndarray, l_: np.ndarray, hsic) -> float:  # type: ignore[no-untyped-def]
    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 12)) + 3.0
    y = np.tanh(x @ rng.standard_normal((12, 7))) + 0.3 * rng.standard_normal((80, 7))
    return x, y


def test_linear_against_gram_hsic(pair) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    ref = _direct(x @ x.T, y @ y.T, _hsic_biased)
    assert cka(x, y).estimate == pytest.approx(ref, abs=1e-12)


def test_wide_inputs_use_gram_path() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 60))
    y = rng.standard_normal((20, 50))
    assert cka(x, y).estimate == pytest.approx(_direct(x @ x.T, y @ y.T, _hsic_biased), abs=1e-12)


def test_debiased_against_unbiased_hsic(pair) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    ref = _direct(x @ x.T, y @ y.T, _hsic_unbiased)
    assert cka(x, y, "debiased").estimate == pytest.approx(ref, abs=1e-12)


def test_rbf_against_direct_kernel(pair) -> None:  # type: ignore[no-untyped-def]
    x, y = pair

    def gram(a: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
        sigma = np.sqrt(np.median(pdist(a, "sqeuclidean")))
        return np.exp(-d2 / (2 * sigma**2))

    res = cka(x, y, "rbf")
    assert res.estimate == pytest.approx(_direct(gram(x), gram(y), _hsic_biased), abs=1e-10)
    assert res.details["sigma_x"] == pytest.approx(np.sqrt(np.median(pdist(x, "sqeuclidean"))))


def test_procrustes_against_scipy(pair) -> None:  # type: ignore[no-untyped-def]
    x, _ = pair
    rng = np.random.default_rng(3)
    y = x @ np.linalg.qr(rng.standard_normal((12, 12)))[0] + rng.standard_normal(x.shape)
    xc = x - x.mean(0)
    yc = y - y.mean(0)
    xc /= np.linalg.norm(xc)
    yc /= np.linalg.norm(yc)
    r, _ = orthogonal_procrustes(yc, xc)
    ref = 1 - np.sum((xc - yc @ r) ** 2) / 2.0
    assert procrustes_similarity(x, y).estimate == pytest.approx(ref, abs=1e-12)


def test_rsa_is_spearman_of_correlation_rdms(pair) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    ref = spearmanr(pdist(x, "correlation"), pdist(y, "correlation"))[0]
    res = rsa(x, y)
    assert res.measure == "rsa"
    assert res.estimate == pytest.approx(ref, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(1e-3, 1e3),
    kind=st.sampled_from(["linear", "debiased", "rbf"]),
)
def test_cka_invariant_to_orthogonal_maps_and_scaling(seed: int, scale: float, kind: str) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((40, 6))
    y = x[:, :4] ** 2 + 0.5 * rng.standard_normal((40, 4))
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    base = cka(x, y, kind).estimate
    assert cka(scale * x @ q, y, kind).estimate == pytest.approx(base, abs=1e-9)
    assert cka(x, scale * y, kind).estimate == pytest.approx(base, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(1e-2, 1e2))
def test_procrustes_invariances(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((30, 5))
    y = x + rng.standard_normal((30, 5))
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    base = procrustes_similarity(x, y).estimate
    assert procrustes_similarity(scale * x @ q, y).estimate == pytest.approx(base, abs=1e-9)
    assert procrustes_similarity(x, x @ q).estimate == pytest.approx(1.0, abs=1e-9)


def test_independent_linear_cka_expectation() -> None:
    """Biased linear CKA of independent Gaussian X (n x p), Y (n x q).

    E||X^T Y||_F^2 = (n-1) p q and E||X^T X||_F^2 = (n-1) p (n + p) (diagonal
    chi-square second moments (n-1)(n+1), off-diagonal (n-1)), so to first order
    CKA ~ sqrt(p q / ((n + p)(n + q))), i.e. d / (n + d) when p = q = d.
    """
    rng = np.random.default_rng(42)
    for n, p, q in [(200, 20, 20), (100, 50, 10)]:
        vals = [
            cka(rng.standard_normal((n, p)), rng.standard_normal((n, q))).estimate
            for _ in range(40)
        ]
        expect = np.sqrt(p * q / ((n + p) * (n + q)))
        se = np.std(vals, ddof=1) / np.sqrt(len(vals))
        assert abs(np.mean(vals) - expect) < 4 * se + 0.02 * expect


def test_independent_debiased_cka_near_zero() -> None:
    rng = np.random.default_rng(7)
    vals = [
        cka(rng.standard_normal((150, 30)), rng.standard_normal((150, 30)), "debiased").estimate
        for _ in range(40)
    ]
    se = np.std(vals, ddof=1) / np.sqrt(len(vals))
    assert abs(np.mean(vals)) < 4 * se
    biased = cka(rng.standard_normal((150, 30)), rng.standard_normal((150, 30))).estimate
    assert biased > 0.1  # the biased estimator is far from zero here: the test can fail


def test_bootstrap_interval_covers_estimate(pair) -> None:  # type: ignore[no-untyped-def]
    x, y = pair
    res = cka(x, y, n_bootstrap=60, seed=1)
    assert res.ci_low < res.estimate < res.ci_high
    assert 0 < res.standard_error < 0.2
    assert res.components.size == 60


def test_large_n_linear_is_exact_without_n_by_n() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30000, 16)).astype(np.float32)
    y = (x[:, :8] + rng.standard_normal((30000, 8))).astype(np.float32)
    xd = x.astype(np.float64) - x.mean(0, dtype=np.float64)
    yd = y.astype(np.float64) - y.mean(0, dtype=np.float64)
    ref = np.sum((xd.T @ yd) ** 2) / np.sqrt(np.sum((xd.T @ xd) ** 2) * np.sum((yd.T @ yd) ** 2))
    assert cka(x, y).estimate == pytest.approx(ref, abs=1e-12)
    sub = cka(x, y, "rbf", max_samples=800)
    assert sub.n_used == 800 and "subsampled" in sub.message


def test_bad_input() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3))
    with pytest.raises(InputError, match="rows"):
        cka(x, x[:10])
    with pytest.raises(InputError, match="kind"):
        cka(x, x, "cosine")
    with pytest.raises(InputError, match="constant"):
        cka(x, np.ones((20, 3)))
    with pytest.raises(InputError, match="at least 4"):
        cka(x[:3], x[:3], "debiased")
    with pytest.raises(InputError, match="unknown keyword"):
        cka(x, x, n_boot=3)
    bad = x.copy()
    bad[4, 1] = np.nan
    with pytest.raises(InputError, match="nan_policy='omit'"):
        procrustes_similarity(bad, x)
    keep = np.delete(np.arange(20), 4)
    assert cka(bad, x, nan_policy="omit").estimate == pytest.approx(cka(x[keep], x[keep]).estimate)


def test_torch_and_float32_inputs() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 6))
    y = x + rng.standard_normal((50, 6))
    ref = cka(x, y).estimate
    assert cka(torch.from_numpy(x), torch.from_numpy(y)).estimate == pytest.approx(ref, abs=1e-12)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    assert cka(x32, y32).estimate == pytest.approx(ref, abs=1e-6)
