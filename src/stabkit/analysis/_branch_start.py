"""Checks of continue_branch's arguments and the start of a branch (Newton, branch switching)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from stabkit.analysis._branch_result import SpecialPoint
from stabkit.analysis._branch_system import BranchSystem
from stabkit.analysis._palc import PALC
from stabkit.analysis._special_points import KINDS, branch_switch
from stabkit.analysis._system import check_period
from stabkit.errors import InputError, suggest
from stabkit.model.model import Model, _named_vector

__all__ = ["Setup", "check_detect", "check_parameter", "parse_to", "start_branch"]


def check_parameter(model: Model, parameter: object) -> str:
    if not isinstance(parameter, str) or parameter not in model.parameters:
        hint = suggest(str(parameter), model.parameters)
        known = ", ".join(model.parameters) or "(none)"
        raise InputError(
            f"continue_branch(parameter={parameter!r}): model {model.name!r} has no such "
            f"parameter; it has {known}" + (f"; {hint}" if hint else "")
        )
    return parameter


def check_detect(detect: object, kind: str) -> tuple[str, ...]:
    valid = KINDS[kind]
    if isinstance(detect, str):
        detect = (detect,)
    if not isinstance(detect, (tuple, list, set, frozenset)):
        raise InputError(f"continue_branch(detect={detect!r}): give a tuple such as {valid}")
    items = tuple(detect)
    for item in items:
        if item not in valid:
            raise InputError(
                f"continue_branch(detect={detect!r}): {item!r} is not a special point of "
                f"{'a map' if kind == 'map' else 'a flow'}; choose from {valid}"
            )
    return tuple(str(i) for i in items)


def parse_to(to: object, p0: float, parameter: str) -> tuple[float, float, int | None]:
    """(lo, hi, direction) of the parameter; direction None: take PALC.direction."""
    if to is None:
        return -math.inf, math.inf, None
    if isinstance(to, (int, float, np.integer, np.floating)) and not isinstance(to, bool):
        end = float(to)
        if not math.isfinite(end) or end == p0:
            raise InputError(
                f"continue_branch(to={to!r}): give a finite end value of {parameter} "
                f"different from the start {p0:g}"
            )
        return (end, math.inf, -1) if end < p0 else (-math.inf, end, 1)
    try:
        lo, hi = (float(v) for v in to)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(
            f"continue_branch(to={to!r}): expected an end value or (lo, hi) bounds of {parameter}"
        ) from None
    if not lo < hi or not lo <= p0 <= hi:
        raise InputError(
            f"continue_branch(to={to!r}): need lo < hi with the start {parameter} = {p0:g} inside"
        )
    return lo, hi, None


def _newton_fixed(system: BranchSystem, z: np.ndarray, where: str) -> np.ndarray:
    """Newton on the state at fixed parameter; an InputError when it fails."""
    n = system.n
    z = z.copy()
    res = system.residual(z)
    tol = 1e-10 * (1.0 + float(np.max(np.abs(z))))
    for _ in range(50):
        if not np.all(np.isfinite(res)):
            break
        if float(np.max(np.abs(res))) <= tol:
            return z
        jac = system.jacobian(z)[:, :n]
        step = np.linalg.lstsq(jac, -res, rcond=None)[0]
        z[:n] += step
        res = system.residual(z)
        if float(np.max(np.abs(step))) <= 1e-15 * (1.0 + float(np.max(np.abs(z)))):
            break
    if np.all(np.isfinite(res)) and float(np.max(np.abs(res))) <= 1e-8 * (1.0 + np.max(np.abs(z))):
        return z
    raise InputError(
        f"continue_branch({where}): the start is not an equilibrium "
        f"(residual {float(np.max(np.abs(res))):.3g}) and Newton from it did not converge; "
        "give a state closer to one (find_equilibria lists them)"
    )


@dataclasses.dataclass
class Setup:
    system: BranchSystem
    z0: np.ndarray
    tangent0: np.ndarray | None
    switched_from: SpecialPoint | None
    note: str


def start_branch(
    model: Model,
    parameter: str,
    start: object,
    params: object,
    period: int,
    backend: str,
    method: PALC,
    sign: int,
) -> Setup:
    from stabkit.analysis.equilibria import Equilibrium

    base: object = params
    switched_from = None
    if isinstance(start, SpecialPoint):
        merged = dict(start.params)
        if isinstance(params, Mapping):
            merged.update(params)
        elif params is not None:
            raise InputError("continue_branch: from a SpecialPoint give params as a mapping")
        base, state = merged, start.state
        period = max(period, start.period)
        if start.kind == "BP" and start.parameter == parameter:
            switched_from = start
    elif isinstance(start, Equilibrium):
        state, period = start.state, max(period, start.period)
    else:
        if start is None:
            raise InputError("continue_branch(start=None): give a state, an Equilibrium or a BP")
        state = _named_vector(
            start,  # type: ignore[arg-type]
            model.variables,
            model.default_state,
            what="state",
            model=model.name,
        )
    period = check_period(period, model, "continue_branch")
    p = model.param_vector(base)  # type: ignore[arg-type]
    system = BranchSystem(model, parameter, p, period, backend)
    z = np.append(np.asarray(state, dtype=np.float64), p[system.index])
    if switched_from is not None:
        found = branch_switch(system, z, np.asarray(switched_from.tangent), method, sign)
        if found is None:
            raise InputError(
                f"continue_branch(start={switched_from!r}): no second branch found through "
                "this point (the null space of the Jacobian there is one-dimensional, or "
                "the corrector fell back onto the known branch)"
            )
        return Setup(system, found[0], found[1], switched_from, "switched branches at BP")
    z = _newton_fixed(system, z, "start")
    dr = system.jacobian(z)
    s = np.linalg.svd(dr, compute_uv=False)
    if s.size and s[-1] <= 1e-9 * max(1.0, s[0]):
        raise InputError(
            f"continue_branch(start=...): the start {parameter} = {z[-1]:g} is a branch "
            "point (the Jacobian [f_x, f_p] is rank deficient), where the direction is not "
            "unique; start a little away from it, or pass the BP SpecialPoint of a branch "
            "through it to switch branches"
        )
    return Setup(system, z, None, None, "")
