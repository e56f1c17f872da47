"""Hessian and Gauss-Newton operators against dense autograd oracles."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stabkit.errors import InputError  # noqa: E402
from stabkit.learn import (  # noqa: E402
    MatrixOperator,
    ggn_operator,
    hessian_operator,
)


def _regression(n=40, d=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randn(n, 1, generator=gen, dtype=torch.float64)
    model = torch.nn.Linear(d, 1, bias=False).double()
    return model, x, y


def _mse(out, target):
    return ((out - target) ** 2).mean()


def _mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    ).double()


def _dense_autograd_hessian(model, loss_fn, x, y):
    names = [n for n, _ in model.named_parameters()]
    params = {n: p.detach() for n, p in model.named_parameters()}
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]
    flat0 = torch.cat([params[n].reshape(-1) for n in names])

    def f(flat):
        tree, off = {}, 0
        for n, sh, sz in zip(names, shapes, sizes, strict=True):
            tree[n] = flat[off : off + sz].reshape(sh)
            off += sz
        return loss_fn(torch.func.functional_call(model, tree, (x,)), y)

    return torch.autograd.functional.hessian(f, flat0).numpy()


@pytest.mark.parametrize("loss_fn", [_mse, torch.nn.functional.mse_loss])
def test_linear_regression_hessian_is_2xtx_over_n(loss_fn):
    model, x, y = _regression()
    op = hessian_operator(model, loss_fn, (x, y))
    exact = 2 * x.T.numpy() @ x.numpy() / x.shape[0]
    assert op.shape == (5, 5)
    np.testing.assert_allclose(op.dense(), exact, rtol=1e-12, atol=1e-12)
    assert op.num_matvecs == 5


def test_mlp_matvecs_equal_dense_autograd_hessian():
    model = _mlp()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(30, 1, generator=gen, dtype=torch.float64)
    op = hessian_operator(model, _mse, (x, y))
    h = _dense_autograd_hessian(model, _mse, x, y)
    assert op.shape == (33, 33)
    rng = np.random.default_rng(0)
    for _ in range(3):
        v = rng.standard_normal(33)
        np.testing.assert_allclose(op.matvec(v), h @ v, rtol=0, atol=1e-10)
    np.testing.assert_allclose(op.dense(), h, rtol=0, atol=1e-10)
    # torch vectors in, torch vectors out, same dtype
    tv = torch.as_tensor(rng.standard_normal(33))
    out = op.matvec(tv)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), h @ tv.numpy(), atol=1e-10)


def test_list_of_minibatches_is_size_weighted_average():
    model = _mlp(2)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(25, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(25, 1, generator=gen, dtype=torch.float64)
    whole = hessian_operator(model, _mse, (x, y)).dense()
    parts = hessian_operator(model, _mse, [(x[:7], y[:7]), (x[7:], y[7:])]).dense()
    np.testing.assert_allclose(parts, whole, atol=1e-10)


def test_dict_batch_and_loss_on_batch():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 1, bias=False).double()

        def forward(self, features):
            return self.lin(features)

    model = Net()
    x = torch.randn(10, 3, dtype=torch.float64)
    y = torch.randn(10, 1, dtype=torch.float64)
    op = hessian_operator(
        model, lambda out, b: _mse(out, b["targets"]), {"features": x, "targets": y}
    )
    np.testing.assert_allclose(op.dense(), 2 * x.T.numpy() @ x.numpy() / 10, atol=1e-12)


def test_params_subset():
    model = _mlp()
    x = torch.randn(10, 2, dtype=torch.float64)
    y = torch.randn(10, 1, dtype=torch.float64)
    op = hessian_operator(model, _mse, (x, y), params=["2.weight", "2.bias"])
    full = hessian_operator(model, _mse, (x, y)).dense()
    assert op.shape == (9, 9)
    np.testing.assert_allclose(op.dense(), full[-9:, -9:], atol=1e-10)


def test_ggn_equals_hessian_for_linear_model_and_is_psd_for_mlp():
    model, x, y = _regression()
    for loss in (_mse, torch.nn.functional.mse_loss):
        g = ggn_operator(model, loss, (x, y)).dense()
        np.testing.assert_allclose(g, 2 * x.T.numpy() @ x.numpy() / x.shape[0], atol=1e-12)
    mlp = _mlp()
    xm = torch.randn(20, 2, dtype=torch.float64)
    ym = torch.randn(20, 1, dtype=torch.float64)
    g = ggn_operator(mlp, _mse, [(xm[:5], ym[:5]), (xm[5:], ym[5:])]).dense()
    # J^T (2/n) J from the dense Jacobian of the outputs
    names = [n for n, _ in mlp.named_parameters()]
    params = {n: p.detach() for n, p in mlp.named_parameters()}
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(mlp, p, (xm,)))(params)
    j = torch.cat([jac[n].reshape(20, -1) for n in names], dim=1).numpy()
    np.testing.assert_allclose(g, 2 * j.T @ j / 20, atol=1e-10)
    assert np.linalg.eigvalsh((g + g.T) / 2).min() > -1e-10


@pytest.mark.parametrize("model_mode", [True, False])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_mode_is_restored(mode, model_mode):
    model = _mlp()
    model.train(model_mode)
    x = torch.randn(10, 2, dtype=torch.float64)
    y = torch.randn(10, 1, dtype=torch.float64)
    op = hessian_operator(model, _mse, (x, y), mode=mode)
    op.matvec(np.ones(op.shape[0]))
    assert model.training is model_mode


def test_mode_is_used_during_products():
    seen = []

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 1).double()

        def forward(self, x):
            seen.append(self.training)
            return self.lin(x)

    x = torch.randn(4, 2, dtype=torch.float64)
    y = torch.randn(4, 1, dtype=torch.float64)
    hessian_operator(Probe(), _mse, (x, y), mode="train")
    assert seen and all(seen)


def test_dropout_in_train_mode_is_refused_eval_is_fine():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 1)
    ).double()
    x = torch.randn(20, 2, dtype=torch.float64)
    y = torch.randn(20, 1, dtype=torch.float64)
    with pytest.raises(InputError, match="dropout"):
        hessian_operator(model, _mse, (x, y), mode="train")
    op = hessian_operator(model, _mse, (x, y), mode="eval")
    assert op.num_matvecs == 0


def test_batchnorm_train_mode_leaves_running_stats():
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1)
    )
    model = model.double()
    before = model[1].running_mean.clone()
    x = torch.randn(16, 2, dtype=torch.float64)
    y = torch.randn(16, 1, dtype=torch.float64)
    op = hessian_operator(model, _mse, (x, y), mode="train")
    op.matvec(np.ones(op.shape[0]))
    assert torch.equal(model[1].running_mean, before)


def test_float32_model_gives_float32_products_close_to_float64():
    model = _mlp()
    x = torch.randn(10, 2, dtype=torch.float64)
    y = torch.randn(10, 1, dtype=torch.float64)
    h64 = hessian_operator(model, _mse, (x, y)).dense()
    model32 = model.float()
    op = hessian_operator(model32, _mse, (x.float(), y.float()))
    assert op.dtype == torch.float32
    np.testing.assert_allclose(op.dense(), h64, atol=1e-4)


@pytest.mark.parametrize(
    ("batch", "match"),
    [
        ("not a batch", "batch must be a tuple"),
        ((1, 2, 3), "tuple of length 3"),
        ([], "empty"),
        ([[1, 2]], r"batch\[0\]"),
        ({"a": 1}, "no tensor"),
    ],
)
def test_bad_batch_structure(batch, match):
    with pytest.raises(InputError, match=match):
        hessian_operator(_mlp(), _mse, batch)


def test_bad_arguments():
    x = torch.randn(4, 2, dtype=torch.float64)
    y = torch.randn(4, 1, dtype=torch.float64)
    with pytest.raises(InputError, match="mode"):
        hessian_operator(_mlp(), _mse, (x, y), mode="training")
    with pytest.raises(InputError, match=r"nn\.Module"):
        hessian_operator(object(), _mse, (x, y))
    with pytest.raises(InputError, match="unknown parameter"):
        hessian_operator(_mlp(), _mse, (x, y), params=["nope"])
    with pytest.raises(InputError, match="callable"):
        hessian_operator(_mlp(), 3, (x, y))
    op = hessian_operator(_mlp(), _mse, (x, y))
    with pytest.raises(InputError, match="shape"):
        op.matvec(np.ones(3))
    with pytest.raises(InputError, match="max_size"):
        op.dense(max_size=10)


def test_matrix_operator():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    op = MatrixOperator(torch.as_tensor(a))
    np.testing.assert_allclose(op.matvec([1.0, 0.0]), [2.0, 1.0])
    t = op.matvec(torch.tensor([0.0, 1.0], dtype=torch.float32))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(op.dense(), a)
    with pytest.raises(InputError, match="symmetric"):
        MatrixOperator(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(InputError, match="square"):
        MatrixOperator(np.ones((2, 3)))
    with pytest.raises(InputError, match="shape"):
        op.matvec(np.ones(3))


def test_import_is_lazy():
    code = (
        "import sys, stabkit.learn as L; assert 'torch' not in sys.modules; "
        "L.top_eigenvalues; L.MatrixOperator; assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "module",
    [
        "stabkit.learn.operators",
        "stabkit.learn.ggn",
        "stabkit.learn.spectra",
        "stabkit.learn.trace",
        "stabkit.learn.density",
        "stabkit.learn.criteria",
        "stabkit.learn.preconditioned",
        "stabkit.learn.numerics",
        "stabkit.learn.sensitivity",
        "stabkit.learn.monitors",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_cross_entropy_hessian_and_differentiation_path():
    torch.manual_seed(4)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)
    ).double()
    x = torch.randn(12, 3, dtype=torch.float64)
    y = torch.randint(0, 3, (12,))
    ce = torch.nn.functional.cross_entropy
    dense = _dense_autograd_hessian(model, ce, x, y)
    op = hessian_operator(model, ce, (x, y), cache_graph=False)
    assert op.differentiation == "forward-over-reverse"
    np.testing.assert_allclose(op.dense(), dense, atol=1e-10)
    cached = hessian_operator(model, ce, (x, y))
    assert cached.differentiation == "reverse-over-reverse (cached graph)"
    np.testing.assert_allclose(cached.dense(), dense, atol=1e-10)
    # the cached graph is a snapshot: training the model afterwards does not change it
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    np.testing.assert_allclose(cached.dense(), dense, atol=1e-10)
    # torch's mse_loss lacks forward-over-reverse: the operator falls back, same answer
    model2, x2, y2 = _regression()
    fallback = hessian_operator(model2, torch.nn.functional.mse_loss, (x2, y2), cache_graph=False)
    assert fallback.differentiation == "reverse-over-reverse"


def test_list_of_dict_batches():
    model, x, y = _regression(n=30, d=4)

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, inputs):
            return self.inner(inputs)

    def loss(out, batch):
        return _mse(out, batch["labels"])

    batches = [{"inputs": x[:10], "labels": y[:10]}, {"inputs": x[10:], "labels": y[10:]}]
    op = hessian_operator(Wrap(), loss, batches)
    np.testing.assert_allclose(op.dense(), 2 * x.T.numpy() @ x.numpy() / 30, atol=1e-12)
    g = ggn_operator(Wrap(), loss, batches)
    np.testing.assert_allclose(g.dense(), 2 * x.T.numpy() @ x.numpy() / 30, atol=1e-12)


class _InPlaceBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x):
        h = torch.tanh(self.lin(x))
        h.mul_(2.0)  # overwrites tanh's output, which its derivative needs
        return h


@pytest.mark.parametrize("cache_graph", [True, False])
def test_in_place_operation_error_names_the_module(cache_graph):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), _InPlaceBlock(), torch.nn.Linear(3, 1))
    model = model.double()
    x = torch.randn(6, 2, dtype=torch.float64)
    y = torch.randn(6, 1, dtype=torch.float64)
    with pytest.raises(InputError, match=r"module '1' \(_InPlaceBlock\.forward, line .*in-place"):
        hessian_operator(model, lambda o, t: ((o - t) ** 2).mean(), (x, y), cache_graph=cache_graph)


def test_hugging_face_batch_encoding_is_accepted():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(10, 4)
            self.out = torch.nn.Linear(4, 10)

        def forward(self, input_ids, attention_mask):
            h = self.emb(input_ids) * attention_mask[..., None]
            return self.out(h.mean(dim=1))

    ids = torch.randint(0, 10, (6, 5))
    batch = transformers.BatchEncoding(
        {"input_ids": ids, "attention_mask": torch.ones(6, 5), "labels": ids[:, 0]}
    )

    def loss(out, b):
        return torch.nn.functional.cross_entropy(out, b["labels"])

    model = Net().double()
    batch["attention_mask"] = batch["attention_mask"].double()
    op = hessian_operator(model, loss, batch)
    plain = hessian_operator(model, loss, dict(batch))
    v = np.random.default_rng(0).standard_normal(op.shape[0])
    np.testing.assert_allclose(op.matvec(v), plain.matvec(v), rtol=1e-12)
