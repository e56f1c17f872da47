"""Delay embedding of a scalar series: delay by mutual information or autocorrelation,
dimension by false nearest neighbours.

References: Takens, Lecture Notes in Mathematics 898 (1981) 366-381; Fraser & Swinney,
Phys. Rev. A 33 (1986) 1134-1140 (first minimum of the mutual information); Kennel,
Brown & Abarbanel, Phys. Rev. A 45 (1992) 3403-3411 (false nearest neighbours).
"""

from __future__ import annotations

import math

import numpy as np

from stabkit.errors import InputError

__all__ = [
    "choose_delay",
    "choose_embedding_dimension",
    "delay_embed",
    "mean_period",
    "minimum_length",
    "mutual_information",
]


def minimum_length(embedding_dimension: int, delay: int, extra: int) -> int:
    """Samples needed: the embedding window plus ``extra`` points to work with."""
    return (embedding_dimension - 1) * delay + extra


def delay_embed(x: np.ndarray, embedding_dimension: int, delay: int) -> np.ndarray:
    """Rows ``(x[i], x[i + delay], ..., x[i + (m - 1) delay])``, shape ``(N - (m-1) delay, m)``."""
    num = x.shape[0] - (embedding_dimension - 1) * delay
    if num <= 0:
        raise InputError(
            f"a series of {x.shape[0]} samples is too short for embedding dimension "
            f"{embedding_dimension} with delay {delay}; it needs more than "
            f"{(embedding_dimension - 1) * delay} samples"
        )
    idx = np.arange(num)[:, None] + delay * np.arange(embedding_dimension)[None, :]
    return np.ascontiguousarray(x[idx])


def mutual_information(x: np.ndarray, lag: int, num_bins: int) -> float:
    """Histogram estimate of the mutual information (nats) between x(t) and x(t + lag)."""
    a, b = x[:-lag], x[lag:]
    hist, _, _ = np.histogram2d(a, b, bins=num_bins)
    pxy = hist / hist.sum()
    px = pxy.sum(axis=1, keepdims=True)
    py = pxy.sum(axis=0, keepdims=True)
    mask = pxy > 0
    return float(np.sum(pxy[mask] * np.log(pxy[mask] / (px @ py)[mask])))


def _autocorrelation_delay(x: np.ndarray, max_lag: int) -> int:
    xc = x - x.mean()
    var = float(np.dot(xc, xc))
    if var == 0.0:
        return 1
    for lag in range(1, max_lag + 1):
        if float(np.dot(xc[:-lag], xc[lag:])) / var < 1.0 / math.e:
            return lag
    return max_lag


def choose_delay(x: np.ndarray, *, max_lag: int | None = None) -> tuple[int, str]:
    """First local minimum of the mutual information; else the 1/e autocorrelation time.

    The mutual information curve is smoothed by a 5-lag running mean, and a minimum
    counts only once the curve has fallen 20% below its value at lag 1 (histogram noise
    makes spurious dips where the curve is flat, as for nearly noise-free data).
    Returns ``(delay, rule)`` with ``rule`` naming which criterion decided.
    """
    n = x.shape[0]
    max_lag = max_lag or max(2, min(n // 10, 500))
    num_bins = int(max(8, min(64, round(math.sqrt(n / 5)))))
    mi = np.array([mutual_information(x, lag, num_bins) for lag in range(1, max_lag + 1)])
    smooth = np.convolve(np.pad(mi, 2, mode="edge"), np.ones(5) / 5.0, mode="valid")
    for i in range(1, smooth.size - 1):
        dropped = smooth[i] <= 0.8 * mi[0]
        if dropped and smooth[i] <= smooth[i - 1] and smooth[i] < smooth[i + 1]:
            return i + 1, "first minimum of the mutual information"
    return _autocorrelation_delay(x, max_lag), "autocorrelation below 1/e"


def choose_embedding_dimension(
    x: np.ndarray,
    delay: int,
    *,
    max_dimension: int = 10,
    threshold: float = 0.02,
    rtol: float = 15.0,
    atol: float = 2.0,
) -> tuple[int, list[float]]:
    """Smallest dimension whose fraction of false nearest neighbours is below ``threshold``.

    Returns ``(dimension, fractions)`` where ``fractions[m - 1]`` is the fraction at
    dimension ``m``.
    """
    from scipy.spatial import cKDTree

    sd = float(np.std(x)) or 1.0
    fractions: list[float] = []
    for m in range(1, max_dimension + 1):
        num = x.shape[0] - m * delay
        if num < 20:
            break
        emb = delay_embed(x[: num + (m - 1) * delay], m, delay)
        nxt = x[m * delay : m * delay + num]
        dist, idx = cKDTree(emb).query(emb, k=2)
        d = dist[:, 1]
        j = idx[:, 1]
        extra = np.abs(nxt - nxt[j])
        with np.errstate(divide="ignore", invalid="ignore"):
            false1 = extra / np.where(d > 0, d, np.inf) > rtol
        false2 = np.sqrt(d**2 + extra**2) / sd > atol
        frac = float(np.mean(false1 | false2))
        fractions.append(frac)
        if frac <= threshold:
            return m, fractions
    best = int(np.argmin(fractions)) + 1 if fractions else 1
    return best, fractions


def mean_period(x: np.ndarray) -> float:
    """Mean period in samples: 1 / the power-weighted mean frequency (Rosenstein 1993)."""
    xc = x - x.mean()
    power = np.abs(np.fft.rfft(xc)) ** 2
    freqs = np.fft.rfftfreq(x.shape[0])
    power[0] = 0.0
    total = float(power.sum())
    if total == 0.0:
        return 1.0
    return float(1.0 / max(float(np.sum(freqs * power)) / total, 1.0 / x.shape[0]))
