"""Stiff integrators of the Rosenbrock template: Rodas5 and Rosenbrock23.

The member kernels are called through the template contract (``CONTRACT.md``) with
arrays built here, independently of :func:`stabkit.solve`. Known answers: scipy's
Radau at tight tolerances (Robertson, Van der Pol), the matrix exponential (linear
systems), the exact solution of forced linear problems (Prothero-Robinson), measured
convergence orders, the order conditions of the typed coefficients, exact event times.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
import scipy.linalg
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.integrate import solve_ivp

from stabkit.integrate.methods import Event
from stabkit.integrate.trajectory import MemberStatus
from stabkit.model.codegen import compile_model
from stabkit.model.model import Model, ModelKind

SCHEMES = ["rodas5_member", "ros23_member"]


# --------------------------------------------------------------------------- helpers
@dataclasses.dataclass
class Run:
    t_final: float
    y_final: np.ndarray
    out_y: np.ndarray
    ev_t: np.ndarray
    ev_y: np.ndarray
    ev_i: np.ndarray
    counters: np.ndarray
    buf_t: np.ndarray
    buf_y: np.ndarray
    seconds: float

    @property
    def status(self) -> int:
        return int(self.counters[6])

    @property
    def accepted(self) -> int:
        return int(self.counters[0])

    @property
    def rejected(self) -> int:
        return int(self.counters[1])


def run_member(
    compiled,
    kernel,
    y0,
    t_span,
    *,
    params=None,
    t_eval=(),
    rtol=1e-6,
    atol=1e-9,
    first_step=0.0,
    max_step=math.inf,
    max_steps=1_000_000,
    divergence_threshold=1e100,
    ev_dir=None,
    ev_term=None,
    emax=64,
    save_all=0,
    counters=None,
):
    """Call ``<kernel>(...)`` of a compiled model with the contract's arrays."""
    model = compiled.model
    n = model.num_variables
    p = model.param_vector(params)
    cfg = np.zeros(16)
    cfg[0] = first_step
    cfg[1] = max_step
    cfg[2] = 0.9
    cfg[3] = 0.2
    cfg[4] = 10.0
    cfg[5] = 0.04
    cfg[6] = divergence_threshold
    cfg[7] = max_steps
    num_events = compiled.num_events
    ev_dir = np.zeros(num_events, np.int64) if ev_dir is None else np.asarray(ev_dir, np.int64)
    ev_term = np.zeros(num_events, np.int64) if ev_term is None else np.asarray(ev_term, np.int64)
    te = np.asarray(t_eval, dtype=np.float64)
    out_y = np.full((te.shape[0], n), np.nan)
    ev_t = np.full(emax, np.nan)
    ev_y = np.full((emax, n), np.nan)
    ev_i = np.full(emax, -1, np.int64)
    counters = np.zeros(16, np.int64) if counters is None else counters
    rtol_v = np.full(n, float(rtol))
    atol_v = np.full(n, float(atol))
    start = time.perf_counter()
    t_final, y_final, buf_t, buf_y = compiled.kernel(kernel)(
        np.asarray(y0, dtype=np.float64),
        p,
        float(t_span[0]),
        float(t_span[1]),
        te,
        rtol_v,
        atol_v,
        cfg,
        np.zeros(0),
        ev_dir,
        ev_term,
        out_y,
        ev_t,
        ev_y,
        ev_i,
        counters,
        save_all,
        np.empty(1),
        np.empty((1, n)),
    )
    seconds = time.perf_counter() - start
    return Run(float(t_final), y_final, out_y, ev_t, ev_y, ev_i, counters, buf_t, buf_y, seconds)


def scaled_error(y, ref, rtol, atol):
    """Error in units of the tolerance: max |y - ref| / (atol + rtol |ref|), per component."""
    return np.max(np.abs(y - ref) / (atol + rtol * np.abs(ref)), axis=0)


# --------------------------------------------------------------------------- models
def robertson_model() -> Model:
    y1, y2, y3, k1, k2, k3 = sympy.symbols("y1 y2 y3 k1 k2 k3")
    return Model(
        "robertson",
        ModelKind.ODE,
        ("y1", "y2", "y3"),
        ("k1", "k2", "k3"),
        (-k1 * y1 + k3 * y2 * y3, k1 * y1 - k3 * y2 * y3 - k2 * y2**2, k2 * y2**2),
        (1.0, 0.0, 0.0),
        (0.04, 3e7, 1e4),
    )


