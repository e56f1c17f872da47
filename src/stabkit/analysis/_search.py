"""The searches behind :func:`stabkit.analysis.equilibria.find_equilibria`.

Each search returns a :class:`SearchOutcome`: candidate points (polished by Newton on
the compiled kernels), whether each is certified, and the guarantee. Filtering to the
box, removal of lower periods and duplicates, and the stability of each point follow in
:mod:`stabkit.analysis.equilibria`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy

from stabkit.analysis._algebraic import (
    PolynomialSystem,
    evaluate_terms,
    polynomial_system,
    solve_polynomial_system,
)
from stabkit.analysis._interval import IntervalProgram, interval_unsupported_reason
from stabkit.analysis._krawczyk import IntervalProblem, _krawczyk, krawczyk_search
from stabkit.analysis._newton import NewtonSettings, multistart, polish, residual_tolerance
from stabkit.analysis._system import CompiledSystem
from stabkit.errors import InputError, suggest
from stabkit.model.codegen import symbolic_jacobian
from stabkit.model.model import Model, ModelKind

__all__ = [
    "SearchContext",
    "SearchOutcome",
    "StartPlan",
    "algebraic_search",
    "interval_search",
    "multistart_search",
    "parse_bounds",
    "select_points",
]

COMPLETE_ALGEBRAIC = "complete (algebraic)"
COMPLETE_INTERVAL = "complete (interval-certified)"
INCOMPLETE_MULTISTART = "incomplete (multi-start)"
NOT_ISOLATED = "incomplete (equilibria not isolated)"


@dataclasses.dataclass(frozen=True)
class StartPlan:
    """How a multi-start search starts: number of Latin-hypercube points, seed, Newton settings."""

    num_starts: int
    seed: int | None
    settings: NewtonSettings


@dataclasses.dataclass(frozen=True)
class SearchOutcome:
    """Candidate points and what is known about them."""

    points: tuple[np.ndarray, ...]
    certified: tuple[bool, ...]
    guarantee: str
    complete: bool
    num_uncertified_boxes: int = 0
    status: str = "ok"
    notes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------- bounds
def _pair(value: object, where: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(f"{where}={value!r}: expected a pair (lo, hi) of numbers") from None
    if np.isnan(lo) or np.isnan(hi) or not lo < hi:
        raise InputError(f"{where}=({lo}, {hi}): expected lo < hi (infinite sides allowed)")
    return lo, hi


def parse_bounds(bounds: object, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds per variable (infinite where not given)."""
    n = model.num_variables
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    if bounds is None:
        return lo, hi
    if isinstance(bounds, Mapping):
        for key, value in bounds.items():
            if key not in model.variables:
                hint = suggest(str(key), model.variables)
                raise InputError(
                    f"bounds: model {model.name!r} has no variable {key!r}; it has "
                    f"{', '.join(model.variables)}" + (f"; {hint}" if hint else "")
                )
            i = model.variables.index(key)
            lo[i], hi[i] = _pair(value, f"bounds[{key!r}]")
        return lo, hi
    if isinstance(bounds, (str, bytes)):
        raise InputError(f"bounds={bounds!r}: give {{variable: (lo, hi)}} or {n} pairs")
    try:
        rows = list(bounds)  # type: ignore[call-overload]
    except TypeError:
        raise InputError(f"bounds={bounds!r}: give {{variable: (lo, hi)}} or {n} pairs") from None
    if len(rows) != n:
        raise InputError(
            f"bounds has {len(rows)} pairs, but model {model.name!r} has {n} variables "
            f"({', '.join(model.variables)}); give one (lo, hi) per variable or a mapping"
        )
    for i, row in enumerate(rows):
        lo[i], hi[i] = _pair(row, f"bounds[{i}] ({model.variables[i]})")
    return lo, hi


def latin_hypercube_starts(
    lo: np.ndarray, hi: np.ndarray, num: int, seed: int | None
) -> np.ndarray:
    """``num`` Latin-hypercube points in the box: one in each of ``num`` slabs per side."""
    rng = np.random.default_rng(seed)
    strata = np.stack([rng.permutation(num) for _ in range(lo.size)], axis=1)
    unit = (strata + rng.random((num, lo.size))) / num
    return lo + unit * (hi - lo)


