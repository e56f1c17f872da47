"""Continuation of cycles: folds of cycles (Bautin normal form), period doubling (Rossler)
with the switch onto the doubled branch, Neimark-Sacker (a torus normal form), and the
checks of the ends of a branch."""

from __future__ import annotations

import types

import numpy as np
import pytest
from scipy.integrate import simpson, solve_ivp

from stabkit.analysis._palc import PALC
from stabkit.analysis.cycles import (
    Collocation,
    CycleBranch,
    continue_cycles,
    find_cycle,
    switch_period_doubling,
)
from stabkit.errors import InputError
from stabkit.integrate.solve import solve
from stabkit.model import library
from stabkit.model.model import Model

from .test_cycles import variational_multipliers

BACKEND = "numpy"


@pytest.fixture(scope="module")
def bautin() -> Model:
    """z' = (b1 + i) z + b2 z |z|^2 - z |z|^4: cycles at b1 + b2 r^2 - r^4 = 0."""
    r2 = "(x^2 + y^2)"
    return Model.from_equations(
        {
            "x": f"b1*x - y + b2*x*{r2} - x*{r2}^2",
            "y": f"x + b1*y + b2*y*{r2} - y*{r2}^2",
        },
        parameters={"b1": 0.0, "b2": 1.0},
        name="bautin_normal_form",
    )


@pytest.fixture(scope="module")
def bautin_branch(bautin: Model) -> CycleBranch:
    hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"b1": 0.0, "b2": 1.0})
    return continue_cycles(
        bautin, "b1", hopf, to=0.3, backend=BACKEND,
        method=PALC(ds=0.02, ds_max=0.1, max_points=80),
    )  # fmt: skip


def test_fold_of_cycles_in_the_bautin_normal_form(bautin_branch: CycleBranch) -> None:
    br = bautin_branch
    assert br.status == "ok", br.message
    lpc = [sp for sp in br.special_points if sp.kind == "LPC"]
    assert len(lpc) == 1
    sp = lpc[0]
    assert sp.located
    assert sp.parameter_value == pytest.approx(-0.25, abs=1e-7)  # b1 = -b2^2 / 4
    radius2 = np.mean(np.sum(sp.cycle.states**2, axis=1))
    assert radius2 == pytest.approx(0.5, abs=1e-6)  # r^2 = b2 / 2
    mult = np.sort(np.abs(sp.multipliers))
    assert mult == pytest.approx([1.0, 1.0], abs=1e-5)  # +1 twice at the fold
    # the small cycles near the (subcritical) Hopf point are unstable, the large ones stable
    assert not br.stable[1] and br.stable[-1]
    assert np.all(np.abs(br.periods - 2 * np.pi) < 1e-8)
    # every point on the analytic curve b1 = r^4 - b2 r^2
    r2 = np.array([np.mean(np.sum(c.states**2, axis=1)) for c in br])
    assert np.allclose(br.parameter_values, r2**2 - r2, atol=1e-8)


def test_branch_results_frame_dict_and_iteration(tmp_path, bautin_branch: CycleBranch) -> None:
    br = bautin_branch
    frame = br.to_frame()
    assert list(frame.columns)[:4] == ["b1", "period", "amplitude_x", "amplitude_y"]
    assert len(frame) == len(br) == br.parameter_values.size
    assert br[0].period == pytest.approx(2 * np.pi)
    assert sum(1 for _ in br) == len(br)
    text = br.save(tmp_path / "branch.json").read_text()
    assert '"LPC"' in text
    assert br.save(tmp_path / "branch.csv").exists()
    assert "LPC" in repr(br)


@pytest.fixture(scope="module")
def rossler_branch() -> tuple[Model, CycleBranch]:
    model = library.rossler(c=2.5)
    traj = solve(model, [1.0, 1.0, 0.0], (0.0, 150.0), t_eval=np.linspace(0, 150, 3001))
    cycle = find_cycle(model, start=traj, backend=BACKEND)
    assert cycle.status == "ok", cycle.message
    branch = continue_cycles(
        model, "c", cycle, to=3.0, backend=BACKEND, method=PALC(ds=0.05, ds_max=0.2)
    )
    return model, branch


