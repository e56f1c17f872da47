"""Ensembles: members equal single solves, fail alone, broadcast states and parameters."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.errors import InputError
from stabkit.integrate.methods import Dopri5, Tsit5
from stabkit.integrate.solve import solve, solve_ensemble
from stabkit.integrate.trajectory import Ensemble, MemberStatus
from stabkit.model.codegen import compile_model

METHOD = Dopri5(rtol=1e-8, atol=1e-10)
T_EVAL = np.linspace(0.0, 2.0, 11)


@pytest.fixture(scope="module")
def states():
    rng = np.random.default_rng(7)
    return np.array([1.0, 1.0, 1.0]) + rng.uniform(-1.0, 1.0, size=(6, 3))


def test_members_equal_individual_solves(lorenz, states):
    ens = solve_ensemble(lorenz, states, (0.0, 2.0), method=METHOD, t_eval=T_EVAL)
    assert isinstance(ens, Ensemble) and ens.status == "ok" and ens.message == ""
    assert ens.y.shape == (6, 11, 3) and ens.num_members == len(ens) == 6
    for i, y0 in enumerate(states):
        one = solve(lorenz, y0, (0.0, 2.0), method=METHOD, t_eval=T_EVAL)
        np.testing.assert_allclose(ens.y[i], one.y, rtol=1e-12, atol=1e-12)
        assert ens.num_steps[i] == one.stats.num_steps
        assert ens.num_rejected[i] == one.stats.num_rejected
    assert ens.stats.num_steps == ens.num_steps.sum()
    np.testing.assert_array_equal(ens.t_final, 2.0)
    np.testing.assert_array_equal(ens.y0, states)
    assert ens.provenance.analysis == "solve_ensemble"


def test_the_numpy_backend_gives_the_same_ensemble(lorenz, states):
    fast = solve_ensemble(lorenz, states[:3], (0.0, 2.0), method=METHOD, t_eval=T_EVAL)
    slow = solve_ensemble(
        lorenz, states[:3], (0.0, 2.0), method=METHOD, t_eval=T_EVAL, backend="numpy"
    )
    np.testing.assert_allclose(fast.y, slow.y, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fast.num_steps, slow.num_steps)


def test_a_member_that_blows_up_fails_alone(quadratic):
    """x' = x^2: x0 / (1 - x0 t); x0 = 2 blows up at t = 0.5, the others live."""
    x0 = np.array([[-1.0], [0.5], [2.0]])
    t = np.linspace(0.0, 1.0, 21)
    ens = solve_ensemble(quadratic, x0, (0.0, 1.0), method=Dopri5(rtol=1e-10, atol=1e-12), t_eval=t)
    assert ens.status == "partial"
    assert ens.message.startswith("1 of 3 members failed")
    assert ens.ok_mask.tolist() == [True, True, False]
    assert ens.member_status[2] in (
        MemberStatus.DIVERGED,
        MemberStatus.NON_FINITE,
        MemberStatus.STEP_TOO_SMALL,
    )
    for i in (0, 1):
        exact = x0[i, 0] / (1.0 - x0[i, 0] * t)
        np.testing.assert_allclose(ens.y[i, :, 0], exact, rtol=1e-8)
    assert 0.45 < ens.t_final[2] <= 0.5
    assert np.all(np.isnan(ens.y[2, t > 0.5]))
    alive = t < 0.45
    np.testing.assert_allclose(ens.y[2, alive, 0], 2.0 / (1.0 - 2.0 * t[alive]), rtol=1e-7)
    assert set(ens.status_counts()) == {"ok", MemberStatus(ens.member_status[2]).label}


def test_mixed_parameter_sets(lorenz, states):
    rho = np.array([10.0, 20.0, 28.0])
    ens = solve_ensemble(
        lorenz, states[0], (0.0, 2.0), method=METHOD, t_eval=T_EVAL, params={"rho": rho}
    )
    assert ens.params.shape == (3, 3) and ens.params[:, 1].tolist() == rho.tolist()
    assert "rho" not in ens.provenance.params and ens.provenance.params["sigma"] == 10.0
    for i, r in enumerate(rho):
        one = solve(lorenz, states[0], (0.0, 2.0), method=METHOD, t_eval=T_EVAL, params={"rho": r})
        np.testing.assert_allclose(ens.y[i], one.y, rtol=1e-12, atol=1e-12)
    matrix = np.column_stack([np.full(3, 10.0), rho, np.full(3, 8.0 / 3.0)])
    same = solve_ensemble(
        lorenz, np.tile(states[0], (3, 1)), (0.0, 2.0), method=METHOD, t_eval=T_EVAL, params=matrix
    )
    np.testing.assert_array_equal(same.y, ens.y)


