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
    # continuation and bifurcations
    "PALC": "stabkit.analysis.continuation",
    "Branch": "stabkit.analysis.continuation",
    "BranchPoint": "stabkit.analysis.continuation",
    "SpecialPoint": "stabkit.analysis.continuation",
    "continue_branch": "stabkit.analysis.continuation",
    # normal forms
    "bautin_coefficient": "stabkit.analysis.normal_forms",
    "bogdanov_takens_coefficients": "stabkit.analysis.normal_forms",
    "cusp_coefficient": "stabkit.analysis.normal_forms",
    "double_hopf_coefficients": "stabkit.analysis.normal_forms",
    "first_lyapunov_coefficient": "stabkit.analysis.normal_forms",
    "flip_coefficient": "stabkit.analysis.normal_forms",
    "fold_coefficient": "stabkit.analysis.normal_forms",
    "hopf_coefficients": "stabkit.analysis.normal_forms",
    "neimark_sacker_coefficient": "stabkit.analysis.normal_forms",
    "second_lyapunov_coefficient": "stabkit.analysis.normal_forms",
    "zero_hopf_coefficients": "stabkit.analysis.normal_forms",
    # two-parameter curves
    "BifurcationCurve": "stabkit.analysis.codim2",
    "Codim2Point": "stabkit.analysis.codim2",
    "continue_bifurcation_curve": "stabkit.analysis.codim2",
    # stability diagrams
    "StabilityDiagram": "stabkit.analysis.stability_diagram",
    "stability_diagram": "stabkit.analysis.stability_diagram",
    # periodic orbits
    "Collocation": "stabkit.analysis.cycles",
    "Cycle": "stabkit.analysis.cycles",
    "CycleBranch": "stabkit.analysis.cycles",
    "CycleSpecialPoint": "stabkit.analysis.cycles",
    "continue_cycles": "stabkit.analysis.cycles",
    "find_cycle": "stabkit.analysis.cycles",
    "switch_period_doubling": "stabkit.analysis.cycles",
    # Lyapunov exponents
    "QR": "stabkit.analysis.lyapunov",
    "Eckmann": "stabkit.analysis.lyapunov",
    "LyapunovResult": "stabkit.analysis.lyapunov",
    "Rosenstein": "stabkit.analysis.lyapunov",
    "SumRule": "stabkit.analysis.lyapunov",
    "kaplan_yorke_dimension": "stabkit.analysis.lyapunov",
    "largest_lyapunov_exponent": "stabkit.analysis.lyapunov",
    "lyapunov_from_series": "stabkit.analysis.lyapunov",
    "lyapunov_spectrum": "stabkit.analysis.lyapunov",
    # basins of attraction
    "Attractor": "stabkit.analysis.basins",
    "BasinsResult": "stabkit.analysis.basins",
    "FeatureClustering": "stabkit.analysis.basins",
    "RecurrenceMapper": "stabkit.analysis.basins",
    "Sampler": "stabkit.analysis.basins",
    "basins_of_attraction": "stabkit.analysis.basins",
    # forecasting chaotic series
    "NVAR": "stabkit.analysis.forecast",
    "EchoStateNetwork": "stabkit.analysis.forecast",
    "FittedForecaster": "stabkit.analysis.forecast",
    "ForecastResult": "stabkit.analysis.forecast",
    "Forecaster": "stabkit.analysis.forecast",
    "LastValue": "stabkit.analysis.forecast",
    "MLPForecaster": "stabkit.analysis.forecast",
    "chaotic_series": "stabkit.analysis.forecast",
    "dominant_period": "stabkit.analysis.forecast",
    "evaluate_forecasters": "stabkit.analysis.forecast",
    "smape": "stabkit.analysis.forecast",
    "valid_prediction_time": "stabkit.analysis.forecast",
    # moment equations
    "Closure": "stabkit.analysis.moments",
    "DerivativeMatching": "stabkit.analysis.moments",
    "Gamma": "stabkit.analysis.moments",
    "LogNormal": "stabkit.analysis.moments",
    "MomentInfo": "stabkit.analysis.moments",
    "Normal": "stabkit.analysis.moments",
    "Poisson": "stabkit.analysis.moments",
    "Zero": "stabkit.analysis.moments",
    "linear_noise_approximation": "stabkit.analysis.moments",
    "lna_stationary_covariance": "stabkit.analysis.moments",
    "means_of": "stabkit.analysis.moments",
    "moment_equations": "stabkit.analysis.moments",
    "moment_info": "stabkit.analysis.moments",
    "variances_of": "stabkit.analysis.moments",
    # closure validity
    "ClosureValidityResult": "stabkit.analysis.closure_validity",
    "ClosureVerdict": "stabkit.analysis.closure_validity",
    "closure_validity": "stabkit.analysis.closure_validity",
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
