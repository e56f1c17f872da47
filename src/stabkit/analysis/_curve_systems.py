"""Minimally extended systems of fold and Hopf curves and their codim-2 test functions.

Unknowns ``z = (x, p1, p2)``. A fold curve is ``f(x, p) = 0, g(x, p) = 0`` with ``g``
the bordered test function of ``M = A`` (``A = Df``); a Hopf curve the same with
``M = 2A (.) I``, the bialternate product, whose eigenvalues are ``lambda_i + lambda_j``
(``i < j``), so that it is singular where a pair sums to zero (Hopf points, and neutral
saddles ``lambda, -lambda`` beyond Bogdanov-Takens points). ``g`` solves

    [[M, b], [c^T, 0]] [v; g] = [0; 1],      [[M^T, c], [b^T, 0]] [w; h] = [0; 1],

and ``dg/dz = -w^T (dM/dz) v`` exactly, from the symbolic second derivatives
(Govaerts, *Numerical Methods for Bifurcations of Dynamical Equilibria*, SIAM 2000,
Sections 4.4 and 4.6; Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed.,
Section 10.2). The borders are refreshed to the last ``v, w`` every few points.

For maps the same construction follows fold (``M = A - I``), flip (``M = A + I``) and
Neimark-Sacker curves (``M = A (.) A - I`` with ``A (.) A`` the second compound matrix,
eigenvalues ``mu_i mu_j``, singular where a pair of multipliers has product one).

Codim-2 test functions (each changes sign at its point):

fold curve   CP  ``w^T B(v, v)`` (the quadratic coefficient vanishes)
             BT  ``w^T v`` (left and right null vectors orthogonal: a Jordan block)
             ZH  ``prod (lambda_i + lambda_j)`` over the other eigenvalues (a pair +- i w)
Hopf curve   GH  ``l1`` (first Lyapunov coefficient, where ``kappa > 0``)
             BT  ``kappa = lambda_1 lambda_2`` of the critical pair (``omega^2``)
             ZH  ``prod lambda_k`` over the other eigenvalues (a zero eigenvalue)
             HH  ``prod (lambda_i + lambda_j)`` over the other eigenvalues (a second pair)
map LP       CP, R1 (``w^T v``), LPPD ``prod (mu + 1)``, LPNS ``prod (mu_i mu_j - 1)``
map PD       GPD (flip coefficient), R2 (``w^T v``), LPPD ``prod (mu - 1)``, PDNS
map NS       CH (Neimark-Sacker coefficient), R1..R4 (``cos theta - 1``, ``cos theta + 1``,
             ``cos theta + 1/2``, ``cos theta``), LPNS ``prod (mu - 1)``, PDNS ``prod (mu + 1)``
(products over the multipliers other than the critical ones).
"""

from __future__ import annotations

import functools

import numpy as np

from stabkit.analysis._multilinear import Derivatives
from stabkit.errors import InputError

__all__ = [
    "TESTS",
    "CurveSystem",
    "bialternate",
    "bialternate_gradient",
    "compound",
    "compound_gradient",
    "cos_theta",
    "critical_split",
]

TESTS = {
    ("LP", False): ("CP", "BT", "ZH"),
    ("H", False): ("GH", "BT", "ZH", "HH"),
    ("LP", True): ("CP", "R1", "LPPD", "LPNS"),
    ("PD", True): ("GPD", "R2", "LPPD", "PDNS"),
    ("NS", True): ("CH", "R1", "R2", "R3", "R4", "LPNS", "PDNS"),
}


