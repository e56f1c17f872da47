"""Orthogonal collocation of periodic orbits: the discrete equations and their Jacobian.

A periodic orbit x(t) = x(t + T) of x' = f(x, p) is written on the unit interval as
u(tau) = x(tau T), u' = T f(u, p), u(0) = u(1). The interval [0, 1] is cut into a mesh
0 = tau_0 < ... < tau_N = 1; on each piece u is a polynomial of degree m given by its
values at the m + 1 equally spaced nodes tau_j + h_j k / m, k = 0..m. Neighbouring pieces
share their end nodes (continuity) and the last node is the first (periodicity), so the
unknowns are the N m node values and T. The equations are

    collocation   sum_k L_k'(z_i) u_{j,k} - h_j T f(u_j(z_i), p) = 0   at the m Gauss points z_i
    phase         sum_j sum_i w_i <u_j(z_i), sum_k L_k'(z_i) v_{j,k}> = 0

(the integral phase condition int_0^1 <u, v'> dtau = 0 against a reference cycle v, exact
for the piecewise polynomials by Gauss quadrature). The Jacobian is sparse: one
(m n) x ((m + 1) n) block per interval from the exact Jacobian of f, plus the T column,
the parameter column (central differences in the parameter) and the phase row.
Collocation at Gauss points is superconvergent: O(h^{2m}) at the mesh points
(de Boor and Swartz 1973; Ascher, Christiansen and Russell 1979; Doedel, AUTO manual).
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from stabkit.model.codegen import CompiledModel

__all__ = [
    "Basis",
    "CollocationProblem",
    "basis",
    "equidistribute",
    "evaluate_profile",
    "interpolate_nodes",
    "mesh_monitor",
    "resample",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Basis:
    """Lagrange basis on m + 1 equally spaced nodes of [0, 1] and Gauss data.

    ``lz[i, k] = L_k(z_i)``, ``dz[i, k] = L_k'(z_i)`` at the m Gauss points ``z``
    (weights ``w``, summing to 1); ``dm[k]`` is the m-th derivative of ``L_k``.
    """

    degree: int
    nodes: np.ndarray
    z: np.ndarray
    w: np.ndarray
    lz: np.ndarray
    dz: np.ndarray
    dm: np.ndarray


def _lagrange(nodes: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and first derivatives of the Lagrange basis at ``x``: shapes (len(x), m + 1)."""
    m1 = nodes.size
    values = np.ones((x.size, m1))
    derivs = np.zeros((x.size, m1))
    for k in range(m1):
        others = [nodes[j] for j in range(m1) if j != k]
        denom = float(np.prod([nodes[k] - o for o in others]))
        for j, o in enumerate(others):
            values[:, k] *= x - o
            prod = np.ones_like(x)
            for i, o2 in enumerate(others):
                if i != j:
                    prod = prod * (x - o2)
            derivs[:, k] += prod
        values[:, k] /= denom
        derivs[:, k] /= denom
    return values, derivs


@lru_cache(maxsize=16)
def basis(degree: int) -> Basis:
    """The :class:`Basis` of a degree (cached)."""
    nodes = np.linspace(0.0, 1.0, degree + 1)
    g, gw = np.polynomial.legendre.leggauss(degree)
    z = 0.5 * (g + 1.0)
    w = 0.5 * gw
    lz, dz = _lagrange(nodes, z)
    dm = np.array(
        [
            math.factorial(degree)
            / np.prod([nodes[k] - nodes[j] for j in range(degree + 1) if j != k])
            for k in range(degree + 1)
        ]
    )
    return Basis(degree, nodes, z, w, lz, dz, dm)


def node_values(u_flat: np.ndarray, num_intervals: int, degree: int, n: int) -> np.ndarray:
    """Node values per interval, shape (N, m + 1, n), the closing node wrapped to the first."""
    u = u_flat.reshape(num_intervals * degree, n)
    idx = (np.arange(num_intervals)[:, None] * degree + np.arange(degree + 1)[None, :]) % (
        num_intervals * degree
    )
    return u[idx]


