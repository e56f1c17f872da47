"""Figures for every result type and self-contained HTML reports.

matplotlib is imported only when a figure is drawn (``pip install 'stabkit[report]'``);
names here load on first use.

Examples
--------
>>> from stabkit.report import plot_time_series, write_html_report  # doctest: +SKIP
>>> ax = plot_time_series(trajectory, ["x", "y"])                     # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "STATUS_COLORS": "stabkit.report.figures",
    "new_figure": "stabkit.report.figures",
    "plot_ensemble_final_states": "stabkit.report.figures",
    "plot_phase_portrait": "stabkit.report.figures",
    "plot_result": "stabkit.report.figures",
    "plot_time_series": "stabkit.report.figures",
    "register_plotter": "stabkit.report.figures",
    "save_figure": "stabkit.report.figures",
    "ReportFigure": "stabkit.report.html",
    "ReportSection": "stabkit.report.html",
    "write_html_report": "stabkit.report.html",
    "DEMO_SECTIONS": "stabkit.report.demo",
    "DemoSection": "stabkit.report.demo",
    "run_demo": "stabkit.report.demo",
    "plot_branch": "stabkit.report.continuation_figures",
    "plot_branches": "stabkit.report.continuation_figures",
    "plot_bifurcation_curve": "stabkit.report.codim2_figures",
    "plot_stability_diagram": "stabkit.report.codim2_figures",
    "plot_cycle": "stabkit.report.cycles_figures",
    "plot_cycle_branch": "stabkit.report.cycles_figures",
    "plot_multipliers": "stabkit.report.cycles_figures",
    "plot_lyapunov": "stabkit.report.lyapunov_figures",
    "plot_lyapunov_convergence": "stabkit.report.lyapunov_figures",
    "plot_lyapunov_divergence": "stabkit.report.lyapunov_figures",
    "plot_basins": "stabkit.report.basins_figures",
    "plot_closure_trajectories": "stabkit.report.moments_figures",
    "plot_closure_validity": "stabkit.report.moments_figures",
    "plot_ssa": "stabkit.report.ssa_figures",
    "plot_stationary_distribution": "stabkit.report.ssa_figures",
    "demo_sections": "stabkit.report.demo",
    "plot_phase_plane": "stabkit.report.phase_plane",
    "plot_equilibria": "stabkit.report.phase_plane",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stabkit.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
