"""The points of a sweep: grids, Latin hypercube and Sobol samples over named quantities.

A sweep point is a mapping ``name -> value`` over model parameters and/or initial-state
variables. :class:`Grid` is a product of 1-D ranges; :class:`LatinHypercube` and
:class:`Sobol` sample a box (``scipy.stats.qmc``) reproducibly from a seed. Every kind
enumerates its points in a fixed order, so that point ``i`` is the same point in every
run and a resumed sweep knows which points are missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.errors import InputError

__all__ = ["Grid", "LatinHypercube", "Points", "Sobol", "as_points", "parse_range"]


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"{where}: {name!r} is not a valid parameter or variable name")
    return name


def _values(name: str, spec: Any, where: str) -> np.ndarray:
    if isinstance(spec, (tuple, list)) and len(spec) == 3 and isinstance(spec[2], int):
        lo, hi, num = spec
        if num < 1:
            raise InputError(f"{where}[{name!r}]=({lo}, {hi}, {num}): need at least 1 point")
        values = np.linspace(float(lo), float(hi), int(num))
    else:
        values = np.atleast_1d(np.asarray(spec, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise InputError(
            f"{where}[{name!r}]: empty range; give (lo, hi, num) with num >= 1 or a list of values"
        )
    if not np.all(np.isfinite(values)):
        raise InputError(f"{where}[{name!r}]: values must be finite")
    return values


@dataclasses.dataclass(frozen=True)
class Grid:
    """Product grid over named ranges; the last name varies fastest.

    Parameters
    ----------
    axes
        ``name -> (lo, hi, num)`` or ``name -> values``.

    Examples
    --------
    >>> g = Grid({"a": (0.0, 1.0, 3), "b": [10.0, 20.0]})
    >>> len(g), g.point(1)
    (6, {'a': 0.0, 'b': 20.0})
    """

    axes: Mapping[str, Any]
    _arrays: dict[str, np.ndarray] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not isinstance(self.axes, Mapping) or not self.axes:
            raise InputError("Grid(axes=...): need a non-empty dict name -> range")
        arrays = {_check_name(k, "Grid"): _values(k, v, "Grid") for k, v in self.axes.items()}
        object.__setattr__(self, "_arrays", arrays)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._arrays)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self._arrays.values())

    def __len__(self) -> int:
        return int(math.prod(self.shape))

    def table(self) -> dict[str, np.ndarray]:
        """All points as columns, in point order."""
        mesh = np.meshgrid(*list(self._arrays.values()), indexing="ij")
        return {n: m.reshape(-1) for n, m in zip(self.names, mesh, strict=True)}

    def point(self, i: int) -> dict[str, float]:
        idx = np.unravel_index(int(i), self.shape)
        arrays = self._arrays
        return {n: float(arrays[n][j]) for n, j in zip(self.names, idx, strict=True)}

    def spec(self) -> dict[str, Any]:
        arrays = self._arrays
        return {"kind": "grid", "axes": {n: arrays[n].tolist() for n in self.names}}


@dataclasses.dataclass(frozen=True)
class _Sampled:
    bounds: Mapping[str, tuple[float, float]]
    num: int
    seed: int = 0
    _table: dict[str, np.ndarray] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    _kind = "sample"

    def __post_init__(self) -> None:
        name = type(self).__name__
        if not isinstance(self.bounds, Mapping) or not self.bounds:
            raise InputError(f"{name}(bounds=...): need a non-empty dict name -> (lo, hi)")
        for k, b in self.bounds.items():
            _check_name(k, name)
            if not (isinstance(b, (tuple, list)) and len(b) == 2):
                raise InputError(f"{name}(bounds[{k!r}]={b!r}): need (lo, hi)")
            lo, hi = float(b[0]), float(b[1])
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise InputError(f"{name}(bounds[{k!r}]=({lo}, {hi})): need finite lo < hi")
        if isinstance(self.num, bool) or not isinstance(self.num, int) or self.num < 1:
            raise InputError(f"{name}(num={self.num!r}): need an integer >= 1")
        object.__setattr__(self, "_table", self._sample())

    def _unit(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self) -> dict[str, np.ndarray]:
        u = self._unit()
        out = {}
        for j, (k, (lo, hi)) in enumerate(self.bounds.items()):
            out[k] = float(lo) + (float(hi) - float(lo)) * u[:, j]
        return out

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.bounds)

    def __len__(self) -> int:
        return int(self.num)

    def table(self) -> dict[str, np.ndarray]:
        return dict(self._table)

    def point(self, i: int) -> dict[str, float]:
        return {k: float(v[int(i)]) for k, v in self._table.items()}

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self._kind,
            "bounds": {k: [float(a), float(b)] for k, (a, b) in self.bounds.items()},
            "num": self.num,
            "seed": self.seed,
        }


@dataclasses.dataclass(frozen=True)
class LatinHypercube(_Sampled):
    """Latin hypercube sample of ``num`` points in a box (``scipy.stats.qmc``), seeded."""

    _kind = "latin_hypercube"

    def _unit(self) -> np.ndarray:
        from scipy.stats import qmc

        return np.asarray(qmc.LatinHypercube(d=len(self.bounds), seed=self.seed).random(self.num))


@dataclasses.dataclass(frozen=True)
class Sobol(_Sampled):
    """Scrambled Sobol sample of ``num`` points in a box (``scipy.stats.qmc``), seeded."""

    _kind = "sobol"

    def _unit(self) -> np.ndarray:
        import warnings

        from scipy.stats import qmc

        with warnings.catch_warnings():  # balance properties want powers of two; any n works
            warnings.simplefilter("ignore", UserWarning)
            return np.asarray(qmc.Sobol(d=len(self.bounds), seed=self.seed).random(self.num))


Points = Grid | LatinHypercube | Sobol


def as_points(over: Any) -> Points:
    """A :class:`Grid` from a dict of ranges, or the sampler itself."""
    if isinstance(over, (Grid, LatinHypercube, Sobol)):
        return over
    if isinstance(over, Mapping):
        return Grid(over)
    raise InputError(
        f"sweep(over={type(over).__name__}): pass a dict name -> (lo, hi, num) or values, "
        "or Grid / LatinHypercube / Sobol"
    )


def points_hash(points: Points) -> str:
    """A content hash of the points (their spec), for the store's bookkeeping."""
    text = json.dumps(points.spec(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_range(text: str) -> tuple[str, Any]:
    """``"b=0:4:200"`` -> ``("b", (0.0, 4.0, 200))``; ``"b=1,2,5"`` -> values.

    Examples
    --------
    >>> parse_range("b=0:4:5")
    ('b', (0.0, 4.0, 5))
    >>> parse_range("a=1,2.5")
    ('a', [1.0, 2.5])
    """
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not rest.strip():
        raise InputError(f"--over {text!r}: write NAME=LO:HI:NUM (e.g. b=0:4:200) or NAME=v1,v2")
    usage = f"--over {text!r}: write NAME=LO:HI:NUM (e.g. b=0:4:200) or NAME=v1,v2"
    if ":" in rest:
        parts = rest.split(":")
        try:
            if len(parts) != 3:
                raise ValueError(text)
            lo, hi, num = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise InputError(usage) from None
        if num < 1:
            raise InputError(f"--over {text!r}: empty range (NUM must be >= 1)")
        return name, (lo, hi, num)
    try:
        return name, [float(v) for v in rest.split(",")]
    except ValueError:
        raise InputError(usage) from None


def describe(points: Points) -> str:
    """A short description, e.g. ``grid b[200] x a[100]``."""
    if isinstance(points, Grid):
        return "grid " + " x ".join(
            f"{n}[{s}]" for n, s in zip(points.names, points.shape, strict=True)
        )
    return f"{points.spec()['kind']} of {len(points)} points over {', '.join(points.names)}"


def _names(points: Points) -> Sequence[str]:
    return points.names
