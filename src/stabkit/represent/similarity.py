"""Similarity of two representations: CKA, RSA and orthogonal Procrustes.

Linear and debiased CKA and Procrustes are computed in feature space (products of
``d x d`` matrices, O(n d^2) time, O(d^2) memory), so they are exact at any ``n``;
RBF CKA needs the ``n x n`` kernel and subsamples rows above ``max_samples``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from stabkit.errors import InputError
from stabkit.represent._arrays import as_matrix, check_min_rows, handle_nan, paired
from stabkit.represent._arrays import interval as _interval
from stabkit.represent._result import RepresentationResult
from stabkit.represent.stability import rdm_similarity
from stabkit.results import Provenance, Stats

__all__ = ["CKA_KINDS", "cka", "procrustes_similarity", "rsa"]

CKA_KINDS = ("linear", "rbf", "debiased")


def _centre(x: np.ndarray, name: str) -> np.ndarray:
    xc = x - x.mean(axis=0, keepdims=True)
    if not np.any(xc):
        raise InputError(
            f"{name}: every feature is constant (zero variance after centring); "
            "similarity is undefined for a constant representation"
        )
    return xc


def _hsic_linear(x: np.ndarray, y: np.ndarray) -> float:
    """||X^T Y||_F^2 for column-centred x, y (= tr(K L) with K = x x^T)."""
    if x.shape[0] < x.shape[1] + y.shape[1]:
        return float(np.sum((x @ x.T) * (y @ y.T)))
    return float(np.sum((x.T @ y) ** 2))


def _hsic_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Song et al. (2012) unbiased HSIC of linear kernels, in feature space.

    With K~ = x x^T - diag(a), a_i = |x_i|^2 (and L~ likewise), and column-centred
    inputs (so 1^T x = 0): tr(K~L~) = ||x^T y||^2 - a.b, 1^T K~ 1 = -sum a,
    K~ 1 = -a.
    """
    n = x.shape[0]
    a = np.einsum("ij,ij->i", x, x)
    b = np.einsum("ij,ij->i", y, y)
    tr = _hsic_linear(x, y) - float(a @ b)
    s_k = -float(a.sum())
    s_l = -float(b.sum())
    cross = float(a @ b)
    return (tr + s_k * s_l / ((n - 1) * (n - 2)) - 2.0 * cross / (n - 2)) / (n * (n - 3))


def _rbf_gram(x: np.ndarray, sigma: float | None, factor: float) -> tuple[np.ndarray, float]:
    sq = np.einsum("ij,ij->i", x, x)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(d2, 0.0)
    if sigma is None:
        iu = np.triu_indices(x.shape[0], k=1)
        med = float(np.median(d2[iu]))
        if med <= 0:
            raise InputError("rbf CKA: median pairwise distance is 0; pass sigma explicitly")
        sigma = factor * np.sqrt(med)
    k = np.exp(-d2 / (2.0 * sigma * sigma))
    k -= k.mean(axis=0, keepdims=True)
    k -= k.mean(axis=1, keepdims=True)
    return k, float(sigma)


def _cka_value(x: np.ndarray, y: np.ndarray, kind: str, sigma: Any) -> float:
    if kind == "linear":
        return _hsic_linear(x, y) / np.sqrt(_hsic_linear(x, x) * _hsic_linear(y, y))
    if kind == "debiased":
        hxx = _hsic_unbiased(x, x)
        hyy = _hsic_unbiased(y, y)
        if hxx <= 0 or hyy <= 0:
            return float("nan")
        return _hsic_unbiased(x, y) / np.sqrt(hxx * hyy)
    kx, _ = _rbf_gram(x, sigma[0], sigma[2])
    ky, _ = _rbf_gram(y, sigma[1], sigma[2])
    return float(np.sum(kx * ky) / np.sqrt(np.sum(kx * kx) * np.sum(ky * ky)))


def _prepare(
    X: Any, Y: Any, nan_policy: str, kwargs: dict[str, Any], ci: float
) -> tuple[np.ndarray, np.ndarray]:
    if kwargs:
        raise InputError(f"unknown keyword(s) {sorted(kwargs)}")
    if not 0 < ci < 1:
        raise InputError(f"ci={ci!r}: the confidence level must lie in (0, 1)")
    x = as_matrix(X, "X")
    y = as_matrix(Y, "Y")
    paired(x, y)
    (x, y), _ = handle_nan([x, y], ["X", "Y"], nan_policy)
    return x, y


