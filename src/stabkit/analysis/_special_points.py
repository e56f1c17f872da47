"""Test functions, detection, location and normal forms of special points on a branch.

Test functions along z = (x, p) with tangent t, DR = [R_x, R_p], A the linearisation
(Df for flows, D f^k for maps); each changes sign at its bifurcation (Kuznetsov, *Elements
of Applied Bifurcation Theory*, 3rd ed., Section 10.2; Govaerts, *Numerical Methods for
Bifurcations of Dynamical Equilibria*, SIAM 2000):

``LP``  t_p, the parameter component of the tangent (a fold in the parameter);
``BP``  det [DR; t^T], the bordered Jacobian (a branch point; regular at folds);
``H``   prod_{i<j} (lambda_i + lambda_j) = det(2A (.) I), the bialternate product
        (flows; zero also at neutral saddles, lambda and -lambda real, told apart);
``PD``  det(A + I) (maps: a multiplier -1);
``NS``  prod_{i<j} (mu_i mu_j - 1) (maps: a complex pair on the unit circle; real
        pairs mu, 1/mu are neutral saddles).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import math
from collections.abc import Callable

import numpy as np

from stabkit.analysis._branch_system import BranchSystem, iterated_model
from stabkit.analysis._palc import PALC, correct, locate_zero, tangent_at
from stabkit.errors import StabkitError

__all__ = ["KINDS", "Located", "branch_switch", "locate_special", "test_names", "test_values"]

log = logging.getLogger(__name__)

KINDS = {"ode": ("LP", "H", "BP"), "map": ("LP", "PD", "NS", "BP")}
_COEFFICIENT = {
    "LP": ("fold_coefficient", "a"),
    "H": ("first_lyapunov_coefficient", "l1"),
    "PD": ("flip_coefficient", "c"),
    "NS": ("neimark_sacker_coefficient", "d"),
}


def test_names(is_map: bool) -> tuple[str, ...]:
    """Names of the test functions, in the order of :func:`test_values`'s columns."""
    return ("LP", "PD", "NS", "BP") if is_map else ("LP", "H", "BP")


def _pair_terms(values: np.ndarray, is_map: bool) -> np.ndarray:
    """lambda_i + lambda_j (flows) or mu_i mu_j - 1 (maps) for i < j, shape (m, pairs)."""
    n = values.shape[-1]
    i, j = np.triu_indices(n, 1)
    if is_map:
        return values[..., i] * values[..., j] - 1.0
    return values[..., i] + values[..., j]


def test_values(
    drs: np.ndarray, tangents: np.ndarray, eigenvalues: np.ndarray, is_map: bool
) -> np.ndarray:
    """Test functions at m points: shape (m, 3) for flows, (m, 4) for maps.

    ``drs`` has shape (m, n, n + 1), ``tangents`` (m, n + 1), ``eigenvalues`` (m, n).
    """
    n = eigenvalues.shape[1]
    lp = tangents[:, -1]
    bordered = np.concatenate([drs, tangents[:, None, :]], axis=1)
    with np.errstate(all="ignore"):
        bp = np.linalg.det(bordered)
        pairs = np.real(np.prod(_pair_terms(eigenvalues, is_map), axis=-1))
        if not is_map:
            return np.stack([lp, pairs, bp], axis=1)
        a = drs[:, :, :n] + np.eye(n)
        pd = np.linalg.det(a + np.eye(n))
        return np.stack([lp, pd, pairs, bp], axis=1)