# --------------------------------------------------------------------------- context
@dataclasses.dataclass
class SearchContext:
    """Everything a search needs: model, parameters, box, period, compiled system."""

    model: Model
    params: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    period: int
    system: CompiledSystem

    @property
    def bounds_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.lo)) and np.all(np.isfinite(self.hi)))

    def require_finite_bounds(self, method: str, why: str | None = None) -> None:
        if self.bounds_finite:
            return
        missing = [
            v
            for v, a, b in zip(self.model.variables, self.lo, self.hi, strict=True)
            if not (np.isfinite(a) and np.isfinite(b))
        ]
        reason = why or f"method={method} searches a box"
        example = ", ".join(f"{v!r}: (lo, hi)" for v in missing)
        raise InputError(
            f"find_equilibria(bounds=...): {reason}, but no finite bounds were given for "
            f"{', '.join(missing)}; pass bounds={{{example}}}"
        )

    def in_box(self, x: np.ndarray) -> bool:
        tol = 1e-9 * (1.0 + np.abs(x))
        return bool(np.all(x >= self.lo - tol) and np.all(x <= self.hi + tol))

    @functools.cached_property
    def _polynomial(self) -> PolynomialSystem | str:
        return polynomial_system(self.model, self.params, self.period)

    def polynomial_reason(self) -> str | None:
        poly = self._polynomial
        return poly if isinstance(poly, str) else None

    def polynomial(self) -> PolynomialSystem | None:
        poly = self._polynomial
        return None if isinstance(poly, str) else poly

    @functools.cached_property
    def _interval_exprs(self) -> tuple[list[sympy.Expr], list[sympy.Expr]] | str:
        if not self.model.is_symbolic:
            return "the model is written as Python functions"
        subs: dict[sympy.Basic, sympy.Basic] = {}
        for name, value in zip(self.model.parameters, self.params, strict=True):
            subs[sympy.Symbol(name)] = sympy.Float(float(value))
            subs[sympy.Symbol(name, real=True)] = sympy.Float(float(value))
        eqs = [e.xreplace(subs) for e in self.model.equations]
        jac = [e.xreplace(subs) for row in symbolic_jacobian(self.model) for e in row]
        reason = interval_unsupported_reason(eqs) or interval_unsupported_reason(
            jac, allow_steps=True
        )
        return reason if reason is not None else (eqs, jac)

    def interval_reason(self) -> str | None:
        exprs = self._interval_exprs
        return exprs if isinstance(exprs, str) else None

    def interval_problem(self) -> IntervalProblem:
        exprs = self._interval_exprs
        assert not isinstance(exprs, str)
        eqs, jac = exprs
        return IntervalProblem(
            IntervalProgram(eqs, self.model.variables),
            IntervalProgram(jac, self.model.variables),
            self.model.num_variables,
            is_map=self.model.kind is ModelKind.MAP,
            period=self.period,
        )


def _accept(system: CompiledSystem, x: np.ndarray) -> bool:
    res = system.residual(x)
    return bool(np.all(np.isfinite(res)) and np.max(np.abs(res)) <= residual_tolerance(x))


# --------------------------------------------------------------------------- searches
def multistart_search(ctx: SearchContext, plan: StartPlan) -> SearchOutcome:
    """Deflated multi-start Newton over the whole box."""
    starts = latin_hypercube_starts(ctx.lo, ctx.hi, plan.num_starts, plan.seed)
    found = multistart(ctx.system, starts, ctx.lo, ctx.hi, plan.settings)
    return SearchOutcome(
        points=tuple(found),
        certified=(False,) * len(found),
        guarantee=INCOMPLETE_MULTISTART,
        complete=False,
        extra={"method": "multi-start", "num_starts": plan.num_starts},
    )


def algebraic_search(
    ctx: SearchContext, digits: int, poly: PolynomialSystem | None = None
) -> SearchOutcome:
    """Groebner basis and back-substitution; complete for isolated equilibria."""
    if poly is None:
        reason = ctx.polynomial_reason()
        if reason is not None:
            raise InputError(
                f"find_equilibria(method=Algebraic()): model {ctx.model.name!r} cannot be "
                f"solved algebraically: {reason}; use IntervalNewton() or MultiStartNewton() "
                "with bounds"
            )
        poly = ctx.polynomial()
        assert poly is not None
    t0 = time.perf_counter()
    solution = solve_polynomial_system(poly, digits=digits)
    extra = {
        "method": "algebraic",
        "bezout_number": poly.bezout_number,
        "algebraic_time": time.perf_counter() - t0,
    }
    if not solution.zero_dimensional:
        notes = ["the equilibria are not isolated (the solution set is a curve or surface)"]
        points: tuple[np.ndarray, ...] = ()
        if ctx.bounds_finite:
            plan = StartPlan(64, 0, NewtonSettings())
            points = multistart_search(ctx, plan).points
            notes.append("the points listed lie on it, found by multi-start Newton")
        return SearchOutcome(
            points,
            (False,) * len(points),
            NOT_ISOLATED,
            False,
            0,
            "non_isolated",
            tuple(notes),
            extra,
        )
    den_terms = [
        [(tuple(int(k) for k in m), sympy.Rational(c)) for m, c in d.terms()]
        for d in poly.denominators
        if not d.is_ground
    ]
    points_out = []
    for x in solution.points:
        if not ctx.in_box(x):
            continue
        x = polish(ctx.system, x)
        if not _accept(ctx.system, x):
            continue
        if any(abs(v) <= 1e-10 * s for v, s in (evaluate_terms(t, x) for t in den_terms)):
            continue  # a denominator vanishes: not an equilibrium
        points_out.append(x)
    return SearchOutcome(
        tuple(points_out), (True,) * len(points_out), COMPLETE_ALGEBRAIC, True, extra=extra
    )


