"""Continual evaluation: per-iteration accuracy on every seen task, and the stability gap.

De Lange, van de Ven & Tuytelaars (2023, ICLR, arXiv 2205.13452) evaluate a continual
learner after *every* training iteration on each task seen so far and find a *stability
gap*: right after a task switch, accuracy on earlier tasks drops sharply and recovers;
end-of-task evaluation hides it. Their metrics, with ``A(E_i, f_t)`` the accuracy on
task ``i`` after iteration ``t``:

* ``min-ACC_i``: the minimum of ``A(E_i, f_t)`` over iterations after task ``i`` was
  learned (after its training phase ended); ``min-ACC`` averages it over earlier tasks;
* ``WC-ACC`` while learning task ``k``:
  ``(1/k) A(E_k, f_t) + (1 - 1/k) mean_{i<k} min-ACC_i`` (worst-case accuracy);
* ``WF^(h)`` / ``WP^(h)``: windowed forgetting / plasticity, the largest drop / rise
  ``A_i - A_j`` (``i < j``) within the last ``h`` evaluations of a task (``h = 10``);
* ``LCA``: mean of the first ``h`` accuracies of a task while it is trained;
* final ``ACC`` (mean over tasks at the end) and ``FORG`` (mean of best minus final).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ContinualEvaluator", "ContinualResult"]


def _accuracy(model: Any, data: Any) -> float:
    import torch

    x, y = data
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            pred = model(x).argmax(dim=-1)
    finally:
        model.train(was)
    return float((pred == y).float().mean())


@dataclasses.dataclass(frozen=True)
class ContinualResult(Result):
    """Per-iteration accuracies and the continual-evaluation metrics.

    Attributes
    ----------
    iterations
        Evaluation iterations.
    tasks
        Task names in the order they were trained.
    accuracy
        ``(num_evaluations, num_tasks)``; NaN before a task was first trained.
    training_task
        Per evaluation, the index of the task being trained.
    task_end
        Per task, the last iteration of its training phase (``None`` if unfinished).
    final_accuracy, forgetting
        ``ACC`` and ``FORG`` at the last evaluation.
    min_accuracy
        Per task, ``min-ACC`` (NaN for the task trained last).
    average_min_accuracy
        ``min-ACC`` averaged over all but the last task.
    worst_case_accuracy
        ``WC-ACC`` at the last evaluation.
    windowed_forgetting, windowed_plasticity
        Per task, ``WF^(h)`` and ``WP^(h)`` maxima over the run.
    learning_curve_area
        Per task, ``LCA`` (mean of its first ``h`` accuracies while trained).
    window
        ``h``.
    """

    iterations: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    tasks: tuple[str, ...] = ()
    accuracy: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    training_task: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    task_end: tuple[int | None, ...] = ()
    final_accuracy: float = float("nan")
    forgetting: float = float("nan")
    min_accuracy: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    average_min_accuracy: float = float("nan")
    worst_case_accuracy: float = float("nan")
    windowed_forgetting: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    windowed_plasticity: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    learning_curve_area: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    window: int = 10

    def to_frame(self) -> pd.DataFrame:
        """Long table: iteration, task, accuracy, training task."""
        import pandas as pd

        rows = []
        for r, it in enumerate(self.iterations):
            for j, task in enumerate(self.tasks):
                if np.isfinite(self.accuracy[r, j]):
                    rows.append(
                        {
                            "iteration": int(it),
                            "task": task,
                            "accuracy": float(self.accuracy[r, j]),
                            "training": self.tasks[int(self.training_task[r])],
                        }
                    )
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """The stability-gap figure: accuracy of every task against iteration."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.8))
        for j, task in enumerate(self.tasks):
            ax.plot(self.iterations, self.accuracy[:, j], lw=1, label=f"task {task}", **kwargs)
        for end in self.task_end[:-1]:
            if end is not None:
                ax.axvline(end, color="k", ls=":", lw=0.8)
        ax.set_xlabel("iteration")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(
            f"Continual evaluation: min-ACC {self.average_min_accuracy:.3f}, "
            f"final ACC {self.final_accuracy:.3f}"
        )
        ax.legend(fontsize=7, ncol=2)
        return ax

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(("final ACC", f"{self.final_accuracy:.4f}"))
        rows.append(("min-ACC", f"{self.average_min_accuracy:.4f}"))
        rows.append(("WC-ACC", f"{self.worst_case_accuracy:.4f}"))
        return rows


