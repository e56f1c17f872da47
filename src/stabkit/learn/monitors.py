"""Live training monitors: cheap per-step probes and scheduled curvature probes.

:class:`StabilityMonitor` watches a training run and records, each step it is called:

* the loss (a NaN or infinite loss is recorded as such and raised as an event, never
  dropped or averaged away);
* output-logit statistics: max ``|z|``, mean log-partition ``log Z`` and its drift from
  the first step (Wortsman et al. 2023);
* the softmax-collapse fraction in the logits' precision (Prieto et al. 2025;
  :func:`~stabkit.learn.numerics.softmax_collapse_fraction`);
* per attention layer, the max ``|attention logit|`` and the mean attention entropy, from
  forward hooks on ``torch.nn.MultiheadAttention`` (logits recomputed from its input
  projections), on :class:`~stabkit.learn.numerics.QKNormAttention`, and on any module
  that sets ``last_logit_max`` / ``last_entropy`` attributes in its forward;
* gradient, parameter and update norms;
* every ``curvature_every`` steps, the sharpness (top Hessian eigenvalue by warm-started
  Lanczos, or Adam's preconditioned sharpness) beside the optimizer's stability threshold
  (:mod:`stabkit.learn.criteria`).

Records go to sinks: an in-memory log (always), CSV, TensorBoard and Weights & Biases.
Call :meth:`StabilityMonitor.step` after ``loss.backward()`` and before
``optimizer.zero_grad()``, so that gradients are still there.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from stabkit.errors import InputError
from stabkit.learn.numerics import softmax_collapse_fraction

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CSVSink", "StabilityMonitor", "TensorBoardSink", "WandbSink"]


class CSVSink:
    """Append records to a CSV file; new columns rewrite the header (the file stays valid)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._rows: list[dict[str, Any]] = []
        self._columns: list[str] = []

    def write(self, record: Mapping[str, Any]) -> None:
        self._rows.append(dict(record))
        new = [k for k in record if k not in self._columns]
        if new or not self.path.exists():
            self._columns.extend(new)
            with self.path.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=self._columns)
                w.writeheader()
                w.writerows(self._rows)
        else:
            with self.path.open("a", newline="") as f:
                csv.DictWriter(f, fieldnames=self._columns).writerow(dict(record))


class TensorBoardSink:
    """Write scalars with ``torch.utils.tensorboard.SummaryWriter`` (needs ``tensorboard``)."""

    def __init__(self, log_dir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InputError(
                "TensorBoardSink: the tensorboard package is missing; pip install tensorboard"
            ) from exc
        self.writer = SummaryWriter(str(log_dir))

    def write(self, record: Mapping[str, Any]) -> None:
        step = int(record.get("step", 0))
        for k, v in record.items():
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool):
                self.writer.add_scalar(k, v, step)
        self.writer.flush()


class WandbSink:
    """Log records to a Weights & Biases run (``wandb.init(...)`` already called)."""

    def __init__(self, run: Any = None) -> None:
        if run is None:
            try:
                import wandb
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise InputError("WandbSink: wandb is missing; pip install wandb") from exc
            run = wandb.run
            if run is None:
                raise InputError("WandbSink: no active run; call wandb.init(...) first")
        self.run = run

    def write(self, record: Mapping[str, Any]) -> None:
        self.run.log({k: v for k, v in record.items() if k != "step"}, step=record.get("step"))


