"""continue_branch: analytic bifurcation values, independent eigenvalue bisection, errors."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.analysis import continuation
from stabkit.analysis.continuation import PALC, Branch, BranchPoint, continue_branch
from stabkit.analysis.equilibria import find_equilibria
from stabkit.errors import ConvergenceError, InputError
from stabkit.model.model import Model
from tests.analysis.conftest import BACKEND

SIGMA, BETA = 10.0, 8.0 / 3.0
RHO_HOPF = SIGMA * (SIGMA + BETA + 3) / (SIGMA - BETA - 1)


@pytest.fixture(scope="module")
def fold_models() -> dict[int, Model]:
    return {
        s: Model.from_equations({"x": f"p {'+' if s > 0 else '-'} x^2"}, parameters={"p": -1.0})
        for s in (1, -1)
    }


@pytest.fixture(scope="module")
def cusp() -> Model:
    return Model.from_equations({"x": "p + c*x - x^3"}, parameters={"p": -3.0, "c": 1.0})


@pytest.fixture(scope="module")
def delayed_logistic() -> Model:
    return Model.from_equations(
        {"x": "y", "y": "r*y*(1 - x)"}, parameters={"r": 1.5}, kind="map", name="delayed_logistic"
    )


def test_docstring_examples():
    result = doctest.testmod(continuation, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- Brusselator
def brusselator_max_real_part(a: float, b: float) -> float:
    """Independent: scipy eigenvalues of the analytic Jacobian at (a, b/a)."""
    jac = np.array([[b - 1.0, a * a], [-b, -a * a]])
    return float(np.max(scipy.linalg.eigvals(jac).real))


@pytest.mark.parametrize("a", [1.0, 2.0])
def test_brusselator_hopf(brusselator, a):
    br = continue_branch(
        brusselator, "b", [a, 0.5 / a], params={"a": a, "b": 0.5}, to=2 + a * a, backend=BACKEND
    )
    assert isinstance(br, Branch) and br.status == "ok" and "reached b" in br.message
    assert br.parameter_values[-1] == pytest.approx(2 + a * a, abs=1e-10)
    # every point is the equilibrium (a, b/a)
    np.testing.assert_allclose(br.states[:, 0], a, atol=1e-9)
    np.testing.assert_allclose(br.states[:, 1], br.parameter_values / a, atol=1e-9)
    (hopf,) = br.special_points
    assert hopf.kind == "H" and hopf.located
    assert abs(hopf.parameter_value - (1 + a * a)) < 1e-8
    bisected = scipy.optimize.brentq(
        lambda b: brusselator_max_real_part(a, b), 0.5, 2 + a * a, xtol=1e-13
    )
    assert abs(hopf.parameter_value - bisected) < 1e-8
    assert hopf.coefficients["omega"] == pytest.approx(a, rel=1e-8)
    np.testing.assert_allclose(np.sort(hopf.eigenvalues.imag), [-a, a], rtol=1e-8)
    # closed form under <q, q> = 1, <p, q> = 1: l1 = -(a^2 + 2) / (2 a (2 a^2 + 1))
    assert hopf.first_lyapunov_coefficient == pytest.approx(
        -(a * a + 2) / (2 * a * (2 * a * a + 1)), rel=1e-7
    )
    assert hopf.criticality == "supercritical"
    assert hopf.params == {"a": a, "b": hopf.parameter_value}
    # stability switches at the Hopf point and nowhere else
    np.testing.assert_array_equal(br.stable, br.parameter_values < hopf.parameter_value)
    np.testing.assert_array_equal(br.num_unstable, np.where(br.stable, 0, 2)[:] * (
        br.parameter_values > hopf.parameter_value))  # fmt: skip
    assert br.states[hopf.index] == pytest.approx(hopf.state)


def test_brusselator_l1_matches_normal_forms(brusselator):
    nf = pytest.importorskip("stabkit.analysis.normal_forms")
    br = continue_branch(brusselator, "b", [1.0, 1.5], params={"b": 1.5}, to=2.5, backend=BACKEND)
    hopf = br.special("H")[0]
    assert hopf.first_lyapunov_coefficient == pytest.approx(
        nf.first_lyapunov_coefficient(brusselator, hopf.state, hopf.params), rel=1e-6
    )


def test_iteration_frame_and_plot(brusselator):
    br = continue_branch(
        brusselator, "b", [1.0, 1.0], params={"b": 1.0}, to=3.0, method=PALC(ds_max=0.2),
        backend=BACKEND,
    )  # fmt: skip
    points = list(br)
    assert len(points) == len(br) and isinstance(points[0], BranchPoint)
    b, state, stable, values = points[0]
    np.testing.assert_array_equal(state, br.states[0])
    assert b == br.parameter_values[0] and stable and values.shape == (2,)
    frame = br.to_frame()
    assert list(frame.columns[:3]) == ["b", "x", "y"]
    assert frame["special"].tolist().count("H") == 1 and frame["stable"].dtype == bool
    assert "H@2" in repr(br)
    pytest.importorskip("matplotlib")
    ax = br.plot(variable="y")
    assert ax.get_xlabel() == "b" and ax.get_ylabel() == "y"
    styles = {line.get_linestyle() for line in ax.get_lines()}
    assert {"-", "--"} <= styles
    with pytest.raises(InputError, match="did you mean"):
        br.plot(variable="yy")


def test_start_from_find_equilibria(brusselator):
    eq = find_equilibria(brusselator, {"b": 1.2}, bounds=[(0, 5), (0, 5)]).equilibria[0]
    br = continue_branch(
        brusselator, "b", eq, params={"b": 1.2}, to=(0.5, 2.5), backend=BACKEND,
        method=PALC(direction=-1),
    )  # fmt: skip
    assert br.status == "ok" and br.parameter_values[-1] == pytest.approx(0.5, abs=1e-10)
    assert br.special_points == ()


def test_numba_and_numpy_backends_agree(brusselator):
    runs = [
        continue_branch(brusselator, "b", [1.0, 1.0], params={"b": 1.0}, to=3.0, backend=bk)
        for bk in ("numpy", "numba")
    ]
    np.testing.assert_allclose(runs[0].states, runs[1].states, atol=1e-12)
    assert runs[0].special_points[0].parameter_value == pytest.approx(
        runs[1].special_points[0].parameter_value, abs=1e-12
    )


def test_compiled_loop_matches_python_loop_on_curved_branches_and_maps(lorenz, logistic):
    """The numba PALC kernel and the Python trace_curve take the same steps."""
    r = 3.2
    x1 = ((r + 1) + math.sqrt((r + 1) * (r - 3))) / (2 * r)
    cases = [
        (lorenz, "rho", [2.0, 2.0, 1.5], {"rho": 2.5}, 30.0, 1),  # Newton polishes it
        (logistic, "r", [x1], {"r": r}, 3.5, 2),
    ]
    for model, name, start, params, to, period in cases:
        runs = [
            continue_branch(
                model, name, start, params=params, to=to, period=period, backend=bk,
                method=PALC(ds_max=0.5),
            )
            for bk in ("numpy", "numba")
        ]  # fmt: skip
        assert len(runs[0]) == len(runs[1]) and runs[0].status == runs[1].status == "ok"
        np.testing.assert_allclose(runs[0].states, runs[1].states, atol=1e-9)
        np.testing.assert_allclose(runs[0].parameter_values, runs[1].parameter_values, atol=1e-9)
        assert [s.kind for s in runs[0].special_points] == [s.kind for s in runs[1].special_points]


# --------------------------------------------------------------------------- folds
@pytest.mark.parametrize("s", [1, -1])
def test_fold_of_saddle_node_normal_form(fold_models, s):
    model = fold_models[s]
    # x' = p + s x^2: equilibria x = +-sqrt(-s p); start on the stable half
    p0 = -1.0 * s
    x0 = -1.0 if s > 0 else 1.0
    br = continue_branch(
        model, "p", [x0], params={"p": p0}, to=(-1.5, 1.5), method=PALC(direction=s),
        backend=BACKEND,
    )  # fmt: skip
    assert br.status == "ok"
    (fold,) = br.special_points
    assert fold.kind == "LP" and abs(fold.parameter_value) < 1e-10 and abs(fold.state[0]) < 1e-5
    assert fold.coefficients["a"] == pytest.approx(s, rel=1e-6)
    assert fold.criticality is None and fold.first_lyapunov_coefficient is None
    # stable before the fold, unstable after; every point on the parabola
    np.testing.assert_array_equal(br.stable[: fold.index], True)
    assert not np.any(br.stable[fold.index + 1 :])
    np.testing.assert_allclose(br.parameter_values + s * br.states[:, 0] ** 2, 0.0, atol=1e-9)
    assert br.parameter_values[-1] == pytest.approx(-1.5 * s, abs=1e-10)


def test_fold_of_a_python_function_model():
    def rhs(t, y, p):
        return [p[0] - y[0] ** 2]

    model = Model.from_function(rhs, variables=["x"], parameters={"p": 1.0}, name="fold_fn")
    br = continue_branch(model, "p", [1.0], params={"p": 1.0}, to=(-1.0, 2.0), method=PALC(
        direction=-1), backend=BACKEND)  # fmt: skip
    (fold,) = br.special("LP")
    assert abs(fold.parameter_value) < 1e-7


@settings(max_examples=12)
@given(c=st.floats(-2.0, 2.0).filter(lambda c: abs(c) > 0.05), ds=st.floats(0.01, 0.3))
def test_cusp_family_points_on_curve_and_fold_count(cusp, c, ds):
    """x' = p + c x - x^3: two folds at p = +-2 (c/3)^(3/2) when c > 0, none when c < 0."""
    x0 = float(
        np.real(np.roots([-1.0, 0.0, c, -3.0])[np.isreal(np.roots([-1.0, 0.0, c, -3.0]))][0])
    )
    br = continue_branch(
        cusp, "p", [x0], params={"p": -3.0, "c": c}, to=3.0,
        method=PALC(ds=min(ds, 0.1), ds_max=ds), backend=BACKEND,
    )  # fmt: skip
    assert br.status == "ok"
    x, p = br.states[:, 0], br.parameter_values
    assert np.max(np.abs(p + c * x - x**3)) < 1e-9 * (1 + np.max(np.abs(x)) ** 3)
    folds = br.special("LP")
    if c > 0:
        expected = sorted([-2 * (c / 3) ** 1.5, 2 * (c / 3) ** 1.5])
        assert len(folds) == 2
        np.testing.assert_allclose(sorted(f.parameter_value for f in folds), expected, atol=1e-9)
        assert np.sum(~br.stable) >= 1  # the middle, unstable part
    else:
        assert folds == () and np.all(br.stable)


