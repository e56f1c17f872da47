"""Linear algebra of normal forms: critical eigenvectors, bordered solves, Hopf series.

The public functions live in :mod:`stabkit.analysis.normal_forms`; this module holds the
pieces they share with the codim-2 continuation (:mod:`stabkit.analysis.codim2`).

Conventions (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., 2004, and
MatCont): ``<u, v> = conj(u) . v``; right eigenvectors are normalised to ``<q, q> = 1``,
adjoint ones to ``<p, q> = 1``; a real null vector is oriented so that its entry of
largest modulus is positive.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from stabkit.analysis._multilinear import Derivatives, derivatives_for
from stabkit.analysis._system import check_model
from stabkit.errors import InputError
from stabkit.model.model import Model, ModelKind, _named_vector

__all__ = [
    "Params",
    "State",
    "bordered_solve",
    "critical_pair",
    "hopf_series",
    "normal_form_series",
    "null_vectors",
    "orient",
    "real_part",
    "setup_point",
    "shifted",
]

log = logging.getLogger(__name__)

State = Mapping[str, float] | Sequence[float] | np.ndarray
Params = Mapping[str, float] | Sequence[float] | np.ndarray | None


def setup_point(
    model: Model, state: State, params: Params, where: str, kind: ModelKind | None
) -> tuple[Derivatives, np.ndarray, np.ndarray, np.ndarray]:
    model = check_model(model, where)
    if kind is not None and model.kind is not kind:
        other = {
            "first_lyapunov_coefficient": "neimark_sacker_coefficient",
            "neimark_sacker_coefficient": "first_lyapunov_coefficient",
        }.get(where)
        raise InputError(
            f"{where}: model {model.name!r} is a{'n' if model.kind.value[0] in 'aeiou' else ''} "
            f"{model.kind.value}, but this coefficient is defined for "
            + ("maps" if kind is ModelKind.MAP else "flows (ode models)")
            + (f"; use {other}" if other else "")
        )
    if state is None:
        raise InputError(f"{where}(state=None): give the bifurcation point, e.g. {{'x': 0.0}}")
    x = _named_vector(state, model.variables, model.default_state, what="state", model=model.name)
    p = model.param_vector(params)
    deriv = derivatives_for(model)
    jac = deriv.jacobian(x, p)
    if not np.all(np.isfinite(jac)):
        raise InputError(f"{where}: the Jacobian is not finite at state={x.tolist()}")
    return deriv, x, p, jac


def shifted(jac: np.ndarray, is_map: bool) -> np.ndarray:
    """``A`` for flows (critical eigenvalue 0), ``A - I`` for maps (multiplier 1)."""
    return jac - np.eye(jac.shape[0]) if is_map else jac


def real_part(value: complex) -> float:
    return float(np.real(value))


def orient(v: np.ndarray) -> np.ndarray:
    """Scale ``v`` to unit length with its entry of largest modulus real and positive."""
    v = np.asarray(v)
    k = int(np.argmax(np.abs(v)))
    phase = v[k] / abs(v[k]) if abs(v[k]) > 0 else 1.0
    w = v / phase
    w = w / np.linalg.norm(w)
    return w if np.iscomplexobj(v) else w.real


def null_vectors(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Right and left (adjoint) null vectors of a (nearly) singular square matrix.

    Returns ``(q, p, sigma)`` with ``M q ~ 0``, ``M^H p ~ 0`` (so ``<p, M v> = 0``),
    ``<q, q> = 1``, ``<p, q> = 1`` and ``sigma`` the smallest singular value.
    """
    u, s, vh = np.linalg.svd(matrix)
    q = orient(vh[-1].conj())
    p = u[:, -1]
    pq = np.vdot(p, q)
    if abs(pq) < 1e-12:
        raise InputError(
            "the critical eigenvalue is not simple (its left and right eigenvectors are "
            "orthogonal): this is a codimension-two point, not a simple fold or Hopf point"
        )
    p = p / np.conj(pq)
    return q, p, float(s[-1])


