"""Linear stability: known spectra, classification rules, property tests, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stabkit.analysis.stability import (
    LinearStability,
    StabilityType,
    classify_eigenvalues,
    linear_stability,
)
from stabkit.errors import InputError
from stabkit.model.model import Model
from tests.analysis.conftest import BACKEND

SIGMA, BETA = 10.0, 8.0 / 3.0


def lorenz_origin_eigenvalues(rho: float) -> np.ndarray:
    disc = math.sqrt((SIGMA + 1) ** 2 + 4 * SIGMA * (rho - 1))
    return np.array([(-(SIGMA + 1) + disc) / 2, -BETA, (-(SIGMA + 1) - disc) / 2])


# --------------------------------------------------------------------------- known answers
@pytest.mark.parametrize(
    ("rho", "kind", "dims"),
    [(28.0, StabilityType.SADDLE, (2, 1, 0)), (0.5, StabilityType.STABLE_NODE, (3, 0, 0))],
)
def test_lorenz_origin(lorenz, rho, kind, dims):
    ls = linear_stability(lorenz, {"x": 0, "y": 0, "z": 0}, {"rho": rho}, backend=BACKEND)
    expected = np.sort(lorenz_origin_eigenvalues(rho))[::-1]
    np.testing.assert_allclose(ls.eigenvalues.real, expected, rtol=1e-12)
    np.testing.assert_array_equal(ls.eigenvalues.imag, 0.0)
    assert ls.classification is kind
    assert (ls.dim_stable, ls.dim_unstable, ls.dim_centre) == dims
    assert ls.is_stable == (rho < 1)
    assert ls.is_hyperbolic and ls.is_equilibrium and ls.residual == 0.0
    assert ls.message == ""
    # eigenvectors: J v = lambda v, column by column
    np.testing.assert_allclose(
        ls.jacobian @ ls.eigenvectors, ls.eigenvectors * ls.eigenvalues, atol=1e-12
    )


@pytest.mark.parametrize("b", [0.5, 1.5, 1.9, 2.1, 3.0, 5.0])
def test_brusselator_equilibrium(brusselator, b):
    a = 1.0
    ls = linear_stability(brusselator, [a, b / a], {"a": a, "b": b}, backend=BACKEND)
    trace, det = b - 1 - a**2, a**2
    expected = np.roots([1.0, -trace, det])
    np.testing.assert_allclose(
        np.sort_complex(ls.eigenvalues), np.sort_complex(expected), atol=1e-12
    )
    assert ls.is_stable == (b < 1 + a**2)
    focus = trace**2 < 4 * det
    if b < 1 + a**2:
        assert ls.classification is (
            StabilityType.STABLE_FOCUS if focus else StabilityType.STABLE_NODE
        )
    else:
        assert ls.classification is (
            StabilityType.UNSTABLE_FOCUS if focus else StabilityType.UNSTABLE_NODE
        )
    assert ls.classification.value.startswith("stable" if b < 2 else "unstable")
    assert ls.max_real_part == pytest.approx(trace / 2 if focus else max(expected.real))


def test_brusselator_hopf_point_is_a_centre(brusselator):
    ls = linear_stability(brusselator, [1.0, 2.0], {"a": 1.0, "b": 2.0}, backend=BACKEND)
    assert ls.classification is StabilityType.CENTRE
    assert ls.critical == ("hopf",)
    assert ls.dim_centre == 2 and not ls.is_hyperbolic and not ls.is_stable
    np.testing.assert_allclose(ls.eigenvalues, [1j, -1j], atol=1e-14)


@pytest.mark.parametrize(
    ("r", "kind", "critical"),
    [
        (2.5, StabilityType.STABLE, ()),
        (3.0, StabilityType.FLIP, ("flip",)),
        (3.2, StabilityType.UNSTABLE, ()),
    ],
)
def test_logistic_fixed_point_multiplier(logistic, r, kind, critical):
    x = 1 - 1 / r
    ls = linear_stability(logistic, [x], {"r": r}, backend=BACKEND)
    assert ls.eigenvalues[0] == pytest.approx(2 - r, abs=1e-14)
    assert ls.classification is kind and ls.critical == critical
    assert ls.kind == "map" and ls.max_modulus == pytest.approx(abs(2 - r))


def test_logistic_period_two_multiplier(logistic):
    r = 3.2
    x = (r + 1 + math.sqrt((r - 3) * (r + 1))) / (2 * r)
    ls = linear_stability(logistic, [x], {"r": r}, period=2, backend=BACKEND)
    # multiplier of the 2-cycle: f'(x+) f'(x-) = 4 + 2r - r^2
    assert ls.eigenvalues[0].real == pytest.approx(4 + 2 * r - r**2, abs=1e-12)
    assert ls.is_stable and ls.is_equilibrium and ls.period == 2
    # as a fixed point it is not one
    one = linear_stability(logistic, [x], {"r": r}, backend=BACKEND)
    assert not one.is_equilibrium and "not a fixed point" in one.message


def test_henon_fixed_points(henon):
    a, b = 1.4, 0.3
    for sign in (1, -1):
        x = (-(1 - b) + sign * math.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a)
        ls = linear_stability(henon, [x, b * x], backend=BACKEND)
        # multipliers solve mu^2 + 2 a x mu - b = 0
        expected = np.roots([1.0, 2 * a * x, -b])
        np.testing.assert_allclose(np.sort(ls.eigenvalues.real), np.sort(expected), atol=1e-12)
        assert ls.classification is StabilityType.SADDLE
        assert (ls.dim_stable, ls.dim_unstable) == (1, 1)
        assert ls.residual < 1e-15


def test_not_an_equilibrium_warns(lorenz):
    ls = linear_stability(lorenz, {"x": 1.0, "y": 1.0, "z": 1.0}, backend=BACKEND)
    assert not ls.is_equilibrium
    assert ls.residual == pytest.approx(26.0)  # y' = x (rho - z) - y
    assert "not an equilibrium" in ls.message and ls.status == "ok"


def test_python_function_models_finite_differences_and_user_jacobian(sine_function):
    fd = linear_stability(sine_function, [0.0], backend=BACKEND)
    assert fd.jacobian_source == "finite differences"
    assert fd.eigenvalues[0].real == pytest.approx(1 - 1 / 3, abs=1e-6)
    assert fd.tolerance == pytest.approx(1e-6)
    assert fd.classification is StabilityType.UNSTABLE_NODE

    def rhs(t, y, p):
        return [math.sin(y[0]) - y[0] / 3]

    def jac(t, y, p):
        return [[math.cos(y[0]) - 1 / 3]]

    user = Model.from_function(rhs, variables=["x"], jac_fn=jac, name="sine_user_jac")
    ls = linear_stability(user, [0.0], backend=BACKEND)
    assert ls.jacobian_source == "user" and ls.tolerance == pytest.approx(1e-8)
    assert ls.eigenvalues[0].real == pytest.approx(2 / 3, abs=1e-15)


def test_numba_backend_agrees(lorenz):
    a = linear_stability(lorenz, [0.0, 0.0, 0.0], backend="numba")
    b = linear_stability(lorenz, [0.0, 0.0, 0.0], backend="numpy")
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=1e-14)
    assert a.classification is b.classification


# --------------------------------------------------------------------------- classification
@pytest.mark.parametrize(
    ("values", "is_map", "kind", "critical", "dims"),
    [
        ([0.0, -1.0], False, StabilityType.NON_HYPERBOLIC, ("fold",), (1, 0, 1)),
        ([2j, -2j, -1.0], False, StabilityType.NON_HYPERBOLIC, ("hopf",), (1, 0, 2)),
        ([1j, -1j], False, StabilityType.CENTRE, ("hopf",), (0, 0, 2)),
        ([1 + 1j, 1 - 1j, -3.0], False, StabilityType.SADDLE_FOCUS, (), (1, 2, 0)),
        ([2.0, 0.5], True, StabilityType.SADDLE, (), (1, 1, 0)),
        ([1.0, 0.5], True, StabilityType.NON_HYPERBOLIC, ("fold",), (1, 0, 1)),
        ([-1.0, 0.5], True, StabilityType.FLIP, ("flip",), (1, 0, 1)),
        (
            [np.exp(1j), np.exp(-1j)],
            True,
            StabilityType.NON_HYPERBOLIC,
            ("neimark-sacker",),
            (0, 0, 2),
        ),
        ([1.5j, -1.5j], True, StabilityType.UNSTABLE, (), (0, 2, 0)),
    ],
)
def test_classify_eigenvalues_cases(values, is_map, kind, critical, dims):
    c = classify_eigenvalues(values, is_map=is_map)
    assert c.classification is kind and c.critical == critical
    assert (c.dim_stable, c.dim_unstable, c.dim_centre) == dims


def test_tolerance_decides_criticality():
    assert classify_eigenvalues([1e-6, -1.0]).classification is StabilityType.SADDLE
    loose = classify_eigenvalues([1e-6, -1.0], tol=1e-5)
    assert loose.classification is StabilityType.NON_HYPERBOLIC and loose.tolerance == 1e-5
    # the threshold scales with the spectrum: 1e-6 is critical next to -1e3
    scaled = classify_eigenvalues([1e-6, -1e3], tol=1e-8)
    assert scaled.dim_centre == 1 and scaled.tolerance == pytest.approx(1e-5)
    assert classify_eigenvalues([1e-4, -1e3], tol=1e-8).dim_unstable == 1


def assert_same_spectrum(actual: np.ndarray, expected: np.ndarray, atol: float) -> None:
    """Equal as multisets: each expected value has its own actual value within atol."""
    left = list(np.asarray(actual, dtype=complex))
    for value in np.asarray(expected, dtype=complex):
        k = int(np.argmin([abs(value - a) for a in left]))
        assert abs(value - left[k]) <= atol, (actual, expected)
        left.pop(k)


def _expected_flow_type(values: np.ndarray) -> StabilityType:
    has_complex = bool(np.any(np.abs(values.imag) > 0))
    if np.all(values.real < 0):
        return StabilityType.STABLE_FOCUS if has_complex else StabilityType.STABLE_NODE
    if np.all(values.real > 0):
        return StabilityType.UNSTABLE_FOCUS if has_complex else StabilityType.UNSTABLE_NODE
    return StabilityType.SADDLE_FOCUS if has_complex else StabilityType.SADDLE


_part = st.floats(0.1, 5.0).flatmap(lambda v: st.sampled_from([v, -v]))


@st.composite
def spectra(draw, n: int, is_map: bool):
    """Eigenvalues (conjugate pairs as pairs) and a real block-diagonal matrix with them."""
    values: list[complex] = []
    blocks = np.zeros((n, n))
    i = 0
    while i < n:
        pair = i + 1 < n and draw(st.booleans())
        if is_map:
            radius = draw(st.sampled_from([draw(st.floats(0.05, 0.9)), draw(st.floats(1.1, 4.0))]))
            angle = draw(st.floats(0.2, 3.0)) if pair else draw(st.sampled_from([0.0, math.pi]))
            re, im = radius * math.cos(angle), radius * math.sin(angle)
        else:
            re, im = draw(_part), abs(draw(_part)) if pair else 0.0
        if pair:
            blocks[i : i + 2, i : i + 2] = [[re, im], [-im, re]]
            values += [complex(re, im), complex(re, -im)]
            i += 2
        else:
            blocks[i, i] = re
            values.append(complex(re, 0.0))
            i += 1
    basis = np.array(draw(st.lists(st.floats(-1, 1), min_size=n * n, max_size=n * n))).reshape(n, n)
    basis = basis + 2.0 * np.eye(n)
    assume(np.linalg.cond(basis) < 50)
    return np.array(values), basis @ blocks @ np.linalg.inv(basis)


@given(data=st.data(), n=st.sampled_from([1, 2, 3]))
def test_linear_flows_property(linear_odes, data, n):
    values, matrix = data.draw(spectra(n, is_map=False))
    ls = linear_stability(linear_odes[n], np.zeros(n), matrix.ravel(), backend=BACKEND)
    assert_same_spectrum(ls.eigenvalues, values, atol=1e-9)
    assert np.all(np.diff(ls.eigenvalues.real) <= 1e-12)  # sorted by real part, descending
    assert ls.classification is _expected_flow_type(values)
    assert ls.dim_stable == int(np.sum(values.real < 0))
    assert ls.dim_unstable == int(np.sum(values.real > 0))
    assert ls.dim_centre == 0 and ls.is_hyperbolic
    assert ls.is_stable == bool(np.all(values.real < 0))


@given(data=st.data(), n=st.sampled_from([1, 2, 3]))
def test_linear_maps_property(linear_maps, data, n):
    values, matrix = data.draw(spectra(n, is_map=True))
    ls = linear_stability(linear_maps[n], np.zeros(n), matrix.ravel(), backend=BACKEND)
    assert_same_spectrum(ls.eigenvalues, values, atol=1e-9)
    assert np.all(np.diff(np.abs(ls.eigenvalues)) <= 1e-12)  # by modulus, descending
    inside = np.abs(values) < 1
    assert (ls.dim_stable, ls.dim_unstable) == (int(inside.sum()), int((~inside).sum()))
    expected = (
        StabilityType.STABLE
        if inside.all()
        else StabilityType.UNSTABLE
        if not inside.any()
        else StabilityType.SADDLE
    )
    assert ls.classification is expected and ls.is_stable == bool(inside.all())


# --------------------------------------------------------------------------- result and errors
def test_result_table_and_files(lorenz, tmp_path):
    ls = linear_stability(lorenz, [0.0, 0.0, 0.0], backend=BACKEND)
    assert isinstance(ls, LinearStability)
    frame = ls.to_frame()
    assert list(frame.columns) == ["real", "imag", "modulus", "subspace"]
    assert list(frame["subspace"]) == ["unstable", "stable", "stable"]
    data = json.loads(ls.save(tmp_path / "ls.json").read_text())
    assert data["classification"] == "saddle" and data["type"] == "LinearStability"
    assert data["eigenvalues"]["real"][0] == pytest.approx(ls.max_real_part)
    assert ls.state_map == {"x": 0.0, "y": 0.0, "z": 0.0}
    assert ls.provenance.analysis == "linear_stability"
    assert ls.provenance.method == "exact Jacobian"
    assert "saddle" in ls._repr_html_() and "saddle" in repr(ls)


def test_input_errors(lorenz, logistic):
    with pytest.raises(InputError, match="has no variable 'w'; it has x, y, z"):
        linear_stability(lorenz, {"w": 1.0}, backend=BACKEND)
    with pytest.raises(InputError, match="state has shape"):
        linear_stability(lorenz, [0.0, 0.0], backend=BACKEND)
    with pytest.raises(InputError, match=r"no parameter 'rh'; it has sigma, rho, beta.*'rho'"):
        linear_stability(lorenz, [0.0, 0.0, 0.0], {"rh": 1.0}, backend=BACKEND)
    with pytest.raises(InputError, match="periods are for maps"):
        linear_stability(lorenz, [0.0, 0.0, 0.0], period=2, backend=BACKEND)
    with pytest.raises(InputError, match="period=0"):
        linear_stability(logistic, [0.5], period=0, backend=BACKEND)
    with pytest.raises(InputError, match="tol=-1"):
        linear_stability(logistic, [0.5], tol=-1, backend=BACKEND)
    with pytest.raises(InputError, match="state=None"):
        linear_stability(logistic, None, backend=BACKEND)
    with pytest.raises(InputError, match="expected a stabkit Model"):
        linear_stability("lorenz", [0.0], backend=BACKEND)
    forced = Model.from_equations({"x": "-x + sin(t)"}, name="forced")
    with pytest.raises(InputError, match="depends on time"):
        linear_stability(forced, [0.0], backend=BACKEND)
    log_model = Model.from_equations({"x": "log(x)"}, name="logx")
    with pytest.raises(InputError, match="Jacobian is not finite"):
        linear_stability(log_model, [0.0], backend=BACKEND)
