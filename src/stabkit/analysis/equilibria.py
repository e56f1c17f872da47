"""All equilibria of a model in a box, with the guarantee stated honestly.

:func:`find_equilibria` solves f(x) = 0 (flows) or f^k(x) = x (maps, points of period k)
with one of four methods, and states which guarantee the answer carries:

``"complete (algebraic)"``
    :class:`Algebraic`: polynomial and rational right-hand sides. A lex Groebner basis
    of the numerators gives every solution; the real ones in the box are returned
    (points where a denominator vanishes are dropped).
``"complete (interval-certified)"``
    :class:`IntervalNewton`: smooth right-hand sides built from + - * / powers and the
    elementary functions. Recursive bisection with interval arithmetic (outward
    rounding) and the Krawczyk test proves, box by box, that a box holds no
    equilibrium or exactly one; when every box is decided, the list is complete.
``"incomplete (multi-start; N boxes uncertified)"``
    :class:`IntervalNewton` ran out of budget, or met singular equilibria, in N boxes;
    damped, deflated Newton from starts there and across the box searched for more
    (``"incomplete (N boxes uncertified)"`` when ``IntervalNewton(fallback=None)``).
``"incomplete (multi-start)"``
    :class:`MultiStartNewton` alone (models written as Python functions, or
    discontinuous right-hand sides): Latin-hypercube starts, deflation (Farrell et al. 2015).

:class:`Auto` (the default) picks the strongest method the model allows.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._newton import NewtonSettings
from stabkit.analysis._search import (
    SearchContext,
    SearchOutcome,
    StartPlan,
    algebraic_search,
    interval_search,
    multistart_search,
    parse_bounds,
    select_points,
)
from stabkit.analysis._system import CompiledSystem, check_model, check_period
from stabkit.analysis.stability import LinearStability, StabilityType, stability_at
from stabkit.errors import ConvergenceError, InputError
from stabkit.model.model import Model
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

    from stabkit.analysis._algebraic import PolynomialSystem

__all__ = [
    "Algebraic",
    "Auto",
    "EquilibriaResult",
    "Equilibrium",
    "EquilibriumMethod",
    "IntervalNewton",
    "MultiStartNewton",
    "find_equilibria",
]


def _positive_int(owner: object, name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(
            f"{type(owner).__name__}({name}={value!r}): expected an integer >= {minimum}"
        )


def _positive_float(owner: object, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(f"{type(owner).__name__}({name}={value!r}): expected a number > 0")
    if not (np.isfinite(float(value)) and float(value) > 0):
        raise InputError(f"{type(owner).__name__}({name}={value!r}): expected a number > 0")


@dataclasses.dataclass(frozen=True)
class EquilibriumMethod:
    """Base of the methods of :func:`find_equilibria`."""

    def _run(self, ctx: SearchContext) -> SearchOutcome:  # pragma: no cover - overridden
        raise InputError(f"{type(self).__name__} is abstract; use Auto(), Algebraic(), ...")


@dataclasses.dataclass(frozen=True)
class MultiStartNewton(EquilibriumMethod):
    """Damped Newton from Latin-hypercube starts in the box, deflating the roots found.

    Parameters
    ----------
    num_starts
        Number of starting points (a Latin hypercube over the box: one point in each of
        ``num_starts`` slabs along every side).
    seed
        Seed of the sample: the same seed gives the same starts.
    max_iterations
        Newton iterations per run.
    max_deflations
        Roots sought from one start before moving on: after each root is found, Newton
        restarts from the same point with that root deflated.
    deflation_power, deflation_shift
        p and shift of the deflation operator prod_i (||x - r_i||^-p + shift).
    """

    num_starts: int = 256
    seed: int | None = 0
    max_iterations: int = 50
    max_deflations: int = 8
    deflation_power: float = 2.0
    deflation_shift: float = 1.0

    def __post_init__(self) -> None:
        _positive_int(self, "num_starts", self.num_starts)
        _positive_int(self, "max_iterations", self.max_iterations)
        _positive_int(self, "max_deflations", self.max_deflations)
        _positive_float(self, "deflation_power", self.deflation_power)
        _positive_float(self, "deflation_shift", self.deflation_shift)
        if self.seed is not None:
            _positive_int(self, "seed", self.seed, minimum=0)

    def _run(self, ctx: SearchContext) -> SearchOutcome:
        ctx.require_finite_bounds("MultiStartNewton()")
        return multistart_search(ctx, self._plan())

    def _plan(self) -> StartPlan:
        settings = NewtonSettings(
            max_iterations=self.max_iterations,
            deflation_power=self.deflation_power,
            deflation_shift=self.deflation_shift,
            max_deflations=self.max_deflations,
        )
        return StartPlan(self.num_starts, self.seed, settings)


@dataclasses.dataclass(frozen=True)
class IntervalNewton(EquilibriumMethod):
    """Bisection with interval arithmetic and the Krawczyk test; certifies the count.

    Parameters
    ----------
    max_boxes
        Budget: boxes examined at most.
    min_width
        Boxes narrower than this (relative to the search box, every side) are not split
        further and count as uncertified (singular equilibria end up there).
    fallback
        Where boxes stay uncertified, this multi-start Newton searches them and the
        whole box; ``None`` skips it.
    """

    max_boxes: int = 50_000
    min_width: float = 1e-9
    fallback: MultiStartNewton | None = dataclasses.field(default_factory=MultiStartNewton)

    def __post_init__(self) -> None:
        _positive_int(self, "max_boxes", self.max_boxes)
        _positive_float(self, "min_width", self.min_width)
        if self.fallback is not None and not isinstance(self.fallback, MultiStartNewton):
            raise InputError(
                f"IntervalNewton(fallback={self.fallback!r}): "
                "expected MultiStartNewton(...) or None"
            )

    def _run(self, ctx: SearchContext) -> SearchOutcome:
        ctx.require_finite_bounds("IntervalNewton()")
        plan = self.fallback._plan() if self.fallback is not None else None
        return interval_search(ctx, self.max_boxes, self.min_width, plan)


@dataclasses.dataclass(frozen=True)
class Algebraic(EquilibriumMethod):
    """Exact elimination for polynomial and rational right-hand sides (lex Groebner basis).

    Parameters
    ----------
    digits
        Working precision (decimal digits) of the univariate root finding.
    """

    digits: int = 60

    def __post_init__(self) -> None:
        _positive_int(self, "digits", self.digits, minimum=20)

    def _run(self, ctx: SearchContext, system: PolynomialSystem | None = None) -> SearchOutcome:
        return algebraic_search(ctx, self.digits, system)


@dataclasses.dataclass(frozen=True)
class Auto(EquilibriumMethod):
    """Pick by model structure: algebraic, else interval-certified, else multi-start.

    Parameters
    ----------
    max_bezout_number
        Polynomial systems whose Bezout number (product of the degrees) exceeds this go
        to the interval method instead of Groebner bases.
    algebraic
        The method for polynomial models.
    interval, multistart
        The methods used when the model is not (small and) polynomial: the interval
        method when every term has an interval rule, else multi-start.
    """

    max_bezout_number: int = 256
    algebraic: Algebraic = dataclasses.field(default_factory=Algebraic)
    interval: IntervalNewton = dataclasses.field(default_factory=IntervalNewton)
    multistart: MultiStartNewton = dataclasses.field(default_factory=MultiStartNewton)

    def __post_init__(self) -> None:
        _positive_int(self, "max_bezout_number", self.max_bezout_number)

    def _run(self, ctx: SearchContext) -> SearchOutcome:
        reason = ctx.polynomial_reason()
        if reason is None:
            poly = ctx.polynomial()
            assert poly is not None
            if poly.bezout_number <= self.max_bezout_number:
                return self.algebraic._run(ctx, poly)
            reason = (
                f"its Bezout number {poly.bezout_number} exceeds "
                f"Auto(max_bezout_number={self.max_bezout_number})"
            )
        if not ctx.bounds_finite:
            ctx.require_finite_bounds(
                "Auto()", why=f"the model is not solved algebraically ({reason})"
            )
        interval_reason = ctx.interval_reason()
        if interval_reason is None:
            return self.interval._run(ctx)
        outcome = self.multistart._run(ctx)
        note = f"interval test not applicable: {interval_reason}"
        return dataclasses.replace(outcome, notes=(*outcome.notes, note))


@dataclasses.dataclass(frozen=True)
class Equilibrium:
    """One equilibrium (or point of period k of a map) and its linear stability.

    Attributes
    ----------
    state
        The point, shape ``(n,)``.
    variables
        Variable names.
    stability
        :class:`~stabkit.analysis.stability.LinearStability` at the point.
    residual
        ``||f(x)||_inf`` (flows) or ``||f^k(x) - x||_inf`` (maps).
    certified
        True when the point comes from an exact elimination or from a box proved by
        interval arithmetic to hold exactly one equilibrium; False when only Newton
        found it.
    period
        Period (maps), 1 for flows.
    orbit
        Index of the periodic orbit the point belongs to (points of one orbit share it).
    """

    state: np.ndarray
    variables: tuple[str, ...]
    stability: LinearStability
    residual: float
    certified: bool
    period: int = 1
    orbit: int = 0

    @property
    def state_map(self) -> dict[str, float]:
        """``{variable: value}``."""
        return {v: float(x) for v, x in zip(self.variables, self.state, strict=True)}

    @property
    def classification(self) -> StabilityType:
        return self.stability.classification

    @property
    def is_stable(self) -> bool:
        return self.stability.is_stable

    @property
    def eigenvalues(self) -> np.ndarray:
        return self.stability.eigenvalues

    def __repr__(self) -> str:
        point = ", ".join(f"{k}={v:.6g}" for k, v in self.state_map.items())
        return f"Equilibrium({point}; {self.classification.value})"


@dataclasses.dataclass(frozen=True, repr=False)
class EquilibriaResult(Result):
    """Result of :func:`find_equilibria`.

    Attributes
    ----------
    equilibria
        :class:`Equilibrium` objects, sorted by state (first variable first).
    guarantee
        What is proved about the list: ``"complete (algebraic)"``, ``"complete
        (interval-certified)"``, ``"incomplete (multi-start; N boxes uncertified)"``,
        ``"incomplete (N boxes uncertified)"``, ``"incomplete (multi-start)"`` or
        ``"incomplete (equilibria not isolated)"``.
    complete
        Whether the list is proved to hold every equilibrium in the box.
    num_uncertified_boxes
        Boxes the interval method could neither exclude nor certify.
    variables
        Variable names.
    bounds
        The box searched, shape ``(n, 2)`` (infinite sides where none were given).
    kind
        ``"ode"`` or ``"map"``.
    period
        Period of the points (maps).
    """

    equilibria: tuple[Equilibrium, ...] = ()
    guarantee: str = ""
    complete: bool = False
    num_uncertified_boxes: int = 0
    variables: tuple[str, ...] = ()
    bounds: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 2)))
    kind: str = "ode"
    period: int = 1

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """The equilibria in the plane of two variables, filled if stable (see
        :func:`stabkit.report.phase_plane.plot_equilibria`; for nullclines and the vector
        field use :func:`stabkit.report.phase_plane.plot_phase_plane`)."""
        from stabkit.report.phase_plane import plot_equilibria

        return plot_equilibria(self, ax, **kwargs)

    @property
    def states(self) -> np.ndarray:
        """The points as rows, shape ``(num_equilibria, n)``."""
        if not self.equilibria:
            return np.empty((0, len(self.variables)))
        return np.stack([e.state for e in self.equilibria])

    @property
    def stable(self) -> tuple[Equilibrium, ...]:
        """The linearly asymptotically stable equilibria."""
        return tuple(e for e in self.equilibria if e.is_stable)

    def to_frame(self) -> pd.DataFrame:
        """One row per equilibrium: state, classification, leading eigenvalue, dimensions."""
        import pandas as pd

        lead = "max_modulus" if self.kind == "map" else "max_real_part"
        rows = []
        for e in self.equilibria:
            s = e.stability
            row: dict[str, object] = dict(e.state_map)
            row["classification"] = s.classification.value
            row[lead] = s.max_modulus if self.kind == "map" else s.max_real_part
            row["dim_stable"] = s.dim_stable
            row["dim_unstable"] = s.dim_unstable
            row["dim_centre"] = s.dim_centre
            row["is_stable"] = s.is_stable
            row["residual"] = e.residual
            row["certified"] = e.certified
            if self.period > 1:
                row["orbit"] = e.orbit
            rows.append(row)
        columns = [*self.variables, "classification", lead, "dim_stable", "dim_unstable"]
        columns += ["dim_centre", "is_stable", "residual", "certified"]
        columns += ["orbit"] if self.period > 1 else []
        frame = pd.DataFrame(rows, columns=columns)
        frame.attrs["guarantee"] = self.guarantee
        return frame

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(1, ("guarantee", self.guarantee))
        rows.insert(2, ("equilibria", str(len(self.equilibria))))
        return rows

    def __repr__(self) -> str:
        return (
            f"EquilibriaResult({len(self.equilibria)} found, guarantee={self.guarantee!r}, "
            f"status={self.status!r})"
        )


def find_equilibria(
    model: Model,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    *,
    bounds: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | np.ndarray | None = None,
    method: EquilibriumMethod | None = None,
    period: int = 1,
    backend: str = "numba",
    throw: bool = True,
) -> EquilibriaResult:
    """All equilibria (flows) or all points of period ``period`` (maps) in a box.

    Parameters
    ----------
    model
        A flow or a map; symbolic or written as Python functions (then multi-start only).
    params
        Parameter values overriding the model's defaults (``{name: value}``).
    bounds
        The box: ``{variable: (lo, hi)}`` or ``n`` pairs in model order, or an array of
        shape ``(n, 2)``. Optional for :class:`Algebraic` (unbounded sides allowed: all
        real equilibria); every side finite for the other methods.
    method
        :class:`Auto` (default), :class:`Algebraic`, :class:`IntervalNewton` or
        :class:`MultiStartNewton`.
    period
        Maps only: points with f^period(x) = x and no smaller period.
    backend
        ``"numba"`` or ``"numpy"`` kernels for Newton and the Jacobians.
    throw
        Raise :class:`~stabkit.errors.ConvergenceError` when root finding fails (else the
        result has ``status="failed"``).

    Returns
    -------
    EquilibriaResult
        ``equilibria`` (each with its state and linear stability), ``guarantee``,
        ``complete``; ``to_frame()`` gives one row per equilibrium.

    Raises
    ------
    InputError
        Malformed or missing bounds, unknown parameter or variable names, a method the
        model does not allow (``Algebraic()`` on a non-polynomial model), delay or
        time-dependent models, a period for a flow.

    Notes
    -----
    Equilibria solve f(x) = 0; points of period k of a map solve F(x) = f^k(x) - x = 0.
    References: Cox, Little and O'Shea (2015), *Ideals, Varieties, and Algorithms*;
    Neumaier (1990), *Interval Methods for Systems of Equations*; Farrell, Birkisson
    and Funke (2015), SIAM J. Sci. Comput. 37(4), A2026-A2045.

    Examples
    --------
    >>> from stabkit.model import library
    >>> res = find_equilibria(library.lorenz(rho=28.0), backend="numpy")
    >>> res.guarantee, len(res.equilibria)
    ('complete (algebraic)', 3)
    >>> [e.classification.value for e in res.equilibria]
    ['saddle-focus', 'saddle', 'saddle-focus']
    >>> round(res.equilibria[2].state_map["z"], 12)
    27.0
    """
    t0 = time.perf_counter()
    model = check_model(model, "find_equilibria")
    period = check_period(period, model, "find_equilibria")
    p = model.param_vector(params)
    lo, hi = parse_bounds(bounds, model)
    if method is None:
        method = Auto()
    if not isinstance(method, EquilibriumMethod):
        raise InputError(
            f"find_equilibria(method={method!r}): expected Auto(), Algebraic(), "
            "IntervalNewton(...) or MultiStartNewton(...)"
        )
    system = CompiledSystem(model, p, period=period, backend=backend)
    ctx = SearchContext(model=model, params=p, lo=lo, hi=hi, period=period, system=system)
    provenance = Provenance(
        model_hash=model.content_hash,
        analysis="find_equilibria",
        method=repr(method),
        params=dict(zip(model.parameters, p.tolist(), strict=True)),
        seed=_seed_of(method),
    )
    try:
        outcome = method._run(ctx)
        status = outcome.status
    except ConvergenceError as exc:
        if throw:
            raise
        outcome = SearchOutcome(points=(), certified=(), guarantee="none", complete=False)
        status = "failed"
        outcome = dataclasses.replace(outcome, notes=(str(exc),))
    equilibria = _assemble(ctx, outcome, provenance)
    notes = list(outcome.notes)
    if not equilibria and status == "ok":
        what = "equilibrium" if period == 1 and not system.is_map else f"point of period {period}"
        notes.insert(0, f"no {what} in the box")
    stats = Stats(
        num_rhs_evaluations=system.num_rhs,
        num_jacobian_evaluations=system.num_jac,
        wall_time=time.perf_counter() - t0 - system.compile_time,
        compile_time=system.compile_time,
        extra=dict(outcome.extra),
    )
    return EquilibriaResult(
        status=status,
        message="; ".join(notes),
        stats=stats,
        provenance=provenance,
        equilibria=tuple(equilibria),
        guarantee=outcome.guarantee,
        complete=outcome.complete,
        num_uncertified_boxes=outcome.num_uncertified_boxes,
        variables=model.variables,
        bounds=np.stack([lo, hi], axis=1),
        kind="map" if system.is_map else "ode",
        period=period,
    )


def _seed_of(method: EquilibriumMethod) -> int | None:
    for m in (method, getattr(method, "multistart", None), getattr(method, "fallback", None)):
        if isinstance(m, MultiStartNewton):
            return m.seed
    return None


def _assemble(
    ctx: SearchContext, outcome: SearchOutcome, provenance: Provenance
) -> list[Equilibrium]:
    """The selected points with their linear stability."""
    out = []
    for x, cert, orbit in select_points(ctx, outcome):
        stab = stability_at(ctx.system, x, provenance, None)
        out.append(
            Equilibrium(
                state=x,
                variables=ctx.model.variables,
                stability=stab,
                residual=stab.residual,
                certified=cert,
                period=ctx.period,
                orbit=orbit,
            )
        )
    return out
