"""Vectorised SGD/GD for the two model families of the wu2023 study (numpy).

Each trainer runs one copy of the model per learning rate (axis 0), all visiting the
samples in the same order, on the square loss ``(1/2n) sum (f(x_i) - y_i)^2``; a copy
that blows up is set to NaN and left there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_BLOW_UP = 1e4


def _kill(bad: np.ndarray, *arrays: np.ndarray) -> None:
    for a in arrays:
        a[bad] = np.nan


def train_diagonal(
    x: np.ndarray,
    y: np.ndarray,
    lrs: np.ndarray,
    *,
    alpha: float,
    sgd: bool,
    num_iter: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal linear net ``f = <u * v, x>`` from ``u = alpha, v = 0``; returns ``(u, v)``.

    ``num_iter``: epochs of SGD with batch 1 (``sgd``) or full-batch GD steps.
    """
    n, d = x.shape
    lr = np.asarray(lrs, dtype=float)[:, None]
    u = np.full((lr.size, d), float(alpha))
    v = np.zeros((lr.size, d))
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for _ in range(num_iter):
            if sgd:
                for i in rng.permutation(n):
                    e = lr * ((u * v) @ x[i] - y[i])[:, None] * x[i]
                    u, v = u - e * v, v - e * u
            else:
                g = ((u * v) @ x.T - y) @ x / n
                u, v = u - lr * g * v, v - lr * g * u
            _kill(~np.all(np.abs(u) < _BLOW_UP, axis=1), u, v)
    return u, v


def diagonal_output_gradients(u: np.ndarray, v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-sample ``grad_theta f(x_i)``, ``theta = (u, v)``: ``(n, 2d)``."""
    return np.hstack([v * x, u * x])


def train_relu(
    x: np.ndarray,
    y: np.ndarray,
    lrs: np.ndarray,
    *,
    width: int,
    sgd: bool,
    num_iter: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-layer ReLU net ``f = sum_k a_k relu(w_k . x)``; returns ``(w (L, m, d), a (L, m))``.

    Init ``w_k ~ N(0, I/d)``, ``a_k ~ N(0, 1/m)``, the same for every learning rate.
    """
    n, d = x.shape
    lr = np.asarray(lrs, dtype=float)
    init = np.random.default_rng(seed + 1)
    w0 = init.standard_normal((width, d)) / np.sqrt(d)
    a0 = init.standard_normal(width) / np.sqrt(width)
    w = np.repeat(w0[None], lr.size, axis=0)
    a = np.repeat(a0[None], lr.size, axis=0)
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for _ in range(num_iter):
            if sgd:
                for i in rng.permutation(n):
                    h = w @ x[i]
                    act = np.maximum(h, 0.0)
                    r = lr * ((a * act).sum(axis=1) - y[i])
                    ga = r[:, None] * act
                    gw = (r[:, None] * a * (h > 0))[:, :, None] * x[i]
                    a, w = a - ga, w - gw
            else:
                h = np.einsum("lmd,nd->lnm", w, x)
                act = np.maximum(h, 0.0)
                r = np.einsum("lnm,lm->ln", act, a) - y
                ga = np.einsum("ln,lnm->lm", r, act) / n
                gw = np.einsum("ln,lnm,nd->lmd", r, a[:, None, :] * (h > 0), x) / n
                a, w = a - lr[:, None] * ga, w - lr[:, None, None] * gw
            bad = ~np.all(np.abs(a) < _BLOW_UP, axis=1)
            _kill(bad, a, w)
    return w, a


def relu_output_gradients(w: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-sample ``grad_theta f(x_i)``, ``theta = (a, vec w)``: ``(n, m + m d)``."""
    h = x @ w.T
    act = np.maximum(h, 0.0)
    gw = (a * (h > 0))[:, :, None] * x[:, None, :]
    return np.hstack([act, gw.reshape(x.shape[0], -1)])


def torch_diagonal(u: np.ndarray, v: np.ndarray) -> Any:
    """The diagonal net as a float64 torch module with parameters ``u``, ``v``."""
    import torch

    class Diagonal(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.u = torch.nn.Parameter(torch.tensor(u, dtype=torch.float64))
            self.v = torch.nn.Parameter(torch.tensor(v, dtype=torch.float64))

        def forward(self, inputs: Any) -> Any:
            return inputs @ (self.u * self.v)

    return Diagonal()


def torch_relu(w: np.ndarray, a: np.ndarray) -> Any:
    """The two-layer ReLU net as a float64 torch module (parameters ``a``, ``w``)."""
    import torch

    class TwoLayer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(a, dtype=torch.float64))
            self.w = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))

        def forward(self, inputs: Any) -> Any:
            return torch.relu(inputs @ self.w.T) @ self.a

    return TwoLayer()


def half_mse(output: Any, target: Any) -> Any:
    """``(1/2n) sum (f_i - y_i)^2``: the loss whose GGN is ``(1/n) sum g_i g_i^T``."""
    return 0.5 * ((output - target) ** 2).mean()


def reduce_gradients(g: np.ndarray) -> np.ndarray:
    """``g`` in an orthonormal basis of its row space: ``(n, r)``, ``r = rank g``.

    Linearised SGD ``delta' = (I - eta g_i g_i^T) delta`` leaves the complement of the
    span of the ``g_i`` unchanged, so its mean-square stability is that of the reduced
    problem (and ``tr H``, ``lambda_max`` are the same).
    """
    _, s, vt = np.linalg.svd(g, full_matrices=False)
    rank = int(np.sum(s > s[0] * 1e-12))
    return g @ vt[:rank].T
