"""Demo section: basins of attraction of the damped two-well Duffing oscillator.

x'' + delta x' - x + x^3 = 0 has two stable equilibria x = -1 and x = +1 and a saddle at 0;
the stable manifold of the saddle separates the two basins, which wind around each other
as spirals. The section maps a grid of initial states with
:func:`stabkit.analysis.basins.basins_of_attraction`, then samples random states (basin
stability) and compares.
"""

from __future__ import annotations

import math
import time

from stabkit.report.demo import DemoContext, DemoSection
from stabkit.report.html import ReportSection

__all__ = ["ORDER", "SECTION"]

ORDER = 60


def _run(ctx: DemoContext) -> ReportSection:
    import stabkit
    from stabkit.analysis.basins import Sampler, basins_of_attraction
    from stabkit.report.figures import new_figure

    delta = 0.3
    model = stabkit.library.duffing(delta=delta, alpha=-1.0, beta=1.0, gamma=0.0)
    num = 80 if ctx.quick else 300
    began = time.perf_counter()
    grid = basins_of_attraction(model, {"x": (-2.5, 2.5, num), "y": (-2.5, 2.5, num)})
    sampled = basins_of_attraction(
        model, Sampler({"x": (-2.5, 2.5), "y": (-2.5, 2.5)}, num=500 if ctx.quick else 5000, seed=1)
    )
    wall = time.perf_counter() - began
    compile_time = grid.stats.compile_time + sampled.stats.compile_time
    fig, (ax,) = new_figure(figsize=(6.6, 5.6))
    grid.plot(ax=ax)
    ax.set_title(f"Duffing x'' + {delta:g} x' - x + x^3 = 0: basins on a {num} x {num} grid")
    figure = ctx.save(
        fig,
        "duffing_basins",
        "Basins of the two wells (dots: the attractors, x = -1 and x = +1). The boundary "
        "is the stable manifold of the saddle at the origin; the basins spiral around "
        "each other, thinner the farther out.",
    )
    facts: list[tuple[str, str]] = []
    for a in grid.attractors:
        f, se = grid.fractions.get(a.id, 0.0), grid.standard_errors.get(a.id, 0.0)
        fs, ses = sampled.fractions.get(a.id, math.nan), sampled.standard_errors.get(a.id, 0.0)
        facts.append(
            (
                f"attractor {a.id}: {a.kind} at ({a.centre[0]:.4f}, {a.centre[1]:.4f})",
                f"grid fraction {f:.4f}; sampled {fs:.4f} ± {ses:.4f} (binomial se {se:.4f})",
            )
        )
    facts += [
        ("basin entropy S_b", f"{grid.basin_entropy:.4f}"),
        ("boundary basin entropy S_bb", f"{grid.boundary_basin_entropy:.4f} (< ln 2: smooth)"),
        ("states mapped", f"{grid.labels.size} on the grid, {sampled.labels.size} sampled"),
    ]
    ok = grid.ok and sampled.ok and len(grid.attractors) == 2
    return ReportSection(
        title="Duffing oscillator: basins of attraction",
        summary=f"basins_of_attraction on a {num} x {num} grid and by sampling",
        text=(
            "Every initial state is integrated (compiled, in parallel) and followed on a "
            "grid of cells until it keeps returning to cells it has visited: then it has "
            "found an attractor, whose cells are labelled; later orbits that reach those "
            "cells stop early (Datseris & Wagemakers 2022). By the symmetry (x, y) -> "
            "(-x, -y) each basin fills exactly half of a symmetric grid. The basin "
            "entropy (Daza et al. 2016) measures how mixed the basins are in boxes of "
            "5 x 5 points; a boundary entropy below ln 2 is what a smooth boundary gives."
        ),
        facts=tuple(facts),
        figures=(figure,),
        status="ok" if ok else "partial",
        wall_time=wall - compile_time,
        compile_time=compile_time or None,
    )


SECTION = DemoSection("basins", "Duffing oscillator: basins of attraction", _run)
