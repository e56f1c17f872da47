"""Stochastic traces and Frobenius norms of symmetric operators, with confidence intervals.

Works on any operator with ``shape`` and ``matvec(v)`` (numpy in, numpy out), e.g.
:class:`~stabkit.learn.operators.MatrixOperator` or
:class:`~stabkit.learn.operators.HessianOperator`. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from stabkit.errors import InputError
from stabkit.learn._linop import _apply, _check_operator, _int_arg, with_quiet_blas
from stabkit.results import Provenance, Result, Stats

__all__ = [
    "FrobeniusResult",
    "HutchPlusPlus",
    "Hutchinson",
    "TraceResult",
    "frobenius_estimate",
    "trace_estimate",
]


@dataclasses.dataclass(frozen=True)
class Hutchinson:
    """Hutchinson's estimator: ``tr A ≈ mean(z_i^T A z_i)`` over Rademacher ``z_i``.

    Unbiased, variance ``2 (||A||_F^2 - sum_i A_ii^2) / m`` (Hutchinson 1990,
    Commun. Stat. Simul. Comput. 19:433).

    Parameters
    ----------
    num_matvecs
        Products to spend (``m``), at least 2 (for a standard error).
    """

    num_matvecs: int = 100

    def __post_init__(self) -> None:
        _int_arg(self.num_matvecs, "num_matvecs", "Hutchinson", 2)


@dataclasses.dataclass(frozen=True)
class HutchPlusPlus:
    """Hutch++: the trace on a sketched dominant subspace exactly, Hutchinson on the rest.

    One third of the products sketch ``Q = orth(A S)``, one third form ``tr(Q^T A Q)``,
    one third run Hutchinson on ``(I - QQ^T) A (I - QQ^T)``; the error falls as
    ``1/m`` instead of ``1/sqrt(m)`` when the spectrum decays (Meyer, Musco, Musco &
    Woodruff 2021, SOSA).

    Parameters
    ----------
    num_matvecs
        Products to spend, at least 6.
    """

    num_matvecs: int = 100

    def __post_init__(self) -> None:
        _int_arg(self.num_matvecs, "num_matvecs", "HutchPlusPlus", 6)


@dataclasses.dataclass(frozen=True)
class TraceResult(Result):
    """A stochastic trace estimate with its standard error and confidence interval.

    Attributes
    ----------
    estimate
        The trace estimate.
    standard_error
        Estimated standard error of ``estimate``.
    interval
        ``(low, high)``: Student-t confidence interval at level ``confidence``.
    confidence
        Level of ``interval``.
    num_matvecs
        Operator products used.
    method
        ``"hutchinson"`` or ``"hutch++"``.
    """

    estimate: float = 0.0
    standard_error: float = 0.0
    interval: tuple[float, float] = (0.0, 0.0)
    confidence: float = 0.95
    num_matvecs: int = 0
    method: str = "hutchinson"

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        lo, hi = self.interval
        rows.append(("trace", f"{self.estimate:.6g} ± {self.standard_error:.2g}"))
        rows.append((f"{self.confidence:.0%} interval", f"[{lo:.6g}, {hi:.6g}]"))
        rows.append(("matvecs", str(self.num_matvecs)))
        return rows


@dataclasses.dataclass(frozen=True)
class FrobeniusResult(Result):
    """A stochastic estimate of ``||A||_F`` with its standard error and interval.

    Attributes
    ----------
    estimate
        Estimate of the Frobenius norm ``||A||_F``.
    squared
        Estimate of ``||A||_F^2`` (unbiased; ``estimate`` is its square root).
    standard_error
        Standard error of ``estimate`` (delta method from that of ``squared``).
    interval
        Confidence interval of ``||A||_F`` at level ``confidence`` (the square root of
        the Student-t interval of ``squared``, clipped at 0).
    confidence, num_matvecs
        As asked and as used.
    """

    estimate: float = 0.0
    squared: float = 0.0
    standard_error: float = 0.0
    interval: tuple[float, float] = (0.0, 0.0)
    confidence: float = 0.95
    num_matvecs: int = 0

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        lo, hi = self.interval
        rows.append(("Frobenius norm", f"{self.estimate:.6g} ± {self.standard_error:.2g}"))
        rows.append((f"{self.confidence:.0%} interval", f"[{lo:.6g}, {hi:.6g}]"))
        rows.append(("matvecs", str(self.num_matvecs)))
        return rows


def _check_confidence(confidence: Any, fname: str) -> float:
    if isinstance(confidence, bool) or not (
        isinstance(confidence, (int, float)) and 0 < confidence < 1
    ):
        raise InputError(f"{fname}(confidence={confidence!r}): need a number in (0, 1)")
    return float(confidence)


def _t_half_width(se: float, samples: int, confidence: float) -> float:
    from scipy import stats as sps

    return float(sps.t.ppf(0.5 + confidence / 2, df=samples - 1)) * se


@with_quiet_blas
def trace_estimate(
    operator: Any,
    method: Hutchinson | HutchPlusPlus | None = None,
    *,
    seed: int = 0,
    confidence: float = 0.95,
) -> TraceResult:
    """Stochastic estimate of the trace of a symmetric operator, with a confidence interval.

    Hutchinson: ``tr A ≈ mean(z_i^T A z_i)`` over Rademacher vectors ``z_i``
    (Hutchinson 1990). Hutch++: the trace of ``A`` on a sketched dominant subspace
    ``Q`` exactly, plus Hutchinson on the deflated rest ``(I - QQ^T) A (I - QQ^T)``
    (Meyer, Musco, Musco & Woodruff 2021, SOSA). The interval is Student-t from the
    Hutchinson samples (for Hutch++, those of the deflated part, conditional on ``Q``).

    Parameters
    ----------
    operator
        Object with ``shape == (n, n)`` and ``matvec(v)`` on numpy vectors.
    method
        :class:`Hutchinson` (default, 100 products) or :class:`HutchPlusPlus`.
    seed
        Seed of the random vectors.
    confidence
        Level of the interval, in (0, 1).

    Returns
    -------
    TraceResult

    Raises
    ------
    InputError
        For an object that is not an operator, a method that is not one of the two,
        or a confidence outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit.learn import MatrixOperator
    >>> r = trace_estimate(MatrixOperator(np.diag([1.0, 2.0, 3.0])), Hutchinson(10))
    >>> float(r.estimate), r.num_matvecs
    (6.0, 10)
    """
    fname = "trace_estimate"
    t0 = time.perf_counter()
    n = _check_operator(operator, fname)
    if method is None:
        method = Hutchinson()
    if not isinstance(method, (Hutchinson, HutchPlusPlus)):
        raise InputError(
            f"{fname}(method={method!r}): pass Hutchinson(num_matvecs=...) or "
            "HutchPlusPlus(num_matvecs=...)"
        )
    confidence = _check_confidence(confidence, fname)
    m = method.num_matvecs
    rng = np.random.default_rng(seed)
    exact = 0.0
    if isinstance(method, Hutchinson):
        name = "hutchinson"
        z = rng.choice([-1.0, 1.0], size=(m, n))
        samples = np.array([zi @ _apply(operator, zi, n) for zi in z])
        used = m
    else:
        name = "hutch++"
        s_cols = m // 3
        sketch = rng.choice([-1.0, 1.0], size=(s_cols, n))
        y = np.column_stack([_apply(operator, si, n) for si in sketch])
        q, _ = np.linalg.qr(y)
        aq = np.column_stack([_apply(operator, q[:, i], n) for i in range(q.shape[1])])
        exact = float(np.trace(q.T @ aq))
        used = 2 * s_cols
        z = rng.choice([-1.0, 1.0], size=(m - used, n))
        z -= (z @ q) @ q.T
        samples = np.array([zi @ _apply(operator, zi, n) for zi in z])
        used += m - 2 * s_cols
    se = float(np.std(samples, ddof=1) / np.sqrt(samples.size))
    half = _t_half_width(se, samples.size, confidence)
    estimate = exact + float(np.mean(samples))
    return TraceResult(
        status="ok",
        message="",
        stats=Stats(wall_time=time.perf_counter() - t0, extra={"num_matvecs": used}),
        provenance=Provenance(
            analysis="trace_estimate",
            method=repr(method),
            params={"num_matvecs": float(m), "confidence": confidence},
            seed=seed,
        ),
        estimate=estimate,
        standard_error=se,
        interval=(estimate - half, estimate + half),
        confidence=confidence,
        num_matvecs=used,
        method=name,
    )


@with_quiet_blas
def frobenius_estimate(
    operator: Any, *, num_matvecs: int = 50, seed: int = 0, confidence: float = 0.95
) -> FrobeniusResult:
    """Stochastic estimate of the Frobenius norm ``||A||_F`` with a confidence interval.

    ``||A||_F^2 = tr(A^T A) = E ||A z||^2`` for any ``z`` with ``E z z^T = I``; Rademacher
    ``z`` give an unbiased estimate of the square from ``m`` products, a Student-t
    interval for it, and the interval of the norm as its square root (Avron & Toledo
    2011, J. ACM 58:8). The Frobenius norm of the Hessian enters the linear stability of
    SGD (Wu, Ma & E 2018; Wu & Su 2023, arXiv 2305.17490).

    Parameters
    ----------
    operator
        Object with ``shape == (n, n)`` and ``matvec(v)`` on numpy vectors.
    num_matvecs
        Products to spend, at least 2.
    seed
        Seed of the random vectors.
    confidence
        Level of the interval, in (0, 1).

    Returns
    -------
    FrobeniusResult

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit.learn import MatrixOperator
    >>> r = frobenius_estimate(MatrixOperator(np.diag([3.0, -4.0])), num_matvecs=10)
    >>> round(r.estimate, 10)
    5.0
    """
    fname = "frobenius_estimate"
    t0 = time.perf_counter()
    n = _check_operator(operator, fname)
    m = _int_arg(num_matvecs, "num_matvecs", fname, 2)
    confidence = _check_confidence(confidence, fname)
    rng = np.random.default_rng(seed)
    z = rng.choice([-1.0, 1.0], size=(m, n))
    samples = np.array([float(np.sum(_apply(operator, zi, n) ** 2)) for zi in z])
    squared = float(np.mean(samples))
    se_sq = float(np.std(samples, ddof=1) / np.sqrt(m))
    half = _t_half_width(se_sq, m, confidence)
    estimate = float(np.sqrt(max(squared, 0.0)))
    se = se_sq / (2 * estimate) if estimate > 0 else 0.0
    lo = float(np.sqrt(max(squared - half, 0.0)))
    hi = float(np.sqrt(max(squared + half, 0.0)))
    return FrobeniusResult(
        status="ok",
        message="",
        stats=Stats(wall_time=time.perf_counter() - t0, extra={"num_matvecs": m}),
        provenance=Provenance(
            analysis="frobenius_estimate",
            method="Rademacher ||A z||^2",
            params={"num_matvecs": float(m), "confidence": confidence},
            seed=seed,
        ),
        estimate=estimate,
        squared=squared,
        standard_error=se,
        interval=(lo, hi),
        confidence=confidence,
        num_matvecs=m,
    )
