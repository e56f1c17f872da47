"""Results of stochastic simulation: the ensemble, its statistics, stationary laws."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Estimate", "SSAResult", "SSAStatus", "StationaryDistribution"]


class SSAStatus(enum.IntEnum):
    """Outcome of one stochastic trajectory (int8 codes in :attr:`SSAResult.run_status`)."""

    OK = 0
    """Reached the last output time."""
    MAX_REACTIONS = 1
    """``max_reactions`` reactions fired before the end."""
    BAD_PROPENSITY = 2
    """A propensity became negative, NaN or infinite (an explicit propensity's fault)."""
    NEGATIVE_COUNT = 3
    """A reaction fired without its reactants (an explicit propensity positive at zero)."""

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclasses.dataclass(frozen=True)
class Estimate:
    """An ensemble estimate with its standard error, per output time and species.

    Attributes
    ----------
    t
        Output times, shape ``(T,)``.
    value, standard_error
        Shape ``(T, S)`` (or ``(T,)`` for one species); NaN where fewer than two runs
        reached the time.
    num_runs
        Runs that reached each time, shape ``(T,)``.
    species
        Column names.
    """

    t: np.ndarray
    value: np.ndarray
    standard_error: np.ndarray
    num_runs: np.ndarray
    species: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Columns ``t``, ``num_runs`` and per species ``<name>`` and ``<name>_se``."""
        import pandas as pd

        value = self.value.reshape(len(self.t), -1)
        error = self.standard_error.reshape(len(self.t), -1)
        data: dict[str, Any] = {"t": self.t, "num_runs": self.num_runs}
        for i, name in enumerate(self.species):
            data[name] = value[:, i]
            data[f"{name}_se"] = error[:, i]
        return pd.DataFrame(data)


@dataclasses.dataclass(frozen=True)
class StationaryDistribution:
    """A time-averaged distribution of one species' count.

    Attributes
    ----------
    species
        The species.
    values
        Counts from the smallest to the largest seen, shape ``(K,)``.
    probability, standard_error
        Fraction of time spent at each count (sums to 1), and its standard error from
        the spread between runs (NaN with one run).
    mean, mean_standard_error, variance, variance_standard_error
        Of the distribution; standard errors from the spread between runs.
    num_runs, burn_in
        Runs used and the time discarded at the start of each.
    """

    species: str
    values: np.ndarray
    probability: np.ndarray
    standard_error: np.ndarray
    mean: float
    mean_standard_error: float
    variance: float
    variance_standard_error: float
    num_runs: int
    burn_in: float

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Bars with error bars; ``reference=`` probabilities to draw beside them."""
        from stabkit.report.ssa_figures import plot_stationary_distribution

        return plot_stationary_distribution(self, ax=ax, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "count": self.values,
                "probability": self.probability,
                "standard_error": self.standard_error,
            }
        )


