"""Continuation of equilibria (flows) and period-k points (maps) in one parameter.

:func:`continue_branch` follows the curve f(x, p) = 0 (f^k(x, p) = x for maps) by
pseudo-arclength continuation (:class:`PALC`), records the stability of every point,
and detects, locates (to 1e-10 in the parameter) and describes its special points:
folds (LP), Hopf points (H, with the first Lyapunov coefficient) and branch points (BP)
for flows; folds, flips (PD) and Neimark-Sacker points (NS) for maps. From a branch
point it switches onto the other branch.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import numpy as np

from stabkit.analysis._branch_result import Branch, BranchPoint, SpecialPoint
from stabkit.analysis._branch_start import check_detect, check_parameter, parse_to, start_branch
from stabkit.analysis._branch_system import BranchSystem
from stabkit.analysis._palc import PALC, CurveTrace, StopFn, locate_zero, tangent_at, trace_curve
from stabkit.analysis._palc_kernel import run_tracer
from stabkit.analysis._search import parse_bounds
from stabkit.analysis._special_points import (
    KINDS,
    Located,
    locate_special,
    test_names,
    test_values,
)
from stabkit.analysis._system import check_model
from stabkit.errors import ConvergenceError, InputError
from stabkit.model.model import Model, ModelKind
from stabkit.results import Provenance, Stats

__all__ = ["PALC", "Branch", "BranchPoint", "SpecialPoint", "continue_branch"]

_TROUBLE = ("step_collapsed", "newton_failed", "non_finite")
_DEFAULT_METHOD = PALC()
_CHECKED: set[str] = set()  # kernel hashes of models that passed check_model


def _stop_function(
    lo: float, hi: float, box_lo: np.ndarray, box_hi: np.ndarray, parameter: str
) -> StopFn:
    n = box_lo.size

    def stop(z: np.ndarray) -> tuple[str, str] | None:
        if z[-1] >= hi:
            return "ok", f"reached {parameter} = {hi:g}"
        if z[-1] <= lo:
            return "ok", f"reached {parameter} = {lo:g}"
        x = z[:n]
        bad = np.flatnonzero((x < box_lo) | (x > box_hi))
        if bad.size:
            return "left_bounds", f"left the state bounds (variable {int(bad[0])})"
        return None

    return stop


def _clip_end(
    system: BranchSystem,
    trace: CurveTrace,
    lo: float,
    hi: float,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
) -> tuple[CurveTrace, str]:
    """Replace the last point (beyond ``to`` or the box) by the crossing itself."""
    if len(trace.points) < 2:
        return trace, ""
    z = trace.points[-1]
    n = system.n
    if z[-1] >= hi or z[-1] <= lo:
        level, index = (hi if z[-1] >= hi else lo), n
    else:
        x = z[:n]
        out = np.flatnonzero((x < box_lo) | (x > box_hi))
        if not out.size:
            return trace, ""
        index = int(out[0])
        level = box_lo[index] if x[index] < box_lo[index] else box_hi[index]
    zz, tt, ok = locate_zero(
        system.residual, system.jacobian, trace.points[-2], z, trace.tangents[-2], 0,
        lambda y, t: np.array([y[index] - level]), corrector=system.corrector(),
    )  # fmt: skip
    if not ok:
        return trace, "the end point was not placed on the boundary exactly"
    points, tangents = trace.points.copy(), trace.tangents.copy()
    points[-1], tangents[-1] = zz, tt
    return dataclasses.replace(trace, points=points, tangents=tangents), ""


def _record(
    system: BranchSystem, zs: np.ndarray, ts: np.ndarray, drs: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted eigenvalues and test values at every point (DR computed where not given)."""
    n = system.n
    if drs is None:
        drs = np.array([system.jacobian(z) for z in zs]).reshape(len(zs), n, n + 1)
    a = drs[:, :, :n] + (np.eye(n) if system.is_map else 0.0)
    values = np.linalg.eigvals(a) if len(zs) else np.empty((0, n), complex)
    key = -np.abs(values) if system.is_map else -values.real
    values = np.take_along_axis(values, np.argsort(key, axis=1, kind="stable"), axis=1)
    return values, test_values(drs, ts, values, system.is_map)


def _stability(values: np.ndarray, is_map: bool) -> tuple[np.ndarray, np.ndarray]:
    if is_map:
        side = np.abs(values) - 1.0
        thr = 1e-8
    else:
        side = values.real
        thr = 1e-8 * np.maximum(1.0, np.max(np.abs(values), axis=1, initial=0.0))[:, None]
    return np.sum(side > thr, axis=1), np.all(side < -thr, axis=1)


