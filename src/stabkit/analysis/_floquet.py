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


def floquet_from_blocks(blocks: np.ndarray) -> FloquetData:
    """Monodromy and multipliers from the blocks B, shape (N, m, m + 1, n, n)."""
    big_n, m, _, n, _ = blocks.shape
    maps = np.empty((big_n, m * n, n))
    monodromy = np.eye(n)
    for j in range(big_n):
        b = blocks[j]  # (m, m+1, n, n)
        b0 = b[:, 0].reshape(m * n, n)
        bint = b[:, 1:].transpose(0, 2, 1, 3).reshape(m * n, m * n)
        maps[j] = -np.linalg.solve(bint, b0)
        monodromy = maps[j][-n:] @ monodromy
    values, vectors = np.linalg.eig(monodromy)
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
