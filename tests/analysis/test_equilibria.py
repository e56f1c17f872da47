"""find_equilibria: known answers, independent cross-checks, guarantees, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq, root

from stabkit.analysis.equilibria import (
    Algebraic,
    Auto,
    EquilibriaResult,
    IntervalNewton,
    MultiStartNewton,
    find_equilibria,
)
from stabkit.analysis.stability import StabilityType
from stabkit.errors import ConvergenceError, InputError
from stabkit.model import library
from stabkit.model.model import Model
from tests.analysis.conftest import BACKEND

SIGMA, BETA = 10.0, 8.0 / 3.0
RHO_HOPF = SIGMA * (SIGMA + BETA + 3) / (SIGMA - BETA - 1)
LORENZ_BOX = {"x": (-30, 30), "y": (-30, 30), "z": (-10, 60)}


def assert_valid(res: EquilibriaResult) -> None:
    """Every point is a root to 1e-10, inside the box, and no two coincide."""
    states = res.states
    for e in res.equilibria:
        assert e.residual < 1e-10
        assert np.all(e.state >= res.bounds[:, 0] - 1e-9)
        assert np.all(e.state <= res.bounds[:, 1] + 1e-9)
    for i in range(len(states)):
        for j in range(i):
            assert np.max(np.abs(states[i] - states[j])) > 1e-6


# --------------------------------------------------------------------------- Lorenz
def test_lorenz_below_one_has_only_the_origin(lorenz):
    res = find_equilibria(lorenz, {"rho": 0.5}, backend=BACKEND)
    assert res.ok and res.complete and res.guarantee == "complete (algebraic)"
    assert len(res.equilibria) == 1
    (origin,) = res.equilibria
    np.testing.assert_array_equal(origin.state, 0.0)
    assert origin.classification is StabilityType.STABLE_NODE and origin.is_stable
    assert origin.certified and origin.state_map == {"x": 0.0, "y": 0.0, "z": 0.0}
    assert_valid(res)


def test_lorenz_at_28_three_equilibria(lorenz):
    rho = 28.0
    res = find_equilibria(lorenz, {"rho": rho}, backend=BACKEND)
    assert res.complete and len(res.equilibria) == 3
    c = math.sqrt(BETA * (rho - 1))
    np.testing.assert_allclose(
        res.states, [[-c, -c, rho - 1], [0, 0, 0], [c, c, rho - 1]], atol=1e-12
    )
    minus, origin, plus = res.equilibria
    assert origin.classification is StabilityType.SADDLE
    assert (origin.stability.dim_stable, origin.stability.dim_unstable) == (2, 1)
    for e in (minus, plus):
        assert e.classification is StabilityType.SADDLE_FOCUS and not e.is_stable
        assert (e.stability.dim_stable, e.stability.dim_unstable) == (1, 2)
        assert e.stability.max_real_part > 0
    assert res.stable == ()
    assert_valid(res)


def test_lorenz_hopf_of_the_nontrivial_equilibria(lorenz):
    leading = []
    for rho in (RHO_HOPF * (1 - 1e-3), RHO_HOPF, RHO_HOPF * (1 + 1e-3)):
        res = find_equilibria(lorenz, {"rho": rho}, backend=BACKEND)
        plus = res.equilibria[-1]
        leading.append(plus.stability.max_real_part)
        if rho == RHO_HOPF:
            assert plus.classification is StabilityType.NON_HYPERBOLIC
            assert plus.stability.critical == ("hopf",)
    assert leading[0] < 0 < leading[2]
    assert abs(leading[1]) < 1e-9
    # the sign change is linear in rho - rho_H (transversal crossing)
    assert leading[2] == pytest.approx(-leading[0], rel=0.05)


def test_lorenz_three_methods_agree(lorenz):
    algebraic = find_equilibria(lorenz, method=Algebraic(), backend=BACKEND)
    interval = find_equilibria(lorenz, bounds=LORENZ_BOX, method=IntervalNewton(), backend=BACKEND)
    multi = find_equilibria(
        lorenz, bounds=LORENZ_BOX, method=MultiStartNewton(num_starts=16), backend=BACKEND
    )
    assert interval.guarantee == "complete (interval-certified)" and interval.complete
    assert interval.num_uncertified_boxes == 0
    assert multi.guarantee == "incomplete (multi-start)" and not multi.complete
    assert all(e.certified for e in interval.equilibria)
    assert not any(e.certified for e in multi.equilibria)
    for other in (interval, multi):
        np.testing.assert_allclose(other.states, algebraic.states, atol=1e-10)
        assert_valid(other)


def test_numba_backend_agrees(lorenz):
    a = find_equilibria(lorenz, backend="numba")
    b = find_equilibria(lorenz, backend="numpy")
    np.testing.assert_allclose(a.states, b.states, atol=1e-13)


def test_bounds_restrict_the_algebraic_answer(lorenz):
    res = find_equilibria(lorenz, bounds={"x": (0.0, 100.0)}, backend=BACKEND)
    assert len(res.equilibria) == 2  # origin (on the face) and C+
    assert res.bounds[1].tolist() == [-math.inf, math.inf]
    none = find_equilibria(lorenz, bounds={"z": (1.0, 2.0)}, backend=BACKEND)
    assert none.ok and none.equilibria == () and none.message == "no equilibrium in the box"


# --------------------------------------------------------------------------- chemistry
@pytest.mark.parametrize(("a", "b"), [(1.0, 1.5), (1.0, 2.5), (2.0, 4.0), (2.0, 6.0)])
def test_brusselator(brusselator, a, b):
    res = find_equilibria(brusselator, {"a": a, "b": b}, backend=BACKEND)
    (eq,) = res.equilibria
    np.testing.assert_allclose(eq.state, [a, b / a], rtol=1e-14)
    assert eq.is_stable == (b < 1 + a**2)
    if b > 1 + a**2:
        assert eq.classification is StabilityType.UNSTABLE_FOCUS
    assert eq.stability.max_real_part == pytest.approx((b - 1 - a**2) / 2)


@pytest.mark.parametrize(("a", "b"), [(0.08, 0.6), (0.08, 0.2), (0.1, 1.0)])
def test_selkov(selkov, a, b):
    res = find_equilibria(selkov, {"a": a, "b": b}, backend=BACKEND)
    (eq,) = res.equilibria
    x, y = b, b / (a + b**2)
    np.testing.assert_allclose(eq.state, [x, y], rtol=1e-13)
    trace = -1 + 2 * x * y - (a + x**2)
    det = a + x**2
    np.testing.assert_allclose(
        np.sort_complex(eq.eigenvalues), np.sort_complex(np.roots([1, -trace, det])), atol=1e-12
    )
    assert eq.is_stable == (trace < 0)


def test_rational_right_hand_sides():
    m = Model.from_equations({"x": "x/(1 + x) - y", "y": "x - 2*y"}, name="rational")
    res = find_equilibria(m, backend=BACKEND)
    assert res.guarantee == "complete (algebraic)"
    np.testing.assert_allclose(res.states, [[0.0, 0.0], [1.0, 0.5]], atol=1e-14)
    # a common zero of the numerators where a denominator vanishes is no equilibrium
    pole = Model.from_equations({"x": "x/y", "y": "y"}, name="pole")
    assert find_equilibria(pole, backend=BACKEND).equilibria == ()
    # a removable singularity is not one either: the kernels give 0/0 there
    removable = Model.from_equations({"x": "(x^2 - 1)/(x - 1)"}, name="removable")
    np.testing.assert_allclose(find_equilibria(removable, backend=BACKEND).states, [[-1.0]])


def test_non_isolated_equilibria():
    robertson = library.robertson()
    res = find_equilibria(robertson, backend=BACKEND)
    assert res.status == "non_isolated" and not res.complete
    assert res.guarantee == "incomplete (equilibria not isolated)"
    assert "not isolated" in res.message


# --------------------------------------------------------------------------- non-polynomial
def brute_force_toggle(a: float, n: float, upper: float) -> np.ndarray:
    """Independent: scipy's hybrid Powell from a dense grid of starts, deduplicated."""

    def f(z):
        u, v = np.maximum(z, 0.0)
        return [a / (1 + v**n) - z[0], a / (1 + u**n) - z[1]]

    found: list[np.ndarray] = []
    for u0 in np.linspace(0.05, upper, 25):
        for v0 in np.linspace(0.05, upper, 25):
            sol = root(f, [u0, v0], tol=1e-13)
            inside = sol.success and np.all(sol.x >= 0) and np.all(sol.x <= upper)
            if inside and all(np.max(np.abs(sol.x - g)) > 1e-7 for g in found):
                found.append(sol.x)
    return np.array(sorted(found, key=tuple))


