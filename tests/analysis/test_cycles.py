"""Periodic orbits by collocation: analytic cycles, published periods, Floquet multipliers
checked against the variational equations integrated by scipy, bad input."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from stabkit.analysis.cycles import Collocation, Cycle, find_cycle
from stabkit.errors import ConvergenceError, InputError
from stabkit.integrate.solve import solve
from stabkit.model import library
from stabkit.model.model import Model

BACKEND = "numpy"


@pytest.fixture(scope="module")
def hopf_nf() -> Model:
    """z' = (mu + i) z - |z|^2 z in Cartesian form: the circle r = sqrt(mu), period 2 pi."""
    return Model.from_equations(
        {"x": "mu*x - y - x*(x^2 + y^2)", "y": "x + mu*y - y*(x^2 + y^2)"},
        parameters={"mu": 0.3},
        name="hopf_normal_form",
    )


def circle_samples(radius: float, period: float, num: int = 40, phase: float = 0.4):
    t = np.linspace(0.0, period, num)
    w = 2 * np.pi / period
    return t, np.c_[radius * np.cos(w * t + phase), radius * np.sin(w * t + phase)]


def variational_multipliers(model: Model, cycle: Cycle) -> np.ndarray:
    """Eigenvalues of the monodromy matrix from scipy's DOP853 on x' = f, Phi' = Df Phi."""
    compiled = model.compile(backend="numpy")
    n = model.num_variables
    p = model.param_vector(dict(cycle.params))

    def rhs(t, z):
        y = z[:n]
        f = np.empty(n)
        jac = np.empty((n, n))
        compiled.rhs(t, y, p, f)
        compiled.jac(t, y, p, jac)
        return np.concatenate([f, (jac @ z[n:].reshape(n, n)).ravel()])

    z0 = np.concatenate([cycle.states[0], np.eye(n).ravel()])
    sol = solve_ivp(rhs, (0.0, cycle.period), z0, method="DOP853", rtol=1e-12, atol=1e-12)
    mono = sol.y[n:, -1].reshape(n, n)
    values = np.linalg.eigvals(mono)
    return values[np.argsort(-np.abs(values))]


# --------------------------------------------------------------------------- oracles
def test_hopf_normal_form_circle_radius_period_and_multipliers(hopf_nf: Model) -> None:
    mu = 0.3
    c = find_cycle(hopf_nf, {"mu": mu}, start=circle_samples(0.5, 6.0), backend=BACKEND)
    assert c.status == "ok", c.message
    assert c.period == pytest.approx(2 * np.pi, abs=1e-9)
    radius = np.hypot(c.states[:, 0], c.states[:, 1])
    assert np.max(np.abs(radius - np.sqrt(mu))) < 1e-9
    assert c.amplitude == pytest.approx(2 * np.sqrt(mu) * np.ones(2), abs=1e-8)
    mult = np.sort(np.abs(c.floquet_multipliers))
    assert mult[1] == pytest.approx(1.0, abs=1e-8)
    assert mult[0] == pytest.approx(np.exp(-4 * np.pi * mu), abs=1e-8)
    assert c.trivial_multiplier_error < 1e-8
    assert c.stable and c.num_unstable_multipliers == 0
    assert np.sort(c.floquet_exponents.real) == pytest.approx([-2 * mu, 0.0], abs=1e-8)


@settings(max_examples=4, deadline=None)
@given(mu=st.floats(0.05, 1.0), phase=st.floats(0.0, 6.0))
def test_hopf_circle_for_any_mu_and_phase(hopf_nf: Model, mu: float, phase: float) -> None:
    """Property: whatever the start's phase, the circle of radius sqrt(mu) and period 2 pi."""
    start = circle_samples(1.2 * np.sqrt(mu), 2 * np.pi * 1.05, phase=phase)
    c = find_cycle(hopf_nf, {"mu": mu}, start=start, backend=BACKEND)
    assert c.status == "ok"
    assert abs(c.period - 2 * np.pi) < 1e-8
    assert np.max(np.abs(np.hypot(c.states[:, 0], c.states[:, 1]) - np.sqrt(mu))) < 1e-8
    assert abs(np.min(np.abs(c.floquet_multipliers)) - np.exp(-4 * np.pi * mu)) < 1e-8


def test_van_der_pol_period_at_mu_1_and_multipliers_match_variational_equations() -> None:
    model = library.van_der_pol(mu=1.0)
    c = find_cycle(model, start=circle_samples(2.0, 2 * np.pi), backend=BACKEND)
    assert c.status == "ok", c.message
    assert c.period == pytest.approx(6.6632868593, abs=1e-6)  # known value (e.g. Hairer et al.)
    reference = variational_multipliers(model, c)
    assert np.allclose(c.floquet_multipliers, reference, atol=1e-8)
    # the non-trivial multiplier is exp(int_0^T div f dt) = exp(int mu (1 - x^2) dt)
    t, y = c.profile(4001)
    divergence = np.trapezoid(1.0 - y[:, 0] ** 2, t)
    assert np.min(np.abs(c.floquet_multipliers)) == pytest.approx(np.exp(divergence), rel=1e-5)


