"""basins_of_attraction: oracles with known separatrices, a scipy reference, divergence.

Models are few and built once per module (each new model compiles a kernel once, then
comes from the disk cache).
"""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from stabkit.analysis.basins import (
    BasinsResult,
    FeatureClustering,
    RecurrenceMapper,
    Sampler,
    basins_of_attraction,
)
from stabkit.errors import InputError
from stabkit.model import library
from stabkit.model.model import Model


@pytest.fixture(scope="module")
def bistable() -> Model:
    return Model.from_equations({"x": "x - x^3"}, variables={"x": 0.5}, name="bistable")


@pytest.fixture(scope="module")
def duffing() -> Model:
    """Damped unforced Duffing x'' + 0.3 x' - x + x^3 = 0: two wells at x = -1, 1."""
    return library.duffing(delta=0.3, alpha=-1.0, beta=1.0, gamma=0.0)


@pytest.fixture(scope="module")
def cycle_and_point() -> Model:
    """r' = -r (r^2 - 1/4)(r^2 - 1), theta' = 1: stable origin, unstable r = 1/2, stable r = 1."""
    g = "(-(x^2 + y^2 - 0.25)*(x^2 + y^2 - 1))"
    return Model.from_equations(
        {"x": f"x*{g} - y", "y": f"y*{g} + x"}, variables={"x": 0.1, "y": 0.0}, name="ring"
    )


@pytest.fixture(scope="module")
def blowup() -> Model:
    return Model.from_equations({"x": "x^2"}, variables={"x": 0.5}, name="blowup")


# ----------------------------------------------------------------------------- oracles
def test_bistable_symmetric_grid_is_exactly_half(bistable):
    res = basins_of_attraction(bistable, {"x": (-2.0, 2.0, 200)})
    assert isinstance(res, BasinsResult) and res.ok
    assert len(res.attractors) == 2
    assert all(a.kind == "fixed_point" for a in res.attractors)
    centres = sorted(float(a.centre[0]) for a in res.attractors)
    assert centres == pytest.approx([-1.0, 1.0], abs=1e-6)
    # the separatrix is x = 0: every state below goes to -1, every one above to +1
    x = res.initial_states[:, 0]
    left = next(a.id for a in res.attractors if a.centre[0] < 0)
    assert np.all((res.labels == left) == (x < 0))
    assert sorted(res.fractions.values()) == [0.5, 0.5]
    assert res.labels.shape == (200,)


def test_duffing_grid_symmetric_and_sampler_against_scipy(duffing):
    grid = basins_of_attraction(duffing, {"x": (-2.0, 2.0, 60), "y": (-2.0, 2.0, 60)})
    assert grid.ok and grid.labels.shape == (60, 60)
    assert sorted(grid.fractions.values()) == pytest.approx([0.5, 0.5], abs=1e-12)
    # (x, y) -> (-x, -y) maps the system and the grid onto themselves
    assert np.all(grid.labels != grid.labels[::-1, ::-1])
    assert 0.0 < grid.basin_entropy <= math.log(2) + 1e-12
    assert 0.0 < grid.boundary_fraction < 1.0

    sampler = Sampler({"x": (-2.0, 2.5), "y": (-1.0, 2.0)}, num=250, seed=3)
    res = basins_of_attraction(duffing, sampler)
    right = next(a.id for a in res.attractors if a.centre[0] > 0)
    # brute force: scipy LSODA to t = 50 on the same states, the sign of x decides
    params = (0.3, -1.0, 1.0)

    def rhs(t, s):
        d, a, b = params
        return [s[1], -d * s[1] - a * s[0] - b * s[0] ** 3]

    ref = np.array(
        [
            solve_ivp(rhs, (0, 50), y0, method="LSODA", rtol=1e-8, atol=1e-10).y[0, -1] > 0
            for y0 in res.initial_states
        ]
    )
    agree = np.mean((res.labels == right) == ref)
    assert agree >= 0.99  # boundary states may go either way at finite tolerances
    f = res.fractions[right]
    se = res.standard_errors[right]
    assert se == pytest.approx(math.sqrt(f * (1 - f) / 250))
    assert abs(f - ref.mean()) <= 3 * se


def test_limit_cycle_and_fixed_point(cycle_and_point):
    res = basins_of_attraction(cycle_and_point, {"x": (-1.5, 1.5, 41), "y": (-1.5, 1.5, 41)})
    assert res.ok
    kinds = {a.kind: a for a in res.attractors}
    assert set(kinds) == {"fixed_point", "periodic"}
    assert kinds["periodic"].period == pytest.approx(2 * math.pi, rel=0.02)
    radius = np.hypot(kinds["periodic"].points[:, 0], kinds["periodic"].points[:, 1])
    assert radius == pytest.approx(1.0, abs=0.02)
    # basin of the origin: the disc r < 1/2
    r0 = np.hypot(res.initial_states[:, 0], res.initial_states[:, 1])
    inside = res.labels.ravel() == kinds["fixed_point"].id
    away = np.abs(r0 - 0.5) > 0.02
    assert np.all(inside[away] == (r0[away] < 0.5))