# --------------------------------------------------------------------------- Lorenz
@pytest.fixture(scope="module")
def lorenz_trivial(lorenz) -> Branch:
    return continue_branch(
        lorenz, "rho", [0.0, 0.0, 0.0], params={"rho": 0.5}, to=6.0,
        method=PALC(ds_max=0.5), backend=BACKEND,
    )  # fmt: skip


def test_lorenz_pitchfork_and_neutral_saddle(lorenz_trivial):
    br = lorenz_trivial
    kinds = [s.kind for s in br.special_points]
    assert kinds == ["BP", "NSA"]
    bp, nsa = br.special_points
    assert abs(bp.parameter_value - 1.0) < 1e-10
    np.testing.assert_allclose(br.states, 0.0, atol=1e-12)
    # the neutral saddle: lambda_1 = beta, i.e. rho = 1 + beta (beta + sigma + 1) / sigma
    assert nsa.parameter_value == pytest.approx(1 + BETA * (BETA + SIGMA + 1) / SIGMA, abs=1e-9)
    assert "neutral saddle" in nsa.message and nsa.first_lyapunov_coefficient is None
    np.testing.assert_array_equal(br.stable, br.parameter_values < bp.parameter_value)


@pytest.mark.parametrize("direction", [1, -1])
def test_lorenz_branch_switching_and_hopf(lorenz, lorenz_trivial, direction):
    bp = lorenz_trivial.special("BP")[0]
    br = continue_branch(
        lorenz, "rho", bp, to=28.0, method=PALC(ds_max=1.0, direction=direction),
        backend=BACKEND,
    )  # fmt: skip
    assert br.status == "ok" and "switched branches" in br.message
    assert br.special_points[0].kind == "BP" and br.special_points[0].index == 0
    rho, x, y, z = br.parameter_values, *br.states.T
    sign = np.sign(x[1:])
    assert np.all(sign == direction)  # direction picks C+ or C-
    np.testing.assert_allclose(x[1:], direction * np.sqrt(BETA * (rho[1:] - 1)), rtol=1e-8)
    np.testing.assert_allclose(y, x, atol=1e-9)
    np.testing.assert_allclose(z, rho - 1, atol=1e-9)
    (hopf,) = br.special("H")
    assert abs(hopf.parameter_value - RHO_HOPF) < 1e-8
    assert hopf.parameter_value == pytest.approx(24.7368, abs=1e-4)

    def max_real(r: float) -> float:  # independent: scipy eigenvalues on C+
        c = math.sqrt(BETA * (r - 1))
        jac = np.array([[-SIGMA, SIGMA, 0], [1, -1, -c], [c, c, -BETA]])
        return float(np.max(scipy.linalg.eigvals(jac).real))

    assert abs(hopf.parameter_value - scipy.optimize.brentq(max_real, 2.0, 28.0, xtol=1e-13)) < 1e-8
    assert hopf.criticality == "subcritical" and hopf.first_lyapunov_coefficient > 0
    assert br.stable[1 : hopf.index].all() and not br.stable[hopf.index + 1 :].any()


