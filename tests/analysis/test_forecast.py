"""Forecast harness: metrics against hand computations, forecasters on systems they can learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stabkit.analysis.forecast import (
    NVAR,
    EchoStateNetwork,
    LastValue,
    MLPForecaster,
    dominant_period,
    evaluate_forecasters,
    smape,
    valid_prediction_time,
)
from stabkit.errors import InputError


def _henon_like(num: int) -> np.ndarray:
    """A 2-D quadratic recurrence x_{t+1} = x_t + f(x_t): NVAR's own model class."""
    z = np.empty((num, 2))
    z[0] = (0.1, 0.0)
    for t in range(num - 1):
        x, y = z[t]
        z[t + 1] = (1 - 1.4 * x * x + y, 0.3 * x)
    return z


def test_smape_by_hand():
    assert smape([[1.0, 2.0]], [[1.0, 2.0]]) == 0.0
    # |1 - 3| / (1 + 3) = 0.5 and |2 - 2| / 4 = 0: mean 0.25, times 200
    assert smape([[1.0, 2.0]], [[3.0, 2.0]]) == pytest.approx(50.0)
    assert smape([[0.0]], [[0.0]]) == 0.0
    assert smape([[1.0]], [[np.nan]]) == 200.0
    with pytest.raises(InputError, match="same shape"):
        smape([[1.0, 2.0]], [[1.0]])


@given(
    a=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=30),
    b=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=30),
)
def test_smape_bounds_and_symmetry(a, b):
    k = min(len(a), len(b))
    x, y = np.array(a[:k]), np.array(b[:k])
    s = smape(x, y)
    assert 0.0 <= s <= 200.0 + 1e-9
    assert s == pytest.approx(smape(y, x))


def test_valid_prediction_time_rules():
    truth = np.ones((10, 1))
    assert valid_prediction_time(truth, truth, 0.1) == pytest.approx(1.0)  # never fails
    bad = truth.copy()
    bad[4:] = 3.0  # per-step sMAPE 100 from step 5: running mean 20 at 5, 33.3 at 6
    assert valid_prediction_time(truth, bad, 0.1) == pytest.approx(0.5)
    assert valid_prediction_time(truth, bad, 0.1, threshold=10.0) == pytest.approx(0.4)
    with pytest.raises(InputError, match="dt"):
        valid_prediction_time(truth, truth, 0.0)


def test_dominant_period_of_a_sine():
    t = np.arange(4000) * 0.01
    assert dominant_period(t, np.sin(2 * math.pi * t / 1.7)) == pytest.approx(1.7, rel=2e-3)


def test_nvar_learns_a_quadratic_map_exactly():
    z = _henon_like(400)
    fitted = NVAR(delays=1, degree=2, ridge=0.0).fit(z[:300])
    pred = fitted.forecast(z[:300], 20)
    # the Henon map is inside NVAR's feature space: 20 steps agree to round-off growth
    assert np.max(np.abs(pred - z[300:320])) < 1e-6


def test_esn_and_nvar_follow_a_sine_wave_and_persistence_does_not():
    t = np.arange(1500) * 0.05
    wave = np.column_stack([np.sin(t), np.cos(t)])
    res = evaluate_forecasters(
        wave,
        {"nvar": NVAR(), "esn": EchoStateNetwork(size=100), "last": LastValue()},
        dt=0.05,
        lyapunov_exponent=1.0,
        num_train=800,
        horizon=200,
        num_windows=3,
    )
    assert res.ok
    assert res.mean_vpt("nvar")[0] == pytest.approx(200 * 0.05)
    assert res.mean_vpt("esn")[0] > 5.0
    assert res.mean_vpt("last")[0] < 1.5
    frame = res.to_frame()
    assert list(frame["forecaster"]) == ["nvar", "esn", "last"]
    assert frame.loc[0, "smape"] < 1.0


def test_mlp_fits_and_forecasts_when_torch_is_there():
    pytest.importorskip("torch")
    t = np.arange(800) * 0.05
    wave = np.column_stack([np.sin(t), np.cos(t)])
    fitted = MLPForecaster(epochs=200, hidden=16).fit(wave[:600])
    pred = fitted.forecast(wave[:600], 20)
    assert pred.shape == (20, 2)
    assert smape(wave[600:620], pred) < 20.0


def test_a_failing_forecaster_is_reported_not_raised():
    class Broken:
        def fit(self, train):
            raise ValueError("cannot learn this")

    wave = np.sin(np.arange(300) * 0.1)[:, None]
    res = evaluate_forecasters(
        wave, {"broken": Broken(), "last": LastValue()}, dt=0.1, lyapunov_exponent=1.0,
        num_train=100, horizon=20, num_windows=2,
    )  # fmt: skip
    assert res.status == "partial" and "cannot learn this" in res.message
    assert np.all(np.isnan(res.vpt["broken"]))
    assert np.all(np.isfinite(res.vpt["last"]))


def test_bad_input():
    wave = np.sin(np.arange(100) * 0.1)[:, None]
    with pytest.raises(InputError, match="fewer than"):
        evaluate_forecasters(wave, {"n": NVAR()}, dt=0.1, lyapunov_exponent=1.0,
                             num_train=80, horizon=30)  # fmt: skip
    with pytest.raises(InputError, match="lyapunov_exponent"):
        evaluate_forecasters(wave, {"n": NVAR()}, dt=0.1, lyapunov_exponent=0.0,
                             num_train=50, horizon=5)  # fmt: skip
    with pytest.raises(InputError, match="fit"):
        evaluate_forecasters(wave, {"n": object()}, dt=0.1, lyapunov_exponent=1.0,
                             num_train=50, horizon=5)  # fmt: skip
    with pytest.raises(InputError, match="delays"):
        NVAR(delays=0)
    with pytest.raises(InputError, match="leak_rate"):
        EchoStateNetwork(leak_rate=2.0)
    with pytest.raises(InputError, match="shape"):
        NVAR().fit(np.ones((2, 2)))