def robertson_f(k):
    k1, k2, k3 = k

    def f(t, y):
        return [
            -k1 * y[0] + k3 * y[1] * y[2],
            k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
            k2 * y[1] ** 2,
        ]

    def jac(t, y):
        return [
            [-k1, k3 * y[2], k3 * y[1]],
            [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
            [0.0, 2 * k2 * y[1], 0.0],
        ]

    return f, jac


def vdp_model() -> Model:
    y1, y2, mu = sympy.symbols("y1 y2 mu")
    return Model(
        "vdp",
        ModelKind.ODE,
        ("y1", "y2"),
        ("mu",),
        (y2, mu * (1 - y1**2) * y2 - y1),
        (2.0, 0.0),
        (1000.0,),
    )


def forced_linear_model() -> Model:
    """y' = A (y - phi(t)) + phi'(t), phi = w (sin t, cos t, sin 2t): non-autonomous.

    Exact solution: y(t) = phi(t) + expm(A t) (y0 - phi(0)). With w = 0 it is y' = A y;
    with y0 = phi(0) it is the Prothero-Robinson problem, y = phi(t).
    """
    ys = sympy.symbols("y1 y2 y3")
    a = sympy.symbols("a11 a12 a13 a21 a22 a23 a31 a32 a33")
    w = sympy.Symbol("w")
    t = sympy.Symbol("t")
    phi = [w * sympy.sin(t), w * sympy.cos(t), w * sympy.sin(2 * t)]
    eqs = tuple(
        sum(a[3 * i + j] * (ys[j] - phi[j]) for j in range(3)) + sympy.diff(phi[i], t)
        for i in range(3)
    )
    return Model(
        "forced_linear",
        ModelKind.ODE,
        tuple(str(s) for s in ys),
        (*(str(s) for s in a), "w"),
        eqs,
        (1.0, 0.0, 0.0),
        (-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, -1.0, 0.0),
    )


def linear_params(A, w=0.0):
    return np.concatenate([np.asarray(A, dtype=np.float64).ravel(), [w]])


def phi(t, w):
    t = np.asarray(t, dtype=np.float64)
    return w * np.stack([np.sin(t), np.cos(t), np.sin(2 * t)], axis=-1)


def forced_linear_exact(A, w, y0, t):
    A = np.asarray(A, dtype=np.float64)
    d0 = np.asarray(y0, dtype=np.float64) - phi(0.0, w)
    return np.array([phi(tk, w) + scipy.linalg.expm(A * tk) @ d0 for tk in np.atleast_1d(t)])


# A well-conditioned, non-normal similarity: eigenvalues exactly as given.
_V = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.5], [0.5, 0.0, 1.0]])


def matrix_with_eigenvalues(*lams):
    return _V @ np.diag(lams) @ np.linalg.inv(_V)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def robertson():
    return compile_model(robertson_model())


@pytest.fixture(scope="session")
def vdp():
    return compile_model(vdp_model())


@pytest.fixture(scope="session")
def linear():
    return compile_model(forced_linear_model())


@pytest.fixture(scope="session")
def linear_numpy():
    return compile_model(forced_linear_model(), backend="numpy")


@pytest.fixture(scope="session")
def oscillator_events():
    """The forced linear model with events x = y1 (any direction) and t - 7 (upward)."""
    y1 = sympy.Symbol("y1")
    t = sympy.Symbol("t")
    return compile_model(forced_linear_model(), events=[Event(y1), Event(t - 7, direction=1)])


@pytest.fixture(scope="session")
def robertson_reference():
    """scipy Radau at rtol 1e-10, atol 1e-14 on log-spaced times, per end time."""
    f, jac = robertson_f((0.04, 3e7, 1e4))
    out = {}
    for t1 in (40.0, 1e5, 1e11):
        t_eval = np.geomspace(1e-5, t1, 25)
        sol = solve_ivp(
            f,
            (0.0, t1),
            [1.0, 0.0, 0.0],
            method="Radau",
            rtol=1e-10,
            atol=1e-14,
            jac=jac,
            t_eval=t_eval,
        )
        assert sol.success
        out[t1] = (t_eval, sol.y.T)
    return out


# --------------------------------------------------------------------------- coefficients
def _trees(order):
    """Rooted trees with ``order`` vertices as sorted tuples of subtrees."""
    if order == 1:
        return [()]
    found = set()

    def forests(size, smallest):
        if size == 0:
            yield ()
            return
        for s in range(1, size + 1):
            for tree in _trees(s):
                key = (s, repr(tree))
                if key < smallest:
                    continue
                for rest in forests(size - s, key):
                    yield (tree, *rest)

    for forest in forests(order - 1, (0, "")):
        found.add(tuple(sorted(forest, key=repr)))
    return sorted(found, key=repr)


def _tree_size(tree):
    return 1 + sum(_tree_size(c) for c in tree)


def _tree_density(tree):
    d = _tree_size(tree)
    for c in tree:
        d *= _tree_density(c)
    return d


def _elementary_weights(tree, alpha, beta):
    """Phi_i(tree) of a Rosenbrock method (beta = alpha + Gamma, diagonal included)."""
    s = alpha.shape[0]
    if not tree:
        return np.ones(s)
    if len(tree) == 1:
        return beta @ _elementary_weights(tree[0], alpha, beta)
    out = np.ones(s)
    for child in tree:
        out *= alpha @ _elementary_weights(child, alpha, beta)
    return out


@pytest.fixture(scope="module")
def rodas5_tableau():
    """Rodas5 in its original form, recovered from the template's W-transformed table."""
    mod = compile_model(forced_linear_model(), backend="numpy").module
    a, C, m, H = mod._ROS5_A, mod._ROS5_C, mod._ROS5_M, mod._ROS5_H
    gamma = mod._ROS5_GAMMA
    gamma_inv = np.eye(8) / gamma - C  # C = diag(1/gamma) - Gamma^-1
    Gamma = np.linalg.inv(gamma_inv)
    alpha = a @ Gamma
    return {
        "alpha": alpha,
        "Gamma": Gamma,
        "beta": alpha + Gamma,
        "b": m @ Gamma,
        "b_embedded": a[7] @ Gamma,  # the argument of stage 8 is the order-4 solution
        "H": H @ Gamma,  # dense-output weights acting on the original stages k
        "c": mod._ROS5_CT,
        "d": mod._ROS5_D,
    }


