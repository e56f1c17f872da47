"""stabkit.sweep: any analysis over parameter grids and samples, resumable and distributed.

:func:`sweep` runs an analysis (a function, or one of :mod:`stabkit.sweep.analyses`) at
every point of a :class:`Grid`, :class:`LatinHypercube` or :class:`Sobol` sample, on a
local process pool or a Dask cluster, and keeps every finished chunk in a Parquet store
(:mod:`stabkit.sweep.store`) that ``pandas.read_parquet`` reads and that a killed sweep
resumes from.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "sweep": "stabkit.sweep.run",
    "SweepResult": "stabkit.sweep.run",
    "Serial": "stabkit.sweep.run",
    "LocalPool": "stabkit.sweep.run",
    "DaskCluster": "stabkit.sweep.run",
    "Grid": "stabkit.sweep.points",
    "LatinHypercube": "stabkit.sweep.points",
    "Sobol": "stabkit.sweep.points",
    "SweepStore": "stabkit.sweep.store",
    "Equilibria": "stabkit.sweep.analyses",
    "Simulate": "stabkit.sweep.analyses",
    "LargestLyapunov": "stabkit.sweep.analyses",
    "LinearStability": "stabkit.sweep.fast_analyses",
    "NewtonStability": "stabkit.sweep.fast_analyses",
    "sobol_indices": "stabkit.sweep.sensitivity",
    "morris_screening": "stabkit.sweep.sensitivity",
    "SobolIndices": "stabkit.sweep.sensitivity",
    "MorrisResult": "stabkit.sweep.sensitivity",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stabkit.sweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
