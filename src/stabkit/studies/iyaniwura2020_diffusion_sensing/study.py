"""Iyaniwura & Ward (2020): quiescent Sel'kov cells and oscillations switched on by a bulk.

Single cell (the paper's Sel'kov kinetics, mu = 2, alpha = 0.9, eps0 = 0.15): steady state,
eigenvalues, decay of a perturbation, the Hopf point in alpha and the Hopf curve in
(alpha, mu) against its closed form (by continuation and by bisection on the eigenvalues).
Well-mixed limit (a mechanism-only design, ``well_mixed.toml``): cells coupled to one bulk
chemical through membrane fluxes d1 U - d2 u; the Hopf window in the permeability d2,
the Hopf curves in (d1, d2) and a stability diagram, onset against the number of cells,
and the synchronous/asynchronous split of a two-cell spectrum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import stabkit
from stabkit.analysis.codim2 import continue_bifurcation_curve
from stabkit.analysis.continuation import continue_branch
from stabkit.analysis.stability_diagram import stability_diagram

HERE = Path(__file__).resolve().parent


def alpha_hopf(mu: np.ndarray | float, eps0: float) -> np.ndarray | float:
    """Closed form of the single cell's Hopf curve: trace J = 0 at (mu, mu/(alpha + mu^2))."""
    s = (np.sqrt(1.0 + 8.0 * eps0 * np.square(mu)) - 1.0) / (2.0 * eps0)
    return s - np.square(mu)


def bisect(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-12) -> float:
    """A sign change of ``f`` in ``[lo, hi]`` by bisection (NaN when there is none)."""
    f_lo, f_hi = f(lo), f(hi)
    if not f_lo * f_hi < 0:
        return math.nan
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _max_re(model: stabkit.Model, state: Any, params: dict[str, float]) -> float:
    return float(stabkit.linear_stability(model, state, params).max_real_part)


def _peaks(t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:])) + 1
    return t[k], x[k]


def _simulate(model: stabkit.Model, y0: Any, params: dict[str, float], t_end: float) -> Any:
    method = stabkit.Dopri5(rtol=1e-10, atol=1e-12)
    t_eval = np.linspace(0.0, t_end, int(40 * t_end) + 1)
    return stabkit.solve(model, y0, (0.0, t_end), method=method, t_eval=t_eval, params=params)


def _wm_state(q: dict[str, float]) -> list[float]:
    u = q["mu"] / (1.0 + q["kappa"] * q["d2"] / (1.0 + q["bulk_coupling"] * q["d1"]))
    big_u = q["bulk_coupling"] * q["d2"] * u / (1.0 + q["bulk_coupling"] * q["d1"])
    return [big_u, u, q["mu"] / (q["alpha"] + u * u)]


