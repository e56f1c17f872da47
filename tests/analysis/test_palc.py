"""Pseudo-arclength continuation on curves with known geometry."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.analysis import _palc
from stabkit.analysis._palc import PALC, locate_zero, tangent_at, trace_curve
from stabkit.errors import InputError


def circle(radius: float = 1.0):
    def residual(x):
        return np.array([x @ x - radius**2])

    def jacobian(x):
        return 2.0 * x[None, :]

    return residual, jacobian


def test_docstring_examples():
    result = doctest.testmod(_palc, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_circle_closes_with_every_point_on_it():
    res, jac = circle(2.0)
    tr = trace_curve(res, jac, np.array([2.0, 0.0]), PALC(ds=0.05, ds_max=0.3))
    assert tr.status == "closed_loop"
    np.testing.assert_allclose(np.linalg.norm(tr.points, axis=1), 2.0, atol=1e-12)
    # unit tangents orthogonal to the radius, consistently oriented (counter-clockwise here)
    np.testing.assert_allclose(np.linalg.norm(tr.tangents, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.sum(tr.tangents * tr.points, axis=1), 0.0, atol=1e-9)
    assert np.all(np.sum(tr.tangents[1:] * tr.tangents[:-1], axis=1) > 0)
    angles = np.unwrap(np.arctan2(tr.points[:, 1], tr.points[:, 0]))
    assert np.all(np.diff(angles) > 0) and angles[-1] > 2 * math.pi - 0.5
    # the step grew to ds_max on this easy curve
    assert tr.steps[0] == 0.0 and 0.15 < np.max(tr.steps) <= 0.3
    assert tr.num_newton_iterations >= len(tr.points) and tr.num_jacobians > 0


def test_direction_reverses_the_trace():
    res, jac = circle()
    up = trace_curve(res, jac, np.array([1.0, 0.0]), PALC(max_points=5))
    down = trace_curve(res, jac, np.array([1.0, 0.0]), PALC(max_points=5, direction=-1))
    assert up.status == down.status == "max_points"
    assert up.points[1, 1] > 0 > down.points[1, 1]
    np.testing.assert_allclose(up.points[:, 1], -down.points[:, 1], atol=1e-12)


def test_fold_curve_passes_the_fold_and_locates_it():
    """x^2 + p^2 = 1 has folds in p at x = 0 (p = +-1); trace through p = 1."""

    def residual(z):
        return np.array([z[0] ** 2 + z[1] ** 2 - 1.0])

    def jacobian(z):
        return np.array([[2 * z[0], 2 * z[1]]])

    def tests(z, t):
        return np.array([t[-1], z[1] - 0.3])  # fold: dp/ds = 0; a plain level p = 0.3

    def stop(z):
        return "reached x = -0.5" if z[0] < -0.5 else None

    x0 = np.array([math.sqrt(1 - 0.25), 0.5])
    tr = trace_curve(residual, jacobian, x0, PALC(ds=0.02), stop=stop, test_functions=tests)
    assert tr.status == "ok" and tr.message == "reached x = -0.5"
    assert tr.test_values.shape == (len(tr.points), 2)
    sign = np.sign(tr.test_values[:, 0])
    (k,) = np.flatnonzero(sign[1:] != sign[:-1])
    pts, tans = tr.points, tr.tangents
    z, t, ok = locate_zero(residual, jacobian, pts[k], pts[k + 1], tans[k], 0, tests)
    assert ok
    assert abs(z[0]) < 1e-10 and z[1] == pytest.approx(1.0, abs=1e-12)
    assert abs(t[1]) < 1e-10 and abs(residual(z)[0]) < 1e-12


def test_locate_zero_level_crossing_to_1e10():
    res, jac = circle()

    def tests(z, t):
        return np.array([z[1] - 0.3])

    a = np.array([math.cos(0.2), math.sin(0.2)])
    b = np.array([math.cos(0.5), math.sin(0.5)])
    t_a = tangent_at(jac(a), np.array([0.0, 1.0]))
    z, _, ok = locate_zero(res, jac, a, b, t_a, 0, tests)
    assert ok and abs(z[1] - 0.3) < 1e-10 and z[0] == pytest.approx(math.sqrt(1 - 0.09), abs=1e-10)
    # no sign change: not converged, nothing invented
    _, _, ok = locate_zero(res, jac, a, a + 0.0, t_a, 0, lambda z, t: np.array([1.0]))
    assert not ok


def test_start_off_the_curve_is_corrected():
    res, jac = circle()
    tr = trace_curve(res, jac, np.array([1.1, 0.05]), PALC(max_points=3))
    assert abs(res(tr.points[0])[0]) <= 1e-10 * (1 + np.max(np.abs(tr.points[0])))


def test_newton_failure_at_start_and_non_finite():
    def residual(z):
        return np.array([z[0] ** 2 + 1.0])  # no real solution

    def jacobian(z):
        return np.array([[2 * z[0], 0.0]])

    tr = trace_curve(residual, jacobian, np.array([1.0, 0.0]), PALC())
    assert tr.status == "newton_failed" and tr.points.shape == (0, 2)
    tr = trace_curve(
        lambda z: np.array([np.nan]), lambda z: np.array([[1.0, 0.0]]), np.zeros(2), PALC()
    )
    assert tr.status == "non_finite" and "not finite" in tr.message


def test_step_collapse_keeps_the_points_traced():
    """A curve that ends (R undefined for p > 0.5): the trace stops with its points kept."""

    def residual(z):
        return np.array([z[0] - z[1] if z[1] <= 0.5 else np.nan])

    def jacobian(z):
        return np.array([[1.0, -1.0]])

    tr = trace_curve(residual, jacobian, np.zeros(2), PALC(ds=0.1, ds_min=1e-6))
    assert tr.status == "step_collapsed" and "ds_min" in tr.message
    assert len(tr.points) > 3 and tr.points[-1, 1] <= 0.5
    assert tr.points[-1, 1] > 0.5 - 1e-5  # it crept up to the edge before giving up
    np.testing.assert_allclose(tr.points[:, 0], tr.points[:, 1], atol=1e-14)


def test_stop_with_status_tuple():
    res, jac = circle()
    tr = trace_curve(
        res, jac, np.array([1.0, 0.0]), PALC(),
        stop=lambda z: ("left_bounds", "left the box") if z[1] > 0.5 else None,
    )  # fmt: skip
    assert tr.status == "left_bounds" and tr.message == "left the box"
    assert tr.points[-1, 1] > 0.5 >= tr.points[-2, 1]


def test_pitchfork_branch_is_followed_straight():
    """x (p - x^2) = 0: the trivial branch x = 0 crosses the pitchfork at p = 0."""

    def residual(z):
        return np.array([z[0] * (z[1] - z[0] ** 2)])

    def jacobian(z):
        return np.array([[z[1] - 3 * z[0] ** 2, z[0]]])

    tr = trace_curve(
        residual, jacobian, np.array([0.0, -1.0]), PALC(ds=0.03),
        stop=lambda z: "p = 1" if z[1] > 1 else None,
    )  # fmt: skip
    assert tr.status == "ok"
    np.testing.assert_allclose(tr.points[:, 0], 0.0, atol=1e-12)


@settings(max_examples=25)
@given(
    a=st.floats(0.3, 3.0),
    b=st.floats(0.3, 3.0),
    angle=st.floats(0.0, 2 * math.pi),
    ds=st.floats(1e-3, 0.2),
)
def test_ellipse_points_satisfy_the_equation(a, b, angle, ds):
    def residual(z):
        return np.array([(z[0] / a) ** 2 + (z[1] / b) ** 2 - 1.0])

    def jacobian(z):
        return np.array([[2 * z[0] / a**2, 2 * z[1] / b**2]])

    x0 = np.array([a * math.cos(angle), b * math.sin(angle)])
    tr = trace_curve(residual, jacobian, x0, PALC(ds=ds, ds_max=0.2, max_points=400))
    assert tr.status == "closed_loop"
    values = np.array([residual(z)[0] for z in tr.points])
    assert np.max(np.abs(values)) < 1e-9
    steps = np.linalg.norm(np.diff(tr.points, axis=0), axis=1)
    assert np.all(steps <= 0.25)  # chord >= ds (orthogonal corrector), but not much more


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ds": -1.0},
        {"ds": 1.0, "ds_max": 0.5},
        {"max_points": 1},
        {"direction": 0},
        {"grow": 0.9},
        {"shrink": 1.5},
        {"newton_tol": float("nan")},
        {"max_turn": 4.0},
    ],
)
def test_bad_settings(kwargs):
    with pytest.raises(InputError):
        PALC(**kwargs)


def test_wrong_jacobian_shape_and_method():
    res, _ = circle()
    with pytest.raises(InputError, match="shape"):
        trace_curve(res, lambda z: np.eye(2), np.array([1.0, 0.0]), PALC())
    with pytest.raises(InputError, match="PALC"):
        trace_curve(res, lambda z: 2 * z[None, :], np.array([1.0, 0.0]), "palc")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the compiled loop
def test_template_solver_handles_bad_scaling_and_singularity():
    """The template's Gaussian elimination, run as plain Python."""
    from stabkit.analysis import _palc_template as tpl

    rng = np.random.default_rng(3)
    for scale in (1.0, 1e15, 1e-12):
        a = rng.normal(size=(4, 4))
        a[0] *= scale  # one badly scaled row, as f_x = -1/x near x = 0
        b = rng.normal(size=4)
        x = np.empty(4)
        assert tpl._palc_solve(a, b, x)
        np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-8)
    singular = np.ones((3, 3))
    assert not tpl._palc_solve(singular, np.ones(3), np.empty(3))


