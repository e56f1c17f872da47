"""Lanczos eigenvalues and stochastic traces against dense oracles."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabkit.errors import ConvergenceError, InputError  # noqa: E402
from stabkit.learn import (  # noqa: E402
    EigenResult,
    Hutchinson,
    HutchPlusPlus,
    MatrixOperator,
    TraceResult,
    hessian_operator,
    top_eigenvalues,
    trace_estimate,
)


def _sym(n, seed, eigs=None):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    if eigs is None:
        eigs = rng.standard_normal(n)
    return (q * eigs) @ q.T


def _regression_operator():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(60, 12, generator=gen, dtype=torch.float64)
    x = x * torch.linspace(0.2, 3.0, 12, dtype=torch.float64)
    y = torch.randn(60, 1, generator=gen, dtype=torch.float64)
    model = torch.nn.Linear(12, 1, bias=False).double()
    op = hessian_operator(model, lambda o, t: ((o - t) ** 2).mean(), (x, y))
    return op, 2 * x.T.numpy() @ x.numpy() / 60


@pytest.mark.parametrize("k", [1, 3])
def test_regression_hessian_top_eigenvalues_match_eigh(k):
    op, h = _regression_operator()
    r = top_eigenvalues(op, k=k, tol=1e-8)
    exact = np.sort(np.linalg.eigvalsh(h))[::-1][:k]
    assert isinstance(r, EigenResult) and r.ok
    np.testing.assert_allclose(r.values, exact, rtol=1e-6)
    assert np.all(np.abs(r.values - exact) <= r.errors + 1e-12)
    assert np.all(r.errors <= 1e-8 * np.abs(r.values) + 1e-12)
    assert r.num_matvecs <= 12 and r.eigenvectors.shape == (12, k)
    for i in range(k):
        x = r.eigenvectors[:, i]
        np.testing.assert_allclose(h @ x, r.values[i] * x, atol=1e-6 * abs(r.values[i]))


def test_trace_of_regression_hessian():
    op, h = _regression_operator()
    r = trace_estimate(op, HutchPlusPlus(36))
    # 36 >= 3 n: the sketch spans the whole space, so the trace is exact
    assert r.estimate == pytest.approx(np.trace(h), rel=1e-10)
    r = trace_estimate(op, Hutchinson(200), seed=1)
    assert (
        r.interval[0] - 3 * r.standard_error <= np.trace(h) <= r.interval[1] + 3 * r.standard_error
    )


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_lanczos_meets_tolerance_on_random_matrix(k, tol):
    a = _sym(150, seed=k, eigs=np.linspace(-1.0, 1.0, 150) ** 3 * 10)
    exact = np.sort(np.linalg.eigvalsh(a))[::-1][:k]
    r = top_eigenvalues(MatrixOperator(a), k=k, tol=tol, seed=3)
    assert r.ok and np.all(r.converged)
    # rigorous: an eigenvalue lies within the residual of each Ritz value
    all_eigs = np.linalg.eigvalsh(a)
    for theta, err in zip(r.values, r.errors, strict=True):
        assert np.min(np.abs(all_eigs - theta)) <= err + 1e-12
    np.testing.assert_allclose(r.values, exact, rtol=max(tol, 1e-9) * 10)


def test_tiny_mlp_top3():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    ).double()
    x = torch.randn(30, 2, dtype=torch.float64)
    y = torch.randn(30, 1, dtype=torch.float64)
    op = hessian_operator(model, lambda o, t: ((o - t) ** 2).mean(), (x, y))
    h = op.dense()
    h = (h + h.T) / 2
    exact = np.sort(np.linalg.eigvalsh(h))[::-1][:3]
    r = top_eigenvalues(op, k=3, tol=1e-6)
    np.testing.assert_allclose(r.values, exact, rtol=1e-5)


def test_sign_of_negative_dominant_eigenvalue():
    a = _sym(60, seed=4, eigs=np.concatenate([[-7.0], np.linspace(-2.0, 3.0, 59)]))
    op = MatrixOperator(a)
    mag = top_eigenvalues(op, which="largest_magnitude", tol=1e-8)
    assert mag.values[0] == pytest.approx(-7.0, rel=1e-7)
    big = top_eigenvalues(op, which="largest_algebraic", tol=1e-8)
    assert big.values[0] == pytest.approx(3.0, rel=1e-7)
    small = top_eigenvalues(op, k=2, which="smallest_algebraic", tol=1e-8)
    np.testing.assert_allclose(small.values, [-7.0, -2.0], rtol=1e-7)


def test_warm_start_converges_at_once():
    a = _sym(80, seed=5, eigs=np.linspace(0.0, 4.0, 80))
    op = MatrixOperator(a)
    first = top_eigenvalues(op, tol=1e-10)
    again = top_eigenvalues(op, tol=1e-8, v0=first.eigenvectors[:, 0])
    assert again.num_matvecs <= 2
    assert again.values[0] == pytest.approx(4.0, rel=1e-8)
    assert again.provenance.seed is None


def test_invariant_subspace_and_small_operators():
    # a start vector inside a 2-dimensional invariant subspace: Lanczos must restart
    op = MatrixOperator(np.diag([5.0, 4.0, 3.0, 2.0, 1.0]))
    r = top_eigenvalues(op, k=3, v0=np.array([0.0, 0.0, 0.0, 1.0, 1.0]), tol=1e-10)
    np.testing.assert_allclose(r.values, [5.0, 4.0, 3.0], rtol=1e-9)
    r = top_eigenvalues(MatrixOperator(np.array([[2.0]])))
    assert r.values[0] == pytest.approx(2.0) and r.num_matvecs == 1


def test_budget_exhausted():
    a = _sym(200, seed=6, eigs=np.linspace(0.0, 1.0, 200))
    op = MatrixOperator(a)
    with pytest.raises(ConvergenceError) as info:
        top_eigenvalues(op, k=2, tol=1e-12, max_matvecs=5)
    assert info.value.result.status == "not_converged"
    r = top_eigenvalues(op, k=2, tol=1e-12, max_matvecs=5, throw=False)
    assert not r.ok and r.num_matvecs == 5 and "max_matvecs" in r.message
    assert len(r.to_frame()) == 2 and r.to_dict()["type"] == "EigenResult"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k=0"),
        ({"k": -1}, "k=-1"),
        ({"k": 9}, "only 4"),
        ({"k": 1.5}, "integer"),
        ({"which": "largest"}, "largest_algebraic"),
        ({"tol": 0.0}, "tol"),
        ({"max_matvecs": 0}, "max_matvecs"),
        ({"v0": np.zeros(4)}, "v0"),
    ],
)
def test_top_eigenvalues_bad_inputs(kwargs, match):
    with pytest.raises(InputError, match=match):
        top_eigenvalues(MatrixOperator(np.eye(4)), **kwargs)


def test_not_an_operator():
    with pytest.raises(InputError, match="MatrixOperator"):
        top_eigenvalues(np.eye(3))
    with pytest.raises(InputError, match="MatrixOperator"):
        trace_estimate(np.eye(3))


def test_trace_bad_inputs():
    op = MatrixOperator(np.eye(4))
    with pytest.raises(InputError, match="method"):
        trace_estimate(op, method="hutch")
    with pytest.raises(InputError, match="num_matvecs"):
        Hutchinson(num_matvecs=1)
    with pytest.raises(InputError, match="num_matvecs"):
        HutchPlusPlus(num_matvecs=5)
    with pytest.raises(InputError, match="confidence"):
        trace_estimate(op, confidence=1.0)


def test_hutchinson_interval_coverage():
    a = _sym(50, seed=7, eigs=np.random.default_rng(7).uniform(0.1, 5.0, 50))
    op = MatrixOperator(a)
    true = np.trace(a)
    runs = 200
    covered = 0
    for seed in range(runs):
        r = trace_estimate(op, Hutchinson(30), seed=seed, confidence=0.9)
        assert isinstance(r, TraceResult) and r.num_matvecs == 30
        covered += r.interval[0] <= true <= r.interval[1]
    # Binomial(200, 0.9): mean 180, sd 4.2; allow about 4 sd on either side
    assert 163 <= covered <= 197


def test_hutchpp_beats_hutchinson_on_low_rank_plus_noise():
    n = 200
    rng = np.random.default_rng(8)
    eigs = np.concatenate([np.linspace(50.0, 100.0, 10), rng.uniform(0.0, 0.1, n - 10)])
    op = MatrixOperator(_sym(n, seed=8, eigs=eigs))
    true = eigs.sum()
    err_h = [abs(trace_estimate(op, Hutchinson(60), seed=s).estimate - true) for s in range(20)]
    err_pp = [abs(trace_estimate(op, HutchPlusPlus(60), seed=s).estimate - true) for s in range(20)]
    assert np.mean(err_pp) < 0.2 * np.mean(err_h)
    r = trace_estimate(op, HutchPlusPlus(60))
    assert r.num_matvecs == 60 and r.interval[0] <= r.estimate <= r.interval[1]
