"""The public API :func:`stabkit.solve`: results, statuses, stats, provenance, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import stabkit
from stabkit.errors import ConvergenceError, InputError, ModelError
from stabkit.integrate.methods import DOP853, RK4, Auto, Dopri5, Event, Rodas5, Tsit5
from stabkit.integrate.solve import solve, solve_ensemble
from stabkit.integrate.trajectory import MemberStatus, Trajectory
from stabkit.model.model import Model, ModelKind


def test_public_names_resolve_to_this_module():
    assert stabkit.solve is solve
    assert stabkit.solve_ensemble is solve_ensemble


def test_defaults_every_step_and_the_result_fields(harmonic):
    traj = solve(harmonic, backend="numpy")
    assert isinstance(traj, Trajectory)
    assert traj.status == "ok" and traj.ok and traj.member_status is MemberStatus.OK
    assert traj.t[0] == 0.0 and traj.t[-1] == traj.t_final == 10.0
    assert np.all(np.diff(traj.t) > 0)
    assert traj.t.size == traj.stats.num_steps + 1  # t_eval=None: every accepted step
    assert traj.y.shape == (traj.t.size, 2)
    np.testing.assert_allclose(traj["x"], np.cos(traj.t), atol=1e-5)
    np.testing.assert_allclose(traj.y_final, [math.cos(10.0), -math.sin(10.0)], atol=1e-5)
    # Auto() by default: Dopri5 with its initial-step probe, 6 evaluations per attempt
    attempts = traj.stats.num_steps + traj.stats.num_rejected
    assert traj.stats.num_rhs_evaluations == 2 + 6 * attempts
    assert traj.stats.num_jacobian_evaluations == 0
    assert traj.provenance.analysis == "solve"
    assert traj.provenance.model_hash == harmonic.content_hash
    assert traj.provenance.method.startswith("Auto(")
    assert traj.stats.extra["kernel"] == "auto"
    frame = traj.to_frame()
    assert list(frame.columns) == ["t", "x", "v"] and len(frame) == traj.t.size


def test_states_and_parameters_by_name_or_in_order(lorenz):
    t = np.linspace(0.0, 1.0, 5)
    by_name = solve(
        lorenz,
        {"x": 2.0},
        (0.0, 1.0),
        t_eval=t,
        params={"rho": 20.0},
        method=Dopri5(),
        backend="numpy",
    )
    in_order = solve(
        lorenz,
        [2.0, 1.0, 1.0],
        (0.0, 1.0),
        t_eval=t,
        params=[10.0, 20.0, 8.0 / 3.0],
        method=Dopri5(),
        backend="numpy",
    )
    np.testing.assert_array_equal(by_name.y, in_order.y)
    assert by_name.provenance.params == {"sigma": 10.0, "rho": 20.0, "beta": 8.0 / 3.0}
    other = solve(lorenz, [2.0, 1.0, 1.0], (0.0, 1.0), t_eval=t, method=Dopri5(), backend="numpy")
    assert not np.allclose(other.y[-1], by_name.y[-1])  # the parameters reach the kernel


def test_compile_time_is_reported_apart_from_wall_time(lorenz):
    method = Tsit5(rtol=1e-7)
    first = solve(lorenz, t_span=(0.0, 1.0), method=method)
    second = solve(lorenz, t_span=(0.0, 1.0), method=method)
    assert first.stats.compile_time > 0.0
    assert second.stats.compile_time < 0.5  # compiled already: only a cache lookup
    assert 0.0 < second.stats.wall_time < 5.0
    assert second.stats.extra["codegen_time"] <= second.stats.compile_time
    np.testing.assert_array_equal(first.y, second.y)


@pytest.mark.parametrize(
    "method", [Dopri5(), Tsit5(), DOP853(), Rodas5(), Auto()], ids=lambda m: m.name
)
def test_every_method_reaches_the_end_on_a_smooth_problem(harmonic, method):
    traj = solve(harmonic, t_span=(0.0, 3.0), method=method, t_eval=[3.0], backend="numpy")
    assert traj.member_status is MemberStatus.OK
    assert traj.y[0, 0] == pytest.approx(math.cos(3.0), abs=1e-4)


def test_max_steps_gives_a_status_and_throw_raises(lorenz):
    t = np.linspace(0.0, 10.0, 11)
    traj = solve(lorenz, t_span=(0.0, 10.0), method=Dopri5(max_steps=40), t_eval=t, backend="numpy")
    assert traj.member_status is MemberStatus.MAX_STEPS
    assert traj.status == "max_steps" and not traj.ok
    assert traj.stats.num_steps + traj.stats.num_rejected == 40
    assert 0.0 < traj.t_final < 10.0
    assert "max steps at t =" in traj.message
    after = t > traj.t_final
    assert np.all(np.isnan(traj.y[after])) and np.all(np.isfinite(traj.y[~after]))
    with pytest.raises(ConvergenceError, match="max steps") as info:
        solve(
            lorenz,
            t_span=(0.0, 10.0),
            method=Dopri5(max_steps=40),
            t_eval=t,
            backend="numpy",
            throw=True,
        )
    assert isinstance(info.value.result, Trajectory)
    assert info.value.result.member_status is MemberStatus.MAX_STEPS


def test_divergence_threshold(quadratic):
    traj = solve(
        quadratic, [1.0], (0.0, 2.0), method=Dopri5(divergence_threshold=1e3), backend="numpy"
    )
    assert traj.member_status is MemberStatus.DIVERGED and traj.status == "diverged"
    assert traj.y[-1, 0] > 1e3 and traj.t_final == pytest.approx(
        1.0 - 1.0 / traj.y[-1, 0], rel=1e-3
    )


def test_python_function_models_run_on_both_backends():
    def decay(t, y, p, out):
        out[0] = -p[0] * y[0]

    model = Model.from_function(decay, variables={"x": 1.0}, parameters={"k": 2.0})
    for backend in ("numba", "numpy"):
        traj = solve(
            model,
            t_span=(0.0, 1.0),
            method=Dopri5(rtol=1e-10, atol=1e-12),
            t_eval=[1.0],
            backend=backend,
        )
        assert traj.y[0, 0] == pytest.approx(math.exp(-2.0), rel=1e-9)


def test_tolerances_must_be_positive():
    for bad in (0.0, -1e-8, math.nan):
        with pytest.raises(InputError, match=r"Dopri5\(rtol=.*finite and > 0"):
            Dopri5(rtol=bad)
        with pytest.raises(InputError, match=r"Auto\(atol=.*finite and > 0"):
            Auto(atol=bad)


def test_per_variable_tolerances(lorenz):
    traj = solve(lorenz, t_span=(0.0, 1.0), method=Dopri5(atol=(1e-9, 1e-9, 1e-6)), backend="numpy")
    assert traj.ok
    with pytest.raises(InputError, match="2 values but the model has 3"):
        solve(lorenz, method=Dopri5(atol=(1e-9, 1e-9)), backend="numpy")


def _dde_model():
    x = Model.from_equations({"x": "-x"}, variables={"x": 1.0})
    return Model("delay", ModelKind.DDE, x.variables, (), x.equations, (1.0,), ())


BAD_INPUT = [
    (lambda m: solve("lorenz"), r"model='lorenz': expected a stabkit Model"),
    (lambda m: solve(_dde_model()), r"'dde' model; solve and solve_ensemble integrate"),
    (lambda m: solve(m, [1.0, 2.0]), r"y0 has shape \(2,\), but model 'lorenz' has 3"),
    (lambda m: solve(m, [1.0, math.nan, 1.0]), r"y0\[1\] \(y\) = nan is not finite"),
    (lambda m: solve(m, {"w": 1.0}), r"y0: model 'lorenz' has no variable 'w'"),
    (lambda m: solve(m, t_span=(0.0,)), r"t_span=\(0.0,\): expected two numbers"),
    (lambda m: solve(m, t_span="ab"), r"t_span='ab': expected two numbers"),
    (lambda m: solve(m, t_span=(0.0, math.inf)), r"both ends must be finite"),
    (lambda m: solve(m, t_span=(1.0, 0.0)), r"t1 must be greater than t0; backward integ"),
    (lambda m: solve(m, t_span=(1.0, 1.0)), r"t1 must be greater than t0"),
    (lambda m: solve(m, t_eval=[0.0, 11.0]), r"t_eval runs from 0.0 to 11.0, outside t_span"),
    (lambda m: solve(m, t_eval=[-1.0, 1.0]), r"outside t_span"),
    (lambda m: solve(m, t_eval=[0.0, 2.0, 1.0]), r"t_eval is not sorted: t_eval\[1\] = 2.0"),
    (lambda m: solve(m, t_eval=[0.0, math.nan]), r"t_eval contains NaN"),
    (lambda m: solve(m, t_eval=[]), r"non-empty 1-D array"),
    (lambda m: solve(m, t_eval=[[0.0, 1.0]]), r"t_eval has shape \(1, 2\)"),
    (lambda m: solve(m, backend="cuda"), r"backend='cuda': choose 'numba'"),
    (lambda m: solve(m, backend="numbaa"), r"did you mean 'numba'"),
    (lambda m: solve(m, method=Dopri5), r"method=Dopri5: pass an instance, e.g. method=Dopri5\(\)"),
    (lambda m: solve(m, method="dopri5"), r"method='dopri5': expected a method object"),
    (lambda m: solve(m, events=["x"]), r"events\[0\]='x': expected a stabkit Event"),
    (lambda m: solve(m, events="x"), r"events='x': expected a sequence of stabkit Event"),
    (lambda m: solve(m, max_events=-1), r"max_events=-1: expected an integer >= 0"),
    (lambda m: solve(m, params={"rh": 1.0}), r"no parameter 'rh'.*did you mean 'rho'"),
    (lambda m: solve(m, params=[1.0, 2.0]), r"params has shape \(2,\), but model 'lorenz' has 3"),
]


@pytest.mark.parametrize("call, message", BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_is_rejected_with_a_message(lorenz, call, message):
    with pytest.raises(InputError, match=message):
        call(lorenz)


def test_event_expressions_must_name_known_symbols(lorenz):
    with pytest.raises(ModelError, match="unknown symbol 'w'"):
        solve(lorenz, events=[Event("w - 1")], backend="numpy")


def test_rk4_ignores_tolerances_but_honours_divergence(quadratic):
    traj = solve(
        quadratic, [1.0], (0.0, 2.0), method=RK4(dt=1e-3, divergence_threshold=1e4), backend="numpy"
    )
    assert traj.member_status is MemberStatus.DIVERGED
    assert 0.99 < traj.t_final < 1.01  # the exact solution blows up at t = 1
    assert traj.stats.num_rejected == 0 and traj.stats.num_steps == round(traj.t_final / 1e-3)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_every_step_is_kept_beyond_the_first_buffer(harmonic, backend):
    """save_all starts with room for 256 rows and doubles it as needed."""
    traj = solve(harmonic, t_span=(0.0, 1.0), method=Dopri5(max_step=1e-3), backend=backend)
    assert traj.t.size == traj.stats.num_steps + 1 >= 1001
    assert traj.t[0] == 0.0 and traj.t[-1] == 1.0 and np.all(np.diff(traj.t) > 0)
    np.testing.assert_allclose(traj["x"], np.cos(traj.t), atol=1e-9)
