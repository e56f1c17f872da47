"""Linear algebra of normal forms: critical eigenvectors, bordered solves, Hopf series.

The public functions live in :mod:`stabkit.analysis.normal_forms`; this module holds the
pieces they share with the codim-2 continuation (:mod:`stabkit.analysis.codim2`).

Conventions (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., 2004, and
MatCont): ``<u, v> = conj(u) . v``; right eigenvectors are normalised to ``<q, q> = 1``,
adjoint ones to ``<p, q> = 1``; a real null vector is oriented so that its entry of
largest modulus is positive.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import numpy as np

from stabkit.analysis._multilinear import Derivatives
from stabkit.errors import InputError

__all__ = [
    "bordered_solve",
    "critical_pair",
    "hopf_series",
    "null_vectors",
    "orient",
]

log = logging.getLogger(__name__)


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
    keys: list[tuple[int, int]], target: tuple[int, int], m: int
) -> Iterator[tuple[tuple[int, int], ...]]:
    """Ordered m-tuples of monomials from ``keys`` summing to ``target``."""
    if m == 1:
        if target in keys:
            yield (target,)
        return
    for key in keys:
        rest = (target[0] - key[0], target[1] - key[1])
        if rest[0] < 0 or rest[1] < 0 or sum(rest) < m - 1:
            continue
        for tail in _compositions(keys, rest, m - 1):
            yield (key, *tail)


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
    """Poincare normal-form coefficients of a Hopf point up to ``order`` (odd, >= 3).

    Solves the invariance equation ``DH(w) g(w) = f(H(w))`` of the centre manifold
    ``x = H(w, conj w) = sum H_jk w^j conj(w)^k`` (``H_10 = q``) and of the normal form
    ``w' = i omega w + sum_k g_{k+1,k} w^{k+1} conj(w)^k`` order by order:
    ``(i (j - k) omega - A) H_jk = [w^j conj(w)^k] (f(H) - DH g)``, the resonant
    coefficients ``g_{k+1,k} = <p, ...>`` making the right-hand side solvable and
    ``<p, H_{k+1,k}> = 0``. Returns ``{(k+1, k): g_{k+1,k}}`` (so ``c1 = g[(2, 1)]``,
    ``c2 = g[(3, 2)]``).
    """
    n = jac.shape[0]
    eye = np.eye(n)
    series: dict[tuple[int, int], np.ndarray] = {(1, 0): q, (0, 1): np.conj(q)}
    coeffs: dict[tuple[int, int], complex] = {}
    cache: dict[tuple[tuple[int, int], ...], np.ndarray] = {}

    def form(keys: tuple[tuple[int, int], ...]) -> np.ndarray:
        key = tuple(sorted(keys))
        if key not in cache:
            cache[key] = deriv.form(x, p, *(series[k] for k in key))
        return cache[key]

    for total in range(2, order + 1):
        known = [k for k in series if sum(k) < total]
        for j in range(total, -1, -1):
            k = total - j
            if j < k:
                break
            rhs = np.zeros(n, dtype=np.complex128)
            for m in range(2, total + 1):
                if deriv.is_zero(m):
                    continue
                acc = np.zeros(n, dtype=np.complex128)
                for combo in _compositions(known, (j, k), m):
                    acc += form(combo)
                rhs += acc / math.factorial(m)
            # subtract DH(w) (g(w) - i omega w) terms with known pieces
            for (a, b), h in series.items():
                for (c, d), g in coeffs.items():
                    if a > 0 and (a - 1 + c, b + d) == (j, k):
                        rhs -= a * g * h
                    if b > 0 and (a + d, b - 1 + c) == (j, k):
                        rhs -= b * np.conj(g) * h
            op = 1j * (j - k) * omega * eye - jac
            if j - k == 1:
                g_jk = complex(np.vdot(pv, rhs))
                coeffs[(j, k)] = g_jk
                h_jk = bordered_solve(op, rhs - g_jk * q, q, pv)
            else:
                h_jk = np.linalg.solve(op, rhs)
            series[(j, k)] = h_jk
            if j != k:
                series[(k, j)] = np.conj(h_jk)
    return coeffs
