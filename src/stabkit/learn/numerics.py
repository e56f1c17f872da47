"""Numerically stable training pieces: StableMax, ⊥Grad, z-loss, qk-layernorm attention,
and the softmax-collapse detector.

*Softmax collapse* (Prieto et al. 2025, ICLR, arXiv 2501.04697): when every
``exp(z_j - z_max)`` with ``j`` not the arg-max is below half a unit in the last place of
1 in the working precision, ``sum_j exp(z_j - z_max)`` rounds to exactly 1, the
cross-entropy of a correctly classified sample is exactly 0 and so is the gradient of
its largest logit: learning stops for that sample. With two classes this happens once the logit gap
exceeds ``-ln(eps / 2)`` (16.6 in float32, 36.7 in float64, 7.6 in float16, 5.5 in
bfloat16, ``eps`` the machine epsilon). StableMax replaces ``exp`` by a function that grows
linearly, and ⊥Grad removes the gradient's component along the weights, which only
scales the logits; both let training go on without weight decay. z-loss and qk-layernorm
are the fixes of Wortsman et al. (2023, arXiv 2309.14322) for output- and
attention-logit growth.

This module needs torch (the ``learn`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from stabkit.errors import InputError

__all__ = [
    "PerpGrad",
    "QKNormAttention",
    "collapse_gap",
    "log_stablemax",
    "softmax_collapse_fraction",
    "softmax_collapse_mask",
    "stablemax",
    "stablemax_cross_entropy",
    "z_loss",
]


def collapse_gap(dtype: torch.dtype) -> float:
    """The logit gap beyond which a two-class softmax collapses in ``dtype``: ``-ln(eps/2)``.

    ``1 + x`` rounds to 1 (round to nearest, ties to even) iff ``x <= eps / 2``.

    Examples
    --------
    >>> round(collapse_gap(torch.float32), 4)
    16.6355
    """
    if not dtype.is_floating_point:
        raise InputError(f"collapse_gap(dtype={dtype}): need a floating-point dtype")
    return -math.log(torch.finfo(dtype).eps / 2)


def _check_logits(logits: Any, fname: str) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise InputError(f"{fname}(logits=...): need a floating-point torch tensor")
    if logits.ndim < 1 or logits.shape[-1] < 2:
        raise InputError(
            f"{fname}(logits of shape {tuple(logits.shape)}): the last dimension holds the "
            "classes and needs at least 2"
        )
    return logits


def softmax_collapse_mask(
    logits: torch.Tensor,
    targets: torch.Tensor | None = None,
    *,
    compute_dtype: torch.dtype | None = None,
) -> Any:
    """Per sample: does the softmax collapse in the working precision?

    ``sum_j exp(z_j - max z)`` is computed as a softmax would, rounded to the working
    precision; a sample collapses when the sum is exactly 1. Its cross-entropy is then
    exactly 0, and so is the gradient with respect to the arg-max logit (the other
    components, ``exp(z_j - max z)``, are below the precision's resolution of 1). With
    ``targets``, only samples whose target is the arg-max count: only for them does the
    loss vanish.

    Parameters
    ----------
    logits
        ``(..., C)`` floating-point tensor; any dtype (float16, bfloat16, float32, float64).
    targets
        Optional ``(...)`` integer class indices.
    compute_dtype
        Working precision (default: the dtype of ``logits``, which is what torch's
        ``cross_entropy`` collapses in, tested for all four dtypes). Under autocast the
        softmax and cross-entropy run in float32: pass ``torch.float32`` then.

    Returns
    -------
    torch.Tensor
        Boolean ``(...)`` mask.
    """
    z = _check_logits(logits, "softmax_collapse_mask").detach()
    if compute_dtype is not None:
        if not compute_dtype.is_floating_point:
            raise InputError(
                f"softmax_collapse_mask(compute_dtype={compute_dtype}): need a float dtype"
            )
        z = z.to(compute_dtype)
    shifted = z - z.max(dim=-1, keepdim=True).values
    total = torch.exp(shifted).sum(dim=-1)
    mask = total == 1
    if targets is not None:
        if not isinstance(targets, torch.Tensor) or targets.shape != z.shape[:-1]:
            raise InputError(
                "softmax_collapse_mask(targets=...): need an integer tensor of shape "
                f"{tuple(z.shape[:-1])}"
            )
        mask = mask & (z.argmax(dim=-1) == targets)
    return mask


def softmax_collapse_fraction(
    logits: torch.Tensor,
    targets: torch.Tensor | None = None,
    *,
    compute_dtype: torch.dtype | None = None,
) -> float:
    """Fraction of samples whose softmax collapses (see :func:`softmax_collapse_mask`).

    Examples
    --------
    >>> z = torch.tensor([[20.0, 0.0], [10.0, 0.0]])  # float32 collapse gap is 16.6
    >>> softmax_collapse_fraction(z, torch.tensor([0, 0]))
    0.5
    """
    mask = softmax_collapse_mask(logits, targets, compute_dtype=compute_dtype)
    return float(mask.float().mean()) if mask.numel() else 0.0


def _s(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, x + 1, 1 / (1 - torch.clamp(x, max=0)))


def stablemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """StableMax: ``s(z_i) / sum_j s(z_j)`` with ``s(x) = x + 1`` for ``x >= 0``, ``1/(1 - x)``
    otherwise (Prieto et al. 2025).

    ``s`` is positive, increasing and grows linearly, so the result keeps the order of
    the softmax and stays finite and non-degenerate for logits of size ``1e6``.

    Examples
    --------
    >>> stablemax(torch.tensor([1.0, 0.0, -1.0]))
    tensor([0.5714, 0.2857, 0.1429])
    """
    z = _check_logits(logits, "stablemax")
    s = _s(z)
    return s / s.sum(dim=dim, keepdim=True)


def log_stablemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log stablemax(z)``, computed as ``log s(z) - log sum s(z)``."""
    z = _check_logits(logits, "log_stablemax")
    s = _s(z)
    return torch.log(s) - torch.log(s.sum(dim=dim, keepdim=True))


def stablemax_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    reduction: str = "mean",
    dtype: torch.dtype | None = torch.float64,
) -> torch.Tensor:
    """Cross-entropy with StableMax in place of softmax: ``-log stablemax(z)_y``.

    Parameters
    ----------
    logits
        ``(N, C)`` tensor.
    targets
        ``(N,)`` class indices.
    reduction
        ``"mean"``, ``"sum"`` or ``"none"``.
    dtype
        Precision of the computation (float64 by default, as Prieto et al.; ``None``
        keeps the logits' dtype). The loss is returned in that precision.
    """
    z = _check_logits(logits, "stablemax_cross_entropy")
    if reduction not in ("mean", "sum", "none"):
        raise InputError(
            f"stablemax_cross_entropy(reduction={reduction!r}): use 'mean', 'sum' or 'none'"
        )
    if dtype is not None:
        z = z.to(dtype)
    logp = log_stablemax(z, dim=-1)
    losses = -logp.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def z_loss(logits: torch.Tensor, coefficient: float = 1e-4) -> torch.Tensor:
    """``coefficient * mean(log Z ^ 2)`` with ``log Z = logsumexp(logits)`` (Wortsman et al. 2023).

    Added to the training loss, it keeps the log-partition near 0 and so stops the
    output logits from drifting.

    Examples
    --------
    >>> round(float(z_loss(torch.zeros(2, 3), coefficient=1.0)), 6)  # (ln 3)^2
    1.206949
    """
    z = _check_logits(logits, "z_loss")
    if not (isinstance(coefficient, (int, float)) and math.isfinite(coefficient)):
        raise InputError(f"z_loss(coefficient={coefficient!r}): need a finite number")
    return coefficient * torch.logsumexp(z, dim=-1).pow(2).mean()


