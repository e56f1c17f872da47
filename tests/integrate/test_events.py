"""Events: zero crossings located on the dense output, direction, terminal events.

Known answers: x = cos t of the harmonic oscillator crosses zero at pi/2 + k pi and
v = -sin t at k pi; a ball dropped from h0 lands at sqrt(2 h0 / g) (a quadratic, which
the schemes and their dense outputs integrate exactly).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from stabkit.errors import InputError
from stabkit.integrate.methods import DOP853, RK4, Auto, Dopri5, Event, Tsit5
from stabkit.integrate.solve import solve, solve_ensemble
from stabkit.integrate.trajectory import MemberStatus
from stabkit.model.model import Model

from .conftest import HARMONIC_EVENTS

TIGHT = Dopri5(rtol=1e-10, atol=1e-12)
X_ZEROS = np.pi / 2 + np.pi * np.arange(3)  # in (0, 10]
V_ZEROS = np.pi * np.arange(1, 4)


def _by_event(traj, index):
    keep = traj.event_index == index
    return traj.t_events[keep], traj.y_events[keep]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_zero_crossings_of_the_harmonic_oscillator(harmonic, backend):
    traj = solve(
        harmonic, t_span=(0.0, 10.0), method=TIGHT, events=HARMONIC_EVENTS, backend=backend
    )
    assert traj.member_status is MemberStatus.OK
    t_x, y_x = _by_event(traj, 0)
    t_v, y_v = _by_event(traj, 1)
    np.testing.assert_allclose(t_x, X_ZEROS, atol=1e-9)
    np.testing.assert_allclose(t_v, V_ZEROS, atol=1e-9)
    np.testing.assert_allclose(y_x[:, 0], 0.0, atol=1e-9)  # the state at the event
    np.testing.assert_allclose(y_x[:, 1], [-1.0, 1.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(y_v[:, 0], [-1.0, 1.0, -1.0], atol=1e-9)
    assert np.all(np.diff(traj.t_events) > 0)  # in time order, both events interleaved
    assert traj.event_index.tolist() == [0, 1, 0, 1, 0, 1]
    assert traj.stats.extra["num_events_found"] == 6


def test_backends_find_the_same_events(harmonic):
    runs = [
        solve(harmonic, t_span=(0.0, 10.0), method=TIGHT, events=HARMONIC_EVENTS, backend=b)
        for b in ("numba", "numpy")
    ]
    np.testing.assert_allclose(runs[0].t_events, runs[1].t_events, rtol=1e-13)
    np.testing.assert_allclose(runs[0].y_events, runs[1].y_events, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "method, tol",
    [
        (Tsit5(rtol=1e-10, atol=1e-12), 1e-9),
        (DOP853(rtol=1e-10, atol=1e-12), 1e-9),
        (RK4(dt=1e-3), 1e-9),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_every_explicit_scheme_locates_events(harmonic, method, tol):
    traj = solve(
        harmonic, t_span=(0.0, 10.0), method=method, events=HARMONIC_EVENTS, backend="numpy"
    )
    np.testing.assert_allclose(_by_event(traj, 0)[0], X_ZEROS, atol=tol)
    np.testing.assert_allclose(_by_event(traj, 1)[0], V_ZEROS, atol=tol)


def test_direction_filters_crossings(harmonic):
    events = (Event("x", direction=1), Event("v", direction=-1))
    traj = solve(harmonic, t_span=(0.0, 10.0), method=TIGHT, events=events, backend="numpy")
    up_x = _by_event(traj, 0)[0]
    down_v = _by_event(traj, 1)[0]
    np.testing.assert_allclose(up_x, [1.5 * np.pi], atol=1e-9)  # cos t rises through 0
    np.testing.assert_allclose(down_v, [2 * np.pi], atol=1e-9)  # -sin t falls through 0
    both = solve(
        harmonic,
        t_span=(0.0, 10.0),
        method=TIGHT,
        events=(Event("x", direction=-1), Event("v", direction=1)),
        backend="numpy",
    )
    np.testing.assert_allclose(_by_event(both, 0)[0], [0.5 * np.pi, 2.5 * np.pi], atol=1e-9)
    np.testing.assert_allclose(_by_event(both, 1)[0], [np.pi, 3 * np.pi], atol=1e-9)


@pytest.mark.parametrize("t_eval", [None, np.linspace(0.0, 10.0, 41)], ids=["steps", "grid"])
def test_terminal_event_stops_the_member(harmonic, t_eval):
    events = (Event("x", direction=-1, terminal=True), Event("v"))
    traj = solve(
        harmonic, t_span=(0.0, 10.0), method=TIGHT, events=events, t_eval=t_eval, backend="numpy"
    )
    assert traj.member_status is MemberStatus.TERMINATED
    assert traj.status == "ok" and "terminated by an event at t = 1.5708" in traj.message
    assert traj.t_final == pytest.approx(np.pi / 2, abs=1e-9)
    assert traj.t_events.tolist() == [traj.t_final] and traj.event_index.tolist() == [0]
    np.testing.assert_allclose(traj.y_final, [0.0, -1.0], atol=1e-9)
    if t_eval is None:
        assert traj.t[-1] == traj.t_final  # the saved steps end at the event
        np.testing.assert_allclose(traj.y[-1], [0.0, -1.0], atol=1e-9)
    else:
        before = t_eval <= traj.t_final
        np.testing.assert_allclose(traj.y[before, 0], np.cos(t_eval[before]), atol=1e-9)
        assert np.all(np.isnan(traj.y[~before]))


def test_a_falling_ball_lands_at_the_exact_time(falling_ball):
    landing = Event("h", direction=-1, terminal=True, name="ground")
    traj = solve(
        falling_ball, t_span=(0.0, 10.0), method=Dopri5(), events=[landing], backend="numpy"
    )
    t_hit = math.sqrt(2 * 10.0 / 9.81)
    assert traj.member_status is MemberStatus.TERMINATED
    assert traj.t_final == pytest.approx(t_hit, rel=1e-12)
    assert traj.y_events[0, 1] == pytest.approx(-9.81 * t_hit, rel=1e-12)
    assert abs(traj.y_events[0, 0]) < 1e-12
    higher = solve(
        falling_ball,
        {"h": 40.0},
        (0.0, 10.0),
        method=Dopri5(),
        events=[landing],
        params={"g": 1.62},
        backend="numpy",
    )
    assert higher.t_final == pytest.approx(math.sqrt(2 * 40.0 / 1.62), rel=1e-12)


def test_crossings_inside_one_long_step_come_out_in_time_order(harmonic):
    """Steps of 2.5 hold a crossing of each event: both are located, in order."""
    coarse = DOP853(rtol=1e10, atol=1e10, first_step=2.5, max_step=2.5)
    traj = solve(
        harmonic, t_span=(0.0, 10.0), method=coarse, events=HARMONIC_EVENTS, backend="numpy"
    )
    assert traj.stats.num_steps == 4
    assert np.all(np.diff(traj.t_events) > 0)
    np.testing.assert_allclose(_by_event(traj, 0)[0], X_ZEROS, atol=0.05)
    np.testing.assert_allclose(_by_event(traj, 1)[0], V_ZEROS, atol=0.05)


def test_max_events_keeps_the_first_crossings_and_counts_all(harmonic):
    traj = solve(
        harmonic,
        t_span=(0.0, 10.0),
        method=TIGHT,
        events=HARMONIC_EVENTS,
        max_events=2,
        backend="numpy",
    )
    np.testing.assert_allclose(traj.t_events, [np.pi / 2, np.pi], atol=1e-9)
    assert traj.stats.extra["num_events_found"] == 6
    assert "6 event crossings found, the first 2 kept" in traj.message
    assert traj.status == "ok"


def test_terminal_events_per_ensemble_member(harmonic):
    events = (Event("x", direction=-1, terminal=True), Event("v"))
    y0s = [[1.0, 0.0], [0.5, 0.0], [0.0, 1.0]]
    ens = solve_ensemble(
        harmonic,
        y0s,
        (0.0, 10.0),
        method=TIGHT,
        events=events,
        t_eval=np.linspace(0.0, 10.0, 21),
        backend="numpy",
    )
    assert ens.status == "ok"
    assert ens.member_status.tolist() == [MemberStatus.TERMINATED] * 3
    np.testing.assert_allclose(ens.t_final, [np.pi / 2, np.pi / 2, np.pi], atol=1e-9)
    # member 2 (x = sin t) crosses v = 0 at pi/2 before it stops at pi
    assert ens.event_index[2, :2].tolist() == [1, 0]
    np.testing.assert_allclose(ens.t_events[2, :2], [np.pi / 2, np.pi], atol=1e-9)
    assert np.isnan(ens.t_events[0, 1]) and ens.event_index[0, 1] == -1
    member = ens.member(2)
    np.testing.assert_allclose(member.t_events, [np.pi / 2, np.pi], atol=1e-9)
    assert member.member_status is MemberStatus.TERMINATED


def test_events_on_python_function_models_are_refused():
    model = Model.from_function(lambda t, y, p, out: None, variables={"x": 1.0})
    with pytest.raises(InputError, match="needs event functions"):
        solve(model, events=[Event("x")], backend="numpy")


def test_events_continue_across_the_auto_switch(van_der_pol):
    """Van der Pol at mu = 100: Auto goes stiff early; the crossings come from both schemes."""
    from scipy.integrate import solve_ivp

    from .conftest import van_der_pol_rhs

    traj = solve(
        van_der_pol,
        t_span=(0.0, 400.0),
        method=Auto(rtol=1e-8, atol=1e-10),
        params={"mu": 100.0},
        events=[Event("x")],
        backend="numpy",
    )
    assert traj.stats.extra["num_stiff_switches"] == 1
    ref = solve_ivp(
        lambda t, u: van_der_pol_rhs(t, u, 100.0),
        (0.0, 400.0),
        [2.0, 0.0],
        "Radau",
        rtol=1e-8,
        atol=1e-8,
        jac=lambda t, u: [[0.0, 1.0], [-200.0 * u[0] * u[1] - 1.0, 100.0 * (1.0 - u[0] ** 2)]],
        events=lambda t, u: u[0],
    )
    np.testing.assert_allclose(traj.t_events, ref.t_events[0], atol=1e-4)
    assert np.all(np.diff(traj.t) > 0)  # saved steps of both schemes, once each