def test_toggle_switch_interval_certified(toggle):
    a, n = 3.0, 2.5
    res = find_equilibria(toggle, bounds={"u": (0, 4), "v": (0, 4)}, backend=BACKEND)
    assert res.guarantee == "complete (interval-certified)" and res.complete
    assert res.stats.extra["method"] == "interval"
    reference = brute_force_toggle(a, n, 4.0)
    assert len(reference) == 3
    np.testing.assert_allclose(res.states, reference, atol=1e-9)
    low, mid, high = res.equilibria
    # the symmetric equilibrium solves u (1 + u^n) = a; it is the saddle
    u_sym = brentq(lambda u: u * (1 + u**n) - a, 0, a)
    np.testing.assert_allclose(mid.state, [u_sym, u_sym], rtol=1e-13)
    assert mid.classification is StabilityType.SADDLE
    assert low.classification is high.classification is StabilityType.STABLE_NODE
    assert_valid(res)


@pytest.mark.parametrize("c", [3.0, 10.0, 25.0])
def test_sine_interval_count_matches_sign_changes(sine, c):
    bound = c + 1.0
    res = find_equilibria(sine, {"c": c}, bounds={"x": (-bound, bound)}, backend=BACKEND)
    assert res.guarantee == "complete (interval-certified)"
    # independent: sign changes on a fine grid, refined by Brent's method
    grid = np.linspace(-bound, bound, 200_001)
    g = np.sin(grid) - grid / c
    roots = [
        brentq(lambda x: math.sin(x) - x / c, grid[i], grid[i + 1])
        for i in np.flatnonzero(g[:-1] * g[1:] < 0)
    ]
    roots += [x for x in grid[g == 0.0]]
    np.testing.assert_allclose(res.states[:, 0], np.sort(roots), atol=1e-10)
    assert_valid(res)


