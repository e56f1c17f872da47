"""Two-parameter continuation of fold and Hopf curves, with their codimension-two points.

Starting from a fold (LP) or Hopf (H) point of an equilibrium branch, the curve of such
points is traced in a plane of two parameters by pseudo-arclength continuation of the
minimally extended system ``f(x, p) = 0, g(x, p) = 0`` (``g`` the bordered test function
of ``A`` or of the bialternate product ``2A (.) I``, see
:mod:`stabkit.analysis._curve_systems`), with its exact Jacobian. On the way, the
codim-2 points are detected by sign changes of their test functions and located:
cusp (CP), Bogdanov-Takens (BT), generalised Hopf (GH), zero-Hopf (ZH), double Hopf (HH).

References: Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., Springer 2004,
Chapters 8 and 10; Govaerts, *Numerical Methods for Bifurcations of Dynamical
Equilibria*, SIAM 2000; Dhooge, Govaerts, Kuznetsov, MatCont, ACM TOMS 29 (2003).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.analysis._codim2_detect import Found, coefficients, detect
from stabkit.analysis._codim2_result import CODIM2_KINDS, BifurcationCurve, Codim2Point
from stabkit.analysis._curve_systems import CurveSystem, cos_theta, critical_split
from stabkit.analysis._multilinear import derivatives_for
from stabkit.analysis._palc import PALC, CurveTrace, locate_zero, trace_curve
from stabkit.analysis._system import check_model
from stabkit.errors import ConvergenceError, InputError, suggest
from stabkit.model.model import Model, ModelKind, _named_vector
from stabkit.results import Provenance, Stats

__all__ = ["CODIM2_KINDS", "BifurcationCurve", "Codim2Point", "continue_bifurcation_curve"]

log = logging.getLogger(__name__)

_SEGMENT = 25  # points between refreshes of the bordering vectors
_NORMAL_ENDS = ("ok", "left_bounds", "closed_loop")


def _parse_point(
    point: Any, model: Model, is_map: bool
) -> tuple[str, np.ndarray, dict[str, float]]:
    if isinstance(point, tuple) and len(point) == 3:
        kind, state, params = point
    elif all(hasattr(point, a) for a in ("kind", "state", "params")):
        kind, state, params = point.kind, point.state, point.params
    else:
        raise InputError(
            f"continue_bifurcation_curve(point={point!r}): expected a SpecialPoint of a "
            "branch (kind 'LP' or 'H') or a tuple (kind, state, params)"
        )
    period = getattr(point, "period", 1)
    if period != 1:
        raise InputError(
            f"continue_bifurcation_curve: the point has period {period}; two-parameter "
            "curves are implemented for equilibria and fixed points (period 1)"
        )
    allowed = ("LP", "PD", "NS") if is_map else ("LP", "H")
    if kind not in allowed:
        raise InputError(
            f"continue_bifurcation_curve: point.kind={kind!r}; for "
            + ("maps" if is_map else "flows")
            + f" the curves start at {' or '.join(repr(k) for k in allowed)} points"
        )
    x = _named_vector(state, model.variables, model.default_state, what="state", model=model.name)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        params = dict(zip(model.parameters, np.asarray(params, dtype=float).tolist(), strict=True))
    return str(kind), x, dict(params)


def _free_indices(model: Model, parameters: Sequence[str]) -> tuple[int, int]:
    if isinstance(parameters, str) or len(parameters) != 2:
        raise InputError(
            f"continue_bifurcation_curve(parameters={parameters!r}): give two parameter "
            f"names, e.g. {tuple(model.parameters[:2])}"
        )
    out = []
    for name in parameters:
        if name not in model.parameters:
            hint = suggest(str(name), model.parameters)
            raise InputError(
                f"continue_bifurcation_curve: model {model.name!r} has no parameter {name!r}; "
                f"it has {', '.join(model.parameters)}" + (f"; {hint}" if hint else "")
            )
        out.append(model.parameters.index(name))
    if out[0] == out[1]:
        raise InputError(f"continue_bifurcation_curve(parameters={parameters!r}): two different")
    return out[0], out[1]


def _bounds(to: Any, parameters: Sequence[str]) -> list[tuple[float, float]]:
    out = [(-np.inf, np.inf), (-np.inf, np.inf)]
    if to is None:
        return out
    if not isinstance(to, Mapping):
        raise InputError(f"continue_bifurcation_curve(to={to!r}): expected {{parameter: (lo, hi)}}")
    for key, value in to.items():
        if key not in parameters:
            raise InputError(
                f"continue_bifurcation_curve(to): {key!r} is not one of the free "
                f"parameters {tuple(parameters)}"
            )
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(f"to[{key!r}]={value!r}: expected (lo, hi)") from None
        if not lo < hi:
            raise InputError(f"to[{key!r}]=({lo}, {hi}): need lo < hi")
        out[list(parameters).index(key)] = (lo, hi)
    return out


def continue_bifurcation_curve(
    model: Model,
    point: Any,
    parameters: Sequence[str],
    *,
    params: Mapping[str, float] | None = None,
    to: Mapping[str, tuple[float, float]] | None = None,
    method: PALC | None = None,
    throw: bool = False,
) -> BifurcationCurve:
    """Trace a fold or Hopf curve in the plane of two parameters, locating codim-2 points.

    Parameters
    ----------
    model
        A flow (``"ode"``) or a map, symbolic (exact derivatives) or written in Python
        (finite differences for the second derivatives of the extended system).
    point
        Where to start: a ``SpecialPoint`` from :func:`stabkit.continue_branch`, of kind
        ``"LP"`` or ``"H"`` (flows) or ``"LP"``, ``"PD"``, ``"NS"`` (maps, fixed points),
        or a tuple ``(kind, state, params)``.
    parameters
        The two free parameters ``(p1, p2)``; the branch's parameter is usually one.
    params
        Values of the other parameters (default: the point's).
    to
        Bounds ``{p: (lo, hi)}`` for either free parameter; the curve stops where it
        leaves them. Without bounds it ends after ``method.max_points`` points each way.
    method
        :class:`PALC` settings (``direction`` refers to ``p2``); both directions from
        the start are traced.
    throw
        Raise :class:`ConvergenceError` when an end stopped for a numerical reason.

    Returns
    -------
    BifurcationCurve
        Points ``(p1, p2)``, states, eigenvalues, codim-2 points; ``status`` ``"ok"``
        when both ends reached a bound (or the curve closed), otherwise the reason
        (``"step_collapsed"``, ``"newton_failed"``, ``"max_points"``, ...), with every
        point traced kept.

    Raises
    ------
    InputError
        A delay model, unknown or repeated parameter names, a bad point or bounds.
    ConvergenceError
        Only with ``throw=True``.

    Notes
    -----
    The system is ``f(x, p) = 0, g(x, p) = 0`` with ``[[M, b], [c^T, 0]] [v; g] = [0; 1]``,
    ``M = A`` (fold) or ``2A (.) I`` (Hopf); past a Bogdanov-Takens point the Hopf curve
    continues as a curve of neutral saddles (``frequency`` NaN there). For maps
    ``M = A - I`` (fold), ``A + I`` (flip) or ``A (.) A - I`` (Neimark-Sacker, the second
    compound matrix; ``frequency`` is the angle theta of the multipliers ``e^{+-i theta}``);
    on them CP, R1-R4, LPPD, LPNS, PDNS, GPD and CH are detected and located.

    Examples
    --------
    >>> from stabkit.model import library
    >>> curve = continue_bifurcation_curve(
    ...     library.brusselator(), ("H", [1.0, 2.0], {"a": 1.0, "b": 2.0}), ("a", "b"),
    ...     to={"a": (0.5, 2.0)})
    >>> a, b = curve.points.T
    >>> bool(np.allclose(b, 1 + a**2)), curve.status
    (True, 'ok')
    """
    t0 = time.perf_counter()
    model = check_model(model, "continue_bifurcation_curve")
    if model.kind not in (ModelKind.ODE, ModelKind.MAP):
        raise InputError(
            f"continue_bifurcation_curve: model {model.name!r} is a "
            f"{model.kind.value}; two-parameter curves are for flows ('ode') and maps"
        )
    method = PALC() if method is None else method
    if not isinstance(method, PALC):
        raise InputError(f"continue_bifurcation_curve(method={method!r}): expected PALC(...)")
    is_map = model.kind is ModelKind.MAP
    kind, x0, point_params = _parse_point(point, model, is_map)
    free = _free_indices(model, parameters)
    names = (model.parameters[free[0]], model.parameters[free[1]])
    base = model.param_vector({**point_params, **(dict(params) if params else {})})
    if kind in ("H", "NS") and model.num_variables < 2:
        raise InputError(f"continue_bifurcation_curve: a {kind} curve needs at least 2 variables")
    bounds = _bounds(to, names)
    deriv = derivatives_for(model)
    system = CurveSystem(deriv, kind, base, free, is_map)
    n = model.num_variables
    z0 = np.concatenate([x0, base[list(free)]])
    system.set_borders(z0)

    def stop(z: np.ndarray) -> tuple[str, str] | None:
        for col, (lo, hi) in enumerate(bounds):
            value = z[n + col]
            if not lo <= value <= hi:
                edge = lo if value < lo else hi
                return "left_bounds", f"reached the bound {names[col]} = {edge:g}"
        return None

    forward = _trace_direction(system, z0, method, stop, None, bounds)
    ends = [forward[3]]
    directions = [forward]
    if forward[0] and forward[3][0] != "closed_loop":
        t_back = -forward[1][0]
        system.set_borders(z0)
        backward = _trace_direction(system, forward[0][0], method, stop, t_back, bounds)
        directions.insert(0, backward)
        ends.insert(0, backward[3])
    result = _assemble(model, system, names, directions, ends, kind)
    stats = Stats(
        num_steps=len(result["points"]),
        num_jacobian_evaluations=int(sum(d[4] for d in directions)),
        wall_time=time.perf_counter() - t0,
    )
    status = next((s for s, _ in ends if s not in _NORMAL_ENDS), "ok")
    message = "; ".join(f"{'one' if i == 0 else 'other'} end: {m}" for i, (_, m) in enumerate(ends))
    curve = BifurcationCurve(
        status=status,
        message=message,
        stats=stats,
        provenance=Provenance(
            model_hash=model.content_hash,
            analysis="continue_bifurcation_curve",
            method=repr(method),
            params=dict(zip(model.parameters, base.tolist(), strict=True)),
        ),
        kind=kind,
        parameters=names,
        variables=model.variables,
        base_params={k: v for k, v in zip(model.parameters, base.tolist(), strict=True)},
        end_reasons=tuple(m for _, m in ends),
        **result,
    )
    if throw and status != "ok":
        raise ConvergenceError(message, curve)
    return curve


def _trace_direction(
    system: CurveSystem,
    z0: np.ndarray,
    method: PALC,
    stop: Any,
    tangent0: np.ndarray | None,
    bounds: list[tuple[float, float]],
) -> tuple[list[np.ndarray], list[np.ndarray], list[Found], tuple[str, str], int]:
    """Trace one way in segments (borders refreshed between them), locating codim-2 points."""
    points: list[np.ndarray] = []
    tangents: list[np.ndarray] = []
    found: list[Found] = []
    num_jac = 0
    z, t, ds = z0, tangent0, method.ds
    while True:
        remaining = method.max_points - len(points) + (1 if points else 0)
        seg_method = dataclasses.replace(
            method,
            ds=min(max(ds, method.ds_min), method.ds_max),
            max_points=min(_SEGMENT, remaining),
        )
        trace: CurveTrace = trace_curve(
            system.residual, system.jacobian, z, seg_method, tangent0=t, stop=stop,
            test_functions=system.test_functions,
        )  # fmt: skip
        num_jac += trace.num_jacobians
        offset = len(points) - (1 if points else 0)
        pts = list(trace.points)
        tans = list(trace.tangents)
        if points and pts:
            pts, tans = pts[1:], tans[1:]
            tests = trace.test_values[1:]
            prev_tests = trace.test_values[:1]
            seg_points = [points[-1], *pts]
            seg_tans = [tangents[-1], *tans]
            all_tests = np.concatenate([prev_tests, tests]) if len(tests) else prev_tests
        else:
            seg_points, seg_tans, all_tests = pts, tans, trace.test_values
        found.extend(detect(system, seg_points, seg_tans, all_tests, offset))
        points.extend(pts)
        tangents.extend(tans)
        if trace.status != "max_points" or len(points) >= method.max_points or not pts:
            status, message = trace.status, trace.message
            if trace.status == "max_points" and len(points) >= method.max_points:
                message = f"stopped after PALC(max_points={method.max_points}) points"
            if _closed(points, z0):
                status, message = "closed_loop", f"the curve closed after {len(points)} points"
            if status == "left_bounds" and len(points) >= 2:
                found = _clip_to_bounds(system, points, tangents, found, bounds)
            return points, tangents, found, (status, message), num_jac
        if _closed(points, z0):
            return points, tangents, found, (
                "closed_loop", f"the curve closed on itself after {len(points)} points"
            ), num_jac  # fmt: skip
        z, t = points[-1], tangents[-1]
        ds = float(trace.steps[-1]) if trace.steps.size else ds
        system.refresh_borders(z)


def _clip_to_bounds(
    system: CurveSystem,
    points: list[np.ndarray],
    tangents: list[np.ndarray],
    found: list[Found],
    bounds: list[tuple[float, float]],
) -> list[Found]:
    """Move the last point (outside the bounds) onto the boundary; drop points beyond it."""
    n = system.n
    last = points[-1]
    for col, (lo, hi) in enumerate(bounds):
        value = last[n + col]
        if lo <= value <= hi:
            continue
        edge = lo if value < lo else hi

        def side(zz: np.ndarray, _t: np.ndarray, col: int = col, edge: float = edge) -> np.ndarray:
            return np.array([zz[n + col] - edge])

        z, t, ok = locate_zero(
            system.residual, system.jacobian, points[-2], last, tangents[-2], 0, side, tol=1e-12
        )
        if ok:
            points[-1], tangents[-1] = z, t
        break

    def inside(z: np.ndarray) -> bool:
        return all(lo - 1e-12 <= z[n + c] <= hi + 1e-12 for c, (lo, hi) in enumerate(bounds))

    return [f for f in found if inside(f.z)]


def _closed(points: list[np.ndarray], z0: np.ndarray) -> bool:
    if len(points) < 10:
        return False
    scale = float(np.linalg.norm(points[1] - points[0])) + 1e-12
    return (
        float(np.linalg.norm(points[-1] - z0)) < 0.5 * scale
        and float(np.linalg.norm(points[len(points) // 2] - z0)) > 5 * scale
    )


def _assemble(
    model: Model,
    system: CurveSystem,
    names: tuple[str, str],
    directions: list[tuple[list[np.ndarray], list[np.ndarray], list[Found], Any, int]],
    ends: list[tuple[str, str]],
    kind: str,
) -> dict[str, Any]:
    rows: list[np.ndarray] = []
    labels: list[Found | None] = []
    for d_index, (pts, _, found_here, _, _) in enumerate(directions):
        backward = len(directions) == 2 and d_index == 0
        seq: list[tuple[np.ndarray, Found | None]] = []
        by_after: dict[int, list[Found]] = {}
        for item in found_here:
            by_after.setdefault(item.after, []).append(item)
        for i, z in enumerate(pts):
            seq.append((z, None))
            for item in by_after.get(i, []):
                seq.append((item.z, item))
        if backward:
            seq = seq[::-1][:-1] if len(directions) == 2 else seq[::-1]
        for z, label in seq:
            rows.append(z)
            labels.append(label)
    n = system.n
    points = np.array([z[n:] for z in rows]) if rows else np.empty((0, 2))
    states = np.array([z[:n] for z in rows]) if rows else np.empty((0, n))
    eigs = (
        np.array([np.sort_complex(system.eigenvalues(z)) for z in rows])
        if rows
        else np.empty((0, n), dtype=complex)
    )
    freq = np.full(len(rows), np.nan)
    l1 = np.full(len(rows), np.nan)
    if kind == "NS":
        for i, values in enumerate(eigs):
            c = cos_theta(critical_split(values, "NS", True)[0])
            freq[i] = np.arccos(c) if abs(c) <= 1.0 else np.nan
    if kind == "H":
        for i, values in enumerate(eigs):
            crit, _ = critical_split(values, "H")
            kappa = float(np.real(crit[0] * crit[1]))
            scale = max(1.0, float(np.max(np.abs(values))))
            freq[i] = np.sqrt(max(kappa, 0.0)) if kappa > -1e-10 * scale else np.nan
            if kappa > 0:
                x, p = system.split(rows[i])
                l1[i] = system.l1(x, p, system.deriv.jacobian(x, p), float(freq[i]))
    specials = []
    for i, label in enumerate(labels):
        if label is None:
            continue
        f = label
        coeffs, message, values = coefficients(model, f.kind, kind, f.z, system)
        x, p = system.split(f.z)
        specials.append(
            Codim2Point(
                kind=f.kind,
                curve=kind,
                parameters=names,
                parameter_values=(float(f.z[n]), float(f.z[n + 1])),
                params=dict(zip(model.parameters, p.tolist(), strict=True)),
                state=x.copy(),
                eigenvalues=np.sort_complex(values),
                coefficients=coeffs,
                index=i,
                located=f.located,
                message=message,
            )
        )
    return {
        "points": points,
        "states": states,
        "eigenvalues": eigs,
        "frequency": freq,
        "first_lyapunov": l1,
        "special_points": tuple(specials),
    }
