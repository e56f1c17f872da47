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
