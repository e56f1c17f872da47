"""Preconditioned curvature, empirical Fisher products, and per-layer blocks.

Adaptive optimizers move along ``P^{-1} grad L``; their linear stability is governed by
the *preconditioned* Hessian ``P^{-1} H``, similar to the symmetric
``P^{-1/2} H P^{-1/2}`` that Lanczos can work on (Cohen et al. 2022, "Adaptive gradient
methods at the edge of stability", arXiv 2207.14484). For Adam,
``P = diag(sqrt(v_t / (1 - beta2^t)) + eps)`` from the optimizer's second-moment state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.errors import InputError
from stabkit.learn.operators import _TARGET_KEYS, _TorchOperator, hessian_operator

__all__ = [
    "EmpiricalFisherOperator",
    "PreconditionedOperator",
    "adam_preconditioned_operator",
    "adam_preconditioner",
    "empirical_fisher_operator",
    "layer_blocks",
]


class PreconditionedOperator:
    """``D^{-1/2} A D^{-1/2}`` for a symmetric operator ``A`` and a positive diagonal ``D``.

    Its eigenvalues are those of ``D^{-1} A`` (similar matrices), so the largest is the
    preconditioned sharpness of an optimizer whose step is ``-eta D^{-1} g``.

    Parameters
    ----------
    operator
        Object with ``shape`` and ``matvec`` (numpy vectors).
    diagonal
        Positive entries of ``D``, one per row of ``operator``.

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit.learn import MatrixOperator
    >>> op = PreconditionedOperator(MatrixOperator(np.diag([4.0, 9.0])), [2.0, 3.0])
    >>> op.matvec(np.array([1.0, 1.0]))
    array([2., 3.])
    """

    def __init__(self, operator: Any, diagonal: Any) -> None:
        shape = getattr(operator, "shape", None)
        if shape is None or not callable(getattr(operator, "matvec", None)):
            raise InputError(
                f"PreconditionedOperator(operator={type(operator).__name__}): need an object "
                "with shape and matvec(v)"
            )
        d = np.asarray(diagonal, dtype=np.float64).reshape(-1)
        if d.shape != (int(shape[0]),):
            raise InputError(
                f"PreconditionedOperator(diagonal=shape {d.shape}): need one entry per row, "
                f"({int(shape[0])},)"
            )
        if not np.all(np.isfinite(d)) or np.any(d <= 0):
            raise InputError(
                "PreconditionedOperator(diagonal=...): entries must be finite and > 0; "
                "for Adam add eps to sqrt(v)"
            )
        self.operator = operator
        self.diagonal = d
        self._scale = 1.0 / np.sqrt(d)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``."""
        return (int(self.operator.shape[0]), int(self.operator.shape[1]))

    @property
    def num_matvecs(self) -> int:
        """Products of the underlying operator."""
        return int(getattr(self.operator, "num_matvecs", 0))

    def matvec(self, v: Any) -> np.ndarray:
        """``D^{-1/2} A D^{-1/2} v`` (numpy in, numpy out)."""
        x = np.asarray(v, dtype=np.float64).reshape(-1)
        out = np.asarray(self.operator.matvec(self._scale * x), dtype=np.float64)
        return self._scale * out

    def dense(self) -> np.ndarray:
        """The full matrix, one product per column."""
        n = self.shape[0]
        eye = np.eye(n)
        return np.column_stack([self.matvec(eye[:, i]) for i in range(n)])

    def __repr__(self) -> str:
        return f"PreconditionedOperator({self.operator!r})"


def adam_preconditioner(optimizer: Any, operator: _TorchOperator) -> np.ndarray:
    """Adam's diagonal preconditioner ``sqrt(v_t / (1 - beta2^t)) + eps``, in operator order.

    Read from ``optimizer.state`` (``exp_avg_sq``, or ``max_exp_avg_sq`` with
    ``amsgrad``, and ``step``) and the parameter group's ``betas`` and ``eps``, for every
    parameter of ``operator`` (a torch-model operator such as
    :func:`~stabkit.learn.hessian_operator`). Works for ``torch.optim.Adam`` and
    ``AdamW`` (weight decay does not enter ``P``).

    Raises
    ------
    InputError
        When the optimizer holds no second-moment state for a parameter (take at least
        one optimizer step first) or does not optimise it.
    """
    import torch

    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InputError(
            f"adam_preconditioner(optimizer={type(optimizer).__name__}): need a torch optimizer"
        )
    group_of: dict[int, Mapping[str, Any]] = {}
    for param_group in optimizer.param_groups:
        for p in param_group["params"]:
            group_of[id(p)] = param_group
    named = dict(operator.model.named_parameters())
    parts = []
    for name in operator.param_names:
        p = named[name]
        group = group_of.get(id(p))
        if group is None:
            raise InputError(
                f"adam_preconditioner: parameter {name!r} is not in the optimizer; build the "
                "operator over the optimised parameters only (params=[...])"
            )
        state = optimizer.state.get(p, {})
        key = "max_exp_avg_sq" if group.get("amsgrad") else "exp_avg_sq"
        if key not in state or "step" not in state:
            raise InputError(
                f"adam_preconditioner: no {key!r} state for parameter {name!r}; the optimizer "
                "must be Adam/AdamW and have taken at least one step"
            )
        beta2 = float(group["betas"][1])
        step = float(state["step"])
        v_hat = state[key].detach().double() / (1.0 - beta2**step)
        parts.append((torch.sqrt(v_hat) + float(group["eps"])).reshape(-1).cpu().numpy())
    return np.concatenate(parts)


