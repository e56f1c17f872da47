"""Global sensitivity of a scalar outcome: Sobol indices and Morris screening (SALib).

The outcome is any number that a per-point analysis returns (for instance the largest
real part of an eigenvalue, ``max_real_part`` of :class:`stabkit.sweep.Equilibria`) or a
user function of the point. The inputs are sampled by SALib (Saltelli's scheme for
Sobol indices, Morris trajectories for screening); every evaluation goes through
:func:`stabkit.sweep.sweep`, so it runs on a process pool or a Dask cluster and, with
a ``store``, resumes after a crash. Points whose analysis fails are dropped with their
whole Saltelli block or Morris trajectory (the estimators need complete blocks), and the
result says how many.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.results import Provenance, Result, Stats
from stabkit.sweep._sensitivity import (
    as_job,
    complete_blocks,
    evaluate,
    problem_of,
    sweep_extra,
)

if TYPE_CHECKING:
    import pandas as pd

    from stabkit.model.model import Model

__all__ = ["MorrisResult", "SobolIndices", "morris_screening", "sobol_indices"]


@dataclasses.dataclass(frozen=True)
class SobolIndices(Result):
    """First-order, second-order and total Sobol indices with bootstrap confidence intervals.

    Attributes
    ----------
    names
        The inputs, shape ``(k,)``.
    first_order, first_order_conf
        ``S_i`` and the half-width of its confidence interval, shape ``(k,)``.
    total, total_conf
        ``S_Ti`` and its half-width, shape ``(k,)``.
    second_order, second_order_conf
        ``S_ij`` (upper triangle, NaN elsewhere), shape ``(k, k)``; ``None`` when not asked.
    outcome
        The outcome analysed.
    num_samples
        The base sample size ``N`` that entered the estimate (after dropping failed blocks).
    num_evaluations, num_failed
        Evaluations run, and those that failed (their blocks dropped).
    conf_level
        Confidence level of the intervals.
    """

    names: tuple[str, ...] = ()
    first_order: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    first_order_conf: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    total: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    total_conf: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    second_order: np.ndarray | None = None
    second_order_conf: np.ndarray | None = None
    outcome: str = ""
    num_samples: int = 0
    num_evaluations: int = 0
    num_failed: int = 0
    conf_level: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """One row per input: ``S1``, ``S1_conf``, ``ST``, ``ST_conf``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "name": list(self.names),
                "S1": self.first_order,
                "S1_conf": self.first_order_conf,
                "ST": self.total,
                "ST_conf": self.total_conf,
            }
        )

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(("outcome", f"{self.outcome} ({self.num_evaluations} evaluations)"))
        for i, name in enumerate(self.names):
            rows.append(
                (
                    name,
                    f"S1 = {self.first_order[i]:.3f} +- {self.first_order_conf[i]:.3f}, "
                    f"ST = {self.total[i]:.3f} +- {self.total_conf[i]:.3f}",
                )
            )
        return rows

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Bars of ``S1`` and ``ST`` with their confidence intervals."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        x = np.arange(len(self.names))
        ax.bar(x - 0.2, self.first_order, 0.4, yerr=self.first_order_conf, label="first order")
        ax.bar(x + 0.2, self.total, 0.4, yerr=self.total_conf, label="total", **kwargs)
        ax.set_xticks(x, list(self.names))
        ax.set_ylabel(f"Sobol index of {self.outcome}")
        ax.legend()
        return ax


@dataclasses.dataclass(frozen=True)
class MorrisResult(Result):
    """Morris elementary-effects screening.

    Attributes
    ----------
    names
        The inputs, shape ``(k,)``.
    mu, mu_star, sigma
        Mean, mean absolute value and standard deviation of the elementary effects, shape
        ``(k,)`` (effects in outcome units per unit of input).
    mu_star_conf
        Bootstrap half-width of the ``mu_star`` confidence interval.
    outcome, num_trajectories, num_levels, num_failed
        The outcome, trajectories used (after dropping failed ones), grid levels, failed
        evaluations.
    """

    names: tuple[str, ...] = ()
    mu: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    mu_star: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    mu_star_conf: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    sigma: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    outcome: str = ""
    num_trajectories: int = 0
    num_levels: int = 4
    num_failed: int = 0

    @property
    def ranking(self) -> tuple[str, ...]:
        """The inputs from the most to the least influential (by ``mu_star``)."""
        order = np.argsort(-np.asarray(self.mu_star), kind="stable")
        return tuple(self.names[i] for i in order)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(("outcome", f"{self.outcome} ({self.num_trajectories} trajectories)"))
        for i, name in enumerate(self.names):
            rows.append(
                (
                    name,
                    f"mu* = {self.mu_star[i]:.4g} +- {self.mu_star_conf[i]:.2g}, "
                    f"sigma = {self.sigma[i]:.4g}",
                )
            )
        return rows

    def to_frame(self) -> pd.DataFrame:
        """One row per input: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "name": list(self.names),
                "mu": self.mu,
                "mu_star": self.mu_star,
                "mu_star_conf": self.mu_star_conf,
                "sigma": self.sigma,
            }
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """``sigma`` against ``mu_star``, one labelled point per input."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        ax.errorbar(self.mu_star, self.sigma, xerr=self.mu_star_conf, fmt="o", **kwargs)
        for name, x, y in zip(self.names, self.mu_star, self.sigma, strict=True):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4))
        ax.set_xlabel("mu*")
        ax.set_ylabel("sigma")
        return ax