# ---------------------------------------------------------------------- the single cell
def single_cell(ctx: Any) -> dict[str, Any]:
    c = ctx.config
    cell = stabkit.load_model(HERE / "selkov_cell.toml")
    p = {"alpha": c["alpha"], "mu": c["mu"], "eps0": c["eps0"]}
    found = stabkit.find_equilibria(cell, p)
    ctx.record("cell_num_equilibria", len(found.equilibria))
    ctx.record("cell_guarantee", found.guarantee)
    eq = found.equilibria[0]
    ctx.compare("cell_steady_u", eq.state[0])
    ctx.compare("cell_steady_v", eq.state[1])
    lam = eq.eigenvalues[np.argmax(eq.eigenvalues.imag)]
    ctx.compare("cell_eigenvalue_real", lam.real)
    ctx.compare("cell_eigenvalue_imag", lam.imag)

    y0 = [eq.state[0] + c["perturbation"], eq.state[1]]
    traj = _simulate(cell, y0, p, c["t_decay"])
    t_pk, x_pk = _peaks(traj.t, traj.y[:, 0] - eq.state[0])
    rate = -np.polyfit(t_pk, np.log(x_pk), 1)[0] if t_pk.size >= 3 else math.nan
    ctx.compare("cell_decay_rate", rate)
    early, late = (float(x_pk[0]), float(x_pk[-1])) if t_pk.size else (math.nan, math.nan)
    quiet = eq.is_stable and eq.classification.value == "stable focus" and late < 0.1 * early
    ctx.check(
        "quiescent_uncoupled",
        bool(quiet),
        f"one equilibrium ({found.guarantee}), a {eq.classification.value} with eigenvalues "
        f"{lam.real:.4f} +- {lam.imag:.4f}i; a perturbation of {c['perturbation']:g} in u "
        f"decays from {early:.3g} to {late:.3g} over t = {c['t_decay']:g}",
    )

    branch = continue_branch(cell, "alpha", eq, params=p, to=c["alpha_range"][0])
    hopf = branch.special("H")[0]
    ctx.compare("cell_hopf_alpha_at_mu2", hopf.parameter_value)
    ctx.record("cell_hopf_l1", float(hopf.first_lyapunov_coefficient or math.nan))
    ctx.record("cell_hopf_criticality", str(hopf.criticality))

    curve = continue_bifurcation_curve(
        cell, hopf, ("alpha", "mu"), to={"alpha": c["alpha_range"], "mu": c["mu_range"]}
    )
    a, m = curve.points.T
    ctx.record("cell_hopf_curve_points", len(a))
    ctx.record("cell_hopf_curve_status", f"{curve.status}: {curve.message}")
    ctx.compare("cell_hopf_curve_max_error", float(np.max(np.abs(a - alpha_hopf(m, c["eps0"])))))

    mus = np.linspace(float(c["mu_range"][0]), float(c["mu_range"][1]), int(c["num_bisection_mu"]))
    by_bisection = []
    for mu in mus:

        def f(alpha: float, mu: float = float(mu)) -> float:
            state = [mu, mu / (alpha + mu * mu)]
            return _max_re(cell, state, {"alpha": alpha, "mu": mu, "eps0": c["eps0"]})

        by_bisection.append(bisect(f, *c["alpha_range"]))
    errors = np.abs(np.array(by_bisection) - alpha_hopf(mus, c["eps0"]))
    ctx.compare("cell_hopf_bisection_max_error", float(np.max(errors)))
    return {
        "cell": cell,
        "eq": eq,
        "curve": curve,
        "mus": mus,
        "bisect": by_bisection,
        "traj": traj,
    }


# ---------------------------------------------------------------------- the well-mixed system
def _two_cell_error(c: dict[str, Any], q: dict[str, float]) -> float:
    """Largest distance between the 2-cell spectrum and the sync + async blocks."""
    n = 2
    equations = {"U": f"(-U + beta*(d2*(u1 + u2) - {n}*d1*U)) / tau"}
    for j in (1, 2):
        equations[f"u{j}"] = f"alpha*v{j} + v{j}*u{j}^2 - u{j} + kappa*(d1*U - d2*u{j})"
        equations[f"v{j}"] = f"eps0*(mu - alpha*v{j} - v{j}*u{j}^2)"
    names = ("alpha", "mu", "eps0", "tau", "kappa", "d1", "d2")
    full = stabkit.Model.from_equations(
        equations, parameters={**{k: q[k] for k in names}, "beta": q["bulk_coupling"]}
    )
    sync = stabkit.load_model(HERE / "well_mixed.toml")
    q_sync = {**q, "bulk_coupling": n * q["bulk_coupling"]}
    big_u, u, v = _wm_state(q_sync)
    lam_full = stabkit.linear_stability(full, [big_u, u, v, u, v], backend="numpy").eigenvalues
    lam_sync = stabkit.linear_stability(sync, [big_u, u, v], q_sync).eigenvalues
    uptake = stabkit.Model.from_equations(
        {
            "u": "alpha*v + v*u^2 - u + kappa*(d1*U0 - d2*u)",
            "v": "eps0*(mu - alpha*v - v*u^2)",
        },
        parameters={**{k: q[k] for k in names}, "U0": big_u},
    )
    lam_async = stabkit.linear_stability(uptake, [u, v], backend="numpy").eigenvalues
    union = np.concatenate([lam_sync, lam_async])
    d = np.abs(union[:, None] - lam_full[None, :])
    return float(max(d.min(axis=0).max(), d.min(axis=1).max()))


