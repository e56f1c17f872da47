"""Pseudo-arclength continuation of collocated cycles in segments, with re-meshing.

The collocation equations with one free parameter alpha (parameters ``origin + alpha
direction``) define a curve in (u, T, alpha); :func:`stabkit.analysis._palc.trace_curve`
follows it. The node values enter scaled by 1/sqrt(N m), so that the Euclidean norm of
the unknowns approximates the L2 norm of the profile and the arclength does not grow
with the mesh. The curve is traced in segments of ``segment_length`` points: at the end
of each segment the mesh is equidistributed again, the last point and its tangent are
interpolated onto the new mesh, and the phase condition takes the last cycle as its new
reference (as MatCont does at every step). Consecutive segments share their end point.

Test functions at every point (Kuznetsov, 3rd ed., Section 10.3.3; Govaerts, *Numerical
Methods for Bifurcations of Dynamical Equilibria*, SIAM 2000):

* LPC   the alpha component of the tangent (a fold of the branch in the parameter);
* PD    prod_i (mu_i + 1) over the non-trivial multipliers (a real multiplier at -1);
* NS    prod_{i < j} (mu_i mu_j - 1) over the non-trivial multipliers (a pair with
        mu_i mu_j = 1: a Neimark-Sacker pair on the unit circle, or a neutral saddle,
        which is discarded after location).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable

import numpy as np

from stabkit.analysis._collocation import (
    CollocationProblem,
    equidistribute,
    interpolate_nodes,
    mesh_monitor,
)
from stabkit.analysis._cycle_solve import Collocation
from stabkit.analysis._floquet import FloquetData, eigenfunction, floquet_from_blocks
from stabkit.analysis._palc import PALC, locate_zero, trace_curve
from stabkit.model.codegen import CompiledModel

__all__ = ["LocatedPoint", "TraceOutcome", "TracedPoint", "trace_cycles"]

TEST_NAMES = ("LPC", "PD", "NS")


@dataclasses.dataclass(frozen=True, eq=False)
class TracedPoint:
    """One converged cycle on the branch."""

    mesh: np.ndarray
    nodes: np.ndarray
    period: float
    alpha: float
    floquet: FloquetData | None
    residual: float


@dataclasses.dataclass(frozen=True, eq=False)
class LocatedPoint:
    """A located zero of a test function: after branch point ``index``."""

    kind: str
    index: int
    point: TracedPoint
    converged: bool
    message: str


@dataclasses.dataclass(frozen=True, eq=False)
class TraceOutcome:
    points: list[TracedPoint]
    located: list[LocatedPoint]
    status: str
    message: str
    num_newton_iterations: int
    num_jacobians: int
    num_rhs: int
    num_jac: int


def test_values(floquet: FloquetData, tangent_alpha: float) -> np.ndarray:
    """The LPC, PD and NS test functions (see the module docstring)."""
    mu = np.delete(floquet.multipliers, floquet.trivial)
    pd = float(np.real(np.prod(mu + 1.0))) if mu.size else 1.0
    ns = 1.0
    for i in range(mu.size):
        for j in range(i + 1, mu.size):
            ns *= mu[i] * mu[j] - 1.0
    return np.array([tangent_alpha, pd, float(np.real(ns))])


class _Segment:
    """The residual and dense Jacobian in scaled unknowns for one mesh and reference."""

    def __init__(
        self,
        compiled: CompiledModel,
        params: np.ndarray,
        free: tuple[np.ndarray, np.ndarray],
        mesh: np.ndarray,
        reference: np.ndarray,
        degree: int,
    ) -> None:
        self.prob = CollocationProblem(compiled, params, mesh, degree, reference, free)
        self.mesh = mesh
        self.scale = 1.0 / math.sqrt(self.prob.num_nodes)
        self.size_u = self.prob.size_u
        self._cache: dict[bytes, FloquetData] = {}

    def pack(self, nodes: np.ndarray, period: float, alpha: float) -> np.ndarray:
        return np.concatenate([nodes[:-1].ravel() * self.scale, [period, alpha]])

    def unpack(self, x: np.ndarray) -> np.ndarray:
        y = np.array(x, dtype=np.float64)
        y[: self.size_u] /= self.scale
        return y

    def nodes(self, x: np.ndarray) -> np.ndarray:
        u = (x[: self.size_u] / self.scale).reshape(-1, self.prob.n)
        return np.vstack([u, u[:1]])

    def residual(self, x: np.ndarray) -> np.ndarray:
        return self.prob.residual(self.unpack(x))

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        jac = self.prob.jacobian(self.unpack(x)).toarray()
        jac[:, : self.size_u] /= self.scale
        return jac

    def floquet(self, x: np.ndarray) -> FloquetData:
        key = x.tobytes()
        data = self._cache.get(key)
        if data is None:
            data = floquet_from_blocks(self.prob.blocks(self.unpack(x)))
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = data
        return data

    def tests(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return test_values(self.floquet(x), float(t[-1]))

    def point(self, x: np.ndarray, floquet: bool = True) -> TracedPoint:
        res = float(np.max(np.abs(self.residual(x))))
        data = self.floquet(x) if floquet else None
        return TracedPoint(self.mesh, self.nodes(x), float(x[self.size_u]), float(x[-1]), data, res)


def _remesh_tangent(
    seg: _Segment, x: np.ndarray, t: np.ndarray, degree: int, num_intervals: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New mesh, node values and u-part of the tangent (node values) after re-meshing."""
    nodes = seg.nodes(x)
    monitor, _ = mesh_monitor(seg.mesh, nodes, degree)
    new_mesh = equidistribute(seg.mesh, monitor, num_intervals)
    new_nodes = interpolate_nodes(seg.mesh, nodes, degree, new_mesh, degree)
    tu = seg.nodes(t)  # tangent u-part as node values (unscaled)
    new_tu = interpolate_nodes(seg.mesh, tu, degree, new_mesh, degree)
    return new_mesh, new_nodes, new_tu


