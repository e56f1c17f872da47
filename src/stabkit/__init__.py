"""stabkit: is it stable, where does it lose stability, and why?

The public API is loaded lazily so that ``import stabkit`` stays fast; every name in
``__all__`` resolves on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from stabkit.analysis import _LAZY as _ANALYSIS_LAZY

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
    # stochastic simulation
    "Direct": "stabkit.integrate.ssa",
    "NextReaction": "stabkit.integrate.ssa",
    "SSAResult": "stabkit.integrate.ssa",
    "SSAStatus": "stabkit.integrate.ssa",
    "Estimate": "stabkit.integrate.ssa",
    "StationaryDistribution": "stabkit.integrate.ssa",
    "TauLeaping": "stabkit.integrate.ssa",
    "ssa": "stabkit.integrate.ssa",
    # reaction networks
    "Reaction": "stabkit.model.reactions",
    "ReactionNetwork": "stabkit.model.reactions",
    # reaction network files
    "load_network": "stabkit.model.files",
    "loads_model": "stabkit.model.files",
    "loads_network": "stabkit.model.files",
    # SBML
    "load_sbml": "stabkit.model.sbml",
    "loads_sbml": "stabkit.model.sbml",
    # sweeps and sensitivity
    "SweepResult": "stabkit.sweep.run",
    "sobol_indices": "stabkit.sweep.sensitivity",
    "morris_screening": "stabkit.sweep.sensitivity",
    # studies
    "StudyResult": "stabkit.studies",
    "list_studies": "stabkit.studies",
    "run_study": "stabkit.studies",
    # errors
    "StabkitError": "stabkit.errors",
    "ModelError": "stabkit.errors",
    "InputError": "stabkit.errors",
    "ConvergenceError": "stabkit.errors",
}

# every analysis (stabkit.analysis) is also a top-level name; `Auto` stays the integrator's
# (the equilibrium search's is stabkit.analysis.Auto)
_LAZY.update({k: v for k, v in _ANALYSIS_LAZY.items() if k not in _LAZY and k != "Auto"})

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