def evaluate_profile(
    mesh: np.ndarray, nodes: np.ndarray, degree: int, tau: np.ndarray
) -> np.ndarray:
    """The piecewise polynomial at ``tau`` in [0, 1]: shape (len(tau), n).

    ``nodes`` holds all N m + 1 node values (closing node included), shape (N m + 1, n).
    """
    tau = np.asarray(tau, dtype=np.float64) % 1.0
    num = mesh.size - 1
    j = np.clip(np.searchsorted(mesh, tau, side="right") - 1, 0, num - 1)
    theta = (tau - mesh[j]) / (mesh[j + 1] - mesh[j])
    b = basis(degree)
    out = np.zeros((tau.size, nodes.shape[1]))
    vals, _ = _lagrange(b.nodes, theta)
    for k in range(degree + 1):
        out += vals[:, k : k + 1] * nodes[j * degree + k]
    return out


def interpolate_nodes(
    mesh: np.ndarray, nodes: np.ndarray, degree: int, new_mesh: np.ndarray, new_degree: int
) -> np.ndarray:
    """Node values (N' m' + 1, n) of the profile on another mesh and degree."""
    tau = new_mesh[:-1, None] + np.diff(new_mesh)[:, None] * basis(new_degree).nodes[None, :-1]
    values = evaluate_profile(mesh, nodes, degree, tau.ravel())
    return np.vstack([values, values[:1]])


def mesh_monitor(mesh: np.ndarray, nodes: np.ndarray, degree: int) -> tuple[np.ndarray, float]:
    """De Boor's monitor and the error estimate of a piecewise polynomial profile.

    The m-th derivative D_j is constant on each interval; the (m+1)-th is estimated from
    the jumps of D between neighbours (periodically), ``|u^(m+1)|_j ~ 2 |D_{j+1} - D_{j-1}|
    / (h_{j-1} + 2 h_j + h_{j+1})``. Returns the monitor ``|u^(m+1)|_j^(1/(m+1))`` per
    interval and the estimated largest local error ``max_j h_j^(m+1) |u^(m+1)|_j / (m+1)!``
    (in the units of the state).
    """
    b = basis(degree)
    h = np.diff(mesh)
    num = h.size
    per = np.stack([nodes[j * degree : j * degree + degree + 1] for j in range(num)])
    deriv_m = np.einsum("k,jkn->jn", b.dm, per) / h[:, None] ** degree
    nxt, prv = np.roll(deriv_m, -1, axis=0), np.roll(deriv_m, 1, axis=0)
    hn, hp = np.roll(h, -1), np.roll(h, 1)
    d1 = np.max(np.abs(nxt - prv), axis=1) * 2.0 / (hp + 2.0 * h + hn)
    monitor = d1 ** (1.0 / (degree + 1))
    error = float(np.max(h ** (degree + 1) * d1)) / math.factorial(degree + 1)
    return monitor, error


def equidistribute(mesh: np.ndarray, monitor: np.ndarray, num_intervals: int) -> np.ndarray:
    """A mesh of ``num_intervals`` pieces on which the (floored) monitor integrates evenly."""
    h = np.diff(mesh)
    total = float(np.sum(monitor * h))
    floor = 0.1 * total if total > 0 else 1.0
    density = monitor + floor  # keeps every region resolved (no zero-width pieces)
    cumulative = np.concatenate([[0.0], np.cumsum(density * h)])
    targets = np.linspace(0.0, cumulative[-1], num_intervals + 1)
    new = np.interp(targets, cumulative, mesh)
    new[0], new[-1] = 0.0, 1.0
    return new


def resample(
    mesh: np.ndarray, nodes: np.ndarray, num_intervals: int, degree: int, adapt: bool
) -> tuple[np.ndarray, np.ndarray]:
    """A profile moved onto ``num_intervals`` pieces of ``degree``: a mesh equidistributing
    the profile's monitor when ``adapt``, else a uniform one. Returns (mesh, nodes)."""
    old_degree = (nodes.shape[0] - 1) // (mesh.size - 1)
    if adapt:
        monitor, _ = mesh_monitor(mesh, nodes, old_degree)
        new_mesh = equidistribute(mesh, monitor, num_intervals)
    else:
        new_mesh = np.linspace(0.0, 1.0, num_intervals + 1)
    return new_mesh, interpolate_nodes(mesh, nodes, old_degree, new_mesh, degree)


