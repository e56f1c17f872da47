"""The periodic-orbit solver shared by :func:`find_cycle` and :func:`continue_cycles`.

:class:`Collocation` (the algorithm object), :class:`Cycle` (the result) and the
solve-adapt-solve loop: Newton on the collocation equations (sparse LU), then de Boor's
mesh equidistribution and a new solve, then the Floquet multipliers by condensation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._collocation import (
    CollocationProblem,
    basis,
    equidistribute,
    evaluate_profile,
    interpolate_nodes,
    mesh_monitor,
    resample,
)
from stabkit.analysis._floquet import FloquetData, floquet_from_blocks
from stabkit.errors import InputError
from stabkit.model.codegen import CompiledModel
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Collocation", "Cycle", "SolvedCycle", "build_cycle", "solve_cycle", "uniform_nodes"]


def _int(owner: str, name: str, value: object, lo: int, hi: int | None = None) -> None:
    bad = isinstance(value, bool) or not isinstance(value, (int, np.integer))
    if bad or value < lo or (hi is not None and value > hi):  # type: ignore[operator]
        rng = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise InputError(f"{owner}({name}={value!r}): expected an integer {rng}")


@dataclasses.dataclass(frozen=True)
class Collocation:
    """Orthogonal collocation of periodic orbits at Gauss points, with mesh adaptation.

    The orbit is u(tau) = x(tau T) on [0, 1], piecewise polynomial of degree m on a mesh
    of N intervals, with u' = T f(u, p) at the m Gauss points of every interval,
    u(0) = u(1) and the integral phase condition int_0^1 <u, v'> dtau = 0 against a
    reference v; Newton's method with the exact Jacobian of f solves the sparse system
    (N m n + 1 unknowns) by sparse LU. After a solve the mesh is moved to equidistribute
    de Boor's monitor and the orbit solved again (de Boor 1973; Russell and Christiansen
    1978; Doedel, Keller and Kernevez 1991, the method of AUTO and MatCont).

    Parameters
    ----------
    num_intervals
        Mesh intervals N on the unit period interval.
    degree
        Degree m of the polynomial on each interval (m Gauss points; the error at the
        mesh points is O(h^{2m}), between them O(h^{m+1})).
    adapt_mesh
        Move the mesh so that de Boor's monitor |u^(m+1)|^(1/(m+1)) integrates evenly
        over the intervals, and solve again (at most ``max_mesh_adaptations`` times).
    tol
        Newton's tolerance on the last step, relative to ``1 + max|unknowns|``.
    max_newton_iterations
        Newton iterations per solve.
    max_mesh_adaptations
        Re-meshing rounds after the first solve.

    Examples
    --------
    >>> Collocation(num_intervals=20, degree=3).degree
    3
    """

    num_intervals: int = 40
    degree: int = 4
    adapt_mesh: bool = True
    tol: float = 1e-10
    max_newton_iterations: int = 25
    max_mesh_adaptations: int = 3

    def __post_init__(self) -> None:
        _int("Collocation", "num_intervals", self.num_intervals, 3)
        _int("Collocation", "degree", self.degree, 1, 7)
        _int("Collocation", "max_newton_iterations", self.max_newton_iterations, 1)
        _int("Collocation", "max_mesh_adaptations", self.max_mesh_adaptations, 0)
        if not isinstance(self.adapt_mesh, bool):
            raise InputError(f"Collocation(adapt_mesh={self.adapt_mesh!r}): expected True/False")
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
            raise InputError(f"Collocation(tol={tol!r}): expected a number in (0, 1), e.g. 1e-10")


@dataclasses.dataclass(frozen=True, repr=False)
class Cycle(Result):
    """A periodic orbit: its collocation profile, period and Floquet multipliers.

    Attributes
    ----------
    variables
        Variable names.
    params
        Parameter values ``{name: value}``.
    period
        The period T (NaN when no cycle was found).
    mesh
        Mesh of the unit period interval, shape ``(N + 1,)``.
    degree
        Degree m of the collocation polynomials.
    states
        Node values, shape ``(N m + 1, n)``; row ``j m + k`` is u(tau_j + h_j k / m), the
        last row repeats the first (u(1) = u(0)). Times are ``tau T``, see :attr:`times`.
    amplitude
        ``max - min`` of each variable over the orbit, shape ``(n,)``.
    floquet_multipliers
        Complex, shape ``(n,)``, by modulus (largest first).
    trivial_multiplier_index
        Index of the multiplier that belongs to the direction along the orbit (exactly 1
        in exact arithmetic).
    trivial_multiplier_error
        Its distance to 1: a measure of the accuracy of the multipliers.
    stable
        Every other multiplier inside the unit circle (orbitally asymptotically stable).
    num_unstable_multipliers
        Non-trivial multipliers outside the unit circle.
    error_estimate
        Estimated largest local error of the profile between mesh points (state units),
        ``max_j h_j^(m+1) |u^(m+1)|_j / (m+1)!`` with u^(m+1) from de Boor's differences.
    residual
        Largest collocation residual at the solution.
    jacobian_source
        ``"exact"`` (symbolic), ``"user"`` or ``"finite differences"``.
    """

    variables: tuple[str, ...] = ()
    params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    period: float = float("nan")
    mesh: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    degree: int = 0
    states: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    amplitude: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    floquet_multipliers: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty(0, complex)
    )
    trivial_multiplier_index: int = -1
    trivial_multiplier_error: float = float("nan")
    stable: bool = False
    num_unstable_multipliers: int = 0
    error_estimate: float = float("nan")
    residual: float = float("nan")
    jacobian_source: str = "exact"

    @property
    def times(self) -> np.ndarray:
        """Times of the node values, ``(N m + 1,)``, from 0 to the period."""
        b = basis(self.degree)
        tau = (self.mesh[:-1, None] + np.diff(self.mesh)[:, None] * b.nodes[None, :-1]).ravel()
        return np.append(tau, 1.0) * self.period

    def profile(self, num: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """The orbit at ``num`` equally spaced times over one period (the last = the first).

        Returns
        -------
        tuple
            ``(t, states)`` of shapes ``(num,)`` and ``(num, n)``, from the collocation
            polynomials.
        """
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
            raise InputError(f"profile(num={num!r}): expected an integer >= 2")
        if self.states.size == 0:
            raise InputError(f"profile(): no cycle (status {self.status!r}: {self.message})")
        tau = np.linspace(0.0, 1.0, int(num))
        values = evaluate_profile(self.mesh, self.states, self.degree, tau)
        values[-1] = values[0]
        return tau * self.period, values

    @property
    def nontrivial_multipliers(self) -> np.ndarray:
        """The multipliers without the trivial one, by modulus."""
        if self.trivial_multiplier_index < 0:
            return self.floquet_multipliers
        return np.delete(self.floquet_multipliers, self.trivial_multiplier_index)

    @property
    def floquet_exponents(self) -> np.ndarray:
        """Floquet exponents log(mu) / T (complex, principal branch), in multiplier order."""
        with np.errstate(divide="ignore"):
            return np.log(self.floquet_multipliers.astype(np.complex128)) / self.period

    def to_frame(self) -> pd.DataFrame:
        """The profile at 200 times: columns ``t`` and one per variable."""
        import pandas as pd

        t, y = self.profile(200)
        frame = pd.DataFrame(y, columns=list(self.variables))
        frame.insert(0, "t", t)
        return frame

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """The orbit in the plane of two variables (``variables=("x", "y")``)."""
        from stabkit.report.cycles_figures import plot_cycle

        return plot_cycle(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(1, ("period", f"{self.period:.10g}"))
        amp = ", ".join(
            f"{v}: {a:.6g}" for v, a in zip(self.variables, self.amplitude, strict=False)
        )
        rows.insert(2, ("amplitude", amp))
        rows.insert(3, ("multipliers", ", ".join(f"{z:.6g}" for z in self.floquet_multipliers)))
        rows.insert(4, ("stable", str(self.stable)))
        rows.insert(5, ("error estimate", f"{self.error_estimate:.3g}"))
        return rows

    def __repr__(self) -> str:
        return (
            f"Cycle(status={self.status!r}, period={self.period:.10g}, "
            f"amplitude={np.array2string(self.amplitude, precision=6)}, stable={self.stable})"
        )


def uniform_nodes(num_intervals: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """A uniform mesh and the tau of its N m + 1 nodes."""
    mesh = np.linspace(0.0, 1.0, num_intervals + 1)
    tau = (mesh[:-1, None] + np.diff(mesh)[:, None] * basis(degree).nodes[None, :-1]).ravel()
    return mesh, np.append(tau, 1.0)


@dataclasses.dataclass(frozen=True, eq=False)
class SolvedCycle:
    """Internal outcome of :func:`solve_cycle` (everything :func:`build_cycle` needs)."""

    converged: bool
    mesh: np.ndarray
    nodes: np.ndarray
    period: float
    iterations: int
    residual: float
    error_estimate: float
    floquet: FloquetData | None
    num_rhs: int
    num_jac: int
    num_factorisations: int
    message: str


def solve_cycle(
    compiled: CompiledModel,
    params: np.ndarray,
    mesh: np.ndarray,
    nodes: np.ndarray,
    period: float,
    method: Collocation,
) -> SolvedCycle:
    """Newton on a mesh, then re-mesh and solve again; Floquet multipliers at the end.

    ``nodes`` (N m + 1, n) on ``mesh`` is the first guess and the phase reference.
    A failed re-solve after re-meshing keeps the last converged solution.
    """
    m = method.degree
    counted: list[CollocationProblem] = []

    def run(mesh_: np.ndarray, nodes_: np.ndarray, period_: float) -> tuple[Any, ...]:
        prob = CollocationProblem(compiled, params, mesh_, m, nodes_)
        counted.append(prob)
        x0 = np.concatenate([nodes_[:-1].ravel(), [period_]])
        x, ok, its, res = prob.newton(
            x0, tol=method.tol, max_iterations=method.max_newton_iterations
        )
        return prob, x, ok, its, res

    if mesh.size - 1 != method.num_intervals or nodes.shape[0] != (mesh.size - 1) * m + 1:
        mesh, nodes = resample(mesh, nodes, method.num_intervals, m, method.adapt_mesh)
    prob, x, ok, its, res = run(mesh, nodes, period)
    iterations = its
    message = ""
    if not ok:
        message = (
            f"Newton did not converge in {method.max_newton_iterations} iterations "
            f"(collocation residual {res:.3g}); a better start or more mesh intervals may help"
        )
    best = (prob, x, res)
    if ok and method.adapt_mesh:
        for _ in range(method.max_mesh_adaptations):
            cur_nodes = np.vstack([x[: prob.size_u].reshape(-1, prob.n), x[: prob.n][None, :]])
            monitor, _ = mesh_monitor(mesh, cur_nodes, m)
            new_mesh = equidistribute(mesh, monitor, method.num_intervals)
            if np.max(np.abs(new_mesh - mesh)) < 0.05 * np.min(np.diff(mesh)):
                break
            new_nodes = interpolate_nodes(mesh, cur_nodes, m, new_mesh, m)
            prob2, x2, ok2, its2, res2 = run(new_mesh, new_nodes, float(x[prob.size_u]))
            iterations += its2
            if not ok2:
                message = "re-meshing failed to converge; the solution on the previous mesh is kept"
                break
            prob, x, res, mesh = prob2, x2, res2, new_mesh
            best = (prob, x, res)
    prob, x, res = best
    n = prob.n
    nodes_out = np.vstack([x[: prob.size_u].reshape(-1, n), x[:n][None, :]])
    _, error = mesh_monitor(mesh, nodes_out, m)
    floquet = None
    if ok and np.all(np.isfinite(x)):
        floquet = floquet_from_blocks(prob.blocks(x))
    num_rhs = sum(p.num_rhs for p in counted)
    num_jac = sum(p.num_jac for p in counted)
    factorisations = iterations
    return SolvedCycle(
        ok, mesh, nodes_out, float(x[prob.size_u]), iterations, res, error, floquet,
        num_rhs, num_jac, factorisations, message,
    )  # fmt: skip


def amplitude_of(mesh: np.ndarray, nodes: np.ndarray, degree: int) -> np.ndarray:
    """max - min per variable of the piecewise polynomial profile.

    Coarse samples find the intervals of the extremes; there the extremes are taken
    exactly, at the real roots of the derivative of the interval's polynomial.
    """
    num = mesh.size - 1
    theta = basis(degree).nodes
    fine = np.linspace(0.0, 1.0, 9)
    out = np.empty(nodes.shape[1])
    per = np.stack([nodes[j * degree : j * degree + degree + 1] for j in range(num)])
    for k in range(nodes.shape[1]):
        coeffs = np.polyfit(theta, per[:, :, k].T, degree).T  # (N, m + 1), highest first
        samples = np.array([np.polyval(c, fine) for c in coeffs])
        extremes = []
        for pick in (np.argmax, np.argmin):
            j0 = int(pick(samples.max(axis=1) if pick is np.argmax else samples.min(axis=1)))
            values: list[float] = []
            for j in ((j0 - 1) % num, j0, (j0 + 1) % num):
                crit = np.roots(np.polyder(coeffs[j])) if degree > 1 else np.empty(0)
                crit = crit.real[(np.abs(crit.imag) < 1e-12) & (crit.real >= 0) & (crit.real <= 1)]
                values.extend(np.polyval(coeffs[j], np.concatenate([crit, [0.0, 1.0]])))
            extremes.append(max(values) if pick is np.argmax else min(values))
        out[k] = extremes[0] - extremes[1]
    return out


def build_cycle(
    solved: SolvedCycle,
    *,
    variables: tuple[str, ...],
    params: Mapping[str, float],
    degree: int,
    provenance: Provenance,
    stats: Stats,
    jacobian_source: str,
    status: str | None = None,
    message: str = "",
) -> Cycle:
    """A :class:`Cycle` result from a solve (status from convergence and checks)."""
    amp = amplitude_of(solved.mesh, solved.nodes, degree)
    scale = 1.0 + float(np.max(np.abs(solved.nodes)))
    msg = message or solved.message
    if status is None:
        if float(np.max(amp)) <= 1e-7 * scale:
            status = "equilibrium"
            msg = (
                f"Newton converged to a constant solution (amplitude {float(np.max(amp)):.3g}): "
                "an equilibrium, not a periodic orbit; start nearer the cycle"
            )
        elif not solved.converged:
            status = "newton_failed"
        elif not (np.isfinite(solved.period) and solved.period > 0):
            status = "bad_period"
            msg = f"Newton converged to a non-positive period {solved.period:.6g}"
        else:
            status = "ok"
    mult = np.empty(0, complex)
    trivial, trivial_error, stable, unstable = -1, float("nan"), False, 0
    if solved.floquet is not None and status == "ok":
        mult = solved.floquet.multipliers
        trivial = solved.floquet.trivial
        trivial_error = float(abs(mult[trivial] - 1.0))
        others = np.abs(np.delete(mult, trivial))
        unstable = int(np.sum(others > 1.0))
        stable = bool(np.all(others < 1.0))
    return Cycle(
        status=status,
        message=msg,
        stats=stats,
        provenance=provenance,
        variables=variables,
        params=dict(params),
        period=solved.period,
        mesh=solved.mesh,
        degree=degree,
        states=solved.nodes,
        amplitude=amp,
        floquet_multipliers=mult,
        trivial_multiplier_index=trivial,
        trivial_multiplier_error=trivial_error,
        stable=stable,
        num_unstable_multipliers=unstable,
        error_estimate=solved.error_estimate,
        residual=solved.residual,
        jacobian_source=jacobian_source,
    )