def bordered_solve(matrix: np.ndarray, rhs: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Solve ``M h = rhs`` with ``<p, h> = 0`` where ``M`` is singular along ``q``.

    The bordered system ``[[M, q], [p^H, 0]] [h; s] = [rhs; 0]`` is regular when the
    null space of ``M`` is spanned by ``q`` and ``p`` spans that of ``M^H``; ``rhs`` is
    expected to satisfy ``<p, rhs> = 0`` (``s`` absorbs what it does not).
    """
    n = matrix.shape[0]
    big = np.zeros((n + 1, n + 1), dtype=np.complex128)
    big[:n, :n] = matrix
    big[:n, n] = q
    big[n, :n] = np.conj(p)
    sol = np.linalg.solve(big, np.concatenate([rhs, [0.0]]))
    return sol[:n]


def critical_pair(
    jac: np.ndarray, *, is_map: bool, where: str
) -> tuple[complex, np.ndarray, np.ndarray]:
    """The critical complex eigenvalue (Im > 0) of a Hopf / Neimark-Sacker point.

    Returns ``(lambda, q, p)``: ``A q = lambda q``, ``A^T p = conj(lambda) p``,
    ``<q, q> = 1``, ``<p, q> = 1``. Picks, among eigenvalues with positive imaginary
    part, the one closest to the imaginary axis (flows) or the unit circle (maps).
    """
    values = np.linalg.eigvals(jac)
    scale = max(1.0, float(np.max(np.abs(values))))
    upper = values[values.imag > 1e-9 * scale]
    if upper.size == 0:
        raise InputError(
            f"{where}: the Jacobian has no complex pair of eigenvalues here "
            f"(eigenvalues {np.round(values, 6).tolist()}); this is not a "
            + ("Neimark-Sacker" if is_map else "Hopf")
            + " point"
        )
    dist = np.abs(np.abs(upper) - 1.0) if is_map else np.abs(upper.real)
    lam = complex(upper[int(np.argmin(dist))])
    if float(np.min(dist)) > 1e-6 * scale:
        log.warning(
            "%s: the critical eigenvalue %s is %.3g away from criticality", where, lam, np.min(dist)
        )
    n = jac.shape[0]
    q, p, _ = null_vectors(jac - lam * np.eye(n))
    return lam, q, p


def _compositions(
    keys: list[tuple[int, ...]], target: tuple[int, ...], parts: int
) -> Iterator[tuple[tuple[int, ...], ...]]:
    """Ordered ``parts``-tuples of multi-indices from ``keys`` summing to ``target``."""
    if parts == 1:
        if target in keys:
            yield (target,)
        return
    for key in keys:
        rest = tuple(t - k for t, k in zip(target, key, strict=True))
        if min(rest) < 0 or sum(rest) < parts - 1:
            continue
        for tail in _compositions(keys, rest, parts - 1):
            yield (key, *tail)


def _monomials(size: int, degree: int) -> list[tuple[int, ...]]:
    out = []
    for combo in itertools.combinations_with_replacement(range(size), degree):
        out.append(tuple(combo.count(k) for k in range(size)))
    return out


def normal_form_series(
    deriv: Derivatives,
    x: np.ndarray,
    p: np.ndarray,
    jac: np.ndarray,
    mus: np.ndarray,
    qs: np.ndarray,
    ps: np.ndarray,
    order: int,
) -> dict[tuple[int, tuple[int, ...]], complex]:
    """Poincare normal form on the centre manifold, by homological equations, to ``order``.

    Centre coordinates ``u_k`` (conjugate pairs count as separate coordinates) with
    eigenvalues ``mus[k]``, eigenvectors ``qs[k]`` and adjoint vectors ``ps[k]``
    (``<ps[j], qs[k]> = delta_jk``). The centre manifold ``x = H(u) = sum_m H_m u^m``
    (``H_{e_k} = q_k``) and the normal form ``u_k' = mu_k u_k + sum_m g_{k,m} u^m`` with
    only resonant monomials (``mu . m = mu_k``) solve ``DH(u) g(u) = f(H(u))`` order by
    order: ``(mu . m - A) H_m = [u^m](f(H) - DH g) - sum_k g_{k,m} q_k``, each resonant
    ``g_{k,m} = <p_k, ...>`` making it solvable and ``<p_k, H_m> = 0``.

    Returns
    -------
    dict
        ``{(k, m): g_{k,m}}``: the coefficient of the monomial ``u^m`` (multi-index ``m``)
        in the equation of ``u_k``.
    """
    size, n = len(mus), jac.shape[0]
    eye = np.eye(n)
    tol = 1e-8 * max(1.0, float(np.max(np.abs(mus))))
    series: dict[tuple[int, ...], np.ndarray] = {}
    for k in range(size):
        series[tuple(int(j == k) for j in range(size))] = qs[k]
    coeffs: dict[tuple[int, tuple[int, ...]], complex] = {}
    cache: dict[tuple[tuple[int, ...], ...], np.ndarray] = {}

    def form(keys: tuple[tuple[int, ...], ...]) -> np.ndarray:
        key = tuple(sorted(keys))
        if key not in cache:
            cache[key] = deriv.form(x, p, *(series[k] for k in key))
        return cache[key]

    for total in range(2, order + 1):
        known = [k for k in series if sum(k) < total]
        for mono in _monomials(size, total):
            rhs = np.zeros(n, dtype=np.complex128)
            for parts in range(2, total + 1):
                if deriv.is_zero(parts):
                    continue
                acc = np.zeros(n, dtype=np.complex128)
                for combo in _compositions(known, mono, parts):
                    acc += form(combo)
                rhs += acc / math.factorial(parts)
            for (k, m2), g in coeffs.items():
                for m1, h in series.items():
                    if m1[k] > 0 and all(
                        a - (i == k) + b == c
                        for i, (a, b, c) in enumerate(zip(m1, m2, mono, strict=True))
                    ):
                        rhs -= m1[k] * g * h
            s = complex(np.dot(mus, mono))
            resonant = [k for k in range(size) if abs(s - mus[k]) < tol]
            for k in resonant:
                coeffs[(k, mono)] = complex(np.vdot(ps[k], rhs))
                rhs = rhs - coeffs[(k, mono)] * qs[k]
            op = s * eye - jac
            if resonant:
                r = len(resonant)
                big = np.zeros((n + r, n + r), dtype=np.complex128)
                big[:n, :n] = op
                for col, k in enumerate(resonant):
                    big[:n, n + col] = qs[k]
                    big[n + col, :n] = np.conj(ps[k])
                series[mono] = np.linalg.solve(big, np.concatenate([rhs, np.zeros(r)]))[:n]
            else:
                series[mono] = np.linalg.solve(op, rhs)
    return coeffs


def hopf_series(
    deriv: Derivatives,
    x: np.ndarray,
    p: np.ndarray,
    jac: np.ndarray,
    omega: float,
    q: np.ndarray,
    pv: np.ndarray,
    order: int,
) -> dict[tuple[int, int], complex]:
    """Normal-form coefficients of a Hopf point: ``{(k+1, k): g_{k+1,k}}`` up to ``order``.

    :func:`normal_form_series` with the coordinates ``(w, conj w)``: the equation
    ``w' = i omega w + sum_k g_{k+1,k} w^{k+1} conj(w)^k`` (``c1 = g[(2, 1)]``,
    ``c2 = g[(3, 2)]``).
    """
    mus = np.array([1j * omega, -1j * omega])
    g = normal_form_series(
        deriv, x, p, jac, mus, np.array([q, np.conj(q)]), np.array([pv, np.conj(pv)]), order
    )
    return {(m[0], m[1]): c for (k, m), c in g.items() if k == 0 and m[0] - m[1] == 1}