def test_rodas5_coefficients_satisfy_the_order_conditions(rodas5_tableau):
    tab = rodas5_tableau
    alpha, beta, Gamma = tab["alpha"], tab["beta"], tab["Gamma"]
    np.testing.assert_allclose(alpha.sum(axis=1), tab["c"], atol=1e-13)
    np.testing.assert_allclose(Gamma.sum(axis=1), tab["d"], atol=1e-13)
    trees = [t for order in range(1, 7) for t in _trees(order)]
    assert [sum(1 for t in trees if _tree_size(t) == k) for k in range(1, 7)] == [
        1,
        1,
        2,
        4,
        9,
        20,
    ]
    max_defect = {5: 0.0, 4: 0.0}
    sixth_order = []
    for tree in trees:
        phi_ = _elementary_weights(tree, alpha, beta)
        exact = 1.0 / _tree_density(tree)
        if _tree_size(tree) <= 5:
            max_defect[5] = max(max_defect[5], abs(tab["b"] @ phi_ - exact))
        else:
            sixth_order.append(abs(tab["b"] @ phi_ - exact))
        if _tree_size(tree) <= 4:
            max_defect[4] = max(max_defect[4], abs(tab["b_embedded"] @ phi_ - exact))
    assert max_defect[5] < 1e-12, "Rodas5 is of order 5"
    assert max_defect[4] < 1e-12, "its embedded solution is of order 4"
    assert max(sixth_order) > 1e-5, "and not of order 6 (the check can fail)"
    # the embedded solution is not of order 5 either: it estimates the error
    defects5 = [
        abs(tab["b_embedded"] @ _elementary_weights(t, alpha, beta) - 1.0 / _tree_density(t))
        for t in trees
        if _tree_size(t) == 5
    ]
    assert max(defects5) > 1e-4


def test_rodas5_is_stiffly_accurate_and_l_stable(rodas5_tableau):
    tab = rodas5_tableau
    beta, b = tab["beta"], tab["b"]
    np.testing.assert_allclose(b, beta[7], atol=1e-13)  # b is the last row of alpha + Gamma
    ones = np.ones(8)
    # R(z) = 1 + z b^T (I - z beta)^-1 1 -> 1 - b^T beta^-1 1 = 0 as z -> -inf
    assert abs(1.0 - b @ np.linalg.solve(beta, ones)) < 1e-12
    for z in (-1e3, -1e4, -1e6, -1e8):  # R(z) ~ -14.6 / z
        r = 1.0 + z * b @ np.linalg.solve(np.eye(8) - z * beta, ones)
        assert 1.0 / abs(z) < abs(r) < 20.0 / abs(z)
    for y in np.linspace(-50, 50, 41):  # A-stable: |R(iy)| <= 1
        r = 1.0 + 1j * y * b @ np.linalg.solve(np.eye(8) - 1j * y * beta, ones)
        assert abs(r) <= 1.0 + 1e-12


@pytest.mark.parametrize("theta", [0.1, 0.3, 0.5, 0.77, 1.0])
def test_rodas5_dense_output_conditions(rodas5_tableau, theta):
    tab = rodas5_tableau
    alpha, beta, Gamma, H = tab["alpha"], tab["beta"], tab["Gamma"], tab["H"]
    b_theta = theta * tab["b"] + theta * (1 - theta) * (H[0] + theta * H[1] + theta**2 * H[2])
    for order in range(1, 5):  # order 4 in theta for every tree with <= 4 vertices
        for tree in _trees(order):
            lhs = b_theta @ _elementary_weights(tree, alpha, beta)
            assert lhs == pytest.approx(theta**order / _tree_density(tree), abs=1e-12)
    # stiff (Prothero-Robinson limit) conditions reproduce phi(t) = t^q for q <= 3
    for q in (1, 2, 3):
        r = tab["c"] ** q + (Gamma.sum(axis=1) if q == 1 else 0.0)
        assert b_theta @ np.linalg.solve(beta, r) == pytest.approx(theta**q, abs=1e-12)
    if 0 < theta < 1:  # and not of order 5: the check can fail
        defects = [
            abs(b_theta @ _elementary_weights(t, alpha, beta) - theta**5 / _tree_density(t))
            for t in _trees(5)
        ]
        assert max(defects) > 1e-6


# --------------------------------------------------------------------------- linear algebra
@settings(max_examples=60)
@given(
    hnp.arrays(np.float64, (5, 5), elements=st.floats(-10, 10)),
    hnp.arrays(np.float64, 5, elements=st.floats(-10, 10)),
)
def test_lu_solves_like_numpy(linear, a, b):
    lu, lu_solve = linear.kernel("_ros_lu"), linear.kernel("_ros_lu_solve")
    a = a + 25.0 * np.eye(5) * np.sign(np.diag(a) + 0.5)  # keep it well conditioned
    work = a.copy()
    piv = np.zeros(5, np.int64)
    assert lu(work, piv)
    x = b.copy()
    lu_solve(work, piv, x)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)


