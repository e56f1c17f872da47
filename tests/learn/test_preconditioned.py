"""Adam-preconditioned Hessian, empirical Fisher, per-layer blocks, and DDP products."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabkit.errors import InputError  # noqa: E402
from stabkit.learn import (  # noqa: E402
    MatrixOperator,
    PreconditionedOperator,
    adam_preconditioned_operator,
    adam_preconditioner,
    empirical_fisher_operator,
    ggn_operator,
    hessian_operator,
    layer_blocks,
    top_eigenvalues,
)


def _mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)
    ).double()


def _data(n=24, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x, y


def _mse(out, y):
    return ((out - y) ** 2).mean()


def _dense_hessian(model, x, y):
    params = dict(model.named_parameters())
    names = list(params)
    flat = torch.cat([p.detach().reshape(-1) for p in params.values()])

    def loss_of(theta):
        tree, off = {}, 0
        for n in names:
            size = params[n].numel()
            tree[n] = theta[off : off + size].reshape(params[n].shape)
            off += size
        return _mse(torch.func.functional_call(model, tree, (x,)), y)

    return torch.autograd.functional.hessian(loss_of, flat).numpy()


def test_adam_preconditioned_hessian_matches_dense_and_eigs_of_pinv_h():
    model = _mlp()
    x, y = _data()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.99), eps=1e-6)
    for _ in range(3):
        opt.zero_grad()
        _mse(model(x), y).backward()
        opt.step()
    h = _dense_hessian(model, x, y)
    p = np.concatenate(
        [
            (
                torch.sqrt(opt.state[q]["exp_avg_sq"] / (1 - 0.99 ** float(opt.state[q]["step"])))
                + 1e-6
            )
            .reshape(-1)
            .numpy()
            for q in model.parameters()
        ]
    )
    op = adam_preconditioned_operator(model, _mse, (x, y), opt)
    np.testing.assert_allclose(
        adam_preconditioner(opt, hessian_operator(model, _mse, (x, y))), p, rtol=1e-12
    )
    dense = op.dense()
    expected = h / np.sqrt(np.outer(p, p))
    np.testing.assert_allclose(dense, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())
    # its eigenvalues are those of P^{-1} H (similar matrices)
    lam = np.sort(np.linalg.eigvals(h / p[:, None]).real)[::-1]
    r = top_eigenvalues(op, k=1, tol=1e-8)
    assert r.values[0] == pytest.approx(lam[0], rel=1e-6)


def test_adam_preconditioner_needs_state():
    model = _mlp()
    x, y = _data()
    opt = torch.optim.Adam(model.parameters())
    with pytest.raises(InputError, match="at least one step"):
        adam_preconditioned_operator(model, _mse, (x, y), opt)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(InputError, match="Adam"):
        adam_preconditioned_operator(model, _mse, (x, y), sgd)
    with pytest.raises(InputError, match="> 0"):
        PreconditionedOperator(MatrixOperator(np.eye(2)), [1.0, 0.0])


def test_empirical_fisher_matches_per_sample_gradients():
    model = _mlp()
    x, y = _data(n=10)
    grads = []
    for i in range(10):
        model.zero_grad()
        _mse(model(x[i : i + 1]), y[i : i + 1]).backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy())
    g = np.array(grads)
    expected = g.T @ g / 10
    op = empirical_fisher_operator(model, _mse, (x, y))
    np.testing.assert_allclose(op.dense(), expected, rtol=1e-9, atol=1e-12)
    # list of mini-batches: weighted by size, same operator
    op2 = empirical_fisher_operator(model, _mse, [(x[:4], y[:4]), (x[4:], y[4:])])
    np.testing.assert_allclose(op2.dense(), expected, rtol=1e-9, atol=1e-12)


def test_fisher_vanishes_where_ggn_equals_hessian_at_interpolating_minimum():
    # f linear in theta, residuals zero: H = GGN = X^T X / N but the empirical Fisher is 0
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1, bias=False).double()
    x = torch.randn(12, 4, dtype=torch.float64)
    y = model(x).detach()

    def half_sq(out, t):
        return 0.5 * ((out - t) ** 2).mean()

    fisher = empirical_fisher_operator(model, half_sq, (x, y)).dense()
    hess = hessian_operator(model, half_sq, (x, y)).dense()
    ggn = ggn_operator(model, half_sq, (x, y)).dense()
    np.testing.assert_allclose(ggn, hess, rtol=1e-10)
    # per-sample gradients vanish at the minimum, so F = 0 while H = X^T X / N
    assert np.abs(fisher).max() < 1e-20
    np.testing.assert_allclose(hess, x.numpy().T @ x.numpy() / 12, rtol=1e-10)


def test_layer_blocks_are_diagonal_blocks_of_the_hessian():
    model = _mlp()
    x, y = _data()
    h = _dense_hessian(model, x, y)
    blocks = layer_blocks(model, _mse, (x, y))
    assert list(blocks) == ["0", "2"]
    sizes = [3 * 5 + 5, 5 * 2 + 2]
    np.testing.assert_allclose(blocks["0"].dense(), h[: sizes[0], : sizes[0]], atol=1e-10)
    np.testing.assert_allclose(blocks["2"].dense(), h[sizes[0] :, sizes[0] :], atol=1e-10)
    with pytest.raises(InputError, match="own parameters"):
        layer_blocks(model, _mse, (x, y), params=["0.weight"])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, x, y, v, out_path):
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        model = _mlp()
        # uneven shards: 10 and 14 samples
        shard = slice(0, 10) if rank == 0 else slice(10, None)
        op = hessian_operator(model, _mse, (x[shard], y[shard]), distributed=True)
        hv = op.matvec(v)
        np.save(f"{out_path}-{rank}.npy", hv)
    finally:
        dist.destroy_process_group()


def test_ddp_two_process_gloo_gives_single_process_answer(tmp_path):
    import torch.multiprocessing as mp

    x, y = _data(n=24)
    model = _mlp()
    n = sum(p.numel() for p in model.parameters())
    v = np.random.default_rng(3).standard_normal(n)
    single = hessian_operator(model, _mse, (x, y)).matvec(v)
    out = str(tmp_path / "hv")
    mp.spawn(_ddp_worker, args=(2, _free_port(), x, y, v, out), nprocs=2, join=True)
    for rank in range(2):
        np.testing.assert_allclose(np.load(f"{out}-{rank}.npy"), single, rtol=1e-10, atol=1e-13)


def test_distributed_without_process_group_is_a_clear_error():
    model = _mlp()
    x, y = _data()
    with pytest.raises(InputError, match="init_process_group"):
        hessian_operator(model, _mse, (x, y), distributed=True)
