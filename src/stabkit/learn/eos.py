"""Edge of stability: sharpness tracked against the optimizer's threshold over a run.

Full-batch gradient descent with step ``eta`` is linearly stable at a minimum only while
the sharpness ``lambda_max(H) < 2/eta``. Cohen et al. (2021, ICLR, arXiv 2103.00065)
observed that training first *sharpens* progressively until the sharpness reaches
``2/eta``, then hovers there ("edge of stability") while the loss keeps falling
non-monotonically; Adam does the same with its preconditioned sharpness and threshold
``(2 + 2 beta1)/((1 - beta1) eta)`` (Cohen et al. 2022). :func:`edge_of_stability`
trains a model on a fixed batch and records both.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EdgeOfStabilityResult", "edge_of_stability"]


@dataclasses.dataclass(frozen=True)
class EdgeOfStabilityResult(Result):
    """Sharpness and loss over a training run, against the stability threshold.

    Attributes
    ----------
    steps, loss
        Every training step and its loss (before the step).
    probe_steps, sharpness, sharpness_error
        Steps at which the sharpness was measured, its value (top eigenvalue of the
        Hessian, or of Adam's preconditioned Hessian) and the Lanczos error bar.
    threshold
        The optimizer's stability threshold (``2/eta`` for GD).
    quantity
        ``"sharpness"`` or ``"preconditioned sharpness"``.
    reached_step
        First probe step with sharpness ``>= reach * threshold`` (``None``: never).
    ratio_after
        Median of sharpness / threshold over the probes after ``reached_step``
        (about 1 at the edge of stability; NaN when it was never reached).
    loss_increases_after
        Fraction of steps after ``reached_step`` at which the loss went up (0 for a
        monotone descent; the edge of stability makes it non-monotone).
    """

    steps: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    loss: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    probe_steps: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    sharpness: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    sharpness_error: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    threshold: float = 0.0
    quantity: str = "sharpness"
    reached_step: int | None = None
    ratio_after: float = float("nan")
    loss_increases_after: float = float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per step: loss, and sharpness where probed."""
        import pandas as pd

        frame = pd.DataFrame({"step": self.steps, "loss": self.loss})
        probes = pd.DataFrame(
            {
                "step": self.probe_steps,
                "sharpness": self.sharpness,
                "sharpness_error": self.sharpness_error,
            }
        )
        out = frame.merge(probes, on="step", how="left")
        out["threshold"] = self.threshold
        return out

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Sharpness with ``threshold`` (left axis) and loss (right axis)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 3.8))
        ax.errorbar(
            self.probe_steps,
            self.sharpness,
            yerr=self.sharpness_error,
            fmt=".-",
            label=self.quantity,
        )
        ax.axhline(self.threshold, color="k", ls="--", lw=1, label="stability threshold")
        ax.set_xlabel("step")
        ax.set_ylabel(self.quantity)
        twin = ax.twinx()
        twin.semilogy(self.steps, np.maximum(self.loss, 1e-300), color="0.6", lw=1)
        twin.set_ylabel("loss", color="0.4")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_title("Edge of stability")
        return ax

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(("threshold", f"{self.threshold:.6g}"))
        rows.append(("reached at step", str(self.reached_step)))
        rows.append(("sharpness / threshold after", f"{self.ratio_after:.4g}"))
        return rows