def test_lu_pivots_and_reports_singular_matrices(linear):
    lu, lu_solve = linear.kernel("_ros_lu"), linear.kernel("_ros_lu_solve")
    a = np.array([[0.0, 1.0, 2.0], [1e-20, 3.0, 1.0], [4.0, 0.0, 1.0]])  # needs pivoting
    work, piv = a.copy(), np.zeros(3, np.int64)
    assert lu(work, piv)
    x = np.array([1.0, 2.0, 3.0])
    lu_solve(work, piv, x)
    np.testing.assert_allclose(a @ x, [1.0, 2.0, 3.0], rtol=1e-14)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    assert not lu(singular.copy(), np.zeros(3, np.int64))
    assert not lu(np.full((2, 2), np.nan), np.zeros(2, np.int64))


# --------------------------------------------------------------------------- Robertson
@pytest.mark.parametrize("t1", [40.0, 1e5, 1e11])
@pytest.mark.parametrize(
    ("kernel", "rtol", "atol", "bound"),
    [("rodas5_member", 1e-8, 1e-14, 30.0), ("ros23_member", 1e-7, 1e-13, 200.0)],
)
def test_robertson_matches_radau(robertson, robertson_reference, t1, kernel, rtol, atol, bound):
    t_eval, ref = robertson_reference[t1]
    run = run_member(
        robertson, kernel, [1.0, 0.0, 0.0], (0.0, t1), t_eval=t_eval, rtol=rtol, atol=atol
    )
    assert run.status == MemberStatus.OK
    assert run.t_final == t1
    np.testing.assert_array_equal(run.out_y[-1], run.y_final)
    # every component within `bound` tolerances (the reference's own atol is 1e-14)
    err = scaled_error(run.out_y, ref, rtol, atol + 1e-14)
    assert np.all(err < bound), err
    # and in relative terms where the relative tolerance dominates
    big = rtol * np.abs(ref) > 10 * atol
    rel = np.abs(run.out_y - ref)[big] / np.abs(ref[big])
    assert rel.max() < bound * rtol
    # y1 + y2 + y3 = 1 is a linear invariant that Rosenbrock methods keep exactly
    np.testing.assert_allclose(run.out_y.sum(axis=1), 1.0, atol=1e-12)
    assert abs(run.y_final.sum() - 1.0) < 1e-12


@pytest.mark.parametrize(("kernel", "best"), [("rodas5_member", 1e-8), ("ros23_member", 1e-6)])
def test_robertson_accuracy_follows_the_tolerance(robertson, robertson_reference, kernel, best):
    t_eval, ref = robertson_reference[1e5]
    errors = []
    for rtol in (1e-5, 1e-7, 1e-9):
        run = run_member(
            robertson,
            kernel,
            [1.0, 0.0, 0.0],
            (0.0, 1e5),
            t_eval=t_eval[-1:],
            rtol=rtol,
            atol=1e-14,
        )
        errors.append(np.max(np.abs(run.y_final - ref[-1]) / np.abs(ref[-1])))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < best
    assert errors[0] / errors[2] > 30.0  # 1e4 in tolerance buys a lot in accuracy


def test_robertson_counters_are_consistent(robertson):
    for kernel in SCHEMES:
        run = run_member(robertson, kernel, [1.0, 0.0, 0.0], (0.0, 1e5), rtol=1e-6, atol=1e-10)
        c = run.counters
        acc, rej, nfev, njev, nlu = (int(v) for v in c[:5])
        assert run.status == 0 and acc > 10
        assert rej < acc / 5
        # one Jacobian per accepted step (reused by the rejected attempts); one LU per attempt
        assert njev == acc
        assert nlu == acc + rej
        # f: 1 at t0, 1 for the initial step, 2 per Jacobian for df/dt, then per attempt
        # 7 stages (Rodas5) plus f at each new point, or 2 with FSAL (Rosenbrock23)
        if kernel == "rodas5_member":
            assert nfev == 2 + 2 * njev + 7 * nlu + (acc - 1)
        else:
            assert nfev == 2 + 2 * njev + 2 * nlu
        assert c[5] == c[7] == 0 and c[8] == 0


def test_numba_and_numpy_backends_agree(robertson):
    reference = compile_model(robertson_model(), backend="numpy")
    t_eval = np.array([1e-3, 0.5, 3.0])
    for kernel in SCHEMES:
        fast = run_member(robertson, kernel, [1.0, 0.0, 0.0], (0.0, 3.0), t_eval=t_eval)
        slow = run_member(reference, kernel, [1.0, 0.0, 0.0], (0.0, 3.0), t_eval=t_eval)
        np.testing.assert_array_equal(fast.counters, slow.counters)
        np.testing.assert_allclose(fast.out_y, slow.out_y, rtol=1e-12, atol=1e-18)
        np.testing.assert_allclose(fast.y_final, slow.y_final, rtol=1e-12, atol=1e-18)


def test_robertson_speed_against_scipy(robertson):
    """Reported: Rodas5 vs scipy Radau and BDF (analytic Jacobian), same tolerances."""
    f, jac = robertson_f((0.04, 3e7, 1e4))
    run_member(robertson, "rodas5_member", [1.0, 0.0, 0.0], (0.0, 1.0))  # compiled/loaded

    def best(fn, repeat):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    ours = best(
        lambda: run_member(
            robertson, "rodas5_member", [1.0, 0.0, 0.0], (0.0, 1e5), rtol=1e-6, atol=1e-10
        ),
        20,
    )
    radau = best(
        lambda: solve_ivp(f, (0, 1e5), [1, 0, 0], method="Radau", rtol=1e-6, atol=1e-10, jac=jac),
        3,
    )
    bdf = best(
        lambda: solve_ivp(f, (0, 1e5), [1, 0, 0], method="BDF", rtol=1e-6, atol=1e-10, jac=jac),
        3,
    )
    print(
        f"\nRobertson t=1e5: rodas5 {ours * 1e3:.3f} ms, Radau x{radau / ours:.0f}, "
        f"BDF x{bdf / ours:.0f}"
    )
    assert radau / ours >= 10.0
    assert bdf / ours >= 10.0