def test_continuous_non_smooth_right_hand_sides_are_certified():
    m = Model.from_equations(
        {"x": "abs(x - 1) - 0.5 + 0.1*y", "y": "max(y, 0) - 1 + min(x, 0)"}, name="kinks"
    )
    res = find_equilibria(m, bounds={"x": (-3, 3), "y": (-3, 3)}, backend=BACKEND)
    assert res.guarantee == "complete (interval-certified)"
    # y = 1 (x > 0), |x - 1| = 0.4
    np.testing.assert_allclose(res.states, [[0.6, 1.0], [1.4, 1.0]], atol=1e-14)


def test_python_function_model_uses_multistart(sine_function, sine):
    res = find_equilibria(sine_function, bounds={"x": (-10, 10)}, backend=BACKEND)
    assert res.guarantee == "incomplete (multi-start)" and not res.complete
    assert "interval test not applicable" in res.message
    exact = find_equilibria(sine, bounds={"x": (-10, 10)}, backend=BACKEND)
    np.testing.assert_allclose(res.states, exact.states, atol=1e-12)
    assert_valid(res)


def test_uncertified_boxes_fall_back_to_multistart():
    # a double root (x^2 = 0 after a shift) cannot be certified; Newton still finds it
    m = Model.from_equations({"x": "(exp(x) - 1)^2"}, name="double")
    res = find_equilibria(m, bounds={"x": (-1, 2)}, backend=BACKEND)
    assert res.guarantee.startswith("incomplete (multi-start; ")
    assert res.num_uncertified_boxes > 0 and not res.complete
    assert "boxes were neither excluded nor certified" in res.message
    assert len(res.equilibria) == 1 and not res.equilibria[0].certified
    assert abs(res.equilibria[0].state[0]) < 1e-6
    tight = IntervalNewton(max_boxes=3, fallback=None)
    out = find_equilibria(library.lorenz(), bounds=LORENZ_BOX, method=tight, backend=BACKEND)
    assert out.guarantee == f"incomplete ({out.num_uncertified_boxes} boxes uncertified)"
    assert "budget" in out.message


