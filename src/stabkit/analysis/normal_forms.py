"""Normal-form coefficients of local bifurcations of equilibria and fixed points.

Every function takes a model, a point and parameter values where the bifurcation
condition holds (the critical eigenvalues are found from the Jacobian; a point slightly
off the bifurcation gives the coefficient of the nearby one, with a logged warning when it
is far off) and returns the coefficient that decides the bifurcation's direction.

Conventions (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., Springer 2004,
Sections 3.5, 4.4-4.7, 5.4, 8.2-8.4; the same as MatCont): ``A`` is the Jacobian, ``B``,
``C``, ``D``, ``E`` the symmetric multilinear forms of the 2nd to 5th derivatives of the
right-hand side, ``<u, v> = conj(u) . v``; right eigenvectors ``q`` are normalised to
``<q, q> = 1`` and adjoint ones ``p`` to ``<p, q> = 1``; a real ``q`` is oriented so that
its entry of largest modulus is positive (the sign of the fold coefficient depends on it).

Derivatives are exact (symbolic) for models built from equations. For models written as
Python functions, second and third derivatives come from central finite differences
(about 1e-7 and 1e-5 relative accuracy); coefficients needing higher derivatives
(Bautin's ``l2``) raise :class:`~stabkit.errors.InputError` for them.
"""

from __future__ import annotations

import numpy as np

from stabkit.analysis._multilinear import Derivatives
from stabkit.analysis._nf_codim2 import double_hopf_coefficients, zero_hopf_coefficients
from stabkit.analysis._nf_core import (
    Params,
    State,
    bordered_solve,
    critical_pair,
    hopf_series,
    null_vectors,
    orient,
    real_part,
    setup_point,
    shifted,
)
from stabkit.analysis._system import check_model
from stabkit.errors import InputError
from stabkit.model.model import Model, ModelKind

__all__ = [
    "bautin_coefficient",
    "bogdanov_takens_coefficients",
    "cusp_coefficient",
    "double_hopf_coefficients",
    "first_lyapunov_coefficient",
    "flip_coefficient",
    "fold_coefficient",
    "hopf_coefficients",
    "neimark_sacker_coefficient",
    "second_lyapunov_coefficient",
    "zero_hopf_coefficients",
]


# ---------------------------------------------------------------------------- fold, cusp
def fold_coefficient(model: Model, state: State, params: Params = None) -> float:
    """Quadratic coefficient ``a`` of the fold (saddle-node, limit point) normal form.

    The flow restricted to the centre manifold is ``w' = beta + a w^2 + O(w^3)``; for a
    map (multiplier 1) ``w -> w + beta + a w^2``. With ``A q = 0``, ``A^T p = 0``
    (``A - I`` for maps), ``<q, q> = 1``, ``<p, q> = 1``:

        a = 1/2 <p, B(q, q)>.

    ``a != 0`` is the non-degeneracy condition; its sign depends on the orientation of
    ``q`` (entry of largest modulus positive).

    Parameters
    ----------
    model
        A flow or a map.
    state
        The fold point, ``{variable: value}`` or ``n`` numbers.
    params
        Parameter values at the fold (overriding the model's defaults).

    Returns
    -------
    float

    Raises
    ------
    InputError
        Bad names or lengths, a delay model, a non-finite Jacobian, or a double zero
        eigenvalue (left and right null vectors orthogonal: Bogdanov-Takens).

    References
    ----------
    Kuznetsov (2004), Section 5.4, eq. (5.30).

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"x": "mu + 3*x^2"}, parameters={"mu": 0.0})
    >>> fold_coefficient(m, [0.0], {"mu": 0.0})
    3.0
    """
    deriv, x, p, jac = setup_point(model, state, params, "fold_coefficient", None)
    q, pv, _ = null_vectors(shifted(jac, model.kind is ModelKind.MAP))
    return real_part(0.5 * np.vdot(pv, deriv.form(x, p, q, q)))