class ContinualEvaluator:
    """Evaluate a learner on every seen task during training; see the module docstring.

    Parameters
    ----------
    eval_sets
        Task name -> ``(inputs, targets)`` test data (or any object ``metric`` takes).
    metric
        ``metric(model, data) -> float``; default: classification accuracy of
        ``model(inputs).argmax(-1)`` in eval mode (the mode is restored).
    every
        Evaluate every this many iterations.
    window
        ``h`` of the windowed metrics and LCA.

    Examples
    --------
    In the training loop::

        ev = ContinualEvaluator({"a": (xa, ya), "b": (xb, yb)})
        for task in ("a", "b"):
            ev.start_task(task)
            for it in ...:
                ...  # one optimizer step
                ev.evaluate(model)
            ev.end_task()
        result = ev.result()
    """

    def __init__(
        self,
        eval_sets: Mapping[Hashable, Any],
        *,
        metric: Callable[[Any, Any], float] = _accuracy,
        every: int = 1,
        window: int = 10,
    ) -> None:
        if not isinstance(eval_sets, Mapping) or not eval_sets:
            raise InputError(
                "ContinualEvaluator(eval_sets=...): need a non-empty dict task -> data"
            )
        for name, value in (("every", every), ("window", window)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"ContinualEvaluator({name}={value!r}): need an integer >= 1")
        self.eval_sets = dict(eval_sets)
        self.names = [str(k) for k in self.eval_sets]
        self.metric = metric
        self.every = every
        self.window = window
        self._order: list[int] = []
        self._end: dict[int, int] = {}
        self._current: int | None = None
        self._iteration = 0
        self._rows: list[tuple[int, int, np.ndarray]] = []

    def start_task(self, task: Hashable) -> None:
        """Training of ``task`` begins (tasks must be among ``eval_sets``)."""
        if task not in self.eval_sets:
            raise InputError(
                f"ContinualEvaluator.start_task({task!r}): unknown task; known: {self.names}"
            )
        index = list(self.eval_sets).index(task)
        if index in self._order:
            raise InputError(f"ContinualEvaluator.start_task({task!r}): task already trained")
        self._order.append(index)
        self._current = index

    def end_task(self) -> None:
        """Training of the current task ends."""
        if self._current is None:
            raise InputError("ContinualEvaluator.end_task(): no task was started")
        self._end[self._current] = self._iteration
        self._current = None

    def evaluate(self, model: Any, *, iteration: int | None = None) -> dict[str, float] | None:
        """Count one training iteration; every ``every`` iterations evaluate all seen tasks."""
        if self._current is None:
            raise InputError("ContinualEvaluator.evaluate(): call start_task(task) first")
        self._iteration = self._iteration + 1 if iteration is None else int(iteration)
        if self._iteration % self.every:
            return None
        acc = np.full(len(self.names), np.nan)
        keys = list(self.eval_sets)
        for j in self._order:
            acc[j] = float(self.metric(model, self.eval_sets[keys[j]]))
        self._rows.append((self._iteration, self._current, acc))
        return {self.names[j]: float(acc[j]) for j in self._order}

    def result(self) -> ContinualResult:
        """The metrics of the run so far."""
        if not self._rows:
            raise InputError("ContinualEvaluator.result(): nothing was evaluated yet")
        order = self._order
        its = np.array([r[0] for r in self._rows], dtype=int)
        training = np.array([r[1] for r in self._rows], dtype=int)
        acc_all = np.vstack([r[2] for r in self._rows])
        acc = acc_all[:, order]  # columns in training order
        tasks = tuple(self.names[j] for j in order)
        k = len(order)
        h = self.window
        mins = np.full(k, np.nan)
        for pos, j in enumerate(order[:-1]):
            end = self._end.get(j)
            if end is not None:
                after = its > end
                if after.any():
                    mins[pos] = float(np.nanmin(acc[after, pos]))
        wf = np.zeros(k)
        wp = np.zeros(k)
        lca = np.full(k, np.nan)
        for pos, j in enumerate(order):
            series = acc[:, pos][np.isfinite(acc[:, pos])]
            for start in range(max(series.size - h + 1, 1)):
                win = series[start : start + h]
                if win.size > 1:
                    diffs = win[:, None] - win[None, :]
                    upper = np.triu(diffs, 1)
                    wf[pos] = max(wf[pos], float(upper.max()))
                    wp[pos] = max(wp[pos], float(np.tril(diffs, -1).max()))
            own = acc[training == j, pos]
            if own.size:
                lca[pos] = float(np.mean(own[:h]))
        last = acc[-1]
        seen = np.isfinite(last)
        best = np.nanmax(acc, axis=0)
        final_acc = float(np.mean(last[seen]))
        forgetting = float(np.mean((best - last)[seen][:-1])) if seen.sum() > 1 else 0.0
        avg_min = (
            float(np.nanmean(mins[:-1])) if k > 1 and np.isfinite(mins[:-1]).any() else float("nan")
        )
        current = int(np.nonzero(np.array(order) == training[-1])[0][0])
        kk = current + 1
        prev = mins[:current]
        prev_term = float(np.nanmean(prev)) if prev.size and np.isfinite(prev).any() else 0.0
        wc = (1 / kk) * float(acc[-1, current]) + (1 - 1 / kk) * prev_term
        return ContinualResult(
            status="ok",
            message="",
            stats=Stats(extra={"num_evaluations": int(its.size)}),
            provenance=Provenance(analysis="continual evaluation", method="delange2022 metrics"),
            iterations=its,
            tasks=tasks,
            accuracy=acc,
            training_task=np.array([order.index(t) for t in training], dtype=int),
            task_end=tuple(self._end.get(j) for j in order),
            final_accuracy=final_acc,
            forgetting=forgetting,
            min_accuracy=mins,
            average_min_accuracy=avg_min,
            worst_case_accuracy=wc,
            windowed_forgetting=wf,
            windowed_plasticity=wp,
            learning_curve_area=lca,
            window=h,
        )