# --------------------------------------------------------------------------- maps
def test_logistic_fixed_points_and_flip(logistic):
    r = 3.2
    res = find_equilibria(logistic, {"r": r}, backend=BACKEND)
    np.testing.assert_allclose(res.states[:, 0], [0.0, 1 - 1 / r], atol=1e-15)
    assert [e.classification for e in res.equilibria] == [StabilityType.UNSTABLE] * 2
    at_flip = find_equilibria(logistic, {"r": 3.0}, backend=BACKEND)
    nontrivial = at_flip.equilibria[1]
    assert nontrivial.classification is StabilityType.FLIP
    assert "flip" in nontrivial.stability.critical
    assert nontrivial.eigenvalues[0].real == pytest.approx(-1.0, abs=1e-12)


def test_logistic_period_two(logistic):
    r = 3.2
    res = find_equilibria(logistic, {"r": r}, period=2, backend=BACKEND)
    disc = math.sqrt((r - 3) * (r + 1))
    expected = [(r + 1 - disc) / (2 * r), (r + 1 + disc) / (2 * r)]
    np.testing.assert_allclose(res.states[:, 0], expected, rtol=1e-14)
    assert [e.orbit for e in res.equilibria] == [0, 0]
    assert all(e.is_stable and e.period == 2 for e in res.equilibria)
    assert list(res.to_frame()["orbit"]) == [0, 0]
    # at r = 3 the 2-cycle has not yet been born: no point of exact period 2
    none = find_equilibria(logistic, {"r": 3.0}, period=2, backend=BACKEND)
    assert none.equilibria == () and none.message == "no point of period 2 in the box"


@pytest.mark.parametrize("period", [3, 4])
def test_logistic_exact_periods_exclude_lower_ones(logistic, period):
    r = 3.9
    res = find_equilibria(logistic, {"r": r}, period=period, backend=BACKEND)
    # independent: all real roots of the polynomial f^k(x) - x, minus those of lower periods
    f = np.polynomial.Polynomial([0.0, r, -r])
    x = np.polynomial.Polynomial([0.0, 1.0])

    def cycle_roots(k: int) -> np.ndarray:
        g = x
        for _ in range(k):
            g = f(g)
        z = (g - x).roots()
        z = z.real[np.abs(z.imag) < 1e-7]
        for _ in range(4):  # numpy's roots of a degree-2^k polynomial: refine by Newton
            y, dy = z.copy(), np.ones_like(z)
            for _ in range(k):  # f^k and its derivative along the orbit
                y, dy = r * y * (1 - y), dy * r * (1 - 2 * y)
            z = z - (y - z) / (dy - 1)
        return np.sort(z)

    lower = np.concatenate([cycle_roots(d) for d in range(1, period) if period % d == 0])
    exact = [z for z in cycle_roots(period) if np.min(np.abs(lower - z)) > 1e-6]
    np.testing.assert_allclose(res.states[:, 0], exact, atol=1e-7)
    assert len(res.equilibria) % period == 0
    assert len({e.orbit for e in res.equilibria}) == len(res.equilibria) // period
    assert_valid(res)


def test_henon_fixed_points(henon):
    a, b = 1.4, 0.3
    res = find_equilibria(henon, backend=BACKEND)
    xs = [(-(1 - b) + s * math.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a) for s in (-1, 1)]
    np.testing.assert_allclose(res.states, [[x, b * x] for x in xs], rtol=1e-14)
    assert all(e.classification is StabilityType.SADDLE for e in res.equilibria)


def test_henon_period_four_interval_agrees_with_algebraic(henon):
    algebraic = find_equilibria(henon, period=4, backend=BACKEND)
    interval = find_equilibria(
        henon, period=4, bounds=[(-3, 3), (-3, 3)], method=IntervalNewton(), backend=BACKEND
    )
    assert algebraic.complete and interval.complete
    np.testing.assert_allclose(interval.states, algebraic.states, atol=1e-10)
    assert len({e.orbit for e in algebraic.equilibria}) == len(algebraic.equilibria) // 4