# --------------------------------------------------------------------------- Van der Pol
@pytest.fixture(scope="session")
def vdp_reference():
    mu = 1000.0

    def f(t, y):
        return [y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]]

    def jac(t, y):
        return [[0.0, 1.0], [-2 * mu * y[0] * y[1] - 1, mu * (1 - y[0] ** 2)]]

    t_eval = np.linspace(0.0, 3000.0, 31)
    sol = solve_ivp(
        f, (0.0, 3000.0), [2.0, 0.0], method="Radau", rtol=1e-11, atol=1e-11, jac=jac, t_eval=t_eval
    )
    assert sol.success
    return t_eval, sol.y.T


@pytest.mark.parametrize(
    ("kernel", "tol", "bound"),
    [("rodas5_member", 1e-8, 3e-6), ("rodas5_member", 1e-10, 5e-8), ("ros23_member", 1e-8, 5e-5)],
)
def test_van_der_pol_mu_1000_matches_radau(vdp, vdp_reference, kernel, tol, bound):
    t_eval, ref = vdp_reference
    run = run_member(vdp, kernel, [2.0, 0.0], (0.0, 3000.0), t_eval=t_eval, rtol=tol, atol=tol)
    assert run.status == MemberStatus.OK
    # two relaxation periods (about 1614 each): the global error is amplified at the
    # fast jumps, so the bound is a small multiple of the tolerance times the period count
    assert np.max(np.abs(run.out_y - ref)) < bound
    assert run.rejected < 0.1 * run.accepted


# --------------------------------------------------------------------------- linear systems
@pytest.mark.parametrize(
    ("kernel", "rtol", "bound"),
    [
        ("rodas5_member", 1e-10, 10.0),
        ("rodas5_member", 1e-6, 10.0),
        # Rosenbrock23 advances its order-2 solution: global error ~ tol^(2/3)
        ("ros23_member", 1e-6, 300.0),
    ],
)
def test_stiff_linear_system_matches_expm(linear, kernel, rtol, bound):
    A = matrix_with_eigenvalues(-1.0, -1e4, -1e6)
    y0 = np.array([1.0, 2.0, 3.0])
    t_eval = np.array([1e-7, 1e-5, 1e-3, 0.1, 1.0, 5.0])
    atol = 1e-3 * rtol
    run = run_member(
        linear, kernel, y0, (0.0, 5.0), params=linear_params(A), t_eval=t_eval, rtol=rtol, atol=atol
    )
    assert run.status == MemberStatus.OK
    exact = forced_linear_exact(A, 0.0, y0, t_eval)
    assert np.all(scaled_error(run.out_y, exact, rtol, atol) < bound)
    # L-stability: the step size is not limited by the eigenvalue -1e6 (an explicit
    # scheme would need millions of steps)
    assert run.accepted < 5000


@pytest.mark.parametrize("kernel", SCHEMES)
def test_prothero_robinson_non_autonomous_stiff(linear, kernel):
    """y' = lambda (y - phi(t)) + phi'(t), lambda down to -1e6: y = phi(t) exactly."""
    A = np.diag([-1e6, -1e3, -1.0])
    w = 1.0
    y0 = phi(0.0, w)
    t_eval = np.linspace(0.0, 10.0, 41)
    rtol = 1e-9 if kernel == "rodas5_member" else 1e-6
    run = run_member(
        linear,
        kernel,
        y0,
        (0.0, 10.0),
        params=linear_params(A, w),
        t_eval=t_eval,
        rtol=rtol,
        atol=rtol,
    )
    assert run.status == MemberStatus.OK
    exact = phi(t_eval, w)
    assert np.max(np.abs(run.out_y - exact)) < 20 * rtol
    # the stiffest component follows phi(t) to far better than the tolerance: stiff accuracy
    assert np.max(np.abs(run.out_y[:, 0] - exact[:, 0])) < rtol


def _fixed_step_errors(compiled, kernel, A, w, y0, t1, steps, t_eval):
    errs_end, errs_dense = [], []
    exact_end = forced_linear_exact(A, w, y0, [t1])[0]
    exact_dense = forced_linear_exact(A, w, y0, t_eval)
    for n in steps:
        h = t1 / n
        run = run_member(
            compiled,
            kernel,
            y0,
            (0.0, t1),
            params=linear_params(A, w),
            t_eval=t_eval,
            rtol=1e3,
            atol=1e3,
            first_step=h,
            max_step=h,
        )
        assert run.status == MemberStatus.OK
        assert run.accepted == n and run.rejected == 0
        errs_end.append(np.max(np.abs(run.y_final - exact_end)))
        errs_dense.append(np.max(np.abs(run.out_y - exact_dense)))
    return np.array(errs_end), np.array(errs_dense)


def _orders(errors, steps):
    return np.log(errors[:-1] / errors[1:]) / np.log(np.array(steps[1:]) / np.array(steps[:-1]))