@functools.lru_cache(maxsize=32)
def _bialternate_structure(
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Entries of ``2A (.) I`` as ``M[row, col] += sign * A[i, j]`` (index arrays)."""
    pairs = [(p, q) for p in range(1, n) for q in range(p)]
    rows, cols, ii, jj, signs = [], [], [], [], []

    def put(row: int, col: int, i: int, j: int, sign: float) -> None:
        rows.append(row)
        cols.append(col)
        ii.append(i)
        jj.append(j)
        signs.append(sign)

    for row, (p, q) in enumerate(pairs):
        for col, (r, s) in enumerate(pairs):
            if r == q:
                put(row, col, p, s, -1.0)
            elif r != p and s == q:
                put(row, col, p, r, 1.0)
            elif r == p and s == q:
                put(row, col, p, p, 1.0)
                put(row, col, q, q, 1.0)
            elif r == p and s != q:
                put(row, col, q, s, 1.0)
            elif s == p:
                put(row, col, q, r, -1.0)
    return (
        np.asarray(rows),
        np.asarray(cols),
        np.asarray(ii),
        np.asarray(jj),
        np.asarray(signs),
        len(pairs),
    )


def bialternate(a: np.ndarray) -> np.ndarray:
    """The bialternate product ``2A (.) I`` (eigenvalues ``lambda_i + lambda_j``, i < j).

    Rows and columns are indexed by pairs ``(p, q)``, ``p > q``, in lexicographic order
    (Govaerts 2000, Section 4.4.4). Linear in ``a``.
    """
    rows, cols, ii, jj, signs, m = _bialternate_structure(a.shape[0])
    out = np.zeros((m, m), dtype=a.dtype)
    np.add.at(out, (rows, cols), signs * a[ii, jj])
    return out


def bialternate_gradient(w: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """``G`` with ``w^T (2E (.) I) v = sum_ij G_ij E_ij`` for every ``E``, shape ``(n, n)``."""
    rows, cols, ii, jj, signs, _ = _bialternate_structure(n)
    out = np.zeros((n, n))
    np.add.at(out, (ii, jj), signs * w[rows] * v[cols])
    return out


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(p, q) for p in range(1, n) for q in range(p)]
    return np.array([p for p, _ in pairs], dtype=int), np.array([q for _, q in pairs], dtype=int)


def compound(a: np.ndarray) -> np.ndarray:
    """The second compound matrix ``A (.) A`` (eigenvalues ``mu_i mu_j``, i < j).

    Entry ``((p, q), (r, s))`` is the minor ``a_pr a_qs - a_ps a_qr`` (pairs ``p > q``).
    """
    big, small = _pairs(a.shape[0])
    return (
        a[np.ix_(big, big)] * a[np.ix_(small, small)]
        - a[np.ix_(big, small)] * a[np.ix_(small, big)]
    )


def compound_gradient(w: np.ndarray, v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``G`` with ``w^T (d/dt compound(A + t E)) v = sum_ij G_ij E_ij``, shape ``(n, n)``."""
    n = a.shape[0]
    big, small = _pairs(n)
    weight = np.outer(w, v)
    out = np.zeros((n, n))
    rows_b, cols_b = np.meshgrid(big, big, indexing="ij")
    rows_s, cols_s = np.meshgrid(small, small, indexing="ij")
    rows_bs, cols_bs = np.meshgrid(big, small, indexing="ij")
    rows_sb, cols_sb = np.meshgrid(small, big, indexing="ij")
    np.add.at(out, (rows_b, cols_b), weight * a[rows_s, cols_s])
    np.add.at(out, (rows_s, cols_s), weight * a[rows_b, cols_b])
    np.add.at(out, (rows_bs, cols_bs), -weight * a[rows_sb, cols_sb])
    np.add.at(out, (rows_sb, cols_sb), -weight * a[rows_bs, cols_bs])
    return out


def _pair_product_minus_one(values: np.ndarray) -> float:
    n = values.size
    if n < 2:
        return 1.0
    i, j = np.triu_indices(n, 1)
    return float(np.real(np.prod(values[i] * values[j] - 1.0)))


def _pair_sum_product(values: np.ndarray) -> float:
    n = values.size
    if n < 2:
        return 1.0
    i, j = np.triu_indices(n, 1)
    return float(np.real(np.prod(values[i] + values[j])))


def critical_split(
    values: np.ndarray, kind: str, is_map: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Split eigenvalues into the critical ones (one for LP / PD, a pair for H / NS) and
    the rest."""
    if kind in ("LP", "PD"):
        target = 0.0 if not is_map else (1.0 if kind == "LP" else -1.0)
        k = int(np.argmin(np.abs(values - target)))
        return values[[k]], np.delete(values, k)
    n = values.size
    i, j = np.triu_indices(n, 1)
    if is_map:
        k = int(np.argmin(np.abs(values[i] * values[j] - 1.0)))
    else:
        k = int(np.argmin(np.abs(values[i] + values[j])))
    return values[[i[k], j[k]]], np.delete(values, [i[k], j[k]])


def cos_theta(pair: np.ndarray) -> float:
    """``cos theta`` of a multiplier pair ``e^{+-i theta}`` (beyond 1 in modulus: real pair)."""
    return float(np.real(pair[0] + pair[1]) / (2.0 * np.sqrt(abs(np.real(pair[0] * pair[1])))))


class CurveSystem:
    """The extended system of a fold (``kind="LP"``) or Hopf (``kind="H"``) curve.

    Parameters
    ----------
    deriv
        The model's derivatives.
    kind
        ``"LP"`` or ``"H"``.
    base_params
        All parameter values; ``free`` indices are replaced by the unknowns.
    free
        Indices of the two free parameters.
    """

    def __init__(
        self,
        deriv: Derivatives,
        kind: str,
        base_params: np.ndarray,
        free: tuple[int, int],
        is_map: bool = False,
    ) -> None:
        self.deriv = deriv
        self.kind = kind
        self.is_map = is_map
        self.n = deriv.n
        self.base = np.asarray(base_params, dtype=np.float64)
        self.free = free
        self.tests = TESTS[(kind, is_map)]
        self.b: np.ndarray | None = None
        self.c: np.ndarray | None = None

    # ------------------------------------------------------------------ pieces
    def split(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x, p)`` from ``z = (x, p1, p2)``."""
        p = self.base.copy()
        p[list(self.free)] = z[self.n :]
        return z[: self.n], p

    def matrix(self, a: np.ndarray) -> np.ndarray:
        eye = np.eye(self.n)
        if self.kind == "LP":
            return a - eye if self.is_map else a
        if self.kind == "PD":
            return a + eye
        if self.kind == "NS":
            return compound(a) - np.eye(self.n * (self.n - 1) // 2)
        return bialternate(a)

    def set_borders(self, z: np.ndarray) -> None:
        """Borders from the singular vectors of ``M`` at ``z`` (or the last ``v, w``)."""
        x, p = self.split(z)
        u, _, vh = np.linalg.svd(self.matrix(self.deriv.jacobian(x, p)))
        c, b = vh[-1], u[:, -1]
        if self.c is not None and self.b is not None:
            c = c if c @ self.c >= 0 else -c
            b = b if b @ self.b >= 0 else -b
        self.c, self.b = c, b

    def refresh_borders(self, z: np.ndarray) -> None:
        """Borders := the current ``v, w`` (normalised): keeps the bordered matrix regular."""
        x, p = self.split(z)
        v, w, _ = self._bordered(self.matrix(self.deriv.jacobian(x, p)))
        self.c, self.b = v / np.linalg.norm(v), w / np.linalg.norm(w)

    def _bordered(self, mat: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        assert self.b is not None and self.c is not None
        m = mat.shape[0]
        big = np.zeros((m + 1, m + 1))
        big[:m, :m] = mat
        big[:m, m] = self.b
        big[m, :m] = self.c
        rhs = np.zeros(m + 1)
        rhs[m] = 1.0
        sol = np.linalg.solve(big, rhs)
        adj = np.linalg.solve(big.T, rhs)
        return sol[:m], adj[:m], float(sol[m])

    # ------------------------------------------------------------------ R and DR
    def residual(self, z: np.ndarray) -> np.ndarray:
        x, p = self.split(z)
        a = self.deriv.jacobian(x, p)
        try:
            _, _, g = self._bordered(self.matrix(a))
        except np.linalg.LinAlgError:
            g = np.nan
        f = self.deriv.rhs(x, p)
        return np.concatenate([f - x if self.is_map else f, [g]])

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        x, p = self.split(z)
        n = self.n
        a = self.deriv.jacobian(x, p)
        fxx, fp, fxp = self.deriv.second_derivatives(x, p)
        out = np.zeros((n + 1, n + 2))
        out[:n, :n] = a - np.eye(n) if self.is_map else a
        out[:n, n:] = fp[:, list(self.free)]
        try:
            v, w, _ = self._bordered(self.matrix(a))
        except np.linalg.LinAlgError:
            out[n, :] = np.nan
            return out
        if self.kind in ("LP", "PD"):
            # d/dz_j of w^T A v: A_{x_j} = fxx[:, :, j], A_{p_k} = fxp[:, :, k]
            out[n, :n] = -np.einsum("i,ijk,k->j", w, fxx, v)
            out[n, n:] = -np.einsum("i,ijk,j->k", w, fxp[:, :, list(self.free)], v)
        else:
            grad = (
                compound_gradient(w, v, a) if self.kind == "NS" else bialternate_gradient(w, v, n)
            )
            out[n, :n] = -np.einsum("ij,ijk->k", grad, fxx)
            out[n, n:] = -np.einsum("ij,ijk->k", grad, fxp[:, :, list(self.free)])
        return out

    # ------------------------------------------------------------------ tests
    def eigenvalues(self, z: np.ndarray) -> np.ndarray:
        x, p = self.split(z)
        return np.linalg.eigvals(self.deriv.jacobian(x, p)).astype(np.complex128)

    def test_functions(self, z: np.ndarray, tangent: np.ndarray | None = None) -> np.ndarray:
        """Codim-2 test values at ``z`` (see the module docstring), NaN where undefined."""
        x, p = self.split(z)
        a = self.deriv.jacobian(x, p)
        values = np.linalg.eigvals(a).astype(np.complex128)
        crit, rest = critical_split(values, self.kind, self.is_map)
        if self.is_map:
            return self._map_tests(x, p, a, crit, rest)
        if self.kind == "LP":
            try:
                v, w, _ = self._bordered(a)
            except np.linalg.LinAlgError:
                return np.full(3, np.nan)
            cp = float(w @ self.deriv.form(x, p, v, v).real) / (
                np.linalg.norm(w) * np.linalg.norm(v) ** 2
            )
            bt = float(w @ v) / (np.linalg.norm(w) * np.linalg.norm(v))
            return np.array([cp, bt, _pair_sum_product(rest)])
        kappa = float(np.real(crit[0] * crit[1]))
        gh = np.nan
        if kappa > 0 and (rest.size == 0 or np.min(np.abs(rest)) > 1e-8):
            gh = self.l1(x, p, a, np.sqrt(kappa))
        zh = float(np.real(np.prod(rest))) if rest.size else 1.0
        return np.array([gh, kappa, zh, _pair_sum_product(rest)])

    def _map_tests(
        self, x: np.ndarray, p: np.ndarray, a: np.ndarray, crit: np.ndarray, rest: np.ndarray
    ) -> np.ndarray:
        lp = float(np.real(np.prod(rest - 1.0))) if rest.size else 1.0
        pd = float(np.real(np.prod(rest + 1.0))) if rest.size else 1.0
        ns = _pair_product_minus_one(rest)
        if self.kind == "NS":
            c = cos_theta(crit)
            ch = self.map_coefficient(x, p, a) if abs(c) < 1 - 1e-9 else np.nan
            return np.array([ch, c - 1.0, c + 1.0, c + 0.5, c, lp, pd])
        try:
            v, w, _ = self._bordered(self.matrix(a))
        except np.linalg.LinAlgError:
            return np.full(4, np.nan)
        nv, nw = np.linalg.norm(v), np.linalg.norm(w)
        resonance = float(w @ v) / (nw * nv)
        if self.kind == "LP":
            cp = float(w @ self.deriv.form(x, p, v, v).real) / (nw * nv**2)
            return np.array([cp, resonance, pd, ns])
        return np.array([self.map_coefficient(x, p, a), resonance, lp, ns])

    def map_coefficient(self, x: np.ndarray, p: np.ndarray, a: np.ndarray) -> float:
        """The flip (PD) or Neimark-Sacker (NS) coefficient at ``(x, p)``."""
        from stabkit.analysis import normal_forms as nf

        fn = nf.flip_coefficient if self.kind == "PD" else nf.neimark_sacker_coefficient
        try:
            return fn(self.deriv.model, x, p)
        except (InputError, np.linalg.LinAlgError):
            return np.nan

    def l1(self, x: np.ndarray, p: np.ndarray, a: np.ndarray, omega: float) -> float:
        from stabkit.analysis._nf_core import null_vectors
        from stabkit.analysis.normal_forms import _l1

        try:
            q, pv, _ = null_vectors(a - 1j * omega * np.eye(self.n))
            return _l1(self.deriv, x, p, a, omega, q, pv)
        except (np.linalg.LinAlgError, ArithmeticError, ValueError):  # l1 undefined here
            return np.nan
