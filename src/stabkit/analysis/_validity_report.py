"""Verdicts and the result type of :func:`~stabkit.analysis.closure_validity.closure_validity`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._validity_checks import (
    equilibria_summary,
    negative_variance,
    oscillation,
    poisson_state,
)
from stabkit.analysis.moments import means_of, moment_info, variances_of
from stabkit.errors import InputError, suggest
from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from stabkit.model.model import Model

__all__ = ["ClosureValidityResult", "ClosureVerdict", "judge"]

#: Verdicts, best first.
VERDICTS = ("valid", "inaccurate", "invalid", "failed")
_MAX_ALGEBRAIC = 6  # variables up to which fixed points are found by Groebner elimination


@dataclasses.dataclass(frozen=True)
class ClosureVerdict:
    """One closure at one system size: the verdict and its evidence.

    Attributes
    ----------
    closure, volume
        Which closure, which Omega.
    verdict
        ``"valid"``, ``"inaccurate"``, ``"invalid"`` or ``"failed"``.
    mean_error, variance_error
        Largest relative error over species at the final time against the SSA.
    mean_z, variance_z
        The same differences in SSA standard errors (largest magnitude).
    negative_variance, spurious_oscillation, multiple_steady_states, initial_condition_dependence
        The failure modes of Schnoerr et al. (2014); ``multiple_steady_states``: more
        than one stable physical fixed point (unstable ones are listed in the evidence).
    num_physical_steady_states, num_stable_physical_steady_states, num_unphysical_steady_states
        Fixed points of the closure (physical: means >= 0, covariance matrix positive
        semi-definite); -1 where the search failed.
    oscillation_amplitude, ssa_oscillation_amplitude
        Half peak-to-peak of the first species' mean over the last quarter, relative to
        its level.
    evidence
        One line per finding.
    """

    closure: str
    volume: float
    verdict: str
    mean_error: float
    variance_error: float
    mean_z: float
    variance_z: float
    negative_variance: bool
    spurious_oscillation: bool
    multiple_steady_states: bool
    initial_condition_dependence: bool
    num_physical_steady_states: int
    num_stable_physical_steady_states: int
    num_unphysical_steady_states: int
    oscillation_amplitude: float
    ssa_oscillation_amplitude: float
    evidence: tuple[str, ...] = ()

    @property
    def failure_modes(self) -> tuple[str, ...]:
        names = (
            "negative_variance",
            "spurious_oscillation",
            "multiple_steady_states",
            "initial_condition_dependence",
        )
        return tuple(n for n in names if getattr(self, n))


@dataclasses.dataclass(frozen=True, repr=False)
class ClosureValidityResult(Result):
    """Result of :func:`~stabkit.analysis.closure_validity.closure_validity`.

    Attributes
    ----------
    closures, volumes, species, order
        What was compared: closure names, Omega values ``(V,)``, species.
    t
        Output times ``(T,)``.
    ssa_mean, ssa_mean_se, ssa_variance, ssa_variance_se
        SSA estimates and standard errors, shape ``(V, T, S)``.
    closure_mean, closure_variance
        Closure solutions, shape ``(C, V, T, S)`` (NaN after a failed integration).
    verdicts
        One :class:`ClosureVerdict` per (closure, volume), closure-major.
    """

    closures: tuple[str, ...] = ()
    volumes: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    species: tuple[str, ...] = ()
    order: int = 2
    t: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    ssa_mean: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    ssa_mean_se: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    ssa_variance: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    ssa_variance_se: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    closure_mean: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0, 0)))
    closure_variance: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0, 0)))
    verdicts: tuple[ClosureVerdict, ...] = ()

    def verdict(self, closure: str, volume: float) -> ClosureVerdict:
        """The verdict of ``closure`` (its name, e.g. ``"normal"``) at system size ``volume``."""
        if closure not in self.closures:
            hint = suggest(closure, self.closures)
            raise InputError(
                f"closure={closure!r}: not compared; the result has {', '.join(self.closures)}"
                + (f"; {hint}" if hint else "")
            )
        for item in self.verdicts:
            if item.closure == closure and math.isclose(item.volume, float(volume), rel_tol=1e-12):
                return item
        raise InputError(f"volume={volume!r}: not compared; the result has {self.volumes.tolist()}")

    def valid_volumes(self, closure: str) -> np.ndarray:
        """System sizes at which ``closure`` was judged ``"valid"``."""
        self.verdict(closure, float(self.volumes[0]))  # checks the name
        return np.array(
            [v.volume for v in self.verdicts if v.closure == closure and v.verdict == "valid"]
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (closure, volume): verdict, errors, flags, evidence."""
        import pandas as pd

        rows = []
        for item in self.verdicts:
            row = dataclasses.asdict(item)
            row["evidence"] = "; ".join(item.evidence)
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Relative errors against Omega with the failure modes marked (matplotlib)."""
        from stabkit.report.moments_figures import plot_closure_validity

        return plot_closure_validity(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        for name in self.closures:
            marks = [f"{v.volume:g}:{v.verdict}" for v in self.verdicts if v.closure == name]
            rows.append((name, ", ".join(marks)))
        return rows

    def __repr__(self) -> str:
        return (
            f"ClosureValidityResult(status={self.status!r}, closures={list(self.closures)}, "
            f"volumes={self.volumes.tolist()}, message={self.message!r})"
        )


# --------------------------------------------------------------------------- judging
def _deterministic_state(model: Model, counts: np.ndarray) -> np.ndarray:
    info = moment_info(model)
    out = []
    for name in model.variables:
        alpha = np.asarray(info.indices[name])
        if alpha.sum() == 1 or not info.central:
            out.append(float(np.prod(counts**alpha)))
        else:
            out.append(0.0)
    return np.array(out)


def _box(model: Model, scale: float) -> np.ndarray:
    info = moment_info(model)
    rows = []
    for name in model.variables:
        k = sum(info.indices[name])
        if k == 1:
            rows.append((0.0, 4.0 * scale))
        else:
            rows.append((-((4.0 * scale) ** k), (4.0 * scale) ** k))
    return np.array(rows)


def _steady_states(
    model: Model,
    point: Mapping[str, float] | None,
    scale: float,
    find_equilibria: Callable[..., Any],
    methods: tuple[type, type],
    backend: str,
) -> tuple[int, int, int, list[str]]:
    algebraic, multistart = methods
    polynomial = all(eq.is_polynomial(*model.variable_symbols) for eq in model.equations)
    try:
        if polynomial and model.num_variables <= _MAX_ALGEBRAIC:
            found = find_equilibria(model, point, method=algebraic(), backend=backend, throw=False)
        else:
            found = find_equilibria(
                model,
                point,
                bounds=_box(model, scale),
                method=multistart(num_starts=64, seed=0),
                backend=backend,
                throw=False,
            )
    except Exception as err:
        return -1, -1, -1, [f"fixed-point search failed: {err}"]
    states = [e.state_map for e in found.equilibria]
    stable = [bool(e.is_stable) for e in found.equilibria]
    physical, stable_physical, unphysical, lines = equilibria_summary(
        states, stable, moment_info(model)
    )
    lines.insert(0, f"fixed points ({found.guarantee}): {len(states)}")
    return physical, stable_physical, unphysical, lines


def _relative(diff: np.ndarray, ref: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(diff) / np.maximum(np.abs(ref), 1e-12)
    return float(np.nanmax(rel)) if np.isfinite(rel).any() else float("nan")


def _zscore(diff: np.ndarray, se: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / np.where(se > 0, se, np.nan)
    finite = z[np.isfinite(z)]
    return float(finite[np.argmax(np.abs(finite))]) if finite.size else float("nan")


def judge(
    closure: str,
    volume: float,
    model: Model,
    network: Any,
    point: Mapping[str, float] | None,
    grid: np.ndarray,
    ssa_mean: np.ndarray,
    ssa_mean_se: np.ndarray,
    ssa_var: np.ndarray,
    ssa_var_se: np.ndarray,
    *,
    solve: Callable[..., Any],
    find_equilibria: Callable[..., Any],
    methods: tuple[type, type],
    backend: str,
    tolerances: tuple[float, float, float],
) -> tuple[ClosureVerdict, np.ndarray, np.ndarray]:
    """Solve one closure at one size, run every check, and give the verdict."""
    mean_rtol, variance_rtol, osc_tol = tolerances
    species = tuple(network.species)
    num_species = len(species)
    info = moment_info(model)
    counts = np.asarray(network.initial_counts, dtype=float)
    t0, t1 = float(grid[0]), float(grid[-1])
    evidence: list[str] = []
    cm = np.full((len(grid), num_species), np.nan)
    cv = np.full((len(grid), num_species), np.nan)

    traj = solve(
        model,
        _deterministic_state(model, counts),
        (t0, t1),
        t_eval=grid,
        params=point,
        backend=backend,
    )
    k = min(len(traj.t), len(grid))
    if k:
        cm[:k] = means_of(model, traj.y[:k])
        if info.order >= 2:
            cv[:k] = variances_of(model, traj.y[:k])
    finished = traj.status == "ok" and k == len(grid) and bool(np.all(np.isfinite(traj.y)))
    scale = float(np.nanmax(np.abs(ssa_mean[-1]))) if np.isfinite(ssa_mean[-1]).any() else 1.0
    scale = max(scale, 1.0)

    negative, _, line = negative_variance(grid[:k], cv[:k], species, scale**2)
    if negative:
        evidence.append(line)

    # oscillations: closure vs SSA mean, species by species
    spurious = False
    amplitude = ssa_amplitude = float("nan")
    if finished:
        for s in range(num_species):
            own = oscillation(cm[:, s])
            ref = oscillation(ssa_mean[:, s], noise=ssa_mean_se[:, s])
            if s == 0:
                amplitude, ssa_amplitude = own.relative, ref.relative
            if own.sustained(osc_tol) and ref.amplitude < 0.5 * own.amplitude:
                spurious = True
                evidence.append(
                    f"sustained oscillation of mean {species[s]} (amplitude {own.relative:.3g} "
                    f"of the mean) where the SSA mean has amplitude {ref.relative:.3g}"
                )

    physical, stable_physical, unphysical, lines = _steady_states(
        model, point, scale, find_equilibria, methods, backend
    )
    multiple = stable_physical > 1
    if multiple or unphysical > 0 or physical > 1:
        evidence.extend(lines)

    # initial conditions: Poisson laws at the SSA's final means
    dependent = False
    if finished and np.isfinite(ssa_mean[-1]).all():
        other = solve(
            model,
            poisson_state(info, model.variables, ssa_mean[-1]),
            (t0, t1),
            t_eval=grid,
            params=point,
            backend=backend,
        )
        if other.status == "ok" and len(other.t) == len(grid) and np.isfinite(other.y).all():
            om = means_of(model, other.y)
            for s in range(num_species):
                a, b = oscillation(cm[:, s]), oscillation(om[:, s])
                level = max(abs(a.level), abs(b.level), 1e-12)
                apart = (
                    abs(a.level - b.level) / level > 5 * osc_tol
                    or abs(a.amplitude - b.amplitude) / level > 5 * osc_tol
                )
                a_cycle, b_cycle = a.sustained(osc_tol), b.sustained(osc_tol)
                # one oscillates for good and the other does not; or both ended at
                # different fixed points or on different cycles (a transient still
                # decaying in either run decides nothing)
                if a_cycle != b_cycle or (
                    apart and ((a_cycle and b_cycle) or (a.settled(osc_tol) and b.settled(osc_tol)))
                ):
                    dependent = True
                    evidence.append(
                        f"initial conditions matter: from the deterministic start mean "
                        f"{species[s]} ends at {a.level:.4g} +- {a.amplitude:.3g}, from Poisson "
                        f"laws at the SSA means at {b.level:.4g} +- {b.amplitude:.3g}"
                    )
                    break
        else:
            evidence.append("the run from Poisson initial laws failed: " + other.message)
    if dependent and stable_physical >= 1 and spurious:
        evidence.append("bistable: a stable physical fixed point coexists with an oscillation")

    mean_error = _relative(cm[-1] - ssa_mean[-1], ssa_mean[-1])
    mean_z = _zscore(cm[-1] - ssa_mean[-1], ssa_mean_se[-1])
    variance_error = _relative(cv[-1] - ssa_var[-1], ssa_var[-1])
    variance_z = _zscore(cv[-1] - ssa_var[-1], ssa_var_se[-1])

    if not finished:
        verdict = "failed"
        evidence.insert(
            0,
            f"integration stopped: {traj.status} at t = {float(getattr(traj, 't_final', t0)):.4g}",
        )
    elif negative or spurious or multiple or dependent:
        verdict = "invalid"
    elif (mean_error > mean_rtol and abs(mean_z) > 3) or (
        info.order >= 2 and variance_error > variance_rtol and abs(variance_z) > 3
    ):
        verdict = "inaccurate"
        evidence.append(
            f"final-time relative errors: mean {mean_error:.3g} ({mean_z:+.1f} SE), "
            f"variance {variance_error:.3g} ({variance_z:+.1f} SE)"
        )
    else:
        verdict = "valid"
        evidence.append(
            f"agrees with the SSA: mean error {mean_error:.3g} ({mean_z:+.1f} SE), "
            f"variance error {variance_error:.3g} ({variance_z:+.1f} SE)"
        )
    result = ClosureVerdict(
        closure=closure,
        volume=volume,
        verdict=verdict,
        mean_error=mean_error,
        variance_error=variance_error,
        mean_z=mean_z,
        variance_z=variance_z,
        negative_variance=negative,
        spurious_oscillation=spurious,
        multiple_steady_states=multiple,
        initial_condition_dependence=dependent,
        num_physical_steady_states=physical,
        num_stable_physical_steady_states=stable_physical,
        num_unphysical_steady_states=unphysical,
        oscillation_amplitude=amplitude,
        ssa_oscillation_amplitude=ssa_amplitude,
        evidence=tuple(evidence),
    )
    return result, cm, cv