def test_rodas5_convergence_order_is_five(linear):
    # mildly stiff, non-normal and non-autonomous (forced): df/dt matters
    A = matrix_with_eigenvalues(-1.0, -3.0, -10.0)
    y0 = np.array([1.0, -1.0, 2.0])
    steps = [10, 20, 40, 80]
    t1 = 2.0
    # output points off the step grid test the dense output (order 4: local error h^5)
    t_eval = np.array([0.33, 0.77, 1.51])
    end, dense = _fixed_step_errors(linear, "rodas5_member", A, 1.0, y0, t1, steps, t_eval)
    assert end[-1] > 1e-13  # still above round-off
    orders = _orders(end, steps)
    assert abs(orders[-1] - 5.0) < 0.3, orders
    assert np.all(_orders(dense, steps)[1:] > 3.7), _orders(dense, steps)


def test_rosenbrock23_convergence_order_is_two(linear):
    A = matrix_with_eigenvalues(-1.0, -3.0, -10.0)
    y0 = np.array([1.0, -1.0, 2.0])
    steps = [20, 40, 80, 160]
    t_eval = np.array([0.33, 0.77, 1.51])
    end, dense = _fixed_step_errors(linear, "ros23_member", A, 1.0, y0, 2.0, steps, t_eval)
    orders = _orders(end, steps)
    assert abs(orders[-1] - 2.0) < 0.3, orders
    assert np.all(_orders(dense, steps) > 1.7), _orders(dense, steps)


def test_numpy_backend_converges_like_numba(linear, linear_numpy):
    A = matrix_with_eigenvalues(-1.0, -3.0, -10.0)
    y0 = np.array([1.0, -1.0, 2.0])
    t_eval = np.array([0.33, 1.51])
    args = (A, 1.0, y0, 2.0, [10, 20], t_eval)
    fast = _fixed_step_errors(linear, "rodas5_member", *args)
    slow = _fixed_step_errors(linear_numpy, "rodas5_member", *args)
    np.testing.assert_allclose(fast, slow, rtol=1e-6)


# --------------------------------------------------------------------------- events
OMEGA = 3.0  # y1' = y2, y2' = -9 y1: y1 = cos(3 t), zeros at (pi/2 + k pi) / 3