def cusp_coefficient(model: Model, state: State, params: Params = None) -> float:
    """Cubic coefficient ``c`` of the cusp normal form ``w' = b1 + b2 w + c w^3``.

    At a cusp the fold coefficient vanishes; then, with ``q, p`` as in
    :func:`fold_coefficient` and ``h2`` solving ``A h2 = <p, B(q,q)> q - B(q, q)``,
    ``<p, h2> = 0``,

        c = 1/6 <p, C(q, q, q) + 3 B(q, h2)>

    (``A - I`` in place of ``A`` for maps). ``c`` does not depend on the orientation of
    ``q``; ``c < 0``: the fold curves bound a wedge with three equilibria, one unstable.

    References
    ----------
    Kuznetsov (2004), Section 8.2, eq. (8.20).

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"x": "b1 + b2*x - x^3"}, parameters={"b1": 0.0, "b2": 0.0})
    >>> cusp_coefficient(m, [0.0])
    -1.0
    """
    deriv, x, p, jac = setup_point(model, state, params, "cusp_coefficient", None)
    mat = shifted(jac, model.kind is ModelKind.MAP)
    q, pv, _ = null_vectors(mat)
    bqq = deriv.form(x, p, q, q)
    h2 = bordered_solve(mat, np.vdot(pv, bqq) * q - bqq, q, pv)
    return real_part(np.vdot(pv, deriv.form(x, p, q, q, q) + 3.0 * deriv.form(x, p, q, h2)) / 6.0)


def bogdanov_takens_coefficients(
    model: Model, state: State, params: Params = None
) -> tuple[float, float]:
    """Coefficients ``(a, b)`` of the Bogdanov-Takens normal form (flows).

    ``w0' = w1, w1' = beta1 + beta2 w0 + a w0^2 + b w0 w1`` with generalised
    eigenvectors ``A q0 = 0, A q1 = q0, A^T p1 = 0, A^T p0 = p1``, normalised by
    ``<q0, q0> = 1, <q0, q1> = 0, <p0, q0> = <p1, q1> = 1, <p0, q1> = <p1, q0> = 0``:

        a = 1/2 <p1, B(q0, q0)>,   b = <p0, B(q0, q0)> + <p1, B(q0, q1)>.

    Rescaling ``q0`` changes ``a`` and ``b`` by the same factor, so the sign of ``a b``
    is what classifies the point (``a b < 0``: the Hopf bifurcation on the branch is
    supercritical near it, Kuznetsov Section 8.4).

    References
    ----------
    Kuznetsov (2004), Section 8.7, eq. (8.78); Kuznetsov (2005), "Practical computation of
    normal forms on center manifolds at degenerate Bogdanov-Takens bifurcations", IJBC 15.

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"x": "y", "y": "b1 + b2*x + x^2 - x*y"},
    ...                          parameters={"b1": 0.0, "b2": 0.0})
    >>> bogdanov_takens_coefficients(m, [0.0, 0.0])
    (1.0, -1.0)
    """
    deriv, x, p, jac = setup_point(
        model, state, params, "bogdanov_takens_coefficients", ModelKind.ODE
    )
    u, _s, vh = np.linalg.svd(jac)
    q0 = orient(vh[-1])
    p1 = u[:, -1]
    q1 = np.linalg.lstsq(jac, q0, rcond=None)[0]
    q1 = q1 - np.dot(q0, q1) * q0
    p1 = p1 / np.dot(p1, q1)
    p0 = np.linalg.lstsq(jac.T, p1, rcond=None)[0]
    p0 = p0 - np.dot(p0, q1) * p1
    b00 = deriv.form(x, p, q0, q0).real
    b01 = deriv.form(x, p, q0, q1).real
    a = 0.5 * float(np.dot(p1, b00))
    b = float(np.dot(p0, b00) + np.dot(p1, b01))
    return a, b


