"""The result type of Lyapunov analyses and the quantities derived from a spectrum."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LyapunovResult", "SumRule", "kaplan_yorke_dimension"]


def kaplan_yorke_dimension(exponents: np.ndarray) -> float:
    r"""The Kaplan-Yorke (Lyapunov) dimension of a spectrum.

    .. math::
        D_{KY} = j + \frac{\sum_{i \le j} \lambda_i}{|\lambda_{j+1}|},
        \qquad j = \max\{m : \textstyle\sum_{i \le m} \lambda_i \ge 0\}

    Parameters
    ----------
    exponents
        Lyapunov exponents, shape ``(k,)``; sorted here in decreasing order.

    Returns
    -------
    float
        ``0`` when the largest exponent is negative, ``k`` when every partial sum is
        non-negative (the dimension is then only bounded below by ``k``), NaN for an
        empty or non-finite spectrum.

    References
    ----------
    Kaplan & Yorke, Lecture Notes in Mathematics 730 (1979) 204-227.

    Examples
    --------
    >>> round(kaplan_yorke_dimension(np.array([0.9056, 0.0, -14.5723])), 4)
    2.0621
    """
    lam = np.sort(np.asarray(exponents, dtype=np.float64))[::-1]
    if lam.size == 0 or not np.all(np.isfinite(lam)):
        return math.nan
    sums = np.cumsum(lam)
    if sums[0] < 0:
        return 0.0
    j = int(np.max(np.flatnonzero(sums >= 0))) + 1  # number of exponents in the sum
    if j == lam.size:
        return float(lam.size)
    return float(j + sums[j - 1] / abs(lam[j]))


@dataclasses.dataclass(frozen=True)
class SumRule:
    """The sum of the exponents against the orbit average of ``tr J`` (flows) or
    ``log|det J|`` (maps).

    Attributes
    ----------
    exponent_sum
        Sum of all ``n`` exponents.
    trace_average
        Time average of ``tr J`` along the orbit (flows, Liouville's formula) or the
        average of ``log|det J|`` per iteration (maps), over the same stretch of orbit.
    difference
        ``exponent_sum - trace_average``: zero up to integration and rounding error.
    """

    exponent_sum: float
    trace_average: float
    difference: float


@dataclasses.dataclass(frozen=True, repr=False)
class LyapunovResult(Result):
    """Result of :func:`lyapunov_spectrum`, :func:`largest_lyapunov_exponent` and
    :func:`lyapunov_from_series`.

    Attributes
    ----------
    exponents
        Lyapunov exponents in decreasing order, shape ``(k,)``, per unit time (flows,
        series) or per iteration (maps).
    standard_errors
        Standard error of each exponent, shape ``(k,)``: batch means over
        ``num_blocks`` contiguous blocks of the orbit (spectra), or the spread of the
        fitted slope over groups of reference points (series).
    running_time, running_estimates
        Averaging time (iterations for maps) and the running estimates there, shapes
        ``(m,)`` and ``(m, k)``: the convergence curves :meth:`plot` draws.
    sum_rule
        :class:`SumRule` when all ``n`` exponents were computed, else ``None``.
    kaplan_yorke_dimension
        See :func:`kaplan_yorke_dimension` (NaN when not computed).
    zero_exponent_index
        Index of the exponent of the flow direction for autonomous flows with a full
        spectrum: the one nearest zero, if it is zero within ``max(4 se, 1e-3 max|λ|)``;
        ``None`` otherwise (maps, partial spectra, orbits settling to an equilibrium).
    variables
        Variable names (or ``("x",)`` for a series).
    kind
        ``"ode"``, ``"map"`` or ``"series"``.
    averaging_time
        Length of orbit (after the transient) the exponents average over.
    transient
        Length of orbit discarded first.
    renormalisation_interval
        Time (iterations) between re-orthonormalisations.
    jacobian_source
        ``"exact"``, ``"user"``, ``"finite differences"`` or ``"local fits"``.
    diagnostics
        Method-specific extras: for series the embedding (``delay``,
        ``embedding_dimension``), the divergence curve and the fitted window.
    """

    exponents: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    standard_errors: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    running_time: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    running_estimates: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    sum_rule: SumRule | None = None
    kaplan_yorke_dimension: float = math.nan
    zero_exponent_index: int | None = None
    variables: tuple[str, ...] = ()
    kind: str = "ode"
    averaging_time: float = 0.0
    transient: float = 0.0
    renormalisation_interval: float = 0.0
    jacobian_source: str = "exact"
    diagnostics: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def running(self) -> tuple[np.ndarray, np.ndarray]:
        """``(running_time, running_estimates)``."""
        return self.running_time, self.running_estimates

    @property
    def largest(self) -> float:
        """The largest exponent (NaN when none was computed)."""
        return float(self.exponents[0]) if self.exponents.size else math.nan

    def to_frame(self) -> pd.DataFrame:
        """One row per exponent: index, exponent, standard error."""
        import pandas as pd

        return pd.DataFrame(
            {
                "index": np.arange(1, self.exponents.size + 1),
                "exponent": self.exponents,
                "standard_error": self.standard_errors,
            }
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Convergence curves: running estimates against averaging time (matplotlib)."""
        from stabkit.report.lyapunov_figures import plot_lyapunov

        return plot_lyapunov(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        pairs = ", ".join(
            f"{e:.6g} ± {s:.2g}" for e, s in zip(self.exponents, self.standard_errors, strict=True)
        )
        rows.insert(1, ("exponents", pairs))
        if self.sum_rule is not None:
            sr = self.sum_rule
            rows.insert(
                2,
                (
                    "sum rule",
                    f"sum {sr.exponent_sum:.8g} vs average {sr.trace_average:.8g} "
                    f"(difference {sr.difference:.2g})",
                ),
            )
        if math.isfinite(self.kaplan_yorke_dimension):
            rows.insert(3, ("Kaplan-Yorke dimension", f"{self.kaplan_yorke_dimension:.4f}"))
        return rows

    def __repr__(self) -> str:
        pairs = ", ".join(
            f"{e:.5g}±{s:.1g}" for e, s in zip(self.exponents, self.standard_errors, strict=True)
        )
        return f"LyapunovResult([{pairs}], status={self.status!r})"
