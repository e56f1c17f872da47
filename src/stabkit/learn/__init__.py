"""stabkit.learn: stability of learning systems (optional extra: torch).

Linear operators over model parameters (:func:`hessian_operator`,
:func:`ggn_operator`, :class:`MatrixOperator`) and their spectra
(:func:`top_eigenvalues`, :func:`trace_estimate`, :func:`frobenius_estimate`,
:func:`spectral_density`). Names are loaded on first
access, so ``import stabkit.learn`` imports neither torch nor the submodules.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "SLQ",
    "CSVSink",
    "ContinualEvaluator",
    "ContinualResult",
    "EdgeOfStabilityResult",
    "EigenResult",
    "EmpiricalFisherOperator",
    "FrobeniusResult",
    "GGNOperator",
    "HessianOperator",
    "HutchPlusPlus",
    "Hutchinson",
    "LRSensitivityResult",
    "MatrixOperator",
    "OptimizerThreshold",
    "PerpGrad",
    "PreconditionedOperator",
    "QKNormAttention",
    "SGDStabilityResult",
    "SpectralDensityResult",
    "StabilityMonitor",
    "TensorBoardSink",
    "TraceResult",
    "WandbSink",
    "adam_preconditioned_operator",
    "adam_preconditioner",
    "adam_threshold",
    "classify_run",
    "collapse_gap",
    "edge_of_stability",
    "empirical_fisher_operator",
    "frobenius_estimate",
    "gd_threshold",
    "ggn_operator",
    "hessian_operator",
    "huggingface_callback",
    "layer_blocks",
    "lightning_callback",
    "log_stablemax",
    "lr_sensitivity",
    "momentum_threshold",
    "optimizer_thresholds",
    "sgd_mean_square_stability",
    "sgd_trace_threshold",
    "softmax_collapse_fraction",
    "softmax_collapse_mask",
    "spectral_density",
    "stablemax",
    "stablemax_cross_entropy",
    "top_eigenvalues",
    "trace_estimate",
    "z_loss",
]

_WHERE = {
    "lightning_callback": "callbacks",
    "huggingface_callback": "callbacks",
    "LRSensitivityResult": "sensitivity",
    "classify_run": "sensitivity",
    "lr_sensitivity": "sensitivity",
    "ContinualEvaluator": "continual",
    "ContinualResult": "continual",
    "EdgeOfStabilityResult": "eos",
    "edge_of_stability": "eos",
    "StabilityMonitor": "monitors",
    "CSVSink": "monitors",
    "TensorBoardSink": "monitors",
    "WandbSink": "monitors",
    "PerpGrad": "numerics",
    "QKNormAttention": "numerics",
    "collapse_gap": "numerics",
    "log_stablemax": "numerics",
    "softmax_collapse_fraction": "numerics",
    "softmax_collapse_mask": "numerics",
    "stablemax": "numerics",
    "stablemax_cross_entropy": "numerics",
    "z_loss": "numerics",
    "OptimizerThreshold": "criteria",
    "SGDStabilityResult": "criteria",
    "adam_threshold": "criteria",
    "gd_threshold": "criteria",
    "momentum_threshold": "criteria",
    "optimizer_thresholds": "criteria",
    "sgd_mean_square_stability": "criteria",
    "sgd_trace_threshold": "criteria",
    "EmpiricalFisherOperator": "preconditioned",
    "PreconditionedOperator": "preconditioned",
    "adam_preconditioned_operator": "preconditioned",
    "adam_preconditioner": "preconditioned",
    "empirical_fisher_operator": "preconditioned",
    "layer_blocks": "preconditioned",
    "GGNOperator": "operators",
    "HessianOperator": "operators",
    "MatrixOperator": "operators",
    "ggn_operator": "operators",
    "hessian_operator": "operators",
    "EigenResult": "spectra",
    "top_eigenvalues": "spectra",
    "FrobeniusResult": "trace",
    "HutchPlusPlus": "trace",
    "Hutchinson": "trace",
    "TraceResult": "trace",
    "frobenius_estimate": "trace",
    "trace_estimate": "trace",
    "SLQ": "density",
    "SpectralDensityResult": "density",
    "spectral_density": "density",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'stabkit.learn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"stabkit.learn.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
