"""Optimizer stability thresholds against simulated iterations and companion matrices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from stabkit.errors import InputError  # noqa: E402
from stabkit.learn.criteria import (  # noqa: E402
    adam_threshold,
    gd_threshold,
    momentum_threshold,
    optimizer_thresholds,
    sgd_mean_square_stability,
    sgd_trace_threshold,
)


def _torch_run(lam, lr, steps=400, **opt_kwargs):
    """|x| after `steps` of a torch optimizer on L = lam x^2 / 2 from x = 1."""
    x = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = torch.optim.SGD([x], lr=lr, **opt_kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * lam * x**2).sum().backward()
        opt.step()
    return abs(float(x.detach()))


@pytest.mark.parametrize(
    "kwargs, threshold",
    [
        ({}, lambda lr: gd_threshold(lr)),
        ({"momentum": 0.9}, lambda lr: momentum_threshold(lr, 0.9)),
        ({"momentum": 0.5}, lambda lr: momentum_threshold(lr, 0.5)),
        (
            {"momentum": 0.9, "nesterov": True},
            lambda lr: momentum_threshold(lr, 0.9, nesterov=True),
        ),
        (
            {"momentum": 0.8, "dampening": 0.3},
            lambda lr: momentum_threshold(lr, 0.8, dampening=0.3),
        ),
    ],
)
def test_torch_sgd_diverges_exactly_past_the_threshold(kwargs, threshold):
    lr = 0.1
    lam_c = threshold(lr)
    assert _torch_run(lam_c * 0.98, lr, **kwargs) < 1.0
    assert _torch_run(lam_c * 1.02, lr, **kwargs) > 1.0


def _companion_radius(a, beta, nesterov):
    if nesterov:
        c = np.array([1.0, -(1 + beta) * (1 - a), beta * (1 - a)])
    else:
        c = np.array([1.0, -(1 + beta - a), beta])
    return float(np.max(np.abs(np.roots(c))))


@settings(max_examples=60)
@given(st.floats(0.0, 0.99), st.booleans())
def test_momentum_threshold_is_where_the_companion_radius_reaches_one(beta, nesterov):
    a_c = momentum_threshold(1.0, beta, nesterov=nesterov)
    assert _companion_radius(a_c * (1 - 1e-6), beta, nesterov) <= 1 + 1e-9
    assert _companion_radius(a_c * (1 + 1e-3), beta, nesterov) > 1


def test_adam_threshold_is_heavy_ball_with_ema_momentum():
    # m' = b1 m + (1 - b1) g; x' = x - lr m' / P  on L = lam x^2 / 2 with P frozen
    lr, b1, p = 1e-3, 0.9, 2.0
    assert adam_threshold(lr, b1) == pytest.approx(momentum_threshold(lr * (1 - b1), b1))
    assert adam_threshold(1.0, 0.9) == pytest.approx(38.0)

    def run(pre_sharp):
        lam = pre_sharp * p
        x, m = 1.0, 0.0
        for _ in range(500):
            m = b1 * m + (1 - b1) * lam * x
            x -= lr * m / p
        return abs(x)

    thr = adam_threshold(lr, b1)
    assert run(0.98 * thr) < 1 and run(1.02 * thr) > 1


def test_gd_map_on_quadratic_matches_criterion():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    h = (q * np.array([0.1, 0.5, 1.0, 2.0, 5.0, 10.0])) @ q.T
    for lr in (0.19, 0.21):
        x = rng.standard_normal(6)
        for _ in range(2000):
            x = x - lr * h @ x
        assert (np.linalg.norm(x) < 1) == (gd_threshold(lr) > 10.0)


def test_orthogonal_gradients_give_trace_bound_2b_over_lr():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    g = np.diag(np.sqrt(a))
    for batch in (1, 2, 4):
        r = sgd_mean_square_stability(g, lr=0.1, batch_size=batch)
        # component i shrinks by (1 - lr a_i / B) when i is in the batch: stable iff lr a_i <= 2B
        assert r.critical_lr == pytest.approx(2 * batch / a.max(), rel=1e-7)
    r = sgd_mean_square_stability(g, lr=2 / 4.0 * 0.99)
    assert r.stable and r.trace_condition
    r = sgd_mean_square_stability(g, lr=2 / 4.0 * 1.01)
    assert not r.stable
    # full batch B = n is gradient descent
    r = sgd_mean_square_stability(g, lr=0.49, batch_size=4)
    assert r.critical_lr == pytest.approx(2 / (a.max() / 4), rel=1e-7)


def test_sgd_second_moment_radius_predicts_monte_carlo_growth():
    rng = np.random.default_rng(1)
    n, d = 8, 5
    g = rng.standard_normal((n, d))
    crit = sgd_mean_square_stability(g, lr=0.01).critical_lr
    for factor, grows in ((0.8, False), (1.25, True)):
        lr = factor * crit
        runs, steps = 2000, 200
        delta = rng.standard_normal((runs, d))
        for _ in range(steps):
            idx = rng.integers(0, n, size=runs)
            gi = g[idx]
            delta = delta - lr * gi * np.einsum("rd,rd->r", gi, delta)[:, None]
        ms = np.mean(np.sum(delta**2, axis=1))
        assert (ms > d) == grows
        assert sgd_mean_square_stability(g, lr=lr).stable == (not grows)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 6),
    st.integers(1, 5),
    st.integers(0, 10_000),
    st.floats(0.05, 3.0),
)
def test_sgd_stable_at_batch_one_implies_trace_condition(n, d, seed, scale):
    # Wu & Su (2023): linear stability of SGD (B = 1) forces tr H <= 2 / lr
    g = np.random.default_rng(seed).standard_normal((n, d)) * scale
    r = sgd_mean_square_stability(g, lr=0.3)
    if r.stable:
        assert r.trace_condition
        assert r.gd_stable  # SGD stability is stricter than GD's
    assert r.critical_lr <= 2 / r.sharpness * (1 + 1e-7)


def test_per_sample_hessians_form_agrees_with_gradients_form():
    g = np.random.default_rng(2).standard_normal((5, 3))
    hs = np.einsum("ni,nj->nij", g, g)
    a = sgd_mean_square_stability(g, lr=0.2, batch_size=2)
    b = sgd_mean_square_stability(hs, lr=0.2, batch_size=2)
    assert a.spectral_radius == pytest.approx(b.spectral_radius, rel=1e-10)
    assert a.critical_lr == pytest.approx(b.critical_lr, rel=1e-8)


def test_large_problem_uses_iterative_eigensolver():
    g = np.random.default_rng(3).standard_normal((30, 25))
    r = sgd_mean_square_stability(g, lr=0.01)
    assert r.ok and 0 < r.critical_lr < 2 / r.sharpness


def test_optimizer_thresholds_read_torch_optimizers():
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert optimizer_thresholds(torch.optim.SGD(p, lr=0.1))[0].threshold == pytest.approx(20.0)
    t = optimizer_thresholds(torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True))[0]
    assert t.rule == "nesterov" and t.threshold == pytest.approx(
        momentum_threshold(0.1, 0.9, nesterov=True)
    )
    t = optimizer_thresholds(torch.optim.AdamW(p, lr=1e-3, betas=(0.8, 0.99)))[0]
    assert t.quantity == "preconditioned sharpness"
    assert t.threshold == pytest.approx(3.6 / (0.2 * 1e-3))
    with pytest.raises(InputError, match="known are"):
        optimizer_thresholds(torch.optim.RMSprop(p))


def test_bad_inputs():
    with pytest.raises(InputError, match="lr"):
        gd_threshold(0.0)
    with pytest.raises(InputError, match="momentum"):
        momentum_threshold(0.1, 1.0)
    with pytest.raises(InputError, match="batch_size"):
        sgd_trace_threshold(0.1, 0)
    with pytest.raises(InputError, match="per_sample"):
        sgd_mean_square_stability(np.zeros(3), lr=0.1)
    with pytest.raises(InputError, match="batch_size"):
        sgd_mean_square_stability(np.ones((3, 2)), lr=0.1, batch_size=4)
    assert sgd_trace_threshold(0.1, 4) == pytest.approx(80.0)
