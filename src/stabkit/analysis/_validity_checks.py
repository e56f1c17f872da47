"""The failure-mode checks of :func:`~stabkit.analysis.closure_validity.closure_validity`.

Each check looks at one closure's moment trajectories (and the SSA estimate at the same
system size) and returns a flag with the evidence in words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from stabkit.analysis._closures import Poisson
from stabkit.analysis._moment_algebra import MomentSpace
from stabkit.analysis.moments import MomentInfo

__all__ = [
    "Oscillation",
    "equilibria_summary",
    "is_physical",
    "negative_variance",
    "oscillation",
    "poisson_state",
]


#: Smallest ratio of the amplitudes of consecutive windows of a sustained oscillation.
SUSTAINED_RATIO = 0.8


@dataclasses.dataclass(frozen=True)
class Oscillation:
    """Amplitudes of a mean in the last and the previous window (half peak-to-peak)."""

    amplitude: float
    previous_amplitude: float
    level: float

    @property
    def relative(self) -> float:
        return self.amplitude / max(abs(self.level), 1e-300)

    def sustained(self, tolerance: float) -> bool:
        """Amplitude above ``tolerance`` of the level, shrinking by under 20% per window.

        A slowly damped transient (ratio of consecutive amplitudes below 0.8) is not
        sustained; a limit cycle keeps a ratio near one.
        """
        return (
            self.relative > tolerance
            and self.amplitude >= SUSTAINED_RATIO * self.previous_amplitude
        )

    def settled(self, tolerance: float) -> bool:
        """Amplitude below ``tolerance`` of the level: at a fixed point."""
        return self.relative <= tolerance


def oscillation(
    values: np.ndarray, window: float = 0.25, noise: np.ndarray | None = None
) -> Oscillation:
    """Amplitude of a time series (shape ``(T,)``) in its last ``window`` fraction.

    With ``noise`` (standard errors, shape ``(T,)``) twice the mean standard error in a
    window is taken off its half peak-to-peak: an ensemble mean's noise is no oscillation.
    """
    num = len(values)
    width = max(2, round(window * num))
    last = values[num - width :]
    before = values[max(0, num - 2 * width) : num - width]

    def half_range(part: np.ndarray, errors: np.ndarray | None) -> float:
        if not part.size:
            return 0.0
        value = float(np.ptp(part) / 2)
        if errors is not None and errors.size and np.isfinite(errors).any():
            value = max(0.0, value - 2.0 * float(np.nanmean(errors)))
        return value

    noise_last = noise[num - width :] if noise is not None else None
    noise_before = noise[max(0, num - 2 * width) : num - width] if noise is not None else None
    amplitude = half_range(last, noise_last)
    previous = half_range(before, noise_before) if before.size else amplitude
    return Oscillation(amplitude, previous, float(np.mean(last)) if last.size else 0.0)


def negative_variance(
    t: np.ndarray, variances: np.ndarray, species: Sequence[str], scale: float
) -> tuple[bool, float, str]:
    """First time a variance (shape ``(T, S)``) drops below ``-1e-9 * scale``."""
    bad = variances < -1e-9 * max(scale, 1.0)
    if not bad.any():
        return False, float("nan"), ""
    k, s = np.argwhere(bad)[0]
    low = float(np.nanmin(variances))
    return (
        True,
        float(t[k]),
        f"variance of {species[s]} negative from t = {t[k]:.4g} (minimum {low:.4g})",
    )


def is_physical(state: Mapping[str, float], info: MomentInfo, tolerance: float = 1e-9) -> bool:
    """Means >= 0, variances >= 0 and |cov_ij| <= sqrt(var_i var_j) (central moments)."""
    n = len(info.species)
    means = np.array([state[v] for v in info.mean_names()])
    scale = max(1.0, float(np.max(np.abs(means))) if means.size else 1.0)
    if np.any(means < -tolerance * scale):
        return False
    if info.order < 2:
        return True
    cov = np.zeros((n, n))
    for name, alpha in info.indices.items():
        if sum(alpha) != 2:
            continue
        idx = [i for i, a in enumerate(alpha) for _ in range(a)]
        value = state[name]
        if not info.central:
            value -= means[idx[0]] * means[idx[1]]
        cov[idx[0], idx[1]] = cov[idx[1], idx[0]] = value
    eig = np.linalg.eigvalsh(cov)
    return bool(eig.min() >= -tolerance * max(1.0, float(np.abs(eig).max())))


def equilibria_summary(
    states: Sequence[Mapping[str, float]], stable: Sequence[bool], info: MomentInfo
) -> tuple[int, int, int, list[str]]:
    """(physical, physical and stable, unphysical) counts and lines describing them."""
    physical = stable_physical = unphysical = 0
    lines = []
    for state, is_stable in zip(states, stable, strict=True):
        ok = is_physical(state, info)
        physical += ok
        stable_physical += ok and is_stable
        unphysical += not ok
        means = ", ".join(f"{v}={state[v]:.4g}" for v in info.mean_names())
        lines.append(
            f"{'physical' if ok else 'unphysical'} {'stable' if is_stable else 'unstable'} "
            f"fixed point ({means})"
        )
    return physical, stable_physical, unphysical, lines


def poisson_state(info: MomentInfo, variables: Sequence[str], mean: np.ndarray) -> np.ndarray:
    """Moments of independent Poisson laws with means ``mean`` in the model's variables."""
    space = MomentSpace(
        info.species,
        1,
        central=True,
        closure=Poisson(),
        names=lambda alpha: "_p" + "_".join(map(str, alpha)),
    )
    subs = {sym: float(max(m, 0.0)) for sym, m in zip(space.means, mean, strict=True)}
    out = []
    for name in variables:
        alpha = tuple(info.indices[name])
        if sum(alpha) == 1:
            out.append(float(mean[alpha.index(1)]))
            continue
        expr = space.central_moment(alpha) if info.central else space.raw_moment(alpha)
        out.append(float(expr.subs(subs)))
    return np.array(out)
