"""Demo section: stochastic kinetics, where molecule numbers are small.

A birth-death process checked against its exact Poisson law, and Schlögl's bistable
network: its rate equations have two stable equilibria and an unstable one; runs started
at the unstable one split between the stable ones and switch only rarely, so the law of
the ensemble is bimodal.
"""

from __future__ import annotations

import numpy as np

from stabkit.report.demo import DemoContext, DemoSection
from stabkit.report.html import ReportSection

__all__ = ["ORDER", "SECTION"]

ORDER = 70


def _run(ctx: DemoContext) -> ReportSection:
    import scipy.stats

    from stabkit.analysis.equilibria import Algebraic, find_equilibria
    from stabkit.integrate.ssa import Direct, ssa
    from stabkit.model._reaction_files import library_network
    from stabkit.report._style import PALETTE, new_figure

    # ---- birth-death: 0 -> X @ k1, X -> 0 @ k2; Poisson(k1/k2) at stationarity
    birth_death = library_network("birth_death")
    runs, t_end = (200, 60.0) if ctx.quick else (2000, 200.0)
    bd = ssa(birth_death, (0.0, t_end), num_runs=runs, seed=2026, method=Direct(),
             t_eval=np.linspace(0.0, t_end, int(10 * t_end) + 1))  # fmt: skip
    law = bd.stationary_distribution("X", burn_in=10.0)
    poisson = scipy.stats.poisson.pmf(law.values, 10.0)
    fig, (paths, hist) = new_figure(1, 2, figsize=(10.0, 3.8))
    bd.plot(ax=paths, max_runs=4, title=f"birth-death: {runs} runs, mean ± 1 s.d.")
    paths.set_xlim(0.0, min(t_end, 30.0))
    law.plot(ax=hist, reference=poisson, reference_label="Poisson(10)")
    figure_bd = ctx.save(
        fig,
        "stochastic_birth_death",
        "Birth-death process (k1 = 10, k2 = 1): sample paths and the ensemble band (left); "
        "the time-averaged law after a burn-in against the exact Poisson(10) law (right), "
        "error bars one standard error over runs.",
    )

    # ---- Schlögl: bistable rate equations, bimodal stochastic law
    schlogl = library_network("schlogl")
    equilibria = find_equilibria(
        schlogl.rate_equations(), bounds={"X": (0.0, 1000.0)}, method=Algebraic(),
        backend="numpy",
    )  # fmt: skip
    runs_s, t_s = (60, 40.0) if ctx.quick else (400, 200.0)
    sc = ssa(schlogl, (0.0, t_s), num_runs=runs_s, seed=7, method=Direct(),
             t_eval=np.linspace(0.0, t_s, int(20 * t_s) + 1))  # fmt: skip
    law_s = sc.stationary_distribution("X", burn_in=5.0)
    fig2, (paths2, hist2) = new_figure(1, 2, figsize=(10.0, 3.8))
    sc.plot(ax=paths2, max_runs=6, band=False, title=f"Schlögl: {runs_s} runs from X = 250")
    width = 10
    bins = law_s.values.size // width
    coarse = law_s.probability[: bins * width].reshape(bins, width).sum(axis=1)
    centres = law_s.values[0] + np.arange(bins) * width + (width - 1) / 2
    hist2.bar(centres, coarse / width, width=width * 0.9, color=PALETTE[0], alpha=0.6,
              label="SSA (runs and time)")  # fmt: skip
    for eq in equilibria.equilibria:
        x = float(eq.state[0])
        style = "-" if eq.is_stable else "--"
        label = "stable" if eq.is_stable else "unstable"
        hist2.axvline(x, color=PALETTE[1], linestyle=style, linewidth=1.2,
                      label=f"rate equations: {label} {x:.1f}")  # fmt: skip
    hist2.set_xlabel("X (molecules)")
    hist2.set_ylabel("probability per molecule")
    hist2.set_title("Schlögl: law after burn-in and deterministic equilibria")
    hist2.legend(loc="upper right", fontsize=8)
    figure_s = ctx.save(
        fig2,
        "stochastic_schlogl",
        "Schlögl's model from X = 250, next to the unstable equilibrium: the runs split "
        "between the two stable states of the rate equations (left); the distribution over "
        "runs and time after a burn-in is bimodal, peaked at the stable equilibria with a "
        "trough at the unstable one (right).",
    )
    low = float(law_s.probability[law_s.values < 247.6].sum())
    equilibria_text = ", ".join(
        f"{float(e.state[0]):.2f} ({getattr(e.classification, 'value', e.classification)})"
        for e in equilibria.equilibria
    )
    facts = (
        ("birth-death mean", f"{law.mean:.4f} ± {law.mean_standard_error:.2g} (exact 10)"),
        (
            "birth-death variance",
            f"{law.variance:.4f} ± {law.variance_standard_error:.2g} (exact 10)",
        ),
        ("Schlögl equilibria", equilibria_text),
        ("Schlögl: share of run time below the unstable state", f"{100 * low:.1f}%"),
        (
            "reactions per second",
            f"{bd.reactions_per_second:.3g} (birth-death), {sc.reactions_per_second:.3g} "
            "(Schlögl), direct method",
        ),
    )
    ok = bd.ok and sc.ok
    return ReportSection(
        title="Stochastic kinetics: exact laws and bistability",
        summary=(
            f"birth-death mean {law.mean:.3f}, variance {law.variance:.3f} (Poisson: 10, "
            f"10); Schlögl bimodal, {100 * low:.0f}% of run time near the low state"
        ),
        text=(
            "stabkit.ssa simulates reaction networks with Gillespie's direct method, the "
            "next-reaction method or tau-leaping, with numba kernels compiled from the "
            "network's propensities and one independent random stream per run. The "
            "birth-death process checks the simulator against an exact answer: its "
            "stationary law is Poisson with mean and variance k1/k2.\n\n"
            "Schlögl's network shows why deterministic stability is not the whole story at "
            "small numbers: its rate equations (the same network's ODE, analysed by "
            "find_equilibria) have two stable equilibria and an unstable one between them. "
            "Started near the unstable one, the deterministic system picks one side; the "
            "stochastic runs split between both, and noise occasionally carries a run "
            "across, so what one observes is a bimodal distribution, not one equilibrium."
        ),
        facts=facts,
        figures=(figure_bd, figure_s),
        status="ok" if ok else "partial",
        wall_time=bd.stats.wall_time + sc.stats.wall_time,
        compile_time=bd.stats.compile_time + sc.stats.compile_time,
    )


SECTION = DemoSection("stochastic", "Stochastic kinetics", _run)
