"""Symmetric linear operators over the parameters of a model.

A *linear operator* here is any object with ``shape``, ``matvec(v)``, ``num_matvecs``
and ``dense()``. :class:`MatrixOperator` wraps a dense symmetric matrix;
:class:`HessianOperator` gives Hessian-vector products of a loss over the flattened
trainable parameters of a :class:`torch.nn.Module`, by forward-over-reverse
differentiation (``torch.func.jvp`` of ``torch.func.grad``), never forming the Hessian.
:class:`GGNOperator` gives generalised Gauss-Newton products ``J^T H_L J v``.

Torch is imported only when an operator on a torch model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.errors import InputError

__all__ = [
    "GGNOperator",
    "HessianOperator",
    "MatrixOperator",
    "ggn_operator",
    "hessian_operator",
]

_MODES = ("eval", "train")
_TARGET_KEYS = ("targets", "labels", "target", "label", "y")


def _is_torch_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


class MatrixOperator:
    """A dense symmetric matrix as a linear operator.

    Parameters
    ----------
    matrix
        Square symmetric ``numpy`` array or ``torch`` tensor (converted to float64).
    check_symmetric
        Raise :class:`~stabkit.errors.InputError` when ``matrix`` is not symmetric
        to ``1e-10`` relative.

    Examples
    --------
    >>> import numpy as np
    >>> op = MatrixOperator(np.diag([3.0, -1.0]))
    >>> op.matvec(np.array([1.0, 1.0]))
    array([ 3., -1.])
    >>> op.shape, op.num_matvecs
    ((2, 2), 1)
    """

    def __init__(self, matrix: Any, *, check_symmetric: bool = True) -> None:
        if _is_torch_tensor(matrix):
            matrix = matrix.detach().cpu().numpy()
        a = np.asarray(matrix, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
            raise InputError(
                f"MatrixOperator(matrix=array of shape {a.shape}): need a non-empty square "
                "matrix; pass an (n, n) array"
            )
        if not np.all(np.isfinite(a)):
            raise InputError("MatrixOperator(matrix=...): matrix has NaN or inf entries")
        scale = max(float(np.max(np.abs(a))), np.finfo(float).tiny)
        if check_symmetric and float(np.max(np.abs(a - a.T))) > 1e-10 * scale:
            raise InputError(
                "MatrixOperator(matrix=...): matrix is not symmetric; pass (A + A.T) / 2 "
                "or check_symmetric=False"
            )
        self._a = a
        self.num_matvecs = 0

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``."""
        return (int(self._a.shape[0]), int(self._a.shape[1]))

    def matvec(self, v: Any) -> Any:
        """``A @ v``; a torch vector gives a torch vector, anything else a numpy one."""
        self.num_matvecs += 1
        if _is_torch_tensor(v):
            import torch

            out = self._a @ v.detach().cpu().numpy().astype(np.float64)
            return torch.as_tensor(out, dtype=v.dtype, device=v.device)
        x = np.asarray(v, dtype=np.float64)
        if x.shape != (self.shape[0],):
            raise InputError(
                f"matvec(v=array of shape {x.shape}): need a vector of shape ({self.shape[0]},)"
            )
        return self._a @ x

    def dense(self) -> np.ndarray:
        """The matrix itself (a copy)."""
        return self._a.copy()

    def __repr__(self) -> str:
        return f"MatrixOperator(n={self.shape[0]})"


def _batch_size(batch: Any, where: str) -> int:
    import torch

    first: Any
    if isinstance(batch, tuple):
        first = batch[0]
    else:
        tensors = [v for v in batch.values() if isinstance(v, torch.Tensor)]
        if not tensors:
            raise InputError(
                f"{where}: dict batch holds no tensor; pass e.g. {{'inputs': x, 'targets': y}}"
            )
        first = tensors[0]
    if isinstance(first, torch.Tensor) and first.ndim > 0:
        return int(first.shape[0])
    return 1