def test_rossler_period_doubling_near_2_83(rossler_branch: tuple[Model, CycleBranch]) -> None:
    model, br = rossler_branch
    assert br.status == "ok", br.message
    pd = [sp for sp in br.special_points if sp.kind == "PD"]
    assert len(pd) == 1 and pd[0].located
    assert pd[0].parameter_value == pytest.approx(2.832, abs=2e-3)  # first flip near c = 2.83
    assert np.min(np.abs(pd[0].multipliers + 1.0)) < 1e-6
    # multipliers on the branch against the variational equations integrated by scipy
    for cycle in (br[0], pd[0].cycle):
        reference = np.sort_complex(variational_multipliers(model, cycle))
        assert np.allclose(np.sort_complex(cycle.floquet_multipliers), reference, atol=1e-7)
    # Liouville: prod mu = exp(int_0^T div f dt), div f = a + x - c for Rossler
    for cycle in br.cycles[::3]:
        t, y = cycle.profile(4001)
        a, c = cycle.params["a"], cycle.params["c"]
        liouville = np.exp(simpson(a + y[:, 0] - c, x=t))
        assert np.prod(cycle.floquet_multipliers).real == pytest.approx(liouville, rel=1e-5)
    # independent location: scipy's multipliers straddle -1 around the located c
    c_pd = pd[0].parameter_value
    for dc, sign in ((-2e-3, 1.0), (2e-3, -1.0)):
        near = find_cycle(model, {"c": c_pd + dc}, start=pd[0].cycle, backend=BACKEND)
        flip = np.min(variational_multipliers(model, near).real)
        assert sign * (flip + 1.0) > 0
    # stable before the flip, unstable after it
    before = br.parameter_values < pd[0].parameter_value
    assert np.all(br.stable[before]) and not np.any(br.stable[~before])


def test_switch_onto_the_period_doubled_branch(rossler_branch: tuple[Model, CycleBranch]) -> None:
    model, br = rossler_branch
    pd = next(sp for sp in br.special_points if sp.kind == "PD")
    doubled = switch_period_doubling(pd, backend=BACKEND)
    assert doubled.status == "ok"
    assert doubled.period == pytest.approx(2 * pd.period, rel=1e-3)
    assert doubled.params["c"] > pd.parameter_value  # supercritical flip
    assert "above" in doubled.message
    branch = continue_cycles(
        model, "c", pd, to=3.0, backend=BACKEND, method=PALC(ds=0.05, ds_max=0.2),
        collocation=Collocation(num_intervals=80), detect=False,
    )  # fmt: skip
    assert branch.status == "ok", branch.message
    last = branch[-1]
    assert last.stable and last.params["c"] >= 3.0
    # independent check: scipy returns to the start after 2T but not after T
    p = [last.params[k] for k in model.parameters]

    def rhs(t, y):
        return [-y[1] - y[2], y[0] + p[0] * y[1], p[1] + y[2] * (y[0] - p[2])]

    y0 = last.states[0]
    sol = solve_ivp(rhs, (0, last.period), y0, rtol=1e-11, atol=1e-11, dense_output=True)
    assert np.max(np.abs(sol.y[:, -1] - y0)) < 1e-6
    assert np.max(np.abs(sol.sol(last.period / 2) - y0)) > 0.1


def test_neimark_sacker_of_a_torus_normal_form() -> None:
    """Cycle z1 = e^{it} (r = 1, period 2 pi) with z2 = 0; z2 has multipliers
    exp(2 pi (nu +- i omega)): a Neimark-Sacker point at nu = 0 with angle 2 pi omega."""
    omega = 0.3
    model = Model.from_equations(
        {
            "x1": "x1 - y1 - x1*(x1^2 + y1^2)",
            "y1": "x1 + y1 - y1*(x1^2 + y1^2)",
            "x2": f"nu*x2 - {omega}*y2 - x2*(x2^2 + y2^2)",
            "y2": f"{omega}*x2 + nu*y2 - y2*(x2^2 + y2^2)",
        },
        parameters={"nu": -0.3},
        name="torus_normal_form",
    )
    t = np.linspace(0.0, 2 * np.pi, 30)
    start = (t, np.c_[np.cos(t), np.sin(t), 0 * t, 0 * t])
    cycle = find_cycle(model, start=start, backend=BACKEND, method=Collocation(num_intervals=20))
    assert cycle.status == "ok"
    branch = continue_cycles(
        model, "nu", cycle, to=0.2, backend=BACKEND,
        method=PALC(ds=0.1, ds_max=0.2), collocation=Collocation(num_intervals=20),
    )  # fmt: skip
    ns = [sp for sp in branch.special_points if sp.kind == "NS"]
    assert len(ns) == 1, branch.special_points
    assert ns[0].parameter_value == pytest.approx(0.0, abs=1e-7)
    critical = ns[0].multipliers[np.abs(np.abs(ns[0].multipliers) - 1.0) < 1e-6]
    angles = np.sort(np.abs(np.angle(critical)))
    assert angles[-1] == pytest.approx(2 * np.pi * omega, abs=1e-6)
    assert "theta" in ns[0].message
    assert branch.stable[0] and not branch.stable[-1]