def point_tests(system: BranchSystem) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``(z, t) -> test values`` at one point, for :func:`locate_zero`."""

    def tests(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        dr = system.jacobian(z)
        a = dr[:, : system.n] + (np.eye(system.n) if system.is_map else 0.0)
        values = np.linalg.eigvals(a)
        return test_values(dr[None], t[None], values[None], system.is_map)[0]

    return tests


@dataclasses.dataclass(frozen=True)
class Located:
    """A special point found between points ``segment`` and ``segment + 1``."""

    kind: str
    z: np.ndarray
    tangent: np.ndarray
    segment: int
    converged: bool
    eigenvalues: np.ndarray
    coefficients: dict[str, float]
    first_lyapunov_coefficient: float | None
    criticality: str | None
    message: str


def _critical_pair(values: np.ndarray, is_map: bool) -> tuple[complex, complex]:
    i, j = np.triu_indices(values.size, 1)
    terms = _pair_terms(values, is_map)
    k = int(np.argmin(np.abs(terms)))
    return complex(values[i[k]]), complex(values[j[k]])


def _normal_form(system: BranchSystem, kind: str, z: np.ndarray) -> tuple[dict[str, float], str]:
    """Normal-form coefficient(s) by :mod:`stabkit.analysis.normal_forms` (lazy)."""
    name, key = _COEFFICIENT[kind]
    try:
        module = importlib.import_module("stabkit.analysis.normal_forms")
        fn = getattr(module, name)
    except (ImportError, AttributeError):
        return {}, "normal-form coefficients unavailable (stabkit.analysis.normal_forms missing)"
    model = system.model
    if system.period > 1:
        if not model.is_symbolic:
            return {}, f"no {key}: the normal form of f^{system.period} needs a symbolic model"
        model = iterated_model(model, system.period)
    try:
        value = float(fn(model, z[:-1], system.params_at(z)))
    except (StabkitError, np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
        return {}, f"no {key}: {exc}"
    return {key: value}, ""


def _criticality(kind: str, coefficients: dict[str, float]) -> str | None:
    if kind not in ("H", "PD", "NS") or not coefficients:
        return None
    value = next(iter(coefficients.values()))
    if not math.isfinite(value):
        return None
    if abs(value) <= 1e-10:
        return "degenerate"
    supercritical = value > 0 if kind == "PD" else value < 0
    return "supercritical" if supercritical else "subcritical"


def locate_special(
    system: BranchSystem,
    kind: str,
    column: int,
    segment: int,
    points: np.ndarray,
    tangents: np.ndarray,
    tol: float,
) -> Located:
    """Locate the zero of test ``column`` on one segment and describe the point.

    The branch-point test is evaluated with the tangent of the segment's start,
    det [DR(z); t_a^T], which is smooth through the branch point (the tangent itself
    turns abruptly there) and has the sign of det [DR(z); t(z)^T] while t_a . t(z) > 0.
    """
    tests = point_tests(system)
    reference = tangents[segment]

    def located_tests(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return tests(z, reference if kind == "BP" else t)

    z, t, converged = locate_zero(
        system.residual,
        system.jacobian,
        points[segment],
        points[segment + 1],
        tangents[segment],
        column,
        located_tests,
        tol=tol,
        corrector=system.corrector(),
    )
    if kind == "BP":
        t = tangents[segment].copy()  # the known branch's direction (two exist here)
    a = system.state_jacobian(z)
    values = np.linalg.eigvals(a)
    order = np.argsort(-np.abs(values) if system.is_map else -values.real, kind="stable")
    values = values[order]
    messages = [] if converged else [f"located only to about {tol:g}: the secant search stalled"]
    out_kind = kind
    coefficients: dict[str, float] = {}
    if kind in ("H", "NS") and values.size >= 2:
        mu1, mu2 = _critical_pair(values, system.is_map)
        scale = max(1.0, abs(mu1))
        if abs(mu1.imag) <= 1e-7 * scale or abs(mu2.imag) <= 1e-7 * scale:
            out_kind = "NSA"
            messages.append(
                f"neutral saddle: real eigenvalues {mu1.real:.6g} and {mu2.real:.6g} "
                f"{'with product 1' if system.is_map else 'sum to zero'}; not a bifurcation"
            )
        elif kind == "H":
            coefficients["omega"] = abs(mu1.imag)
        else:
            coefficients["theta"] = abs(math.atan2(mu1.imag, mu1.real))
    if out_kind != "NSA" and kind in _COEFFICIENT:
        found, note = _normal_form(system, kind, z)
        coefficients.update(found)
        if note:
            messages.append(note)
    l1 = coefficients.get("l1") if out_kind == "H" else None
    criticality = _criticality(out_kind, {k: v for k, v in coefficients.items() if k in "l1cd"})
    return Located(
        kind=out_kind,
        z=z,
        tangent=t,
        segment=segment,
        converged=converged,
        eigenvalues=values,
        coefficients=coefficients,
        first_lyapunov_coefficient=l1,
        criticality=criticality,
        message="; ".join(messages),
    )


def branch_switch(
    system: BranchSystem,
    z: np.ndarray,
    tangent: np.ndarray,
    method: PALC,
    parameter_sign: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """A first point and tangent on the other branch through the branch point z.

    The null space of DR(z) is two-dimensional at a simple branch point; the new
    direction t2 is its unit vector orthogonal to the known tangent. The predictor
    z + h t2 is corrected in the hyperplane t2 . (x - z - h t2) = 0, which the known
    branch crosses only far away, and the point is accepted when its distance from the
    known branch's line is at least h / 2 (orthogonal-complement predictor; Allgower and
    Georg 2003, Section 8.3). t2 is oriented by ``parameter_sign`` on its parameter
    component, or, where that is small (a pitchfork, whose halves both go one way in
    p), by ``method.direction`` on its largest state component.
    """
    jac = system.jacobian(z)
    vt = np.linalg.svd(jac)[2]
    null = vt[-2:]
    t1 = tangent / np.linalg.norm(tangent)
    candidates = [v - (v @ t1) * t1 for v in null]
    t2 = max(candidates, key=lambda v: float(np.linalg.norm(v)))
    t2 = t2 / np.linalg.norm(t2)
    if abs(t2[-1]) >= 0.1:
        sign = parameter_sign
        big = -1
    else:  # (nearly) a pitchfork: both halves go the same way in p; pick by the state
        sign = method.direction
        big = int(np.argmax(np.abs(t2[:-1])))
    if t2[big] * sign < 0:
        t2 = -t2
    h = max(method.ds, 10 * method.ds_min)
    while h >= method.ds_min:
        x, _, dr = correct(
            system.residual, system.jacobian, z + h * t2, t2,
            tol=method.newton_tol, max_iterations=max(method.max_newton_iterations, 12),
        )  # fmt: skip
        if x is not None and dr is not None:
            d = x - z
            off_line = float(np.linalg.norm(d - (d @ t1) * t1))
            if off_line >= 0.5 * h:
                return x, tangent_at(dr, t2)
        h *= 0.5
    log.debug("branch switching at %s failed down to h = %g", z, h)
    return None
