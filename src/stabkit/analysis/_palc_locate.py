"""Location of zeros of test functions between consecutive points of a PALC curve.

Brent's method (Brent, *Algorithms for Minimization without Derivatives*, 1973, ch. 4)
on the secant parameter theta in [0, 1], every trial point corrected back onto the curve
in the hyperplane orthogonal to the secant; re-exported by :mod:`stabkit.analysis._palc`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from stabkit.analysis._palc import CorrectorFn, JacobianFn, ResidualFn, TestFn

__all__ = ["locate_zero"]


def locate_zero(
    residual: ResidualFn,
    jacobian: JacobianFn,
    x_a: np.ndarray,
    x_b: np.ndarray,
    tangent_a: np.ndarray,
    test_index: int,
    test_functions: TestFn,
    *,
    tol: float = 1e-10,
    max_iterations: int = 50,
    corrector: CorrectorFn | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The point between consecutive curve points where a test function vanishes.

    Trial points x(theta) = x_a + theta (x_b - x_a), corrected onto the curve in the
    hyperplane orthogonal to the secant x_b - x_a, and Brent's method on theta in
    [0, 1] for g(theta) = test_functions(x(theta), t(theta))[test_index].

    Parameters
    ----------
    residual, jacobian
        As for :func:`trace_curve`.
    x_a, x_b
        Consecutive points on the curve, shape ``(N + 1,)``, with g of opposite signs.
    tangent_a
        Unit tangent at ``x_a`` (orients the tangents of the trial points).
    test_index
        Which test function.
    test_functions
        ``(x, tangent) -> (k,)``.
    tol
        Stop when the bracket is shorter than ``tol`` in every unknown (the parameter
        included), or g is exactly 0.
    max_iterations
        Brent iterations at most.
    corrector
        ``(x_pred, normal, tol) -> (x, J(x))`` or ``(None, None)``: a faster (compiled)
        replacement of :func:`correct` with the same meaning.

    Returns
    -------
    tuple
        ``(x, tangent, converged)``; when not converged, the best point found.
    """
    from stabkit.analysis._palc import correct, tangent_at  # (_palc re-exports this module)

    x_a = np.asarray(x_a, dtype=np.float64)
    x_b = np.asarray(x_b, dtype=np.float64)
    secant = x_b - x_a
    width = float(np.max(np.abs(secant), initial=0.0))
    normal = secant / max(float(np.linalg.norm(secant)), 1e-300)
    cache: dict[float, tuple[np.ndarray, np.ndarray, float]] = {}

    def evaluate(theta: float) -> tuple[np.ndarray, np.ndarray, float] | None:
        if theta in cache:
            return cache[theta]
        x_pred = x_a + theta * secant
        for newton_tol in (1e-11, 1e-9):
            if corrector is not None:
                x, jac = corrector(x_pred, normal, newton_tol)
            else:
                x, _, jac = correct(
                    residual, jacobian, x_pred, normal, tol=newton_tol, max_iterations=12
                )
            if x is not None and jac is not None:
                break
        if x is None or jac is None:
            return None
        t = tangent_at(jac, np.asarray(tangent_a, dtype=np.float64))
        g = float(np.atleast_1d(test_functions(x, t))[test_index])
        cache[theta] = (x, t, g)
        return cache[theta]

    lo, hi = evaluate(0.0), evaluate(1.0)
    if lo is None or hi is None:
        ends = lo if lo is not None else (x_a, np.asarray(tangent_a, float), 0.0)
        return ends[0], ends[1], False
    if lo[2] == 0.0:
        return lo[0], lo[1], True
    if hi[2] == 0.0:
        return hi[0], hi[1], True
    if np.sign(lo[2]) == np.sign(hi[2]) or not (np.isfinite(lo[2]) and np.isfinite(hi[2])):
        return lo[0], lo[1], False
    # Brent's method (Brent 1973, ch. 4) on theta in [0, 1]
    a, b = 0.0, 1.0
    fa, fb = lo[2], hi[2]
    c, fc = a, fa
    d = e = b - a
    best = hi
    xtol = tol / max(width, 1e-300)
    for _ in range(max_iterations):
        if np.sign(fb) == np.sign(fc):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        m = 0.5 * (c - b)
        tol1 = 2.0 * 1e-16 * abs(b) + 0.5 * xtol
        point = cache.get(b)
        if point is not None:
            best = point
        if abs(m) <= tol1 or fb == 0.0:
            return best[0], best[1], True
        if abs(e) >= tol1 and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p, q = 2.0 * m * s, 1.0 - s
            else:
                q_, r = fa / fc, fb / fc
                p = s * (2.0 * m * q_ * (q_ - r) - (b - a) * (r - 1.0))
                q = (q_ - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            p = abs(p)
            if 2.0 * p < min(3.0 * m * q - abs(tol1 * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b = b + (d if abs(d) > tol1 else math.copysign(tol1, m))
        value = evaluate(b)
        if value is None:
            return best[0], best[1], False
        fb = value[2]
    return best[0], best[1], False