def _special_point(
    loc: Located, index: int, system: BranchSystem, parameter: str, names: tuple[str, ...]
) -> SpecialPoint:
    return SpecialPoint(
        kind=loc.kind,
        parameter=parameter,
        parameter_value=float(loc.z[-1]),
        state=loc.z[:-1].copy(),
        params=dict(zip(names, system.params_at(loc.z).tolist(), strict=True)),
        eigenvalues=loc.eigenvalues,
        coefficients=loc.coefficients,
        first_lyapunov_coefficient=loc.first_lyapunov_coefficient,
        criticality=loc.criticality,
        index=index,
        tangent=loc.tangent,
        located=loc.converged,
        period=system.period,
        message=loc.message,
    )


def continue_branch(
    model: Model,
    parameter: str,
    start: Mapping[str, float] | Sequence[float] | np.ndarray | object,
    *,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    to: float | tuple[float, float] | None = None,
    method: PALC | None = None,
    bounds: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | np.ndarray | None = None,
    detect: Sequence[str] | None = None,
    period: int = 1,
    tol: float = 1e-10,
    backend: str = "numba",
    throw: bool = False,
) -> Branch:
    """Follow a branch of equilibria (or period-k points of a map) in one parameter.

    Parameters
    ----------
    model
        A flow or a map, symbolic (exact derivatives) or written as Python functions.
    parameter
        Name of the parameter to continue in.
    start
        A state (``{variable: value}`` or ``n`` numbers; Newton polishes it at the
        start parameter), an :class:`~stabkit.analysis.equilibria.Equilibrium`, or a
        :class:`SpecialPoint`: from a ``"BP"`` of this parameter the continuation
        switches onto the other branch through it, from any other the branch starts there.
    params
        Parameter values (the continued one's value is the start).
    to
        An end value of ``parameter`` (the direction follows from it), or ``(lo, hi)``
        bounds (direction from ``method.direction``), or ``None`` (no limit).
    method
        :class:`PALC` settings (default ``PALC()``).
    bounds
        A state box ``{variable: (lo, hi)}``; leaving it ends the branch there.
    detect
        Which special points to locate (default all): flows ``"LP"``, ``"H"``, ``"BP"``;
        maps ``"LP"``, ``"PD"``, ``"NS"``, ``"BP"``; ``()`` for none.
    period
        Period of the points (maps).
    tol
        Location tolerance of special points (in every unknown, the parameter included).
    backend
        ``"numba"`` or ``"numpy"`` kernels.
    throw
        Raise :class:`~stabkit.errors.ConvergenceError` (with the branch so far as
        ``.result``) when the branch ends in trouble (step collapse).

    Returns
    -------
    Branch
        Every point traced (never dropped), stability, located special points, and in
        ``status``/``message`` why it ended.

    Raises
    ------
    InputError
        Unknown parameter (naming the valid ones), bad ``to``/``bounds``/``detect``, a
        start outside ``bounds``, a start that is not an equilibrium and from which
        Newton fails, a start at a branch point, a delay or non-autonomous model.

    Notes
    -----
    Pseudo-arclength continuation (Keller 1977) with the test functions of
    :mod:`stabkit.analysis._special_points`; Hopf coefficients as in MatCont
    (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., 2004, ch. 10):
    ``A q = i omega q``, ``A^T p = -i omega p``, ``<q, q> = 1``, ``<p, q> = 1``.

    Examples
    --------
    >>> from stabkit.model import library
    >>> br = continue_branch(library.brusselator(), "b", [1.0, 0.5], params={"b": 0.5},
    ...                      to=3.0, backend="numpy")
    >>> [(s.kind, round(s.parameter_value, 10), s.criticality) for s in br.special_points]
    [('H', 2.0, 'supercritical')]
    """
    t0 = time.perf_counter()
    if not isinstance(model, Model) or model.kernel_hash not in _CHECKED:
        model = check_model(model, "continue_branch")
        _CHECKED.add(model.kernel_hash)
    parameter = check_parameter(model, parameter)
    method = _DEFAULT_METHOD if method is None else method
    if not isinstance(method, PALC):
        raise InputError(f"continue_branch(method={method!r}): expected PALC(...)")
    kind = "map" if model.kind is ModelKind.MAP else "ode"
    detect_kinds = KINDS[kind] if detect is None else check_detect(detect, kind)
    box_lo, box_hi = parse_bounds(bounds, model)
    p_start = model.param_vector(dict(start.params) if isinstance(start, SpecialPoint) else None)[
        model.parameters.index(parameter)
    ]
    if isinstance(params, Mapping) and parameter in params:
        p_start = float(params[parameter])
    elif params is not None and not isinstance(params, Mapping):
        p_start = float(model.param_vector(params)[model.parameters.index(parameter)])
    lo, hi, direction = parse_to(to, p_start, parameter)
    sign = method.direction if direction is None else direction
    setup = start_branch(model, parameter, start, params, period, backend, method, sign)
    system = setup.system
    x0 = setup.z0[:-1]
    outside = np.flatnonzero((x0 < box_lo) | (x0 > box_hi))
    if outside.size:
        name = model.variables[int(outside[0])]
        raise InputError(
            f"continue_branch(bounds=...): the start has {name} = {x0[outside[0]]:g}, outside "
            f"its bounds ({box_lo[outside[0]]:g}, {box_hi[outside[0]]:g}); widen the bounds"
        )
    tangent0 = setup.tangent0
    if tangent0 is None:
        tangent0 = tangent_at(system.jacobian(setup.z0))
        if abs(tangent0[-1]) > 1e-12 and tangent0[-1] * sign < 0:
            tangent0 = -tangent0
    rhs0, jac0 = system.num_rhs, system.num_jac
    drs: np.ndarray | None = None
    kernel_jacobians = 0
    if system.tracer is not None:
        trace, drs = run_tracer(
            system.tracer, setup.z0, tangent0, system.kernel_params, system.period,
            system.is_map, method, lo, hi, box_lo, box_hi, parameter,
        )  # fmt: skip
        kernel_jacobians = trace.num_jacobians
    else:
        stop = _stop_function(lo, hi, box_lo, box_hi, parameter)
        trace = trace_curve(
            system.residual, system.jacobian, setup.z0, method, tangent0=tangent0, stop=stop
        )
    trace, clip_note = _clip_end(system, trace, lo, hi, box_lo, box_hi)
    zs, ts = trace.points, trace.tangents
    if drs is not None and len(zs):
        drs[-1] = system.jacobian(zs[-1])  # the end point may have moved onto the boundary
    offset = 0
    if setup.switched_from is not None and len(zs):
        bp = setup.switched_from
        z_bp = np.append(bp.state, bp.parameter_value)
        zs = np.vstack([z_bp, zs])
        ts = np.vstack([tangent_at(system.jacobian(zs[1]), ts[0])[None], ts])
        if drs is not None:
            drs = np.concatenate([system.jacobian(z_bp)[None], drs])
        offset = 1
    values, tests = _record(system, zs, ts, drs)
    names = test_names(system.is_map)
    found: list[Located] = []
    for col, name in enumerate(names):
        if name not in detect_kinds:
            continue
        g = tests[:, col]
        for k in np.flatnonzero(np.signbit(g[1:]) != np.signbit(g[:-1])):
            if k < offset or not (np.isfinite(g[k]) and np.isfinite(g[k + 1])):
                continue
            found.append(locate_special(system, name, col, int(k), zs, ts, tol))
    found.sort(key=lambda s: (s.segment, float(np.linalg.norm(s.z - zs[s.segment]))))
    rows_z, rows_t, rows_v = list(zs), list(ts), list(values)
    specials: list[SpecialPoint] = []
    if setup.switched_from is not None and len(zs):
        specials.append(dataclasses.replace(setup.switched_from, index=0))
    for shift, loc in enumerate(found):
        index = loc.segment + 1 + shift
        rows_z.insert(index, loc.z)
        rows_t.insert(index, loc.tangent)
        rows_v.insert(index, loc.eigenvalues)
        specials.append(_special_point(loc, index, system, parameter, model.parameters))
    n = system.n
    zs_all = np.array(rows_z).reshape(-1, n + 1)
    values_all = np.array(rows_v, dtype=complex).reshape(-1, n)
    num_unstable, stable = _stability(values_all, system.is_map)
    status = trace.status
    notes = [trace.message] + [x for x in (setup.note, clip_note) if x]
    counts: dict[str, int] = {}
    for s in specials:
        counts[s.kind] = counts.get(s.kind, 0) + 1
    if counts:
        notes.append("found " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    wall = time.perf_counter() - t0
    result = Branch(
        status=status,
        message="; ".join(notes),
        stats=Stats(
            num_steps=len(zs_all),
            num_rhs_evaluations=system.num_rhs - rhs0,
            num_jacobian_evaluations=system.num_jac - jac0 + kernel_jacobians,
            wall_time=wall - system.compile_time,
            compile_time=system.compile_time,
            extra={"num_newton_iterations": trace.num_newton_iterations},
        ),
        provenance=Provenance(
            model_hash=model.content_hash,
            analysis="continue_branch",
            method=repr(method),
            params=dict(zip(model.parameters, system.params.tolist(), strict=True)),
        ),
        parameter=parameter,
        variables=model.variables,
        kind=kind,
        period=system.period,
        params={q: v for q, v in zip(model.parameters, system.params.tolist(), strict=True)
                if q != parameter},
        parameter_values=zs_all[:, -1].copy(),
        states=zs_all[:, :-1].copy(),
        tangents=np.array(rows_t).reshape(-1, n + 1),
        eigenvalues=values_all,
        num_unstable=num_unstable,
        stable=stable,
        special_points=tuple(specials),
    )  # fmt: skip
    if throw and status in _TROUBLE:
        raise ConvergenceError(f"continue_branch: {result.message}", result)
    return result