def _refine_certified(
    ctx: SearchContext, problem: IntervalProblem, klo: np.ndarray, khi: np.ndarray
) -> np.ndarray:
    """The zero in a certified box: Newton from its midpoint, else Krawczyk contraction."""
    mid = 0.5 * (klo + khi)
    x = polish(ctx.system, mid)
    slack = 1e-12 * (1.0 + np.abs(x))
    if np.all(x >= klo - slack) and np.all(x <= khi + slack) and _accept(ctx.system, x):
        return x
    lo, hi = klo[None, :], khi[None, :]
    for _ in range(60):
        (nlo, nhi, _), valid = _krawczyk(problem, lo, hi)
        if not valid[0]:
            break
        nlo, nhi = np.maximum(lo, nlo), np.minimum(hi, nhi)
        if np.all(nhi - nlo >= hi - lo):
            break
        lo, hi = nlo, nhi
    return 0.5 * (lo[0] + hi[0])


def interval_search(
    ctx: SearchContext, max_boxes: int, min_width: float, fallback: StartPlan | None
) -> SearchOutcome:
    """Krawczyk bisection of the box; multi-start in what stays uncertified."""
    reason = ctx.interval_reason()
    if reason is not None:
        raise InputError(
            f"find_equilibria(method=IntervalNewton()): the interval test cannot run on "
            f"model {ctx.model.name!r}: {reason}; use MultiStartNewton()"
        )
    problem = ctx.interval_problem()
    # a zero on the face of the box is certified inside a slightly larger box
    margin = 1e-6 * (ctx.hi - ctx.lo)
    search = krawczyk_search(
        problem, ctx.lo - margin, ctx.hi + margin, max_boxes=max_boxes, min_width=min_width
    )
    points = [
        _refine_certified(ctx, problem, a, b)
        for a, b in zip(search.certified_lo, search.certified_hi, strict=True)
    ]
    certified = [True] * len(points)
    extra: dict[str, Any] = {
        "method": "interval",
        "num_boxes": search.num_boxes,
        "num_excluded_boxes": search.num_excluded,
        "num_certified_boxes": len(points),
    }
    unc = search.num_uncertified
    notes = []
    if unc == 0:
        guarantee = COMPLETE_INTERVAL
    else:
        cause = (
            "the budget max_boxes was spent"
            if search.budget_spent
            else "boxes reached min_width (singular or clustered equilibria?)"
        )
        notes.append(f"{unc} boxes were neither excluded nor certified: {cause}")
        guarantee = f"incomplete ({unc} boxes uncertified)"
        if fallback is not None:
            mids = 0.5 * (search.uncertified_lo + search.uncertified_hi)
            if mids.shape[0] > 4 * fallback.num_starts:
                pick = np.linspace(0, mids.shape[0] - 1, 4 * fallback.num_starts).astype(int)
                mids = mids[pick]
            starts = np.concatenate(
                [mids, latin_hypercube_starts(ctx.lo, ctx.hi, fallback.num_starts, fallback.seed)]
            )
            found = multistart(ctx.system, starts, ctx.lo, ctx.hi, fallback.settings, known=points)
            points += found
            certified += [False] * len(found)
            extra["num_starts"] = int(starts.shape[0])
            guarantee = f"incomplete (multi-start; {unc} boxes uncertified)"
    return SearchOutcome(
        tuple(points), tuple(certified), guarantee, unc == 0, unc, "ok", tuple(notes), extra
    )


# --------------------------------------------------------------------------- selection
def select_points(ctx: SearchContext, outcome: SearchOutcome) -> list[tuple[np.ndarray, bool, int]]:
    """Points in the box, of exact period, without duplicates, sorted; with orbit indices."""
    system = ctx.system
    kept: list[tuple[np.ndarray, bool]] = []
    for x, cert in zip(outcome.points, outcome.certified, strict=True):
        if not ctx.in_box(x):
            continue
        if ctx.period > 1 and any(
            system.orbit_residual(x, d) <= 1e-8 * (1.0 + np.max(np.abs(x)))
            for d in range(1, ctx.period)
            if ctx.period % d == 0
        ):
            continue  # a point of a lower period
        tol = 1e-7 * (1.0 + np.max(np.abs(x)))
        dup = next((i for i, (y, _) in enumerate(kept) if np.max(np.abs(x - y)) <= tol), None)
        if dup is None:
            kept.append((x, cert))
        elif cert and not kept[dup][1]:
            kept[dup] = (x, cert)
    kept.sort(key=lambda item: tuple(item[0]))
    points = [x for x, _ in kept]
    orbits = [-1] * len(points)
    label = 0
    for i, x in enumerate(points):
        if orbits[i] >= 0:
            continue
        orbits[i] = label
        y = x
        for _ in range(ctx.period - 1):
            y = system.f(y)
            for j, z in enumerate(points):
                if orbits[j] < 0 and np.max(np.abs(y - z)) <= 1e-6 * (1.0 + np.max(np.abs(z))):
                    orbits[j] = label
        label += 1
    return [(x, cert, orbit) for (x, cert), orbit in zip(kept, orbits, strict=True)]