class PerpGrad(torch.optim.Optimizer):
    """⊥Grad: step a base optimizer on the gradient's part orthogonal to the weights.

    For each parameter tensor ``w`` with gradient ``g``:
    ``g_perp = g - (w.g / (w.w + 1e-30)) w``, rescaled to the norm of ``g``; then the base
    optimizer steps on ``g_perp`` (Prieto et al. 2025). The weights' own direction only
    scales the logits toward softmax collapse; removing it lets training generalise
    without weight decay.

    Parameters
    ----------
    params
        Parameters (or parameter groups), as for any torch optimizer.
    base
        The optimizer class to wrap (default ``torch.optim.AdamW``).
    **kwargs
        Arguments of ``base`` (``lr``, ``betas``, ``weight_decay``, ...).

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 0.0]))
    >>> opt = PerpGrad([w], base=torch.optim.SGD, lr=0.1)
    >>> w.grad = torch.tensor([1.0, 1.0]); opt.step()
    >>> w.data  # the step is along (0, 1) only, with |g| = sqrt(2)
    tensor([ 1.0000, -0.1414])
    """

    def __init__(
        self,
        params: Iterable[Any],
        base: type[torch.optim.Optimizer] = torch.optim.AdamW,
        **kwargs: Any,
    ) -> None:
        if not (isinstance(base, type) and issubclass(base, torch.optim.Optimizer)):
            raise InputError(f"PerpGrad(base={base!r}): need a torch optimizer class")
        self.base = base(params, **kwargs)
        # share groups and state with the base optimizer
        super().__init__(self.base.param_groups, self.base.defaults)
        self.param_groups = self.base.param_groups
        self.state = self.base.state

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                norm = torch.linalg.vector_norm(g)
                coef = torch.sum(w * g) / (torch.sum(w * w) + 1e-30)
                perp = g - coef * w
                perp_norm = torch.linalg.vector_norm(perp)
                if perp_norm > 0:
                    perp = perp * (norm / perp_norm)
                g.copy_(perp)
        self.base.step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return self.base.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.base.load_state_dict(state_dict)