def _classify_ns(floquet: FloquetData) -> tuple[bool, str]:
    """Whether a located NS zero is a complex pair on the unit circle (else a neutral saddle)."""
    mu = np.delete(floquet.multipliers, floquet.trivial)
    best, pair = math.inf, (0j, 0j)
    for i in range(mu.size):
        for j in range(i + 1, mu.size):
            d = abs(mu[i] * mu[j] - 1.0)
            if d < best:
                best, pair = d, (mu[i], mu[j])
    a, _ = pair
    if abs(a.imag) > 1e-6 and abs(abs(a) - 1.0) < 1e-3:
        return True, f"multipliers exp(+-i theta), theta = {abs(np.angle(a)):.6g}"
    return False, f"neutral saddle ({pair[0]:.4g}, {pair[1]:.4g}), not a Neimark-Sacker point"


def trace_cycles(
    compiled: CompiledModel,
    params: np.ndarray,
    free: tuple[np.ndarray, np.ndarray],
    mesh: np.ndarray,
    nodes: np.ndarray,
    period: float,
    alpha: float,
    method: PALC,
    collocation: Collocation,
    *,
    tangent_nodes: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    stop: Callable[[float, float, np.ndarray], str | tuple[str, str] | None] | None = None,
    detect: bool = True,
    segment_length: int = 12,
    parameter_name: str = "alpha",
    multipliers: bool = True,
) -> TraceOutcome:
    """Trace a branch of cycles from (nodes, period, alpha) on ``mesh``.

    ``tangent_nodes`` (node values) gives the initial direction in u with zero period and
    parameter components (branch switching from a Hopf or a period-doubling point);
    otherwise ``method.direction`` orients the tangent in alpha. ``stop(alpha, period,
    nodes)`` ends the trace with a reason. ``multipliers=False`` skips the Floquet
    multipliers of the points (a homotopy that only needs its end).
    """
    degree = collocation.degree
    num_intervals = mesh.size - 1
    points: list[TracedPoint] = []
    located: list[LocatedPoint] = []
    newton = jacobians = rhs = jac = 0
    ref = nodes if reference is None else reference
    seg = _Segment(compiled, params, free, mesh, ref, degree)
    x0 = seg.pack(nodes, period, alpha)
    t0: np.ndarray | None = None
    if tangent_nodes is not None:
        t0 = np.concatenate([tangent_nodes[:-1].ravel() * seg.scale, [0.0, 0.0]])
    ds = method.ds
    status, message = "max_points", f"stopped after PALC(max_points={method.max_points}) points"
    retry: tuple[_Segment, np.ndarray, np.ndarray] | None = None
    while True:
        remaining = method.max_points - len(points)
        first_segment = not points
        budget = min(segment_length, remaining) + (0 if first_segment else 1)
        seg_method = dataclasses.replace(
            method, ds=min(max(ds, method.ds_min), method.ds_max), max_points=max(budget, 2)
        )

        def seg_stop(x: np.ndarray, seg: _Segment = seg) -> str | tuple[str, str] | None:
            if stop is None:
                return None
            return stop(float(x[-1]), float(x[seg.size_u]), seg.nodes(x))

        trace = trace_curve(
            seg.residual, seg.jacobian, x0, seg_method, tangent0=t0, stop=seg_stop,
            test_functions=seg.tests if detect else None,
        )  # fmt: skip
        newton += trace.num_newton_iterations
        jacobians += trace.num_jacobians
        pts = list(trace.points)
        start = 0 if first_segment else 1
        for k in range(start, len(pts)):
            if k > 0 and detect:
                before, after = trace.test_values[k - 1], trace.test_values[k]
                for idx, name in enumerate(TEST_NAMES):
                    if np.sign(before[idx]) * np.sign(after[idx]) < 0:
                        located.extend(
                            _locate(seg, pts[k - 1], pts[k], trace.tangents[k - 1], idx, name,
                                    len(points) - 1)
                        )  # fmt: skip
            points.append(seg.point(pts[k], floquet=multipliers))
        rhs += seg.prob.num_rhs
        jac += seg.prob.num_jac
        if not pts and retry is not None:
            # the restart after re-meshing failed: go on from the last point on its old mesh
            seg, x0, t0 = retry
            retry = None
            continue
        if trace.status != "max_points" or len(points) >= method.max_points or len(pts) < 2:
            if trace.status != "max_points" or len(pts) < 2:
                status, message = trace.status, trace.message
            break
        x_last, t_last = pts[-1], trace.tangents[-1]
        ds = float(trace.steps[-1]) if trace.steps.size else ds
        if collocation.adapt_mesh:
            new_mesh, new_nodes, new_tu = _remesh_tangent(
                seg, x_last, t_last, degree, num_intervals
            )
        else:
            new_mesh, new_nodes, new_tu = seg.mesh, seg.nodes(x_last), seg.nodes(t_last)
        old = _Segment(compiled, params, free, seg.mesh, seg.nodes(x_last), degree)
        retry = (old, np.array(x_last), np.array(t_last))
        seg = _Segment(compiled, params, free, new_mesh, new_nodes, degree)
        x0 = seg.pack(new_nodes, float(x_last[-2]), float(x_last[-1]))
        t0 = np.concatenate([new_tu[:-1].ravel() * seg.scale, t_last[-2:]])
    if points and "at x = [" in message:  # the whole unknown vector says nothing here
        last = points[-1]
        where = f"at {parameter_name} = {last.alpha:.10g} (period {last.period:.8g})"
        message = re.sub(r"at x = \[.*?\]", where, message, flags=re.S)
    return TraceOutcome(points, located, status, message, newton, jacobians, rhs, jac)


