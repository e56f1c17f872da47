"""Lyapunov exponents from measured series: embedding choices, Rosenstein, Eckmann, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stabkit.analysis._lyapunov_embedding import (
    _autocorrelation_delay,
    choose_embedding_dimension,
    delay_embed,
    mutual_information,
)
from stabkit.analysis.lyapunov import Eckmann, Rosenstein, lyapunov_from_series
from stabkit.errors import InputError
from stabkit.integrate.solve import solve
from stabkit.model import library

LORENZ_L1 = 0.9056
ROSENSTEIN_TOLERANCE = 0.10  # stated tolerance: 10% on 10,000 samples of x(t), dt = 0.01


@pytest.fixture(scope="module")
def lorenz_x() -> np.ndarray:
    dt = 0.01
    t_eval = np.arange(50.0, 150.0, dt)
    traj = solve(library.get("lorenz"), [1.0, 1.0, 1.0], (0.0, 150.0), t_eval=t_eval)
    return np.asarray(traj.y)[:, 0]


def _henon_x(num: int) -> np.ndarray:
    x, y = 0.1, 0.1
    out = np.empty(num + 100)
    for i in range(num + 100):
        x, y = 1.0 - 1.4 * x * x + y, 0.3 * x
        out[i] = x
    return out[100:]


def test_rosenstein_on_lorenz_x(lorenz_x):
    r = lyapunov_from_series(lorenz_x, dt=0.01)
    assert r.ok and r.kind == "series"
    assert abs(r.exponents[0] - LORENZ_L1) < ROSENSTEIN_TOLERANCE * LORENZ_L1
    assert 0 < r.standard_errors[0] < 0.1
    d = r.diagnostics
    assert d["embedding_dimension"] == 3
    assert 10 <= d["delay"] <= 20  # first MI minimum of Lorenz x at dt = 0.01: ~0.16 time units
    lo, hi = d["fit_window"]
    assert 0 < lo < hi < d["divergence_time"][-1]


def test_eckmann_recovers_henon_spectrum_in_exact_embedding():
    x = _henon_x(6000)
    r = lyapunov_from_series(x, dt=1.0, embedding_dimension=2, delay=1, method=Eckmann())
    assert abs(r.exponents[0] - 0.41922) < 0.03
    assert abs(np.sum(r.exponents) - math.log(0.3)) < 0.15
    assert np.isfinite(r.kaplan_yorke_dimension)


def test_eckmann_logistic_map_is_ln2():
    x = np.empty(5000)
    x[0] = 0.3
    for i in range(4999):
        x[i + 1] = 4.0 * x[i] * (1.0 - x[i])
    r = lyapunov_from_series(x, dt=1.0, embedding_dimension=1, delay=1, method=Eckmann())
    assert abs(r.exponents[0] - math.log(2)) < 0.05


def test_embedding_helpers_against_direct_computation():
    x = np.arange(10.0)
    emb = delay_embed(x, 3, 2)
    assert emb.shape == (6, 3) and np.array_equal(emb[1], [1.0, 3.0, 5.0])
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(20000)
    assert mutual_information(noise, 1, 16) < 0.02  # independent samples
    assert mutual_information(np.repeat(noise, 2)[:20000], 1, 16) > 0.5
    sine = np.sin(2 * np.pi * np.arange(4000) / 100.0)
    # autocorrelation cos(2 pi lag / 100) falls below 1/e at lag 100 acos(1/e) / (2 pi) = 19.0
    assert _autocorrelation_delay(sine, 100) == 20
    incommensurate = np.sin(2 * np.pi * np.arange(4000) / 97.3)
    dim, fractions = choose_embedding_dimension(incommensurate, 25)
    assert dim == 2 and fractions[-1] <= 0.02


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": np.ones(50), "dt": 0.1}, "at least 100"),
        ({"x": np.ones(500), "dt": 0.1}, "constant"),
        ({"x": np.r_[np.arange(300.0), np.nan], "dt": 0.1}, "not finite"),
        ({"x": np.zeros((20, 20)), "dt": 0.1}, "shape"),
        ({"x": np.arange(500.0), "dt": 0.0}, "dt"),
        ({"x": np.arange(500.0), "dt": 1.0, "method": "rosenstein"}, "Rosenstein or Eckmann"),
    ],
)
def test_bad_series_input(kwargs, match):
    with pytest.raises(InputError, match=match):
        lyapunov_from_series(**kwargs)


def test_series_too_short_for_embedding_states_the_minimum():
    x = np.sin(np.arange(400) * 0.3) + 0.1 * np.cos(np.arange(400) * 1.7)
    with pytest.raises(InputError, match=r"at least 740 are needed"):
        lyapunov_from_series(x, dt=0.1, embedding_dimension=10, delay=60)


def test_bad_method_settings():
    with pytest.raises(InputError, match="fit_range"):
        Rosenstein(fit_range=(2.0, 1.0))
    with pytest.raises(InputError, match="num_groups"):
        Rosenstein(num_groups=1)
    with pytest.raises(InputError, match="num_neighbours"):
        Eckmann(num_neighbours=0)


def test_given_fit_range_is_used(lorenz_x):
    r = lyapunov_from_series(
        lorenz_x[:6000], dt=0.01, embedding_dimension=3, delay=16,
        method=Rosenstein(fit_range=(0.5, 2.5), trajectory_steps=400),
    )  # fmt: skip
    lo, hi = r.diagnostics["fit_window"]
    assert 0.5 <= lo < hi <= 2.5 and r.diagnostics["fit_rule"] == "given"


def test_rosenstein_logistic_map_is_ln2():
    x = np.empty(3000)
    x[0] = 0.3
    for i in range(2999):
        x[i + 1] = 4.0 * x[i] * (1.0 - x[i])
    r = lyapunov_from_series(x, dt=1.0, embedding_dimension=1, delay=1)
    assert abs(r.exponents[0] - math.log(2)) < 0.03
