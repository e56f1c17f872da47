"""Invariants of basins_of_attraction and of the basin metrics (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.analysis._basin_metrics import (
    basin_entropy,
    boundary_fraction,
    dbscan,
    fractions_with_errors,
)
from stabkit.analysis.basins import Sampler, basins_of_attraction
from stabkit.model.model import Model

# x' = x (x - 2) (x + 1): stable at 0, unstable at -1 and 2; beyond them orbits blow up.
_TILTED = Model.from_equations(
    {"x": "x*(x - 2)*(x + 1)"}, variables={"x": 0.5}, name="tilted_divergent"
)


@settings(max_examples=12, deadline=None)
@given(
    lo=st.floats(-3.0, 0.5),
    width=st.floats(0.5, 5.0),
    num=st.integers(2, 60),
)
def test_fractions_sum_to_one_and_match_labels(lo, width, num):
    res = basins_of_attraction(_TILTED, {"x": (lo, lo + width, num)}, t_max=100.0)
    assert sum(res.fractions.values()) == pytest.approx(1.0, abs=1e-12)
    for label, f in res.fractions.items():
        assert f == pytest.approx(np.mean(res.labels == label))
        assert res.standard_errors[label] == pytest.approx(math.sqrt(f * (1 - f) / num))
    x = res.initial_states[:, 0]
    # x > 2 diverges, -1 < x < 2 goes to 0 (stable), x < -1 goes to -infinity
    assert np.all(res.labels[x > 2.05] == -1)
    assert np.all(res.labels[x < -1.05] == -1)
    mid = (x > -0.95) & (x < 1.95)
    assert len(set(res.labels[mid].tolist())) <= 1


@settings(max_examples=10, deadline=None)
@given(num=st.integers(1, 300), seed=st.integers(0, 2**31 - 1))
def test_sampler_fractions_sum_to_one(num, seed):
    res = basins_of_attraction(
        _TILTED, Sampler({"x": (-2.0, 3.0)}, num=num, seed=seed), t_max=100.0
    )
    assert sum(res.fractions.values()) == pytest.approx(1.0, abs=1e-12)
    assert res.labels.shape == (num,)


@given(
    labels=st.integers(1, 6).flatmap(
        lambda k: st.lists(st.integers(0, k - 1), min_size=100, max_size=100)
    )
)
def test_basin_entropy_bounds(labels):
    img = np.array(labels).reshape(10, 10)
    s_b, s_bb = basin_entropy(img, 5)
    k = len(set(labels))
    assert -1e-12 <= s_b <= math.log(k) + 1e-12
    assert s_b <= s_bb + 1e-12 or s_bb == 0.0
    if k == 1:
        assert s_b == 0.0 and s_bb == 0.0


def test_basin_entropy_two_colours_never_exceeds_ln2_and_reaches_it():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 2, size=(200, 200))
    s_b, s_bb = basin_entropy(img, 5)
    assert s_b <= math.log(2)
    assert s_b == pytest.approx(math.log(2), abs=0.05)  # coin flips: nearly maximal
    half = np.zeros((50, 50), dtype=int)
    half[:, 23:] = 1  # a straight boundary inside box column 4 (points 20..24): 3 to 2
    s_b, s_bb = basin_entropy(half, 5)
    mixed = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))
    assert s_b == pytest.approx(mixed / 10)  # one box column in ten is mixed
    assert s_bb == pytest.approx(mixed)
    assert boundary_fraction(half) == pytest.approx(2 / 50)


def test_fractions_with_errors_and_dbscan_small_cases():
    f, e = fractions_with_errors(np.array([1, 1, 2, -1]))
    assert f == {-1: 0.25, 1: 0.5, 2: 0.25}
    assert e[1] == pytest.approx(0.25)
    pts = np.array([[0.0, 0.0], [0.0, 0.01], [1.0, 1.0], [1.0, 1.01], [5.0, 5.0]])
    assert dbscan(pts, 0.1, 2).tolist() == [0, 0, 1, 1, -1]