class QKNormAttention(torch.nn.Module):
    """Multi-head self-attention with optional qk-layernorm, exposing its logits.

    ``softmax(LN(q) LN(k)^T / sqrt(d_h)) v``; without layernorm it is plain scaled
    dot-product attention. Each forward keeps ``last_logit_max`` (max ``|z_ij|``) and
    ``last_entropy`` (mean attention entropy) for
    :class:`~stabkit.learn.monitors.StabilityMonitor`, and calls
    ``logits_hook(module, logits)`` when set (Wortsman et al. 2023; Dehghani et al. 2023).

    Parameters
    ----------
    dim
        Model width, divisible by ``num_heads``.
    num_heads
        Heads.
    qk_layernorm
        Apply LayerNorm (per head) to queries and keys.
    causal
        Mask future positions.
    bias
        Biases in the projections.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        *,
        qk_layernorm: bool = True,
        causal: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise InputError(f"QKNormAttention(dim={dim}, num_heads={num_heads}): dim % heads != 0")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.causal = causal
        self.qkv = torch.nn.Linear(dim, 3 * dim, bias=bias)
        self.out = torch.nn.Linear(dim, dim, bias=bias)
        self.q_norm: torch.nn.Module = (
            torch.nn.LayerNorm(self.head_dim) if qk_layernorm else torch.nn.Identity()
        )
        self.k_norm: torch.nn.Module = (
            torch.nn.LayerNorm(self.head_dim) if qk_layernorm else torch.nn.Identity()
        )
        self.last_logit_max = float("nan")
        self.last_entropy = float("nan")
        self.logits_hook: Callable[[torch.nn.Module, torch.Tensor], None] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = self.q_norm(q.view(b, t, self.num_heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(k.view(b, t, self.num_heads, self.head_dim)).transpose(1, 2)
        v = v.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        logits = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if self.causal:
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            logits = logits.masked_fill(mask, float("-inf"))
        with torch.no_grad():
            finite = torch.isfinite(logits)
            self.last_logit_max = float(logits.abs().where(finite, 0).max())
        att = torch.softmax(logits, dim=-1)
        with torch.no_grad():
            plogp = torch.where(att > 0, att * torch.log(att), torch.zeros_like(att))
            self.last_entropy = float(-plogp.sum(-1).mean())
        if self.logits_hook is not None:
            self.logits_hook(self, logits.detach())
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        return self.out(y)
