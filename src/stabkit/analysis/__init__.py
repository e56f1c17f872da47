"""What stability a system has (equilibria, continuation, Lyapunov spectra, basins, ...).

Names load lazily on first use, so that ``import stabkit.analysis`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    # equilibria and linear stability
    "find_equilibria": "stabkit.analysis.equilibria",
    "EquilibriaResult": "stabkit.analysis.equilibria",
    "Equilibrium": "stabkit.analysis.equilibria",
    "EquilibriumMethod": "stabkit.analysis.equilibria",
    "Algebraic": "stabkit.analysis.equilibria",
    "IntervalNewton": "stabkit.analysis.equilibria",
    "MultiStartNewton": "stabkit.analysis.equilibria",
    "Auto": "stabkit.analysis.equilibria",
    "linear_stability": "stabkit.analysis.stability",
    "classify_eigenvalues": "stabkit.analysis.stability",
    "LinearStability": "stabkit.analysis.stability",
    "StabilityType": "stabkit.analysis.stability",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stabkit.analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