# --------------------------------------------------------------------------- maps
def test_logistic_flip_and_transcritical(logistic):
    br = continue_branch(logistic, "r", [0.5], params={"r": 2.0}, to=3.6, backend=BACKEND)
    (pd,) = br.special_points
    assert pd.kind == "PD" and abs(pd.parameter_value - 3.0) < 1e-10
    assert pd.state[0] == pytest.approx(2 / 3, abs=1e-9)
    assert pd.coefficients["c"] == pytest.approx(9.0, rel=1e-6)
    assert pd.criticality == "supercritical"
    np.testing.assert_allclose(pd.eigenvalues, [-1.0], atol=1e-9)
    # the trivial branch x = 0 meets x = 1 - 1/r at r = 1: a transcritical branch point
    trivial = continue_branch(logistic, "r", [0.0], params={"r": 0.5}, to=2.0, backend=BACKEND)
    (bp,) = trivial.special_points
    assert bp.kind == "BP" and abs(bp.parameter_value - 1.0) < 1e-10
    other = continue_branch(logistic, "r", bp, to=2.0, backend=BACKEND)
    r, x = other.parameter_values[1:], other.states[1:, 0]
    np.testing.assert_allclose(x, 1 - 1 / r, atol=1e-9)
    assert r[-1] == pytest.approx(2.0, abs=1e-10)


