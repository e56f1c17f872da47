"""Demo section: the Brusselator's equilibrium, its Hopf bifurcation and the cycles born there.

The Brusselator x' = a - (b + 1) x + x^2 y, y' = b x - x^2 y has the single equilibrium
(a, b/a), with Jacobian trace b - 1 - a^2 and determinant a^2: a Hopf bifurcation at
b = 1 + a^2 with frequency omega = a. The section finds the equilibrium, continues it in
b, locates the Hopf point with its first Lyapunov coefficient, and (where
:func:`stabkit.analysis.cycles.continue_cycles` is available) follows the limit cycles.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.report.demo import DemoContext, DemoSection
from stabkit.report.html import ReportFigure, ReportSection

if TYPE_CHECKING:
    from stabkit.analysis.continuation import Branch

__all__ = ["ORDER", "SECTION"]

ORDER = 15


def _cycles(model: Any, hopf: Any, b_end: float) -> tuple[Any, str]:
    try:
        from stabkit.analysis.cycles import continue_cycles
    except ImportError as exc:  # cycles are optional for this section
        return None, f"no cycle continuation ({exc})"
    from stabkit.analysis.continuation import PALC

    cycles = continue_cycles(model, "b", hopf, to=b_end, method=PALC(ds=0.05, ds_max=0.2))
    return cycles, ""


def _diagram(ctx: DemoContext, branch: Branch, cycles: Any, a: float) -> ReportFigure:
    from stabkit.report.figures import new_figure

    fig, (ax,) = new_figure(figsize=(7.5, 4.6))
    branch.plot(ax=ax, variable="y", label="equilibrium (a, b/a)")
    if cycles is not None and len(cycles):
        j = list(cycles.variables).index("y")
        top = np.array([c.states[:, j].max() for c in cycles])
        bottom = np.array([c.states[:, j].min() for c in cycles])
        for values, label in ((top, "limit cycle: max and min y"), (bottom, None)):
            ax.plot(cycles.parameter_values, values, color="#C0392B", label=label)
    ax.set_title(f"Brusselator (a = {a:g}): bifurcation diagram in b")
    ax.legend(loc="upper left")
    return ctx.save(
        fig,
        "brusselator_bifurcation_diagram",
        "The equilibrium y = b/a is stable (solid) up to the Hopf point H at b = 1 + a^2 and "
        "unstable (dashed) after it; the stable limit cycle born there grows (red: its "
        "largest and smallest y).",
    )


def _eigenvalue_figure(ctx: DemoContext, branch: Branch, omega: float, a: float) -> ReportFigure:
    from stabkit.report.figures import new_figure

    fig, axes = new_figure(1, 2, figsize=(10.5, 3.9))
    b = branch.parameter_values
    axes[0].plot(b, branch.eigenvalues.real[:, 0], label="max Re(lambda)")
    closed_form = (b - 1.0 - a * a) / 2.0
    axes[0].plot(b, closed_form, linestyle=":", color="#555555", label="(b - 1 - a^2) / 2")
    axes[0].axhline(0.0, color="#999999", linewidth=0.8)
    axes[0].set_xlabel("b")
    axes[0].set_ylabel("Re(lambda)")
    axes[0].set_title("Leading eigenvalue along the branch")
    axes[0].legend(loc="upper left")
    imag = np.abs(branch.eigenvalues.imag[:, 0])
    axes[1].plot(b, imag, label="|Im(lambda)|")
    axes[1].axhline(omega, color="#C0392B", linestyle=":", label=f"omega at H = {omega:.4g}")
    axes[1].set_xlabel("b")
    axes[1].set_title("Frequency of the linearisation")
    axes[1].legend(loc="lower right")
    return ctx.save(
        fig,
        "brusselator_eigenvalues",
        "Real part of the leading eigenvalue pair: while the pair is complex (b < (1 + a)^2) "
        "it is (b - 1 - a^2)/2 exactly (dotted); it crosses zero at the Hopf point, where "
        "the imaginary part is omega = a.",
    )


def _phase_plane(ctx: DemoContext, model: Any) -> Any:
    import matplotlib.pyplot as plt

    from stabkit.report.phase_plane import plot_phase_plane

    fig, ax = plt.subplots(figsize=(6, 5))
    plot_phase_plane(model, {"b": 3.0}, xlim=(0.05, 3.5), ylim=(0.05, 5.5), resolution=60, ax=ax)
    return ctx.save(
        fig,
        "brusselator_phase_plane",
        "Phase plane at b = 3: direction field, the x- and y-nullclines, and the unstable "
        "focus (open marker) where they cross.",
    )


def _run(ctx: DemoContext) -> ReportSection:
    import stabkit
    from stabkit.analysis.continuation import continue_branch
    from stabkit.analysis.equilibria import find_equilibria

    a, b_show = 1.0, 3.0
    model = stabkit.library.brusselator()
    began = time.perf_counter()
    equilibria = find_equilibria(model, {"a": a, "b": b_show})
    branch = continue_branch(model, "b", [a, 0.5 / a], params={"a": a, "b": 0.5}, to=4.0)
    hopf_points = branch.special("H")
    facts: list[tuple[str, str]] = []
    for eq in equilibria.equilibria:
        facts.append(
            (
                f"equilibrium at b = {b_show:g}",
                f"({eq.state[0]:.6g}, {eq.state[1]:.6g}): {eq.classification.value}",
            )
        )
    facts.append(("branch", f"{len(branch)} points; {branch.status}: {branch.message}"))
    status = "ok" if branch.status == "ok" and len(hopf_points) == 1 else "partial"
    figures = []
    cycles_note = ""
    cycles = None
    if hopf_points:
        hopf = hopf_points[0]
        l1 = hopf.first_lyapunov_coefficient
        omega = float(hopf.coefficients.get("omega", math.nan))
        facts += [
            ("Hopf point b_H", f"{hopf.parameter_value:.12g} (1 + a^2 = {1 + a * a:g})"),
            ("|b_H - (1 + a^2)|", f"{abs(hopf.parameter_value - (1 + a * a)):.2e}"),
            ("frequency omega at H", f"{omega:.10g} (closed form a = {a:g})"),
            ("first Lyapunov coefficient l1", f"{l1:.10g}" if l1 is not None else "-"),
            ("criticality", hopf.criticality or "-"),
        ]
        b_end = 2.3 if ctx.quick else 3.2
        cycles, cycles_note = _cycles(model, hopf, b_end)
        if cycles is not None:
            facts.append(
                ("cycle branch", f"{len(cycles)} cycles; {cycles.status}: {cycles.message}")
            )
            if len(cycles):
                facts.append(
                    (
                        "period near onset / at the end",
                        f"{cycles.periods[0]:.6g} (2 pi / omega = {2 * math.pi / omega:.6g}) "
                        f"/ {cycles.periods[-1]:.6g} at b = {cycles.parameter_values[-1]:.4g}",
                    )
                )
                facts.append(("cycles stable", f"{int(np.sum(cycles.stable))} of {len(cycles)}"))
            if cycles.status != "ok":
                status = "partial"
        figures.append(_diagram(ctx, branch, cycles, a))
        figures.append(_eigenvalue_figure(ctx, branch, omega, a))
    figures.append(_phase_plane(ctx, model))
    wall = time.perf_counter() - began
    compile_time = equilibria.stats.compile_time + branch.stats.compile_time
    if cycles is not None:
        compile_time += cycles.stats.compile_time
    text = (
        "find_equilibria finds the one equilibrium (a, b/a) and proves the list complete "
        "(algebraic elimination). continue_branch follows it in b by pseudo-arclength "
        "continuation and locates the Hopf point where the trace b - 1 - a^2 of the "
        "Jacobian vanishes; its first Lyapunov coefficient l1 (Kuznetsov's normalisation, "
        "<q, q> = 1, <p, q> = 1, from exact symbolic derivatives) is negative, so the "
        "bifurcation is supercritical: a stable limit cycle is born, which continue_cycles "
        "follows by orthogonal collocation. At b = 3 it is the cycle simulated in the "
        "first section."
    )
    if cycles_note:
        text += f"\n\n({cycles_note}.)"
    return ReportSection(
        title="Brusselator: equilibria, Hopf bifurcation and cycles",
        summary="find_equilibria, continue_branch(b: 0.5 -> 4), continue_cycles from H",
        text=text,
        facts=tuple(facts),
        figures=tuple(figures),
        status=status,
        wall_time=wall - compile_time,
        compile_time=compile_time or None,
    )


SECTION = DemoSection(
    "brusselator-analysis", "Brusselator: equilibria, Hopf bifurcation and cycles", _run
)
