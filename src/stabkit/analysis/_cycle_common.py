"""Checks and conversions shared by the public cycle functions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from stabkit.analysis._collocation import mesh_monitor
from stabkit.analysis._cycle_solve import Collocation, Cycle, SolvedCycle, build_cycle
from stabkit.analysis._cycle_start import Guess
from stabkit.analysis._cycle_trace import TracedPoint
from stabkit.analysis._system import check_model
from stabkit.errors import ConvergenceError, InputError, suggest
from stabkit.model.codegen import CompiledModel, compile_model
from stabkit.model.model import Model, ModelKind
from stabkit.results import Provenance, Stats

__all__ = [
    "check_flow",
    "check_parameter",
    "compile_flow",
    "cycle_from_point",
    "fail_result",
    "param_map",
    "parse_to",
]


def check_flow(model: object, where: str) -> Model:
    model = check_model(model, where)
    if model.kind is not ModelKind.ODE:
        raise InputError(
            f"{where}: model {model.name!r} is a {model.kind.value}; periodic orbits here are "
            "of flows (kind 'ode'); for maps use find_equilibria(model, period=k)"
        )
    return model


def compile_flow(model: Model, backend: str) -> tuple[CompiledModel, float, str]:
    compiled = compile_model(model, backend=backend)
    n = model.num_variables
    y = np.array(model.default_state, dtype=np.float64)
    p = np.array(model.default_params, dtype=np.float64)
    compile_time = compiled.warm("rhs", 0.0, y, p, np.empty(n))
    compile_time += compiled.warm("jac", 0.0, y, p, np.empty((n, n)))
    source = (
        "exact"
        if model.is_symbolic
        else ("user" if compiled.has_exact_jacobian else "finite differences")
    )
    return compiled, compile_time, source


def param_map(model: Model, p: np.ndarray) -> dict[str, float]:
    return dict(zip(model.parameters, p.tolist(), strict=True))


def check_parameter(model: Model, parameter: object, where: str) -> int:
    if not isinstance(parameter, str) or parameter not in model.parameters:
        hint = suggest(str(parameter), model.parameters) if isinstance(parameter, str) else None
        raise InputError(
            f"{where}(parameter={parameter!r}): model {model.name!r} has parameters "
            f"{', '.join(model.parameters) or '(none)'}" + (f"; {hint}" if hint else "")
        )
    return model.parameters.index(parameter)


def cycle_from_point(
    point: TracedPoint, model: Model, p: np.ndarray, degree: int, provenance: Provenance,
    source: str,
) -> Cycle:  # fmt: skip
    solved = SolvedCycle(
        True, point.mesh, point.nodes, point.period, 0, point.residual, math.nan,
        point.floquet, 0, 0, 0, "",
    )  # fmt: skip
    _, error = mesh_monitor(point.mesh, point.nodes, degree)
    solved = dataclasses.replace(solved, error_estimate=error)
    return build_cycle(
        solved, variables=model.variables, params=param_map(model, p), degree=degree,
        provenance=provenance, stats=Stats(), jacobian_source=source,
    )  # fmt: skip


def fail_result(
    model: Model, guess: Guess, p: np.ndarray, method: Collocation, provenance: Provenance,
    stats: Stats, source: str, throw: bool,
) -> Cycle:  # fmt: skip
    """A cycle result without a cycle: the guess (if any) kept, the reason in ``message``."""
    cycle = Cycle(
        status=guess.status, message=guess.message, stats=stats, provenance=provenance,
        variables=model.variables, params=param_map(model, p), period=guess.period,
        mesh=guess.mesh, degree=method.degree,
        states=guess.nodes if guess.nodes.size else np.empty((0, model.num_variables)),
        amplitude=np.full(model.num_variables, np.nan), jacobian_source=source,
    )  # fmt: skip
    if throw:
        raise ConvergenceError(f"find_cycle: {guess.message}", cycle)
    return cycle


def parse_to(to: object) -> tuple[float | None, tuple[float, float] | None]:
    """(end value, None), (None, (lo, hi)) or (None, None)."""
    if to is None:
        return None, None
    if isinstance(to, (int, float, np.integer, np.floating)) and not isinstance(to, bool):
        if not np.isfinite(float(to)):
            raise InputError(f"continue_cycles(to={to!r}): expected a finite number")
        return float(to), None
    try:
        lo, hi = (float(v) for v in to)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(
            f"continue_cycles(to={to!r}): expected an end value or (lo, hi) bounds"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError(f"continue_cycles(to={to!r}): need finite lo < hi")
    return None, (lo, hi)