def test_logistic_period_two_flip(logistic):
    r = 3.2
    x1 = ((r + 1) + math.sqrt((r + 1) * (r - 3))) / (2 * r)
    br = continue_branch(logistic, "r", [x1], params={"r": r}, to=3.5, period=2, backend=BACKEND)
    assert br.period == 2
    (pd,) = br.special_points
    assert pd.kind == "PD" and abs(pd.parameter_value - (1 + math.sqrt(6))) < 1e-10
    assert pd.criticality == "supercritical"
    # the cycle's multiplier is 4 + 2r - r^2 (= -1 at the flip): check it all along
    rs = br.parameter_values
    np.testing.assert_allclose(br.eigenvalues[:, 0].real, 4 + 2 * rs - rs**2, atol=1e-8)


def test_neimark_sacker_of_delayed_logistic(delayed_logistic):
    br = continue_branch(
        delayed_logistic, "r", [1 / 3, 1 / 3], params={"r": 1.5}, to=2.5, backend=BACKEND
    )
    (ns,) = br.special_points
    assert ns.kind == "NS" and abs(ns.parameter_value - 2.0) < 1e-10
    np.testing.assert_allclose(np.abs(ns.eigenvalues), 1.0, atol=1e-9)
    assert ns.coefficients["theta"] == pytest.approx(math.pi / 3, abs=1e-8)
    assert ns.criticality == "supercritical"
    np.testing.assert_array_equal(br.stable, br.parameter_values < ns.parameter_value)


# --------------------------------------------------------------------------- endings, errors
def test_left_bounds_and_max_points(brusselator):
    br = continue_branch(
        brusselator, "b", [1.0, 1.0], params={"b": 1.0}, to=5.0, bounds={"y": (0.0, 3.0)},
        backend=BACKEND,
    )  # fmt: skip
    assert br.status == "left_bounds" and "state bounds" in br.message
    assert br.states[-1, 1] == pytest.approx(3.0, abs=1e-10)
    short = continue_branch(
        brusselator, "b", [1.0, 1.0], params={"b": 1.0}, to=5.0,
        method=PALC(max_points=5), backend=BACKEND,
    )  # fmt: skip
    assert short.status == "max_points" and len(short) == 5 and "max_points=5" in short.message


def test_step_collapse_keeps_the_branch():
    """x' = p - sqrt(x): the branch x = p^2 ends at p = 0, where f_x is infinite."""
    model = Model.from_equations({"x": "p - sqrt(x)"}, parameters={"p": 1.0})
    kwargs = dict(params={"p": 1.0}, to=-1.0, method=PALC(ds_min=1e-6), backend=BACKEND)
    br = continue_branch(model, "p", [1.0], **kwargs)
    assert br.status == "step_collapsed" and "ds_min" in br.message
    assert len(br) > 5 and np.all(br.parameter_values > -1e-6)
    assert br.parameter_values[-1] < 0.05
    np.testing.assert_allclose(br.states[:, 0], br.parameter_values**2, atol=1e-8)
    with pytest.raises(ConvergenceError) as info:
        continue_branch(model, "p", [1.0], throw=True, **kwargs)
    assert isinstance(info.value.result, Branch) and len(info.value.result) == len(br)


