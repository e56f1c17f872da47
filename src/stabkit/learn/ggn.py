"""Generalised Gauss-Newton operator ``J^T H_L J`` over a model's parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stabkit.errors import InputError
from stabkit.learn.operators import _DOC_ARGS, _TARGET_KEYS, _TorchOperator

__all__ = ["GGNOperator", "ggn_operator"]


class GGNOperator(_TorchOperator):
    """Generalised Gauss-Newton ``J^T H_L J``; see :func:`ggn_operator`."""

    _name = "ggn"

    def _product(self, v_tree: Mapping[str, Any]) -> Any:
        import torch
        from torch.func import functional_call, grad, jvp, vjp

        total = None
        for batch, w in self._batches:
            full_buffers = self._buffers()

            def outputs(p: Mapping[str, Any], batch: Any = batch, bufs: Any = full_buffers) -> Any:
                full = {**bufs, **p}
                if isinstance(batch, tuple):
                    return functional_call(self.model, full, (batch[0],))
                kwargs = {k: v for k, v in batch.items() if k not in _TARGET_KEYS}
                return functional_call(self.model, full, (), kwargs)

            def loss_of_out(z: Any, batch: Any = batch) -> Any:
                return self.loss_fn(z, batch[1] if isinstance(batch, tuple) else batch)

            z, jv = jvp(outputs, (self._params,), (dict(v_tree),))[:2]
            if not isinstance(z, torch.Tensor):
                raise InputError(
                    "ggn_operator(model=...): the model must return one tensor for the "
                    "Gauss-Newton product; use hessian_operator otherwise"
                )
            hjv = None
            if self.differentiation == "forward-over-reverse":
                try:
                    hjv = jvp(grad(loss_of_out), (z.detach(),), (jv,))[1]
                except RuntimeError as exc:  # e.g. mse_loss lacks forward-over-reverse
                    if "ZeroTensor" not in str(exc):
                        raise
                    self.differentiation = "reverse-over-reverse"
            if hjv is None:
                loss_pullback = vjp(grad(loss_of_out), z.detach())[1]
                hjv = loss_pullback(jv)[0]
            pullback = vjp(outputs, self._params)[1]
            g = pullback(hjv)[0]
            flat = self._flatten(g) * w
            total = flat if total is None else total + flat
        return total


def ggn_operator(
    model: Any,
    loss_fn: Callable[..., Any],
    batch: Any,
    *,
    params: Sequence[str] | None = None,
    mode: str = "eval",
    check_determinism: bool = True,
    distributed: bool = False,
) -> GGNOperator:
    """Generalised Gauss-Newton matrix ``J^T H_L J`` as a symmetric linear operator.

    ``J`` is the Jacobian of the model outputs in the parameters and ``H_L`` the
    Hessian of the loss in the outputs; the product is a ``jvp`` (``J v``), a
    Hessian-vector product of the loss in the outputs, and a ``vjp`` (``J^T u``).
    Positive semidefinite when the loss is convex in the outputs. Schraudolph (2002),
    Neural Computation 14:1723. The model must return one tensor.
    {args}
    Returns
    -------
    GGNOperator
        With ``shape``, ``matvec(v)``, ``num_matvecs``, ``dense()``.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 1, bias=False).double()
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> y = torch.ones(2, 1, dtype=torch.float64)
    >>> ggn_operator(model, torch.nn.functional.mse_loss, (x, y)).dense()
    array([[1., 0.],
           [0., 4.]])
    """
    return GGNOperator(
        model,
        loss_fn,
        batch,
        params=params,
        mode=mode,
        check_determinism=check_determinism,
        distributed=distributed,
    )


ggn_operator.__doc__ = (ggn_operator.__doc__ or "").replace("{args}", _DOC_ARGS)
