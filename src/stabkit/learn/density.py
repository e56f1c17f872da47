"""Spectral density of a symmetric operator by stochastic Lanczos quadrature (SLQ).

For a unit probe ``v``, ``m`` Lanczos steps give a tridiagonal ``T_m = S diag(theta) S^T``;
the Gauss quadrature nodes ``theta_j`` with weights ``tau_j = S_{0j}^2`` match the
first ``2m`` moments of ``v``'s spectral measure ``sum_i (v^T u_i)^2 delta(t -
lambda_i)``. Averaging over random probes estimates the spectral density
``(1/n) sum_i delta(t - lambda_i)``; a Gaussian of width ``sigma`` makes it a curve
(Lin, Saad & Yang 2016, SIAM Rev. 58:34; Ubaru, Chen & Saad 2017, SIMAX 38:1075;
Ghorbani, Krishnan & Xiao 2019, ICML, for Hessians of networks).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.learn._linop import _check_operator, _int_arg, lanczos_tridiagonal, with_quiet_blas
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SLQ", "SpectralDensityResult", "spectral_density"]


@dataclasses.dataclass(frozen=True)
class SLQ:
    """Stochastic Lanczos quadrature settings.

    Parameters
    ----------
    num_probes
        Random probe vectors (Rademacher, normalised); at least 2 for error bars.
    num_steps
        Lanczos steps per probe (quadrature nodes); ``2 num_steps`` moments are exact.
    """

    num_probes: int = 10
    num_steps: int = 80

    def __post_init__(self) -> None:
        _int_arg(self.num_probes, "num_probes", "SLQ", 1)
        _int_arg(self.num_steps, "num_steps", "SLQ", 1)


@dataclasses.dataclass(frozen=True)
class SpectralDensityResult(Result):
    """Spectral density of a symmetric operator, with its probe-to-probe error.

    Attributes
    ----------
    nodes, weights
        ``(num_probes, m)`` Gauss quadrature nodes and weights per probe (weights of a
        probe sum to 1; shorter probes are padded with weight 0).
    grid
        Points at which the smoothed density is given.
    density
        ``(1/n) sum_i g_sigma(t - lambda_i)`` estimated on ``grid`` (integrates to 1).
    density_standard_error
        Standard error of ``density`` over probes (zero with a single probe).
    sigma
        Width of the Gaussian smoothing.
    n
        Dimension of the operator.
    num_matvecs
        Operator products used.
    """

    nodes: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    weights: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    grid: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    density: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    density_standard_error: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    sigma: float = 0.0
    n: int = 0
    num_matvecs: int = 0

    def moment(self, k: int) -> tuple[float, float]:
        """``(1/n) tr(A^k)`` estimated from the quadrature, with its standard error.

        Exact for each probe when ``k <= 2 m - 1``; the error is then from the probes only.
        """
        per_probe = np.sum(self.weights * self.nodes**k, axis=1)
        se = (
            float(np.std(per_probe, ddof=1) / np.sqrt(per_probe.size))
            if per_probe.size > 1
            else 0.0
        )
        return float(np.mean(per_probe)), se

    def trace(self) -> tuple[float, float]:
        """``tr A`` from the first moment, with its standard error."""
        value, se = self.moment(1)
        return self.n * value, self.n * se

    def cdf(self, t: Any) -> np.ndarray:
        """Estimated fraction of eigenvalues ``<= t`` (step function of the quadrature)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        mass = (self.weights[:, :, None] * (self.nodes[:, :, None] <= t[None, None, :])).sum(axis=1)
        return np.asarray(mass.mean(axis=0))

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: t, density, standard error."""
        import pandas as pd

        return pd.DataFrame(
            {"t": self.grid, "density": self.density, "standard_error": self.density_standard_error}
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Density on a log scale with its error band; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        floor = 1e-12
        ax.fill_between(
            self.grid,
            np.maximum(self.density - 2 * self.density_standard_error, floor),
            self.density + 2 * self.density_standard_error,
            alpha=0.3,
            lw=0,
        )
        ax.semilogy(self.grid, np.maximum(self.density, floor), **kwargs)
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        ax.set_title(f"SLQ spectral density ({self.nodes.shape[0]} probes, sigma={self.sigma:.2g})")
        return ax

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        tr, se = self.trace()
        rows.append(("trace (first moment)", f"{tr:.6g} ± {se:.2g}"))
        rows.append(("range of nodes", f"[{self.nodes.min():.4g}, {self.nodes.max():.4g}]"))
        rows.append(("matvecs", str(self.num_matvecs)))
        return rows


@with_quiet_blas
def spectral_density(
    operator: Any,
    method: SLQ | None = None,
    *,
    grid: Any = None,
    num_points: int = 1000,
    sigma: float | None = None,
    seed: int = 0,
) -> SpectralDensityResult:
    """Spectral density of a symmetric operator by stochastic Lanczos quadrature.

    ``phi(t) ≈ (1/P) sum_p sum_j tau_pj g_sigma(t - theta_pj)`` where ``theta_pj`` and
    ``tau_pj`` are the Gauss nodes and weights of probe ``p`` and ``g_sigma`` a normal
    density (Lin, Saad & Yang 2016; Ghorbani, Krishnan & Xiao 2019).

    Parameters
    ----------
    operator
        Object with ``shape == (n, n)`` and ``matvec(v)`` on numpy vectors.
    method
        :class:`SLQ` (default: 10 probes, 80 steps; steps are capped at ``n``).
    grid
        Points at which to give the density (default: ``num_points`` points spanning
        the nodes with a margin of ``5 sigma``).
    num_points
        Size of the default grid.
    sigma
        Smoothing width (default: 1% of the spread of the nodes, or 1e-3 when that is 0).
    seed
        Seed of the probes.

    Returns
    -------
    SpectralDensityResult

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit.learn import MatrixOperator
    >>> r = spectral_density(MatrixOperator(np.diag([1.0, 2.0, 3.0, 4.0])), SLQ(4, 4))
    >>> [round(x, 8) for x in r.trace()]
    [10.0, 0.0]
    """
    fname = "spectral_density"
    t0 = time.perf_counter()
    n = _check_operator(operator, fname)
    if method is None:
        method = SLQ()
    if not isinstance(method, SLQ):
        raise InputError(f"{fname}(method={method!r}): pass SLQ(num_probes=..., num_steps=...)")
    num_points = _int_arg(num_points, "num_points", fname, 2)
    rng = np.random.default_rng(seed)
    steps = min(method.num_steps, n)
    nodes = np.zeros((method.num_probes, steps))
    weights = np.zeros((method.num_probes, steps))
    used = 0
    for p in range(method.num_probes):
        v = rng.choice([-1.0, 1.0], size=n)
        alpha, beta, m = lanczos_tridiagonal(operator, v, steps, n)
        used += m
        t = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        theta, s = np.linalg.eigh(t)
        nodes[p, :m] = theta
        nodes[p, m:] = theta[-1]
        weights[p, :m] = s[0, :] ** 2
    spread = float(nodes.max() - nodes.min())
    if sigma is None:
        sigma = 0.01 * spread if spread > 0 else 1e-3
    if not (isinstance(sigma, (int, float)) and np.isfinite(sigma) and sigma > 0):
        raise InputError(f"{fname}(sigma={sigma!r}): need a positive finite width")
    if grid is None:
        grid_arr = np.linspace(nodes.min() - 5 * sigma, nodes.max() + 5 * sigma, num_points)
    else:
        grid_arr = np.asarray(grid, dtype=np.float64).reshape(-1)
        if grid_arr.size < 2 or not np.all(np.isfinite(grid_arr)):
            raise InputError(f"{fname}(grid=...): need at least two finite points")
    kern = np.exp(-0.5 * ((grid_arr[None, None, :] - nodes[:, :, None]) / sigma) ** 2)
    kern /= sigma * np.sqrt(2 * np.pi)
    per_probe = np.einsum("pj,pjt->pt", weights, kern)
    density = per_probe.mean(axis=0)
    if method.num_probes > 1:
        se = per_probe.std(axis=0, ddof=1) / np.sqrt(method.num_probes)
    else:
        se = np.zeros_like(density)
    return SpectralDensityResult(
        status="ok",
        message="",
        stats=Stats(wall_time=time.perf_counter() - t0, extra={"num_matvecs": used}),
        provenance=Provenance(
            analysis="spectral_density",
            method=repr(method),
            params={"sigma": float(sigma)},
            seed=seed,
        ),
        nodes=nodes,
        weights=weights,
        grid=grid_arr,
        density=density,
        density_standard_error=se,
        sigma=float(sigma),
        n=n,
        num_matvecs=used,
    )
