"""Moment equations, closures and the LNA against analytic laws, SSA and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from stabkit.analysis._moment_algebra import MomentSpace
from stabkit.analysis.equilibria import find_equilibria
from stabkit.analysis.moments import (
    DerivativeMatching,
    Gamma,
    LogNormal,
    Normal,
    Poisson,
    Zero,
    linear_noise_approximation,
    lna_stationary_covariance,
    means_of,
    moment_equations,
    moment_info,
    variances_of,
)
from stabkit.errors import InputError
from stabkit.integrate.solve import solve
from stabkit.model.reactions import ReactionNetwork

BACKEND = "numpy"
CLOSURES = (Normal(), LogNormal(), Poisson(), Gamma(), DerivativeMatching(), Zero())


def birth_death(k1: float = 10.0, k2: float = 1.0, volume: float = 1.0) -> ReactionNetwork:
    return ReactionNetwork.from_strings(
        "birth_death",
        species={"X": 0},
        reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
        parameters={"k1": k1, "k2": k2},
        volume=volume,
    )


def linear_network(rates: tuple[float, float, float, float] = (2.0, 1.0, 0.5, 0.3)):
    return ReactionNetwork.from_strings(
        "linear",
        species={"A": 3, "B": 1},
        reactions={
            "make": "0 -> A @ k0",
            "forward": "A -> B @ k1",
            "back": "B -> A @ k2",
            "decay": "B -> 0 @ k3",
        },
        parameters=dict(zip(("k0", "k1", "k2", "k3"), rates, strict=True)),
        volume=5.0,
    )


def dimerisation(volume: float = 50.0) -> ReactionNetwork:
    return ReactionNetwork.from_strings(
        "dimer",
        species={"X": 0},
        reactions={"b": "0 -> X @ k1", "d": "2 X -> 0 @ k2"},
        parameters={"k1": 1.0, "k2": 1.0},
        volume=volume,
    )


# --------------------------------------------------------------------------- exact cases
def test_birth_death_closes_exactly_at_orders_one_and_two() -> None:
    net = birth_death()
    k1, k2, omega = sympy.symbols("k1 k2 Omega")
    mean, var = sympy.symbols("mean_X var_X")
    first = moment_equations(net, 1)
    assert first.variables == ("mean_X",)
    assert sympy.simplify(first.equations[0] - (omega * k1 - k2 * mean)) == 0
    second = moment_equations(net, 2)
    assert second.variables == ("mean_X", "var_X")
    assert sympy.simplify(second.equations[1] - (omega * k1 + k2 * mean - 2 * k2 * var)) == 0
    info = moment_info(second)
    assert info.closure == "exact" and info.order == 2 and info.central


@pytest.mark.parametrize("central", [True, False])
def test_birth_death_stationary_mean_equals_variance(central: bool) -> None:
    model = moment_equations(birth_death(k1=7.0, k2=2.0), 2, central=central)
    found = find_equilibria(model, bounds=[(-100, 100)] * 2, backend=BACKEND)
    assert len(found.equilibria) == 1
    state = found.equilibria[0].state
    mean = means_of(model, state)[0]
    variance = variances_of(model, state)[0]
    assert mean == pytest.approx(3.5, rel=1e-10)
    assert variance == pytest.approx(3.5, rel=1e-10)
    assert found.equilibria[0].is_stable


def test_raw_third_order_birth_death_matches_hand_derivation() -> None:
    model = moment_equations(birth_death(), 3, central=False)
    k1, k2, omega = sympy.symbols("k1 k2 Omega")
    m1, m2, m3 = sympy.symbols("mean_X raw_X_X raw_X_X_X")
    # d<x^3>/dt = a_b <3x^2 + 3x + 1> + k2 <x (-3x^2 + 3x - 1)>
    expected = omega * k1 * (3 * m2 + 3 * m1 + 1) + k2 * (-3 * m3 + 3 * m2 - m1)
    assert sympy.expand(model.equations[2] - expected) == 0


def test_linear_network_exact_mean_equals_rate_equations() -> None:
    net = linear_network()
    model = moment_equations(net, 2)
    rate = net.rate_equations()
    omega = net.volume
    conc = {sympy.Symbol(s): sympy.Symbol(f"mean_{s}") / omega for s in net.species}
    for i, species in enumerate(net.species):
        from_rates = omega * rate.equations[i].xreplace(conc)
        mine = model.equations[i].subs(sympy.Symbol("Omega"), omega)
        assert sympy.expand(mine - from_rates) == 0, species


def test_linear_network_moments_solve_like_the_exact_formula() -> None:
    """Order-2 moments of a linear network against an independent Lyapunov solve."""
    net = linear_network()
    model = moment_equations(net, 2)
    found = find_equilibria(model, bounds=[(-1e3, 1e3)] * 5, backend=BACKEND)
    state = found.equilibria[0].state_map
    mean = np.array([state["mean_A"], state["mean_B"]])
    # the LNA is exact for a linear network: J C + C J^T + S diag(a) S^T = 0
    cov = lna_stationary_covariance(net, mean)
    assert state["var_A"] == pytest.approx(cov[0, 0], rel=1e-9)
    assert state["cov_A_B"] == pytest.approx(cov[0, 1], rel=1e-9)
    assert state["var_B"] == pytest.approx(cov[1, 1], rel=1e-9)


@settings(max_examples=10, deadline=None)
@given(
    rates=st.tuples(*(st.floats(0.1, 5.0) for _ in range(4))),
    order=st.integers(1, 3),
    closure=st.sampled_from(CLOSURES),
)
def test_closure_of_a_linear_network_leaves_it_unchanged(rates, order, closure) -> None:
    net = linear_network(rates)
    if order < closure.min_order:
        order = closure.min_order
    exact = moment_equations(net, order)
    closed = moment_equations(net, order, closure=closure)
    assert closed.variables == exact.variables
    for a, b in zip(closed.equations, exact.equations, strict=True):
        assert sympy.expand(a - b) == 0


@pytest.mark.parametrize("closure", [Normal(), LogNormal(), DerivativeMatching()])
def test_raw_and_central_forms_agree_on_a_nonlinear_network(closure) -> None:
    """Same closure, two coordinate systems: identical means and variances in time."""
    net = dimerisation(volume=10.0).with_counts(X=5)
    raw = moment_equations(net, 2, central=False, closure=closure)
    central = moment_equations(net, 2, closure=closure)
    t = solve(raw, t_span=(0.0, 3.0), t_eval=[0.5, 3.0], backend=BACKEND)
    c = solve(central, t_span=(0.0, 3.0), t_eval=[0.5, 3.0], backend=BACKEND)
    np.testing.assert_allclose(means_of(raw, t.y), means_of(central, c.y), rtol=1e-5)
    np.testing.assert_allclose(variances_of(raw, t.y), variances_of(central, c.y), rtol=1e-4)
    with pytest.raises(InputError, match="order 1"):
        variances_of(moment_equations(net, 1, closure=Normal()), t.y[:, :1])


# --------------------------------------------------------------------------- closures
def _space(closure, order, n=1, central=True):
    names = ("X", "Y", "Z")[:n]
    return MomentSpace(
        names,
        order,
        central=central,
        closure=closure,
        names=lambda a: "m_" + "_".join(str(v) for v in a),
    )


def _values(space, mean, cov, raw_fn=None):
    """Substitution {state symbol: value} for given means / covariances (order 2)."""
    out = {}
    for alpha, sym in space.symbols.items():
        k = sum(alpha)
        idx = [i for i, a in enumerate(alpha) for _ in range(a)]
        if k == 1:
            out[sym] = mean[idx[0]]
        elif space.central:
            out[sym] = cov[idx[0], idx[1]]
        else:
            out[sym] = cov[idx[0], idx[1]] + mean[idx[0]] * mean[idx[1]]
    return out


@pytest.mark.parametrize("central", [True, False])
def test_normal_closure_gives_isserlis_moments(central: bool) -> None:
    cov = np.array([[2.0, 0.7, 0.1], [0.7, 1.5, -0.3], [0.1, -0.3, 1.1]])
    mean = np.array([1.0, 2.0, 3.0])
    space = _space(Normal(), 2, n=3, central=central)
    subs = _values(space, mean, cov)
    for alpha in [(4, 0, 0), (2, 2, 0), (1, 1, 1), (1, 1, 2), (2, 1, 1), (3, 0, 1)]:
        idx = [i for i, a in enumerate(alpha) for _ in range(a)]
        # Isserlis: sum over perfect matchings of the index list (brute force)
        total = 0.0
        for perm in itertools.permutations(range(len(idx))):
            pairs = [(perm[2 * j], perm[2 * j + 1]) for j in range(len(idx) // 2)]
            if all(a < b for a, b in pairs) and all(
                pairs[j][0] < pairs[j + 1][0] for j in range(len(pairs) - 1)
            ):
                total += math.prod(cov[idx[a], idx[b]] for a, b in pairs)
        if len(idx) % 2:
            total = 0.0
        got = float(space.central_moment(alpha).subs(subs))
        assert got == pytest.approx(total, rel=1e-12, abs=1e-12), alpha


def test_poisson_gamma_lognormal_closures_match_scipy_univariate_moments() -> None:
    lam = 3.7
    poisson = _space(Poisson(), 1)
    for k in range(2, 6):
        got = float(poisson.raw_moment((k,)).subs({poisson.means[0]: lam}))
        assert got == pytest.approx(stats.poisson(lam).moment(k), rel=1e-12)
    mean, var = 4.0, 2.5
    for closure, law in (
        (Gamma(), stats.gamma(mean**2 / var, scale=var / mean)),
        (
            LogNormal(),
            stats.lognorm(
                math.sqrt(math.log1p(var / mean**2)),
                scale=mean / math.sqrt(1 + var / mean**2),
            ),
        ),
    ):
        for central in (True, False):
            space = _space(closure, 2, central=central)
            subs = _values(space, np.array([mean]), np.array([[var]]))
            for k in range(3, 6):
                got = float(space.raw_moment((k,)).subs(subs))
                assert got == pytest.approx(law.moment(k), rel=1e-8), (closure, central, k)


def test_lognormal_closure_bivariate_against_exponential_formula() -> None:
    mean = np.array([2.0, 5.0])
    cov = np.array([[1.0, 0.8], [0.8, 4.0]])
    sigma = np.log1p(cov / np.outer(mean, mean))
    nu = np.log(mean) - np.diag(sigma) / 2
    space = _space(LogNormal(), 2, n=2, central=False)
    subs = _values(space, mean, cov)
    for alpha in [(2, 1), (1, 2), (3, 1), (2, 2)]:
        n = np.array(alpha, dtype=float)
        expected = math.exp(n @ nu + 0.5 * n @ sigma @ n)
        assert float(space.raw_moment(alpha).subs(subs)) == pytest.approx(expected, rel=1e-10)


def test_derivative_matching_exact_for_lognormal_and_point_masses() -> None:
    # order 2 DM is exact for a univariate log-normal (log mu_k quadratic in k)
    mean, var = 3.0, 2.0
    law = stats.lognorm(
        math.sqrt(math.log1p(var / mean**2)), scale=mean / math.sqrt(1 + var / mean**2)
    )
    space = _space(DerivativeMatching(), 2, central=False)
    subs = _values(space, np.array([mean]), np.array([[var]]))
    for k in (3, 4, 5):
        assert float(space.raw_moment((k,)).subs(subs)) == pytest.approx(law.moment(k), rel=1e-8)
    # and exact for a point mass at any order: mu_alpha = x^alpha
    point = np.array([2.0, 3.0])
    space = _space(DerivativeMatching(), 3, n=2, central=False)
    subs = {sym: float(np.prod(point ** np.array(alpha))) for alpha, sym in space.symbols.items()}
    for alpha in [(4, 0), (2, 2), (1, 3), (3, 2)]:
        got = float(space.raw_moment(alpha).subs(subs))
        assert got == pytest.approx(float(np.prod(point ** np.array(alpha))), rel=1e-12)


def test_gamma_closure_mixed_cumulant_of_the_multivariate_gamma() -> None:
    # n1 = Y11 + (b1/b12) Y12, n2 = Y22 + (b2/b12) Y12: third mixed cumulant by simulation
    rng = np.random.default_rng(3)
    a11, a22, a12, b1, b2, b12 = 2.0, 3.0, 1.5, 0.7, 1.3, 0.9
    size = 2_000_000
    y12 = rng.gamma(a12, b12, size)
    n1 = rng.gamma(a11, b1, size) + b1 / b12 * y12
    n2 = rng.gamma(a22, b2, size) + b2 / b12 * y12
    mean = np.array([n1.mean(), n2.mean()])
    cov = np.cov(np.vstack([n1, n2]))
    space = _space(Gamma(), 2, n=2)
    subs = _values(space, mean, cov)
    d1, d2 = n1 - mean[0], n2 - mean[1]
    for alpha, sample in (((2, 1), d1**2 * d2), ((1, 2), d1 * d2**2), ((3, 0), d1**3)):
        got = float(space.central_moment(alpha).subs(subs))
        se = sample.std() / math.sqrt(size)
        assert abs(got - sample.mean()) < 5 * se + 1e-3, alpha


# --------------------------------------------------------------------------- versus SSA
def test_dimerisation_normal_closure_against_ssa() -> None:
    from stabkit.integrate.ssa import ssa

    net = dimerisation(volume=50.0)
    model = moment_equations(net, 2, closure=Normal())
    times = [1.0, 5.0]
    traj = solve(model, t_span=(0.0, 5.0), t_eval=times, backend=BACKEND)
    sim = ssa(net, (0.0, 5.0), num_runs=2000, t_eval=[0.0, *times], seed=11)
    mean, var = sim.mean("X"), sim.variance("X")
    for k in range(2):
        z_mean = (means_of(model, traj.y[k])[0] - mean.value[k + 1]) / mean.standard_error[k + 1]
        z_var = (variances_of(model, traj.y[k])[0] - var.value[k + 1]) / var.standard_error[k + 1]
        assert abs(z_mean) < 4 and abs(z_var) < 4, (z_mean, z_var)
    # the mean-field (order 1, normal) misses the fluctuation correction; order 2 does not
    assert abs(means_of(model, traj.y[-1])[0] - 50.0) > 0.05


def test_lna_covariance_matches_the_poisson_law_of_birth_death() -> None:
    net = birth_death(k1=4.0, k2=0.5, volume=3.0)
    cov = lna_stationary_covariance(net, [24.0])
    assert cov[0, 0] == pytest.approx(24.0, rel=1e-12)
    lna = linear_noise_approximation(net)
    traj = solve(lna, t_span=(0.0, 60.0), t_eval=[60.0], backend=BACKEND)
    assert traj.y[-1, 0] == pytest.approx(24.0, rel=1e-6)
    assert traj.y[-1, 1] == pytest.approx(24.0, rel=1e-6)


def test_lna_of_isomerisation_gives_the_binomial_variance() -> None:
    net = ReactionNetwork.from_strings(
        "iso",
        species={"A": 40, "B": 0},
        reactions={"f": "A -> B @ kf", "b": "B -> A @ kb"},
        parameters={"kf": 1.0, "kb": 3.0},
    )
    lna = linear_noise_approximation(net)
    traj = solve(lna, t_span=(0.0, 30.0), t_eval=[30.0], backend=BACKEND)
    p = 0.25  # fraction in B
    state = dict(zip(lna.variables, traj.y[-1], strict=True))
    assert state["mean_B"] == pytest.approx(40 * p, rel=1e-6)
    assert state["var_B"] == pytest.approx(40 * p * (1 - p), rel=1e-6)
    assert state["cov_A_B"] == pytest.approx(-40 * p * (1 - p), rel=1e-6)


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused() -> None:
    net = dimerisation()
    with pytest.raises(InputError, match="do not close"):
        moment_equations(net, 2)
    with pytest.raises(InputError, match="order"):
        moment_equations(net, 0, closure=Normal())
    with pytest.raises(InputError, match="order >= 2"):
        moment_equations(net, 1, closure=LogNormal())
    with pytest.raises(InputError, match="closure"):
        moment_equations(net, 2, closure="normal")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no parameter"):
        moment_equations(net, 2, closure=Normal(), params={"k3": 1.0})
    with pytest.raises(InputError, match="ReactionNetwork"):
        moment_equations(object(), 2, closure=Normal())
    hill = ReactionNetwork.from_strings(
        "hill",
        species={"X": 0},
        reactions={"b": "0 -> X @ propensity: k*Omega/(1 + X)", "d": "X -> 0 @ g"},
        parameters={"k": 1.0, "g": 1.0},
    )
    with pytest.raises(InputError, match="not a polynomial"):
        moment_equations(hill, 2, closure=Normal())
    with pytest.raises(InputError, match="not a moment model"):
        moment_info(net.rate_equations())


def test_moment_model_parameters_include_the_volume() -> None:
    model = moment_equations(dimerisation(volume=20.0), 2, closure=Normal(), params={"k2": 2.0})
    assert model.parameters == ("k1", "k2", "Omega")
    assert model.default_parameter_map() == {"k1": 1.0, "k2": 2.0, "Omega": 20.0}
    assert moment_info(model).volume == 20.0


def test_moment_model_supports_continuation_and_hopf_detection() -> None:
    """Continuation in Omega finds the Hopf point of the closure's physical fixed point;
    the eigenvalues from find_equilibria on either side confirm it."""
    from stabkit.analysis.continuation import PALC, continue_branch
    from stabkit.analysis.equilibria import Algebraic

    net = ReactionNetwork.from_strings(
        "brusselator",
        species={"X": 1, "Y": 1},
        reactions={
            "r1": "2 X + Y -> 3 X @ c1",
            "r2": "X -> Y @ c2",
            "r3": "0 -> X @ c3",
            "r4": "X -> 0 @ c4",
        },
        parameters={"c1": 1.8, "c2": 2.0, "c3": 1.0, "c4": 1.0},
    )
    model = moment_equations(net, 2, closure=Normal())

    def physical_fixed_point(omega: float):
        found = find_equilibria(model, {"Omega": omega}, method=Algebraic(), backend=BACKEND)
        return next(e for e in found.equilibria if e.state_map["var_X"] > 0)

    start = physical_fixed_point(3000.0)
    assert start.is_stable
    branch = continue_branch(
        model,
        "Omega",
        start.state,
        params={"Omega": 3000.0},
        to=20000.0,
        method=PALC(ds=10.0, ds_max=1e6, max_points=400),
        detect=("H",),
        backend=BACKEND,
    )
    hopf = [sp.parameter_value for sp in branch.special_points if sp.kind == "H"]
    assert len(hopf) == 1
    assert physical_fixed_point(0.97 * hopf[0]).is_stable
    assert not physical_fixed_point(1.03 * hopf[0]).is_stable


def test_higher_order_cumulant_closures_univariate() -> None:
    """Order 3 normal: kappa_4 = kappa_5 = kappa_6 = 0 with the state's own kappa_3;
    order 2 Poisson: kappa_k = mean for k > 2 (moment-cumulant relations by hand)."""
    space = _space(Normal(), 3)
    mu, c2, c3 = 2.0, 1.5, 0.7
    subs = {space.means[0]: mu, space.symbols[(2,)]: c2, space.symbols[(3,)]: c3}
    assert float(space.central_moment((4,)).subs(subs)) == pytest.approx(3 * c2**2)
    assert float(space.central_moment((5,)).subs(subs)) == pytest.approx(10 * c3 * c2)
    assert float(space.central_moment((6,)).subs(subs)) == pytest.approx(15 * c2**3 + 10 * c3**2)
    space = _space(Poisson(), 2)
    subs = {space.means[0]: mu, space.symbols[(2,)]: c2}
    assert float(space.central_moment((3,)).subs(subs)) == pytest.approx(mu)
    assert float(space.central_moment((4,)).subs(subs)) == pytest.approx(mu + 3 * c2**2)


@settings(max_examples=25, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.floats(0.05, 1.0)),
        min_size=1,
        max_size=5,
    ),
    order=st.integers(2, 4),
    central=st.booleans(),
)
def test_raw_and_central_conversions_match_a_discrete_law(points, order, central) -> None:
    """Moments of order <= m of any discrete law, given in one form, give the other."""
    x = np.array([(a, b) for a, b, _ in points], dtype=float)
    w = np.array([p for _, _, p in points])
    w = w / w.sum()
    mean = w @ x

    def raw(alpha):
        return float(w @ np.prod(x ** np.array(alpha), axis=1))

    def cen(alpha):
        return float(w @ np.prod((x - mean) ** np.array(alpha), axis=1))

    space = _space(None, order, n=2, central=central)
    subs = {
        sym: (mean[alpha.index(1)] if sum(alpha) == 1 else (cen if central else raw)(alpha))
        for alpha, sym in space.symbols.items()
    }
    for alpha in space.indices:
        other = space.raw_moment(alpha) if central else space.central_moment(alpha)
        expected = raw(alpha) if central else cen(alpha)
        value = other.subs(subs) if isinstance(other, sympy.Basic) else other
        assert float(value) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_derivative_matching_at_order_two_is_the_lognormal_closure() -> None:
    """log E[x^p] quadratic in p interpolates the moments of order <= 2 exactly as the
    multivariate log-normal does: the two closures coincide at order 2 (any n)."""
    mean = np.array([2.0, 5.0, 3.0])
    cov = np.array([[1.0, 0.8, -0.2], [0.8, 4.0, 0.5], [-0.2, 0.5, 2.0]])
    dm = _space(DerivativeMatching(), 2, n=3, central=False)
    ln = _space(LogNormal(), 2, n=3, central=False)
    subs = _values(dm, mean, cov)
    for alpha in [(3, 0, 0), (2, 1, 0), (1, 1, 1), (2, 2, 0), (1, 2, 1), (0, 0, 4)]:
        a = float(dm.raw_moment(alpha).subs(subs))
        b = float(ln.raw_moment(alpha).subs(subs))
        assert a == pytest.approx(b, rel=1e-10), alpha
