"""Problem definitions shared by the benchmark modules: Lorenz and Robertson."""

from __future__ import annotations

import time

import numpy as np

# Lorenz -----------------------------------------------------------------------------------

LORENZ_PARAMS = np.array([10.0, 28.0, 8.0 / 3.0])  # sigma, rho, beta
LORENZ_TSPAN = (0.0, 10.0)
LORENZ_RTOL = 1e-6
LORENZ_ATOL = 1e-9
LORENZ_SEED = 20240611

SIGMA, RHO, BETA = (float(v) for v in LORENZ_PARAMS)


def lorenz_initial_states(members: int, seed: int = LORENZ_SEED) -> np.ndarray:
    """``members`` initial states, uniform in x, y in [-20, 20], z in [0, 50] (fixed seed)."""
    rng = np.random.default_rng(seed)
    lo = np.array([-20.0, -20.0, 0.0])
    hi = np.array([20.0, 20.0, 50.0])
    return lo + (hi - lo) * rng.random((members, 3))


def lorenz_scipy_rhs(t: float, u: np.ndarray) -> np.ndarray:
    x, y, z = u
    return np.array([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z])


def lorenz_reference(y0s: np.ndarray, t1: float, tol: float = 1e-12) -> np.ndarray:
    """Final states at ``t1`` from scipy DOP853 with rtol = atol = ``tol``."""
    from scipy.integrate import solve_ivp

    y0s = np.atleast_2d(y0s)
    out = np.empty_like(y0s, dtype=float)
    for j, y0 in enumerate(y0s):
        sol = solve_ivp(lorenz_scipy_rhs, (0.0, t1), y0, method="DOP853", rtol=tol, atol=tol)
        if sol.status != 0:
            raise RuntimeError(f"DOP853 reference failed for member {j}: {sol.message}")
        out[j] = sol.y[:, -1]
    return out


# Robertson --------------------------------------------------------------------------------

ROBERTSON_K = (0.04, 3e7, 1e4)
ROBERTSON_Y0 = np.array([1.0, 0.0, 0.0])
ROBERTSON_RTOL = 1e-6
ROBERTSON_ATOL = 1e-10


def robertson_rhs(t: float, y: np.ndarray) -> np.ndarray:
    k1, k2, k3 = ROBERTSON_K
    y1, y2, y3 = y
    return np.array([-k1 * y1 + k3 * y2 * y3, k1 * y1 - k2 * y2 * y2 - k3 * y2 * y3, k2 * y2 * y2])


def robertson_jac(t: float, y: np.ndarray) -> np.ndarray:
    k1, k2, k3 = ROBERTSON_K
    _, y2, y3 = y
    return np.array(
        [
            [-k1, k3 * y3, k3 * y2],
            [k1, -2.0 * k2 * y2 - k3 * y3, -k3 * y2],
            [0.0, 2.0 * k2 * y2, 0.0],
        ]
    )


def robertson_reference(t1: float) -> np.ndarray:
    """Final state at ``t1`` from scipy Radau, rtol=1e-12, atol=1e-20, analytic Jacobian."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(
        robertson_rhs,
        (0.0, t1),
        ROBERTSON_Y0,
        method="Radau",
        rtol=1e-12,
        atol=1e-20,
        jac=robertson_jac,
    )
    if sol.status != 0:
        raise RuntimeError(f"reference Radau failed: {sol.message}")
    return sol.y[:, -1]


class Timer:
    """Wall, process-CPU and calling-thread-CPU seconds of a ``with`` block.

    ``cpu / wall`` ~ cores kept busy. ``thread`` counts only the calling thread: with one
    numba thread the work runs there, so it is immune both to other processes on the
    machine and to OpenMP workers of earlier parallel regions spinning while idle.
    """

    wall: float
    cpu: float
    thread: float

    def __enter__(self) -> Timer:
        self._w = time.perf_counter()
        self._c = time.process_time()
        self._t = time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        self.thread = time.thread_time() - self._t