# ---------------------------------------------------------------------------- Hopf
def hopf_coefficients(
    model: Model, state: State, params: Params = None, *, order: int = 3
) -> tuple[float, tuple[complex, ...]]:
    """Frequency and Poincare normal-form coefficients ``(omega, (c1, c2, ...))`` of a Hopf point.

    The flow on the centre manifold, in the coordinate ``w`` with ``x = w q + conj(w q)
    + ...`` (``A q = i omega q``, ``<q, q> = 1``), is
    ``w' = i omega w + c1 w |w|^2 + c2 w |w|^4 + ...``; ``order`` (3 or 5) says how far.

    Returns
    -------
    tuple
        ``omega > 0`` and the tuple ``(c1,)`` or ``(c1, c2)``.
    """
    if order not in (3, 5):
        raise InputError(f"hopf_coefficients(order={order!r}): expected 3 or 5")
    deriv, x, p, jac = setup_point(model, state, params, "hopf_coefficients", ModelKind.ODE)
    lam, q, pv = critical_pair(jac, is_map=False, where="hopf_coefficients")
    g = hopf_series(deriv, x, p, jac, lam.imag, q, pv, order)
    return float(lam.imag), tuple(g[(k + 1, k)] for k in range(1, (order + 1) // 2))


def first_lyapunov_coefficient(model: Model, state: State, params: Params = None) -> float:
    """First Lyapunov coefficient ``l1`` of a Hopf point (flows).

    With ``A q = i omega q``, ``A^T p = -i omega p``, ``<q, q> = 1``, ``<p, q> = 1``
    (MatCont's normalisation),

        l1 = Re <p, C(q,q,conj q) - 2 B(q, A^{-1} B(q, conj q))
                    + B(conj q, (2 i omega I - A)^{-1} B(q, q))> / (2 omega)
           = Re(c1) / omega,

    where ``w' = i omega w + c1 w |w|^2`` is the normal form in ``x = w q + conj(w q)``.
    ``l1 < 0``: supercritical (a stable cycle of radius ``|w| ~ sqrt(-mu Re lambda'
    / Re c1)`` is born); ``l1 > 0``: subcritical. Scaling ``q`` by ``s`` scales ``l1``
    by ``s^2``: other normalisations (e.g. ``x = Re(z)`` coordinates, ``<q, q> = 1/2``)
    give values differing by a positive factor.

    Parameters
    ----------
    model
        A flow.
    state, params
        The Hopf point.

    Returns
    -------
    float

    Raises
    ------
    InputError
        Not a flow, no complex pair of eigenvalues, a zero eigenvalue as well (``A``
        singular: zero-Hopf), bad names or lengths.

    References
    ----------
    Kuznetsov (2004), Section 5.4, eq. (5.39); Dhooge, Govaerts, Kuznetsov (2003),
    MatCont, ACM TOMS 29.

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations(
    ...     {"x": "mu*x - y - x*(x^2 + y^2)", "y": "x + mu*y - y*(x^2 + y^2)"},
    ...     parameters={"mu": 0.0})
    >>> round(first_lyapunov_coefficient(m, [0.0, 0.0]), 12)
    -2.0
    """
    deriv, x, p, jac = setup_point(
        model, state, params, "first_lyapunov_coefficient", ModelKind.ODE
    )
    lam, q, pv = critical_pair(jac, is_map=False, where="first_lyapunov_coefficient")
    return _l1(deriv, x, p, jac, lam.imag, q, pv)


def _l1(
    deriv: Derivatives,
    x: np.ndarray,
    p: np.ndarray,
    jac: np.ndarray,
    omega: float,
    q: np.ndarray,
    pv: np.ndarray,
) -> float:
    """Kuznetsov's closed formula (5.39) for l1."""
    n = jac.shape[0]
    qb = np.conj(q)
    try:
        h11 = np.linalg.solve(jac, deriv.form(x, p, q, qb))
    except np.linalg.LinAlgError:
        raise InputError(
            "first_lyapunov_coefficient: the Jacobian also has a zero eigenvalue here "
            "(a zero-Hopf point), where l1 is not defined"
        ) from None
    h20 = np.linalg.solve(2j * omega * np.eye(n) - jac, deriv.form(x, p, q, q))
    g21 = deriv.form(x, p, q, q, qb) - 2.0 * deriv.form(x, p, q, h11) + deriv.form(x, p, qb, h20)
    return real_part(np.vdot(pv, g21)) / (2.0 * omega)


def second_lyapunov_coefficient(model: Model, state: State, params: Params = None) -> float:
    """Second Lyapunov coefficient ``l2 = Re(c2) / omega`` of a Hopf point (flows).

    ``c2`` is the coefficient of ``w |w|^4`` in the Poincare normal form
    ``w' = i omega w + c1 w |w|^2 + c2 w |w|^4`` on the centre manifold, with ``q`` as in
    :func:`first_lyapunov_coefficient`, computed by solving the homological equations
    ``(i (j - k) omega - A) h_jk = ...`` up to fifth order (exact 4th and 5th derivatives
    needed). At a Bautin (generalised Hopf) point ``l1 = 0`` and ``l2`` is independent of
    the choices made at third order; ``l2 < 0``: a stable cycle and an unstable one
    collide in a fold of cycles on the side where ``l1 > 0``.

    References
    ----------
    Kuznetsov (2004), Section 8.3, eqs. (8.21)-(8.23).

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations(
    ...     {"x": "b1*x - y + b2*x*(x^2+y^2) - x*(x^2+y^2)^2",
    ...      "y": "x + b1*y + b2*y*(x^2+y^2) - y*(x^2+y^2)^2"},
    ...     parameters={"b1": 0.0, "b2": 0.0})
    >>> round(second_lyapunov_coefficient(m, [0.0, 0.0]), 12)
    -4.0
    """
    model_ = check_model(model, "second_lyapunov_coefficient")
    if not model_.is_symbolic:
        raise InputError(
            "second_lyapunov_coefficient needs exact 4th and 5th derivatives; model "
            f"{model_.name!r} is a Python function: build it with Model.from_equations"
        )
    omega, (_, c2) = hopf_coefficients(model, state, params, order=5)
    return float(c2.real) / omega


def bautin_coefficient(model: Model, state: State, params: Params = None) -> float:
    """The Bautin (generalised Hopf) point's coefficient: :func:`second_lyapunov_coefficient`."""
    return second_lyapunov_coefficient(model, state, params)


# ---------------------------------------------------------------------------- maps
def flip_coefficient(model: Model, state: State, params: Params = None) -> float:
    """Cubic coefficient ``c`` of the flip (period-doubling) normal form of a map.

    The map on the centre manifold is ``w -> -(1 + beta) w + c w^3``; with ``A q = -q``,
    ``A^T p = -p``, ``<q, q> = 1``, ``<p, q> = 1``:

        c = 1/6 <p, C(q, q, q) + 3 B(q, (I - A)^{-1} B(q, q))>.

    ``c > 0``: supercritical (a stable period-two orbit appears where the fixed point
    loses stability); ``c < 0``: subcritical. For ``x -> -x + a x^2 + b x^3``,
    ``c = a^2 + b``.

    References
    ----------
    Kuznetsov (2004), Sections 4.4 and 5.4, eq. (5.33).

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"x": "r*x*(1 - x)"}, parameters={"r": 3.0}, kind="map")
    >>> round(flip_coefficient(m, [2 / 3]), 12)
    9.0
    """
    deriv, x, p, jac = setup_point(model, state, params, "flip_coefficient", ModelKind.MAP)
    n = jac.shape[0]
    q, pv, _sigma = null_vectors(jac + np.eye(n))
    bqq = deriv.form(x, p, q, q)
    h2 = np.linalg.solve(np.eye(n) - jac, bqq)
    return real_part(np.vdot(pv, deriv.form(x, p, q, q, q) + 3.0 * deriv.form(x, p, q, h2)) / 6.0)


def neimark_sacker_coefficient(model: Model, state: State, params: Params = None) -> float:
    """Cubic coefficient ``d`` of the Neimark-Sacker normal form of a map.

    Multipliers ``e^{+- i theta}``; with ``A q = e^{i theta} q``,
    ``A^T p = e^{-i theta} p``, ``<q, q> = 1``, ``<p, q> = 1``:

        d = 1/2 Re( e^{-i theta} <p, C(q,q,conj q) + 2 B(q, (I - A)^{-1} B(q, conj q))
                                  + B(conj q, (e^{2 i theta} I - A)^{-1} B(q, q))> ).

    ``d < 0``: supercritical (a stable closed invariant curve appears); ``d > 0``:
    subcritical. Undefined at the strong resonances ``e^{i k theta} = 1``, ``k <= 4``.

    References
    ----------
    Kuznetsov (2004), Sections 4.7 and 5.4, eq. (5.35).

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"x": "r*x*(1 - y)", "y": "x"}, parameters={"r": 2.0},
    ...                          kind="map")
    >>> neimark_sacker_coefficient(m, [0.5, 0.5]) < 0
    True
    """
    deriv, x, p, jac = setup_point(
        model, state, params, "neimark_sacker_coefficient", ModelKind.MAP
    )
    n = jac.shape[0]
    lam, q, pv = critical_pair(jac, is_map=True, where="neimark_sacker_coefficient")
    for k in (1, 2, 3, 4):
        if abs(lam**k - 1.0) < 1e-8:
            raise InputError(
                f"neimark_sacker_coefficient: the multipliers are {k}-th roots of unity "
                "(a strong resonance), where the Neimark-Sacker normal form does not apply"
            )
    qb = np.conj(q)
    h11 = np.linalg.solve(np.eye(n) - jac, deriv.form(x, p, q, qb))
    h20 = np.linalg.solve(lam**2 * np.eye(n) - jac, deriv.form(x, p, q, q))
    total = deriv.form(x, p, q, q, qb) + 2.0 * deriv.form(x, p, q, h11) + deriv.form(x, p, qb, h20)
    return 0.5 * real_part(np.conj(lam) / abs(lam) * np.vdot(pv, total))