def _normalise_batches(batch: Any, fname: str) -> tuple[list[tuple[Any, float]], float]:
    """Batches as ``[(batch, weight)]`` with weights proportional to size, summing to 1,
    and the total size."""
    if isinstance(batch, (tuple, Mapping)):
        items = [batch]
    elif isinstance(batch, list):
        items = list(batch)
    else:
        raise InputError(
            f"{fname}(batch={type(batch).__name__}): batch must be a tuple (inputs, targets), "
            "a dict, or a list of such mini-batches"
        )
    if not items:
        raise InputError(f"{fname}(batch=[]): the list of mini-batches is empty; pass at least one")
    out = []
    for i, b in enumerate(items):
        where = f"{fname}(batch[{i}])" if isinstance(batch, list) else f"{fname}(batch)"
        if isinstance(b, tuple):
            if len(b) != 2:
                raise InputError(
                    f"{where}: tuple of length {len(b)}; a tuple batch must be (inputs, targets)"
                )
        elif isinstance(b, Mapping):
            b = dict(b)
        else:
            raise InputError(
                f"{where}: got {type(b).__name__}; each mini-batch must be a tuple "
                "(inputs, targets) or a dict"
            )
        out.append((b, float(_batch_size(b, where))))
    total = sum(w for _, w in out)
    return [(b, w / total) for b, w in out], total


class _TorchOperator:
    """Shared machinery: parameters, flattening, modes, vector conversion."""

    _name = "operator"

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[..., Any],
        batch: Any,
        *,
        params: Sequence[str] | None = None,
        mode: str = "eval",
        check_determinism: bool = True,
        distributed: bool = False,
    ) -> None:
        import torch

        fname = f"{self._name}_operator"
        if distributed and not (
            torch.distributed.is_available() and torch.distributed.is_initialized()
        ):
            raise InputError(
                f"{fname}(distributed=True): torch.distributed is not initialised; call "
                "torch.distributed.init_process_group(...) on every rank first"
            )
        self.distributed = bool(distributed)
        if not isinstance(model, torch.nn.Module):
            raise InputError(f"{fname}(model={type(model).__name__}): need a torch.nn.Module")
        if not callable(loss_fn):
            raise InputError(f"{fname}(loss_fn={loss_fn!r}): loss_fn must be callable")
        if mode not in _MODES:
            raise InputError(f"{fname}(mode={mode!r}): mode must be 'eval' or 'train'")
        named = dict(model.named_parameters())
        if params is None:
            names = [n for n, p in named.items() if p.requires_grad]
        else:
            if isinstance(params, str):
                raise InputError(
                    f"{fname}(params={params!r}): pass a list of parameter names, not a string"
                )
            names = list(params)
            unknown = [n for n in names if n not in named]
            if unknown:
                raise InputError(
                    f"{fname}(params={names!r}): unknown parameter(s) {unknown}; "
                    f"the model has {list(named)}"
                )
        if not names:
            raise InputError(f"{fname}(model=...): the model has no trainable parameters")
        self.model = model
        self.loss_fn = loss_fn
        self.mode = mode
        self.param_names = names
        self._params = {n: named[n].detach() for n in names}
        self._shapes = [self._params[n].shape for n in names]
        self._sizes = [int(self._params[n].numel()) for n in names]
        self.dtype = self._params[names[0]].dtype
        self.device = self._params[names[0]].device
        self._batches, self._local_size = _normalise_batches(batch, fname)
        self.num_matvecs = 0
        #: how products are formed; falls back to "reverse-over-reverse" for losses
        #: whose forward-mode derivative torch lacks
        self.differentiation = "forward-over-reverse"
        self._cache_graph = False
        self._graph: tuple[list[Any], tuple[Any, ...]] | None = None
        if check_determinism:
            self._check_determinism()

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)`` with ``n`` the number of trainable parameters."""
        n = sum(self._sizes)
        return (n, n)

    def _unflatten(self, flat: Any) -> dict[str, Any]:
        out = {}
        offset = 0
        for name, shape, size in zip(self.param_names, self._shapes, self._sizes, strict=True):
            out[name] = flat[offset : offset + size].reshape(shape)
            offset += size
        return out

    def _flatten(self, tree: Mapping[str, Any]) -> Any:
        import torch

        return torch.cat([tree[n].reshape(-1) for n in self.param_names])

    def _buffers(self) -> dict[str, Any]:
        # copies, so that train-mode batch norm never changes the model's running stats
        return {n: b.detach().clone() for n, b in self.model.named_buffers()}

    def _loss(self, params: Mapping[str, Any], batch: Any) -> Any:
        """Loss of one mini-batch as a function of the trainable parameters."""
        from torch.func import functional_call

        full = {**self._buffers(), **params}
        if isinstance(batch, tuple):
            out = functional_call(self.model, full, (batch[0],))
            return self.loss_fn(out, batch[1])
        kwargs = {k: v for k, v in batch.items() if k not in _TARGET_KEYS}
        out = functional_call(self.model, full, (), kwargs)
        return self.loss_fn(out, batch)

    def _product(self, v_tree: Mapping[str, Any]) -> Any:  # pragma: no cover - abstract
        raise InputError(f"{type(self).__name__} cannot form products")

    def matvec(self, v: Any) -> Any:
        """The operator times ``v``: a torch vector gives a torch vector, else numpy.

        The model is put in ``mode`` for the product and restored afterwards.
        """
        import torch

        as_numpy = not isinstance(v, torch.Tensor)
        t = torch.as_tensor(np.asarray(v, dtype=np.float64)) if as_numpy else v.detach()
        n = self.shape[0]
        if tuple(t.shape) != (n,):
            raise InputError(
                f"matvec(v=vector of shape {tuple(t.shape)}): need shape ({n},), "
                "one entry per trainable parameter"
            )
        t = t.to(dtype=self.dtype, device=self.device)
        was_training = self.model.training
        self.model.train(self.mode == "train")
        try:
            out = self._product(self._unflatten(t)).detach()
        except (RuntimeError, NotImplementedError) as exc:
            from stabkit.learn._diagnose import diagnose_product_failure

            self._graph = None
            raise diagnose_product_failure(
                self.model, lambda: self._product(self._unflatten(t)), exc
            ) from exc
        finally:
            self.model.train(was_training)
        if self.distributed:
            out = self._all_reduce(out)
        self.num_matvecs += 1
        if as_numpy:
            return out.cpu().numpy().astype(np.float64)
        return out.to(dtype=v.dtype, device=v.device)

    def _all_reduce(self, local: Any) -> Any:
        """Size-weighted mean of the ranks' products: every rank gets the global product."""
        import torch
        import torch.distributed as dist

        packed = torch.cat([local * self._local_size, local.new_tensor([self._local_size])])
        dist.all_reduce(packed, op=dist.ReduceOp.SUM)
        return packed[:-1] / packed[-1]

    def dense(self, *, max_size: int = 4000) -> np.ndarray:
        """The full matrix, one product per column (for small models and tests)."""
        n = self.shape[0]
        if n > max_size:
            raise InputError(
                f"dense(max_size={max_size}): the operator is {n} x {n}; use matvec, "
                "or raise max_size if the memory is there"
            )
        eye = np.eye(n)
        return np.column_stack([self.matvec(eye[:, i]) for i in range(n)])

    def _check_determinism(self) -> None:
        import torch

        gen = torch.Generator(device="cpu").manual_seed(12345)
        v = torch.randn(self.shape[0], generator=gen, dtype=torch.float64)
        a = self.matvec(v)
        b = self.matvec(v)
        self.num_matvecs = 0
        scale = float(torch.linalg.vector_norm(a))
        eps = float(torch.finfo(self.dtype).eps)
        if not bool(torch.all(torch.isfinite(a))):
            raise InputError(
                f"{self._name}_operator(batch=...): the product is not finite; "
                "check the loss and the batch for NaN or inf"
            )
        if float(torch.linalg.vector_norm(a - b)) > 1000 * eps * max(scale, 1.0):
            raise InputError(
                f"{self._name}_operator(mode={self.mode!r}): two products with the same vector "
                "differ, so the loss is random; dropout or batch norm in train mode make it so. "
                "Use mode='eval', or remove the randomness"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.shape[0]}, mode={self.mode!r})"


