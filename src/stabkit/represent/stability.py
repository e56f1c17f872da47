"""Geometric stability of representations (the Shesha family).

Shesha measures whether a representation's distance structure survives internal
perturbation: feature-split stability correlates the RDMs of two random disjoint
halves of the features; replicate stability correlates the RDMs of two matched
replicates; RDM similarity/drift compares the RDMs of two representations of the
same observations. Definitions, defaults and random streams follow
shesha-geometry 0.3.0, so values agree with it to rounding for the same seed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from stabkit.errors import InputError
from stabkit.represent._arrays import (
    as_matrix,
    check_min_rows,
    handle_nan,
    paired,
)
from stabkit.represent._arrays import (
    interval as _interval,
)
from stabkit.represent._arrays import (
    n_jobs_of as _n_jobs,
)
from stabkit.represent._arrays import (
    pair_index as _pair_index,
)
from stabkit.represent._arrays import (
    thread_map as _map,
)
from stabkit.represent._rank import spearman
from stabkit.represent._rdm import METRICS, condensed_rdm, cosine_split_rdms, gram_upper
from stabkit.represent._result import RepresentationResult
from stabkit.results import Provenance, Stats

__all__ = [
    "feature_split_stability",
    "rdm_drift",
    "rdm_similarity",
    "replicate_stability",
]

_EPS = 1e-12


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        return float("nan")
    return float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))


def _correlate(x: np.ndarray, y: np.ndarray, method: str) -> float:
    return spearman(x, y) if method == "spearman" else _pearson(x, y)


def _check_common(metric: str, allowed: Sequence[str], ci: float, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise InputError(f"unknown keyword(s) {sorted(kwargs)}")
    if metric not in allowed:
        raise InputError(f"metric={metric!r}: use one of {tuple(allowed)}")
    if not 0 < ci < 1:
        raise InputError(f"ci={ci!r}: the confidence level must lie in (0, 1), e.g. 0.95")


def _prov(analysis: str, params: dict[str, float], seed: int | None, method: str) -> Provenance:
    return Provenance(analysis=analysis, method=method, params=params, seed=seed)


def _score_split(
    x: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    metric: str,
    index: np.ndarray | None,
    gfull: np.ndarray | None = None,
) -> float:
    if gfull is not None:
        r1, r2 = cosine_split_rdms(x, gfull, first, second)
    else:
        r1 = condensed_rdm(x[:, first], metric)
        r2 = condensed_rdm(x[:, second], metric)
    if index is not None:
        r1 = r1[index]
        r2 = r2[index]
    if not (np.isfinite(r1).all() and np.isfinite(r2).all()):
        return float("nan")
    if r1.size < 2 or _flat(r1) or _flat(r2):
        return float("nan")
    return spearman(r1, r2)


def _flat(r: np.ndarray) -> bool:
    """shesha's rule std < 1e-12, checked by the range first (std >= ptp / sqrt(2 n))."""
    spread = float(np.ptp(r))
    if spread > _EPS * np.sqrt(2.0 * r.size):
        return False
    return bool(np.std(r) < _EPS)


