"""Explicit Runge-Kutta schemes of ``integrate/_templates/explicit.py``.

Known answers: the order conditions of the typed coefficients (all rooted trees), scipy's
DOP853 at rtol = atol = 1e-12 (Lorenz, Brusselator, Van der Pol; the comparison runs on
201 output times, so it checks the dense output too), the matrix exponential for linear
systems (with a hypothesis property), convergence orders measured with fixed steps on a
nonlinear problem with a known solution, and the plain-Python backend against numba.

Fixed steps for the adaptive schemes: ``first_step = max_step = h`` with tolerances so
loose (1e10) that no step is ever rejected; the controller then keeps ``h`` (it may not
grow past ``max_step``), and the last step lands on ``t1``. RK4 is fixed-step anyway.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from stabkit.integrate.methods import DOP853, RK4, Auto, Dopri5, Tsit5
from stabkit.integrate.solve import solve, solve_ensemble
from stabkit.integrate.trajectory import MemberStatus
from stabkit.model.codegen import compile_model
from stabkit.model.model import Model

from .conftest import brusselator_rhs, lorenz_rhs, rotation_exact, van_der_pol_rhs

SCHEMES = {"dopri5": Dopri5, "tsit5": Tsit5, "dop853": DOP853}


# --------------------------------------------------------------------------- order conditions
def _trees(order):
    """Rooted trees by order, each a sorted tuple of its children's subtrees."""
    trees = {1: [()]}

    def partitions(rest, largest):
        if rest == 0:
            yield []
            return
        for part in range(min(rest, largest), 0, -1):
            for tail in partitions(rest - part, part):
                yield [part, *tail]

    for k in range(2, order + 1):
        found = set()
        for parts in partitions(k - 1, k - 1):
            for children in itertools.product(*(trees[p] for p in parts)):
                found.add(tuple(sorted(children)))
        trees[k] = sorted(found)
    return trees


def _size(tree):
    return 1 + sum(_size(c) for c in tree)


def _density(tree):
    out = _size(tree)
    for c in tree:
        out *= _density(c)
    return out


def _stage_weights(tree, a):
    g = np.ones(a.shape[0])
    for child in tree:
        g = g * (a @ _stage_weights(child, a))
    return g


def _residual(a, b, order, theta=1.0):
    """max over trees with up to ``order`` vertices of |b . Phi(t) - theta^|t| / gamma(t)|."""
    trees = _trees(order)
    return max(
        abs(b @ _stage_weights(t, a) - theta ** _size(t) / _density(t))
        for k in range(1, order + 1)
        for t in trees[k]
    )


@pytest.fixture(scope="module")
def template():
    """The generated module (plain Python): its coefficient constants and dense outputs."""
    model = Model.from_equations({"x": "-x"}, variables={"x": 1.0}, name="decay")
    return compile_model(model, backend="numpy").module


def _const(module, prefix, name):
    return float(getattr(module, f"_ERK_{prefix}_{name}", 0.0))


def _five_four(module, prefix):
    """(A with the FSAL row, b, error weights) of a 7-stage 5(4) pair."""
    a = np.zeros((7, 7))
    for i in range(2, 8):
        for j in range(1, i):
            a[i - 1, j - 1] = _const(module, prefix, f"A{i}{j}" if i < 7 else f"B{j}")
    b = a[6].copy()
    e = np.array([_const(module, prefix, f"E{j}") for j in range(1, 8)])
    return a, b, e


def _dop853(module):
    a = np.zeros((16, 16))
    for i in range(2, 17):
        for j in range(1, i):
            a[i - 1, j - 1] = _const(module, "D8", f"A{i}{j}")
    b = np.array([_const(module, "D8", f"B{j}") for j in range(1, 13)] + [0.0] * 4)
    a[12] = b  # stage 13 is f(t + h, y_new)
    return a, b


@pytest.mark.parametrize("prefix, tol", [("DP", 1e-15), ("TS", 1e-13)])
def test_five_four_pairs_satisfy_the_order_conditions(template, prefix, tol):
    a, b, e = _five_four(template, prefix)
    assert np.allclose(
        a.sum(axis=1)[1:6], [_const(template, prefix, f"C{i}") or 1.0 for i in range(2, 7)]
    )
    assert _residual(a, b, 5) < tol
    assert _residual(a, b, 6) > 1e-5  # order exactly 5: the check can fail
    assert _residual(a, b - e, 4) < tol  # the embedded solution has order 4
    assert _residual(a, b - e, 5) > 1e-5


