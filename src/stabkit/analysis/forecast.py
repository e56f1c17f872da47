r"""Forecast horizons of chaotic systems: a harness any forecaster plugs into.

Following Gilpin (2023), a forecaster is trained on the first part of a trajectory sampled
with ``points_per_period`` points per dominant period, then forecasts from windows of
history in the part it never saw, in closed loop. Each forecast is scored by

* the symmetric mean absolute percentage error
  :math:`\mathrm{sMAPE} = 200\,\langle |x - y| / (|x| + |y|) \rangle`
  (mean over time steps and variables; 0/0 counts as 0), and
* the valid prediction time: the first time at which the running sMAPE of the forecast
  (over its steps so far) exceeds ``threshold`` (30), in units of the Lyapunov time
  :math:`1/\lambda` (``t_valid * lambda``). (The threshold rule follows the paper's
  specification here, which is marked unverified.)

A forecaster is any object with ``fit(train) -> fitted`` where ``fitted.window`` is the
history it needs and ``fitted.forecast(history, steps) -> (steps, n)``; :class:`NVAR`,
:class:`EchoStateNetwork`, :class:`MLPForecaster` (torch) and :class:`LastValue` come
with stabkit.

Reference: Gilpin, W. (2023). Model scale versus domain knowledge in statistical
forecasting of chaotic systems. Phys. Rev. Research 5, 043252 (arXiv 2303.08011).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._forecasters import (
    NVAR,
    EchoStateNetwork,
    FittedForecaster,
    Forecaster,
    LastValue,
    MLPForecaster,
)
from stabkit.errors import InputError
from stabkit.model.model import Model, ModelKind
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NVAR",
    "EchoStateNetwork",
    "FittedForecaster",
    "ForecastResult",
    "Forecaster",
    "LastValue",
    "MLPForecaster",
    "chaotic_series",
    "dominant_period",
    "evaluate_forecasters",
    "smape",
    "valid_prediction_time",
]


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=float)
    b = np.asarray(y_pred, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] == 0:
        raise InputError(
            f"y_true has shape {a.shape} and y_pred {b.shape}: give two arrays of the same "
            "shape (steps, n)"
        )
    return a, b


def _step_smape(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    den = np.abs(a) + np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, np.abs(a - b) / den, 0.0)
    ratio = np.where(np.isfinite(b), ratio, 1.0)  # a failed forecast is maximally wrong
    return 200.0 * ratio.mean(axis=1)


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric mean absolute percentage error, in percent (0 to 200).

    Examples
    --------
    >>> smape([1.0, 2.0], [1.0, 2.0])
    0.0
    >>> smape([1.0], [-1.0])
    200.0
    """
    a, b = _pair(y_true, y_pred)
    return float(_step_smape(a, b).mean())


def valid_prediction_time(y_true: Any, y_pred: Any, dt: float, *, threshold: float = 30.0) -> float:
    """Time until the running sMAPE of a forecast first exceeds ``threshold``.

    Parameters
    ----------
    y_true, y_pred
        ``(steps, n)``: the truth and the forecast at times ``dt, 2 dt, ...``.
    dt
        Time between steps.
    threshold
        sMAPE level (percent).

    Returns
    -------
    float
        ``k * dt`` for the first step ``k`` (1-based) whose running sMAPE exceeds the
        threshold, minus one step (the forecast was valid up to the step before); the
        whole horizon when it never does.

    Examples
    --------
    >>> valid_prediction_time([[1.0]] * 4, [[1.0], [1.0], [3.0], [3.0]], 0.5)
    1.0
    """
    a, b = _pair(y_true, y_pred)
    if not (math.isfinite(dt) and dt > 0):
        raise InputError(f"dt={dt!r}: expected a time step > 0")
    running = np.cumsum(_step_smape(a, b)) / np.arange(1, a.shape[0] + 1)
    over = np.flatnonzero(running > threshold)
    k = int(over[0]) if over.size else a.shape[0]
    return k * dt


def dominant_period(t: Any, y: Any) -> float:
    """Period of the highest peak of the power spectrum (summed over variables).

    Parameters
    ----------
    t
        Equally spaced times ``(T,)``.
    y
        Values ``(T,)`` or ``(T, n)``.
    """
    tt = np.asarray(t, dtype=float)
    yy = np.asarray(y, dtype=float)
    if yy.ndim == 1:
        yy = yy[:, None]
    if tt.ndim != 1 or yy.shape[0] != tt.size or tt.size < 8:
        raise InputError(
            "dominant_period: need equally spaced times (T,) and values (T, n), T >= 8"
        )
    dt = float(tt[1] - tt[0])
    yy = yy - yy.mean(axis=0)
    window = np.hanning(tt.size)[:, None]
    power = (np.abs(np.fft.rfft(yy * window, axis=0)) ** 2).sum(axis=1)
    freqs = np.fft.rfftfreq(tt.size, dt)
    k = int(np.argmax(power[1:])) + 1
    if 1 <= k < power.size - 1:  # parabolic refinement of the peak
        y0, y1, y2 = np.log(power[k - 1 : k + 2] + 1e-300)
        denom = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
        f = freqs[k] + shift * (freqs[1] - freqs[0])
    else:
        f = freqs[k]
    return float(1.0 / f)