def test_van_der_pol_branch_to_a_target_and_its_end(tmp_path) -> None:
    model = library.van_der_pol(mu=1.0)
    t = np.linspace(0.0, 2 * np.pi, 40)
    cycle = find_cycle(model, start=(t, np.c_[2 * np.cos(t), -2 * np.sin(t)]), backend=BACKEND)
    up = continue_cycles(model, "mu", cycle, to=2.0, backend=BACKEND, method=PALC(ds=0.1))
    assert up.status == "ok" and "reached" in up.message
    assert up.parameter_values[-1] >= 2.0
    assert np.all(np.diff(up.periods) > 0)  # the period grows with mu
    short = continue_cycles(
        model, "mu", cycle, backend=BACKEND, method=PALC(ds=0.1, max_points=3), detect=False
    )
    assert short.status == "max_points" and len(short) == 3


def test_continuation_bad_input(bautin: Model) -> None:
    hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"b1": 0.0, "b2": 1.0})
    with pytest.raises(InputError, match="did you mean 'b1'"):
        continue_cycles(bautin, "b11", hopf, backend=BACKEND)
    with pytest.raises(InputError, match="expected a Cycle"):
        continue_cycles(bautin, "b1", np.zeros(2), backend=BACKEND)
    with pytest.raises(InputError, match="PALC"):
        continue_cycles(bautin, "b1", hopf, method=Collocation(), backend=BACKEND)  # type: ignore[arg-type]
    failed = find_cycle(bautin, start=(np.arange(5.0), np.zeros((5, 2))), backend=BACKEND)
    with pytest.raises(InputError, match="converged cycle"):
        continue_cycles(bautin, "b1", failed, backend=BACKEND)
    with pytest.raises(InputError, match="PD"):
        switch_period_doubling(hopf)  # type: ignore[arg-type]


def test_from_a_hopf_point_of_continue_branch_amplitude_matches_l1() -> None:
    """Brusselator (a = 1): Hopf at b = 2 with l1 = -1/2. Near onset the cycle is
    x = 2 Re(z q) with |z|^2 = -beta / (omega l1), beta = Re lambda = (b - 2) / 2, so the
    amplitude (max - min) of variable k is 4 |z| |q_k| with <q, q> = 1."""
    from stabkit.analysis.continuation import continue_branch

    model = library.brusselator(a=1.0, b=1.0)
    eq = continue_branch(model, "b", {"x": 1.0, "y": 1.0}, to=2.5, backend=BACKEND)
    hopf = eq.special("H")[0]
    assert hopf.parameter_value == pytest.approx(2.0, abs=1e-8)
    l1 = hopf.first_lyapunov_coefficient
    jac = np.array([[1.0, 1.0], [-2.0, -1.0]])  # at (x, y) = (1, 2), b = 2
    values, vectors = np.linalg.eig(jac)
    q = vectors[:, np.argmax(values.imag)]
    q = q / np.linalg.norm(q)
    delta = 0.004
    cycle = find_cycle(model, {"b": 2.0 + delta}, start=hopf, backend=BACKEND)
    assert cycle.status == "ok", cycle.message
    predicted = 4.0 * np.sqrt(-(delta / 2) / l1) * np.abs(q)
    assert cycle.amplitude == pytest.approx(predicted, rel=1e-2)
    branch = continue_cycles(
        model, "b", hopf, to=2.6, backend=BACKEND, method=PALC(ds=0.05, ds_max=0.2)
    )
    assert branch.status == "ok", branch.message
    assert np.all(branch.stable)  # supercritical: the cycles are stable
    assert branch.periods[0] == pytest.approx(2 * np.pi, rel=1e-3)
    assert np.all(np.diff(branch.amplitudes[:, 0]) > 0)


