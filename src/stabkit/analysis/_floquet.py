"""Floquet multipliers of a collocated periodic orbit by condensation of parameters.

On each mesh interval j the linearised collocation equations at fixed period,
sum_k B[j, i, k] v_{j,k} = 0 (i = 1..m), determine the interior and end node values from
the first: [v_{j,1}; ...; v_{j,m}] = -B_{j,int}^{-1} B_{j,0} v_{j,0}. The last block row of
that map is the transfer matrix P_j over the interval, and the monodromy matrix of the
discretisation is M = P_{N-1} ... P_0. Its eigenvalues are the Floquet multipliers, as
accurate as the collocation itself (Gauss collocation is an implicit Runge-Kutta method
of order 2m); the trivial multiplier 1 of an autonomous flow is reproduced to that
accuracy (Doedel, Keller and Kernevez 1991; Fairgrieve and Jepson 1991; Kuznetsov,
*Elements of Applied Bifurcation Theory*, 3rd ed., Sections 1.5 and 10.3).

For strongly unstable cycles the product loses the small multipliers (its entries are as
large as the largest multiplier), so when the transfer matrices grow by more than
``growth_bound`` they are grouped into products of bounded growth and the multipliers are
taken by QZ from the cyclic pencil of the groups, which never forms the full product.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["FloquetData", "eigenfunction", "floquet_from_blocks"]


@dataclasses.dataclass(frozen=True, eq=False)
class FloquetData:
    """Monodromy matrix, multipliers and the per-interval condensation maps.

    ``maps[j]`` has shape (m n, n): the node values v_{j,1..m} from v_{j,0}.
    ``multipliers`` are sorted by modulus, largest first; ``trivial`` is the index of the
    one nearest 1.
    """

    monodromy: np.ndarray
    multipliers: np.ndarray
    vectors: np.ndarray
    trivial: int
    maps: np.ndarray


def _groups(transfers: np.ndarray, bound: float) -> list[np.ndarray]:
    """Products of consecutive transfer matrices, each grown by at most ``bound`` in norm."""
    out: list[np.ndarray] = []
    current = np.eye(transfers.shape[1])
    growth = 1.0  # bound on the norm of ``current``
    for p in transfers:
        step = max(float(np.linalg.norm(p, 2)), 1.0)
        if growth * step > bound and growth > 1.0:
            out.append(current)
            current, growth = np.eye(p.shape[0]), 1.0
        current = p @ current
        growth *= step
    out.append(current)
    return out


def _pencil(groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers and first-block eigenvectors of the cyclic pencil of transfer matrices.

    z = (v_0, ..., v_{K-1}) with v_j = Q_{j-1} v_{j-1} and mu v_0 = Q_{K-1} v_{K-1}:
    A z = mu B z with B = diag(I, 0, ..., 0). QZ on the pencil never forms the product,
    so small multipliers keep their accuracy beside very large ones (Fairgrieve and Jepson
    1991; Lust 2001).
    """
    import scipy.linalg

    k, n = len(groups), groups[0].shape[0]
    a = np.zeros((k * n, k * n))
    b = np.zeros((k * n, k * n))
    b[:n, :n] = np.eye(n)
    a[:n, (k - 1) * n :] = groups[-1]
    for j in range(1, k):
        a[j * n : (j + 1) * n, (j - 1) * n : j * n] = groups[j - 1]
        a[j * n : (j + 1) * n, j * n : (j + 1) * n] = -np.eye(n)
    w, vr = scipy.linalg.eig(a, b, homogeneous_eigvals=True)
    alpha, beta = w
    finiteness = np.abs(beta) / np.maximum(np.hypot(np.abs(alpha), np.abs(beta)), 1e-300)
    keep = np.argsort(-finiteness)[:n]
    values = alpha[keep] / beta[keep]
    vectors = vr[:n, keep]
    norms = np.linalg.norm(vectors, axis=0)
    return values, vectors / np.where(norms > 0, norms, 1.0)


def floquet_from_blocks(blocks: np.ndarray, *, growth_bound: float = 1e3) -> FloquetData:
    """Monodromy and multipliers from the blocks B, shape (N, m, m + 1, n, n).

    When the transfer matrices grow by more than ``growth_bound`` over the period, the
    multipliers come from the cyclic pencil of grouped transfer matrices (see
    :func:`_pencil`) instead of the eigenvalues of their product.
    """
    big_n, m, _, n, _ = blocks.shape
    b0 = blocks[:, :, 0].reshape(big_n, m * n, n)
    bint = blocks[:, :, 1:].transpose(0, 1, 3, 2, 4).reshape(big_n, m * n, m * n)
    maps = -np.linalg.solve(bint, b0)
    transfers = maps[:, -n:, :]
    groups = _groups(transfers, growth_bound)
    monodromy = np.eye(n)
    for q in groups:
        monodromy = q @ monodromy
    if len(groups) == 1:
        values, vectors = np.linalg.eig(monodromy)
    else:
        values, vectors = _pencil(groups)
    order = np.lexsort((-values.imag, -np.abs(values)))
    values, vectors = values[order].astype(np.complex128), vectors[:, order].astype(np.complex128)
    trivial = int(np.argmin(np.abs(values - 1.0)))
    return FloquetData(monodromy, values, vectors, trivial, maps)


def eigenfunction(data: FloquetData, v0: np.ndarray, degree: int) -> np.ndarray:
    """Node values (N m + 1, n) of the solution of the linearised equation from ``v0``."""
    big_n, _, n = data.maps.shape
    out = np.empty((big_n * degree + 1, n), dtype=np.result_type(v0, np.float64))
    v = np.asarray(v0)
    for j in range(big_n):
        out[j * degree] = v
        inner = (data.maps[j] @ v).reshape(degree, n)
        out[j * degree + 1 : (j + 1) * degree + 1] = inner
        v = inner[-1]
    return out
