"""Input conversion and validation shared by :mod:`stabkit.represent`.

Arrays arrive as numpy or torch tensors (torch is never imported here: a tensor is
recognised by its ``detach``/``cpu``/``numpy`` methods), float32 or float64, and
leave as C-contiguous float64 numpy arrays.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from stabkit.errors import InputError

__all__ = ["NAN_POLICIES", "as_matrix", "check_min_rows", "handle_nan", "paired"]

NAN_POLICIES = ("raise", "omit")


def as_matrix(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a 2-D float64 numpy array (numpy or torch input)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InputError(f"{name}: cannot convert {type(x).__name__} to an array") from exc
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{name}: dtype {arr.dtype} is not numeric; pass a float32/float64 array")
    if arr.ndim == 1:
        raise InputError(
            f"{name}: got a 1-D array of shape {arr.shape}; pass (n_samples, n_features), "
            "e.g. x.reshape(-1, 1)"
        )
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D (n_samples, n_features) array, got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def handle_nan(
    arrays: list[np.ndarray], names: list[str], nan_policy: str
) -> tuple[list[np.ndarray], int]:
    """Apply the NaN policy row-wise across paired arrays.

    Returns the arrays and the number of rows dropped. ``"raise"`` (default) raises
    on any non-finite value; ``"omit"`` drops every row that is non-finite in any of
    the arrays (rows are paired, so a row is dropped from all of them).
    """
    if nan_policy not in NAN_POLICIES:
        raise InputError(f"nan_policy={nan_policy!r}: use one of {NAN_POLICIES}")
    bad = np.zeros(arrays[0].shape[0], dtype=bool)
    for arr in arrays:
        bad |= ~np.isfinite(arr).all(axis=1)
    if not bad.any():
        return arrays, 0
    if nan_policy == "raise":
        where = []
        for arr, name in zip(arrays, names, strict=True):
            rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
            if rows.size:
                where.append(f"{name} rows {rows[:5].tolist()}{'...' if rows.size > 5 else ''}")
        raise InputError(
            "non-finite values (NaN/inf) in " + "; ".join(where) + "; clean them or pass "
            "nan_policy='omit' to drop those rows"
        )
    return [arr[~bad] for arr in arrays], int(bad.sum())


def paired(x: np.ndarray, y: np.ndarray, xname: str = "X", yname: str = "Y") -> None:
    """Raise unless ``x`` and ``y`` describe the same rows."""
    if x.shape[0] != y.shape[0]:
        raise InputError(
            f"{xname} has {x.shape[0]} rows but {yname} has {y.shape[0]}; the rows of two "
            "representations must be the same observations in the same order"
        )


def check_min_rows(n: int, minimum: int, what: str) -> None:
    """Raise when fewer than ``minimum`` rows are available."""
    if n < minimum:
        raise InputError(f"{what} needs at least {minimum} samples (rows), got {n}")


def constant_columns(x: np.ndarray) -> np.ndarray:
    """Indices of columns whose values are all equal."""
    return np.flatnonzero(np.ptp(x, axis=0) == 0.0)


def pair_index(rows: np.ndarray, n_items: int) -> np.ndarray:
    """Condensed indices of the distinct-item pairs of a bootstrap resample."""
    a, b = np.triu_indices(rows.size, k=1)
    a = rows[a]
    b = rows[b]
    keep = a != b
    lo = np.minimum(a[keep], b[keep])
    hi = np.maximum(a[keep], b[keep])
    return n_items * lo - lo * (lo + 1) // 2 + (hi - lo - 1)


def interval(scores: list[float], level: float) -> tuple[float, float]:
    if not scores:
        return float("nan"), float("nan")
    alpha = 100 * (1 - level) / 2
    return float(np.percentile(scores, alpha)), float(np.percentile(scores, 100 - alpha))


def thread_map(fn: Any, items: list[Any], n_jobs: int) -> list[float]:
    if n_jobs == 1 or len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(fn, items))


def n_jobs_of(n_jobs: int) -> int:
    import os

    if n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise InputError(f"n_jobs={n_jobs}: use a positive thread count or -1 for all cores")
    return n_jobs