def test_remeshing_follows_van_der_pol_into_relaxation_oscillations() -> None:
    """mu from 1 to 10 on 40 intervals: the mesh moves to the fast jumps; the period at
    the end agrees with the return time measured by scipy."""
    model = library.van_der_pol(mu=1.0)
    t = np.linspace(0.0, 2 * np.pi, 40)
    cycle = find_cycle(model, start=(t, np.c_[2 * np.cos(t), -2 * np.sin(t)]), backend=BACKEND)
    branch = continue_cycles(
        model, "mu", cycle, to=10.0, backend=BACKEND, method=PALC(ds=0.2, ds_max=1.0),
        detect=False,
    )  # fmt: skip
    assert branch.status == "ok", branch.message
    last = branch[-1]
    mu = last.params["mu"]
    h = np.diff(last.mesh)
    assert h.max() / h.min() > 10  # adapted, far from uniform

    def rhs(t, y):
        return [y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]]

    def section(t, y):
        return y[1]

    section.direction = 1  # type: ignore[attr-defined]
    sol = solve_ivp(rhs, (0, 120), [2.0, 0.0], rtol=1e-12, atol=1e-12, events=section)
    period = np.diff(sol.t_events[0])[-1]
    assert last.period == pytest.approx(period, rel=1e-5)


def test_a_collapsing_step_keeps_the_branch_and_says_where(bautin: Model) -> None:
    hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"b1": 0.0, "b2": 1.0})
    br = continue_cycles(
        bautin, "b1", hopf, backend=BACKEND, method=PALC(ds=0.5, ds_max=1.0, ds_min=0.4)
    )
    assert br.status == "step_collapsed"
    assert len(br) >= 1 and br.parameter_values.size == len(br)
    assert "b1 = " in br.message and "x = [" not in br.message


def test_to_sets_the_direction_and_bounds_stop_the_branch() -> None:
    model = library.van_der_pol(mu=1.0)
    t = np.linspace(0.0, 2 * np.pi, 40)
    cycle = find_cycle(model, start=(t, np.c_[2 * np.cos(t), -2 * np.sin(t)]), backend=BACKEND)
    down = continue_cycles(
        model, "mu", cycle, to=0.5, backend=BACKEND, method=PALC(ds=0.1), detect=False
    )  # PALC(direction=+1) by default: the end value turns it round
    assert down.status == "ok" and down.parameter_values[-1] <= 0.5
    assert np.all(np.diff(down.parameter_values) < 0)
    boxed = continue_cycles(
        model, "mu", cycle, to=(0.0, 1.3), backend=BACKEND, method=PALC(ds=0.1), detect=False
    )
    assert boxed.status == "ok" and boxed.parameter_values[-1] > 1.3
    assert "1.3" in boxed.message
    with pytest.raises(InputError, match="outside"):
        continue_cycles(model, "mu", cycle, to=(2.0, 3.0), backend=BACKEND)
    with pytest.raises(InputError, match="lo < hi"):
        continue_cycles(model, "mu", cycle, to=(3.0, 2.0), backend=BACKEND)
    with pytest.raises(InputError, match="equals the start"):
        continue_cycles(model, "mu", cycle, to=1.0, backend=BACKEND)


def test_find_cycle_past_a_subcritical_hopf_point_goes_round_the_fold(bautin: Model) -> None:
    """b2 = 1: the cycles born at b1 = 0 exist for b1 < 0, fold at b1 = -1/4 and come back
    as the large stable cycles r^2 = (b2 + sqrt(b2^2 + 4 b1)) / 2, which exist at b1 = 0.1."""
    hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"b1": 0.0, "b2": 1.0})
    c = find_cycle(bautin, {"b1": 0.1}, start=hopf, backend=BACKEND)
    assert c.status == "ok", c.message
    r2 = np.mean(np.sum(c.states**2, axis=1))
    assert r2 == pytest.approx((1 + np.sqrt(1.4)) / 2, abs=1e-8)
    assert c.stable