def _mha_logits(module: torch.nn.MultiheadAttention, query: Any, key: Any) -> torch.Tensor:
    """Attention logits ``(batch, heads, L, S)`` of an nn.MultiheadAttention call."""
    e = module.embed_dim
    h = module.num_heads
    if not module.batch_first:
        query, key = query.transpose(0, 1), key.transpose(0, 1)
    if query.ndim == 2:  # unbatched
        query, key = query.unsqueeze(0), key.unsqueeze(0)
    if module.in_proj_weight is not None:
        wq, wk = module.in_proj_weight[:e], module.in_proj_weight[e : 2 * e]
    else:
        wq, wk = module.q_proj_weight, module.k_proj_weight
    bq = bk = None
    if module.in_proj_bias is not None:
        bq, bk = module.in_proj_bias[:e], module.in_proj_bias[e : 2 * e]
    q = torch.nn.functional.linear(query, wq, bq)
    k = torch.nn.functional.linear(key, wk, bk)
    b, lq, _ = q.shape
    q = q.view(b, lq, h, e // h).transpose(1, 2)
    k = k.view(b, k.shape[1], h, e // h).transpose(1, 2)
    return q @ k.transpose(-2, -1) / math.sqrt(e // h)


def _logit_stats(logits: torch.Tensor) -> tuple[float, float]:
    finite = torch.isfinite(logits)
    zmax = float(logits.abs().where(finite, 0).max())
    att = torch.softmax(logits.double(), dim=-1)
    plogp = torch.where(att > 0, att * torch.log(att), torch.zeros_like(att))
    return zmax, float(-plogp.sum(-1).mean())


class StabilityMonitor:
    """Record stability probes of a training run; see the module docstring.

    Parameters
    ----------
    model
        The ``torch.nn.Module`` being trained.
    optimizer
        Its optimizer (for update norms, thresholds and Adam's preconditioner).
    loss_fn
        ``loss_fn(outputs, targets)``, needed for the curvature probe.
    curvature_every
        Run the curvature probe every this many steps (``None``: never).
    curvature_batch
        The batch on which to measure sharpness (default: the batch given to ``step``).
    sinks
        Extra sinks (:class:`CSVSink`, :class:`TensorBoardSink`, :class:`WandbSink`, or any
        object with ``write(record)``); the in-memory log is always kept.
    attention
        Hook attention modules to record their logit maxima and entropies.
    on_event
        Called with ``(step, message)`` when something goes wrong (non-finite loss or
        gradient, sharpness above its threshold); events are also kept in ``events``.

    Examples
    --------
    >>> model = torch.nn.Linear(3, 2)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> mon = StabilityMonitor(model, optimizer=opt)
    >>> x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    >>> out = model(x); loss = torch.nn.functional.cross_entropy(out, y); loss.backward()
    >>> rec = mon.step(loss=loss, logits=out, targets=y); opt.step()
    >>> sorted(k for k in rec if k.startswith("grad"))
    ['grad_norm']
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        optimizer: torch.optim.Optimizer | None = None,
        loss_fn: Callable[..., Any] | None = None,
        curvature_every: int | None = None,
        curvature_batch: Any = None,
        sinks: Sequence[Any] = (),
        attention: bool = True,
        on_event: Callable[[int, str], None] | None = None,
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise InputError(f"StabilityMonitor(model={type(model).__name__}): need an nn.Module")
        if curvature_every is not None:
            if isinstance(curvature_every, bool) or not isinstance(curvature_every, int):
                raise InputError(
                    f"StabilityMonitor(curvature_every={curvature_every!r}): need an int >= 1"
                )
            if curvature_every < 1:
                raise InputError(
                    f"StabilityMonitor(curvature_every={curvature_every!r}): need an int >= 1"
                )
            if loss_fn is None:
                raise InputError(
                    "StabilityMonitor(curvature_every=...): the curvature probe needs loss_fn"
                )
        for s in sinks:
            if not callable(getattr(s, "write", None)):
                raise InputError(f"StabilityMonitor(sinks=[{s!r}]): a sink needs write(record)")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.curvature_every = curvature_every
        self.curvature_batch = curvature_batch
        self.sinks = list(sinks)
        self.on_event = on_event
        self.records: list[dict[str, Any]] = []
        self.events: list[tuple[int, str]] = []
        self._step = 0
        self._first_log_z: float | None = None
        self._previous: list[torch.Tensor] | None = None
        self._eigvec: np.ndarray | None = None
        self._attention: dict[str, tuple[float, float]] = {}
        self._handles: list[Any] = []
        if attention:
            self._attach()

    # -- hooks ---------------------------------------------------------------------
    def _attach(self) -> None:
        for name, module in self.model.named_modules():
            if isinstance(module, torch.nn.MultiheadAttention):

                def pre(mod: Any, args: Any, kwargs: Any, name: str = name) -> None:
                    query = args[0] if args else kwargs["query"]
                    key = args[1] if len(args) > 1 else kwargs.get("key", query)
                    with torch.no_grad():
                        self._attention[name] = _logit_stats(_mha_logits(mod, query, key))

                self._handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
            elif hasattr(module, "last_logit_max"):

                def post(mod: Any, args: Any, output: Any, name: str = name) -> None:
                    self._attention[name] = (
                        float(mod.last_logit_max),
                        float(getattr(mod, "last_entropy", float("nan"))),
                    )

                self._handles.append(module.register_forward_hook(post))

    def detach(self) -> None:
        """Remove the attention hooks."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    # -- probes --------------------------------------------------------------------
    def _event(self, step: int, message: str) -> None:
        self.events.append((step, message))
        if self.on_event is not None:
            self.on_event(step, message)

    def _norms(self, record: dict[str, Any]) -> None:
        params = [p for p in self.model.parameters() if p.requires_grad]

        def norm(tensors: Sequence[torch.Tensor]) -> float:
            return math.sqrt(sum(float((t.detach().double() ** 2).sum()) for t in tensors))

        with torch.no_grad():
            record["param_norm"] = norm(params)
            grads = [p.grad for p in params if p.grad is not None]
            if grads:
                gn = norm(grads)
                record["grad_norm"] = gn
                if not math.isfinite(gn):
                    step = record["step"]
                    self._event(step, f"non-finite gradient norm at step {step}")
            if self._previous is not None:
                record["update_norm"] = norm(
                    [p.detach().double() - q for p, q in zip(params, self._previous, strict=True)]
                )
            self._previous = [p.detach().double().clone() for p in params]

    def _curvature(self, record: dict[str, Any], batch: Any) -> None:
        from stabkit.learn.criteria import optimizer_thresholds
        from stabkit.learn.operators import hessian_operator
        from stabkit.learn.spectra import top_eigenvalues

        if batch is None:
            raise InputError(
                "StabilityMonitor.step: the curvature probe needs a batch; pass batch=... "
                "or curvature_batch=... to the monitor"
            )
        if self.loss_fn is None:  # pragma: no cover - the constructor demands it
            raise InputError("StabilityMonitor: the curvature probe needs loss_fn")
        op: Any = hessian_operator(self.model, self.loss_fn, batch, check_determinism=False)
        name = "sharpness"
        if self.optimizer is not None:
            thresholds = optimizer_thresholds(self.optimizer)
            if thresholds[0].rule == "adam":
                try:
                    from stabkit.learn.preconditioned import (
                        PreconditionedOperator,
                        adam_preconditioner,
                    )

                    op = PreconditionedOperator(op, adam_preconditioner(self.optimizer, op))
                    name = "preconditioned_sharpness"
                except InputError:  # no Adam state yet: plain sharpness this time
                    pass
            if name == "preconditioned_sharpness" or thresholds[0].rule != "adam":
                record["threshold"] = thresholds[0].threshold
        r = top_eigenvalues(op, k=1, tol=1e-3, v0=self._eigvec, max_matvecs=100, throw=False)
        self._eigvec = r.eigenvectors[:, 0]
        record[name] = float(r.values[0])
        record[f"{name}_error"] = float(r.errors[0])
        record["curvature_matvecs"] = r.num_matvecs
        if "threshold" in record:
            record["sharpness_ratio"] = record[name] / record["threshold"]
            if record[name] - record[f"{name}_error"] > record["threshold"]:
                self._event(
                    record["step"],
                    f"{name} {record[name]:.4g} above the stability threshold "
                    f"{record['threshold']:.4g} at step {record['step']}",
                )

    def step(
        self,
        *,
        loss: Any = None,
        logits: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
        batch: Any = None,
        step: int | None = None,
        **extra: float,
    ) -> dict[str, Any]:
        """Record one training step; returns the record (also appended to ``records``).

        Parameters
        ----------
        loss
            The step's loss (tensor or float).
        logits, targets
            Output logits ``(..., C)`` and class targets, for logit statistics and
            softmax collapse.
        batch
            ``(inputs, targets)`` for the curvature probe (if ``curvature_batch`` is unset).
        step
            Step number (default: a running count).
        **extra
            Further numbers to record as they are.
        """
        self._step = int(step) if step is not None else self._step + 1
        record: dict[str, Any] = {"step": self._step}
        if loss is not None:
            value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
            record["loss"] = value
            if not math.isfinite(value):
                self._event(self._step, f"non-finite loss ({value}) at step {self._step}")
        if logits is not None:
            with torch.no_grad():
                z = logits.detach()
                record["logit_max"] = float(z.abs().max())
                log_z = float(torch.logsumexp(z.double(), dim=-1).mean())
                record["log_partition"] = log_z
                if self._first_log_z is None:
                    self._first_log_z = log_z
                record["log_partition_drift"] = log_z - self._first_log_z
                record["softmax_collapse"] = softmax_collapse_fraction(z, targets)
        for name, (zmax, entropy) in sorted(self._attention.items()):
            record[f"attention_logit_max/{name}"] = zmax
            record[f"attention_entropy/{name}"] = entropy
        self._norms(record)
        if self.curvature_every is not None and self._step % self.curvature_every == 0:
            self._curvature(record, self.curvature_batch if batch is None else batch)
        record.update({k: float(v) for k, v in extra.items()})
        self.records.append(record)
        for sink in self.sinks:
            sink.write(record)
        return record

    def to_frame(self) -> pd.DataFrame:
        """All records as a table, one row per step."""
        import pandas as pd

        return pd.DataFrame(self.records)

    @property
    def status(self) -> str:
        """``"ok"`` or ``"events"`` when something was flagged (see ``events``)."""
        return "events" if self.events else "ok"
