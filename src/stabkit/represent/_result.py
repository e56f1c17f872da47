"""The result type of every :mod:`stabkit.represent` analysis."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from stabkit.results import Result

__all__ = ["RepresentationResult"]


@dataclasses.dataclass(frozen=True)
class RepresentationResult(Result):
    """A stability or similarity estimate with its uncertainty.

    Attributes
    ----------
    measure
        Which statistic, e.g. ``"feature_split_stability"`` or ``"cka_linear"``.
    estimate
        The full-data estimate (mean over random splits for split-based measures).
    standard_error
        Monte Carlo standard error over random splits (sample SD / sqrt(valid
        splits)), or the bootstrap standard deviation for deterministic measures when
        a bootstrap was run; NaN otherwise.
    ci_low, ci_high, ci_level
        Percentile bootstrap interval over observations (NaN when not requested).
    n_samples
        Rows given (after NaN omission).
    n_used
        Rows the estimate was computed on (smaller when subsampled).
    components
        Per-split scores (split-based measures) or bootstrap replicates.
    details
        Measure-specific extras (metric, number of partitions drawn, ...).
    """

    measure: str = ""
    estimate: float = float("nan")
    standard_error: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    ci_level: float = 0.95
    n_samples: int = 0
    n_used: int = 0
    components: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Histogram of split scores / bootstrap replicates with the estimate (matplotlib)."""
        from stabkit.report.represent_figures import plot_representation

        return plot_representation(self, ax=ax, **kwargs)

    def __float__(self) -> float:
        return float(self.estimate)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(0, (self.measure, f"{self.estimate:.6g}"))
        if np.isfinite(self.standard_error):
            rows.insert(1, ("standard error", f"{self.standard_error:.3g}"))
        if np.isfinite(self.ci_low):
            rows.insert(
                2,
                (
                    f"{100 * self.ci_level:g}% interval",
                    f"[{self.ci_low:.4g}, {self.ci_high:.4g}]",
                ),
            )
        rows.append(("samples used", f"{self.n_used} of {self.n_samples}"))
        return rows

    def __str__(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self._summary_rows())
