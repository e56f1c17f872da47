r"""When can a moment closure be trusted? Closures against SSA over a range of system sizes.

:func:`closure_validity` solves the moment equations of each closure and simulates the
network with the SSA at every system size Omega, then flags the failure modes that
Schnoerr, Sanguinetti & Grima (2014) describe:

- **negative variances** anywhere on the closure's trajectory;
- **spurious oscillations**: the closure's means oscillate without decay at the end of
  the run (amplitude above ``oscillation_tol`` of the mean, shrinking by under 20% per
  quarter of the run) while the SSA mean has damped;
- **several steady states**: more than one stable physical fixed point (means and
  covariance matrix admissible) of the closure, where the CME has one stationary law;
  unstable and unphysical fixed points are reported as evidence;
- **dependence on initial conditions**: the closure started from the deterministic
  initial counts and from independent Poisson laws at the SSA's final means ends in
  different states: one on a sustained oscillation and the other not (a limit cycle
  coexisting with a stable fixed point), or both at different fixed points or cycles
  (a transient still decaying decides nothing);

and measures the relative errors of the means and variances at the final time against
the SSA, with the SSA's standard errors. Each (closure, Omega) gets a verdict --
``"valid"``, ``"inaccurate"`` (a relative error above tolerance and more than three
standard errors), ``"invalid"`` (a failure mode) or ``"failed"`` (the integration broke
down) -- with its evidence.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from stabkit.analysis._closures import (
    Closure,
    DerivativeMatching,
    Gamma,
    LogNormal,
    Normal,
    Poisson,
)
from stabkit.analysis._validity_report import (
    ClosureValidityResult,
    ClosureVerdict,
    judge,
)
from stabkit.analysis.moments import VOLUME, moment_equations
from stabkit.errors import InputError
from stabkit.results import Provenance, Stats

if TYPE_CHECKING:
    from stabkit.model.reactions import ReactionNetwork

__all__ = ["ClosureValidityResult", "ClosureVerdict", "closure_validity"]

log = logging.getLogger(__name__)

DEFAULT_CLOSURES: tuple[Closure, ...] = (
    Normal(),
    LogNormal(),
    Poisson(),
    Gamma(),
    DerivativeMatching(),
)


def _check_volumes(volumes: object) -> np.ndarray:
    try:
        out = np.asarray(volumes, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"volumes={volumes!r}: expected a sequence of positive numbers") from None
    if out.size == 0 or not np.all(np.isfinite(out)) or np.any(out <= 0):
        raise InputError(f"volumes={volumes!r}: expected one or more finite numbers > 0")
    return out


def _check_t_span(t_span: object) -> tuple[float, float]:
    try:
        t0, t1 = (float(v) for v in t_span)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(f"t_span={t_span!r}: expected two numbers (t0, t1)") from None
    if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
        raise InputError(f"t_span={t_span!r}: expected finite t0 < t1")
    return t0, t1


def _check_closures(closures: object, order: int) -> tuple[Closure, ...]:
    if isinstance(closures, Closure):
        closures = (closures,)
    if not isinstance(closures, Sequence) or not closures:
        raise InputError(
            f"closures={closures!r}: expected a sequence of closures, e.g. (Normal(),)"
        )
    for c in closures:
        if not isinstance(c, Closure):
            raise InputError(
                f"closures: {c!r} is not a closure; use Normal(), LogNormal(), Poisson(), "
                "Gamma(), DerivativeMatching() or Zero()"
            )
        c.check_order(order)
    names = [c.name for c in closures]
    if len(set(names)) != len(names):
        raise InputError(f"closures={closures!r}: a closure is listed twice")
    return tuple(closures)


def closure_validity(
    network: ReactionNetwork,
    *,
    closures: Sequence[Closure] | Closure = DEFAULT_CLOSURES,
    order: int = 2,
    volumes: Sequence[float] | np.ndarray = (10.0, 30.0, 100.0, 300.0),
    t_span: tuple[float, float] = (0.0, 50.0),
    num_runs: int = 1000,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
    initial_concentrations: Mapping[str, float] | None = None,
    central: bool = True,
    num_times: int = 401,
    mean_rtol: float = 0.1,
    variance_rtol: float = 0.3,
    oscillation_tol: float = 0.02,
    backend: str = "numba",
) -> ClosureValidityResult:
    r"""Compare moment closures with the SSA over system sizes and flag failure modes.

    Parameters
    ----------
    network
        A :class:`~stabkit.model.reactions.ReactionNetwork` with polynomial propensities.
    closures
        Closure objects (:class:`Normal`, :class:`LogNormal`, :class:`Poisson`,
        :class:`Gamma`, :class:`DerivativeMatching`, :class:`Zero`).
    order
        Truncation order of the moment equations.
    volumes
        System sizes Omega, shape ``(V,)``.
    t_span
        ``(t0, t1)`` of the closure solutions and SSA runs.
    num_runs
        SSA trajectories per system size.
    seed
        Seed; system size ``i`` uses the ``i``-th child of ``SeedSequence(seed)``.
    params
        Parameter values overriding the network's defaults.
    initial_concentrations
        ``{species: c}``: start every size from counts ``round(c * Omega)``; ``None``:
        the network's initial counts at every size.
    central
        Central (True) or raw (False) moment equations.
    num_times
        Output times, equally spaced over ``t_span``.
    mean_rtol, variance_rtol
        Relative errors at the final time above which (and beyond three standard errors)
        a closure is ``"inaccurate"``.
    oscillation_tol
        Half peak-to-peak amplitude, relative to the mean, above which an oscillation in
        the last quarter of the run counts as sustained when it also shrinks by less
        than 20% from the quarter before.
    backend
        ``"numba"`` or ``"numpy"`` kernels for the moment equations.

    Returns
    -------
    ClosureValidityResult
        Trajectories of both, a :class:`ClosureVerdict` per (closure, Omega),
        ``to_frame()`` and ``plot()``.

    Raises
    ------
    InputError
        Bad closures, volumes, ``t_span``, counts or tolerances; a network whose
        propensities are not polynomial.

    Notes
    -----
    Relative error of the mean: max_s |m_s - m_s^SSA| / |m_s^SSA| at t1 (likewise for the
    variance), with z = (m - m^SSA) / SE. Schnoerr, Sanguinetti & Grima, J. Chem. Phys.
    141, 084103 (2014).

    Examples
    --------
    >>> from stabkit.model.reactions import ReactionNetwork
    >>> net = ReactionNetwork.from_strings("dimer", species={"X": 0},
    ...     reactions={"b": "0 -> X @ k1", "d": "2 X -> 0 @ k2"},
    ...     parameters={"k1": 1.0, "k2": 1.0})
    >>> res = closure_validity(net, closures=(Normal(),), volumes=(20.0,), t_span=(0, 4),
    ...     num_runs=300, num_times=41, backend="numpy")
    >>> res.verdict("normal", 20.0).verdict
    'valid'
    """
    from stabkit.analysis.equilibria import Algebraic, MultiStartNewton, find_equilibria
    from stabkit.integrate.solve import solve
    from stabkit.integrate.ssa import ssa
    from stabkit.model.reactions import ReactionNetwork

    if not isinstance(network, ReactionNetwork):
        raise InputError(f"network={network!r}: expected a ReactionNetwork")
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise InputError(f"order={order!r}: expected an integer >= 1")
    chosen = _check_closures(closures, order)
    omegas = _check_volumes(volumes)
    t0, t1 = _check_t_span(t_span)
    if isinstance(num_times, bool) or not isinstance(num_times, int) or num_times < 8:
        raise InputError(f"num_times={num_times!r}: expected an integer >= 8")
    if isinstance(num_runs, bool) or not isinstance(num_runs, int) or num_runs < 2:
        raise InputError(f"num_runs={num_runs!r}: expected an integer >= 2 (standard errors)")
    for name, value in (
        ("mean_rtol", mean_rtol),
        ("variance_rtol", variance_rtol),
        ("oscillation_tol", oscillation_tol),
    ):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"{name}={value!r}: expected a number > 0")
    if initial_concentrations is not None:
        unknown = [s for s in initial_concentrations if s not in network.species]
        if unknown:
            raise InputError(
                f"initial_concentrations: unknown species {unknown}; the network has "
                f"{', '.join(network.species)}"
            )
    start = time.perf_counter()
    grid = np.linspace(t0, t1, num_times)
    models = {
        c.name: moment_equations(network, order, closure=c, central=central, params=params)
        for c in chosen
    }
    children = np.random.SeedSequence(seed).spawn(len(omegas))
    num_species = len(network.species)
    shape = (len(omegas), num_times, num_species)
    ssa_mean, ssa_mean_se = np.full(shape, np.nan), np.full(shape, np.nan)
    ssa_var, ssa_var_se = np.full(shape, np.nan), np.full(shape, np.nan)
    cshape = (len(chosen), *shape)
    clo_mean, clo_var = np.full(cshape, np.nan), np.full(cshape, np.nan)
    verdicts: list[ClosureVerdict] = []
    notes: list[str] = []
    compile_time = 0.0
    ssa_params = {k: v for k, v in (params or {}).items() if k != VOLUME}
    for v, omega in enumerate(omegas):
        net = network.with_volume(float(omega))
        if initial_concentrations is not None:
            net = net.with_counts(
                **{s: round(c * omega) for s, c in initial_concentrations.items()}
            )
        sim = ssa(
            net, (t0, t1), num_runs=num_runs, t_eval=grid, seed=children[v], params=ssa_params
        )
        compile_time += sim.stats.compile_time
        if sim.status != "ok":
            notes.append(f"Omega={omega:g}: SSA {sim.status}: {sim.message}")
        mean, var = sim.mean(), sim.variance()
        ssa_mean[v] = mean.value.reshape(num_times, -1)
        ssa_mean_se[v] = mean.standard_error.reshape(num_times, -1)
        ssa_var[v] = var.value.reshape(num_times, -1)
        ssa_var_se[v] = var.standard_error.reshape(num_times, -1)
        for c, closure in enumerate(chosen):
            model = models[closure.name]
            point = {VOLUME: float(omega)} if VOLUME in model.parameters else None
            if point is None and float(omega) != float(network.volume):
                model = moment_equations(
                    net, order, closure=closure, central=central, params=params
                )
            verdict, cm, cv = judge(
                closure.name,
                float(omega),
                model,
                net,
                point,
                grid,
                ssa_mean[v],
                ssa_mean_se[v],
                ssa_var[v],
                ssa_var_se[v],
                solve=solve,
                find_equilibria=find_equilibria,
                methods=(Algebraic, MultiStartNewton),
                backend=backend,
                tolerances=(mean_rtol, variance_rtol, oscillation_tol),
            )
            clo_mean[c, v], clo_var[c, v] = cm, cv
            verdicts.append(verdict)
            log.info("closure %s at Omega=%g: %s", closure.name, omega, verdict.verdict)
    counts: dict[str, int] = {}
    for item in verdicts:
        counts[item.verdict] = counts.get(item.verdict, 0) + 1
    summary = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items()))
    status = "ok" if not notes else "partial"
    return ClosureValidityResult(
        status=status,
        message="; ".join([summary, *notes]),
        stats=Stats(wall_time=time.perf_counter() - start, compile_time=compile_time),
        provenance=Provenance(
            model_hash=getattr(network, "content_hash", None),
            analysis="closure_validity",
            method=", ".join(repr(c) for c in chosen) + f"; order={order}; central={central}",
            params=dict(network.default_parameter_map(), **(params or {})),
            seed=seed,
        ),
        closures=tuple(c.name for c in chosen),
        volumes=omegas,
        species=tuple(network.species),
        order=order,
        t=grid,
        ssa_mean=ssa_mean,
        ssa_mean_se=ssa_mean_se,
        ssa_variance=ssa_var,
        ssa_variance_se=ssa_var_se,
        closure_mean=clo_mean,
        closure_variance=clo_var,
        verdicts=tuple(verdicts),
    )
