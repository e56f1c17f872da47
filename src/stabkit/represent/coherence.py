"""Perturbation coherence of single-cell (or any population) shifts.

For perturbed cells x_i and control cells with centroid c, the shift vectors are
s_i = x_i - c with mean m; coherence S_p = mean_i <s_i, m/|m|> / |s_i| is the mean
cosine of the cell shifts to the mean shift, magnitude M_p = |m|. Definitions and
defaults follow shesha-geometry 0.3.0 (``shesha.bio``) and arXiv:2604.16642.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from stabkit.errors import InputError
from stabkit.represent._arrays import as_matrix, check_min_rows, handle_nan
from stabkit.represent._arrays import interval as _interval
from stabkit.represent._result import RepresentationResult
from stabkit.results import Provenance, Stats

__all__ = [
    "COHERENCE_METHODS",
    "discordance",
    "perturbation_coherence",
    "split_half_reproducibility",
]

COHERENCE_METHODS = ("standard", "whitened", "knn")
_EPS = 1e-12


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), _EPS)


def _shifts(
    cells: np.ndarray,
    controls: np.ndarray,
    method: str,
    k: int,
    regularization: float,
    knn_metric: str = "cosine",
) -> np.ndarray:
    if method == "standard":
        return cells - controls.mean(axis=0)
    if method == "whitened":
        cov = np.cov(controls.T) + regularization * np.eye(controls.shape[1])
        vals, vecs = np.linalg.eigh(cov)
        w = vecs @ np.diag(1.0 / np.sqrt(np.maximum(vals, regularization))) @ vecs.T
        return cells @ w.T - w @ controls.mean(axis=0)
    from scipy.spatial import cKDTree

    kk = min(k, controls.shape[0])
    if knn_metric == "cosine":  # cosine neighbours = Euclidean ones of unit rows
        _, idx = cKDTree(_unit(controls)).query(_unit(cells), k=kk)
    else:
        _, idx = cKDTree(controls).query(cells, k=kk)
    idx = np.asarray(idx).reshape(cells.shape[0], kk)
    return cells - controls[idx].mean(axis=1)


def _coherence(shifts: np.ndarray, drop_small: bool) -> float:
    mean = shifts.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < _EPS:
        return 0.0
    unit = mean / norm
    lengths = np.linalg.norm(shifts, axis=1)
    if drop_small:
        keep = lengths > _EPS
        if keep.sum() < 5:
            return 0.0
        return float(np.mean(shifts[keep] @ unit / lengths[keep]))
    return float(np.mean(shifts @ unit / np.maximum(lengths, _EPS)))


def _value(
    cells: np.ndarray, controls: np.ndarray, method: str, k: int, reg: float, knn_metric: str
) -> float:
    shifts = _shifts(cells, controls, method, k, reg, knn_metric)
    return _coherence(shifts, drop_small=method != "standard")


def split_half_reproducibility(
    cells: Any, controls: Any, *, n_splits: int = 50, seed: int | None = 0, min_cells: int = 30
) -> float:
    """Mean cosine between the mean shifts of random 50/50 halves of the cells.

    Parameters
    ----------
    cells, controls : arrays (n_cells, d), (n_controls, d)
    n_splits : int
        Random halvings (``default_rng(seed).permutation`` each, as shesha-geometry).
    min_cells : int
        Fewer cells give NaN.

    Returns
    -------
    float
        In [-1, 1]; NaN with fewer than ``min_cells`` cells.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ctrl = rng.standard_normal((100, 5))
    >>> pert = rng.standard_normal((60, 5)) + [4, 0, 0, 0, 0]
    >>> split_half_reproducibility(pert, ctrl) > 0.9
    True
    """
    x = as_matrix(cells, "cells")
    c = as_matrix(controls, "controls").mean(axis=0)
    n = x.shape[0]
    if n < min_cells:
        return float("nan")
    rng = np.random.default_rng(seed)
    half = n // 2
    cos = np.empty(n_splits)
    for i in range(n_splits):
        perm = rng.permutation(n)
        a = (x[perm[:half]] - c).mean(axis=0)
        b = (x[perm[half : 2 * half]] - c).mean(axis=0)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        cos[i] = 0.0 if na < _EPS or nb < _EPS else float(a @ b / (na * nb))
    return float(cos.mean())


def perturbation_coherence(
    cells: Any,
    controls: Any,
    *,
    method: str = "standard",
    k: int = 50,
    knn_metric: str = "cosine",
    regularization: float = 1e-6,
    max_samples: int | None = 1000,
    seed: int | None = 0,
    n_bootstrap: int = 0,
    ci: float = 0.95,
    n_split_half: int = 50,
    nan_policy: str = "raise",
    **kwargs: Any,
) -> RepresentationResult:
    """Coherence S_p of a perturbation's cell shifts, with magnitude and diagnostics.

    Parameters
    ----------
    cells : array (n_cells, d), numpy or torch
        Perturbed cells in an embedding (e.g. 50 PCs).
    controls : array (n_controls, d)
        Control cells in the same embedding.
    method : {"standard", "whitened", "knn"}
        Shifts from the control centroid; in control-whitened coordinates
        (W = (Sigma_c + reg I)^(-1/2)); or from the mean of each cell's ``k`` nearest
        control cells.
    k, knn_metric : int, {"cosine", "euclidean"}
        Neighbours for ``"knn"`` (cosine as shesha-geometry's default).
    max_samples : int or None
        Cells subsampled (``default_rng(seed).choice``) above this count.
    n_bootstrap, ci
        Cells and controls resampled independently (as shesha-geometry).
    n_split_half : int
        Random halvings for the split-half reproducibility (0 = skip).
    nan_policy : {"raise", "omit"}

    Returns
    -------
    RepresentationResult
        ``estimate`` = S_p in [-1, 1]; ``details``: ``magnitude`` |m|, ``spread``
        mean |s_i - m|, ``snr`` = magnitude / spread, ``calibrated_magnitude`` =
        magnitude / mean distance of controls to their centroid, ``split_half``.

    Raises
    ------
    InputError
        Different widths, fewer than 5 cells or 2 controls, unknown method, NaNs.

    Notes
    -----
    S_p = (1/n) sum_i <s_i, m> / (|s_i| |m|). Under isotropic noise sigma in d
    dimensions around a shift mu, S_p ~ |mu| / sqrt(|mu|^2 + sigma^2 d).

    References
    ----------
    Raju, P. "Geometric coherence of single-cell CRISPR perturbations",
    arXiv:2604.16642 (2026).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ctrl = rng.standard_normal((500, 50))
    >>> pert = rng.standard_normal((500, 50)) + 8 * np.eye(50)[0]
    >>> 0.7 < perturbation_coherence(pert, ctrl).estimate < 0.8
    True
    """
    t0 = time.perf_counter()
    if kwargs:
        raise InputError(f"unknown keyword(s) {sorted(kwargs)}")
    if knn_metric not in ("cosine", "euclidean"):
        raise InputError(f"knn_metric={knn_metric!r}: use 'cosine' or 'euclidean'")
    if method not in COHERENCE_METHODS:
        raise InputError(f"method={method!r}: use one of {COHERENCE_METHODS}")
    x = as_matrix(cells, "cells")
    c = as_matrix(controls, "controls")
    if x.shape[1] != c.shape[1]:
        raise InputError(
            f"cells have {x.shape[1]} features but controls {c.shape[1]}; embed both the same way"
        )
    (x,), _ = handle_nan([x], ["cells"], nan_policy)
    (c,), _ = handle_nan([c], ["controls"], nan_policy)
    check_min_rows(x.shape[0], 5, "perturbation_coherence (cells)")
    check_min_rows(c.shape[0], 2, "perturbation_coherence (controls)")
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    if max_samples is not None and n > max_samples:
        x = x[rng.choice(n, max_samples, replace=False)]
    shifts = _shifts(x, c, method, k, regularization, knn_metric)
    est = _coherence(shifts, drop_small=method != "standard")
    mean = shifts.mean(axis=0)
    magnitude = float(np.linalg.norm(mean))
    spread = float(np.mean(np.linalg.norm(shifts - mean, axis=1)))
    ctrl_scale = float(np.mean(np.linalg.norm(c - c.mean(axis=0), axis=1)))
    boot: list[float] = []
    if n_bootstrap:
        brng = np.random.default_rng(seed)
        for _ in range(n_bootstrap):
            ic = brng.choice(c.shape[0], c.shape[0], replace=True)
            ip = brng.choice(x.shape[0], x.shape[0], replace=True)
            v = _value(x[ip], c[ic], method, k, regularization, knn_metric)
            if np.isfinite(v):
                boot.append(v)
    lo, hi = _interval(boot, ci)
    split = (
        split_half_reproducibility(x, c, n_splits=n_split_half, seed=seed)
        if n_split_half
        else float("nan")
    )
    return RepresentationResult(
        status="ok",
        message="" if x.shape[0] == n else f"cells subsampled {x.shape[0]} of {n}",
        stats=Stats(wall_time=time.perf_counter() - t0),
        provenance=Provenance(
            analysis="perturbation_coherence",
            method=f"method={method!r}",
            params={"k": k, "regularization": regularization},
            seed=seed,
        ),
        measure=f"perturbation_coherence_{method}",
        estimate=est,
        standard_error=float(np.std(boot, ddof=1)) if len(boot) > 1 else float("nan"),
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        n_samples=n,
        n_used=x.shape[0],
        components=np.asarray(boot),
        details={
            "magnitude": magnitude,
            "spread": spread,
            "snr": magnitude / spread if spread > 0 else float("inf"),
            "calibrated_magnitude": magnitude / ctrl_scale if ctrl_scale > 0 else float("nan"),
            "split_half": split,
        },
    )


def discordance(coherence: Any, magnitude: Any, *, kind: str = "linear") -> np.ndarray:
    """Magnitude-coherence discordance: z-scored negative residual of S_p on M_p.

    Parameters
    ----------
    coherence, magnitude : arrays (n_perturbations,)
    kind : {"linear", "rank"}
        Least-squares line on the values, or on their ranks.

    Returns
    -------
    ndarray (n_perturbations,)
        Large values: less coherent than perturbations of the same magnitude.

    Examples
    --------
    >>> discordance([0.9, 0.5, 0.95, 0.97], [1.0, 2.0, 3.0, 4.0]).argmax()
    np.int64(1)
    """
    from scipy.stats import rankdata

    s = np.asarray(coherence, dtype=float)
    m = np.asarray(magnitude, dtype=float)
    if s.shape != m.shape or s.ndim != 1:
        raise InputError(f"coherence {s.shape} and magnitude {m.shape}: need equal 1-D shapes")
    check_min_rows(s.size, 3, "discordance")
    if kind == "rank":
        s, m = rankdata(s), rankdata(m)
    elif kind != "linear":
        raise InputError(f"kind={kind!r}: use 'linear' or 'rank'")
    slope, intercept = np.polyfit(m, s, 1)
    res = -(s - (intercept + slope * m))
    sd = res.std()
    return (res - res.mean()) / sd if sd > 0 else np.zeros_like(res)