def well_mixed(ctx: Any, cell_quiet: bool) -> dict[str, Any]:
    c = ctx.config
    wm = stabkit.load_model(HERE / "well_mixed.toml")
    keys = ("alpha", "mu", "eps0", "tau", "kappa", "d1", "bulk_coupling")
    q = {k: float(c[k]) for k in keys}
    lo, hi = c["d2_range"]
    start = {**q, "d2": lo}
    branch = continue_branch(wm, "d2", _wm_state(start), params=start, to=hi)
    d2 = branch.parameter_values
    u_closed = q["mu"] / (1.0 + q["kappa"] * d2 / (1.0 + q["bulk_coupling"] * q["d1"]))
    ctx.compare("wm_steady_u_error", float(np.max(np.abs(branch.states[:, 1] - u_closed))))
    hopfs = branch.special("H")
    for i, h in enumerate(hopfs):
        ctx.record(f"wm_hopf_d2_{i + 1}", h.parameter_value)
        ctx.record(f"wm_hopf_l1_{i + 1}", float(h.first_lyapunov_coefficient or math.nan))

    runs = {}
    for label in ("d2_quiet", "d2_oscillating"):
        qq = {**q, "d2": float(c[label])}
        state = _wm_state(qq)
        y0 = [state[0], state[1] + 0.1, state[2]]
        traj = _simulate(wm, y0, qq, c["t_oscillation"])
        u = traj.y[:, 1]
        third = u.size // 3
        runs[label] = (
            traj,
            float(np.ptp(u[third : 2 * third])),
            float(np.ptp(u[2 * third :])),
            _max_re(wm, state, qq),
        )
    quiet_mid, quiet_end = runs["d2_quiet"][1], runs["d2_quiet"][2]
    osc_mid, osc_end = runs["d2_oscillating"][1], runs["d2_oscillating"][2]
    first = hopfs[0] if hopfs else None
    after = first is not None and not branch.stable[min(first.index + 1, len(branch) - 1)]
    onset = bool(
        cell_quiet
        and branch.stable[0]
        and first is not None
        and after
        and quiet_end < 0.5 * quiet_mid
        and osc_end > 0.05
        and osc_end > 0.95 * osc_mid
    )
    window = ", ".join(f"{h.parameter_value:.6g} ({h.criticality})" for h in hopfs)
    ctx.check(
        "switch_like_onset",
        onset,
        f"the coupled equilibrium is stable for small d2 and loses stability at Hopf points "
        f"d2 = {window} (d1 = {q['d1']:g}); simulated u swings by {quiet_mid:.3g} -> "
        f"{quiet_end:.3g} at d2 = {c['d2_quiet']:g} (decaying) and {osc_mid:.3g} -> "
        f"{osc_end:.3g} at d2 = {c['d2_oscillating']:g} (sustained)",
    )

    curves = [
        continue_bifurcation_curve(
            wm, h, ("d1", "d2"), params=q, to={"d1": c["d1_range"], "d2": c["d2_range"]}
        )
        for h in hopfs
    ]
    points = np.vstack([cv.points for cv in curves]) if curves else np.empty((0, 2))
    picks = np.linspace(0, len(points) - 1, min(c["num_curve_checks"], len(points))).astype(int)
    errors = []
    for d1, d2_curve in points[picks]:
        qq = {**q, "d1": float(d1)}

        def f(d2_: float, qq: dict[str, float] = qq) -> float:
            at = {**qq, "d2": d2_}
            return _max_re(wm, _wm_state(at), at)

        found = bisect(f, max(d2_curve - 0.05, 1e-6), d2_curve + 0.05)
        errors.append(abs(found - d2_curve))
    ctx.compare("wm_hopf_curve_bisection_max_error", float(np.max(errors)) if errors else math.nan)
    ctx.compare("wm_two_cell_spectrum_error", _two_cell_error(c, {**q, "d2": c["d2_oscillating"]}))

    onset_rows = []
    for n in c["cell_counts"]:
        qn = {**q, "bulk_coupling": q["bulk_coupling"] * n}
        start_n = {**qn, "d2": lo}
        br = continue_branch(wm, "d2", _wm_state(start_n), params=start_n, to=hi, detect=("H",))
        hs = [h.parameter_value for h in br.special("H")]
        onset_rows.append(
            {
                "num_cells": n,
                "first_hopf_d2": hs[0] if hs else math.nan,
                "second_hopf_d2": hs[1] if len(hs) > 1 else math.nan,
            }
        )
    import pandas as pd

    onset = pd.DataFrame(onset_rows)
    ctx.table("hopf_onset_vs_cells", onset)
    ctx.record("wm_first_hopf_d2_one_cell", float(onset.first_hopf_d2.iloc[0]))
    ctx.record("wm_first_hopf_d2_most_cells", float(onset.first_hopf_d2.iloc[-1]))

    res = tuple(int(r) for r in c["diagram_resolution"])
    diagram = stability_diagram(
        wm,
        "d1",
        "d2",
        ranges={"d1": tuple(c["d1_range"]), "d2": tuple(c["d2_range"])},
        resolution=(res[0], res[1]),
        coarse=(int(c["diagram_coarse"][0]), int(c["diagram_coarse"][1])),
        params=q,
    )
    agree = 0
    for i, d1 in enumerate(diagram.p1_values):
        for j, d2_ in enumerate(diagram.p2_values):
            at = {**q, "d1": float(d1), "d2": float(d2_)}
            unstable = _max_re(wm, _wm_state(at), at) > 0
            agree += int(unstable == (diagram.num_stable[i, j] == 0))
    cells = diagram.num_stable.size
    num_unstable = int(np.sum(diagram.num_stable == 0))
    kinds = sorted({cv.kind for cv in diagram.curves})
    passed = (
        agree == cells
        and 0 < num_unstable < cells
        and bool(np.all(diagram.num_equilibria == 1))
        and kinds == ["H"]
        and set(np.unique(diagram.min_unstable)) <= {0, 2}
    )
    ctx.check(
        "phase_diagram",
        passed,
        f"stability_diagram over (d1, d2) in {c['d1_range']} x {c['d2_range']} ({res[0]}x{res[1]}"
        f" cells): one equilibrium everywhere, {num_unstable} cells oscillatory (a complex pair "
        f"unstable), bounded by {len(diagram.curves)} curve(s) of kind {kinds}; {agree}/{cells}"
        " cells agree with linear_stability at the closed-form equilibrium",
    )
    return {"wm": wm, "runs": runs, "curves": curves, "diagram": diagram, "q": q}