def adam_preconditioned_operator(
    model: Any, loss_fn: Callable[..., Any], batch: Any, optimizer: Any, **kwargs: Any
) -> PreconditionedOperator:
    """``P^{-1/2} H P^{-1/2}`` with ``H`` the Hessian and ``P`` Adam's preconditioner.

    Its top eigenvalue is Adam's preconditioned sharpness, stable while below
    ``(2 + 2 beta1) / ((1 - beta1) eta)`` (:func:`stabkit.learn.criteria.adam_threshold`;
    Cohen et al. 2022). ``kwargs`` go to :func:`~stabkit.learn.hessian_operator`.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 1, bias=False).double()
    >>> x = torch.eye(2, dtype=torch.float64); y = torch.ones(2, 1, dtype=torch.float64)
    >>> opt = torch.optim.Adam(model.parameters(), lr=0.1)
    >>> loss = torch.nn.functional.mse_loss(model(x), y); loss.backward(); opt.step()
    >>> op = adam_preconditioned_operator(model, torch.nn.functional.mse_loss, (x, y), opt)
    >>> op.shape
    (2, 2)
    """
    base = hessian_operator(model, loss_fn, batch, **kwargs)
    return PreconditionedOperator(base, adam_preconditioner(optimizer, base))


class EmpiricalFisherOperator(_TorchOperator):
    """``(1/N) sum_i g_i g_i^T`` with ``g_i`` per-sample loss gradients; see
    :func:`empirical_fisher_operator`."""

    _name = "empirical_fisher"

    def _per_sample_losses(self, params: Mapping[str, Any], batch: Any) -> Any:
        import torch
        from torch.func import functional_call, vmap

        buffers = self._buffers()

        def one(sample: Any) -> Any:
            full = {**buffers, **params}
            if isinstance(batch, tuple):
                x, y = sample
                out = functional_call(self.model, full, (x.unsqueeze(0),))
                return self.loss_fn(out, y.unsqueeze(0))
            single = {k: v.unsqueeze(0) for k, v in sample.items()}
            kwargs = {k: v for k, v in single.items() if k not in _TARGET_KEYS}
            out = functional_call(self.model, full, (), kwargs)
            return self.loss_fn(out, single)

        if isinstance(batch, tuple):
            return vmap(one)(batch)
        tensors = {k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}
        return vmap(one)(tensors)

    def _product(self, v_tree: Mapping[str, Any]) -> Any:
        from torch.func import jvp, vjp

        total = None
        for batch, w in self._batches:

            def losses(p: Mapping[str, Any], batch: Any = batch) -> Any:
                return self._per_sample_losses(p, batch)

            values, jv = jvp(losses, (self._params,), (dict(v_tree),))[:2]
            pullback = vjp(losses, self._params)[1]
            g = self._flatten(pullback(jv)[0]) * (w / values.shape[0])
            total = g if total is None else total + g
        return total


def empirical_fisher_operator(
    model: Any,
    loss_fn: Callable[..., Any],
    batch: Any,
    *,
    params: Sequence[str] | None = None,
    mode: str = "eval",
    check_determinism: bool = True,
    distributed: bool = False,
) -> EmpiricalFisherOperator:
    """Empirical Fisher ``F = (1/N) sum_i g_i g_i^T`` as a symmetric linear operator.

    ``g_i`` is the gradient of the loss of sample ``i`` alone (``loss_fn`` applied to a
    batch of one, through ``torch.func.vmap``); ``F v = J^T (J v) / N`` with ``J`` the
    Jacobian of the per-sample losses, one ``jvp`` and one ``vjp`` per product. Unlike
    the Gauss-Newton matrix (:func:`~stabkit.learn.ggn_operator`), which equals the
    Hessian at an interpolating minimum of the square loss, the empirical Fisher
    vanishes there, since every per-sample gradient does (Kunstner, Hennig & Balles
    2019, NeurIPS; Martens 2020, JMLR 21:146). Arguments as for
    :func:`~stabkit.learn.hessian_operator`.
    """
    return EmpiricalFisherOperator(
        model,
        loss_fn,
        batch,
        params=params,
        mode=mode,
        check_determinism=check_determinism,
        distributed=distributed,
    )


def layer_blocks(
    model: Any,
    loss_fn: Callable[..., Any],
    batch: Any,
    *,
    operator: Callable[..., Any] = hessian_operator,
    **kwargs: Any,
) -> dict[str, Any]:
    """Diagonal blocks of a curvature operator, one per module holding parameters.

    Parameters are grouped by the module that owns them (the name before the last
    dot: ``"0.weight"`` and ``"0.bias"`` form block ``"0"``); each block is
    ``operator(model, loss_fn, batch, params=[names], **kwargs)``, i.e. the curvature
    in that layer's parameters with the others held fixed.

    Returns
    -------
    dict
        Module name -> operator, in the model's parameter order.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InputError(f"layer_blocks(model={type(model).__name__}): need a torch.nn.Module")
    if "params" in kwargs:
        raise InputError("layer_blocks(params=...): blocks choose their own parameters")
    groups: dict[str, list[str]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups.setdefault(name.rpartition(".")[0] or name, []).append(name)
    if not groups:
        raise InputError("layer_blocks(model=...): the model has no trainable parameters")
    return {
        block: operator(model, loss_fn, batch, params=names, **kwargs)
        for block, names in groups.items()
    }
