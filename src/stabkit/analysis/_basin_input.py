"""Input of :func:`~stabkit.analysis.basins.basins_of_attraction`: grids, samplers, checks."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.model.model import Model

__all__ = ["InitialStates", "Sampler", "check_positive", "initial_states", "parse_range"]


def check_positive(owner: str, name: str, value: Any, *, integer: bool, minimum: float) -> None:
    """Raise InputError unless ``value`` is a finite number (integer if asked) >= minimum."""
    kinds: tuple[type, ...] = (
        (int, np.integer) if integer else (int, float, np.integer, np.floating)
    )
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "an integer" if integer else "a number"
        raise InputError(f"{owner}({name}={value!r}): expected {what} >= {minimum}")
    number = float(value)  # type: ignore[arg-type]
    if not (math.isfinite(number) and number >= minimum):
        raise InputError(f"{owner}({name}={value!r}): expected a finite value >= {minimum}")


def _check_variable(model: Model, name: Any, where: str) -> str:
    if not isinstance(name, str) or name not in model.variables:
        hint = suggest(str(name), model.variables)
        raise InputError(
            f"{where}: {name!r} is not a variable of model {model.name!r} "
            f"(variables: {', '.join(model.variables)})" + (f"; {hint}" if hint else "")
        )
    return name


def parse_range(value: Any, where: str, *, with_num: bool) -> tuple[float, ...]:
    """Check ``(lo, hi)`` or ``(lo, hi, num)``: finite, ``lo < hi``, ``num >= 2``."""
    size = 3 if with_num else 2
    form = "(lo, hi, num), e.g. (-2.0, 2.0, 200)" if with_num else "(lo, hi), e.g. (-2.0, 2.0)"
    try:
        items = tuple(value)
    except TypeError:
        raise InputError(f"{where}={value!r}: expected {form}") from None
    if len(items) != size:
        raise InputError(f"{where}={value!r}: expected {form}")
    try:
        lo, hi = float(items[0]), float(items[1])
    except (TypeError, ValueError):
        raise InputError(f"{where}={value!r}: the ends must be numbers; expected {form}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(f"{where}={value!r}: both ends must be finite")
    if not lo < hi:
        raise InputError(
            f"{where}={value!r}: empty range, the lower end {lo!r} must be below the upper "
            f"end {hi!r}; swap them"
        )
    if not with_num:
        return lo, hi
    num = items[2]
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
        raise InputError(f"{where}={value!r}: the number of points {num!r} must be an integer >= 2")
    return lo, hi, float(num)


@dataclasses.dataclass(frozen=True)
class Sampler:
    """Random initial states, uniform in a box: basin stability (Menck et al. 2013).

    Parameters
    ----------
    bounds
        ``{variable: (lo, hi)}``; variables not named keep the value of ``y0`` (or the
        model's default state).
    num
        Number of states drawn.
    seed
        Seed of ``numpy.random.default_rng``.

    Examples
    --------
    >>> Sampler({"x": (-1.0, 1.0)}, num=1000, seed=1).num
    1000
    """

    bounds: Mapping[str, tuple[float, float]]
    num: int = 1000
    seed: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bounds, Mapping) or not self.bounds:
            raise InputError(
                f"Sampler(bounds={self.bounds!r}): expected a non-empty mapping "
                "{variable: (lo, hi)}, e.g. {'x': (-2, 2)}"
            )
        clean = {
            str(k): parse_range(v, f"Sampler(bounds[{k!r}])", with_num=False)
            for k, v in self.bounds.items()
        }
        object.__setattr__(self, "bounds", clean)
        check_positive("Sampler", "num", self.num, integer=True, minimum=1)


@dataclasses.dataclass(frozen=True)
class InitialStates:
    """The states to map: ``y0s (N, n)``, and the grid shape (``None`` for a sampler)."""

    y0s: np.ndarray
    shape: tuple[int, ...] | None
    axes: Mapping[str, np.ndarray]
    box: Mapping[str, tuple[float, float]]


def initial_states(model: Model, spec: Any, y0: Any) -> InitialStates:
    """Initial states from a grid mapping ``{var: (lo, hi, num)}`` or a :class:`Sampler`."""
    base = model.state_vector(y0)
    n = model.num_variables
    if isinstance(spec, Sampler):
        rng = np.random.default_rng(spec.seed)
        y0s = np.tile(base, (spec.num, 1))
        for name, (lo, hi) in spec.bounds.items():
            j = model.variables.index(_check_variable(model, name, "Sampler(bounds)"))
            y0s[:, j] = rng.uniform(lo, hi, spec.num)
        return InitialStates(y0s, None, {}, dict(spec.bounds))
    if not isinstance(spec, Mapping) or not spec:
        raise InputError(
            f"grid_or_sampler={spec!r}: expected a grid {{variable: (lo, hi, num)}}, e.g. "
            "{'x': (-2, 2, 200), 'y': (-2, 2, 200)}, or a Sampler(bounds, num, seed)"
        )
    axes: dict[str, np.ndarray] = {}
    box: dict[str, tuple[float, float]] = {}
    for name, rng_ in spec.items():
        _check_variable(model, name, "grid")
        lo, hi, num = parse_range(rng_, f"grid[{name!r}]", with_num=True)
        axes[name] = np.linspace(lo, hi, int(num))
        box[name] = (lo, hi)
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    shape = tuple(int(a.size) for a in axes.values())
    y0s = np.tile(base, (int(np.prod(shape)), 1))
    for name, values in zip(axes, mesh, strict=True):
        y0s[:, model.variables.index(name)] = values.ravel()
    if y0s.shape[1] != n:  # pragma: no cover - state_vector guarantees it
        raise InputError("internal: state size mismatch")
    return InitialStates(y0s, shape, axes, box)