def feature_split_stability(
    X: Any,
    *,
    n_splits: int = 30,
    metric: str = "cosine",
    seed: int | None = 0,
    max_samples: int | None = 1600,
    n_bootstrap: int = 0,
    ci: float = 0.95,
    partitions: Sequence[tuple[Sequence[int], Sequence[int]]] | None = None,
    nan_policy: str = "raise",
    n_jobs: int = 1,
    **kwargs: Any,
) -> RepresentationResult:
    """Feature-split Shesha: agreement of the RDMs of two random feature halves.

    Parameters
    ----------
    X : array (n_samples, n_features), numpy or torch, float32/64
        The representation.
    n_splits : int
        Random feature partitions averaged over (default 30).
    metric : {"cosine", "correlation"}
        RDM distance. Rows are L2-normalised first for "cosine".
    seed : int or None
        Seeds ``numpy.random.default_rng``; the stream is used as in shesha-geometry
        0.3.0: first the row subsample (``choice(n, max_samples, replace=False)``
        when ``n > max_samples``), then one ``permutation(d)`` per split.
    max_samples : int or None
        Row subsample (default 1600, as shesha-geometry). This is the path for large
        ``n``: cost is O(max_samples^2 d) whatever ``n``; the row-sampling error is
        what ``n_bootstrap`` measures.
    n_bootstrap : int
        Observation bootstrap replicates for a data interval, feature partitions held
        fixed and pairs of a row with its own duplicate dropped (0 = none).
    ci : float
        Interval level.
    partitions : sequence of (first, second) index arrays, optional
        Explicit feature partitions (overrides ``n_splits`` and the permutations).
    nan_policy : {"raise", "omit"}
        Non-finite rows: raise (default) or drop.
    n_jobs : int
        Threads for the splits (the kernels release the GIL); -1 = all cores.

    Returns
    -------
    RepresentationResult
        ``estimate`` = mean Spearman correlation over valid splits, in [-1, 1];
        ``standard_error`` = Monte Carlo SE over splits; ``components`` = split scores.

    Raises
    ------
    InputError
        Fewer than 4 rows or 4 features, bad metric, NaNs under ``nan_policy="raise"``.

    Notes
    -----
    For a partition (F1, F2) of the features, with D_F the condensed RDM on columns F,
    S = mean_k Spearman(D_F1k, D_F2k). Not invariant to rotations of feature space.

    References
    ----------
    Raju, P. "Geometric Stability: The Missing Axis of Representations",
    arXiv:2601.09173 (2026).

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).standard_normal((100, 3))
    >>> X = Z @ np.random.default_rng(1).standard_normal((3, 40))
    >>> feature_split_stability(X, n_splits=5).estimate > 0.8
    True
    """
    t0 = time.perf_counter()
    _check_common(metric, ("cosine", "correlation"), ci, kwargs)
    if n_splits < 1 or (max_samples is not None and max_samples < 4) or n_bootstrap < 0:
        raise InputError(
            f"n_splits={n_splits}, max_samples={max_samples}, n_bootstrap={n_bootstrap}: "
            "need n_splits >= 1, max_samples >= 4 (or None), n_bootstrap >= 0"
        )
    x = as_matrix(X, "X")
    (x,), _ = handle_nan([x], ["X"], nan_policy)
    n, d = x.shape
    check_min_rows(n, 4, "feature_split_stability")
    if d < 4:
        raise InputError(f"feature_split_stability needs at least 4 features (columns), got {d}")
    rng = np.random.default_rng(seed)
    if max_samples is not None and n > max_samples:
        x = x[rng.choice(n, max_samples, replace=False)]
    if metric == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), _EPS)
    if partitions is None:
        half = d // 2
        parts = []
        for _ in range(n_splits):
            perm = rng.permutation(d)
            parts.append((perm[:half], perm[half : 2 * half]))
    else:
        parts = [
            (np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)) for a, b in partitions
        ]
    jobs = _n_jobs(n_jobs)
    gfull = gram_upper(x) if metric == "cosine" else None
    scores = np.array(_map(lambda p: _score_split(x, p[0], p[1], metric, None, gfull), parts, jobs))
    valid = scores[np.isfinite(scores)]
    boot: list[float] = []
    if n_bootstrap:
        brng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        m = x.shape[0]
        for _ in range(n_bootstrap):
            rows = brng.choice(m, m, replace=True)
            uniq, inverse = np.unique(rows, return_inverse=True)
            xs = x[uniq]
            index = _pair_index(inverse, uniq.size)
            s = np.array(
                _map(
                    lambda p, xs=xs, ix=index: _score_split(xs, p[0], p[1], metric, ix), parts, jobs
                )
            )
            s = s[np.isfinite(s)]
            if s.size:
                boot.append(float(s.mean()))
    lo, hi = _interval(boot, ci)
    est = float(valid.mean()) if valid.size else float("nan")
    se = float(valid.std(ddof=1) / np.sqrt(valid.size)) if valid.size > 1 else float("nan")
    notes = []
    if valid.size < len(parts):
        notes.append(f"{len(parts) - valid.size} of {len(parts)} partitions unestimable, skipped")
    if x.shape[0] < n:
        notes.append(f"rows subsampled {x.shape[0]} of {n}")
    return RepresentationResult(
        status="ok" if valid.size else "failed",
        message="; ".join(notes) if valid.size else "no estimable partition",
        stats=Stats(wall_time=time.perf_counter() - t0),
        provenance=_prov(
            "feature_split_stability",
            {"n_splits": len(parts), "max_samples": float(max_samples or 0)},
            seed,
            f"metric={metric!r}",
        ),
        measure="feature_split_stability",
        estimate=est,
        standard_error=se,
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        n_samples=n,
        n_used=x.shape[0],
        components=valid,
        details={
            "metric": metric,
            "n_partitions": len(parts),
            "n_valid_splits": int(valid.size),
            "partition_sd": float(valid.std(ddof=1)) if valid.size > 1 else float("nan"),
            "bootstrap": np.asarray(boot),
        },
    )