def test_van_der_pol_near_onset_amplitude_two_and_lindstedt_period() -> None:
    mu = 0.05
    c = find_cycle(library.van_der_pol(mu=mu), start=circle_samples(1.5, 6.0), backend=BACKEND)
    assert c.status == "ok"
    assert c.amplitude[0] == pytest.approx(4.0, abs=2e-3)  # x from -2 to 2
    lindstedt = 2 * np.pi * (1 + mu**2 / 16 - 5 * mu**4 / 3072)
    assert c.period == pytest.approx(lindstedt, abs=1e-7)


def test_start_from_a_trajectory_finds_the_period() -> None:
    model = library.van_der_pol(mu=1.0)
    traj = solve(model, [0.1, 0.0], (0.0, 40.0), backend=BACKEND)
    c = find_cycle(model, start=traj, backend=BACKEND)
    assert c.status == "ok", c.message
    assert c.period == pytest.approx(6.6632868593, abs=1e-6)


def test_brusselator_cycle_from_hopf_point_grows_like_square_root() -> None:
    model = library.brusselator(a=1.0, b=2.0)
    hopf = types.SimpleNamespace(kind="H", state=np.array([1.0, 2.0]), params={"a": 1, "b": 2})
    amps = []
    for delta in (0.005, 0.02):
        c = find_cycle(model, {"b": 2.0 + delta}, start=hopf, backend=BACKEND)
        assert c.status == "ok", c.message
        assert c.period == pytest.approx(2 * np.pi, rel=0.02)  # omega = a = 1 at onset
        amps.append(c.amplitude[0])
    assert amps[1] / amps[0] == pytest.approx(2.0, rel=0.03)  # sqrt(0.02 / 0.005)


def test_convergence_order_of_the_period_is_2m() -> None:
    """Gauss collocation is superconvergent: period error ~ h^(2m) on a uniform mesh."""
    model = library.van_der_pol(mu=1.0)
    exact = 6.663286859323130  # this solver, N = 160, m = 4 (agrees with 6.6632868593)
    errors = []
    for num in (8, 16):
        method = Collocation(num_intervals=num, degree=2, adapt_mesh=False)
        c = find_cycle(model, start=circle_samples(2.0, 6.6), method=method, backend=BACKEND)
        errors.append(abs(c.period - exact))
    order = math.log2(errors[0] / errors[1])
    assert 3.3 < order < 4.8, errors


def test_mesh_adaptation_beats_a_uniform_mesh_on_a_relaxation_oscillation() -> None:
    model = library.van_der_pol(mu=5.0)
    start = circle_samples(2.0, 11.6)
    fine = find_cycle(model, start=start, method=Collocation(num_intervals=120), backend=BACKEND)
    assert fine.status == "ok"
    coarse = Collocation(num_intervals=20, degree=3, adapt_mesh=False)
    uniform = find_cycle(model, start=fine, method=coarse, backend=BACKEND)
    adapted = find_cycle(
        model, start=fine, method=Collocation(num_intervals=20, degree=3), backend=BACKEND
    )
    assert adapted.status == "ok" and uniform.status == "ok"
    assert abs(adapted.period - fine.period) < 0.2 * abs(uniform.period - fine.period)
    assert adapted.error_estimate < uniform.error_estimate
    assert fine.error_estimate < adapted.error_estimate
    assert np.min(np.diff(adapted.mesh)) < 0.5 / 20  # intervals crowd at the fast jumps


# --------------------------------------------------------------------------- results
def test_cycle_profile_frame_and_json(tmp_path, hopf_nf: Model) -> None:
    c = find_cycle(hopf_nf, start=circle_samples(0.5, 6.0), backend=BACKEND)
    t, y = c.profile(50)
    assert t[0] == 0.0 and t[-1] == pytest.approx(c.period)
    assert np.allclose(np.hypot(y[:, 0], y[:, 1]), np.sqrt(0.3), atol=1e-6)
    assert list(c.to_frame().columns) == ["t", "x", "y"]
    assert c.times.shape == (c.states.shape[0],)
    path = c.save(tmp_path / "cycle.json")
    assert '"period"' in path.read_text()
    assert "period" in c._repr_html_()


# --------------------------------------------------------------------------- bad input
def test_trajectory_settling_at_an_equilibrium_is_reported() -> None:
    model = library.brusselator(b=1.5)  # below the Hopf point b = 2: a stable focus
    traj = solve(model, [0.5, 1.0], (0.0, 60.0), backend=BACKEND)
    c = find_cycle(model, start=traj, backend=BACKEND)
    assert c.status == "equilibrium"
    assert "equilibrium" in c.message
    with pytest.raises(ConvergenceError):
        find_cycle(model, start=traj, backend=BACKEND, throw=True)


