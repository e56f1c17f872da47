"""Adapters that feed a :class:`~stabkit.learn.monitors.StabilityMonitor` from trainers.

* A plain loop needs no adapter: call ``monitor.step(loss=..., logits=..., targets=...)``
  after ``loss.backward()`` and before ``optimizer.zero_grad()``.
* PyTorch Lightning: :func:`lightning_callback` returns a ``Callback`` that records each
  step at ``on_train_batch_end`` (Lightning zeroes gradients just before the next
  backward, so they are still there) with the loss and, when ``training_step`` returns a
  dict holding them, the logits and targets.
* Hugging Face ``transformers.Trainer``: :func:`huggingface_callback` returns a
  ``TrainerCallback`` recording at ``on_pre_optimizer_step`` (gradients present) and
  taking the loss from ``on_log``.

The libraries are imported only when an adapter is made; a missing one is a clear
:class:`~stabkit.errors.InputError`.
"""

from __future__ import annotations

import math
from typing import Any

from stabkit.errors import InputError
from stabkit.learn.monitors import StabilityMonitor

__all__ = ["huggingface_callback", "lightning_callback"]


def _check(monitor: Any, where: str) -> StabilityMonitor:
    if not isinstance(monitor, StabilityMonitor):
        raise InputError(f"{where}(monitor={type(monitor).__name__}): need a StabilityMonitor")
    return monitor


def lightning_callback(monitor: StabilityMonitor) -> Any:
    """A Lightning ``Callback`` that records every optimizer step into ``monitor``.

    ``training_step`` may return the loss, or a dict with ``loss`` and optionally
    ``logits`` and ``targets`` (these feed logit statistics and softmax collapse). The
    monitor's ``model`` must be the LightningModule (or the module inside it) being
    trained.
    """
    monitor = _check(monitor, "lightning_callback")
    import importlib

    pl_mod: Any
    try:
        pl_mod = importlib.import_module("lightning.pytorch")
    except ImportError:
        try:
            pl_mod = importlib.import_module("pytorch_lightning")
        except ImportError as exc:
            raise InputError(
                "lightning_callback: PyTorch Lightning is not installed; pip install lightning"
            ) from exc
    Callback: Any = pl_mod.Callback

    class StabilityCallback(Callback):  # type: ignore[misc, valid-type, unused-ignore]
        """Records each optimizer step of a Lightning fit into a StabilityMonitor."""

        def __init__(self) -> None:
            super().__init__()
            self.monitor = monitor

        def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
            if self.monitor.optimizer is None:
                self.monitor.optimizer = getattr(optimizer, "optimizer", optimizer)

        def on_train_batch_end(
            self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, idx: int
        ) -> None:
            kwargs: dict[str, Any] = {"step": int(trainer.global_step)}
            if isinstance(outputs, dict):
                kwargs["loss"] = outputs.get("loss")
                if outputs.get("logits") is not None:
                    kwargs["logits"] = outputs["logits"]
                    kwargs["targets"] = outputs.get("targets")
            elif outputs is not None:
                kwargs["loss"] = outputs
            self.monitor.step(**kwargs)

    return StabilityCallback()


def huggingface_callback(monitor: StabilityMonitor) -> Any:
    """A ``transformers.TrainerCallback`` that records every optimizer step into ``monitor``.

    Gradient and parameter norms are read at ``on_pre_optimizer_step`` (the gradients
    exist then); the loss arrives with ``on_log`` (every ``logging_steps``) and is
    recorded with the step it belongs to.
    """
    monitor = _check(monitor, "huggingface_callback")
    try:
        from transformers import TrainerCallback
    except ImportError as exc:
        raise InputError(
            "huggingface_callback: transformers is not installed; pip install transformers"
        ) from exc

    class StabilityCallback(TrainerCallback):  # type: ignore[misc, valid-type, unused-ignore]
        """Records each optimizer step of a Hugging Face Trainer into a StabilityMonitor."""

        def __init__(self) -> None:
            self.monitor = monitor

        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.monitor.optimizer is None and kw.get("optimizer") is not None:
                opt = kw["optimizer"]
                self.monitor.optimizer = getattr(opt, "optimizer", opt)
            self.monitor.step(step=int(state.global_step) + 1)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs and self.monitor.records:
                record = self.monitor.records[-1]
                record["loss"] = float(logs["loss"])
                if not math.isfinite(record["loss"]):
                    step = record["step"]
                    self.monitor._event(step, f"non-finite loss ({record['loss']}) at step {step}")

    return StabilityCallback()