def sobol_indices(
    fn_or_analysis: Any,
    model: Model | None = None,
    *,
    bounds: Mapping[str, tuple[float, float]],
    outcome: str = "value",
    num_samples: int = 1024,
    second_order: bool = True,
    seed: int = 0,
    num_resamples: int = 200,
    conf_level: float = 0.95,
    executor: Any = "local",
    store: str | Path | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SobolIndices:
    """Sobol indices of a scalar outcome over a box of inputs (Saltelli sampling, SALib).

    The first-order index is the share of the outcome's variance explained by one input
    alone, the total index the share of all terms involving it::

        S_i = Var(E[Y | X_i]) / Var(Y),    S_Ti = E[Var(Y | X_~i)] / Var(Y).

    Estimated with Saltelli's scheme (``N (2k + 2)`` evaluations with second order,
    ``N (k + 2)`` without) and Jansen's total-effect estimator; confidence intervals by
    bootstrap (Saltelli et al. 2010, Comput. Phys. Commun. 181, 259).

    Parameters
    ----------
    fn_or_analysis
        ``fn(point) -> float | dict`` (with ``model=None``), or a per-point analysis
        ``analysis(model, point) -> dict`` (for instance :class:`stabkit.sweep.Equilibria`)
        or its name (``"equilibria"``).
    model
        The model whose parameters/variables are named in ``bounds``, or ``None``.
    bounds
        ``{name: (lo, hi)}``; inputs are uniform on the box.
    outcome
        The key of the returned dict to analyse (``"value"`` for a function returning a
        number).
    num_samples
        The base sample size ``N`` (a power of 2 keeps the Sobol sequence balanced).
    second_order
        Also estimate the pairwise indices ``S_ij``.
    seed
        Seed of the scrambled Sobol sequence and of the bootstrap.
    num_resamples, conf_level
        Bootstrap resamples and the confidence level of the intervals.
    executor, store, chunk_size, progress
        As for :func:`stabkit.sweep.sweep`: the evaluations run there, in parallel and
        resumable.

    Returns
    -------
    SobolIndices
        ``status`` is ``"partial"`` when some evaluations failed (their blocks dropped) and
        ``"failed"`` when no complete block remains.

    Raises
    ------
    InputError
        Empty or malformed bounds, unknown names, an outcome the analysis does not return.

    Examples
    --------
    >>> r = sobol_indices(lambda p: p["x"] + 0.1 * p["y"], bounds={"x": (0, 1), "y": (0, 1)},
    ...                   num_samples=256, second_order=False, executor="serial")
    >>> [round(float(s), 2) for s in r.first_order]
    [0.99, 0.01]
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    where = "sobol_indices"
    problem = problem_of(bounds, model, where)
    job = as_job(fn_or_analysis, where)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise InputError(f"{where}(num_samples={num_samples!r}): need an integer >= 2")
    k = problem["num_vars"]
    design = sobol_sample.sample(problem, num_samples, calc_second_order=second_order, seed=seed)
    y, swept = evaluate(
        job,
        model,
        problem,
        design,
        outcome,
        executor=executor,
        store=store,
        chunk_size=chunk_size,
        seed=seed,
        progress=progress,
        where=where,
    )
    block = 2 * k + 2 if second_order else k + 2
    keep = complete_blocks(y, block)
    num_failed = int(np.sum(~np.isfinite(y)))
    used = int(keep.sum()) // block
    nan_k = np.full(k, np.nan)
    common = {
        "stats": Stats(wall_time=swept.stats.wall_time, extra=sweep_extra(swept)),
        "provenance": Provenance(
            model_hash=model.content_hash if model is not None else None,
            analysis="sobol_indices",
            method=f"Saltelli sampling (N={num_samples}, second_order={second_order}), "
            f"SALib sobol.analyze; job {swept.provenance.method}",
            seed=seed,
        ),
        "names": tuple(problem["names"]),
        "outcome": outcome,
        "num_samples": used,
        "num_evaluations": int(y.size),
        "num_failed": num_failed,
        "conf_level": conf_level,
    }
    if used < 2 or not np.isfinite(np.var(y[keep])) or np.var(y[keep]) == 0:
        why = "no complete block of evaluations" if used < 2 else "the outcome does not vary"
        return SobolIndices(
            status="failed",
            message=f"{why}; {num_failed} of {y.size} evaluations failed",
            first_order=nan_k,
            first_order_conf=nan_k,
            total=nan_k,
            total_conf=nan_k,
            **common,
        )
    si = sobol_analyze.analyze(
        problem,
        y[keep],
        calc_second_order=second_order,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
    )
    message = (
        ""
        if not num_failed
        else f"{num_failed} of {y.size} evaluations failed; "
        f"{num_samples - used} of {num_samples} Saltelli blocks dropped"
    )
    return SobolIndices(
        status="ok" if not num_failed else "partial",
        message=message,
        first_order=np.asarray(si["S1"], dtype=float),
        first_order_conf=np.asarray(si["S1_conf"], dtype=float),
        total=np.asarray(si["ST"], dtype=float),
        total_conf=np.asarray(si["ST_conf"], dtype=float),
        second_order=np.asarray(si["S2"], dtype=float) if second_order else None,
        second_order_conf=np.asarray(si["S2_conf"], dtype=float) if second_order else None,
        **common,
    )


def morris_screening(
    fn_or_analysis: Any,
    model: Model | None = None,
    *,
    bounds: Mapping[str, tuple[float, float]],
    outcome: str = "value",
    num_trajectories: int = 50,
    num_levels: int = 4,
    seed: int = 0,
    num_resamples: int = 200,
    conf_level: float = 0.95,
    executor: Any = "local",
    store: str | Path | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MorrisResult:
    """Morris screening: which inputs matter, from ``r (k + 1)`` evaluations.

    Along each random one-at-a-time trajectory on a ``p``-level grid, the elementary effect
    of input ``i`` is ``EE_i = (f(x + Delta e_i) - f(x)) / Delta``; ``mu*`` (the mean of
    ``|EE_i|``) ranks overall influence, ``sigma`` flags non-linearity and interactions
    (Morris 1991, Technometrics 33, 161; Campolongo et al. 2007, Environ. Model. Softw.
    22, 1509).

    Parameters
    ----------
    fn_or_analysis, model, bounds, outcome
        As for :func:`sobol_indices`.
    num_trajectories
        Trajectories ``r``.
    num_levels
        Grid levels ``p`` (even; ``Delta = p / (2 (p - 1))`` of the range).
    seed, num_resamples, conf_level, executor, store, chunk_size, progress
        As for :func:`sobol_indices`.

    Returns
    -------
    MorrisResult
        ``mu*`` and ``sigma`` in outcome units per unit of each input; failed trajectories
        dropped (``status="partial"``).

    Raises
    ------
    InputError
        As for :func:`sobol_indices`, and fewer than 2 trajectories or an odd ``num_levels``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    where = "morris_screening"
    problem = problem_of(bounds, model, where)
    job = as_job(fn_or_analysis, where)
    if isinstance(num_trajectories, bool) or not isinstance(num_trajectories, int):
        raise InputError(f"{where}(num_trajectories={num_trajectories!r}): need an integer")
    if num_trajectories < 2:
        raise InputError(f"{where}(num_trajectories={num_trajectories}): need at least 2")
    if not isinstance(num_levels, int) or num_levels < 2 or num_levels % 2:
        raise InputError(f"{where}(num_levels={num_levels!r}): need an even integer >= 2")
    k = problem["num_vars"]
    design = morris_sample.sample(problem, num_trajectories, num_levels=num_levels, seed=seed)
    y, swept = evaluate(
        job,
        model,
        problem,
        design,
        outcome,
        executor=executor,
        store=store,
        chunk_size=chunk_size,
        seed=seed,
        progress=progress,
        where=where,
    )
    keep = complete_blocks(y, k + 1)
    used = int(keep.sum()) // (k + 1)
    num_failed = int(np.sum(~np.isfinite(y)))
    common = {
        "stats": Stats(wall_time=swept.stats.wall_time, extra=sweep_extra(swept)),
        "provenance": Provenance(
            model_hash=model.content_hash if model is not None else None,
            analysis="morris_screening",
            method=f"Morris (r={num_trajectories}, p={num_levels}), SALib morris.analyze; "
            f"job {swept.provenance.method}",
            seed=seed,
        ),
        "names": tuple(problem["names"]),
        "outcome": outcome,
        "num_trajectories": used,
        "num_levels": num_levels,
        "num_failed": num_failed,
    }
    if used < 2:
        nan_k = np.full(k, np.nan)
        return MorrisResult(
            status="failed",
            message=f"fewer than 2 complete trajectories; {num_failed} evaluations failed",
            mu=nan_k,
            mu_star=nan_k,
            mu_star_conf=nan_k,
            sigma=nan_k,
            **common,
        )
    si = morris_analyze.analyze(
        problem,
        design[keep],
        y[keep],
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=num_levels,
        seed=seed,
    )
    return MorrisResult(
        status="ok" if not num_failed else "partial",
        message=""
        if not num_failed
        else f"{num_failed} evaluations failed; "
        f"{num_trajectories - used} of {num_trajectories} trajectories dropped",
        mu=np.asarray(si["mu"], dtype=float),
        mu_star=np.asarray(si["mu_star"], dtype=float),
        mu_star_conf=np.asarray(si["mu_star_conf"], dtype=float),
        sigma=np.asarray(si["sigma"], dtype=float),
        **common,
    )
