"""Detection and location of codim-2 points on fold and Hopf curves, and their coefficients.

Test functions are those of :mod:`stabkit.analysis._curve_systems`; a sign change
between consecutive curve points is located by :func:`stabkit.analysis._palc.locate_zero`
(Brent's method on the curve), except double Hopf points, where two Hopf curves cross and
the bordered system is singular: those are solved for directly.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from stabkit.analysis._curve_systems import CurveSystem, cos_theta, critical_split
from stabkit.analysis._palc import locate_zero
from stabkit.errors import InputError
from stabkit.model.model import Model

__all__ = ["Found", "coefficients", "detect"]


@dataclasses.dataclass
class Found:
    """A located codim-2 point, before its coefficients are computed."""

    after: int  # index of the curve point the located point follows (within its direction)
    kind: str
    z: np.ndarray
    located: bool


def detect(
    system: CurveSystem,
    points: list[np.ndarray],
    tangents: list[np.ndarray],
    tests: np.ndarray,
    offset: int,
) -> list[Found]:
    out: list[Found] = []
    for i in range(len(points) - 1):
        for k, name in enumerate(system.tests):
            ga, gb = tests[i, k], tests[i + 1, k]
            if not (np.isfinite(ga) and np.isfinite(gb)) or ga * gb > 0 or ga == gb:
                continue
            if max(abs(ga), abs(gb)) < 1e-9:
                continue  # zero to rounding on both sides (e.g. d = 0 for a conservative map)
            if name == "HH":
                # a double Hopf point is where two Hopf curves cross: the bordered system is
                # singular there, so solve f = 0, Re lambda_1 = Re lambda_2 = 0 directly
                theta = ga / (ga - gb)
                z, ok = _refine_double_hopf(system, points[i] + theta * (points[i + 1] - points[i]))
                if not ok:
                    z, _, ok = locate_zero(
                        system.residual, system.jacobian, points[i], points[i + 1],
                        tangents[i], k, system.test_functions, tol=1e-11,
                    )  # fmt: skip
            else:
                z, _, ok = locate_zero(
                    system.residual, system.jacobian, points[i], points[i + 1], tangents[i], k,
                    system.test_functions, tol=1e-11,
                )  # fmt: skip
            if name in ("GH", "GPD", "CH"):
                # a coefficient through a pole (e.g. l1 ~ 1/lambda_0 at a zero-Hopf point)
                # changes sign without vanishing: keep only true zeros
                value = system.test_functions(z, tangents[i])[k]
                if not abs(value) <= 1e-6 * max(1.0, abs(ga), abs(gb)):
                    continue
            if _genuine(system, name, z):
                out.append(Found(after=offset + i, kind=name, z=z, located=ok))
    return out


def _refine_double_hopf(system: CurveSystem, z: np.ndarray) -> tuple[np.ndarray, bool]:
    """Newton on (f, Re lambda_1, Re lambda_2) = 0, the two pairs ordered by frequency.

    The derivatives of the eigenvalues are exact: ``d lambda = w^H (dA) v / (w^H v)``
    with left and right eigenvectors, ``dA`` from the symbolic second derivatives.
    """
    from scipy.linalg import eig

    n = system.n
    z = np.array(z, dtype=np.float64)
    free = list(system.free)
    for _ in range(30):
        x, p = system.split(z)
        a = system.deriv.jacobian(x, p)
        values, left, right = eig(a, left=True, right=True)
        upper = np.flatnonzero(values.imag > 0)
        if upper.size < 2:
            return z, False
        chosen = upper[np.argsort(np.abs(values[upper].real))[:2]]
        chosen = chosen[np.argsort(-values[chosen].imag)]
        fxx, fp, fxp = system.deriv.second_derivatives(x, p)
        res = np.concatenate([system.deriv.rhs(x, p), values[chosen].real])
        jac = np.zeros((n + 2, n + 2))
        jac[:n, :n] = a
        jac[:n, n:] = fp[:, free]
        for row, k in enumerate(chosen):
            w, v = left[:, k].conj(), right[:, k]
            denom = w @ v
            jac[n + row, :n] = np.real(np.einsum("i,ijk,j->k", w, fxx, v) / denom)
            jac[n + row, n:] = np.real(np.einsum("i,ijk,j->k", w, fxp[:, :, free], v) / denom)
        if not np.all(np.isfinite(res)) or not np.all(np.isfinite(jac)):
            return z, False
        try:
            step = np.linalg.solve(jac, -res)
        except np.linalg.LinAlgError:
            return z, False
        z = z + step
        if np.max(np.abs(step)) < 1e-13 * (1 + np.max(np.abs(z))):
            return z, True
    return z, bool(np.max(np.abs(step)) < 1e-10 * (1 + np.max(np.abs(z))))


def _genuine(system: CurveSystem, name: str, z: np.ndarray) -> bool:
    """Reject neutral saddles (a real pair +-lambda, or mu and 1/mu) posing as codim-2 points."""
    values = system.eigenvalues(z)
    crit, rest = critical_split(values, system.kind, system.is_map)
    scale = max(1.0, float(np.max(np.abs(values))))
    if system.is_map:
        real_pair = system.kind == "NS" and abs(cos_theta(crit)) >= 1.0
        if real_pair and name in ("CH", "R3", "R4", "LPNS", "PDNS"):
            return False  # the "pair" is real: a neutral saddle
        if name == "GPD" and rest.size and float(np.min(np.abs(rest + 1.0))) < 1e-6 * scale:
            return False  # at a 1:2 resonance the flip coefficient is not defined
        if name in ("LPNS", "PDNS") and system.kind != "NS":
            pair, _ = critical_split(rest, "NS", True)
            return bool(abs(cos_theta(pair)) < 1.0 and abs(pair[0].imag) > 1e-10 * scale)
        return True
    if system.kind == "H" and name in ("GH", "ZH", "HH") and float(np.real(crit[0] * crit[1])) <= 0:
        return False  # on the neutral-saddle part of the curve
    if (system.kind, name) in (("LP", "ZH"), ("H", "HH")):
        pair, _ = critical_split(rest, "H")
        # a complex pair +-i omega (not a double real eigenvalue, whose product is positive too)
        return bool(np.real(pair[0] * pair[1]) > 1e-10 * scale and abs(pair[0].imag) > 1e-8 * scale)
    return True


def coefficients(
    model: Model, kind: str, curve: str, z: np.ndarray, system: CurveSystem
) -> tuple[dict[str, float], str, np.ndarray]:
    from stabkit.analysis import normal_forms as nf

    x, p = system.split(z)
    values = system.eigenvalues(z)
    crit, rest = critical_split(values, curve, system.is_map)
    out: dict[str, float] = {}
    message = ""
    if system.is_map and kind != "CP":
        if curve == "NS":
            out["theta"] = float(np.arccos(np.clip(cos_theta(crit), -1.0, 1.0)))
        return out, "normal-form coefficients of codim-2 points of maps are not computed", values
    try:
        if kind == "CP":
            out["c"] = nf.cusp_coefficient(model, x, p)
        elif kind == "BT":
            out["a"], out["b"] = nf.bogdanov_takens_coefficients(model, x, p)
        elif kind == "GH":
            out["omega"] = float(np.sqrt(np.real(crit[0] * crit[1])))
            if model.is_symbolic:
                out["l2"] = nf.second_lyapunov_coefficient(model, x, p)
            else:
                message = "l2 needs exact 5th derivatives (a symbolic model)"
        elif kind == "ZH":
            pair = crit if curve == "H" else critical_split(rest, "H")[0]
            out["omega"] = float(np.sqrt(abs(np.real(pair[0] * pair[1]))))
            out.update(nf.zero_hopf_coefficients(model, x, p))
        elif kind == "HH":
            pair2, _ = critical_split(rest, "H")
            w1 = float(np.sqrt(abs(np.real(crit[0] * crit[1]))))
            w2 = float(np.sqrt(abs(np.real(pair2[0] * pair2[1]))))
            out["omega1"], out["omega2"] = max(w1, w2), min(w1, w2)
            out.update(nf.double_hopf_coefficients(model, x, p))
    except InputError as err:
        message = f"coefficients not computed: {err}"
    return out, message, values
