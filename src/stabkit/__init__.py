"""stabkit: is it stable, where does it lose stability, and why?

The public API is loaded lazily so that ``import stabkit`` stays fast; every name in
``__all__`` resolves on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # model
    "Model": "stabkit.model.model",
    "ModelKind": "stabkit.model.model",
    "load_model": "stabkit.model.files",
    "save_model": "stabkit.model.files",
    "library": "stabkit.model.library",
    # integration
    "solve": "stabkit.integrate.solve",
    "solve_ensemble": "stabkit.integrate.solve",
    "Dopri5": "stabkit.integrate.methods",
    "Tsit5": "stabkit.integrate.methods",
    "DOP853": "stabkit.integrate.methods",
    "RK4": "stabkit.integrate.methods",
    "Rodas5": "stabkit.integrate.methods",
    "Rosenbrock23": "stabkit.integrate.methods",
    "Auto": "stabkit.integrate.methods",
    "Event": "stabkit.integrate.methods",
    "Trajectory": "stabkit.integrate.trajectory",
    "Ensemble": "stabkit.integrate.trajectory",
    "MemberStatus": "stabkit.integrate.trajectory",
    # analysis: equilibria and linear stability
    "find_equilibria": "stabkit.analysis.equilibria",
    "EquilibriaResult": "stabkit.analysis.equilibria",
    "Equilibrium": "stabkit.analysis.equilibria",
    "Algebraic": "stabkit.analysis.equilibria",
    "IntervalNewton": "stabkit.analysis.equilibria",
    "MultiStartNewton": "stabkit.analysis.equilibria",
    "linear_stability": "stabkit.analysis.stability",
    "LinearStability": "stabkit.analysis.stability",
    "StabilityType": "stabkit.analysis.stability",
    # errors
    "StabkitError": "stabkit.errors",
    "ModelError": "stabkit.errors",
    "InputError": "stabkit.errors",
    "ConvergenceError": "stabkit.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stabkit' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if name == "library" and module.endswith("library") else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