# --------------------------------------------------------------------------- result, errors
def test_root_finding_failure_raises_or_is_reported(lorenz, monkeypatch):
    import stabkit.analysis._search as search

    def fail(*args, **kwargs):
        raise ConvergenceError("roots did not converge")

    monkeypatch.setattr(search, "solve_polynomial_system", fail)
    with pytest.raises(ConvergenceError, match="did not converge"):
        find_equilibria(lorenz, backend=BACKEND)
    res = find_equilibria(lorenz, backend=BACKEND, throw=False)
    assert res.status == "failed" and not res.ok and res.equilibria == ()
    assert "did not converge" in res.message and not res.complete


def test_result_frame_and_files(lorenz, tmp_path):
    res = find_equilibria(lorenz, backend=BACKEND)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "x", "y", "z", "classification", "max_real_part", "dim_stable", "dim_unstable",
        "dim_centre", "is_stable", "residual", "certified",
    ]  # fmt: skip
    assert list(frame["classification"]) == ["saddle-focus", "saddle", "saddle-focus"]
    assert frame.attrs["guarantee"] == "complete (algebraic)"
    data = json.loads(res.save(tmp_path / "eq.json").read_text())
    assert data["guarantee"] == "complete (algebraic)" and len(data["equilibria"]) == 3
    assert res.save(tmp_path / "eq.csv").read_text().startswith("x,y,z,classification")
    assert res.provenance.analysis == "find_equilibria" and "Auto" in res.provenance.method
    assert res.stats.num_jacobian_evaluations > 0 and res.stats.extra["method"] == "algebraic"
    assert "complete (algebraic)" in res._repr_html_()
    map_frame = find_equilibria(library.henon_map(), backend=BACKEND).to_frame()
    assert "max_modulus" in map_frame.columns and "orbit" not in map_frame.columns


def test_input_errors(lorenz, sine, sine_function, logistic):
    with pytest.raises(InputError, match=r"no parameter 'rh'; it has sigma, rho, beta"):
        find_equilibria(lorenz, {"rh": 1.0}, backend=BACKEND)
    with pytest.raises(InputError, match=r"no variable 'q'; it has x, y, z"):
        find_equilibria(lorenz, bounds={"q": (0, 1)}, backend=BACKEND)
    with pytest.raises(InputError, match="lo < hi"):
        find_equilibria(lorenz, bounds={"x": (1, 0)}, backend=BACKEND)
    with pytest.raises(InputError, match="pair"):
        find_equilibria(lorenz, bounds={"x": 1.0}, backend=BACKEND)
    with pytest.raises(InputError, match="3 variables"):
        find_equilibria(lorenz, bounds=[(0, 1)], backend=BACKEND)
    with pytest.raises(InputError, match="bounds="):
        find_equilibria(lorenz, bounds="x", backend=BACKEND)
    with pytest.raises(InputError, match=r"no finite bounds were given for x; pass bounds=\{'x'"):
        find_equilibria(sine, backend=BACKEND)
    with pytest.raises(InputError, match=r"MultiStartNewton.*searches a box"):
        find_equilibria(lorenz, method=MultiStartNewton(), backend=BACKEND)
    with pytest.raises(InputError, match="cannot be solved algebraically"):
        find_equilibria(sine, bounds={"x": (-1, 1)}, method=Algebraic(), backend=BACKEND)
    with pytest.raises(InputError, match="Python functions"):
        find_equilibria(sine_function, bounds={"x": (-1, 1)}, method=IntervalNewton())
    with pytest.raises(InputError, match="method="):
        find_equilibria(lorenz, method="algebraic", backend=BACKEND)
    with pytest.raises(InputError, match="periods are for maps"):
        find_equilibria(lorenz, period=2, backend=BACKEND)
    with pytest.raises(InputError, match="num_starts=0"):
        MultiStartNewton(num_starts=0)
    with pytest.raises(InputError, match="min_width"):
        IntervalNewton(min_width=-1.0)
    with pytest.raises(InputError, match="fallback"):
        IntervalNewton(fallback=Algebraic())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="max_bezout_number"):
        Auto(max_bezout_number=0)
    step = Model.from_equations({"x": "heaviside(x) - 0.5"}, name="step")
    res = find_equilibria(step, bounds={"x": (-1, 1)}, backend=BACKEND)
    assert res.guarantee == "incomplete (multi-start)" and "discontinuous" in res.message