def _paired_rdm(
    analysis: str,
    X: Any,
    Y: Any,
    metric: str,
    method: str,
    n_bootstrap: int,
    ci: float,
    seed: int | None,
    max_samples: int | None,
    nan_policy: str,
    kwargs: dict[str, Any],
    names: tuple[str, str],
    drift: bool = False,
) -> RepresentationResult:
    t0 = time.perf_counter()
    _check_common(metric, METRICS, ci, kwargs)
    if method not in ("spearman", "pearson"):
        raise InputError(f"method={method!r}: use 'spearman' or 'pearson'")
    x = as_matrix(X, names[0])
    y = as_matrix(Y, names[1])
    paired(x, y, *names)
    (x, y), _ = handle_nan([x, y], list(names), nan_policy)
    n = x.shape[0]
    check_min_rows(n, 3, analysis)
    rng = np.random.default_rng(seed)
    if max_samples is not None and n > max_samples:
        rows = np.sort(rng.choice(n, max_samples, replace=False))
        x, y = x[rows], y[rows]
    m = x.shape[0]
    ra = condensed_rdm(x, metric)
    rb = condensed_rdm(y, metric)
    ok = np.isfinite(ra) & np.isfinite(rb)
    if not ok.all():
        raise InputError(
            f"{analysis}: {int((~ok).sum())} distances undefined (rows of zero norm under "
            f"metric={metric!r}); drop those rows or use metric='euclidean'"
        )
    est = _correlate(ra, rb, method)
    boot: list[float] = []
    for _ in range(n_bootstrap):
        index = _pair_index(np.asarray(rng.choice(m, m, replace=True)), m)
        s = _correlate(ra[index], rb[index], method)
        if np.isfinite(s):
            boot.append(1.0 - s if drift else s)
    if drift:
        est = 1.0 - est
    lo, hi = _interval(boot, ci)
    return RepresentationResult(
        status="ok" if np.isfinite(est) else "failed",
        message="" if m == n else f"rows subsampled {m} of {n}",
        stats=Stats(wall_time=time.perf_counter() - t0),
        provenance=_prov(
            analysis, {"max_samples": float(max_samples or 0)}, seed, f"{metric=}, {method=}"
        ),
        measure=analysis,
        estimate=float(est),
        standard_error=float(np.std(boot, ddof=1)) if len(boot) > 1 else float("nan"),
        ci_low=lo,
        ci_high=hi,
        ci_level=ci,
        n_samples=n,
        n_used=m,
        components=np.asarray(boot),
        details={"metric": metric, "method": method, "n_pairs": int(ra.size)},
    )


def replicate_stability(
    Xa: Any,
    Xb: Any,
    *,
    metric: str = "cosine",
    method: str = "spearman",
    n_bootstrap: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    max_samples: int | None = 4000,
    nan_policy: str = "raise",
    **kwargs: Any,
) -> RepresentationResult:
    """Matched-replicate Shesha: agreement of the RDMs of two replicates.

    Parameters
    ----------
    Xa, Xb : arrays (n_samples, d_a) and (n_samples, d_b)
        Two replicates (e.g. two seeds, two recordings) of the same observations,
        rows matched.
    metric : {"cosine", "correlation", "euclidean"}
        RDM distance (no row normalisation beyond the metric's own).
    method : {"spearman", "pearson"}
        Correlation of the condensed RDMs.
    n_bootstrap, ci, seed
        Observation bootstrap (pairs of a row with its duplicate dropped), percentile
        interval; the stream is ``default_rng(seed)`` as shesha-geometry uses it.
    max_samples : int or None
        Row subsample above this size (memory O(max_samples^2)); default 4000.
    nan_policy : {"raise", "omit"}

    Returns
    -------
    RepresentationResult

    Raises
    ------
    InputError
        Mismatched rows, fewer than 3 rows, NaNs, undefined distances.

    Notes
    -----
    S = corr(D(Xa), D(Xb)) over the n(n-1)/2 pairs.

    References
    ----------
    shesha-geometry 0.3.0 ``replicate_stability``; arXiv:2601.09173.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.standard_normal((50, 5))
    >>> r = replicate_stability(Z + 0.01 * rng.standard_normal((50, 5)), Z)
    >>> r.estimate > 0.99
    True
    """
    return _paired_rdm(
        "replicate_stability",
        Xa,
        Xb,
        metric,
        method,
        n_bootstrap,
        ci,
        seed,
        max_samples,
        nan_policy,
        kwargs,
        ("Xa", "Xb"),
    )


def rdm_similarity(
    X: Any,
    Y: Any,
    *,
    metric: str = "cosine",
    method: str = "spearman",
    n_bootstrap: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    max_samples: int | None = 4000,
    nan_policy: str = "raise",
    **kwargs: Any,
) -> RepresentationResult:
    """RDM similarity of two representations of the same observations.

    Same estimator as :func:`replicate_stability` (shesha-geometry ``rdm_similarity``):
    Spearman (or Pearson) correlation of the condensed RDMs of ``X`` and ``Y``.
    See :func:`replicate_stability` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((30, 4))
    >>> rdm_similarity(X, 2 * X).estimate
    1.0
    """
    return _paired_rdm(
        "rdm_similarity",
        X,
        Y,
        metric,
        method,
        n_bootstrap,
        ci,
        seed,
        max_samples,
        nan_policy,
        kwargs,
        ("X", "Y"),
    )


def rdm_drift(
    X: Any,
    Y: Any,
    *,
    metric: str = "cosine",
    method: str = "spearman",
    n_bootstrap: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    max_samples: int | None = 4000,
    nan_policy: str = "raise",
    **kwargs: Any,
) -> RepresentationResult:
    """Representational drift, 1 - :func:`rdm_similarity` (range [0, 2]).

    The drift "canary" of the Shesha paper. Bootstrap replicates and interval are of
    the drift. See :func:`replicate_stability` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((30, 4))
    >>> rdm_drift(X, X).estimate
    0.0
    """
    return _paired_rdm(
        "rdm_drift",
        X,
        Y,
        metric,
        method,
        n_bootstrap,
        ci,
        seed,
        max_samples,
        nan_policy,
        kwargs,
        ("X", "Y"),
        drift=True,
    )
