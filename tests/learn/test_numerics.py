"""StableMax, ⊥Grad, z-loss, qk-layernorm attention and the softmax-collapse detector."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from stabkit.errors import InputError  # noqa: E402
from stabkit.learn.numerics import (  # noqa: E402
    PerpGrad,
    QKNormAttention,
    collapse_gap,
    log_stablemax,
    softmax_collapse_fraction,
    softmax_collapse_mask,
    stablemax,
    stablemax_cross_entropy,
    z_loss,
)

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def _ce_in(dtype, z, target):
    """Cross-entropy and its gradient with every operation rounded to ``dtype``."""
    shifted = z - z.max()
    total = torch.exp(shifted).sum().to(dtype)
    logp = (shifted - torch.log(total)).to(dtype)
    grad = (torch.exp(logp) - torch.nn.functional.one_hot(target, z.numel())).to(dtype)
    return -logp[target], grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_collapse_flagged_exactly_where_the_arithmetic_zeroes_loss_and_gradient(dtype):
    eps = torch.finfo(dtype).eps
    gap = -math.log(eps / 2)
    assert collapse_gap(dtype) == pytest.approx(gap)
    target = torch.tensor(0)
    for factor, collapsed in ((1.02, True), (0.98, False)):
        z = torch.tensor([factor * gap, 0.0], dtype=dtype)
        assert bool(softmax_collapse_mask(z[None], target[None])[0]) == collapsed
        loss, grad = _ce_in(dtype, z, target)
        assert bool(loss == 0) == collapsed
        assert bool(grad[0] == 0) == collapsed
    # a sample whose target is not the arg-max never has a zero loss
    z = torch.tensor([[2 * gap, 0.0]], dtype=dtype)
    assert not bool(softmax_collapse_mask(z, torch.tensor([1]))[0])
    assert bool(softmax_collapse_mask(z)[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_collapse_matches_torch_cross_entropy(dtype):
    # torch's own cross-entropy collapses in the logits' dtype, half precisions included
    work = dtype
    gap = collapse_gap(work)
    for factor, collapsed in ((1.05, True), (0.95, False)):
        z = torch.tensor([[factor * gap, 0.0]], dtype=dtype, requires_grad=True)
        target = torch.tensor([0])
        loss = torch.nn.functional.cross_entropy(z, target)
        loss.backward()
        assert bool(loss == 0) == collapsed
        assert bool(z.grad[0, 0] == 0) == collapsed
        frac = softmax_collapse_fraction(z, target, compute_dtype=work)
        assert softmax_collapse_fraction(z, target) == frac
        assert frac == (1.0 if collapsed else 0.0)


def test_collapse_fraction_and_bad_input():
    z = torch.tensor([[30.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 50.0, 0.0]])
    assert softmax_collapse_fraction(z, torch.tensor([0, 0, 1])) == pytest.approx(2 / 3)
    assert softmax_collapse_fraction(z.double(), torch.tensor([0, 0, 1])) == pytest.approx(1 / 3)
    with pytest.raises(InputError, match="classes"):
        softmax_collapse_fraction(torch.zeros(3, 1))
    with pytest.raises(InputError, match="targets"):
        softmax_collapse_fraction(z, torch.tensor([0, 1]))
    with pytest.raises(InputError, match="floating"):
        softmax_collapse_fraction(torch.zeros(2, 2, dtype=torch.long))


@settings(max_examples=60)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=8))
def test_stablemax_keeps_order_sums_to_one_and_stays_finite(values):
    z = torch.tensor(values, dtype=torch.float64)
    p = stablemax(z)
    assert torch.all(torch.isfinite(p)) and torch.all(p > 0)
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-12)
    order_z = np.argsort(np.array(values), kind="stable")
    assert np.all(np.diff(p.numpy()[order_z]) >= 0)
    np.testing.assert_allclose(log_stablemax(z).exp().numpy(), p.numpy(), rtol=1e-12)


def test_stablemax_values_and_loss():
    # s(1) = 2, s(0) = 1, s(-1) = 1/2
    np.testing.assert_allclose(
        stablemax(torch.tensor([1.0, 0.0, -1.0])).numpy(), [4 / 7, 2 / 7, 1 / 7], rtol=1e-6
    )
    z = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = stablemax_cross_entropy(z, torch.tensor([0, 2]))
    assert loss.dtype == torch.float64
    assert float(loss) == pytest.approx((-math.log(4 / 7) - math.log(1 / 3)) / 2)
    loss.backward()
    assert torch.all(torch.isfinite(z.grad))
    none = stablemax_cross_entropy(z, torch.tensor([0, 2]), reduction="none")
    assert none.shape == (2,)
    with pytest.raises(InputError, match="reduction"):
        stablemax_cross_entropy(z, torch.tensor([0, 2]), reduction="avg")


def test_stablemax_loss_keeps_a_gradient_where_softmax_collapses():
    z = torch.tensor([[30.0, 0.0]], requires_grad=True)  # beyond float32's collapse gap
    torch.nn.functional.cross_entropy(z, torch.tensor([0])).backward()
    assert z.grad[0, 0] == 0 and abs(float(z.grad[0, 1])) < 1e-12
    z.grad = None
    stablemax_cross_entropy(z, torch.tensor([0]), dtype=None).backward()
    assert z.grad[0, 0] < 0 and z.grad[0, 1] > 1e-3


def test_perpgrad_orthogonal_with_norm_of_g():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(50, dtype=torch.float64))
    g = torch.randn(50, dtype=torch.float64)
    w0 = w.detach().clone()
    opt = PerpGrad([w], base=torch.optim.SGD, lr=0.5)
    w.grad = g.clone()
    opt.step()
    step = (w0 - w.detach()) / 0.5
    cos = float(step @ w0 / (step.norm() * w0.norm()))
    assert abs(cos) < 1e-6
    assert float(step.norm()) == pytest.approx(float(g.norm()), rel=1e-12)
    # wrapping AdamW works and shares state
    opt2 = PerpGrad([w], lr=1e-2, weight_decay=0.0)
    w.grad = g.clone()
    opt2.step()
    assert "exp_avg_sq" in opt2.state[w]
    opt2.zero_grad()
    assert w.grad is None
    with pytest.raises(InputError, match="optimizer class"):
        PerpGrad([w], base="adam")


def test_z_loss_is_logsumexp_squared():
    z = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    expected = 1e-4 * (math.log(2) ** 2 + math.log(4) ** 2) / 2
    assert float(z_loss(z)) == pytest.approx(expected, rel=1e-6)


def test_qk_layernorm_bounds_attention_logits_as_weights_grow():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 16)
    plain = QKNormAttention(16, 4, qk_layernorm=False)
    normed = QKNormAttention(16, 4, qk_layernorm=True)
    normed.qkv.weight.data.copy_(plain.qkv.weight.data)
    for scale in (1.0, 10.0):
        plain.qkv.weight.data.mul_(scale)
        normed.qkv.weight.data.mul_(scale)
        plain(x)
        normed(x)
    # LayerNorm on q and k: |q.k| <= |q||k| = d_h, so |z| <= sqrt(d_h) (no affine drift yet)
    assert normed.last_logit_max <= math.sqrt(4) + 1e-5
    assert plain.last_logit_max > 10 * normed.last_logit_max
    assert plain.last_entropy < normed.last_entropy
    seen = []
    normed.logits_hook = lambda m, z: seen.append(z.shape)
    normed(x)
    assert seen == [(2, 4, 6, 6)]
