"""Fast Spearman correlation of long vectors (condensed RDMs).

Ranks are computed by a bucket sort: the value range is cut into about ``n/2``
equal buckets (a monotone map, so bucket order is value order), elements are
scattered by a counting sort and each bucket is sorted on its own. For the smooth
distance distributions of RDMs this is linear time and several times faster than a
comparison sort. Ties get average ranks, as :func:`scipy.stats.rankdata`; without
ties the statistic is computed from integer rank differences, exactly.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["average_ranks", "spearman"]


@numba.njit(cache=True, nogil=True)
def _ranks(v: np.ndarray, out: np.ndarray) -> bool:  # pragma: no cover - compiled
    n = v.size
    lo = v[0]
    hi = v[0]
    for i in range(n):
        x = v[i]
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    if hi == lo:
        for i in range(n):
            out[i] = (n + 1) / 2.0
        return n > 1
    nb = n // 4 + 1
    scale = (nb - 1) / (hi - lo)
    bucket = np.empty(n, dtype=np.int32)
    start = np.zeros(nb + 1, dtype=np.int64)
    for i in range(n):
        b = int((v[i] - lo) * scale)
        if b >= nb:
            b = nb - 1
        bucket[i] = b
        start[b + 1] += 1
    for b in range(nb):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    keys = np.empty(n)
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        b = bucket[i]
        f = fill[b]
        keys[f] = v[i]
        order[f] = i
        fill[b] = f + 1
    for b in range(nb):
        s = start[b]
        e = start[b + 1]
        m = e - s
        if m <= 1:
            continue
        if m <= 48:
            for k in range(s + 1, e):
                val = keys[k]
                idx = order[k]
                j = k - 1
                while j >= s and keys[j] > val:
                    keys[j + 1] = keys[j]
                    order[j + 1] = order[j]
                    j -= 1
                keys[j + 1] = val
                order[j + 1] = idx
        else:
            perm = np.argsort(keys[s:e], kind="mergesort")
            sk = keys[s:e][perm]
            so = order[s:e][perm]
            keys[s:e] = sk
            order[s:e] = so
    ties = False
    i = 0
    while i < n:
        j = i
        while j + 1 < n and keys[j + 1] == keys[i]:
            j += 1
        if j > i:
            ties = True
            r = (i + j) / 2.0 + 1.0
            for k in range(i, j + 1):
                out[order[k]] = r
        else:
            out[order[i]] = i + 1.0
        i = j + 1
    return ties


@numba.njit(cache=True, nogil=True)
def _spearman_from_ranks(
    r1: np.ndarray, r2: np.ndarray, exact: bool
) -> float:  # pragma: no cover - compiled
    n = r1.size
    if exact:
        s = 0
        for i in range(n):
            d = int(r1[i]) - int(r2[i])
            s += d * d
        nf = float(n)
        return 1.0 - 6.0 * float(s) / (nf * (nf * nf - 1.0))
    m = (n + 1) / 2.0
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for i in range(n):
        a = r1[i] - m
        b = r2[i] - m
        sxy += a * b
        sxx += a * a
        syy += b * b
    if sxx <= 0.0 or syy <= 0.0:
        return np.nan
    rho = sxy / np.sqrt(sxx * syy)
    return min(1.0, max(-1.0, rho))


def average_ranks(v: np.ndarray) -> tuple[np.ndarray, bool]:
    """Average ranks (1-based, as ``scipy.stats.rankdata``) and whether ties occurred."""
    v = np.ascontiguousarray(v, dtype=np.float64)
    out = np.empty(v.size)
    if v.size == 0:
        return out, False
    ties = bool(_ranks(v, out))
    return out, ties


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two finite 1-D arrays of equal length.

    Returns NaN when either input is constant or shorter than 2.
    """
    if x.size < 2:
        return float("nan")
    rx, tx = average_ranks(x)
    ry, ty = average_ranks(y)
    if np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        return float("nan")
    return float(_spearman_from_ranks(rx, ry, not (tx or ty)))
