"""Normal-form coefficients of zero-Hopf and double-Hopf points (re-exported by normal_forms).

Computed by :func:`stabkit.analysis._nf_core.normal_form_series` (homological equations
on the centre manifold) in the conventions of :mod:`stabkit.analysis.normal_forms`.
"""

from __future__ import annotations

import numpy as np

from stabkit.analysis._nf_core import Params, State, normal_form_series, null_vectors, setup_point
from stabkit.errors import InputError
from stabkit.model.model import Model, ModelKind

__all__ = ["double_hopf_coefficients", "zero_hopf_coefficients"]


def _pairs(values: np.ndarray, count: int, where: str) -> list[complex]:
    """The ``count`` eigenvalues with Im > 0 closest to the imaginary axis."""
    scale = max(1.0, float(np.max(np.abs(values))))
    upper = values[values.imag > 1e-9 * scale]
    if upper.size < count:
        raise InputError(
            f"{where}: expected {count} pair(s) of complex eigenvalues, found "
            f"{np.round(values, 6).tolist()}"
        )
    return [complex(v) for v in upper[np.argsort(np.abs(upper.real))[:count]]]


def zero_hopf_coefficients(model: Model, state: State, params: Params = None) -> dict[str, float]:
    """Quadratic coefficients of the zero-Hopf (fold-Hopf, Gavrilov-Guckenheimer) normal form.

    Eigenvalues ``0`` and ``+- i omega``; centre coordinates ``xi`` (real, along ``q0``,
    ``A q0 = 0``) and ``w`` (along ``q1``, ``A q1 = i omega q1``), both with
    ``<q, q> = 1``, adjoints ``<p, q> = 1``. The normal form to second order is

        xi' = b xi^2 + c |w|^2,   w' = i omega w + d xi w,

    with ``b = 1/2 <p0, B(q0, q0)>``, ``c = <p0, B(q1, conj q1)>``, ``d = <p1, B(q0, q1)>``
    (from :func:`~stabkit.analysis._nf_core.normal_form_series`). Returned with
    Kuznetsov's invariants ``s = sign(b c)`` and ``theta = Re(d) / b``, which select the
    unfolding's phase portraits (Kuznetsov 2004, Section 8.5): keys ``omega, b, c,
    d_real, d_imag, s, theta``.

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"u": "2*u^2 + 3*(x^2 + y^2)", "x": "-y + 0.5*u*x",
    ...                           "y": "x + 0.5*u*y"})
    >>> c = zero_hopf_coefficients(m, [0.0, 0.0, 0.0])
    >>> round(c["b"], 12), round(c["c"], 12), round(c["d_real"], 12), c["s"]
    (2.0, 6.0, 0.5, 1.0)
    """
    deriv, x, p, jac = setup_point(model, state, params, "zero_hopf_coefficients", ModelKind.ODE)
    n = jac.shape[0]
    if n < 3:
        raise InputError("zero_hopf_coefficients: a zero-Hopf point needs at least 3 variables")
    (lam,) = _pairs(np.linalg.eigvals(jac), 1, "zero_hopf_coefficients")
    q0, p0, _ = null_vectors(jac)
    q1, p1, _ = null_vectors(jac - lam * np.eye(n))
    mus = np.array([0.0, lam.imag * 1j, -lam.imag * 1j])
    qs = np.array([q0, q1, np.conj(q1)], dtype=np.complex128)
    ps = np.array([p0, p1, np.conj(p1)], dtype=np.complex128)
    g = normal_form_series(deriv, x, p, jac, mus, qs, ps, 2)
    b = float(g[(0, (2, 0, 0))].real)
    c = float(g[(0, (0, 1, 1))].real)
    d = g[(1, (1, 1, 0))]
    return {
        "omega": float(lam.imag),
        "b": b,
        "c": c,
        "d_real": float(d.real),
        "d_imag": float(d.imag),
        "s": float(np.sign(b * c)),
        "theta": float(d.real / b) if b != 0 else float("nan"),
    }


def double_hopf_coefficients(model: Model, state: State, params: Params = None) -> dict[str, float]:
    """Cubic coefficients of the double-Hopf (Hopf-Hopf) normal form.

    Two pairs ``+- i omega1``, ``+- i omega2`` (``omega1 > omega2``, no strong resonance),
    centre coordinates ``w1, w2`` along ``q1, q2`` with ``<q, q> = 1``, ``<p, q> = 1``:

        w1' = i omega1 w1 + g2100 w1 |w1|^2 + g1011 w1 |w2|^2 + ...,
        w2' = i omega2 w2 + g1110 w2 |w1|^2 + g0021 w2 |w2|^2 + ...

    (:func:`~stabkit.analysis._nf_core.normal_form_series` to third order). The amplitude
    equations ``r_k = |w_k|^2`` then have the real coefficients ``p11 = Re g2100,
    p12 = Re g1011, p21 = Re g1110, p22 = Re g0021``, and Kuznetsov's invariants
    ``theta = p12 / p22``, ``delta = p21 / p11`` classify the unfolding (Kuznetsov
    2004, Section 8.6). Keys ``omega1, omega2, p11, p12, p21, p22, theta, delta``.
    """
    deriv, x, p, jac = setup_point(model, state, params, "double_hopf_coefficients", ModelKind.ODE)
    n = jac.shape[0]
    lam1, lam2 = sorted(
        _pairs(np.linalg.eigvals(jac), 2, "double_hopf_coefficients"), key=lambda v: -v.imag
    )
    (q1, p1, _), (q2, p2, _) = (null_vectors(jac - lam * np.eye(n)) for lam in (lam1, lam2))
    w1, w2 = lam1.imag, lam2.imag
    mus = np.array([1j * w1, -1j * w1, 1j * w2, -1j * w2])
    qs = np.array([q1, np.conj(q1), q2, np.conj(q2)])
    ps = np.array([p1, np.conj(p1), p2, np.conj(p2)])
    g = normal_form_series(deriv, x, p, jac, mus, qs, ps, 3)
    p11 = float(g[(0, (2, 1, 0, 0))].real)
    p12 = float(g[(0, (1, 0, 1, 1))].real)
    p21 = float(g[(2, (1, 1, 1, 0))].real)
    p22 = float(g[(2, (0, 0, 2, 1))].real)
    return {
        "omega1": float(w1),
        "omega2": float(w2),
        "p11": p11,
        "p12": p12,
        "p21": p21,
        "p22": p22,
        "theta": p12 / p22 if p22 != 0 else float("nan"),
        "delta": p21 / p11 if p11 != 0 else float("nan"),
    }