# ---------------------------------------------------------------------- figures
def figures(ctx: Any, one: dict[str, Any], two: dict[str, Any]) -> None:
    from stabkit.report.figures import new_figure

    c = ctx.config
    fig, axes = new_figure(1, 2, figsize=(11.0, 4.4))
    mu = np.linspace(float(c["mu_range"][0]), float(c["mu_range"][1]), 200)
    ax = axes[0]
    ax.plot(alpha_hopf(mu, c["eps0"]), mu, color="#555555", label="closed form (trace J = 0)")
    a, m = one["curve"].points.T
    ax.plot(a, m, "o", markersize=3, label="continue_bifurcation_curve")
    ax.plot(one["bisect"], one["mus"], "x", color="#C0392B", label="bisection on eigenvalues")
    ax.plot([c["alpha"]], [c["mu"]], "*", markersize=12, color="#2E8B57", label="paper's cell")
    ax.set_xlabel("alpha")
    ax.set_ylabel("mu")
    ax.set_title("Single Sel'kov cell: oscillatory left of the Hopf curve")
    ax.legend(loc="lower left", fontsize="small")
    d = two["diagram"]
    ax = axes[1]
    ax.pcolormesh(
        d.p1_values,
        d.p2_values,
        (d.num_stable == 0).T.astype(float),
        cmap="Oranges",
        alpha=0.5,
        shading="nearest",
    )
    for cv in two["curves"]:
        ax.plot(*cv.points.T, color="#C0392B")
    ax.set_xlabel("d1 (feedback permeability)")
    ax.set_ylabel("d2 (secretion permeability)")
    ax.set_title("Coupled cells: oscillatory region, Hopf curves")
    ctx.figure(
        "phase_diagrams",
        fig,
        "Left: the single cell's Hopf curve in (alpha, mu) by continuation and by bisection, "
        "on the closed form; the paper's cell (star) is quiescent. Right: cells coupled to a "
        "well-mixed bulk oscillate inside the Hopf curves in the permeabilities (d1, d2).",
    )
    fig, axes = new_figure(1, 2, figsize=(11.0, 3.8))
    traj = one["traj"]
    axes[0].plot(traj.t, traj.y[:, 0])
    axes[0].set_title("Uncoupled cell: damped oscillation")
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("u")
    for label, (run, *_rest) in two["runs"].items():
        axes[1].plot(run.t, run.y[:, 1], label=f"d2 = {c[label]:g}")
    axes[1].set_title("Coupled cells: quiet and oscillating")
    axes[1].set_xlabel("t")
    axes[1].legend(loc="upper right")
    ctx.figure("time_series", fig, "u(t) of the uncoupled cell and of coupled cells.")


def run(ctx: Any) -> None:
    """The study: single cell, then the well-mixed coupled system."""
    one = single_cell(ctx)
    quiet = bool(one["eq"].is_stable)
    two = well_mixed(ctx, quiet)
    if ctx.out is not None:
        figures(ctx, one, two)
