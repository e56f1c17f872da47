"""First guesses for periodic orbits: from a simulation, from samples, from a Hopf point.

* A trajectory: the last stretch (second half) is searched for returns to a Poincare
  section through the last point, normal to the flow there; the latest close return
  gives the period, and one more period integrated from the last point (at the
  collocation nodes) gives the profile.
* Samples ``(times, states)`` of one period: interpolated periodically onto the nodes.
* A Hopf point (x_H, p_H) with critical eigenvalues +-i omega and eigenvector q: the small
  circle u(tau) = x_H + eps Re(q e^{2 pi i tau}) of period 2 pi / omega, the first-order
  approximation of the cycles born there (Kuznetsov, 3rd ed., Section 3.4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from stabkit.analysis._collocation import basis
from stabkit.errors import InputError
from stabkit.model.codegen import CompiledModel
from stabkit.model.model import Model, _named_vector

__all__ = [
    "Guess",
    "HopfData",
    "circle_nodes",
    "guess_from_samples",
    "guess_from_trajectory",
    "hopf_data",
    "hopf_params",
    "is_hopf_like",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Guess:
    """A first guess on a mesh, or the reason there is none (``status`` not "ok")."""

    status: str
    message: str
    mesh: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    nodes: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    period: float = float("nan")


def node_tau(mesh: np.ndarray, degree: int) -> np.ndarray:
    """tau of the N m + 1 nodes."""
    tau = (mesh[:-1, None] + np.diff(mesh)[:, None] * basis(degree).nodes[None, :-1]).ravel()
    return np.append(tau, 1.0)


def _flow(compiled: CompiledModel, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    out = np.empty(y.size)
    with np.errstate(all="ignore"):
        compiled.rhs(0.0, np.ascontiguousarray(y, dtype=np.float64), p, out)
    return out


def guess_from_trajectory(
    model: Model,
    compiled: CompiledModel,
    t: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    num_intervals: int,
    degree: int,
    backend: str,
) -> Guess:
    """Period and profile from the last stretch of a simulation (see module docstring)."""
    from stabkit.integrate.solve import solve

    finite = np.all(np.isfinite(y), axis=1)
    t, y = np.asarray(t, float)[finite], np.asarray(y, float)[finite]
    if t.size < 8:
        return Guess(
            "no_return", f"the trajectory has only {t.size} finite points; integrate longer"
        )
    keep = t >= t[0] + 0.5 * (t[-1] - t[0])
    ts, ys = t[keep], y[keep]
    size = 1.0 + float(np.max(np.abs(ys)))
    spread = float(np.max(np.ptp(ys, axis=0)))
    y_end = ys[-1]
    f_end = _flow(compiled, y_end, params)
    speed = float(np.linalg.norm(f_end))
    if spread <= 1e-6 * size or speed <= 1e-10 * size:
        return Guess(
            "equilibrium",
            f"the trajectory settles at an equilibrium (spread {spread:.3g} over its second "
            f"half, speed {speed:.3g} at the end): there is no periodic orbit to start from",
        )
    quarter = max(2, t.size // 4)
    last, previous = np.ptp(y[-quarter:], axis=0), np.ptp(y[-2 * quarter : -quarter], axis=0)
    if float(np.max(last)) < 0.2 * float(np.max(previous)):
        return Guess(
            "equilibrium",
            f"the trajectory's oscillation dies out (spread {float(np.max(previous)):.3g} -> "
            f"{float(np.max(last)):.3g} over its last two quarters): it approaches an "
            "equilibrium, not a periodic orbit (or is still far from one: integrate longer)",
        )
    g = (ys - y_end) @ f_end
    up = np.flatnonzero((g[:-1] < 0.0) & (g[1:] >= 0.0))
    best_dist, best_t = np.inf, np.nan
    candidates: list[tuple[float, float]] = []
    for i in up:
        s = g[i] / (g[i] - g[i + 1])
        tc = ts[i] + s * (ts[i + 1] - ts[i])
        yc = ys[i] + s * (ys[i + 1] - ys[i])
        if ts[-1] - tc <= 1e-9 * (1.0 + abs(ts[-1])):
            continue
        dist = float(np.max(np.abs(yc - y_end))) / spread
        candidates.append((tc, dist))
        best_dist = min(best_dist, dist)
    close = [c for c in candidates if c[1] <= 0.02]
    if not close:
        detail = (
            f"the closest return is {best_dist:.3g} of the orbit's size"
            if np.isfinite(best_dist)
            else "it never crosses the section again"
        )
        return Guess(
            "no_return",
            "the trajectory does not return near its last point over its second half "
            f"({detail}); it may not be periodic yet: integrate longer, or start nearer the cycle",
        )
    best_t = max(c[0] for c in close)
    period = float(ts[-1] - best_t)
    mesh = np.linspace(0.0, 1.0, num_intervals + 1)
    tau = node_tau(mesh, degree)
    traj = solve(model, y_end, (0.0, period), t_eval=tau * period, params=params, backend=backend)
    if traj.status != "ok" or not np.all(np.isfinite(traj.y)):
        return Guess(
            "no_return", f"integrating one period from the last point failed: {traj.message}"
        )
    nodes = np.array(traj.y, dtype=np.float64)
    nodes[-1] = nodes[0]
    return Guess("ok", "", mesh, nodes, period)


def guess_from_samples(times: Any, states: Any, n: int, num_intervals: int, degree: int) -> Guess:
    """Profile and period from samples of one period (linear periodic interpolation)."""
    try:
        t = np.asarray(times, dtype=np.float64).ravel()
        y = np.asarray(states, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("start=(times, states): expected arrays of numbers") from None
    if y.ndim != 2 or y.shape != (t.size, n) or t.size < 4:
        raise InputError(
            f"start=(times, states): need times of shape (k,) and states of shape (k, {n}) "
            f"with k >= 4, got {t.shape} and {y.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))) or np.any(np.diff(t) <= 0):
        raise InputError("start=(times, states): times must increase strictly and all be finite")
    period = float(t[-1] - t[0])
    spread = float(np.max(np.ptp(y, axis=0)))
    if spread <= 1e-9 * (1.0 + float(np.max(np.abs(y)))):
        return Guess(
            "equilibrium",
            "the guess is constant (an equilibrium): a periodic orbit needs a guess that "
            "goes round it once",
        )
    mesh = np.linspace(0.0, 1.0, num_intervals + 1)
    tau = node_tau(mesh, degree)
    s = (t - t[0]) / period
    nodes = np.column_stack([np.interp(tau, s, y[:, k], period=1.0) for k in range(n)])
    nodes[-1] = nodes[0]
    return Guess("ok", "", mesh, nodes, period)


def is_hopf_like(start: object) -> bool:
    """An object with ``kind`` "H" (or "hopf") and a ``state``."""
    kind = getattr(start, "kind", None)
    return isinstance(kind, str) and kind.lower() in {"h", "hopf"} and hasattr(start, "state")


def hopf_params(model: Model, start: Any, params: Any) -> np.ndarray:
    """Parameter values of a Hopf point: its ``params``, else ``params`` with its parameter set."""
    own = getattr(start, "params", None)
    if own is not None:
        return model.param_vector(own if isinstance(own, Mapping) else np.asarray(own, float))
    p = model.param_vector(params)
    name = getattr(start, "parameter", None)
    value = getattr(start, "parameter_value", None)
    if isinstance(name, str) and value is not None:
        p = model.param_vector(
            {**dict(zip(model.parameters, p.tolist(), strict=True)), name: value}
        )
    return p


@dataclasses.dataclass(frozen=True, eq=False)
class HopfData:
    """Equilibrium, critical frequency and eigenvector at a Hopf point."""

    state: np.ndarray
    omega: float
    eigenvector: np.ndarray
    real_part: float


def hopf_data(compiled: CompiledModel, model: Model, start: Any, params: np.ndarray) -> HopfData:
    """The critical pair of a Hopf point (the complex pair nearest the imaginary axis)."""
    state = getattr(start, "state", None)
    x = _named_vector(state, model.variables, model.default_state, what="state", model=model.name)
    jac = np.empty((x.size, x.size))
    with np.errstate(all="ignore"):
        compiled.jac(0.0, x, params, jac)
    if not np.all(np.isfinite(jac)):
        raise InputError("start: the Jacobian is not finite at the Hopf point's state")
    values, vectors = np.linalg.eig(jac)
    pos = np.flatnonzero(values.imag > 1e-10 * max(1.0, float(np.max(np.abs(values)))))
    if pos.size == 0:
        raise InputError(
            f"start (kind 'H'): the Jacobian at the state has no complex eigenvalues "
            f"({np.array2string(values, precision=4)}), so this is not a Hopf point"
        )
    k = pos[np.argmin(np.abs(values.real[pos]) / np.abs(values[pos]))]
    lam = complex(values[k])
    if abs(lam.real) > 1e-4 * abs(lam):
        raise InputError(
            f"start (kind 'H'): the critical pair {lam:.6g} is not on the imaginary axis "
            "(|Re| > 1e-4 |lambda|); pass a located Hopf point"
        )
    residual = np.empty(x.size)
    with np.errstate(all="ignore"):
        compiled.rhs(0.0, x, params, residual)
    if float(np.max(np.abs(residual))) > 1e-6 * (1.0 + float(np.max(np.abs(x)))):
        raise InputError(
            f"start (kind 'H'): the state is not an equilibrium at the point's parameters "
            f"(|f| = {float(np.max(np.abs(residual))):.3g})"
        )
    q = vectors[:, k].astype(np.complex128)
    # rotate q so that Re q and Im q are orthogonal, and scale to unit max norm
    a, b = q.real, q.imag
    angle = 0.5 * np.arctan2(-2.0 * (a @ b), a @ a - b @ b)
    q = q * np.exp(1j * angle)
    q = q / float(np.max(np.abs(q)))
    return HopfData(x, abs(lam.imag), q, lam.real)


def circle_nodes(data: HopfData, amplitude: float, tau: np.ndarray) -> np.ndarray:
    """x_H + amplitude Re(q e^{2 pi i tau}) at the nodes, shape (len(tau), n)."""
    wave = np.real(data.eigenvector[None, :] * np.exp(2j * np.pi * tau)[:, None])
    return data.state[None, :] + amplitude * wave