def edge_of_stability(
    model: Any,
    loss_fn: Callable[..., Any],
    batch: Any,
    optimizer: Any,
    *,
    num_steps: int,
    every: int = 10,
    reach: float = 0.9,
    tol: float = 1e-3,
    max_matvecs: int = 100,
    callback: Callable[[int, float], None] | None = None,
) -> EdgeOfStabilityResult:
    """Train full-batch on ``batch`` and track the sharpness against the threshold.

    Each step: zero the gradients, compute ``loss_fn(model(inputs), targets)``, backward,
    ``optimizer.step()``. Every ``every`` steps (and at the first), the top eigenvalue
    of the Hessian (or, for Adam, of ``P^{-1/2} H P^{-1/2}``) by Lanczos, warm-started
    from the previous eigenvector. The threshold is that of
    :func:`stabkit.learn.criteria.optimizer_thresholds`.

    Parameters
    ----------
    model, loss_fn, batch
        As for :func:`~stabkit.learn.hessian_operator`; ``batch`` is ``(inputs, targets)``.
    optimizer
        ``torch.optim.SGD`` (with or without momentum) or ``Adam``/``AdamW``; one
        parameter group.
    num_steps
        Training steps.
    every
        Probe interval.
    reach
        Fraction of the threshold that counts as having reached it.
    tol, max_matvecs
        Lanczos tolerance and budget per probe.
    callback
        Called with ``(step, loss)`` after each step.

    Returns
    -------
    EdgeOfStabilityResult
        With status ``"diverged"`` (and the run so far) when the loss becomes non-finite.
    """
    from stabkit.learn.criteria import optimizer_thresholds
    from stabkit.learn.operators import hessian_operator
    from stabkit.learn.preconditioned import PreconditionedOperator, adam_preconditioner
    from stabkit.learn.spectra import top_eigenvalues

    fname = "edge_of_stability"
    t0 = time.perf_counter()
    for name, count, low in (("num_steps", num_steps, 1), ("every", every, 1)):
        if isinstance(count, bool) or not isinstance(count, int) or count < low:
            raise InputError(f"{fname}({name}={count!r}): need an integer >= {low}")
    if not isinstance(batch, tuple) or len(batch) != 2:
        raise InputError(f"{fname}(batch=...): need (inputs, targets)")
    if not 0 < reach <= 1:
        raise InputError(f"{fname}(reach={reach!r}): need a number in (0, 1]")
    thresholds = optimizer_thresholds(optimizer)
    if len(thresholds) != 1:
        raise InputError(f"{fname}(optimizer=...): use one parameter group (got {len(thresholds)})")
    thr = thresholds[0]
    x, y = batch
    losses: list[float] = []
    probes: list[tuple[int, float, float]] = []
    v0 = None
    status, message = "ok", ""
    matvecs = 0
    for step in range(num_steps):
        if step % every == 0:
            op: Any = hessian_operator(model, loss_fn, batch, check_determinism=False)
            if thr.rule == "adam" and step > 0:
                op = PreconditionedOperator(op, adam_preconditioner(optimizer, op))
            if thr.rule != "adam" or step > 0:
                r = top_eigenvalues(op, k=1, tol=tol, v0=v0, max_matvecs=max_matvecs, throw=False)
                v0 = r.eigenvectors[:, 0]
                matvecs += r.num_matvecs
                probes.append((step, float(r.values[0]), float(r.errors[0])))
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        value = float(loss.detach())
        losses.append(value)
        if not math.isfinite(value):
            status = "diverged"
            message = f"the loss became {value} at step {step}; the run so far is kept"
            break
        loss.backward()
        optimizer.step()
        if callback is not None:
            callback(step, value)
    steps = np.arange(len(losses))
    loss_arr = np.array(losses)
    p_steps = np.array([p[0] for p in probes], dtype=int)
    sharp = np.array([p[1] for p in probes])
    err = np.array([p[2] for p in probes])
    hit = np.nonzero(sharp >= reach * thr.threshold)[0]
    reached = int(p_steps[hit[0]]) if hit.size else None
    ratio_after = float("nan")
    increases = float("nan")
    if reached is not None:
        ratio_after = float(np.median(sharp[hit[0] :] / thr.threshold))
        tail = loss_arr[reached:]
        if tail.size > 1:
            increases = float(np.mean(np.diff(tail) > 0))
    return EdgeOfStabilityResult(
        status=status,
        message=message,
        stats=Stats(
            wall_time=time.perf_counter() - t0,
            num_steps=len(losses),
            extra={"num_matvecs": matvecs},
        ),
        provenance=Provenance(
            analysis=fname,
            method=f"{type(optimizer).__name__} ({thr.rule}), Lanczos every {every}",
            params={"lr": thr.lr, "num_steps": float(num_steps)},
        ),
        steps=steps,
        loss=loss_arr,
        probe_steps=p_steps,
        sharpness=sharp,
        sharpness_error=err,
        threshold=thr.threshold,
        quantity=thr.quantity,
        reached_step=reached,
        ratio_after=ratio_after,
        loss_increases_after=increases,
    )
