"""Forecasters for :func:`~stabkit.analysis.forecast.evaluate_forecasters`.

A forecaster is a frozen dataclass of settings; ``fit(train)`` returns a fitted forecaster
with ``window`` (points of history it needs) and ``forecast(history, steps)``. All of them
work in variables scaled by the training mean and standard deviation and predict the
increment ``x_{t+1} - x_t`` (NVAR, MLP) or the next state (ESN), iterated on their own
output (closed loop).

* :class:`NVAR`: next-generation reservoir computing (Gauthier, Bollt, Griffith & Barbosa
  2021, Nat. Commun. 12, 5564): a constant, ``delays`` time-delayed copies of the state
  ``skip`` steps apart, and every monomial of them up to ``degree``; ridge regression.
* :class:`EchoStateNetwork`: a leaky tanh reservoir (Jaeger 2001; Pathak et al. 2018, PRL
  120, 024103) with a ridge readout on ``[1, r, r^2]``; numpy only.
* :class:`MLPForecaster`: a small multilayer perceptron on delay vectors (torch, optional).
* :class:`LastValue`: the naive forecast (persistence).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

from stabkit.errors import InputError

__all__ = [
    "NVAR",
    "EchoStateNetwork",
    "FittedForecaster",
    "Forecaster",
    "LastValue",
    "MLPForecaster",
]


def _int(owner: object, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(
            f"{type(owner).__name__}({name}={value!r}): expected an integer >= {minimum}"
        )


def _pos(owner: object, name: str, value: Any, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or (value < 0 if allow_zero else value <= 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{type(owner).__name__}({name}={value!r}): expected a number {bound}")


def _check_series(data: Any, where: str, min_len: int) -> np.ndarray:
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < min_len:
        raise InputError(
            f"{where}: expected an array of shape (T, n) with T >= {min_len}; got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{where}: contains NaN or infinity")
    return arr


def _ridge(features: np.ndarray, targets: np.ndarray, alpha: float) -> np.ndarray:
    """W minimising |F W - Y|^2 + alpha |W|^2 (features (m, p), targets (m, n))."""
    gram = features.T @ features
    gram[np.diag_indices_from(gram)] += alpha
    return np.linalg.solve(gram, features.T @ targets)


@dataclasses.dataclass(frozen=True)
class Scaler:
    """Per-variable standardisation fitted on the training data."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray) -> Scaler:
        std = data.std(axis=0)
        return cls(data.mean(axis=0), np.where(std > 0, std, 1.0))

    def to(self, data: np.ndarray) -> np.ndarray:
        return (data - self.mean) / self.std

    def back(self, data: np.ndarray) -> np.ndarray:
        return data * self.std + self.mean


