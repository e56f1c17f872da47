"""Lyapunov spectra of flows and maps: oracles, an independent computation, properties."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stabkit.analysis._lyapunov_driver import batch_means
from stabkit.analysis.lyapunov import (
    QR,
    LyapunovResult,
    kaplan_yorke_dimension,
    largest_lyapunov_exponent,
    lyapunov_spectrum,
)
from stabkit.errors import ConvergenceError, InputError
from stabkit.integrate.methods import RK4, Dopri5
from stabkit.model import library
from stabkit.model.model import Model

LORENZ = np.array([0.9056, 0.0, -14.5723])  # Sprott, Chaos and Time-Series Analysis (2003)
HENON_L1 = 0.41922  # Sprott (2003), Table A.1 (a = 1.4, b = 0.3)


@pytest.fixture(scope="module")
def lorenz_result() -> LyapunovResult:
    return lyapunov_spectrum(library.get("lorenz"), {"beta": 8.0 / 3.0}, seed=3)


def test_lorenz_spectrum_within_one_percent(lorenz_result):
    r = lorenz_result
    assert r.status == "ok", r.message
    assert abs(r.exponents[0] - LORENZ[0]) < 0.01 * LORENZ[0]
    assert abs(r.exponents[1]) < 0.01 * LORENZ[0]
    assert abs(r.exponents[2] - LORENZ[2]) < 0.01 * abs(LORENZ[2])
    # the error bars are honest: the reference is within 4 standard errors (+ its rounding)
    assert np.all(np.abs(r.exponents - LORENZ) < 4 * r.standard_errors + 1e-3)
    assert np.all(r.standard_errors <= 2e-3)


def test_lorenz_sum_rule_and_derived_quantities(lorenz_result):
    r = lorenz_result
    expected = -(10.0 + 1.0 + 8.0 / 3.0)
    assert r.sum_rule is not None
    assert abs(r.sum_rule.exponent_sum - expected) < 1e-3
    assert abs(r.sum_rule.trace_average - expected) < 1e-9  # tr J is constant for Lorenz
    assert abs(r.sum_rule.difference) < 1e-4
    assert r.zero_exponent_index == 1
    assert abs(r.kaplan_yorke_dimension - 2.0621) < 0.003
    times, est = r.running
    assert times.shape[0] == est.shape[0] > 10 and est.shape[1] == 3
    assert np.allclose(est[-1], r.exponents, atol=1e-3)
    assert r.stats.num_steps > 0 and r.stats.extra["num_renormalisations"] > 0


def test_largest_exponent_fast_path_agrees(lorenz_result):
    r = largest_lyapunov_exponent(library.get("lorenz"), {"beta": 8.0 / 3.0}, seed=11)
    assert r.exponents.shape == (1,) and r.sum_rule is None
    se = math.hypot(r.standard_errors[0], lorenz_result.standard_errors[0])
    assert abs(r.exponents[0] - lorenz_result.exponents[0]) < 4 * se


def test_logistic_map_at_four_is_ln2():
    r = lyapunov_spectrum(library.get("logistic_map"), {"r": 4.0}, y0=[0.2], seed=0)
    assert r.ok and r.kind == "map"
    assert abs(r.exponents[0] - math.log(2)) < max(4 * r.standard_errors[0], 1e-3)
    assert abs(r.exponents[0] - math.log(2)) < 5e-3


def test_henon_map_sum_is_ln_b_exactly():
    r = lyapunov_spectrum(library.get("henon_map"), seed=5, method=QR(t_max=2e5, tol=1e-3))
    assert r.sum_rule is not None
    assert abs(r.sum_rule.exponent_sum - math.log(0.3)) < 1e-10
    assert abs(r.sum_rule.trace_average - math.log(0.3)) < 1e-12
    assert abs(r.exponents[0] - HENON_L1) < 4 * r.standard_errors[0] + 1e-3


def _linear(A: np.ndarray, kind: str = "ode") -> Model:
    n = A.shape[0]
    eqs = {
        f"x{i}": " + ".join(f"({float(A[i, j])!r})*x{j}" for j in range(n) if A[i, j] != 0) or "0"
        for i in range(n)
    }
    return Model.from_equations(eqs, variables=dict.fromkeys(eqs, 1.0), kind=kind, name="lin")


def test_linear_flow_gives_real_parts_of_eigenvalues():
    B = np.zeros((4, 4))
    B[0, 0] = -0.1
    B[1:3, 1:3] = [[-0.5, 2.0], [-2.0, -0.5]]
    B[3, 3] = -2.0
    P = np.array([[1, 0.5, 0, 0.2], [0, 1, 0.3, 0], [0.1, 0, 1, 0.4], [0, 0.2, 0, 1.0]])
    A = P @ B @ np.linalg.inv(P)
    r = lyapunov_spectrum(_linear(A), seed=2, method=QR(t_max=2000, tol=None, transient=20))
    expected = np.sort(np.linalg.eigvals(A).real)[::-1]
    assert np.allclose(r.exponents, expected, atol=2e-3)
    assert abs(r.sum_rule.exponent_sum - np.trace(A)) < 1e-6


def test_product_of_systems_is_union_of_spectra():
    henon = lyapunov_spectrum(library.get("henon_map"), seed=1, method=QR(t_max=2e5))
    logistic = lyapunov_spectrum(library.get("logistic_map"), {"r": 4.0}, seed=1)
    product = Model.from_equations(
        {"x": "1 - a*x^2 + y", "y": "b*x", "u": "r*u*(1 - u)"},
        parameters={"a": 1.4, "b": 0.3, "r": 4.0},
        variables={"x": 0.1, "y": 0.1, "u": 0.2},
        kind="map",
        name="henon_x_logistic",
    )
    r = lyapunov_spectrum(product, seed=4, method=QR(t_max=2e5))
    union = np.sort(np.concatenate([henon.exponents, logistic.exponents]))[::-1]
    errs = np.sqrt(
        r.standard_errors**2
        + np.sort(np.concatenate([henon.standard_errors, logistic.standard_errors]))[::-1] ** 2
    )
    assert np.all(np.abs(r.exponents - union) < 4 * errs + 2e-3)


def test_independent_scipy_integration_of_variational_equations():
    """Finite-time exponents from stabkit's kernel = scipy's solve_ivp on the same problem."""
    from scipy.integrate import solve_ivp

    from stabkit.analysis.lyapunov import _initial_tangents

    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0

    def f(t, z):
        x, y, w = z[:3]
        J = np.array([[-sigma, sigma, 0], [rho - w, -1, -x], [y, x, -beta]])
        Q = z[3:].reshape(3, 3, order="F")
        return np.concatenate(
            [[sigma * (y - x), x * (rho - w) - y, x * y - beta * w], (J @ Q).ravel("F")]
        )

    Q = _initial_tangents(3, 3, 7)
    state = np.array([1.0, 1.0, 1.0])
    logs = np.zeros(3)
    for _ in range(40):
        sol = solve_ivp(
            f,
            (0, 0.5),
            np.concatenate([state, Q.ravel("F")]),
            rtol=1e-11,
            atol=1e-12,
            method="DOP853",
        )
        z = sol.y[:, -1]
        state = z[:3]
        Q, R = np.linalg.qr(z[3:].reshape(3, 3, order="F"))
        logs += np.log(np.abs(np.diag(R)))
    reference = np.sort(logs / 20.0)[::-1]
    method = QR(
        transient=0, renormalise_every=0.5, t_max=20, tol=None,
        integrator=Dopri5(rtol=1e-11, atol=1e-12),
    )  # fmt: skip
    r = lyapunov_spectrum(library.get("lorenz"), {"beta": beta}, seed=7, method=method)
    assert np.allclose(r.exponents, reference, atol=1e-6)


def test_plain_python_backend_matches_numba():
    method = QR(transient=1, t_max=5, tol=None, renormalise_every=0.25)
    model = library.get("lorenz")
    a = lyapunov_spectrum(model, seed=1, method=method)
    b = lyapunov_spectrum(model, seed=1, method=method, backend="numpy")
    assert np.allclose(a.exponents, b.exponents, rtol=1e-9, atol=1e-10)
    assert a.stats.num_steps == b.stats.num_steps


def test_python_function_model_with_finite_difference_jacobian():
    import numba

    @numba.njit
    def rhs(t, y, p, out):
        out[0] = 10.0 * (y[1] - y[0])
        out[1] = y[0] * (28.0 - y[2]) - y[1]
        out[2] = y[0] * y[1] - 8.0 / 3.0 * y[2]

    model = Model.from_function(rhs, variables={"x": 1.0, "y": 1.0, "z": 1.0})
    r = lyapunov_spectrum(model, seed=1, method=QR(t_max=2000, tol=None))
    assert r.jacobian_source == "finite differences"
    assert np.all(np.abs(r.exponents - LORENZ) < 5 * r.standard_errors + 5e-3)
    assert abs(r.sum_rule.exponent_sum + 13.6667) < 1e-3


def test_plain_python_model_with_user_jacobian_matches_symbolic():
    def rhs(t, y, p):
        return [10.0 * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 8.0 / 3.0 * y[2]]

    def jac(t, y, p):
        return [[-10.0, 10.0, 0.0], [28.0 - y[2], -1.0, -y[0]], [y[1], y[0], -8.0 / 3.0]]

    model = Model.from_function(rhs, variables={"x": 1.0, "y": 1.0, "z": 1.0}, jac_fn=jac)
    method = QR(transient=1, t_max=5, tol=None, renormalise_every=0.25)
    r = lyapunov_spectrum(model, seed=1, method=method)
    ref = lyapunov_spectrum(library.get("lorenz"), {"beta": 8.0 / 3.0}, seed=1, method=method)
    assert r.jacobian_source == "user"
    assert np.allclose(r.exponents, ref.exponents, atol=1e-8)


@settings(max_examples=12)
@given(st.lists(st.floats(-3.0, 0.5), min_size=3, max_size=3))
def test_diagonal_flow_exponents_are_its_rates(rates):
    spread = np.diff(np.sort(rates))
    assume(np.all(spread > 0.2))
    model = Model.from_equations(
        {"x": "a*x", "y": "b*y", "z": "c*z"},
        parameters={"a": 0.0, "b": 0.0, "c": 0.0},
        variables={"x": 1e-3, "y": 1e-3, "z": 1e-3},
        name="diagonal",
    )
    r = lyapunov_spectrum(
        model, dict(zip("abc", rates, strict=True)), seed=0,
        method=QR(transient=60, t_max=40, tol=None),
    )  # fmt: skip
    assert np.allclose(r.exponents, np.sort(rates)[::-1], atol=1e-6)
    assert 0.0 <= r.kaplan_yorke_dimension <= 3.0


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=6))
def test_kaplan_yorke_dimension_bounds(exponents):
    d = kaplan_yorke_dimension(np.array(exponents))
    assert 0.0 <= d <= len(exponents)
    if max(exponents) < 0:
        assert d == 0.0
    if sum(exponents) >= 0:
        assert d == len(exponents)


def test_batch_means_matches_direct_formula():
    rng = np.random.default_rng(0)
    logs = rng.normal(size=(400, 2))
    se = batch_means(logs, 0.5, 8)
    blocks = logs.reshape(8, 50, 2).sum(axis=1) / 25.0
    assert np.allclose(se, blocks.std(axis=0, ddof=1) / math.sqrt(8))
    assert np.all(np.isinf(batch_means(logs[:3], 1.0, 8)))


# ------------------------------------------------------------------ trouble and bad input
def test_unbounded_orbit_is_reported_not_hung():
    model = Model.from_equations({"x": "x", "y": "-y"}, variables={"x": 1.0, "y": 1.0})
    r = lyapunov_spectrum(model, seed=0)
    assert r.status == "diverged" and "t = " in r.message
    assert r.stats.wall_time < 5
    with pytest.raises(ConvergenceError) as info:
        lyapunov_spectrum(model, seed=0, throw=True)
    assert isinstance(info.value.result, LyapunovResult)


def test_growth_without_divergence_is_stopped_by_the_wall_clock():
    model = Model.from_equations({"x": "1", "y": "-y"}, variables={"x": 0.0, "y": 1.0})
    r = lyapunov_spectrum(model, seed=0, method=QR(max_wall_time=0.3, t_max=1e12, tol=None))
    assert r.status == "time_limit" and np.all(np.isfinite(r.exponents))


def test_not_converged_when_t_max_comes_first():
    r = lyapunov_spectrum(library.get("lorenz"), seed=0, method=QR(t_max=200, tol=1e-6))
    assert r.status == "not_converged" and "t_max" in r.message
    assert np.all(np.isfinite(r.exponents)) and np.all(r.standard_errors > 1e-6)


def test_partial_spectrum_has_no_sum_rule():
    r = lyapunov_spectrum(library.get("lorenz"), num_exponents=2, seed=0, method=QR(t_max=500))
    assert r.exponents.shape == (2,) and r.sum_rule is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_exponents": 0}, "num_exponents"),
        ({"num_exponents": 4}, "from 1 to 3"),
        ({"y0": [1.0, 2.0]}, "y0"),
        ({"params": {"sigmaa": 1.0}}, "did you mean 'sigma'"),
        ({"method": "qr"}, "QR"),
        ({"seed": 1.5}, "seed"),
        ({"backend": "cuda"}, "backend"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        lyapunov_spectrum(library.get("lorenz"), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tol": -1.0}, "tol"),
        ({"t_max": 0}, "t_max"),
        ({"transient": -1}, "transient"),
        ({"num_blocks": 1}, "num_blocks"),
        ({"integrator": RK4()}, "Dopri5"),
        ({"max_wall_time": math.inf}, "max_wall_time"),
    ],
)
def test_bad_method_settings(kwargs, match):
    with pytest.raises(InputError, match=match):
        QR(**kwargs)


def test_unknown_keyword_and_non_model():
    with pytest.raises(TypeError):
        lyapunov_spectrum(library.get("lorenz"), num_exponent=2)  # type: ignore[call-arg]
    with pytest.raises(InputError, match="expected a stabkit Model"):
        lyapunov_spectrum("lorenz")  # type: ignore[arg-type]


def test_result_serialises(tmp_path, lorenz_result):
    path = lorenz_result.save(tmp_path / "ly.json")
    assert '"exponents"' in path.read_text()
    frame = lorenz_result.to_frame()
    assert list(frame.columns) == ["index", "exponent", "standard_error"]
    rows = dict(lorenz_result._summary_rows())
    assert "sum rule" in rows and "Kaplan-Yorke dimension" in rows


@pytest.mark.parametrize(
    "module",
    [
        "stabkit.analysis.lyapunov",
        "stabkit.analysis._lyapunov_result",
        "stabkit.analysis._lyapunov_series",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
