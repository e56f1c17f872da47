"""closure_validity: verdicts against SSA and the failure modes of Schnoerr et al. (2014)."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.analysis._validity_checks import is_physical, oscillation, poisson_state
from stabkit.analysis._validity_report import judge
from stabkit.analysis.closure_validity import ClosureValidityResult, closure_validity
from stabkit.analysis.equilibria import Algebraic, MultiStartNewton, find_equilibria
from stabkit.analysis.moments import LogNormal, Normal, moment_equations, moment_info
from stabkit.errors import InputError
from stabkit.integrate.solve import solve
from stabkit.model.reactions import ReactionNetwork

BACKEND = "numpy"


def brusselator(volume: float = 100.0) -> ReactionNetwork:
    # c1 = 2 * 0.9: the combinatorial factor 1/2! of 2X is inside the propensity
    return ReactionNetwork.from_strings(
        "brusselator",
        species={"X": 1, "Y": 1},
        reactions={
            "r1": "2 X + Y -> 3 X @ c1",
            "r2": "X -> Y @ c2",
            "r3": "0 -> X @ c3",
            "r4": "X -> 0 @ c4",
        },
        parameters={"c1": 1.8, "c2": 2.0, "c3": 1.0, "c4": 1.0},
        volume=volume,
    )


def dimerisation() -> ReactionNetwork:
    return ReactionNetwork.from_strings(
        "dimer",
        species={"X": 2},
        reactions={"b": "0 -> X @ k1", "d": "2 X -> 0 @ k2"},
        parameters={"k1": 1.0, "k2": 1.0},
    )


@pytest.fixture(scope="module")
def dimer_result() -> ClosureValidityResult:
    return closure_validity(
        dimerisation(),
        closures=(Normal(), LogNormal()),
        volumes=(3.0, 60.0),
        t_span=(0.0, 4.0),
        num_runs=400,
        num_times=41,
        seed=5,
        backend=BACKEND,
    )


def test_dimerisation_closures_valid_at_large_volume(dimer_result) -> None:
    res = dimer_result
    assert res.status == "ok"
    assert res.ssa_mean.shape == (2, 41, 1)
    assert res.closure_mean.shape == (2, 2, 41, 1)
    for name in ("normal", "log-normal"):
        big = res.verdict(name, 60.0)
        assert big.verdict == "valid", big.evidence
        assert big.failure_modes == ()
        assert abs(big.mean_z) < 4
        assert big.num_stable_physical_steady_states == 1
    # errors shrink with the system size (relative fluctuations ~ Omega^-1/2)
    small, big = res.verdict("normal", 3.0), res.verdict("normal", 60.0)
    assert big.mean_error < small.mean_error or small.verdict == "valid"
    frame = res.to_frame()
    assert len(frame) == 4 and {"verdict", "evidence", "mean_error"} <= set(frame.columns)
    assert list(res.valid_volumes("normal")).count(60.0) == 1


def test_figures_draw(dimer_result) -> None:
    ax = dimer_result.plot()
    assert ax.get_xscale() == "log"
    ax = dimer_result.plot(kind="trajectories", volume=60.0, quantity="variance")
    assert len(ax.get_lines()) >= 3
    with pytest.raises(InputError, match="kind"):
        dimer_result.plot(kind="heatmap")
    with pytest.raises(InputError, match="not compared"):
        dimer_result.verdict("gamma", 3.0)


def test_lognormal_brusselator_negative_variance_and_spurious_oscillation() -> None:
    res = closure_validity(
        brusselator(),
        closures=(Normal(), LogNormal()),
        volumes=(100.0,),
        t_span=(0.0, 60.0),
        num_runs=200,
        num_times=241,
        seed=2,
        backend=BACKEND,
    )
    log_normal = res.verdict("log-normal", 100.0)
    assert log_normal.verdict == "invalid"
    assert log_normal.negative_variance and log_normal.spurious_oscillation
    assert any("negative" in line for line in log_normal.evidence)
    normal = res.verdict("normal", 100.0)
    assert not normal.negative_variance and not normal.spurious_oscillation
    assert abs(normal.mean_z) < 4  # the damped mean matches the SSA mean
    assert normal.num_stable_physical_steady_states == 1
    assert normal.num_unphysical_steady_states >= 1  # roots with negative variances


def test_normal_closure_bistable_at_large_volume() -> None:
    """Order-2 normal closure at Omega = 3000: a stable physical fixed point and, from the
    deterministic start, a sustained oscillation -- judged against a damped reference."""
    omega = 3000.0
    net = brusselator(omega)
    model = moment_equations(net, 2, closure=Normal())
    found = find_equilibria(model, {"Omega": omega}, method=Algebraic(), backend=BACKEND)
    info = moment_info(model)
    physical = [e for e in found.equilibria if is_physical(e.state_map, info)]
    assert len(physical) == 1 and physical[0].is_stable
    fixed = physical[0].state
    grid = np.linspace(0.0, 300.0, 601)
    ssa_mean = np.tile(fixed[:2], (len(grid), 1))  # a damped ensemble mean
    ssa_se = np.full_like(ssa_mean, 1.0)
    ssa_var = np.tile([fixed[2], fixed[4]], (len(grid), 1))
    verdict, cm, _ = judge(
        "normal",
        omega,
        model,
        net,
        {"Omega": omega},
        grid,
        ssa_mean,
        ssa_se,
        ssa_var,
        ssa_se,
        solve=solve,
        find_equilibria=find_equilibria,
        methods=(Algebraic, MultiStartNewton),
        backend=BACKEND,
        tolerances=(0.1, 0.3, 0.02),
    )
    assert verdict.verdict == "invalid"
    assert verdict.spurious_oscillation and verdict.initial_condition_dependence
    assert any("bistable" in line for line in verdict.evidence)
    assert oscillation(cm[:, 0]).relative > 0.2


def test_poisson_state_and_physical_checks() -> None:
    model = moment_equations(brusselator(), 3, closure=Normal())
    info = moment_info(model)
    state = dict(
        zip(
            model.variables, poisson_state(info, model.variables, np.array([4.0, 9.0])), strict=True
        )
    )
    assert state["var_X"] == 4.0 and state["cov_X_Y"] == 0.0 and state["cm_X_X_X"] == 4.0
    assert is_physical(state, info)
    state["cov_X_Y"] = 7.0  # |cov| > sqrt(var_X var_Y) = 6
    assert not is_physical(state, info)
    raw = moment_equations(brusselator(), 2, closure=Normal(), central=False)
    values = poisson_state(moment_info(raw), raw.variables, np.array([4.0, 9.0]))
    assert dict(zip(raw.variables, values, strict=True))["raw_X_X"] == pytest.approx(20.0)


def test_bad_input() -> None:
    net = dimerisation()
    common = {"t_span": (0.0, 1.0), "num_runs": 10, "backend": BACKEND}
    with pytest.raises(InputError, match="volumes"):
        closure_validity(net, volumes=(-1.0,), **common)
    with pytest.raises(InputError, match="closure"):
        closure_validity(net, closures=("normal",), **common)
    with pytest.raises(InputError, match="order >= 2"):
        closure_validity(net, closures=(LogNormal(),), order=1, **common)
    with pytest.raises(InputError, match="t_span"):
        closure_validity(net, volumes=(1.0,), t_span=(1.0, 0.0), num_runs=10)
    with pytest.raises(InputError, match="unknown species"):
        closure_validity(net, initial_concentrations={"Z": 1.0}, **common)
    with pytest.raises(InputError, match="ReactionNetwork"):
        closure_validity(net.rate_equations(), **common)
    with pytest.raises(InputError, match="twice"):
        closure_validity(net, closures=(Normal(), Normal()), **common)


def test_a_closure_that_blows_up_is_judged_failed_with_where_it_stopped() -> None:
    """Order-2 normal closure of dimerisation at Omega = 0.5 (mean ~ 0.6 molecules)."""
    net = dimerisation().with_volume(0.5)
    model = moment_equations(net, 2, closure=Normal())
    grid = np.linspace(0.0, 20.0, 101)
    ones = np.ones((len(grid), 1))
    verdict, cm, _ = judge(
        "normal",
        0.5,
        model,
        net,
        {"Omega": 0.5},
        grid,
        0.6 * ones,
        0.01 * ones,
        0.4 * ones,
        0.01 * ones,
        solve=solve,
        find_equilibria=find_equilibria,
        methods=(Algebraic, MultiStartNewton),
        backend=BACKEND,
        tolerances=(0.1, 0.3, 0.02),
    )
    assert verdict.verdict == "failed"
    assert verdict.evidence[0].startswith("integration stopped")
    assert np.isnan(cm[-1]).all() and np.isfinite(cm[0]).all()  # what was finished is kept
