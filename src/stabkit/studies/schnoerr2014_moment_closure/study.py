"""Validity of moment closures (Schnoerr, Sanguinetti & Grima 2014) on the Brusselator.

The 2014 paper's own systems and parameters are not known here; its claims are checked
on the Brusselator of the follow-up (Schnoerr et al. 2015) as documented by
MomentClosure.jl: 2X + Y -> 3X, X -> Y, 0 -> X, X -> 0 with c = (0.9, 2, 1, 1).

1. Rate equations: the fixed point (1, 2.22) is an unstable focus (trace +0.1).
2. Order-2 normal closure, swept over Omega without simulation: late amplitude from
   X0 = Y0 = 1, its fixed points (physical or not) and their stability; the Omega at
   which it switches to a sustained oscillation while its physical fixed point is still
   stable (bistability), and the Omega at which that fixed point loses stability.
3. Closures against SSA over Omega (:func:`closure_validity`): verdicts and evidence.
4. Zero closure: a negative mean. Combinatoric rate law: orders 2, 3, 4 of the normal
   closure (the remedy of the paper: compare closure orders).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from stabkit.analysis.closure_validity import closure_validity
from stabkit.analysis.continuation import PALC, continue_branch
from stabkit.analysis.equilibria import Algebraic, find_equilibria
from stabkit.analysis.moments import (
    DerivativeMatching,
    Gamma,
    LogNormal,
    Normal,
    Poisson,
    Zero,
    means_of,
    moment_equations,
)
from stabkit.analysis.stability import linear_stability
from stabkit.integrate.solve import solve
from stabkit.integrate.ssa import ssa
from stabkit.model.reactions import ReactionNetwork
from stabkit.studies import StudyContext

CLOSURES = {
    "normal": Normal,
    "log-normal": LogNormal,
    "poisson": Poisson,
    "gamma": Gamma,
    "derivative-matching": DerivativeMatching,
    "zero": Zero,
}
OSCILLATION_TOL = 0.02  # half peak-to-peak relative to the mean


def brusselator(cfg: dict[str, Any], c1: float, volume: float) -> ReactionNetwork:
    x0, y0 = (int(v) for v in cfg["initial_counts"])
    return ReactionNetwork.from_strings(
        "brusselator",
        species={"X": x0, "Y": y0},
        reactions={
            "autocatalysis": "2 X + Y -> 3 X @ c1",
            "conversion": "X -> Y @ c2",
            "inflow": "0 -> X @ c3",
            "outflow": "X -> 0 @ c4",
        },
        parameters={"c1": c1, "c2": cfg["c2"], "c3": cfg["c3"], "c4": cfg["c4"]},
        volume=volume,
        citation="Schnoerr, Sanguinetti & Grima, J. Chem. Phys. 143, 185101 (2015)",
    )


def amplitude(x: np.ndarray) -> tuple[float, float]:
    """Half peak-to-peak of the last and of the previous quarter, relative to the mean."""
    n = len(x)
    w = max(2, n // 4)
    last, before = x[n - w :], x[n - 2 * w : n - w]
    level = max(abs(float(np.mean(last))), 1e-300)
    return float(np.ptp(last) / 2 / level), float(np.ptp(before) / 2 / level)


def sustained(x: np.ndarray) -> bool:
    last, before = amplitude(x)
    return last > OSCILLATION_TOL and last >= 0.8 * before


def physical(state: dict[str, float]) -> bool:
    vx, vy, c = state["var_X"], state["var_Y"], state["cov_X_Y"]
    return min(state["mean_X"], state["mean_Y"], vx, vy) >= 0 and c * c <= vx * vy


def sweep_point(model: Any, omega: float, cfg: dict[str, Any], backend: str) -> dict[str, Any]:
    """Order-2 normal closure at one Omega: late amplitude and fixed points."""
    grid = np.linspace(0.0, cfg["sweep_t_end"], cfg["sweep_num_times"])
    traj = solve(
        model, None, (0.0, grid[-1]), t_eval=grid, params={"Omega": omega}, backend=backend
    )
    mean_x = means_of(model, traj.y)[:, 0] if traj.status == "ok" else np.full(2, np.nan)
    found = find_equilibria(model, {"Omega": omega}, method=Algebraic(), backend=backend)
    phys = [e for e in found.equilibria if physical(e.state_map)]
    unphys = [e for e in found.equilibria if not physical(e.state_map)]
    lead = max((float(np.max(e.eigenvalues.real)) for e in phys), default=math.nan)
    last, before = amplitude(mean_x) if traj.status == "ok" else (math.nan, math.nan)
    return {
        "omega": omega,
        "status": traj.status,
        "amplitude": last,
        "previous_amplitude": before,
        "sustained": bool(traj.status == "ok" and sustained(mean_x)),
        "num_physical": len(phys),
        "physical_stable": bool(phys and all(e.is_stable for e in phys)),
        "leading_real_part": lead,
        "num_unphysical": len(unphys),
        "min_unphysical_variance": min(
            (min(e.state_map["var_X"], e.state_map["var_Y"]) for e in unphys), default=math.nan
        ),
    }


def bisect(lo: float, hi: float, steps: int, test: Any) -> float:
    """Geometric bisection of the first Omega in (lo, hi] where ``test`` holds."""
    for _ in range(steps):
        mid = math.sqrt(lo * hi)
        if test(mid):
            hi = mid
        else:
            lo = mid
    return math.sqrt(lo * hi) if steps else hi


def run(ctx: StudyContext) -> None:
    cfg = ctx.config
    backend = str(cfg["backend"])
    ref = float(cfg["reference_volume"])
    net = brusselator(cfg, cfg["c1"], ref)

    # 1. deterministic rate equations (concentrations)
    rates = net.rate_equations()
    eq = find_equilibria(rates, bounds=[(0.0, 10.0), (0.0, 10.0)], method=Algebraic())
    fixed = eq.equilibria[0]
    ctx.compare("fixed_point_x", float(fixed.state[0]))
    ctx.compare("fixed_point_y", float(fixed.state[1]))
    jac = linear_stability(rates, fixed.state)
    ctx.compare("jacobian_trace", float(np.sum(jac.eigenvalues).real))

    # 2. the order-2 normal closure over Omega, no simulation
    normal2 = moment_equations(net, 2, closure=Normal())
    rows = [sweep_point(normal2, float(w), cfg, backend) for w in cfg["sweep_volumes"]]
    if ref not in [r["omega"] for r in rows]:
        rows.append(sweep_point(normal2, ref, cfg, backend))
        rows.sort(key=lambda r: r["omega"])
    sweep = pd.DataFrame(rows)
    ctx.table("normal_order2_sweep", sweep)
    at_ref = next(r for r in rows if r["omega"] == ref)
    ctx.check(
        "normal_damped_at_reference",
        not at_ref["sustained"] and at_ref["amplitude"] < OSCILLATION_TOL,
        f"late amplitude of mean X at Omega={ref:g}: {at_ref['amplitude']:.2e} of the mean "
        f"(previous quarter {at_ref['previous_amplitude']:.2e})",
    )
    ctx.check(
        "unphysical_fixed_point",
        at_ref["num_unphysical"] >= 1 and at_ref["min_unphysical_variance"] < 0,
        f"{at_ref['num_unphysical']} unphysical fixed points at Omega={ref:g}, smallest "
        f"variance {at_ref['min_unphysical_variance']:.4g}; {at_ref['num_physical']} physical",
    )
    first = next((i for i, r in enumerate(rows) if r["sustained"]), None)
    bistable = [r for r in rows if r["sustained"] and r["physical_stable"]]
    switching = math.nan
    if first is not None:
        lo = rows[first - 1]["omega"] if first > 0 else rows[first]["omega"] / 2
        switching = bisect(
            lo,
            rows[first]["omega"],
            int(cfg["bisection_steps"]),
            lambda w: sweep_point(normal2, w, cfg, backend)["sustained"],
        )
        ctx.record("switching_omega", switching)
    unstable = next((i for i, r in enumerate(rows) if not r["physical_stable"]), None)
    if unstable is not None and unstable > 0:
        hopf = bisect(
            rows[unstable - 1]["omega"],
            rows[unstable]["omega"],
            int(cfg["bisection_steps"]),
            lambda w: not sweep_point(normal2, w, cfg, backend)["physical_stable"],
        )
        ctx.record("closure_hopf_omega", hopf)
    # the same Hopf point by pseudo-arclength continuation in Omega (the closure is a Model)
    stable_rows = [r for r in rows if r["physical_stable"]]
    hopf_cont = math.nan
    if stable_rows:
        w0 = stable_rows[-1]["omega"]
        found = find_equilibria(normal2, {"Omega": w0}, method=Algebraic(), backend=backend)
        start = next(e for e in found.equilibria if physical(e.state_map) and e.is_stable)
        branch = continue_branch(
            normal2,
            "Omega",
            start.state,
            params={"Omega": w0},
            to=10 * max(r["omega"] for r in rows),
            method=PALC(ds=10.0, ds_max=1e6, max_points=int(cfg["continuation_max_points"])),
            detect=("H",),
            backend=backend,
        )
        hopfs = [sp.parameter_value for sp in branch.special_points if sp.kind == "H"]
        if hopfs:
            hopf_cont = float(hopfs[0])
            ctx.record("closure_hopf_omega_continuation", hopf_cont)
    ctx.check(
        "closure_hopf_beyond_switching",
        math.isfinite(hopf_cont) and math.isfinite(switching) and hopf_cont > switching,
        f"continuation in Omega: Hopf of the physical fixed point at Omega = {hopf_cont:.5g}; "
        f"sustained oscillation from X0=Y0=1 from Omega ~ {switching:.4g}: bistable window "
        f"[{switching:.4g}, {hopf_cont:.5g})",
    )
    ctx.check(
        "normal_switches_to_oscillation",
        bool(bistable) and first is not None and rows[first]["omega"] > ref,
        f"sustained oscillation from X0=Y0=1 from Omega ~ {switching:.4g} on; with a stable "
        f"physical fixed point at Omega = {[r['omega'] for r in bistable]}",
    )

    # 3. closures against SSA
    chosen = tuple(CLOSURES[name]() for name in cfg["validity_closures"])
    res = closure_validity(
        net,
        closures=chosen,
        order=2,
        volumes=cfg["validity_volumes"],
        t_span=(0.0, float(cfg["t_end"])),
        num_runs=int(cfg["num_runs"]),
        seed=int(cfg["seed"]),
        num_times=int(cfg["num_times"]),
        mean_rtol=float(cfg["mean_rtol"]),
        variance_rtol=float(cfg["variance_rtol"]),
        backend=backend,
    )
    frame = res.to_frame()
    ctx.table("closure_validity", frame)
    normal_ref = res.verdict("normal", ref)
    ctx.check(
        "normal_matches_ssa_mean",
        abs(normal_ref.mean_z) < 4 or normal_ref.mean_error < 0.05,
        f"Omega={ref:g}: relative error of the mean {normal_ref.mean_error:.3g} "
        f"({normal_ref.mean_z:+.1f} SE), verdict {normal_ref.verdict}",
    )
    if "log-normal" in res.closures:
        ln = res.verdict("log-normal", ref)
        ctx.check(
            "lognormal_spurious_oscillation",
            ln.spurious_oscillation and ln.verdict == "invalid",
            f"Omega={ref:g}: verdict {ln.verdict}; " + "; ".join(ln.evidence[:3]),
        )
    v = int(np.argmin(np.abs(res.volumes - ref)))
    ssa_amp, _ = amplitude(res.ssa_mean[v, :, 0])
    det = solve(rates, None, (0.0, float(cfg["t_end"])), t_eval=res.t, backend=backend)
    det_amp, _ = amplitude(det.y[:, 0])
    ctx.check(
        "deterministic_unstable_focus",
        jac.classification.value == "unstable focus" and ssa_amp < 0.5 * det_amp,
        f"rate equations: {jac.classification.value}, limit-cycle amplitude {det_amp:.3g}; "
        f"SSA mean amplitude at Omega={ref:g} over the last quarter: {ssa_amp:.3g}",
    )
    smallest = res.verdict("normal", float(res.volumes[0]))
    ctx.check(
        "finite_validity_range",
        smallest.verdict != "valid" and normal_ref.verdict == "valid" and math.isfinite(switching),
        f"normal closure: Omega={res.volumes[0]:g} {smallest.verdict} (mean error "
        f"{smallest.mean_error:.3g}, {smallest.mean_z:+.1f} SE); Omega={ref:g} "
        f"{normal_ref.verdict}; sustained oscillation (bistable) from Omega ~ {switching:.4g}",
    )
    for item in res.verdicts:
        ctx.record(f"verdict_{item.closure}_{item.volume:g}", item.verdict)

    # 4a. zero closure: negative mean
    zero = moment_equations(net, 2, closure=Zero())
    grid = np.linspace(0.0, float(cfg["t_end"]), int(cfg["num_times"]))
    zt = solve(zero, None, (0.0, grid[-1]), t_eval=grid, backend=backend)
    min_y = float(np.min(means_of(zero, zt.y)[:, 1]))
    ctx.check(
        "zero_closure_negative_mean",
        min_y < 0,
        f"Omega={ref:g}: smallest mean of Y {min_y:.4g} (status {zt.status})",
    )

    # 4b. combinatoric rate law: compare closure orders
    comb = brusselator(cfg, cfg["combinatoric_c1"], ref)
    t_end = float(cfg["orders_t_end"])
    grid = np.linspace(0.0, t_end, 801)
    series, amps = {}, {}
    for order in cfg["orders"]:
        model = moment_equations(comb, int(order), closure=Normal())
        traj = solve(model, None, (0.0, t_end), t_eval=grid, backend=backend)
        series[order] = means_of(model, traj.y)[:, 0] / ref
        amps[order] = amplitude(series[order])
        ctx.record(f"combinatoric_order{order}_amplitude", amps[order][0])
    sim = ssa(
        comb, (0.0, t_end), num_runs=int(cfg["orders_num_runs"]), t_eval=grid, seed=int(cfg["seed"])
    )
    ssa_comb = sim.mean("X")
    ssa_amp_comb = max(
        0.0, amplitude(ssa_comb.value)[0] - 2 * float(np.nanmean(ssa_comb.standard_error)) / ref
    )
    ctx.table(
        "combinatoric_orders",
        pd.DataFrame(
            {
                "order": list(amps),
                "amplitude": [a[0] for a in amps.values()],
                "previous_amplitude": [a[1] for a in amps.values()],
            }
        ),
    )
    o2, o3, o4 = (amps[o][0] for o in (2, 3, 4))
    ctx.check(
        "combinatoric_order_hierarchy",
        sustained(series[2])
        and OSCILLATION_TOL < o3 < o2
        and o4 < OSCILLATION_TOL
        and ssa_amp_comb < 0.5 * o2,
        f"late amplitude of mean X: order 2 {o2:.3g}, order 3 {o3:.3g}, order 4 {o4:.2e}; "
        f"SSA mean {ssa_amp_comb:.3g}",
    )

    _monostable(ctx, cfg, backend)

    if ctx.out is not None:
        _figures(ctx, res, sweep, series, grid, ssa_comb, ref)


def _monostable(ctx: StudyContext, cfg: dict[str, Any], backend: str) -> None:
    """Monostable systems: closures hold only above a threshold of the mean."""
    sch = cfg["schlogl"]
    schlogl = ReactionNetwork.from_strings(
        "schlogl",
        species={"X": 1},
        reactions={
            "up": "2 X -> 3 X @ k1",
            "down": "3 X -> 2 X @ k2",
            "inflow": "0 -> X @ k3",
            "outflow": "X -> 0 @ k4",
        },
        parameters={k: float(sch[k]) for k in ("k1", "k2", "k3", "k4")},
    )
    rates = find_equilibria(schlogl.rate_equations(), bounds=[(0.0, 100.0)], method=Algebraic())
    model = moment_equations(schlogl, 2, closure=Normal())
    counts = []
    for omega in sch["volumes"]:
        found = find_equilibria(model, {"Omega": float(omega)}, method=Algebraic(), backend=backend)
        stable = [
            e
            for e in found.equilibria
            if e.is_stable and e.state_map["mean_X"] >= 0 and e.state_map["var_X"] >= 0
        ]
        counts.append(len(stable))
    ctx.table(
        "schlogl_normal_fixed_points",
        pd.DataFrame({"omega": sch["volumes"], "stable_physical_fixed_points": counts}),
    )
    threshold = next((w for w, n in zip(sch["volumes"], counts, strict=True) if n == 1), math.nan)
    ctx.record("schlogl_single_state_from_omega", float(threshold))
    ctx.check(
        "spurious_bistability_small_omega",
        len(rates.equilibria) == 1 and counts[0] >= 2 and counts[-1] == 1,
        f"rate equations: {len(rates.equilibria)} fixed point; order-2 normal closure: stable "
        f"physical fixed points {dict(zip(sch['volumes'], counts, strict=True))} over Omega",
    )

    dim = cfg["dimerisation"]
    dimer = ReactionNetwork.from_strings(
        "dimerisation",
        species={"X": 1},
        reactions={"inflow": "0 -> X @ k1", "dimerise": "2 X -> 0 @ k2"},
        parameters={"k1": float(dim["k1"]), "k2": float(dim["k2"])},
    )
    res = closure_validity(
        dimer,
        closures=tuple(CLOSURES[name]() for name in dim["closures"]),
        volumes=dim["volumes"],
        t_span=(0.0, float(dim["t_end"])),
        num_runs=int(dim["num_runs"]),
        seed=int(cfg["seed"]),
        num_times=int(dim["num_times"]),
        mean_rtol=float(cfg["mean_rtol"]),
        variance_rtol=float(cfg["variance_rtol"]),
        backend=backend,
    )
    ctx.table("dimerisation_validity", res.to_frame())
    small = [res.verdict(c, float(res.volumes[0])) for c in res.closures]
    large = [res.verdict(c, float(res.volumes[-1])) for c in res.closures]
    ctx.check(
        "monostable_threshold",
        all(v.verdict != "valid" for v in small) and all(v.verdict == "valid" for v in large),
        f"dimerisation, Omega={res.volumes[0]:g}: "
        + ", ".join(f"{v.closure} {v.verdict}" for v in small)
        + f"; Omega={res.volumes[-1]:g}: "
        + ", ".join(f"{v.closure} {v.verdict}" for v in large),
    )


def _figures(
    ctx: StudyContext,
    res: Any,
    sweep: pd.DataFrame,
    series: dict,
    grid: np.ndarray,
    ssa_comb: Any,
    ref: float,
) -> None:
    from stabkit.report.figures import new_figure

    fig, (ax,) = new_figure()
    res.plot(ax=ax)
    ctx.figure(
        "closure_errors",
        fig,
        "Relative error of the mean at the final time against Omega, per closure; letters: "
        "failure modes (N negative variance, O spurious oscillation, M several steady "
        "states, I initial-condition dependence).",
    )
    fig, (ax,) = new_figure()
    res.plot(ax=ax, kind="trajectories", volume=ref)
    ctx.figure(
        "closure_trajectories",
        fig,
        f"Mean of X at Omega = {ref:g}: closures and the SSA (band: two standard errors).",
    )
    fig, axes = new_figure(1, 2, figsize=(9, 3.5))
    axes[0].semilogx(sweep["omega"], sweep["amplitude"], "o-")
    axes[0].set_xlabel("Omega")
    axes[0].set_ylabel("late amplitude of mean X (relative)")
    axes[1].semilogx(sweep["omega"], sweep["leading_real_part"], "o-")
    axes[1].axhline(0.0, color="0.5", lw=0.8)
    axes[1].set_xlabel("Omega")
    axes[1].set_ylabel("leading Re(eigenvalue)")
    axes[1].set_title("physical fixed point of the closure")
    ctx.figure(
        "normal_sweep",
        fig,
        "Order-2 normal closure from X0 = Y0 = 1: late oscillation amplitude (left) and "
        "the stability of its physical fixed point (right) against Omega.",
    )
    fig, (ax,) = new_figure()
    for order, x in series.items():
        ax.plot(grid, x, label=f"normal, order {order}")
    ax.plot(grid, ssa_comb.value / ref, color="0.3", label="SSA mean")
    ax.set_xlabel("t")
    ax.set_ylabel("mean of X / Omega")
    ax.legend()
    ctx.figure(
        "combinatoric_orders",
        fig,
        f"Combinatoric rate law (c1 = 0.9 with 1/2! inside), Omega = {ref:g}: normal "
        "closures of orders 2-4 against the SSA mean.",
    )
