"""Stochastic simulation: bad input, runs that stop early, the result's API, invariants."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.errors import InputError
from stabkit.integrate.ssa import Direct, NextReaction, SSAStatus, TauLeaping, ssa
from stabkit.model.model import Model
from stabkit.model.reactions import ReactionNetwork

BIRTH_DEATH = ReactionNetwork.from_strings(
    "birth_death",
    species={"X": 0},
    reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
    parameters={"k1": 10.0, "k2": 1.0},
)
# explicit propensities that misbehave: "grow" turns negative above X = cap (it adds two
# at a time, so X = 0, 2, 4, 6 > 5), "leak" fires even without molecules
TROUBLE = ReactionNetwork.from_strings(
    "trouble",
    species={"X": 0},
    reactions={
        "grow": "0 -> 2 X @ propensity: kb*(cap - X)",
        "leak": "X -> 0 @ propensity: kd",
    },
    parameters={"kb": 1.0, "cap": 5.0, "kd": 0.0},
)
# a network whose tau-leaps can overshoot: everything consumes A
CROWD = ReactionNetwork.from_strings(
    "crowd",
    species={"A": 20, "B": 20, "C": 0},
    reactions={
        "bind": "A + B -> C @ k1",
        "pair": "2 A -> 0 @ k2",
        "split": "C -> A + B @ k3",
        "make": "0 -> A @ k4",
        "lose": "B -> 0 @ k5",
    },
    parameters={"k1": 1.0, "k2": 1.0, "k3": 1.0, "k4": 1.0, "k5": 1.0},
)
METHODS = [Direct(), NextReaction(), TauLeaping()]
IDS = ["direct", "next", "tau"]


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_negative_propensity_stops_the_run_and_keeps_output(method: object) -> None:
    t_eval = np.linspace(0.0, 50.0, 501)
    result = ssa(TROUBLE, (0.0, 50.0), num_runs=8, seed=1, method=method, t_eval=t_eval)
    assert result.status == "partial"
    assert np.all(result.run_status == SSAStatus.BAD_PROPENSITY)
    assert "bad propensity" in result.message and "earliest at t =" in result.message
    for r in range(result.num_runs):
        stop = result.t_stop[r]
        assert 0.0 < stop < 50.0
        before = result.t < stop
        assert np.all(np.isfinite(result.counts[r, before, 0]))
        assert np.all(np.isnan(result.counts[r, ~before, 0]))
        assert np.all(result.counts[r, before, 0] <= 4)
    assert result.status_counts()["bad_propensity"] == 8


@pytest.mark.parametrize("method", METHODS[:2], ids=IDS[:2])
def test_reaction_without_reactants_stops_with_negative_count(method: object) -> None:
    result = ssa(
        TROUBLE, (0.0, 100.0), num_runs=4, seed=2, method=method, y0={"X": 3},
        params={"kb": 0.0, "kd": 1.0},
    )  # fmt: skip
    assert np.all(result.run_status == SSAStatus.NEGATIVE_COUNT)
    finite = result.counts[np.isfinite(result.counts)]
    assert finite.min() >= 0.0
    assert np.all(result.reactions_fired[:, 1] == 3)


def test_tau_leaping_never_goes_negative_with_a_leaky_propensity() -> None:
    result = ssa(
        TROUBLE, (0.0, 100.0), num_runs=4, seed=2, method=TauLeaping(), y0={"X": 3},
        params={"kb": 0.0, "kd": 1.0},
    )  # fmt: skip
    finite = result.counts[np.isfinite(result.counts)]
    assert finite.min() >= 0.0


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_max_reactions_stops_with_status(method: object) -> None:
    result = ssa(BIRTH_DEATH, (0.0, 100.0), num_runs=3, seed=1, method=method, max_reactions=50)
    assert np.all(result.run_status == SSAStatus.MAX_REACTIONS)
    assert np.all(result.t_stop < 100.0)
    assert np.all(np.isnan(result.counts[:, -1, 0]))
    assert np.all(np.isfinite(result.counts[:, 0, 0]))
    assert np.all(result.reactions_fired.sum(axis=1) >= 50)


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(0, 60), min_size=3, max_size=3),
    rates=st.lists(st.floats(0.01, 20.0), min_size=5, max_size=5),
    epsilon=st.sampled_from([0.01, 0.03, 0.1, 0.3]),
    seed=st.integers(0, 2**32),
)
def test_property_tau_leaping_counts_stay_whole_and_non_negative(
    counts: list[int], rates: list[float], epsilon: float, seed: int
) -> None:
    params = dict(zip(("k1", "k2", "k3", "k4", "k5"), rates, strict=True))
    result = ssa(
        CROWD, (0.0, 5.0), num_runs=4, seed=seed, method=TauLeaping(epsilon=epsilon),
        y0=counts, params=params, t_eval=np.linspace(0.0, 5.0, 11),
    )  # fmt: skip
    assert result.ok
    assert np.all(result.counts >= 0.0)
    assert np.all(result.counts == np.round(result.counts))
    change = result.reactions_fired @ CROWD.stoichiometry.T
    assert np.array_equal(result.counts[:, -1, :] - result.counts[:, 0, :], change)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"t_span": (1.0, 1.0)}, "t0 < t1"),
        ({"t_span": "soon"}, "expected (t0, t1)"),
        ({"t_eval": [0.0, 20.0]}, "outside t_span"),
        ({"t_eval": [2.0, 1.0]}, "sorted"),
        ({"t_eval": [[1.0]]}, "1-D"),
        ({"num_runs": 0}, "num_runs"),
        ({"num_runs": 2.5}, "num_runs"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
        ({"y0": {"X": -2}}, "negative"),
        ({"y0": {"Y": 2}}, "no species"),
        ({"y0": [1.5]}, "whole number"),
        ({"params": {"k2": -1.0}}, "non-negative"),
        ({"params": {"k_2": 1.0}}, "did you mean"),
        ({"method": "direct"}, "Direct()"),
        ({"max_reactions": 0}, "max_reactions"),
        ({"num_threads": 0}, "num_threads"),
    ],
)
def test_bad_input(kwargs: dict, fragment: str) -> None:
    arguments = {"t_span": (0.0, 10.0), **kwargs}
    t_span = arguments.pop("t_span")
    with pytest.raises(InputError) as info:
        ssa(BIRTH_DEATH, t_span, **arguments)
    assert fragment in str(info.value)


def test_bad_network_and_methods() -> None:
    model = Model.from_equations({"x": "-x"})
    with pytest.raises(InputError, match="ReactionNetwork"):
        ssa(model, (0.0, 1.0))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="epsilon"):
        TauLeaping(epsilon=1.5)
    with pytest.raises(InputError, match="num_critical"):
        TauLeaping(num_critical=0)
    with pytest.raises(TypeError):
        ssa(BIRTH_DEATH, (0.0, 1.0), runs=3)  # type: ignore[call-arg]


def test_result_api(tmp_path: object) -> None:
    result = ssa(BIRTH_DEATH, (0.0, 2.0), num_runs=5, seed=3, t_eval=[0.0, 1.0, 2.0])
    frame = result.to_frame()
    assert list(frame.columns) == ["run", "t", "status", "X"]
    assert len(frame) == 15 and set(frame["status"]) == {"ok"}
    mean = result.mean("X")
    assert mean.value.shape == (3,) and mean.to_frame().shape == (3, 4)
    assert result.mean().value.shape == (3, 1)
    with pytest.raises(InputError, match="no species 'Y'"):
        result["Y"]
    with pytest.raises(InputError, match="burn_in"):
        result.stationary_distribution("X", burn_in=5.0)
    law = result.stationary_distribution("X", burn_in=0.5)
    assert law.to_frame().shape[1] == 3
    path = result.save(tmp_path / "ssa.json")  # type: ignore[operator]
    data = json.loads(path.read_text())
    assert data["type"] == "SSAResult" and data["provenance"]["seed"] == 3
    assert "SSAResult" in repr(result) and "reactions per second" in result._repr_html_()


def test_seed_none_records_entropy_for_replay() -> None:
    first = ssa(BIRTH_DEATH, (0.0, 1.0), num_runs=3)
    replay = ssa(BIRTH_DEATH, (0.0, 1.0), num_runs=3, seed=first.provenance.seed)
    assert np.array_equal(first.counts, replay.counts)


def _xoshiro_next(s: list[int]) -> int:
    """Reference xoshiro256** (Blackman and Vigna 2018) on Python integers."""
    mask = (1 << 64) - 1

    def rotl(v: int, k: int) -> int:
        return ((v << k) | (v >> (64 - k))) & mask

    result = (rotl((s[1] * 5) & mask, 7) * 9) & mask
    t = (s[1] << 17) & mask
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


def _xoshiro_jump(s: list[int]) -> list[int]:
    jump = (0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C)
    acc = [0, 0, 0, 0]
    for word in jump:
        for b in range(64):
            if word >> b & 1:
                acc = [a ^ v for a, v in zip(acc, s, strict=True)]
            _xoshiro_next(s)
    return acc


def test_random_streams_match_a_reference_implementation() -> None:
    from stabkit.integrate._ssa_codegen import compile_network

    module = compile_network(BIRTH_DEATH).module
    base = [1, 2, 3, 4]
    states = np.empty((3, 4), dtype=np.uint64)
    module.ssa_seed_states(np.array(base, dtype=np.uint64), states)
    expected = [list(base)]
    for _ in range(2):
        expected.append(_xoshiro_jump(list(expected[-1])))
    assert states.tolist() == expected
    reference = list(base)
    draws = [_xoshiro_next(reference) for _ in range(5)]
    assert draws[0] == 11520  # rotl(2 * 5, 7) * 9
    state = np.array(base, dtype=np.uint64)
    assert [int(module._ssa_next(state)) for _ in range(5)] == draws
    uniform = module._ssa_uniform(np.array(base, dtype=np.uint64))
    assert uniform == (11520 >> 11) / 2.0**53
