"""Basin fractions, their standard errors, basin entropies, and a DBSCAN for features.

Basin entropy (Daza, Wagemakers, Georgeot, Guéry-Odelin & Sanjuán 2016, Sci. Rep. 6,
31416): cover the label image with boxes of ``box_size`` points per side; in box ``i`` the
labels occur with frequencies ``p_ij`` and the box's Gibbs entropy is
``S_i = -sum_j p_ij ln p_ij``. The basin entropy is ``S_b = mean_i S_i`` over all boxes,
the boundary basin entropy ``S_bb = mean_i S_i`` over the boxes that hold more than one
label. ``S_b = 0`` for a single basin; with ``N_A`` labels ``S_b <= ln N_A``;
``S_bb > ln 2`` is a sufficient condition for a fractal boundary.
"""

from __future__ import annotations

import math

import numpy as np

from stabkit.errors import InputError

__all__ = ["basin_entropy", "boundary_fraction", "dbscan", "fractions_with_errors"]


def fractions_with_errors(labels: np.ndarray) -> tuple[dict[int, float], dict[int, float]]:
    """Fraction of each label and its binomial standard error ``sqrt(f (1 - f) / N)``."""
    flat = np.asarray(labels).ravel()
    total = flat.size
    if total == 0:
        return {}, {}
    values, counts = np.unique(flat, return_counts=True)
    fractions: dict[int, float] = {}
    errors: dict[int, float] = {}
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        f = c / total
        fractions[int(v)] = f
        errors[int(v)] = math.sqrt(f * (1.0 - f) / total)
    return fractions, errors


def basin_entropy(labels: np.ndarray, box_size: int = 5) -> tuple[float, float]:
    """Basin entropy and boundary basin entropy of a label image (any dimension).

    Parameters
    ----------
    labels
        Integer labels on a grid, any shape ``(n_1, ..., n_d)``.
    box_size
        Points per side of the boxes (Daza et al. use 5). Boxes that would stick out
        of the grid are dropped.

    Returns
    -------
    (S_b, S_bb)
        Natural-log entropies; ``S_bb`` is 0 when no box holds two labels.

    Examples
    --------
    >>> import numpy as np
    >>> basin_entropy(np.zeros((10, 10), dtype=int))
    (0.0, 0.0)
    """
    arr = np.asarray(labels)
    if isinstance(box_size, bool) or not isinstance(box_size, (int, np.integer)) or box_size < 1:
        raise InputError(f"box_size={box_size!r}: expected an integer >= 1")
    if any(s < box_size for s in arr.shape):
        raise InputError(
            f"basin entropy: the grid of shape {arr.shape} is smaller than one box of "
            f"{box_size} points per side; use a finer grid or a smaller box_size"
        )
    trimmed = arr[tuple(slice(0, (s // box_size) * box_size) for s in arr.shape)]
    shape: list[int] = []
    for s in trimmed.shape:
        shape += [s // box_size, box_size]
    blocks = trimmed.reshape(shape)
    d = arr.ndim
    order = [2 * i for i in range(d)] + [2 * i + 1 for i in range(d)]
    blocks = blocks.transpose(order).reshape(-1, box_size**d)
    _, inverse = np.unique(blocks, return_inverse=True)
    inverse = inverse.reshape(blocks.shape)
    num_boxes, per_box = blocks.shape
    num_labels = int(inverse.max()) + 1
    counts = np.zeros((num_boxes, num_labels))
    np.add.at(counts, (np.repeat(np.arange(num_boxes), per_box), inverse.ravel()), 1.0)
    p = counts / per_box
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    entropy = terms.sum(axis=1)
    boundary = (counts > 0).sum(axis=1) > 1
    s_b = float(entropy.mean())
    s_bb = float(entropy[boundary].mean()) if boundary.any() else 0.0
    return s_b, s_bb


def boundary_fraction(labels: np.ndarray) -> float:
    """Fraction of grid points with a neighbour (along any axis) of another label."""
    arr = np.asarray(labels)
    mask = np.zeros(arr.shape, dtype=bool)
    for axis in range(arr.ndim):
        diff = np.diff(arr, axis=axis) != 0
        lo = [slice(None)] * arr.ndim
        hi = [slice(None)] * arr.ndim
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        mask[tuple(lo)] |= diff
        mask[tuple(hi)] |= diff
    return float(mask.mean()) if arr.size else 0.0


def dbscan(points: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """Density-based clustering (Ester et al. 1996) with a k-d tree for the neighbours.

    Parameters
    ----------
    points
        ``(m, f)`` feature vectors (already scaled).
    eps
        Neighbourhood radius (Euclidean).
    min_samples
        Points (itself included) within ``eps`` that make a point a core point.

    Returns
    -------
    numpy.ndarray
        ``(m,)`` cluster ids ``0, 1, ...`` ordered by first appearance; ``-1`` for noise.

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.array([[0.0], [0.01], [0.02], [5.0], [5.01], [5.02], [9.0]])
    >>> dbscan(pts, eps=0.1, min_samples=2).tolist()
    [0, 0, 0, 1, 1, 1, -1]
    """
    from scipy.spatial import cKDTree

    m = points.shape[0]
    out = np.full(m, -1, dtype=np.int64)
    if m == 0:
        return out
    tree = cKDTree(points)
    neighbours = tree.query_ball_point(points, r=eps)
    core = np.array([len(nb) >= min_samples for nb in neighbours])
    cluster = 0
    for i in range(m):
        if out[i] != -1 or not core[i]:
            continue
        out[i] = cluster
        stack = [i]
        while stack:
            j = stack.pop()
            if not core[j]:
                continue
            for q in neighbours[j]:
                if out[q] == -1:
                    out[q] = cluster
                    stack.append(q)
        cluster += 1
    return out