def _variance_standard_error(samples: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard error of the sample variance: sqrt((m4 - s^4 (n - 3)/(n - 1)) / n)."""
    n = np.sum(np.isfinite(samples), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.expand_dims(np.nansum(samples, axis=axis) / n, axis)
        centred = samples - mean
        m4 = np.nansum(centred**4, axis=axis) / n
        s2 = np.nansum(centred**2, axis=axis) / np.maximum(n - 1, 1)
        out = np.sqrt(np.maximum(m4 - s2**2 * (n - 3) / np.maximum(n - 1, 1), 0.0) / n)
    return np.where(n >= 2, out, np.nan)


@dataclasses.dataclass(frozen=True, repr=False)
class SSAResult(Result):
    """An ensemble of stochastic trajectories on a common time grid.

    Attributes
    ----------
    t
        Output times, shape ``(T,)``.
    counts
        Molecule counts, shape ``(runs, T, S)``, float64; NaN after a run stopped early.
    species, reactions
        Species (last axis of ``counts``) and reaction names.
    run_status
        :class:`SSAStatus` code of each run, int8 ``(runs,)``.
    t_stop
        Time each run reached (the last output time for runs that finished).
    reactions_fired
        Firings of each reaction in each run, int64 ``(runs, J)``.
    volume
        The system size Omega simulated.
    """

    t: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    counts: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    species: tuple[str, ...] = ()
    reactions: tuple[str, ...] = ()
    run_status: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, np.int8))
    t_stop: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    reactions_fired: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty((0, 0), np.int64)
    )
    volume: float = 1.0

    # ------------------------------------------------------------------ access
    @property
    def num_runs(self) -> int:
        return int(self.counts.shape[0])

    @property
    def ok_mask(self) -> np.ndarray:
        """True for runs that reached the end, shape ``(runs,)``."""
        return np.asarray(self.run_status == SSAStatus.OK)

    @property
    def total_reactions(self) -> int:
        """Reactions fired in all runs together."""
        return int(self.reactions_fired.sum())

    @property
    def reactions_per_second(self) -> float:
        """Reactions fired per second of wall time (compilation excluded)."""
        wall = self.stats.wall_time
        return self.total_reactions / wall if wall > 0 else float("nan")

    def status_counts(self) -> dict[str, int]:
        """``{status label: number of runs}``."""
        return {s.label: int(np.sum(self.run_status == s)) for s in SSAStatus}

    def _index(self, species: str) -> int:
        if species not in self.species:
            hint = suggest(str(species), self.species)
            raise InputError(
                f"no species {species!r}; the result has {', '.join(self.species)}"
                + (f"; {hint}" if hint else "")
            )
        return self.species.index(species)

    def __getitem__(self, species: str) -> np.ndarray:
        """Counts of one species, shape ``(runs, T)``: ``result["X"]``."""
        return self.counts[:, :, self._index(species)]

    def _select(self, species: str | Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
        if species is None:
            return self.counts, self.species
        if isinstance(species, str):
            return self.counts[:, :, self._index(species)], (species,)
        names = tuple(species)
        return self.counts[:, :, [self._index(s) for s in names]], names

    # ------------------------------------------------------------------ statistics
    def mean(self, species: str | Sequence[str] | None = None) -> Estimate:
        """Ensemble mean at each output time, with standard error ``std / sqrt(n)``.

        Runs that stopped early count only up to their stop (their later rows are NaN).
        ``species``: one name (value of shape ``(T,)``), several, or ``None`` (all).
        """
        data, names = self._select(species)
        n = np.sum(np.isfinite(data), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.nansum(data, axis=0) / n
            std = np.sqrt(np.nansum((data - value) ** 2, axis=0) / np.maximum(n - 1, 1))
            error = np.where(n >= 2, std / np.sqrt(n), np.nan)
        value = np.where(n >= 1, value, np.nan)
        runs = n if n.ndim == 1 else n[:, 0]
        return Estimate(self.t.copy(), value, error, runs.astype(np.int64), names)

    def variance(self, species: str | Sequence[str] | None = None) -> Estimate:
        """Ensemble variance (``ddof=1``) at each output time, with its standard error.

        The standard error is ``sqrt((m4 - s^4 (n - 3) / (n - 1)) / n)`` with ``m4`` the
        fourth central moment (exact for the sample variance of independent runs).
        """
        data, names = self._select(species)
        n = np.sum(np.isfinite(data), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(data, axis=0) / n
            value = np.nansum((data - mean) ** 2, axis=0) / (n - 1)
        value = np.where(n >= 2, value, np.nan)
        error = _variance_standard_error(data, axis=0)
        runs = n if n.ndim == 1 else n[:, 0]
        return Estimate(self.t.copy(), value, error, runs.astype(np.int64), names)

    def stationary_distribution(
        self, species: str, *, burn_in: float = 0.0
    ) -> StationaryDistribution:
        """The distribution of a species' count, averaged over time after ``burn_in``.

        Each output time at or after ``t0 + burn_in`` carries the length of time it
        stands for (half the spacing to each neighbour), so the histogram is a time
        average of every run; with a grid finer than the correlation time it estimates
        the stationary law. Standard errors come from the spread between independent
        runs (``std / sqrt(runs)``); only runs that finished are used.

        Raises
        ------
        InputError
            Unknown species, ``burn_in`` outside the simulated time, no finished run.
        """
        index = self._index(species)
        t0, t1 = float(self.t[0]), float(self.t[-1])
        if not (np.isfinite(burn_in) and 0.0 <= burn_in < t1 - t0):
            raise InputError(
                f"burn_in={burn_in!r}: must lie in [0, {t1 - t0:g}), the simulated time"
            )
        keep = self.t >= t0 + burn_in
        times = self.t[keep]
        if times.size < 2:
            raise InputError(
                f"burn_in={burn_in!r} leaves {times.size} output time(s); simulate longer "
                "or pass a finer t_eval"
            )
        edges = np.concatenate([[times[0]], (times[1:] + times[:-1]) / 2, [times[-1]]])
        weights = np.diff(edges) / (times[-1] - times[0])
        runs = self.counts[self.ok_mask][:, keep, index]
        if runs.shape[0] == 0:
            raise InputError("no run reached the end; nothing to average")
        values = runs.astype(np.int64)
        low, top = int(values.min()), int(values.max())
        per_run = np.zeros((runs.shape[0], top - low + 1))
        for r in range(runs.shape[0]):
            per_run[r] = np.bincount(values[r] - low, weights=weights, minlength=top - low + 1)
        probability = per_run.mean(axis=0)
        grid = np.arange(low, top + 1, dtype=np.float64)
        means = per_run @ grid
        variances = per_run @ grid**2 - means**2
        count = runs.shape[0]
        root = np.sqrt(count)

        def spread(x: np.ndarray) -> Any:
            return np.std(x, axis=0, ddof=1) / root if count >= 2 else np.full(x.shape[1:], np.nan)

        mean = float(probability @ grid)
        return StationaryDistribution(
            species=species,
            values=np.arange(low, top + 1),
            probability=probability,
            standard_error=spread(per_run),
            mean=mean,
            mean_standard_error=float(spread(means[:, None])[0]),
            variance=float(probability @ grid**2 - mean**2),
            variance_standard_error=float(spread(variances[:, None])[0]),
            num_runs=count,
            burn_in=float(burn_in),
        )

    # ------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """Long table: columns ``run``, ``t``, ``status`` and one per species."""
        import pandas as pd

        runs, times, _ = self.counts.shape
        data: dict[str, Any] = {
            "run": np.repeat(np.arange(runs), times),
            "t": np.tile(self.t, runs),
            "status": np.repeat([SSAStatus(int(c)).label for c in self.run_status], times).astype(
                str
            )
            if runs
            else np.empty(0, str),
        }
        for i, name in enumerate(self.species):
            data[name] = self.counts[:, :, i].reshape(-1)
        return pd.DataFrame(data)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Sample paths with the ensemble mean and a band of one standard deviation."""
        from stabkit.report.ssa_figures import plot_ssa

        return plot_ssa(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(1, ("runs", f"{self.num_runs} ({self.status_counts()['ok']} ok)"))
        rows.append(("reactions fired", f"{self.total_reactions:,}"))
        rows.append(("reactions per second", f"{self.reactions_per_second:.3g}"))
        return rows

    def __repr__(self) -> str:
        return (
            f"SSAResult(status={self.status!r}, runs={self.num_runs}, "
            f"times={self.t.size}, species={list(self.species)}, "
            f"reactions_fired={self.total_reactions})"
        )


def summarize_runs(codes: np.ndarray, t_stop: np.ndarray) -> tuple[str, str]:
    """``(status, message)`` of an ensemble from its run codes."""
    bad = codes != SSAStatus.OK
    if not bad.any():
        return "ok", ""
    parts = []
    for code in np.unique(codes[bad]):
        which = codes == code
        first = float(np.min(t_stop[which]))
        label = SSAStatus(int(code)).label.replace("_", " ")
        parts.append(f"{int(which.sum())} {label} (earliest at t = {first:.6g})")
    return "partial", f"{int(bad.sum())} of {codes.size} runs stopped early: " + ", ".join(parts)