def test_bad_input(brusselator, fold_models):
    with pytest.raises(InputError, match=r"has no such parameter; it has a, b; did you mean 'b'"):
        continue_branch(brusselator, "bb", [1.0, 1.0], backend=BACKEND)
    with pytest.raises(InputError, match="not an equilibrium"):
        continue_branch(fold_models[1], "p", [0.5], params={"p": 1.0}, to=2.0, backend=BACKEND)
    with pytest.raises(InputError, match="different from the start"):
        continue_branch(brusselator, "b", [1.0, 3.0], to=3.0, backend=BACKEND)
    with pytest.raises(InputError, match="inside"):
        continue_branch(brusselator, "b", [1.0, 3.0], to=(4.0, 5.0), backend=BACKEND)
    with pytest.raises(InputError, match="choose from"):
        continue_branch(brusselator, "b", [1.0, 3.0], to=4.0, detect=("PD",), backend=BACKEND)
    with pytest.raises(InputError, match="PALC"):
        continue_branch(brusselator, "b", [1.0, 3.0], to=4.0, method="palc", backend=BACKEND)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="outside its bounds"):
        continue_branch(brusselator, "b", [1.0, 3.0], to=4.0, bounds={"y": (0, 1)}, backend=BACKEND)
    with pytest.raises(InputError, match="no variable"):
        continue_branch(brusselator, "b", [1.0, 3.0], to=4.0, bounds={"z": (0, 1)}, backend=BACKEND)


def test_singular_starts(fold_models, lorenz):
    # at the fold itself f_x = 0, but [f_x, f_p] has full rank: the branch goes on
    br = continue_branch(fold_models[1], "p", [0.0], params={"p": 0.0}, to=(-1.0, 1.0),
                         backend=BACKEND)  # fmt: skip
    assert br.status == "ok" and len(br) > 3
    # at a branch point the direction is not unique: a clear error
    with pytest.raises(InputError, match="branch point"):
        continue_branch(lorenz, "rho", [0.0, 0.0, 0.0], params={"rho": 1.0}, to=2.0,
                        backend=BACKEND)  # fmt: skip


def test_save_and_restart_from_a_special_point(brusselator, tmp_path):
    br = continue_branch(brusselator, "b", [1.0, 1.0], params={"b": 1.0}, to=3.0, backend=BACKEND)
    path = br.save(tmp_path / "branch.json")
    text = path.read_text()
    assert '"special_points"' in text and '"H"' in text
    br.save(tmp_path / "branch.csv")
    hopf = br.special("H")[0]
    # from the Hopf point of b, continue in a: the equilibrium (a, b/a) with b = 2 fixed,
    # which is a Hopf point again where b = 1 + a^2, i.e. a = 1 (the start) only
    other = continue_branch(brusselator, "a", hopf, to=1.5, backend=BACKEND)
    assert other.status == "ok" and other.params == {"b": pytest.approx(2.0, abs=1e-12)}
    np.testing.assert_allclose(other.states[:, 1], 2.0 / other.parameter_values, atol=1e-9)
    assert other.stable[1:].all()  # a > 1: b = 2 < 1 + a^2, stable


def test_plot_several_branches(lorenz_trivial, lorenz):
    pytest.importorskip("matplotlib")
    from stabkit.report.continuation_figures import plot_branches

    ax = plot_branches([lorenz_trivial, lorenz_trivial], variable="x")
    assert ax.get_xlabel() == "rho" and len(ax.get_lines()) >= 4
    with pytest.raises(InputError, match="at least one"):
        plot_branches([])
    with pytest.raises(InputError, match="3 variables"):
        lorenz_trivial.plot(variable=5)


def test_van_der_pol_hopf_at_mu_zero_is_degenerate():
    # x'' - mu (1 - x^2) x' + x = 0: the origin's eigenvalues are mu/2 +- i sqrt(1 - mu^2/4),
    # crossing at mu = 0 where the system is the linear oscillator, so l1 = 0 (a degenerate,
    # vertical Hopf: the cycles born there have amplitude 2, tested in test_cycles.py)
    import stabkit

    model = stabkit.library.van_der_pol()
    branch = stabkit.continue_branch(model, "mu", [0.0, 0.0], params={"mu": -1.0}, to=1.0)
    assert branch.status == "ok"
    (hopf,) = [sp for sp in branch.special_points if sp.kind == "H"]
    assert abs(hopf.parameter_value) < 1e-8
    assert abs(hopf.first_lyapunov_coefficient) < 1e-10
    assert hopf.criticality == "degenerate"
    np.testing.assert_allclose(sorted(np.abs(hopf.eigenvalues.imag)), [1.0, 1.0], atol=1e-8)