def test_states_and_parameter_sets_broadcast(lorenz, states):
    ens = solve_ensemble(
        lorenz, states[:2], (0.0, 0.5), params=[10.0, 28.0, 2.0], method=Tsit5(), backend="numpy"
    )
    assert ens.params.shape == (2, 3) and np.all(ens.params[:, 2] == 2.0)
    shared = solve_ensemble(
        lorenz, None, (0.0, 0.5), params={"rho": [1.0, 2.0]}, method=Tsit5(), backend="numpy"
    )
    np.testing.assert_array_equal(shared.y0, [[1.0, 1.0, 1.0]] * 2)
    np.testing.assert_array_equal(shared.t, [0.0, 0.5])  # default output: the span's ends
    with pytest.raises(InputError, match="y0s has 3 states but params has 2 parameter sets"):
        solve_ensemble(lorenz, states[:3], params={"rho": [1.0, 2.0]}, backend="numpy")


def test_chunks_and_the_progress_bar_change_nothing(lorenz, states):
    whole = solve_ensemble(lorenz, states, (0.0, 2.0), method=METHOD, t_eval=T_EVAL)
    chunked = solve_ensemble(
        lorenz, states, (0.0, 2.0), method=METHOD, t_eval=T_EVAL, chunk_size=4, progress=True
    )
    np.testing.assert_array_equal(whole.y, chunked.y)
    np.testing.assert_array_equal(whole.num_steps, chunked.num_steps)


def test_member_view_and_table(lorenz, states):
    ens = solve_ensemble(lorenz, states[:2], (0.0, 2.0), method=METHOD, t_eval=T_EVAL)
    one = ens.member(1)
    np.testing.assert_array_equal(one.y, ens.y[1])
    assert one.status == "ok" and one.stats.num_steps == ens.num_steps[1]
    frame = ens.to_frame()
    assert len(frame) == 2 * T_EVAL.size and set(frame["status"]) == {"ok"}


BAD = [
    (lambda m: solve_ensemble(m, np.ones((3, 2))), r"y0s has shape \(3, 2\), but model 'lorenz'"),
    (lambda m: solve_ensemble(m, np.ones((0, 3))), r"y0s has shape \(0, 3\)"),
    (lambda m: solve_ensemble(m, [[1, 1, 1], [1, np.nan, 1]]), r"y0s\[1\] = \[1.0, nan, 1.0\]"),
    (lambda m: solve_ensemble(m, [["a", "b", "c"]]), r"expected an array of initial states"),
    (lambda m: solve_ensemble(m, params=np.ones((2, 2))), r"params has shape \(2, 2\)"),
    (lambda m: solve_ensemble(m, params={"rho": [1, 2], "beta": [1, 2, 3]}), r"different length"),
    (lambda m: solve_ensemble(m, params={"rh": 1.0}), r"no parameter 'rh'"),
    (lambda m: solve_ensemble(m, params=[[1, np.inf, 1]]), r"params contains NaN or infinity"),
    (lambda m: solve_ensemble(m, chunk_size=0), r"chunk_size=0: expected an integer >= 1"),
    (lambda m: solve_ensemble(m, t_span=(2, 1)), r"t1 must be greater than t0"),
    (lambda m: solve_ensemble(m, t_eval=[0.0, 20.0]), r"outside t_span"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_ensemble_input(lorenz, call, message):
    with pytest.raises(InputError, match=message):
        call(lorenz)


def test_contract_ensemble_kernel_equals_solve_ensemble(lorenz, states):
    """``dopri5_ensemble`` (prange over batches, the template contract) gives the same."""
    ens = solve_ensemble(lorenz, states, (0.0, 2.0), method=METHOD, t_eval=T_EVAL)
    kernel = compile_model(lorenz).kernel("dopri5_ensemble")
    m, n = states.shape
    cfg = np.zeros(16)
    cfg[1:8] = (np.inf, 0.9, 0.2, 10.0, 0.04, 1e100, 1e6)
    out_y = np.full((m, T_EVAL.size, n), np.nan)
    counters = np.zeros((m, 16), dtype=np.int64)
    t_final = np.zeros(m)
    kernel(
        states,
        np.tile(lorenz.param_vector(), (m, 1)),
        0.0,
        2.0,
        T_EVAL,
        np.full(n, 1e-8),
        np.full(n, 1e-10),
        cfg,
        np.zeros(0),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        out_y,
        np.zeros((m, 0)),
        np.zeros((m, 0, n)),
        np.zeros((m, 0), np.int64),
        counters,
        t_final,
    )
    np.testing.assert_array_equal(out_y, ens.y)
    np.testing.assert_array_equal(counters[:, 0], ens.num_steps)
    np.testing.assert_array_equal(t_final, 2.0)