class CollocationProblem:
    """The collocation equations of one mesh and degree, with an optional free parameter.

    Unknowns: ``x = [u (N m n), T]`` or ``[u, T, alpha]`` when ``free_parameter`` is set;
    ``u`` holds the node values (closing node excluded). The residual has N m n + 1
    entries (collocation, then the phase condition).

    Parameters
    ----------
    compiled
        The model's kernels.
    params
        Parameter vector (a copy is kept; the free parameter's entry is overwritten).
    mesh
        Mesh of [0, 1], shape (N + 1,).
    degree
        Polynomial degree m.
    reference
        Node values of the reference cycle for the phase condition, (N m + 1, n).
    free_parameter
        ``(origin, direction)``: the parameters are ``origin + alpha direction`` with
        ``alpha`` the last unknown (a parameter k: ``origin`` with entry k zero,
        ``direction = e_k``; a straight homotopy between two parameter vectors); or
        ``None`` (parameters fixed).
    """

    def __init__(
        self,
        compiled: CompiledModel,
        params: np.ndarray,
        mesh: np.ndarray,
        degree: int,
        reference: np.ndarray,
        free_parameter: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.compiled = compiled
        self.params = np.array(params, dtype=np.float64)
        self.mesh = np.asarray(mesh, dtype=np.float64)
        self.h = np.diff(self.mesh)
        self.degree = degree
        self.num_intervals = self.h.size
        self.n = compiled.model.num_variables
        self.free_parameter = free_parameter
        self.basis = basis(degree)
        self.num_nodes = self.num_intervals * degree
        self.size_u = self.num_nodes * self.n
        self.num_rhs = 0
        self.num_jac = 0
        n, m, big_n = self.n, degree, self.num_intervals
        ref = node_values(reference[:-1].ravel(), big_n, m, n)
        # phase row: d/du_{j,k} = sum_i w_i L_k(z_i) (sum_l L_l'(z_i) v_{j,l})
        dref = np.einsum("il,jln->jin", self.basis.dz, ref)  # (N, m, n)
        grad = np.einsum("i,ik,jin->jkn", self.basis.w, self.basis.lz, dref)  # (N, m+1, n)
        phase = np.zeros((self.num_nodes + 1, n))
        for k in range(m + 1):
            phase[np.arange(big_n) * m + k] += grad[:, k]
        phase[0] += phase[-1]
        self.phase_row = phase[:-1].ravel()
        # sparsity pattern of the collocation blocks, data order (j, i, k, a, b)
        j_, i_, k_, a_, b_ = np.meshgrid(
            np.arange(big_n), np.arange(m), np.arange(m + 1), np.arange(n), np.arange(n),
            indexing="ij",
        )  # fmt: skip
        self._rows = ((j_ * m + i_) * n + a_).ravel()
        self._cols = (((j_ * m + k_) % self.num_nodes) * n + b_).ravel()
        self._eye = np.eye(n)

    # ------------------------------------------------------------------ evaluation
    def split(self, x: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(node values (N, m+1, n), period, params) of an unknown vector."""
        p = self.params
        if self.free_parameter is not None:
            origin, direction = self.free_parameter
            p = origin + float(x[self.size_u + 1]) * direction
        return (
            node_values(x[: self.size_u], self.num_intervals, self.degree, self.n),
            float(x[self.size_u]),
            p,
        )

    def gauss_values(self, per: np.ndarray) -> np.ndarray:
        """u at the Gauss points, shape (N, m, n)."""
        return np.einsum("ik,jkn->jin", self.basis.lz, per)

    def _f(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = np.empty_like(y)
        rhs = self.compiled.rhs
        with np.errstate(all="ignore"):
            for r in range(y.shape[0]):
                rhs(0.0, y[r], p, out[r])
        self.num_rhs += y.shape[0]
        return out

    def _df(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = np.empty((y.shape[0], self.n, self.n))
        jac = self.compiled.jac
        with np.errstate(all="ignore"):
            for r in range(y.shape[0]):
                jac(0.0, y[r], p, out[r])
        self.num_jac += y.shape[0]
        return out

    def residual(self, x: np.ndarray) -> np.ndarray:
        """Collocation residuals (N m n) and the phase condition, shape (N m n + 1,)."""
        per, period, p = self.split(x)
        uz = np.ascontiguousarray(self.gauss_values(per).reshape(-1, self.n))
        fz = self._f(uz, p).reshape(self.num_intervals, self.degree, self.n)
        du = np.einsum("ik,jkn->jin", self.basis.dz, per)
        col = du - (self.h * period)[:, None, None] * fz
        return np.concatenate([col.ravel(), [float(self.phase_row @ x[: self.size_u])]])

    def jacobian(self, x: np.ndarray) -> sp.csc_matrix:
        """Sparse Jacobian, shape (N m n + 1, N m n + 1 [+ 1])."""
        per, period, p = self.split(x)
        n, m, big_n = self.n, self.degree, self.num_intervals
        uz = np.ascontiguousarray(self.gauss_values(per).reshape(-1, n))
        a = self._df(uz, p).reshape(big_n, m, n, n)
        fz = self._f(uz, p).reshape(big_n, m, n)
        blocks = self.basis.dz[None, :, :, None, None] * self._eye[None, None, None] - (
            (self.h * period)[:, None, None, None, None]
            * self.basis.lz[None, :, :, None, None]
            * a[:, :, None, :, :]
        )
        rows = [self._rows]
        cols = [self._cols]
        data = [blocks.ravel()]
        num_rows = self.size_u + 1
        col_rows = np.arange(self.size_u)
        rows.append(col_rows)
        cols.append(np.full(self.size_u, self.size_u))
        data.append((-(self.h[:, None, None]) * fz).ravel())
        nz = np.flatnonzero(self.phase_row)
        rows.append(np.full(nz.size, self.size_u))
        cols.append(nz)
        data.append(self.phase_row[nz])
        num_cols = self.size_u + 1
        if self.free_parameter is not None:
            rows.append(col_rows)
            cols.append(np.full(self.size_u, self.size_u + 1))
            data.append(
                (-(self.h * period)[:, None, None] * self.parameter_derivative(uz, p)).ravel()
            )
            num_cols += 1
        return sp.csc_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
            shape=(num_rows, num_cols),
        )

    def parameter_derivative(self, uz: np.ndarray, p: np.ndarray) -> np.ndarray:
        """df/dalpha at the Gauss points by central differences, shape (N, m, n).

        The step is 1e-6 max(1, |p|): the error, O(step^2) plus rounding O(eps / step),
        stays near 1e-10 relative, far below what Newton's convergence notices.
        """
        assert self.free_parameter is not None
        direction = self.free_parameter[1]
        step = 1e-6 * max(1.0, float(np.max(np.abs(p))))
        hi, lo = p + step * direction, p - step * direction
        diff = (self._f(uz, hi) - self._f(uz, lo)) / (2.0 * step)
        return diff.reshape(self.num_intervals, self.degree, self.n)

    def blocks(self, x: np.ndarray) -> np.ndarray:
        """Linearised collocation blocks B[j, i, k] (n x n) at fixed period: (N, m, m+1, n, n)."""
        per, period, p = self.split(x)
        n, m, big_n = self.n, self.degree, self.num_intervals
        uz = np.ascontiguousarray(self.gauss_values(per).reshape(-1, n))
        a = self._df(uz, p).reshape(big_n, m, n, n)
        return self.basis.dz[None, :, :, None, None] * self._eye[None, None, None] - (
            (self.h * period)[:, None, None, None, None]
            * self.basis.lz[None, :, :, None, None]
            * a[:, :, None, :, :]
        )

    def newton(
        self, x0: np.ndarray, *, tol: float, max_iterations: int
    ) -> tuple[np.ndarray, bool, int, float]:
        """Newton's method on the square system (no free parameter).

        Returns ``(x, converged, iterations, final residual norm)``. Steps are damped
        (halved up to 8 times) when the residual would grow by more than a factor 2.
        """
        x = np.array(x0, dtype=np.float64)
        res = self.residual(x)
        norm = float(np.max(np.abs(res)))
        for it in range(1, max_iterations + 1):
            if not np.isfinite(norm):
                return x, False, it, norm
            jac = self.jacobian(x)
            try:
                # minimum degree on A^T + A: a third of COLAMD's fill on this cyclic band
                dx = spla.splu(jac, permc_spec="MMD_AT_PLUS_A").solve(-res)
            except RuntimeError:  # exactly singular
                return x, False, it, norm
            if not np.all(np.isfinite(dx)):
                return x, False, it, norm
            lam = 1.0
            for _ in range(8):
                trial = x + lam * dx
                res_t = self.residual(trial)
                norm_t = float(np.max(np.abs(res_t)))
                if np.isfinite(norm_t) and norm_t <= max(2.0 * norm, 1e-300):
                    break
                lam *= 0.5
            x, res, norm = trial, res_t, norm_t
            scale = 1.0 + float(np.max(np.abs(x)))
            step = lam * float(np.max(np.abs(dx)))
            if step <= tol * scale and norm <= 1e3 * tol * scale:
                return x, True, it, norm
            if norm <= 1e-2 * tol * scale and step <= math.sqrt(tol) * scale:
                return x, True, it, norm
        return x, False, max_iterations, norm