class HessianOperator(_TorchOperator):
    """Hessian of a loss over the flattened trainable parameters; see :func:`hessian_operator`."""

    _name = "hessian"

    def _graph_product(self, v_tree: Mapping[str, Any]) -> Any:
        """``H v`` by one backward pass through the gradient's saved graph."""
        import torch

        if self._graph is None:
            leaves = {n: p.detach().clone().requires_grad_(True) for n, p in self._params.items()}
            total = sum(w * self._loss(leaves, b) for b, w in self._batches)
            ordered = [leaves[n] for n in self.param_names]
            grads = torch.autograd.grad(total, ordered, create_graph=True, allow_unused=True)
            self._graph = (ordered, grads)
        ordered, grads = self._graph
        pairs = [(g, v_tree[n]) for g, n in zip(grads, self.param_names, strict=True)]
        used = [i for i, (g, _) in enumerate(pairs) if g is not None and g.requires_grad]
        out = [torch.zeros_like(p) for p in ordered]
        if used:
            hv = torch.autograd.grad(
                [pairs[i][0] for i in used],
                ordered,
                grad_outputs=[pairs[i][1] for i in used],
                retain_graph=True,
                allow_unused=True,
            )
            out = [h if h is not None else z for h, z in zip(hv, out, strict=True)]
        return torch.cat([o.reshape(-1) for o in out])

    def _product(self, v_tree: Mapping[str, Any]) -> Any:
        from torch.func import grad, jvp, vjp

        if self._cache_graph:
            return self._graph_product(v_tree)

        def total(p: Mapping[str, Any]) -> Any:
            return sum(w * self._loss(p, b) for b, w in self._batches)

        if self.differentiation == "forward-over-reverse":
            try:
                hv = jvp(grad(total), (self._params,), (dict(v_tree),))[1]
                return self._flatten(hv)
            except RuntimeError as exc:  # some torch losses (mse_loss) lack forward-over-reverse
                if "ZeroTensor" not in str(exc):
                    raise
                self.differentiation = "reverse-over-reverse"
        pullback = vjp(grad(total), self._params)[1]
        hv = pullback(dict(v_tree))[0]
        return self._flatten(hv)