def test_template_loop_matches_trace_curve(monkeypatch):
    """palc_trace (plain Python) takes the same steps as trace_curve on x' = p - x^2."""
    from stabkit.analysis import _palc_template as tpl

    def rhs(t, z, p, out):
        out[0] = z[1] - z[0] ** 2
        out[1] = 0.0

    def jac(t, z, p, out):
        out[:, :] = 0.0
        out[0, 0], out[0, 1] = -2.0 * z[0], 1.0

    monkeypatch.setattr(tpl, "rhs", rhs)
    monkeypatch.setattr(tpl, "jac", jac)
    method = PALC(ds=0.05, ds_max=0.3)
    z0, t0 = np.array([1.0, 1.0]), np.array([0.0, -1.0])
    settings = [method.ds, method.ds_min, method.ds_max, method.newton_tol, 8.0, 3.0]
    cfg = np.array([*settings, method.grow, method.shrink, math.cos(method.max_turn), 500.0])
    out_z, out_t = np.empty((500, 2)), np.empty((500, 2))
    out_s, out_dr = np.empty(500), np.empty((500, 1, 2))
    counters = np.zeros(8, dtype=np.int64)
    box = np.array([np.inf])
    count = tpl.palc_trace(
        z0, t0, np.zeros(1), 1, False, cfg, -1.0, 4.0, -box, box, out_z, out_t, out_s, out_dr,
        counters,
    )  # fmt: skip
    # down to the fold at p = 0 (x = 0), then up the other half x < 0 to p = 4
    assert counters[0] == tpl.PALC_REACHED_HI and out_z[count - 1, 0] < -1.9
    reference = trace_curve(
        lambda z: np.array([z[1] - z[0] ** 2]),
        lambda z: np.array([[-2.0 * z[0], 1.0]]),
        z0, method, tangent0=t0,
        stop=lambda z: "end" if z[1] <= -1.0 or z[1] >= 4.0 else None,
    )  # fmt: skip
    assert count == len(reference.points)
    np.testing.assert_allclose(out_z[:count], reference.points, atol=1e-12)
    np.testing.assert_allclose(out_t[:count], reference.tangents, atol=1e-10)
    np.testing.assert_allclose(out_dr[:count, 0, 0], -2.0 * out_z[:count, 0], atol=1e-12)
