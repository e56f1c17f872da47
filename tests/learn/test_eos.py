"""edge_of_stability: probes against dense Hessians, the catapult, divergence kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabkit.errors import InputError  # noqa: E402
from stabkit.learn.eos import EdgeOfStabilityResult, edge_of_stability  # noqa: E402


def _setup(seed=0, width=8):
    torch.manual_seed(seed)
    x = torch.randn(40, 4, dtype=torch.float64)
    y = torch.tanh(x @ torch.randn(4, 1, dtype=torch.float64))
    model = torch.nn.Sequential(
        torch.nn.Linear(4, width), torch.nn.Tanh(), torch.nn.Linear(width, 1)
    ).double()
    return model, (x, y)


def _mse(o, t):
    return ((o - t) ** 2).mean()


def _dense_top(model, batch):
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in params])

    def f(theta):
        tree, off = {}, 0
        for n, p in zip(names, params, strict=True):
            tree[n] = theta[off : off + p.numel()].reshape(p.shape)
            off += p.numel()
        return _mse(torch.func.functional_call(model, tree, (batch[0],)), batch[1])

    return float(np.linalg.eigvalsh(torch.autograd.functional.hessian(f, flat).numpy()).max())


def test_first_probe_is_the_dense_top_eigenvalue_and_fields_are_consistent():
    model, batch = _setup()
    top0 = _dense_top(model, batch)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    r = edge_of_stability(model, _mse, batch, opt, num_steps=30, every=10)
    assert isinstance(r, EdgeOfStabilityResult) and r.ok
    assert r.sharpness[0] == pytest.approx(top0, rel=1e-3)
    assert abs(r.sharpness[0] - top0) <= r.sharpness_error[0] + 1e-9 * top0
    assert list(r.probe_steps) == [0, 10, 20] and r.threshold == pytest.approx(40.0)
    assert r.reached_step is None and math.isnan(r.ratio_after)
    frame = r.to_frame()
    assert len(frame) == 30 and frame["sharpness"].notna().sum() == 3


def test_gd_beyond_threshold_catapults_below_it():
    # start with lr such that 2/lr is below the initial sharpness: GD cannot stay and the
    # sharpness must drop under the threshold (or the loss diverges)
    model, batch = _setup(seed=1)
    top0 = _dense_top(model, batch)
    lr = 2.0 / (0.8 * top0)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    r = edge_of_stability(model, _mse, batch, opt, num_steps=100, every=10)
    assert r.reached_step == 0 and r.sharpness[0] > r.threshold
    if r.ok:
        assert np.min(r.sharpness[1:]) < r.threshold
        assert r.ratio_after < 1.25


def test_divergence_keeps_the_run():
    model, batch = _setup()
    opt = torch.optim.SGD(model.parameters(), lr=50.0)
    r = edge_of_stability(model, _mse, batch, opt, num_steps=500, every=50)
    assert r.status == "diverged" and "kept" in r.message
    assert 0 < len(r.loss) < 500 and not math.isfinite(r.loss[-1])


def test_adam_uses_preconditioned_sharpness():
    model, batch = _setup()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    r = edge_of_stability(model, _mse, batch, opt, num_steps=21, every=10)
    assert r.quantity == "preconditioned sharpness"
    assert r.threshold == pytest.approx(3.8 / (0.1 * 1e-2))
    assert list(r.probe_steps) == [10, 20]


def test_bad_input():
    model, batch = _setup()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(InputError, match="num_steps"):
        edge_of_stability(model, _mse, batch, opt, num_steps=0)
    with pytest.raises(InputError, match="inputs, targets"):
        edge_of_stability(model, _mse, [batch], opt, num_steps=5)
