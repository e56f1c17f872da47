"""Condensed representational dissimilarity matrices through one Gram product.

``scipy.spatial.distance.pdist`` loops over pairs in C; a BLAS Gram product
followed by one pass over the upper triangle gives the same distances (to rounding,
about 1e-16 relative) many times faster.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["METRICS", "condensed_rdm"]

METRICS = ("cosine", "correlation", "euclidean")


@numba.njit(cache=True, nogil=True)
def _fill_cosine(g: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n = g.shape[0]
    inv = np.empty(n)
    for i in range(n):
        d = g[i, i]
        inv[i] = 1.0 / np.sqrt(d) if d > 0.0 else np.nan
    k = 0
    for i in range(n):
        gi = g[i]
        ii = inv[i]
        for j in range(i + 1, n):
            out[k] = 1.0 - gi[j] * ii * inv[j]
            k += 1


@numba.njit(cache=True, nogil=True)
def _fill_euclidean(g: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n = g.shape[0]
    k = 0
    for i in range(n):
        gi = g[i]
        a = gi[i]
        for j in range(i + 1, n):
            s = a + g[j, j] - 2.0 * gi[j]
            out[k] = np.sqrt(s) if s > 0.0 else 0.0
            k += 1


def condensed_rdm(x: np.ndarray, metric: str, out: np.ndarray | None = None) -> np.ndarray:
    """Condensed distance vector of the rows of ``x`` (order as ``pdist``).

    ``cosine``: 1 - cos angle; ``correlation``: cosine of the row-centred rows;
    ``euclidean``: Euclidean distance (shifted by the column mean first, which leaves
    distances unchanged and keeps the Gram product well conditioned). Rows of zero
    norm give NaN under cosine/correlation.
    """
    n = x.shape[0]
    if out is None:
        out = np.empty(n * (n - 1) // 2)
    if metric == "correlation":
        x = x - x.mean(axis=1, keepdims=True)
    elif metric == "euclidean":
        x = x - x.mean(axis=0, keepdims=True)
    g = x @ x.T
    if metric == "euclidean":
        _fill_euclidean(g, out)
    else:
        _fill_cosine(g, out)
    return out


@numba.njit(cache=True, nogil=True)
def _fill_cosine_pair(
    gfull: np.ndarray, g1: np.ndarray, extra: np.ndarray, out1: np.ndarray, out2: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Cosine RDMs of two complementary column sets from G_full and G_1 (upper parts).

    G_2 = G_full - G_1 - e e^T, where ``e`` is a column in neither set (or zeros).
    """
    n = g1.shape[0]
    inv1 = np.empty(n)
    inv2 = np.empty(n)
    for i in range(n):
        d1 = g1[i, i]
        d2 = gfull[i, i] - d1 - extra[i] * extra[i]
        inv1[i] = 1.0 / np.sqrt(d1) if d1 > 0.0 else np.nan
        inv2[i] = 1.0 / np.sqrt(d2) if d2 > 0.0 else np.nan
    k = 0
    for i in range(n):
        a1 = inv1[i]
        a2 = inv2[i]
        ei = extra[i]
        for j in range(i + 1, n):
            h1 = g1[i, j]
            out1[k] = 1.0 - h1 * a1 * inv1[j]
            out2[k] = 1.0 - (gfull[i, j] - h1 - ei * extra[j]) * a2 * inv2[j]
            k += 1


def gram_upper(x: np.ndarray) -> np.ndarray:
    """``x @ x.T`` with only the upper triangle (and diagonal) valid, C-ordered.

    One symmetric rank-k update (BLAS ``syrk``): half the work of a general product.
    """
    from scipy.linalg.blas import dsyrk

    r = dsyrk(1.0, np.asfortranarray(x.T), trans=1, lower=1)
    return np.asarray(r.T)


def cosine_split_rdms(
    x: np.ndarray, gfull: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine RDMs of ``x[:, first]`` and ``x[:, second]`` (complementary up to one column).

    Uses G_2 = G_full - G_1 (- the left-over column) when every row keeps at least a
    1e-3 share of its squared norm in each half; otherwise both Grams are formed
    directly. Rows of ``x`` should have unit norm, so rounding is ~1e-16 absolute.
    """
    n, d = x.shape
    covered = np.zeros(d, dtype=bool)
    covered[first] = True
    covered[second] = True
    rest = np.flatnonzero(~covered)
    if rest.size > 1 or first.size + second.size + rest.size != d:
        return condensed_rdm(x[:, first], "cosine"), condensed_rdm(x[:, second], "cosine")
    extra = x[:, rest[0]].copy() if rest.size else np.zeros(n)
    g1 = gram_upper(x[:, first])
    share = np.diagonal(gfull) - np.diagonal(g1) - extra * extra
    if share.min() < 1e-3 * np.diagonal(gfull).max() or np.diagonal(g1).min() <= 0:
        return condensed_rdm(x[:, first], "cosine"), condensed_rdm(x[:, second], "cosine")
    m = n * (n - 1) // 2
    out1 = np.empty(m)
    out2 = np.empty(m)
    _fill_cosine_pair(gfull, g1, extra, out1, out2)
    return out1, out2