class FittedForecaster:
    """A trained forecaster: ``forecast(history, steps) -> (steps, n)``."""

    window: int = 1

    def forecast(self, history: np.ndarray, steps: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Forecaster:
    """Base of the forecaster settings objects."""

    def fit(self, train: np.ndarray) -> FittedForecaster:  # pragma: no cover
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__


# --------------------------------------------------------------------------- naive
class _FittedLast(FittedForecaster):
    window = 1

    def forecast(self, history: np.ndarray, steps: int) -> np.ndarray:
        return np.repeat(np.asarray(history)[-1:], steps, axis=0)


@dataclasses.dataclass(frozen=True)
class LastValue(Forecaster):
    """Persistence: the last observed state, forever."""

    def fit(self, train: np.ndarray) -> FittedForecaster:
        _check_series(train, "LastValue.fit(train)", 1)
        return _FittedLast()


# --------------------------------------------------------------------------- NVAR
def _monomials(num_linear: int, degree: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    for d in range(2, degree + 1):
        out.extend(itertools.combinations_with_replacement(range(num_linear), d))
    return out


def _nvar_features(lin: np.ndarray, monos: list[tuple[int, ...]]) -> np.ndarray:
    cols = [np.ones((lin.shape[0], 1)), lin]
    if monos:
        cols.append(np.stack([np.prod(lin[:, list(m)], axis=1) for m in monos], axis=1))
    return np.concatenate(cols, axis=1)


class _FittedNVAR(FittedForecaster):
    def __init__(self, spec: NVAR, scaler: Scaler, weights: np.ndarray) -> None:
        self.spec = spec
        self.scaler = scaler
        self.weights = weights
        self.window = (spec.delays - 1) * spec.skip + 1
        n = scaler.mean.size
        self.monos = _monomials(n * spec.delays, spec.degree)

    def _linear(self, z: np.ndarray, end: int) -> np.ndarray:
        s = self.spec
        return np.concatenate([z[end - k * s.skip] for k in range(s.delays)])

    def forecast(self, history: np.ndarray, steps: int) -> np.ndarray:
        z = list(self.scaler.to(_check_series(history, "forecast(history)", self.window)))
        out = np.empty((steps, self.scaler.mean.size))
        for i in range(steps):
            arr = np.asarray(z[-self.window :])
            lin = self._linear(arr, arr.shape[0] - 1)[None, :]
            with np.errstate(over="ignore", invalid="ignore"):  # a blow-up ends the forecast
                nxt = arr[-1] + (_nvar_features(lin, self.monos) @ self.weights)[0]
            if not np.all(np.isfinite(nxt)):
                out[i:] = np.nan
                break
            z.append(nxt)
            out[i] = nxt
        return self.scaler.back(out)


@dataclasses.dataclass(frozen=True)
class NVAR(Forecaster):
    """Next-generation reservoir computer: polynomial features of delayed states, ridge.

    Parameters
    ----------
    delays
        Delayed copies of the state in the linear part (``k``).
    skip
        Steps between delays (``s``).
    degree
        Highest monomial degree of the nonlinear part.
    ridge
        Ridge regularisation.
    """

    delays: int = 2
    skip: int = 1
    degree: int = 2
    ridge: float = 1e-6

    def __post_init__(self) -> None:
        _int(self, "delays", self.delays, 1)
        _int(self, "skip", self.skip, 1)
        _int(self, "degree", self.degree, 1)
        _pos(self, "ridge", self.ridge, allow_zero=True)

    def fit(self, train: np.ndarray) -> FittedForecaster:
        window = (self.delays - 1) * self.skip + 1
        data = _check_series(train, "NVAR.fit(train)", window + 2)
        scaler = Scaler.fit(data)
        z = scaler.to(data)
        rows = range(window - 1, z.shape[0] - 1)
        lin = np.stack(
            [np.concatenate([z[t - k * self.skip] for k in range(self.delays)]) for t in rows]
        )
        monos = _monomials(lin.shape[1], self.degree)
        feats = _nvar_features(lin, monos)
        targets = np.stack([z[t + 1] - z[t] for t in rows])
        return _FittedNVAR(self, scaler, _ridge(feats, targets, self.ridge))


# --------------------------------------------------------------------------- ESN
class _FittedESN(FittedForecaster):
    def __init__(self, spec: EchoStateNetwork, scaler: Scaler, mats: dict[str, np.ndarray]):
        self.spec = spec
        self.scaler = scaler
        self.mats = mats
        self.window = spec.washout

    def _step(self, r: np.ndarray, u: np.ndarray) -> np.ndarray:
        a = self.spec.leak_rate
        m = self.mats
        return (1 - a) * r + a * np.tanh(m["w"] @ r + m["w_in"] @ u + m["bias"])

    def forecast(self, history: np.ndarray, steps: int) -> np.ndarray:
        z = self.scaler.to(_check_series(history, "forecast(history)", self.window))
        r = np.zeros(self.spec.size)
        for u in z[-self.window :]:
            r = self._step(r, u)
        out = np.empty((steps, z.shape[1]))
        w_out = self.mats["w_out"]
        for i in range(steps):
            with np.errstate(over="ignore", invalid="ignore"):
                u = _readout(r) @ w_out
            if not np.all(np.isfinite(u)):
                out[i:] = np.nan
                break
            out[i] = u
            r = self._step(r, u)
        return self.scaler.back(out)


def _readout(r: np.ndarray) -> np.ndarray:
    return np.concatenate([[1.0], r, r * r])


@dataclasses.dataclass(frozen=True)
class EchoStateNetwork(Forecaster):
    """Echo-state network (reservoir computer) with a ridge readout.

    Parameters
    ----------
    size
        Reservoir nodes.
    spectral_radius
        Largest eigenvalue modulus of the reservoir matrix.
    leak_rate
        Leak ``a``: ``r <- (1 - a) r + a tanh(W r + W_in u + b)``.
    input_scale, density
        Input weights uniform in ``[-input_scale, input_scale]``; fraction of non-zero
        reservoir weights.
    ridge
        Ridge regularisation of the readout.
    washout
        Points used to synchronise the reservoir before fitting or forecasting (the
        ``window`` of history a forecast needs).
    seed
        Seed of the random reservoir.
    """

    size: int = 300
    spectral_radius: float = 0.9
    leak_rate: float = 0.6
    input_scale: float = 0.5
    density: float = 0.05
    ridge: float = 1e-6
    washout: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        _int(self, "size", self.size, 2)
        _int(self, "washout", self.washout, 1)
        _int(self, "seed", self.seed, 0)
        for name in ("spectral_radius", "leak_rate", "input_scale", "density"):
            _pos(self, name, getattr(self, name))
        _pos(self, "ridge", self.ridge, allow_zero=True)
        if self.leak_rate > 1 or self.density > 1:
            raise InputError(
                f"EchoStateNetwork(leak_rate={self.leak_rate!r}, density={self.density!r}): "
                "both must be at most 1"
            )

    def fit(self, train: np.ndarray) -> FittedForecaster:
        data = _check_series(train, "EchoStateNetwork.fit(train)", self.washout + 10)
        scaler = Scaler.fit(data)
        z = scaler.to(data)
        rng = np.random.default_rng(self.seed)
        n = z.shape[1]
        w = rng.standard_normal((self.size, self.size)) * (
            rng.random((self.size, self.size)) < self.density
        )
        radius = float(np.max(np.abs(np.linalg.eigvals(w))))
        if radius > 0:
            w *= self.spectral_radius / radius
        mats = {
            "w": w,
            "w_in": rng.uniform(-self.input_scale, self.input_scale, (self.size, n)),
            "bias": rng.uniform(-0.1, 0.1, self.size),
        }
        fitted = _FittedESN(self, scaler, mats)
        r = np.zeros(self.size)
        states = []
        for u in z[:-1]:
            r = fitted._step(r, u)
            states.append(_readout(r))
        feats = np.asarray(states)[self.washout - 1 :]
        targets = z[self.washout :]
        mats["w_out"] = _ridge(feats, targets, self.ridge)
        return fitted


# --------------------------------------------------------------------------- MLP (torch)
class _FittedMLP(FittedForecaster):
    def __init__(self, spec: MLPForecaster, scaler: Scaler, net: Any) -> None:
        self.spec = spec
        self.scaler = scaler
        self.net = net
        self.window = spec.delays

    def forecast(self, history: np.ndarray, steps: int) -> np.ndarray:
        import torch

        z = self.scaler.to(_check_series(history, "forecast(history)", self.window))
        buf = [row for row in z[-self.window :]]
        out = np.empty((steps, z.shape[1]))
        with torch.no_grad():
            for i in range(steps):
                x = torch.as_tensor(np.concatenate(buf[-self.window :]), dtype=torch.float64)
                nxt = buf[-1] + self.net(x[None, :]).numpy()[0]
                if not np.all(np.isfinite(nxt)):
                    out[i:] = np.nan
                    break
                buf.append(nxt)
                out[i] = nxt
        return self.scaler.back(out)


@dataclasses.dataclass(frozen=True)
class MLPForecaster(Forecaster):
    """A small multilayer perceptron on delay vectors (needs torch).

    Parameters
    ----------
    delays
        Consecutive states in the input.
    hidden
        Width of each of the two hidden layers (tanh).
    epochs, learning_rate
        Full-batch Adam steps and step size.
    seed
        Seed of torch's generator for the initial weights.
    """

    delays: int = 4
    hidden: int = 64
    epochs: int = 600
    learning_rate: float = 3e-3
    seed: int = 0

    def __post_init__(self) -> None:
        _int(self, "delays", self.delays, 1)
        _int(self, "hidden", self.hidden, 1)
        _int(self, "epochs", self.epochs, 1)
        _int(self, "seed", self.seed, 0)
        _pos(self, "learning_rate", self.learning_rate)

    def fit(self, train: np.ndarray) -> FittedForecaster:
        try:
            import torch
        except ImportError:  # pragma: no cover - depends on the environment
            raise InputError(
                "MLPForecaster needs torch; install it with: pip install 'stabkit[learn]'"
            ) from None
        data = _check_series(train, "MLPForecaster.fit(train)", self.delays + 2)
        scaler = Scaler.fit(data)
        z = scaler.to(data)
        d = self.delays
        x = np.stack([z[t - d + 1 : t + 1].ravel() for t in range(d - 1, z.shape[0] - 1)])
        y = np.stack([z[t + 1] - z[t] for t in range(d - 1, z.shape[0] - 1)])
        gen = torch.Generator().manual_seed(self.seed)
        n = z.shape[1]
        layers = [
            torch.nn.Linear(d * n, self.hidden),
            torch.nn.Tanh(),
            torch.nn.Linear(self.hidden, self.hidden),
            torch.nn.Tanh(),
            torch.nn.Linear(self.hidden, n),
        ]
        net = torch.nn.Sequential(*layers).double()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.3)
        xt = torch.as_tensor(x)
        yt = torch.as_tensor(y)
        scale = float(yt.std()) or 1.0
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a network this small only loses time to threading
        try:
            for _ in range(self.epochs):
                opt.zero_grad()
                loss = torch.mean((net(xt) - yt / scale) ** 2)
                loss.backward()
                opt.step()
        finally:
            torch.set_num_threads(threads)
        net.eval()
        final = torch.nn.Sequential(net, _Scale(scale)).double()
        return _FittedMLP(self, scaler, final)


def _Scale(factor: float) -> Any:
    import torch

    class Scale(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * factor

    return Scale()