def _locate(
    seg: _Segment,
    x_a: np.ndarray,
    x_b: np.ndarray,
    t_a: np.ndarray,
    idx: int,
    name: str,
    index: int,
) -> list[LocatedPoint]:
    x, _, ok = locate_zero(seg.residual, seg.jacobian, x_a, x_b, t_a, idx, seg.tests, tol=1e-9)
    point = seg.point(x)
    message = "" if ok else "location did not converge; the point is the best found"
    if name == "NS":
        is_ns, why = _classify_ns(seg.floquet(x))
        if not is_ns:
            return []
        message = why + (f"; {message}" if message else "")
    return [LocatedPoint(name, index, point, ok, message)]


@dataclasses.dataclass(frozen=True, eq=False)
class DoubledStart:
    """The cycle at a PD point traversed twice and the PD eigenfunction on it."""

    mesh: np.ndarray
    nodes: np.ndarray
    period: float
    eigenfunction: np.ndarray
    multiplier: complex


def doubled_start(
    compiled: CompiledModel,
    params: np.ndarray,
    mesh: np.ndarray,
    nodes: np.ndarray,
    period: float,
    degree: int,
) -> DoubledStart:
    """Double a cycle at a period-doubling point, with its -1 eigenfunction.

    The eigenfunction v of the multiplier nearest -1 solves the linearised equation with
    v(T) = -v(0), so [v, -v] over [0, 2T] is periodic; it is orthogonal to the doubled
    cycle's derivative in the phase condition by that antisymmetry, and the doubled
    branch leaves the twice-traversed cycle along it (a pitchfork in the doubled system).
    """
    prob = CollocationProblem(compiled, params, mesh, degree, nodes)
    x = np.concatenate([nodes[:-1].ravel(), [period]])
    data = floquet_from_blocks(prob.blocks(x))
    k = int(np.argmin(np.abs(data.multipliers + 1.0)))
    v0 = np.real(data.vectors[:, k])
    if float(np.linalg.norm(v0)) < 1e-12:
        v0 = np.imag(data.vectors[:, k])
    v = np.real(eigenfunction(data, v0, degree))
    v = v / float(np.max(np.abs(v)))
    mesh2 = np.concatenate([0.5 * mesh, 0.5 + 0.5 * mesh[1:]])
    nodes2 = np.vstack([nodes[:-1], nodes])
    v2 = np.vstack([v[:-1], -v[:-1], v[:1]])
    return DoubledStart(mesh2, nodes2, 2.0 * period, v2, complex(data.multipliers[k]))