def chaotic_series(
    model: Model,
    *,
    period: float,
    num_periods: float,
    points_per_period: int = 100,
    params: Mapping[str, float] | None = None,
    y0: Any = None,
    t_transient: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A trajectory on the attractor sampled ``points_per_period`` times per period.

    Integrates with :func:`stabkit.solve` (DOP853, rtol 1e-10) from ``y0`` for
    ``t_transient``, then records ``num_periods * points_per_period`` points.

    Returns
    -------
    (t, y)
        Times ``(T,)`` starting at 0 and states ``(T, n)``.
    """
    from stabkit.integrate.methods import DOP853
    from stabkit.integrate.solve import solve

    if not isinstance(model, Model) or model.kind is not ModelKind.ODE:
        raise InputError(f"model={model!r}: chaotic_series needs an 'ode' model")
    for name, value in (("period", period), ("num_periods", num_periods)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"chaotic_series({name}={value!r}): expected a number > 0")
    dt = period / points_per_period
    num = round(num_periods * points_per_period)
    t_eval = t_transient + dt * np.arange(num)
    traj = solve(
        model, y0, (0.0, float(t_eval[-1])), method=DOP853(rtol=1e-10, atol=1e-12),
        t_eval=t_eval, params=params,
    )  # fmt: skip
    if not traj.ok:
        raise InputError(f"chaotic_series: the integration failed ({traj.message})")
    return t_eval - t_transient, np.asarray(traj.y)


@dataclasses.dataclass(frozen=True)
class ForecastResult(Result):
    """Result of :func:`evaluate_forecasters`.

    Attributes
    ----------
    names
        Forecaster names, in the order given.
    vpt
        ``{name: (num_windows,)}`` valid prediction times in Lyapunov times.
    smape
        ``{name: (num_windows,)}`` sMAPE over the whole horizon.
    fit_seconds
        ``{name: seconds}`` spent in ``fit``.
    forecasts
        ``{name: (horizon, n)}`` the forecast from the first window (for figures).
    truth
        ``(horizon, n)`` the truth of the first window.
    dt, lyapunov_exponent, num_train, horizon
        The protocol.
    errors
        ``{name: message}`` of forecasters that failed (their scores are NaN).
    """

    names: tuple[str, ...] = ()
    vpt: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    smape: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    fit_seconds: Mapping[str, float] = dataclasses.field(default_factory=dict)
    forecasts: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    truth: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    dt: float = 0.0
    lyapunov_exponent: float = math.nan
    num_train: int = 0
    horizon: int = 0
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def mean_vpt(self, name: str) -> tuple[float, float]:
        """(mean, standard error) of the valid prediction time in Lyapunov times."""
        v = np.asarray(self.vpt[name], dtype=float)
        se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
        return float(v.mean()), se

    def to_frame(self) -> pd.DataFrame:
        """One row per forecaster: VPT (Lyapunov times) and sMAPE, means and errors."""
        import pandas as pd

        rows = []
        for name in self.names:
            v, se = self.mean_vpt(name)
            s = np.asarray(self.smape[name], dtype=float)
            rows.append(
                {
                    "forecaster": name,
                    "vpt_lyapunov_times": v,
                    "vpt_standard_error": se,
                    "smape": float(s.mean()),
                    "smape_standard_error": float(s.std(ddof=1) / math.sqrt(s.size))
                    if s.size > 1
                    else math.nan,
                    "fit_seconds": self.fit_seconds.get(name, math.nan),
                }
            )
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """The first window's forecasts against the truth (first variable)."""
        from stabkit.report.figures import new_figure

        if ax is None:
            _, (ax,) = new_figure(figsize=(8.0, 3.8))
        variable = int(kwargs.get("variable", 0))
        lyap_t = np.arange(1, self.horizon + 1) * self.dt * self.lyapunov_exponent
        ax.plot(lyap_t, self.truth[:, variable], color="black", linewidth=2.0, label="truth")
        for name in self.names:
            f = self.forecasts.get(name)
            if f is not None and f.size:
                ax.plot(lyap_t, f[:, variable], label=name)
        ax.set_xlabel("Lyapunov times")
        ax.set_ylabel(f"variable {variable}")
        ax.legend(loc="upper left", fontsize=8)
        return ax


def evaluate_forecasters(
    series: Any,
    forecasters: Mapping[str, Any],
    *,
    dt: float,
    lyapunov_exponent: float,
    num_train: int,
    horizon: int,
    num_windows: int = 5,
    threshold: float = 30.0,
) -> ForecastResult:
    """Train each forecaster on ``series[:num_train]`` and score closed-loop forecasts.

    Parameters
    ----------
    series
        ``(T, n)`` a trajectory sampled every ``dt``.
    forecasters
        ``{name: forecaster}`` (objects with ``fit(train)``; see the module docstring).
    dt
        Time between samples.
    lyapunov_exponent
        Largest Lyapunov exponent (> 0): VPTs are reported in units of ``1/lambda``.
    num_train
        Training points (the first ones).
    horizon
        Steps forecast from each window.
    num_windows
        Test windows, spaced evenly after the training part (each starts where the
        history of the preceding points ends).
    threshold
        sMAPE threshold of the valid prediction time.

    Returns
    -------
    ForecastResult
        ``status`` ``"partial"`` when a forecaster failed (its error is kept, the others
        are scored).

    Raises
    ------
    InputError
        Bad shapes or settings, or a series too short for training plus the windows.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(600) * 0.05
    >>> wave = np.column_stack([np.sin(t), np.cos(t)])
    >>> res = evaluate_forecasters(wave, {"nvar": NVAR()}, dt=0.05, lyapunov_exponent=1.0,
    ...                            num_train=400, horizon=50, num_windows=2)
    >>> bool(res.mean_vpt("nvar")[0] == 50 * 0.05)
    True
    """
    data = np.asarray(series, dtype=float)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or not np.all(np.isfinite(data)):
        raise InputError(f"series: expected a finite array (T, n); got shape {data.shape}")
    if not isinstance(forecasters, Mapping) or not forecasters:
        raise InputError("forecasters: give a non-empty mapping {name: forecaster}")
    for name, f in forecasters.items():
        if not callable(getattr(f, "fit", None)):
            raise InputError(f"forecasters[{name!r}]={f!r}: has no fit(train) method")
    if not (math.isfinite(lyapunov_exponent) and lyapunov_exponent > 0):
        raise InputError(f"lyapunov_exponent={lyapunov_exponent!r}: expected a number > 0")
    for label, value, low in (("num_train", num_train, 2), ("horizon", horizon, 1),
                              ("num_windows", num_windows, 1)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(f"{label}={value!r}: expected an integer >= {low}")
    test_len = data.shape[0] - num_train
    if test_len < horizon * num_windows:
        raise InputError(
            f"series of {data.shape[0]} points: {num_train} for training leave {test_len}, "
            f"fewer than num_windows * horizon = {num_windows * horizon}; give a longer "
            "series or fewer windows"
        )
    starts = num_train + (np.arange(num_windows) * ((test_len - horizon) // max(num_windows, 1)))
    began = time.perf_counter()
    vpt: dict[str, np.ndarray] = {}
    sm: dict[str, np.ndarray] = {}
    fits: dict[str, float] = {}
    first: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    for name, spec in forecasters.items():
        v = np.full(num_windows, np.nan)
        s = np.full(num_windows, np.nan)
        try:
            t0 = time.perf_counter()
            fitted = spec.fit(data[:num_train])
            fits[name] = time.perf_counter() - t0
            for w, start in enumerate(starts):
                history = data[max(0, start - max(fitted.window, 1)) : start]
                pred = np.asarray(fitted.forecast(history, horizon), dtype=float)
                truth = data[start : start + horizon]
                v[w] = valid_prediction_time(truth, pred, dt, threshold=threshold)
                v[w] *= lyapunov_exponent
                s[w] = smape(truth, pred)
                if w == 0:
                    first[name] = pred
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
        vpt[name], sm[name] = v, s
    wall = time.perf_counter() - began
    return ForecastResult(
        status="partial" if errors else "ok",
        message="; ".join(f"{k} failed: {m}" for k, m in errors.items()),
        stats=Stats(wall_time=wall),
        provenance=Provenance(analysis="evaluate_forecasters", method=repr(dict(forecasters))),
        names=tuple(forecasters),
        vpt=vpt,
        smape=sm,
        fit_seconds=fits,
        forecasts=first,
        truth=data[starts[0] : starts[0] + horizon],
        dt=float(dt),
        lyapunov_exponent=float(lyapunov_exponent),
        num_train=int(num_train),
        horizon=int(horizon),
        errors=errors,
    )