def test_unbounded_orbits_are_their_own_class(blowup):
    res = basins_of_attraction(blowup, {"x": (-2.0, 2.0, 41)}, t_max=200.0)
    x = res.initial_states[:, 0]
    assert np.all(res.labels[x > 0] == -1)
    # x < 0 creeps towards the semi-stable point 0 like -1/t: never diverged, mostly
    # decided (an attractor near 0), possibly unresolved by t_max
    assert np.all(res.labels[x <= 0] >= 0)
    assert np.mean(res.labels[x < 0] > 0) >= 0.9
    assert res.fractions[-1] == pytest.approx(20 / 41)
    assert res.status == ("partial" if 0 in res.fractions else "ok")
    assert res.label_name(-1) == "diverged"
    frame = res.to_frame()
    assert "diverged" in set(frame["kind"])


def test_feature_clustering_agrees_with_recurrences(duffing):
    sampler = Sampler({"x": (-2.0, 2.0), "y": (-2.0, 2.0)}, num=300, seed=5)
    rec = basins_of_attraction(duffing, sampler)
    feat = basins_of_attraction(
        duffing, sampler, mapper=FeatureClustering(), t_transient=150.0, t_max=170.0
    )
    assert len(feat.attractors) == 2
    assert all(a.kind == "fixed_point" for a in feat.attractors)
    # labels may be numbered differently: match them by the attractors' centres
    match = {
        f.id: min(rec.attractors, key=lambda r: np.linalg.norm(r.centre - f.centre)).id
        for f in feat.attractors
    }
    mapped = np.array([match.get(int(v), int(v)) for v in feat.labels])
    assert np.mean(mapped == rec.labels) >= 0.99


# ----------------------------------------------------------------------------- entropy
def test_basin_entropy_single_basin_is_zero(bistable):
    res = basins_of_attraction(bistable, {"x": (0.1, 2.0, 50)})
    assert res.fractions == {res.attractors[0].id: 1.0}
    assert res.basin_entropy == 0.0
    assert res.boundary_basin_entropy == 0.0


def test_sampler_has_no_entropy_but_has_errors(bistable):
    res = basins_of_attraction(bistable, Sampler({"x": (-1.0, 3.0)}, num=500, seed=0))
    assert math.isnan(res.basin_entropy)
    assert res.labels.shape == (500,)
    right = next(a.id for a in res.attractors if a.centre[0] > 0)
    # exact basin stability of x = +1: 3/4 of the interval
    assert abs(res.fractions[right] - 0.75) <= 3 * res.standard_errors[right]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"x": (2.0, -2.0, 10)}, "empty range"),
        ({"x": (-2.0, 2.0, 1)}, "integer >= 2"),
        ({"x": (-2.0, math.inf, 10)}, "finite"),
        ({"x": (-2.0, 2.0)}, "lo, hi, num"),
        ({"z": (-2.0, 2.0, 10)}, "not a variable"),
        ({}, "grid"),
    ],
)
def test_bad_grid_raises(bistable, grid, match):
    with pytest.raises(InputError, match=match):
        basins_of_attraction(bistable, grid)


def test_bad_settings_raise(bistable):
    with pytest.raises(InputError, match="sample_interval"):
        RecurrenceMapper(sample_interval=0.0)
    with pytest.raises(InputError, match="consecutive_recurrences"):
        RecurrenceMapper(consecutive_recurrences=0)
    with pytest.raises(InputError, match="eps"):
        FeatureClustering(eps=-1.0)
    with pytest.raises(InputError, match="mapper"):
        basins_of_attraction(bistable, {"x": (-1, 1, 5)}, mapper="recurrence")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="t_max must exceed"):
        basins_of_attraction(bistable, {"x": (-1, 1, 5)}, t_transient=5.0, t_max=1.0)
    with pytest.raises(InputError, match="missing"):
        basins_of_attraction(
            library.duffing(gamma=0.0),
            {"x": (-1, 1, 5)},
            mapper=RecurrenceMapper(cells={"x": (-2, 2, 10)}),
        )
    with pytest.raises(InputError, match="empty range"):
        Sampler({"x": (1.0, 1.0)})
    with pytest.raises(TypeError):
        basins_of_attraction(bistable, {"x": (-1, 1, 5)}, tmax=3.0)  # type: ignore[call-arg]


def test_docstring_examples():
    for name in ("stabkit.analysis.basins", "stabkit.analysis._basin_metrics"):
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0


def test_chaotic_attractors_of_a_flow_and_of_a_map():
    lorenz = library.lorenz()
    res = basins_of_attraction(
        lorenz,
        Sampler({"x": (-15.0, 15.0), "y": (-15.0, 15.0)}, num=40, seed=2),
        y0={"z": 20.0},
        mapper=RecurrenceMapper(num_cells=30, sample_interval=0.1),
        t_transient=5.0,
    )
    assert res.ok and len(res.attractors) == 1
    (att,) = res.attractors
    assert att.kind == "chaotic"
    assert 0.5 < att.lyapunov_estimate < 1.5  # finite-time estimate of 0.906
    # Henon map: the strange attractor, and escape to infinity from most of the square
    henon = library.henon_map()
    res = basins_of_attraction(
        henon,
        {"x": (-2.0, 2.0, 30), "y": (-2.0, 2.0, 30)},
        mapper=RecurrenceMapper(
            cells={"x": (-2.5, 2.5, 200), "y": (-2.5, 2.5, 200)}, consecutive_recurrences=50
        ),
    )
    assert {a.kind for a in res.attractors} == {"chaotic"}
    assert res.fractions[-1] > 0.3 and sum(res.fractions.values()) == pytest.approx(1.0)
    x, y = res.initial_states.T
    near = (np.abs(x) < 0.5) & (np.abs(y) < 0.2)  # inside the trapping region
    assert np.all(res.labels.ravel()[near] == res.attractors[0].id)