def _oscillator():
    A = np.array([[0.0, 1.0, 0.0], [-(OMEGA**2), 0.0, 0.0], [0.0, 0.0, -1.0]])
    return linear_params(A, 0.0), np.array([1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("kernel", "rtol", "accuracy"), [("rodas5_member", 1e-10, 5e-9), ("ros23_member", 1e-8, 1e-4)]
)
def test_events_are_located_on_the_dense_output(oscillator_events, kernel, rtol, accuracy):
    params, y0 = _oscillator()
    run = run_member(
        oscillator_events,
        kernel,
        y0,
        (0.0, 10.0),
        params=params,
        rtol=rtol,
        atol=rtol,
        ev_dir=[0, 1],
        ev_term=[0, 0],
    )
    assert run.status == MemberStatus.OK and run.t_final == 10.0
    zeros = (np.pi / 2 + np.pi * np.arange(10)) / OMEGA
    zeros = zeros[zeros < 10.0]
    expected = np.sort(np.concatenate([zeros, [7.0]]))
    found = int(run.counters[5])
    assert found == int(run.counters[7]) == expected.size
    np.testing.assert_allclose(run.ev_t[:found], expected, rtol=0, atol=accuracy)
    assert np.all(np.diff(run.ev_t[:found]) > 0)  # in time order
    kinds = run.ev_i[:found]
    assert list(kinds).count(1) == 1 and run.ev_t[:found][kinds == 1][0] == pytest.approx(7.0)
    # the root finder works to a few ulps on the dense output: g(y_event) ~ 0
    assert np.max(np.abs(run.ev_y[:found][kinds == 0, 0])) < 1e-12
    # the state at the event is the solution there
    exact = forced_linear_exact(
        np.array([[0, 1, 0], [-9, 0, 0], [0, 0, -1.0]]), 0.0, y0, run.ev_t[:found]
    )
    np.testing.assert_allclose(run.ev_y[:found], exact, rtol=0, atol=accuracy)


def test_event_direction_terminal_and_capacity(oscillator_events):
    params, y0 = _oscillator()
    kw = {"params": params, "rtol": 1e-10, "atol": 1e-10}
    down = run_member(
        oscillator_events, "rodas5_member", y0, (0.0, 10.0), ev_dir=[-1, 1], ev_term=[0, 0], **kw
    )
    n_found = int(down.counters[5])
    first = down.ev_t[:n_found][down.ev_i[:n_found] == 0]
    # y1 = cos(3t) decreases through 0 at pi/6 + 2 pi k / 3
    expected = np.pi / 6 + 2 * np.pi * np.arange(5) / 3
    np.testing.assert_allclose(first, expected[expected < 10.0], atol=1e-8)

    # t = 7 terminal: the trajectory stops there, later t_eval rows stay NaN
    t_eval = np.array([1.0, 6.5, 7.0, 8.0])
    stop = run_member(
        oscillator_events,
        "rodas5_member",
        y0,
        (0.0, 10.0),
        ev_dir=[0, 1],
        ev_term=[0, 1],
        t_eval=t_eval,
        save_all=1,
        **kw,
    )
    assert stop.status == MemberStatus.TERMINATED
    assert stop.t_final == pytest.approx(7.0, rel=1e-13)
    exact7 = forced_linear_exact(np.array([[0, 1, 0], [-9, 0, 0], [0, 0, -1.0]]), 0.0, y0, [7.0])
    np.testing.assert_allclose(stop.y_final, exact7[0], atol=1e-8)
    assert np.all(np.isfinite(stop.out_y[:2])) and np.all(np.isnan(stop.out_y[3]))
    assert stop.ev_i[int(stop.counters[5]) - 1] == 1
    saved = int(stop.counters[8])
    assert stop.buf_t[saved - 1] == stop.t_final
    np.testing.assert_array_equal(stop.buf_y[saved - 1], stop.y_final)

    # more crossings than room: all counted, the first ones stored
    few = run_member(
        oscillator_events,
        "rodas5_member",
        y0,
        (0.0, 10.0),
        ev_dir=[0, 0],
        ev_term=[0, 0],
        emax=3,
        **kw,
    )
    assert int(few.counters[5]) == 3 and int(few.counters[7]) == 11
    np.testing.assert_allclose(
        few.ev_t, np.pi / 2 / OMEGA + np.pi / OMEGA * np.arange(3), atol=1e-8
    )

    # a terminal event on the first crossing of y1 downward
    first_down = run_member(
        oscillator_events,
        "ros23_member",
        y0,
        (0.0, 10.0),
        ev_dir=[-1, 1],
        ev_term=[1, 0],
        params=params,
        rtol=1e-8,
        atol=1e-8,
    )
    assert first_down.status == MemberStatus.TERMINATED
    assert first_down.t_final == pytest.approx(np.pi / 6, abs=1e-6)


# --------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("kernel", SCHEMES)
def test_save_all_records_every_accepted_step(robertson, kernel):
    run = run_member(robertson, kernel, [1.0, 0.0, 0.0], (0.0, 100.0), save_all=1)
    saved = int(run.counters[8])
    assert saved == run.accepted + 1
    assert run.buf_t.shape[0] >= saved and run.buf_y.shape == (run.buf_t.shape[0], 3)
    t = run.buf_t[:saved]
    assert t[0] == 0.0 and t[-1] == 100.0 and np.all(np.diff(t) > 0)
    np.testing.assert_array_equal(run.buf_y[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(run.buf_y[saved - 1], run.y_final)
    # the same trajectory as without recording
    plain = run_member(robertson, kernel, [1.0, 0.0, 0.0], (0.0, 100.0))
    np.testing.assert_array_equal(plain.y_final, run.y_final)


def test_t_eval_at_the_ends_and_counters_accumulate(robertson):
    counters = np.zeros(16, np.int64)
    counters[0] = 5  # a previous scheme's steps (Auto hands over): the kernel adds
    run = run_member(
        robertson,
        "rodas5_member",
        [1.0, 0.0, 0.0],
        (0.0, 2.0),
        t_eval=[0.0, 2.0],
        counters=counters,
    )
    np.testing.assert_array_equal(run.out_y[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(run.out_y[1], run.y_final)
    assert int(counters[0]) == 5 + int(counters[3])  # one Jacobian per own accepted step


@pytest.mark.parametrize("kernel", SCHEMES)
def test_empty_span_and_oversized_first_step(linear_numpy, kernel):
    params = linear_params(np.diag([-1.0, -2.0, -3.0]))
    y0 = [1.0, 2.0, 3.0]
    # t0 == t1 (an Auto handover at the very end): nothing to do, no error
    run = run_member(linear_numpy, kernel, y0, (1.0, 1.0), params=params, t_eval=[1.0])
    assert run.status == MemberStatus.OK and run.t_final == 1.0 and run.accepted == 0
    np.testing.assert_array_equal(run.out_y[0], y0)
    # a first step larger than the span is cut to the span
    run = run_member(linear_numpy, kernel, y0, (0.0, 0.01), params=params, first_step=5.0)
    assert run.status == MemberStatus.OK and run.t_final == 0.01
    np.testing.assert_allclose(
        run.y_final, np.array(y0) * np.exp(-np.array([1, 2, 3]) * 0.01), rtol=1e-5
    )


# --------------------------------------------------------------------------- statuses
def test_max_steps_and_divergence(linear):
    A = matrix_with_eigenvalues(-1.0, -1e4, -1e6)
    run = run_member(
        linear, "rodas5_member", [1.0, 2.0, 3.0], (0.0, 100.0), params=linear_params(A), max_steps=5
    )
    assert run.status == MemberStatus.MAX_STEPS and run.t_final < 100.0
    assert run.accepted + run.rejected == 5
    grow = np.diag([2.0, -1.0, -1.0])
    for kernel in SCHEMES:
        run = run_member(
            linear,
            kernel,
            [1.0, 1.0, 1.0],
            (0.0, 100.0),
            params=linear_params(grow),
            divergence_threshold=1e6,
        )
        assert run.status == MemberStatus.DIVERGED
        # exp(2 t) passes 1e6 at t = 6.9; the member stops on the first step beyond it
        assert 0.5 * math.log(1e6) <= run.t_final < 0.5 * math.log(1e6) + 3.0
        assert np.max(np.abs(run.y_final)) > 1e6


@pytest.fixture(scope="module")
def blowup_numpy():
    """y' = y^2 (blows up at t = 1/y0), plain Python backend: no compilation."""
    y = sympy.Symbol("y")
    return compile_model(
        Model("blowup", ModelKind.ODE, ("y",), (), (y**2,), (1.0,), ()), backend="numpy"
    )


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("kernel", SCHEMES)
def test_blow_up_statuses(blowup_numpy, kernel):
    diverged = run_member(blowup_numpy, kernel, [1.0], (0.0, 2.0), divergence_threshold=1e8)
    assert diverged.status == MemberStatus.DIVERGED
    assert diverged.t_final == pytest.approx(1.0, abs=1e-3)
    # without a threshold the step size collapses at the singularity t = 1
    small = run_member(blowup_numpy, kernel, [1.0], (0.0, 2.0), rtol=1e-6, atol=1e-6)
    assert small.status in (MemberStatus.STEP_TOO_SMALL, MemberStatus.NON_FINITE)
    assert small.t_final == pytest.approx(1.0, abs=1e-3)
    # f overflows at the initial state: non-finite at once
    bad = run_member(blowup_numpy, kernel, [1e200], (0.0, 1.0))
    assert bad.status == MemberStatus.NON_FINITE and bad.accepted == 0 and bad.t_final == 0.0


def test_maps_are_not_integrated_by_stiff_schemes():
    x = sympy.Symbol("x")
    model = Model("halving", ModelKind.MAP, ("x",), (), (x / 2,), (1.0,), ())
    compiled = compile_model(model, backend="numpy")
    run = run_member(compiled, "rodas5_member", [1.0], (0.0, 5.0))
    assert run.status == MemberStatus.SOLVER_FAILURE and run.accepted == 0


# --------------------------------------------------------------------------- ensembles
@pytest.mark.parametrize("kernel", ["rodas5", "ros23"])
def test_ensemble_matches_members_and_isolates_failures(robertson, kernel):
    m, n = 4, 3
    y0s = np.tile([1.0, 0.0, 0.0], (m, 1))
    y0s[2] = [1.0, 1e200, 0.0]  # this member fails: f overflows at once
    ps = np.tile([0.04, 3e7, 1e4], (m, 1))
    ps[:, 0] = [0.04, 0.02, 0.04, 0.08]
    t_eval = np.array([1.0, 10.0, 100.0])
    cfg = np.zeros(16)
    cfg[1:8] = [math.inf, 0.9, 0.2, 10.0, 0.04, 1e100, 1e6]
    out_y = np.full((m, 3, n), np.nan)
    counters = np.zeros((m, 16), np.int64)
    t_final = np.zeros(m)
    robertson.kernel(f"{kernel}_ensemble")(
        y0s,
        ps,
        0.0,
        100.0,
        t_eval,
        np.full(n, 1e-7),
        np.full(n, 1e-12),
        cfg,
        np.zeros(0),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        out_y,
        np.zeros((m, 1)),
        np.zeros((m, 1, n)),
        np.zeros((m, 1), np.int64),
        counters,
        t_final,
    )
    assert list(counters[:, 6]) == [0, 0, MemberStatus.NON_FINITE, 0]
    for i in (0, 1, 3):
        single = run_member(
            robertson,
            f"{kernel}_member",
            y0s[i],
            (0.0, 100.0),
            params=ps[i],
            t_eval=t_eval,
            rtol=1e-7,
            atol=1e-12,
        )
        np.testing.assert_array_equal(out_y[i], single.out_y)
        np.testing.assert_array_equal(counters[i], single.counters)
        assert t_final[i] == 100.0
    assert np.all(np.isnan(out_y[2]))
    assert not np.allclose(out_y[0], out_y[1])  # the parameters did reach the members


# --------------------------------------------------------------------------- public API
@pytest.mark.parametrize(
    ("method_name", "rtol", "atol", "bound"),
    [("Rodas5", 1e-8, 1e-14, 1e-6), ("Rosenbrock23", 1e-7, 1e-13, 1e-4)],
)
def test_through_solve(robertson_reference, method_name, rtol, atol, bound):
    pytest.importorskip("stabkit.integrate.solve")  # the public API lands separately
    import stabkit

    method = getattr(stabkit, method_name)(rtol=rtol, atol=atol)
    t_eval, ref = robertson_reference[1e5]
    traj = stabkit.solve(
        robertson_model(), [1.0, 0.0, 0.0], (0.0, 1e5), method=method, t_eval=t_eval
    )
    assert traj.status == "ok" and traj.member_status == MemberStatus.OK
    assert traj.t_final == 1e5
    big = rtol * np.abs(ref) > 10 * atol
    assert np.max(np.abs(traj.y - ref)[big] / np.abs(ref[big])) < bound
    assert np.all(scaled_error(traj.y, ref, rtol, atol + 1e-14) < 1e3)
    stats = traj.stats
    assert stats.num_steps > 0 and stats.num_jacobian_evaluations == stats.num_steps
    assert stats.num_lu_decompositions == stats.num_steps + stats.num_rejected
    # every accepted step when no t_eval is given; the same end state
    steps = stabkit.solve(robertson_model(), [1.0, 0.0, 0.0], (0.0, 1e5), method=method)
    assert steps.t.size == stats.num_steps + 1 and np.all(np.diff(steps.t) > 0)
    np.testing.assert_array_equal(steps.y[-1], traj.y[-1])