def _bootstrap(
    fn: Any, x: np.ndarray, y: np.ndarray, n_bootstrap: int, rng: np.random.Generator
) -> list[float]:
    out = []
    n = x.shape[0]
    for _ in range(n_bootstrap):
        idx = rng.choice(n, n, replace=True)
        try:
            v = fn(x[idx], y[idx])
        except InputError:
            continue
        if np.isfinite(v):
            out.append(float(v))
    return out


def cka(
    X: Any,
    Y: Any,
    kind: str = "linear",
    *,
    sigma: float | None = None,
    sigma_factor: float = 1.0,
    max_samples: int | None = 5000,
    n_bootstrap: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    nan_policy: str = "raise",
    **kwargs: Any,
) -> RepresentationResult:
    """Centred kernel alignment of two representations of the same observations.

    Parameters
    ----------
    X, Y : arrays (n_samples, d_x) and (n_samples, d_y), numpy or torch
        Rows are matched observations.
    kind : {"linear", "rbf", "debiased"}
        ``linear``: biased linear CKA; ``debiased``: linear CKA from the unbiased
        HSIC estimator (Song et al. 2012); ``rbf``: Gaussian kernels of bandwidth
        ``sigma`` (default ``sigma_factor`` x sqrt(median squared distance)).
    max_samples : int or None
        RBF only: rows subsampled (seeded) above this size, memory O(max_samples^2).
        Linear and debiased CKA are exact at any ``n`` (O(n d^2) time, O(d^2) memory).
    n_bootstrap, ci, seed
        Paired observation bootstrap: percentile interval, SD as standard error.
    nan_policy : {"raise", "omit"}

    Returns
    -------
    RepresentationResult
        ``estimate`` in [0, 1] (debiased may be slightly negative).

    Raises
    ------
    InputError
        Unknown ``kind``, mismatched rows, NaNs, a constant representation, n < 2
        (n < 4 for ``debiased``).

    Notes
    -----
    CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)); linear: HSIC = ||X^T Y||_F^2 on
    column-centred data. Invariant to orthogonal maps and isotropic scaling of X or Y.
    shesha-geometry's ``cka_debiased`` keeps the kernel diagonals in tr(KL) and so is
    not the unbiased estimator; values differ from it at small n.

    References
    ----------
    Kornblith et al., "Similarity of neural network representations revisited",
    ICML 2019. Song et al., "Feature selection via dependence maximization", JMLR 2012.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((200, 10))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((10, 10)))
    >>> round(cka(X, 3 * X @ Q).estimate, 12)
    1.0
    """
    t0 = time.perf_counter()
    if kind not in CKA_KINDS:
        raise InputError(f"kind={kind!r}: use one of {CKA_KINDS}")
    x, y = _prepare(X, Y, nan_policy, kwargs, ci)
    n = x.shape[0]
    check_min_rows(n, 4 if kind == "debiased" else 2, f"cka(kind={kind!r})")
    rng = np.random.default_rng(seed)
    if kind == "rbf" and max_samples is not None and n > max_samples:
        rows = np.sort(rng.choice(n, max_samples, replace=False))
        x, y = x[rows], y[rows]
    x = _centre(x, "X")
    y = _centre(y, "Y")
    details: dict[str, Any] = {"kind": kind}
    if kind == "rbf":
        _, sx = _rbf_gram(x, sigma, sigma_factor)
        _, sy = _rbf_gram(y, sigma, sigma_factor)
        details["sigma_x"], details["sigma_y"] = sx, sy
    par = (details.get("sigma_x"), details.get("sigma_y"), sigma_factor)
    est = float(_cka_value(x, y, kind, par))

    def stat(a: np.ndarray, b: np.ndarray) -> float:
        return float(_cka_value(_centre(a, "X"), _centre(b, "Y"), kind, par))

    boot = _bootstrap(stat, x, y, n_bootstrap, rng)
    lo, hi = _interval(boot, ci)
    m = x.shape[0]
    return RepresentationResult(
        status="ok" if np.isfinite(est) else "failed",
        message="" if m == n else f"rows subsampled {m} of {n}",
        stats=Stats(wall_time=time.perf_counter() - t0),
        provenance=Provenance(
            analysis="cka", method=f"kind={kind!r}", params={"n_bootstrap": n_bootstrap}, seed=seed
        ),
        measure=f"cka_{kind}",
        estimate=est,
        standard_error=float(np.std(boot, ddof=1)) if len(boot) > 1 else float("nan"),
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        n_samples=n,
        n_used=m,
        components=np.asarray(boot),
        details=details,
    )