def test_trajectory_that_never_returns_is_reported() -> None:
    model = Model.from_equations({"x": "1", "y": "x"}, name="drift")
    traj = solve(model, [0.0, 0.0], (0.0, 10.0), t_eval=np.linspace(0, 10, 200), backend=BACKEND)
    c = find_cycle(model, start=traj, backend=BACKEND)
    assert c.status == "no_return"
    assert "return" in c.message


def test_constant_guess_is_an_equilibrium(hopf_nf: Model) -> None:
    t = np.linspace(0.0, 6.0, 10)
    c = find_cycle(hopf_nf, start=(t, np.zeros((10, 2))), backend=BACKEND)
    assert c.status == "equilibrium"


def test_bad_arguments_raise(hopf_nf: Model) -> None:
    with pytest.raises(InputError, match="kind 'ode'"):
        find_cycle(library.logistic_map(), start=(np.arange(4.0), np.zeros((4, 1))))
    with pytest.raises(InputError, match="expected a Trajectory"):
        find_cycle(hopf_nf, start=3.0, backend=BACKEND)
    with pytest.raises(InputError, match="shape"):
        find_cycle(hopf_nf, start=(np.arange(5.0), np.zeros((5, 3))), backend=BACKEND)
    with pytest.raises(InputError, match="no parameter 'mux'"):
        find_cycle(hopf_nf, {"mux": 1.0}, start=circle_samples(1, 6), backend=BACKEND)
    with pytest.raises(InputError, match="degree"):
        Collocation(degree=0)
    with pytest.raises(TypeError):
        Collocation(intervals=10)  # type: ignore[call-arg]
    not_hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"mu": -1.0})
    with pytest.raises(InputError, match="imaginary axis"):
        find_cycle(hopf_nf, {"mu": 0.5}, start=not_hopf, backend=BACKEND)
    hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"mu": 0.0})
    with pytest.raises(InputError, match="beyond"):
        find_cycle(hopf_nf, start=hopf, backend=BACKEND)


def test_a_model_written_as_a_python_function_uses_finite_differences() -> None:
    def rhs(t, y, p):
        return [y[1], p[0] * (1 - y[0] ** 2) * y[1] - y[0]]

    model = Model.from_function(rhs, variables=["x", "y"], parameters={"mu": 1.0}, name="vdp_fn")
    t = np.linspace(0.0, 2 * np.pi, 50)
    c = find_cycle(model, start=(t, np.c_[2 * np.cos(t), -2 * np.sin(t)]), backend=BACKEND)
    assert c.status == "ok" and c.jacobian_source == "finite differences"
    assert c.period == pytest.approx(6.6632868593, abs=1e-8)
    assert c.trivial_multiplier_error < 1e-6


def test_small_multipliers_stay_accurate_beside_a_huge_one() -> None:
    """The Hopf circle times an unstable direction z' = 5 z, in coordinates mixed by an
    orthogonal matrix: multipliers {e^{10 pi} ~ 4.4e13, 1, e^{-4 pi mu}}. The eigenvalues of
    the product of the transfer matrices lose the small ones (absolute error ~ eps 4e13);
    the cyclic pencil of grouped transfer matrices keeps them."""
    import sympy

    from stabkit.analysis._collocation import CollocationProblem
    from stabkit.analysis._floquet import floquet_from_blocks

    a, b, c = sympy.symbols("a b c")
    mu, lam = 0.3, 5.0
    rot = sympy.Matrix([[2, -1, 2], [2, 2, -1], [-1, 2, 2]]) / 3
    x, y, z = rot.T * sympy.Matrix([a, b, c])
    f = sympy.Matrix([mu * x - y - x * (x**2 + y**2), x + mu * y - y * (x**2 + y**2), lam * z])
    g = (rot * f).applyfunc(sympy.expand)
    model = Model.from_equations({"a": str(g[0]), "b": str(g[1]), "c": str(g[2])}, name="mixed")
    t = np.linspace(0, 6, 40)
    start = np.c_[0.5 * np.cos(t), 0.5 * np.sin(t), 0 * t] @ np.array(rot.T, dtype=float)
    cycle = find_cycle(model, start=(t, start), backend=BACKEND)
    assert cycle.status == "ok"
    expected = [np.exp(10 * np.pi), 1.0, np.exp(-4 * np.pi * mu)]
    mods = np.abs(cycle.floquet_multipliers)
    assert mods[0] == pytest.approx(expected[0], rel=1e-6)  # e^{lam T}: 1e-8 error in lam T
    assert mods[1:] == pytest.approx(expected[1:], rel=1e-8)
    assert cycle.trivial_multiplier_error < 1e-10
    assert cycle.num_unstable_multipliers == 1 and not cycle.stable
    # the plain product really is worse here (so the pencil is what makes the difference)
    prob = CollocationProblem(
        model.compile(backend=BACKEND), model.param_vector(), cycle.mesh, 4, cycle.states
    )
    x0 = np.concatenate([cycle.states[:-1].ravel(), [cycle.period]])
    product = floquet_from_blocks(prob.blocks(x0), growth_bound=np.inf).multipliers
    assert abs(abs(product[2]) - expected[2]) > 1e-6
