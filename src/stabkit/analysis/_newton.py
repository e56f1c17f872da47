"""Damped Newton iterations with deflation, for F(x) = 0 in a box.

Deflation (Farrell, Birkisson and Funke 2015) removes known roots r_i from the problem:
Newton is run on G(x) = M(x) F(x) with M(x) = prod_i (||x - r_i||^-p + shift), which
tends to infinity at every r_i, so the iteration is repelled from roots already found.
The Newton step of G is a multiple of the step of F (their eq. 3.5):

    d_G = tau d_F,   d_F = -DF(x)^-1 F(x),   tau = 1 / (1 - grad(log M) . d_F),

so deflation costs one dot product per step. Distances are measured relative to the
sides of the search box, which makes the method independent of the variables' units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from stabkit.analysis._system import CompiledSystem

__all__ = ["NewtonSettings", "deflated_newton", "multistart", "polish"]


@dataclasses.dataclass(frozen=True)
class NewtonSettings:
    """Settings of the Newton iterations (see :class:`MultiStartNewton`)."""

    max_iterations: int = 50
    deflation_power: float = 2.0
    deflation_shift: float = 1.0
    max_deflations: int = 8


def residual_tolerance(x: np.ndarray) -> float:
    """Largest ||F(x)||_inf accepted for a root at ``x``."""
    return 1e-9 * (1.0 + float(np.max(np.abs(x), initial=0.0)))


def _newton_step(jac: np.ndarray, res: np.ndarray) -> np.ndarray | None:
    try:
        step = np.linalg.solve(jac, -res)
    except np.linalg.LinAlgError:
        step = np.linalg.lstsq(jac, -res, rcond=None)[0]
    return step if np.all(np.isfinite(step)) else None


def polish(system: CompiledSystem, x: np.ndarray, *, iterations: int = 8) -> np.ndarray:
    """A few undamped Newton steps from ``x``; returns the iterate of least residual."""
    best = np.asarray(x, dtype=np.float64).copy()
    try:
        res, jac = system.residual_and_jacobian(best)
    except (FloatingPointError, ZeroDivisionError):
        return best
    best_norm = float(np.max(np.abs(res))) if np.all(np.isfinite(res)) else np.inf
    current = best
    for _ in range(iterations):
        if not np.all(np.isfinite(jac)) or not np.all(np.isfinite(res)):
            break
        step = _newton_step(jac, res)
        if step is None:
            break
        current = current + step
        res, jac = system.residual_and_jacobian(current)
        norm = float(np.max(np.abs(res))) if np.all(np.isfinite(res)) else np.inf
        if norm < best_norm:
            best, best_norm = current.copy(), norm
        if norm == 0.0 or np.max(np.abs(step)) <= 4e-16 * (1.0 + np.max(np.abs(current))):
            break
    return best


def _log_deflation(
    x: np.ndarray, roots: Sequence[np.ndarray], scale: np.ndarray, settings: NewtonSettings
) -> tuple[float, np.ndarray]:
    """log M(x) and its gradient."""
    log_m = 0.0
    grad = np.zeros_like(x)
    p, shift = settings.deflation_power, settings.deflation_shift
    for r in roots:
        d = (x - r) / scale
        dist2 = float(d @ d)
        if dist2 == 0.0:
            return np.inf, grad
        inv = dist2 ** (-p / 2)
        log_m += np.log(inv + shift)
        grad += (-p * dist2 ** (-p / 2 - 1) / (inv + shift)) * d / scale
    return log_m, grad


def deflated_newton(
    system: CompiledSystem,
    x0: np.ndarray,
    roots: Sequence[np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    settings: NewtonSettings,
) -> np.ndarray | None:
    """Damped, deflated Newton from ``x0``; the root found (not yet polished) or ``None``."""
    scale = np.where(hi > lo, hi - lo, 1.0)
    far_lo, far_hi = lo - scale, hi + scale
    x = np.asarray(x0, dtype=np.float64).copy()
    res, jac = system.residual_and_jacobian(x)
    if not (np.all(np.isfinite(res)) and np.all(np.isfinite(jac))):
        return None
    log_m, grad = _log_deflation(x, roots, scale, settings)
    merit = np.log(np.linalg.norm(res) + 1e-300) + log_m
    stalls = 0  # steps that did not decrease the merit function
    for _ in range(settings.max_iterations):
        if np.max(np.abs(res)) <= residual_tolerance(x):
            return x
        step = _newton_step(jac, res)
        if step is None or np.max(np.abs(step / scale)) < 1e-15:
            return None  # singular Jacobian or no progress
        denom = 1.0 - float(grad @ step)
        tau = 1.0 / denom if abs(denom) > 1e-12 else 1.0
        step = tau * step
        # keep a step within one box width per coordinate
        limit = np.max(np.abs(step) / scale)
        if limit > 1.0:
            step = step / limit
        lam = 1.0
        if stalls >= 3:
            return None
        for _ in range(12):
            trial = x + lam * step
            t_res, t_jac = system.residual_and_jacobian(trial)
            if np.all(np.isfinite(t_res)) and np.all(np.isfinite(t_jac)):
                t_log_m, t_grad = _log_deflation(trial, roots, scale, settings)
                t_merit = np.log(np.linalg.norm(t_res) + 1e-300) + t_log_m
                if t_merit <= merit + np.log1p(-1e-4 * lam) or lam < 2e-3:
                    break
            lam *= 0.5
        else:
            return None
        stalls = stalls + 1 if t_merit > merit else 0
        x, res, jac, merit, grad = trial, t_res, t_jac, t_merit, t_grad
        if np.any(x < far_lo) or np.any(x > far_hi):
            return None
    return x if np.max(np.abs(res)) <= residual_tolerance(x) else None


def multistart(
    system: CompiledSystem,
    starts: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    settings: NewtonSettings,
    known: Sequence[np.ndarray] = (),
) -> list[np.ndarray]:
    """Roots found from every start, deflating each root found (``known`` too).

    From each start the deflated iteration is repeated until it fails, up to
    ``settings.max_deflations`` new roots per start. Returns the polished new roots.
    """
    roots = [np.asarray(r, dtype=np.float64) for r in known]
    found: list[np.ndarray] = []
    for x0 in starts:
        for _ in range(settings.max_deflations):
            root = deflated_newton(system, x0, roots, lo, hi, settings)
            if root is None:
                break
            root = polish(system, root)
            res = system.residual(root)
            if not np.all(np.isfinite(res)) or np.max(np.abs(res)) > residual_tolerance(root):
                break
            tol = 1e-7 * (1.0 + np.max(np.abs(root)))
            if any(np.max(np.abs(root - r)) <= tol for r in roots):
                break
            roots.append(root)
            found.append(root)
    return found