def test_dop853_satisfies_the_order_conditions(template):
    a, b = _dop853(template)
    c = [0.0, *(_const(template, "D8", f"C{i}") for i in range(2, 12)), 1.0, 1.0]
    c += [_const(template, "D8", f"C{i}") for i in (14, 15, 16)]
    np.testing.assert_allclose(a.sum(axis=1), c, atol=1e-15)
    assert _residual(a[:12, :12], b[:12], 8) < 1e-14
    assert _residual(a[:12, :12], b[:12], 9) > 1e-6
    er = np.zeros(16)
    for j in (1, 6, 7, 8, 9, 10, 11, 12):
        er[j - 1] = _const(template, "D8", f"ER{j}")
    assert _residual(a, b - er, 5) < 1e-14  # 5th-order embedded solution
    bhh = np.zeros(16)
    bhh[[0, 8, 11]] = [_const(template, "D8", f"BHH{j}") for j in (1, 2, 3)]
    assert _residual(a, bhh, 3) < 1e-14  # 3rd-order one


@pytest.mark.parametrize("theta", [0.1, 0.37, 0.5, 0.9, 1.0])
def test_dense_outputs_satisfy_their_order_conditions(template, theta):
    """With y = 0, h = 1 and K = I, the dense output returns the weights b(theta)."""
    a, b, _ = _five_four(template, "DP")
    d = np.zeros((8, 7))
    template._erk_dopri5_prepare(0.0, 1.0, np.zeros(7), b, None, np.eye(16, 7), None, d)
    out = np.zeros(7)
    template._erk_poly4_eval(theta, 1.0, np.zeros(7), None, d, out)
    assert _residual(a, out, 4, theta) < 1e-15
    if theta == 1.0:
        np.testing.assert_allclose(out, b, atol=1e-15)

    a, b, _ = _five_four(template, "TS")
    template._erk_tsit5_eval(theta, 1.0, np.zeros(7), np.eye(7), None, out)
    assert _residual(a, out, 4, theta) < 1e-13

    a, b = _dop853(template)
    e1, e13 = np.eye(16)[0], np.eye(16)[12]
    d = np.zeros((8, 16))
    d[1], d[2] = b, e1 - b
    d[3] = b - e13 - d[2]
    for row in range(4, 8):
        d[row] = [_const(template, "D8", f"D{row}{j}") for j in range(1, 17)]
    out = np.zeros(16)
    template._erk_dop853_eval(theta, 1.0, np.zeros(16), None, d, out)
    assert _residual(a, out, 7, theta) < 1e-13


# --------------------------------------------------------------------------- accuracy
PROBLEMS = {
    "lorenz": ("lorenz", 1.0, lorenz_rhs),
    "brusselator": ("brusselator", 20.0, brusselator_rhs),
    "van_der_pol": ("van_der_pol", 20.0, van_der_pol_rhs),
}


@pytest.fixture(scope="module")
def references(request):
    """scipy DOP853 at rtol = atol = 1e-12 on 201 times for each problem."""
    out = {}
    for key, (fixture, t1, f) in PROBLEMS.items():
        model = request.getfixturevalue(fixture)
        t = np.linspace(0.0, t1, 201)
        sol = solve_ivp(f, (0.0, t1), model.default_state, "DOP853", t, rtol=1e-12, atol=1e-12)
        out[key] = (model, t, sol.y.T)
    return out


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_accuracy_against_scipy_dop853(references, problem, scheme):
    model, t, ref = references[problem]
    traj = solve(
        model,
        t_span=(0.0, t[-1]),
        method=SCHEMES[scheme](rtol=1e-10, atol=1e-10),
        t_eval=t,
        backend="numpy",
    )
    assert traj.member_status is MemberStatus.OK
    error = np.max(np.abs(traj.y - ref)) / np.max(np.abs(ref))
    assert error < 1e-8, error  # observed 1e-10 .. 1.5e-9
    loose = solve(
        model,
        t_span=(0.0, t[-1]),
        method=SCHEMES[scheme](rtol=1e-5, atol=1e-5),
        t_eval=t,
        backend="numpy",
    )
    assert loose.stats.num_steps < traj.stats.num_steps  # the tolerance is honoured