def _procrustes_value(x: np.ndarray, y: np.ndarray, center: bool, scale: bool) -> float:
    if center:
        x = x - x.mean(axis=0)
        y = y - y.mean(axis=0)
    nx = float(np.sum(x * x))
    ny = float(np.sum(y * y))
    if nx <= 0 or ny <= 0:
        raise InputError("procrustes_similarity: a representation has zero norm (constant)")
    nuclear = float(np.linalg.svd(x.T @ y, compute_uv=False).sum())
    value = nuclear / np.sqrt(nx * ny) if scale else 2.0 * nuclear / (nx + ny)
    return float(np.clip(value, 0.0, 1.0))


def procrustes_similarity(
    X: Any,
    Y: Any,
    *,
    center: bool = True,
    scale: bool = True,
    n_bootstrap: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    nan_policy: str = "raise",
    **kwargs: Any,
) -> RepresentationResult:
    """Orthogonal Procrustes similarity, 1 - min_R ||X - Y R||^2 / (||X||^2 + ||Y||^2).

    Parameters
    ----------
    X, Y : arrays (n_samples, d_x), (n_samples, d_y)
        Matched rows. Different widths are allowed (R is then a partial isometry,
        the same as zero-padding the narrower one).
    center, scale : bool
        Column-centre; scale each to unit Frobenius norm (as shesha-geometry).
    n_bootstrap, ci, seed, nan_policy
        As in :func:`cka`.

    Returns
    -------
    RepresentationResult
        ``estimate`` in [0, 1].

    Notes
    -----
    The optimum is attained at the polar factor of Y^T X, so the similarity is
    ||X^T Y||_* / (||X|| ||Y||) when scaled and 2 ||X^T Y||_* / (||X||^2 + ||Y||^2)
    otherwise (||.||_* the nuclear norm); no n x n matrix is formed.

    References
    ----------
    Schönemann, "A generalized solution of the orthogonal Procrustes problem",
    Psychometrika 31 (1966).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((50, 6))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    >>> round(procrustes_similarity(X, X @ Q).estimate, 12)
    1.0
    """
    t0 = time.perf_counter()
    x, y = _prepare(X, Y, nan_policy, kwargs, ci)
    n = x.shape[0]
    check_min_rows(n, 2, "procrustes_similarity")
    est = _procrustes_value(x, y, center, scale)
    rng = np.random.default_rng(seed)
    boot = _bootstrap(lambda a, b: _procrustes_value(a, b, center, scale), x, y, n_bootstrap, rng)
    lo, hi = _interval(boot, ci)
    return RepresentationResult(
        status="ok",
        message="",
        stats=Stats(wall_time=time.perf_counter() - t0),
        provenance=Provenance(
            analysis="procrustes_similarity",
            method=f"center={center}, scale={scale}",
            params={"n_bootstrap": n_bootstrap},
            seed=seed,
        ),
        measure="procrustes_similarity",
        estimate=est,
        standard_error=float(np.std(boot, ddof=1)) if len(boot) > 1 else float("nan"),
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        n_samples=n,
        n_used=n,
        components=np.asarray(boot),
    )


def rsa(
    X: Any,
    Y: Any,
    *,
    metric: str = "correlation",
    method: str = "spearman",
    **kwargs: Any,
) -> RepresentationResult:
    """Representational similarity analysis: rank correlation of the two RDMs.

    The classic RSA of Kriegeskorte et al. (2008): correlation-distance RDMs compared
    by Spearman correlation. All other keywords as :func:`rdm_similarity`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((20, 5))
    >>> rsa(X, X + 1.0).estimate
    1.0
    """
    import dataclasses

    res = rdm_similarity(X, Y, metric=metric, method=method, **kwargs)
    return dataclasses.replace(res, measure="rsa")