_DOC_ARGS = """
    Parameters
    ----------
    model
        A :class:`torch.nn.Module`; its parameters are read, never changed.
    loss_fn
        For tuple batches ``loss_fn(outputs, targets)``; for dict batches
        ``loss_fn(outputs, batch)`` with the model called as ``model(**inputs)``, where
        ``inputs`` is the dict less the keys ``targets``, ``labels``, ``target``,
        ``label`` and ``y``. The loss should be a mean over the mini-batch.
    batch
        ``(inputs, targets)``, a dict, or a list of such mini-batches; the losses of a
        list are averaged, weighted by mini-batch size (the first dimension).
    params
        Names of the parameters to differentiate (default: all with
        ``requires_grad``); the others are held fixed.
    mode
        ``"eval"`` (default) or ``"train"``: the model mode during each product;
        the model's own mode is restored afterwards.
    check_determinism
        Compute two products with the same vector and raise
        :class:`~stabkit.errors.InputError` when they differ (dropout, or batch
        norm in train mode).
    distributed
        Under ``torch.distributed`` (e.g. DDP): ``batch`` is this rank's shard, and
        each product is all-reduced, weighted by shard size, so every rank gets the
        operator of the whole data set. Every rank must call ``matvec`` alike.
"""


def hessian_operator(
    model: Any,
    loss_fn: Callable[..., Any],
    batch: Any,
    *,
    params: Sequence[str] | None = None,
    mode: str = "eval",
    check_determinism: bool = True,
    distributed: bool = False,
    cache_graph: bool | None = None,
) -> HessianOperator:
    """Hessian of a loss over a model's parameters, as a symmetric linear operator.

    ``H v = d/dt grad L(theta + t v)`` at ``t = 0``: forward-over-reverse
    (``torch.func.jvp`` of ``torch.func.grad``), one gradient's cost per product, in
    the dtype of the model (float64 for a float64 model). Pearlmutter (1994), Neural
    Computation 6:147.
    {args}
    cache_graph
        Keep the autograd graph of the gradient (built once, on the parameters as they
        were when the operator was made) and form each product by one backward pass
        through it, as PyHessian does: about half the cost of forward-over-reverse, for
        the memory of one graph per mini-batch. Default: on for up to 8 mini-batches.
        The determinism check always runs without the cache.

    Returns
    -------
    HessianOperator
        With ``shape``, ``matvec(v)`` (torch or numpy vectors), ``num_matvecs``,
        ``dense()``.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 1, bias=False).double()
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> y = torch.zeros(2, 1, dtype=torch.float64)
    >>> op = hessian_operator(model, torch.nn.functional.mse_loss, (x, y))
    >>> op.dense()  # 2 X^T X / n
    array([[1., 0.],
           [0., 4.]])
    """
    op = HessianOperator(
        model,
        loss_fn,
        batch,
        params=params,
        mode=mode,
        check_determinism=check_determinism,
        distributed=distributed,
    )
    op._cache_graph = len(op._batches) <= 8 if cache_graph is None else bool(cache_graph)
    if op._cache_graph:
        op.differentiation = "reverse-over-reverse (cached graph)"
    return op


hessian_operator.__doc__ = (hessian_operator.__doc__ or "").replace("{args}", _DOC_ARGS)


from stabkit.learn.ggn import GGNOperator, ggn_operator  # noqa: E402  (re-exported)
