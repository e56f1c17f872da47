"""Stochastic simulation: oracles from exact laws and independent computations.

Every check is a fixed-seed statistical test at about four standard errors (or a
two-sample / goodness-of-fit test at p > 1e-3), so a correct simulator passes with
certainty for these seeds and a biased one fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from stabkit.integrate.solve import solve
from stabkit.integrate.ssa import Direct, NextReaction, TauLeaping, ssa
from stabkit.model.reactions import ReactionNetwork

K = 4.5  # standard errors allowed

BIRTH_DEATH = ReactionNetwork.from_strings(
    "birth_death",
    species={"X": 0},
    reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
    parameters={"k1": 10.0, "k2": 1.0},
)
ISOMERISATION = ReactionNetwork.from_strings(
    "isomerisation",
    species={"A": 40, "B": 0},
    reactions={"forward": "A -> B @ kf", "backward": "B -> A @ kb"},
    parameters={"kf": 1.0, "kb": 0.5},
)
LINEAR = ReactionNetwork.from_strings(
    "linear_chain",
    species={"A": 3, "B": 0},
    reactions={
        "make": "0 -> A @ k0",
        "convert": "A -> B @ k1",
        "lose_a": "A -> 0 @ k3",
        "lose_b": "B -> 0 @ k2",
    },
    parameters={"k0": 2.0, "k1": 0.7, "k2": 0.4, "k3": 0.2},
    volume=5.0,
)
DIMERISATION = ReactionNetwork.from_strings(
    "dimerisation",
    species={"X": 10, "D": 0},
    reactions={"bind": "2 X -> D @ kon", "unbind": "D -> 2 X @ koff"},
    parameters={"kon": 1.0, "koff": 0.5},
)


def within(estimate: float, expected: float, error: float, k: float = K) -> bool:
    return abs(estimate - expected) <= k * error


@pytest.mark.parametrize("method", [Direct(), NextReaction()], ids=["direct", "next"])
def test_birth_death_poisson_law(method: object) -> None:
    result = ssa(
        BIRTH_DEATH, (0.0, 100.0), num_runs=100, method=method, seed=11,
        t_eval=np.linspace(0.0, 100.0, 1001),
    )  # fmt: skip
    assert result.ok and result.counts.shape == (100, 1001, 1)
    law = result.stationary_distribution("X", burn_in=10.0)
    assert within(law.mean, 10.0, law.mean_standard_error)
    assert within(law.variance, 10.0, law.variance_standard_error)
    expected = scipy.stats.poisson.pmf(law.values, 10.0)
    big = expected > 0.01
    z = (law.probability[big] - expected[big]) / law.standard_error[big]
    assert np.max(np.abs(z)) < K, z
    assert law.probability.sum() == pytest.approx(1.0)


def test_birth_death_transient_is_poisson() -> None:
    # from X = 0, X(t) ~ Poisson(k1/k2 (1 - exp(-k2 t))): mean = variance at every time
    result = ssa(BIRTH_DEATH, (0.0, 5.0), num_runs=2000, seed=3, t_eval=[0.0, 0.2, 1.0, 5.0])
    mean, variance = result.mean("X"), result.variance("X")
    lam = 10.0 * (1.0 - np.exp(-result.t))
    assert mean.value[0] == 0.0 and variance.value[0] == 0.0
    for i in range(1, 4):
        assert within(mean.value[i], lam[i], mean.standard_error[i])
        assert within(variance.value[i], lam[i], variance.standard_error[i])


def test_isomerisation_binomial_law() -> None:
    # each molecule flips independently: A(t) ~ Binomial(N, q(t)),
    # q(t) = kb/(kf+kb) + kf/(kf+kb) exp(-(kf+kb) t)
    t_eval = [0.0, 0.5, 10.0]
    result = ssa(ISOMERISATION, (0.0, 10.0), num_runs=3000, seed=5, t_eval=t_eval)
    total = result.counts.sum(axis=2)
    assert np.all(total == 40)  # conservation in every run at every time
    for i, t in enumerate(t_eval[1:], start=1):
        q = 0.5 / 1.5 + 1.0 / 1.5 * math.exp(-1.5 * t)
        observed = np.bincount(result["A"][:, i].astype(int), minlength=41)
        expected = scipy.stats.binom.pmf(np.arange(41), 40, q) * result.num_runs
        keep = expected >= 5  # pool the tails
        obs = np.append(observed[keep], observed[~keep].sum())
        exp = np.append(expected[keep], expected[~keep].sum())
        assert scipy.stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3


def test_linear_network_mean_equals_rate_equations() -> None:
    # first-order networks: the exact mean obeys the rate equations (in counts/Omega)
    t_eval = np.linspace(0.0, 6.0, 13)
    result = ssa(LINEAR, (0.0, 6.0), num_runs=2000, seed=8, t_eval=t_eval)
    model = LINEAR.rate_equations()
    ode = solve(model, None, (0.0, 6.0), t_eval=t_eval, backend="numpy")
    mean = result.mean()
    omega = LINEAR.volume
    z = (mean.value[1:] / omega - ode.y[1:]) / (mean.standard_error[1:] / omega)
    assert np.max(np.abs(z)) < K, z
    assert np.allclose(model.default_state, [3.0 / 5.0, 0.0])


def _dimer_master_equation(t: float) -> np.ndarray:
    """P(D = d) at time t for 2X <-> D from X = 10, by the matrix exponential."""
    n = 6  # D = 0..5, X = 10 - 2D
    q = np.zeros((n, n))
    for d in range(n):
        x = 10 - 2 * d
        bind = 1.0 * x * (x - 1) / 2
        unbind = 0.5 * d
        if d + 1 < n:
            q[d + 1, d] += bind
            q[d, d] -= bind
        if d > 0:
            q[d - 1, d] += unbind
            q[d, d] -= unbind
    p0 = np.zeros(n)
    p0[0] = 1.0
    return scipy.linalg.expm(q * t) @ p0


@pytest.mark.parametrize("method", [Direct(), NextReaction()], ids=["direct", "next"])
def test_dimerisation_matches_master_equation(method: object) -> None:
    t_eval = [0.0, 0.3, 3.0]
    result = ssa(DIMERISATION, (0.0, 3.0), num_runs=3000, seed=21, method=method, t_eval=t_eval)
    for i, t in enumerate(t_eval[1:], start=1):
        expected = _dimer_master_equation(t) * result.num_runs
        observed = np.bincount(result["D"][:, i].astype(int), minlength=6)
        keep = expected >= 5
        obs = np.append(observed[keep], observed[~keep].sum())
        exp = np.append(expected[keep], expected[~keep].sum())
        if exp[-1] == 0:
            obs, exp = obs[:-1], exp[:-1]
        assert scipy.stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3


def test_direct_and_next_reaction_agree_in_distribution() -> None:
    kwargs = {"num_runs": 2000, "t_eval": [0.0, 1.0, 4.0]}
    direct = ssa(LINEAR, (0.0, 4.0), method=Direct(), seed=1, **kwargs)
    nxt = ssa(LINEAR, (0.0, 4.0), method=NextReaction(), seed=2, **kwargs)
    for species in ("A", "B"):
        for i in (1, 2):
            test = scipy.stats.ks_2samp(direct[species][:, i], nxt[species][:, i])
            assert test.pvalue > 1e-3, (species, i, test)
    # and the firing counts per reaction
    for j in range(LINEAR.num_reactions):
        test = scipy.stats.ks_2samp(direct.reactions_fired[:, j], nxt.reactions_fired[:, j])
        assert test.pvalue > 1e-3
    # a test that can fail: a 20% faster death rate is detected
    shifted = ssa(LINEAR, (0.0, 4.0), seed=2, params={"k2": 0.48}, **kwargs)
    assert scipy.stats.ks_2samp(direct["B"][:, 2], shifted["B"][:, 2]).pvalue < 1e-3


def test_tau_leaping_error_shrinks_with_epsilon() -> None:
    # birth-death at large counts: leaps inflate the stationary variance (1000 exactly)
    net = BIRTH_DEATH.with_params(k1=1000.0).with_counts(X=1000)
    errors = []
    for epsilon in (0.1, 0.03, 0.01):
        result = ssa(
            net, (0.0, 200.0), num_runs=100, seed=5, method=TauLeaping(epsilon=epsilon),
            t_eval=np.linspace(0.0, 200.0, 101),
        )  # fmt: skip
        assert result.ok and result.stats.extra["leaps"] > 0
        law = result.stationary_distribution("X", burn_in=10.0)
        assert within(law.mean, 1000.0, law.mean_standard_error)
        errors.append((abs(law.variance - 1000.0), law.variance_standard_error))
    assert errors[0][0] > errors[1][0] > errors[2][0]
    assert errors[2][0] < K * errors[2][1] + 0.05 * 1000.0
    assert errors[0][0] > 10 * errors[0][1]  # the coarse one is measurably wrong


def test_tau_leaping_falls_back_to_exact_steps_at_small_counts() -> None:
    direct = ssa(BIRTH_DEATH, (0.0, 20.0), num_runs=50, seed=4)
    tau = ssa(BIRTH_DEATH, (0.0, 20.0), num_runs=50, seed=4, method=TauLeaping())
    assert tau.stats.extra["exact_steps"] > 0
    # with every step exact, the same random stream gives the same paths
    assert np.array_equal(direct.counts, tau.counts)


def test_reproducible_and_independent_of_threads() -> None:
    one = ssa(DIMERISATION, (0.0, 2.0), num_runs=64, seed=9, num_threads=1)
    two = ssa(DIMERISATION, (0.0, 2.0), num_runs=64, seed=9, num_threads=2, chunk_size=5)
    again = ssa(DIMERISATION, (0.0, 2.0), num_runs=64, seed=9, num_threads=2, chunk_size=64)
    assert np.array_equal(one.counts, two.counts) and np.array_equal(one.counts, again.counts)
    assert np.array_equal(one.reactions_fired, two.reactions_fired)
    other = ssa(DIMERISATION, (0.0, 2.0), num_runs=64, seed=10)
    assert not np.array_equal(one.counts, other.counts)
    # run r is the r-th child stream: the first runs of a larger ensemble are the same
    more = ssa(DIMERISATION, (0.0, 2.0), num_runs=100, seed=9)
    assert np.array_equal(more.counts[:64], one.counts)
    assert one.provenance.seed == 9


def test_fired_counts_account_for_the_change() -> None:
    result = ssa(LINEAR, (0.0, 3.0), num_runs=20, seed=2, t_eval=[0.0, 3.0])
    change = result.reactions_fired @ LINEAR.stoichiometry.T
    assert np.array_equal(result.counts[:, -1, :] - result.counts[:, 0, :], change)
    assert result.total_reactions == result.stats.extra["reactions_fired"]
    assert result.stats.extra["reactions_per_second"] > 0
