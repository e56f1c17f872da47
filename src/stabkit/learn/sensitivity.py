"""Learning-rate sensitivity and the classification of runs by their stability.

*LR sensitivity* (Wortsman et al. 2023, "Small-scale proxies for large-scale
Transformer training instabilities", arXiv 2309.14322, Sec. 3.1 as summarised in
``shared/papers/wortsman2023-small-scale-proxies.md``; the exact normalisation there is
marked unverified): over a log-spaced grid of learning rates ``eta`` in ``[a, b]``,

    LRS = mean_eta [ min(l(eta), l_0) - l* ],    l* = min_eta l(eta),

with ``l(eta)`` the final loss of a run at ``eta`` and ``l_0`` the loss at
initialisation; a diverged run counts as ``l_0``. A flat loss-vs-LR curve gives 0.

*Run classes* (Haas et al. 2025, arXiv 2505.22491): under cross-entropy, beyond the
stable regime a run can *diverge in a controlled way* (the output logits grow without
bound while loss and gradients stay bounded) before it diverges *catastrophically*
(the loss blows up or becomes NaN).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LRSensitivityResult", "classify_run", "lr_sensitivity"]

STABLE = "stable"
CONTROLLED = "controlled divergence"
CATASTROPHIC = "catastrophic divergence"
FAILED = "error"


def _finite_list(values: Any) -> np.ndarray:
    return np.asarray(list(values) if values is not None else [], dtype=np.float64)


def classify_run(
    record: Mapping[str, Any],
    *,
    loss_growth: float = 1.0,
    logit_growth: float = 10.0,
) -> str:
    """``"stable"``, ``"controlled divergence"`` or ``"catastrophic divergence"``.

    Parameters
    ----------
    record
        ``final_loss`` and optionally ``initial_loss``, ``loss_history`` and
        ``logit_norm_history`` (e.g. RMS of the output logits, per step or epoch).
    loss_growth
        Catastrophic when the final loss exceeds ``loss_growth * initial_loss``, or any
        loss is non-finite.
    logit_growth
        Controlled divergence when the loss stayed bounded but the last logit norm is
        more than ``logit_growth`` times the first and still rising over the last
        quarter of the history.

    Examples
    --------
    >>> classify_run({"final_loss": 0.1, "initial_loss": 2.3})
    'stable'
    >>> classify_run({"final_loss": float("nan")})
    'catastrophic divergence'
    >>> classify_run({"final_loss": 0.5, "initial_loss": 2.3,
    ...               "logit_norm_history": [1, 3, 10, 30, 100]})
    'controlled divergence'
    """
    final = float(record["final_loss"])
    history = _finite_list(record.get("loss_history"))
    if not math.isfinite(final) or (history.size and not np.all(np.isfinite(history))):
        return CATASTROPHIC
    initial = record.get("initial_loss")
    if initial is None and history.size:
        initial = history[0]
    if (
        initial is not None
        and math.isfinite(float(initial))
        and final > loss_growth * float(initial)
    ):
        return CATASTROPHIC
    logits = _finite_list(record.get("logit_norm_history"))
    if logits.size >= 4 and np.all(np.isfinite(logits)) and logits[0] > 0:
        tail = logits[-max(2, logits.size // 4) :]
        if logits[-1] > logit_growth * logits[0] and tail[-1] > tail[0]:
            return CONTROLLED
    return STABLE


@dataclasses.dataclass(frozen=True)
class LRSensitivityResult(Result):
    """Loss against learning rate, the LR-sensitivity statistic and the run classes.

    Attributes
    ----------
    lrs, final_loss
        The grid and each run's final loss (NaN for a failed or diverged run).
    classes
        Per run: ``"stable"``, ``"controlled divergence"``, ``"catastrophic divergence"``
        or ``"error"`` (``train_fn`` raised; see ``errors``).
    errors
        Per run, the error message of a failed run, else ``""``.
    initial_loss
        ``l_0`` used by the statistic.
    sensitivity
        The LR-sensitivity statistic.
    optimal_lr
        The learning rate of the lowest final loss.
    max_stable_lr
        Largest grid LR at or above the optimum before the first run that is not
        ``"stable"`` (``"controlled divergence"`` counts as unstable here).
    min_catastrophic_lr
        Smallest grid LR at or above the optimum whose run diverged catastrophically
        (``None``: none did).
    """

    lrs: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    final_loss: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    classes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    initial_loss: float = float("nan")
    sensitivity: float = float("nan")
    optimal_lr: float = float("nan")
    max_stable_lr: float = float("nan")
    min_catastrophic_lr: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per learning rate."""
        import pandas as pd

        return pd.DataFrame(
            {
                "lr": self.lrs,
                "final_loss": self.final_loss,
                "class": list(self.classes),
                "error": list(self.errors),
            }
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Final loss against learning rate (log axis), coloured by run class."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.8))
        capped = np.where(np.isfinite(self.final_loss), self.final_loss, self.initial_loss)
        capped = np.minimum(capped, self.initial_loss)
        ax.semilogx(self.lrs, capped, "-", color="0.6", lw=1, **kwargs)
        colours = {STABLE: "C0", CONTROLLED: "C1", CATASTROPHIC: "C3", FAILED: "k"}
        for cls, colour in colours.items():
            sel = np.array([c == cls for c in self.classes], dtype=bool)
            if sel.any():
                ax.semilogx(self.lrs[sel], capped[sel], "o", color=colour, label=cls)
        ax.axhline(self.initial_loss, color="k", ls=":", lw=1, label="initial loss")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("final loss (capped at initial)")
        ax.set_title(f"LR sensitivity {self.sensitivity:.3g}")
        ax.legend(fontsize=8)
        return ax

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(("LR sensitivity", f"{self.sensitivity:.6g}"))
        rows.append(("optimal lr", f"{self.optimal_lr:.4g}"))
        rows.append(("max stable lr", f"{self.max_stable_lr:.4g}"))
        return rows


def lr_sensitivity(
    train_fn: Callable[[float], Any],
    lrs: Sequence[float],
    *,
    initial_loss: float | None = None,
    loss_growth: float = 1.0,
    logit_growth: float = 10.0,
) -> LRSensitivityResult:
    """Run ``train_fn`` at each learning rate; LR sensitivity and run classes.

    Parameters
    ----------
    train_fn
        ``train_fn(lr)`` trains a fresh model and returns its final loss, or a mapping
        with ``final_loss`` and optionally ``initial_loss``, ``loss_history`` and
        ``logit_norm_history`` (see :func:`classify_run`). An exception in one run is
        recorded for that run; the others go on.
    lrs
        Learning rates, positive, increasing (a log-spaced grid, as the statistic
        assumes; at least 2).
    initial_loss
        ``l_0``; default: the median of the runs' reported ``initial_loss``.
    loss_growth, logit_growth
        Thresholds of :func:`classify_run`.

    Returns
    -------
    LRSensitivityResult

    Examples
    --------
    >>> r = lr_sensitivity(lambda lr: {"final_loss": (lr - 0.1) ** 2, "initial_loss": 1.0},
    ...                    [0.01, 0.1, 1.0])
    >>> round(r.sensitivity, 6), r.optimal_lr
    (0.2727, 0.1)
    """
    fname = "lr_sensitivity"
    t0 = time.perf_counter()
    if not callable(train_fn):
        raise InputError(f"{fname}(train_fn={train_fn!r}): need a callable lr -> loss")
    grid = np.asarray(list(lrs), dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2:
        raise InputError(f"{fname}(lrs=...): need at least two learning rates")
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0) or np.any(np.diff(grid) <= 0):
        raise InputError(f"{fname}(lrs={list(grid)}): need positive, strictly increasing values")
    finals, classes, errors, initials = [], [], [], []
    for lr in grid:
        try:
            out = train_fn(float(lr))
        except Exception as exc:  # a failed run is recorded, never lost
            finals.append(float("nan"))
            classes.append(FAILED)
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        record = dict(out) if isinstance(out, Mapping) else {"final_loss": out}
        if "final_loss" not in record:
            raise InputError(
                f"{fname}: train_fn({lr:g}) returned a mapping without 'final_loss'; "
                "return the final loss or a mapping that has it"
            )
        final = float(record["final_loss"])
        finals.append(final)
        classes.append(classify_run(record, loss_growth=loss_growth, logit_growth=logit_growth))
        errors.append("")
        if record.get("initial_loss") is not None:
            initials.append(float(record["initial_loss"]))
    final_arr = np.array(finals)
    if initial_loss is None:
        if not initials:
            raise InputError(
                f"{fname}: need the loss at initialisation; pass initial_loss=... or return "
                "'initial_loss' from train_fn"
            )
        initial_loss = float(np.median(initials))
    l0 = float(initial_loss)
    ok = np.isfinite(final_arr) & np.array([c != CATASTROPHIC for c in classes])
    capped = np.where(ok, np.minimum(final_arr, l0), l0)
    best = float(np.min(capped))
    sensitivity = float(np.mean(capped - best))
    i_opt = int(np.argmin(capped))
    max_stable = float(grid[i_opt])
    min_cat = None
    for i in range(i_opt, grid.size):
        if classes[i] != STABLE:
            break
        max_stable = float(grid[i])
    for i in range(i_opt, grid.size):
        if classes[i] == CATASTROPHIC:
            min_cat = float(grid[i])
            break
    failed = sum(c == FAILED for c in classes)
    return LRSensitivityResult(
        status="ok" if not failed else "partial",
        message="" if not failed else f"{failed} of {grid.size} runs raised; see errors",
        stats=Stats(wall_time=time.perf_counter() - t0, extra={"num_runs": int(grid.size)}),
        provenance=Provenance(analysis=fname, method="wortsman2023 LRS, haas2025 classes"),
        lrs=grid,
        final_loss=final_arr,
        classes=tuple(classes),
        errors=tuple(errors),
        initial_loss=l0,
        sensitivity=sensitivity,
        optimal_lr=float(grid[i_opt]),
        max_stable_lr=max_stable,
        min_catastrophic_lr=min_cat,
    )