@pytest.mark.parametrize(
    "method", [Dopri5(), Tsit5(), DOP853(), RK4(dt=0.01)], ids=lambda m: m.name
)
def test_numba_equals_the_plain_python_reference(lorenz, method):
    t = np.linspace(0.0, 1.0, 11)
    runs = [
        solve(lorenz, t_span=(0.0, 1.0), method=method, t_eval=t, backend=b)
        for b in ("numba", "numpy")
    ]
    np.testing.assert_allclose(runs[0].y, runs[1].y, rtol=1e-12, atol=1e-12)
    assert runs[0].stats.num_steps == runs[1].stats.num_steps
    assert runs[0].stats.num_rhs_evaluations == runs[1].stats.num_rhs_evaluations
    every = [solve(lorenz, t_span=(0.0, 1.0), method=method, backend=b) for b in ("numba", "numpy")]
    np.testing.assert_allclose(every[0].t, every[1].t, rtol=1e-12)
    np.testing.assert_allclose(every[0].y, every[1].y, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- orders
def _fixed(scheme, h):
    if scheme == "rk4":
        return RK4(dt=h)
    return SCHEMES[scheme](rtol=1e10, atol=1e10, first_step=h, max_step=h)


ORDERS = [("dopri5", 5, (64, 128, 256)), ("tsit5", 5, (64, 128, 256))]
ORDERS += [("dop853", 8, (16, 24, 32)), ("rk4", 4, (32, 64, 128))]


@pytest.mark.parametrize("scheme, order, steps", ORDERS)
def test_measured_convergence_order(rotation, scheme, order, steps):
    t1 = 2.0
    errors = []
    for n in steps:
        traj = solve(
            rotation, t_span=(0.0, t1), method=_fixed(scheme, t1 / n), t_eval=[t1], backend="numpy"
        )
        assert traj.stats.num_steps == n and traj.stats.num_rejected == 0
        errors.append(np.linalg.norm(traj.y[-1] - rotation_exact(t1)))
    measured = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(measured - order) < 0.3, (measured, errors)


@pytest.mark.parametrize("scheme, order, steps", ORDERS)
def test_dense_output_converges_between_the_steps(rotation, scheme, order, steps):
    """Output times off the step grid: errors fall like h^order (Hermite for RK4)."""
    t1 = 2.0
    errors = []
    for n in steps:
        t = (np.arange(n) + 0.37) * t1 / n
        traj = solve(
            rotation, t_span=(0.0, t1), method=_fixed(scheme, t1 / n), t_eval=t, backend="numpy"
        )
        errors.append(np.max(np.linalg.norm(traj.y - rotation_exact(t), axis=1)))
    measured = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert measured > order - 0.3, (measured, errors)


# --------------------------------------------------------------------------- linear systems
def _shifted(rng, n, real_part):
    """A random matrix whose rightmost eigenvalue has real part ``real_part``."""
    a = rng.normal(size=(n, n))
    return a - (np.max(np.linalg.eigvals(a).real) - real_part) * np.eye(n)


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("real_part", [-0.5, 0.5], ids=["stable", "unstable"])
def test_linear_systems_match_the_matrix_exponential(linear4, scheme, real_part):
    rng = np.random.default_rng(4)
    a = _shifted(rng, 4, real_part)
    y0 = rng.normal(size=4)
    t = np.linspace(0.0, 3.0, 7)
    traj = solve(
        linear4,
        y0,
        (0.0, 3.0),
        method=SCHEMES[scheme](rtol=1e-11, atol=1e-13),
        t_eval=t,
        params=a.ravel(),
        backend="numpy",
    )
    exact = np.array([scipy.linalg.expm(a * s) @ y0 for s in t])
    scale = np.max(np.abs(exact), axis=1, keepdims=True)
    assert np.max(np.abs(traj.y - exact) / scale) < 1e-8


@settings(max_examples=60, deadline=None)
@given(
    n=st.sampled_from([2, 3]),
    seed=st.integers(0, 2**32 - 1),
    spread=st.floats(0.1, 2.0),
)
def test_dopri5_matches_expm_on_random_linear_systems(linear2, linear3, n, seed, spread):
    rng = np.random.default_rng(seed)
    a = spread * rng.uniform(-1.0, 1.0, size=(n, n))
    y0 = rng.uniform(-1.0, 1.0, size=n)
    y0 /= max(np.linalg.norm(y0), 1e-3)
    model = linear2 if n == 2 else linear3
    traj = solve(
        model,
        y0,
        (0.0, 1.0),
        method=Dopri5(rtol=1e-9, atol=1e-12),
        t_eval=[1.0],
        params=a.ravel(),
        backend="numpy",
    )
    exact = scipy.linalg.expm(a) @ y0
    assert np.linalg.norm(traj.y[-1] - exact) <= 1e-6 * np.linalg.norm(exact)


# --------------------------------------------------------------------------- step control
def test_rk4_takes_fixed_steps_and_lands_on_t1(quadratic):
    even = solve(quadratic, [0.5], (0.0, 1.0), method=RK4(dt=0.1), backend="numpy")
    assert even.stats.num_steps == 10 and even.stats.num_rhs_evaluations == 41
    np.testing.assert_allclose(even.t, np.linspace(0.0, 1.0, 11), atol=1e-15)
    assert even.t[-1] == 1.0
    short = solve(quadratic, [0.5], (0.0, 1.0), method=RK4(dt=0.3), backend="numpy")
    np.testing.assert_allclose(short.t, [0.0, 0.3, 0.6, 0.9, 1.0], atol=1e-15)


def test_initial_step_heuristic_and_first_step(lorenz):
    chosen = solve(lorenz, t_span=(0.0, 1.0), method=Dopri5(), backend="numpy")
    h0 = chosen.t[1] - chosen.t[0]
    assert 1e-4 < h0 < 0.1  # Hairer's heuristic: a sensible size, no blind 1e-6
    given_ = solve(lorenz, t_span=(0.0, 1.0), method=Dopri5(first_step=1e-3), backend="numpy")
    assert given_.t[1] == pytest.approx(1e-3, rel=1e-15)
    capped = solve(lorenz, t_span=(0.0, 1.0), method=Dopri5(max_step=0.01), backend="numpy")
    assert np.max(np.diff(capped.t)) <= 0.01 * (1 + 1e-12)


def test_a_non_finite_trial_step_is_rejected_and_retried():
    """f is NaN for x < 0; a too-large first step overshoots there and is retried."""

    def decay(t, y, p, out):
        out[0] = -y[0] if y[0] >= 0.0 else math.nan

    model = Model.from_function(decay, variables={"x": 1.0}, name="guarded_decay")
    traj = solve(
        model,
        t_span=(0.0, 5.0),
        method=Dopri5(first_step=4.0, rtol=1e-8),
        t_eval=[5.0],
        backend="numpy",
    )
    assert traj.member_status is MemberStatus.OK
    assert traj.stats.num_rejected >= 1
    assert traj.y[-1, 0] == pytest.approx(math.exp(-5.0), rel=1e-6)


def test_non_finite_right_hand_side_ends_the_member():
    def wall(t, y, p, out):
        out[0] = 1.0 if t < 0.5 else math.nan

    model = Model.from_function(wall, variables={"x": 0.0}, name="nan_wall")
    traj = solve(model, t_span=(0.0, 1.0), method=Dopri5(), t_eval=[0.25, 1.0], backend="numpy")
    assert traj.member_status is MemberStatus.NON_FINITE
    assert traj.status == "non_finite"
    assert 0.49 < traj.t_final < 0.5
    assert traj.y[0, 0] == pytest.approx(0.25, rel=1e-12) and np.isnan(traj.y[1, 0])


# --------------------------------------------------------------------------- stiffness
def test_auto_detects_stiffness_and_hands_over(van_der_pol):
    stiff = van_der_pol.with_params(mu=1000.0)
    t = np.linspace(0.0, 3000.0, 7)
    traj = solve(
        stiff, t_span=(0.0, 3000.0), method=Auto(rtol=1e-7, atol=1e-9), t_eval=t, backend="numpy"
    )
    assert traj.member_status is MemberStatus.OK
    assert traj.stats.extra["num_stiff_switches"] == 1
    assert traj.stats.num_jacobian_evaluations > 0
    ref = solve_ivp(
        lambda s, u: van_der_pol_rhs(s, u, 1000.0),
        (0.0, 3000.0),
        [2.0, 0.0],
        "Radau",
        t,
        rtol=1e-10,
        atol=1e-12,
    )
    assert np.max(np.abs(traj.y[:, 0] - ref.y[0])) < 1e-4
    explicit = solve(
        stiff,
        t_span=(0.0, 3000.0),
        method=Dopri5(rtol=1e-7, atol=1e-9, max_steps=20 * traj.stats.num_steps),
        backend="numpy",
    )
    assert explicit.member_status is MemberStatus.MAX_STEPS  # stability, not accuracy, binds


@pytest.mark.parametrize("nonstiff", ["dopri5", "tsit5"])
def test_auto_stays_explicit_on_a_nonstiff_problem(lorenz, nonstiff):
    auto = solve(lorenz, t_span=(0.0, 2.0), method=Auto(nonstiff=nonstiff), backend="numpy")
    plain = solve(lorenz, t_span=(0.0, 2.0), method=SCHEMES[nonstiff](), backend="numpy")
    assert auto.stats.extra["num_stiff_switches"] == 0
    np.testing.assert_array_equal(auto.y, plain.y)


def test_explicit_member_stops_with_status_stiff_when_asked_to_detect(van_der_pol):
    """cfg[9] = 1: the Dopri5 member itself stops (internal status 8) once h |lambda| > 3.25."""
    kernel = compile_model(van_der_pol, backend="numpy").kernel("dopri5_member")
    cfg = np.zeros(16)
    cfg[1:8] = (np.inf, 0.9, 0.2, 10.0, 0.04, 1e100, 1e6)
    cfg[9], cfg[10] = 1.0, 15.0
    counters = np.zeros(16, dtype=np.int64)
    t_final, y_final, _, _ = kernel(
        np.array([2.0, 0.0]),
        np.array([1000.0]),
        0.0,
        3000.0,
        np.zeros(0),
        np.full(2, 1e-6),
        np.full(2, 1e-9),
        cfg,
        np.zeros(0),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 2)),
        np.zeros(0),
        np.zeros((0, 2)),
        np.zeros(0, np.int64),
        counters,
        0,
        np.zeros(1),
        np.zeros((1, 2)),
    )
    assert counters[6] == 8 and 0.0 < t_final < 3000.0
    assert counters[0] >= 15 and np.all(np.isfinite(y_final))
    cfg[9] = 0.0  # without detection the same member plods on (and runs out of steps)
    cfg[7] = 10 * counters[0]
    counters[:] = 0
    kernel(
        np.array([2.0, 0.0]),
        np.array([1000.0]),
        0.0,
        3000.0,
        np.zeros(0),
        np.full(2, 1e-6),
        np.full(2, 1e-9),
        cfg,
        np.zeros(0),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 2)),
        np.zeros(0),
        np.zeros((0, 2)),
        np.zeros(0, np.int64),
        counters,
        0,
        np.zeros(1),
        np.zeros((1, 2)),
    )
    assert counters[6] == MemberStatus.MAX_STEPS


def test_auto_ensemble_switches_member_by_member(van_der_pol):
    ens = solve_ensemble(
        van_der_pol,
        [[2.0, 0.0], [1.0, 0.0]],
        (0.0, 300.0),
        method=Auto(rtol=1e-6, atol=1e-9),
        params={"mu": [1000.0, 1.0]},
        backend="numpy",
    )
    assert ens.status == "ok"
    assert ens.stats.extra["num_stiff_switches"] == 1  # only the stiff member switched
    one = solve(
        van_der_pol,
        [1.0, 0.0],
        (0.0, 300.0),
        method=Dopri5(rtol=1e-6, atol=1e-9),
        t_eval=[0.0, 300.0],
        backend="numpy",
    )
    np.testing.assert_array_equal(ens.y[1], one.y)  # the nonstiff member is plain Dopri5
