"""Gilman et al. (2024): Leslie predator-prey maps: growth factor, fixed points, last species.

The model is the block recursion (x, y)_{t+1} = [[L_x, -a I], [b I, L_y]] (x, y)_t of prey
and predator age classes (the spec's hypothesis of the paper's model). The growth factor is
the spectral radius, checked against power iteration and the ratio of successive totals;
single-species Leslie matrices against their characteristic and Euler-Lotka equations; the
origin's loss of stability by continuation; a density-dependent (Ricker) variant's fixed
point against its closed form; and the last species standing against the dominant
eigenvector over random parameter draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import stabkit
from stabkit.analysis.continuation import continue_branch


def leslie(fecundity: Sequence[float], survival: Sequence[float]) -> np.ndarray:
    """A Leslie matrix: fecundities in the first row, survival on the subdiagonal."""
    k = len(fecundity)
    matrix = np.zeros((k, k))
    matrix[0] = fecundity
    matrix[np.arange(1, k), np.arange(k - 1)] = survival
    return matrix


def block_matrix(p: dict[str, Any]) -> np.ndarray:
    """[[L_x, -a I], [b I, L_y]] from the study's parameters."""
    k = len(p["prey_fecundity"])
    lx = leslie(p["prey_fecundity"], p["prey_survival"])
    ly = leslie(p["predator_fecundity"], p["predator_survival"])
    eye = np.eye(k)
    return np.block([[lx, -p["predation"] * eye], [p["conversion"] * eye, ly]])


def leslie_equations(species: str, k: int, extra: str = "", factor: str = "") -> dict[str, str]:
    """Equations of one species' Leslie block with an optional term per class."""
    births = " + ".join(f"f{species}{i + 1}*{species}{i + 1}" for i in range(k))
    eqs = {f"{species}1": f"({births}){factor}"}
    for i in range(1, k):
        eqs[f"{species}{i + 1}"] = f"s{species}{i}*{species}{i}"
    if extra:
        eqs = {v: f"{rhs} {extra.format(i=v[len(species) :])}" for v, rhs in eqs.items()}
    return eqs


def model_params(p: dict[str, Any]) -> dict[str, float]:
    """The study's settings as the model's parameter values."""
    params = {"a": float(p["predation"]), "b": float(p["conversion"])}
    for sp, f, s in (
        ("x", p["prey_fecundity"], p["prey_survival"]),
        ("y", p["predator_fecundity"], p["predator_survival"]),
    ):
        params.update({f"f{sp}{i + 1}": float(v) for i, v in enumerate(f)})
        params.update({f"s{sp}{i + 1}": float(v) for i, v in enumerate(s)})
    return params


def predator_prey_model(p: dict[str, Any], *, clip: bool = False) -> stabkit.Model:
    """The block recursion as a stabkit map (``clip``: populations never below zero)."""
    k = len(p["prey_fecundity"])
    eqs = {
        **leslie_equations("x", k, extra="- a*y{i}"),
        **leslie_equations("y", k, extra="+ b*x{i}"),
    }
    if clip:
        eqs = {v: f"max(0, {rhs})" for v, rhs in eqs.items()}
    params = model_params(p)
    return stabkit.Model.from_equations(
        eqs, parameters=params, variables={v: 1.0 for v in eqs}, kind="map", name="leslie_pp"
    )


def single_model(fecundity: Sequence[float], survival: Sequence[float], factor: str = "") -> Any:
    k = len(fecundity)
    params = {f"fx{i + 1}": float(v) for i, v in enumerate(fecundity)}
    params.update({f"sx{i + 1}": float(v) for i, v in enumerate(survival)})
    eqs = leslie_equations("x", k, factor=factor)
    return stabkit.Model.from_equations(
        eqs, parameters=params, variables={v: 1.0 for v in eqs}, kind="map", name="leslie"
    )


def power_iteration(matrix: np.ndarray, num: int) -> float:
    """Spectral radius by power iteration (dominant eigenvalue real and simple)."""
    v = np.ones(matrix.shape[0])
    growth = math.nan
    for _ in range(num):
        w = matrix @ v
        growth = float(np.linalg.norm(w) / np.linalg.norm(v))
        v = w / np.linalg.norm(w)
    return growth


def euler_lotka_root(fecundity: Sequence[float], survival: Sequence[float]) -> float:
    """The root lambda > 0 of sum_i f_i l_i lambda^(-i) = 1 (l_i: survival to class i)."""
    from scipy.optimize import brentq

    survivorship = np.concatenate([[1.0], np.cumprod(survival)])
    ages = np.arange(1, len(fecundity) + 1)

    def g(lam: float) -> float:
        return float(np.sum(np.asarray(fecundity) * survivorship / lam**ages) - 1.0)

    return float(brentq(g, 1e-6, 1e3, xtol=1e-15, rtol=1e-15))


def _dominant(ls: Any) -> tuple[complex, np.ndarray]:
    i = int(np.argmax(np.abs(ls.eigenvalues)))
    return complex(ls.eigenvalues[i]), np.asarray(ls.eigenvectors[:, i])


# ---------------------------------------------------------------------- the checks
def growth_factor(ctx: Any) -> dict[str, Any]:
    c = ctx.config
    model = predator_prey_model(c)
    n = model.num_variables
    ls = stabkit.linear_stability(model, np.zeros(n))
    lam, _ = _dominant(ls)
    rho = float(ls.max_modulus)
    ctx.record("growth_factor", rho)
    ctx.record("dominant_eigenvalue_imag", lam.imag)
    ctx.record("jacobian_vs_block_matrix", float(np.max(np.abs(ls.jacobian - block_matrix(c)))))
    ctx.compare(
        "growth_factor_power_iteration_error",
        abs(rho - power_iteration(block_matrix(c), int(c["power_iterations"]))),
    )
    steps = int(c["num_steps"])
    traj = stabkit.solve(model, None, (0, steps))
    totals = traj.y.sum(axis=1)
    ctx.compare("growth_factor_total_ratio_error", abs(totals[-1] / totals[-2] - rho))

    slopes = []
    for scale in (1.0, float(c["decay_scale"])):
        scaled = dict(c)
        for key in ("prey_fecundity", "predator_fecundity"):
            scaled[key] = [scale * f for f in c[key]]
        q = model_params(scaled)
        r = float(stabkit.linear_stability(model, np.zeros(n), q).max_modulus)
        tr = stabkit.solve(model, None, (0, steps), params=q)
        t, log_n = tr.t[steps // 2 :], np.log(tr.y[steps // 2 :].sum(axis=1))
        slope, intercept = np.polyfit(t, log_n, 1)
        residual = float(np.max(np.abs(log_n - (slope * t + intercept))))
        slopes.append((scale, r, float(slope), residual))
    ok = all(abs(s - math.log(r)) < 1e-6 and res < 1e-6 for _, r, s, res in slopes)
    ok = ok and slopes[0][1] > 1 > slopes[1][1]
    ctx.check(
        "exponential_growth_or_decay",
        bool(ok),
        "; ".join(
            f"fecundities x{scale:g}: growth factor {r:.6g}, fitted log-slope {s:.6g} "
            f"(ln of growth factor {math.log(r):.6g}, largest residual {res:.1e})"
            for scale, r, s, res in slopes
        ),
    )
    return {"model": model, "traj": traj, "rho": rho, "slopes": slopes}


def single_species(ctx: Any) -> None:
    c = ctx.config
    model = single_model(c["single_fecundity"], c["single_survival"])
    ls = stabkit.linear_stability(model, np.zeros(model.num_variables))
    ctx.compare("single_species_growth_factor", float(ls.max_modulus))
    prey = single_model(c["prey_fecundity"], c["prey_survival"])
    rho = float(stabkit.linear_stability(prey, np.zeros(prey.num_variables)).max_modulus)
    root = euler_lotka_root(c["prey_fecundity"], c["prey_survival"])
    ctx.record("prey_alone_growth_factor", rho)
    ctx.compare("euler_lotka_error", abs(rho - root))


def fixed_points(ctx: Any, model: stabkit.Model) -> None:
    c = ctx.config
    found = stabkit.find_equilibria(model)
    origin = found.equilibria[0] if len(found.equilibria) == 1 else None
    rho = float(origin.stability.max_modulus) if origin is not None else math.nan
    ok = (
        origin is not None
        and found.complete
        and bool(np.allclose(origin.state, 0.0))
        and origin.is_stable == (rho < 1)
    )
    ctx.check(
        "origin_only_fixed_point",
        bool(ok),
        f"find_equilibria: {len(found.equilibria)} fixed point(s), {found.guarantee}; origin "
        f"{origin.classification.value if origin else '-'} with growth factor {rho:.6g}",
    )
    # where the origin loses stability as the prey's second fecundity grows
    start = 0.5 * c["prey_fecundity"][1]
    params = {"fx2": start}
    branch = continue_branch(model, "fx2", np.zeros(model.num_variables), params=params, to=5.0)
    crossing = [s for s in branch.special_points if s.kind in ("BP", "LP")]
    ctx.record("origin_branch", f"{branch.status}: {branch.message}")
    from scipy.optimize import brentq

    def det(f: float) -> float:
        p = dict(c)
        p["prey_fecundity"] = [*c["prey_fecundity"][:1], f, *c["prey_fecundity"][2:]]
        return float(np.linalg.det(np.eye(model.num_variables) - block_matrix(p)))

    grid = np.linspace(start, 5.0, 400)
    values = np.array([det(f) for f in grid])
    k = int(np.flatnonzero(np.signbit(values[1:]) != np.signbit(values[:-1]))[0])
    f_star = brentq(det, grid[k], grid[k + 1], xtol=1e-14)
    measured = crossing[0].parameter_value if crossing else math.nan
    ctx.record("critical_prey_fecundity", measured)
    ctx.compare("critical_fecundity_error", abs(measured - f_star))

    ricker = single_model(
        c["single_fecundity"], c["single_survival"], factor=f" * exp(-{c['crowding']}*(x1 + x2))"
    )
    box = [tuple(c["ricker_box"])] * ricker.num_variables
    found = stabkit.find_equilibria(ricker, bounds=box)
    inner = [e for e in found.equilibria if np.all(e.state > 1e-9)]
    total = float(np.sum(inner[0].state)) if inner else math.nan
    ctx.compare("ricker_fixed_point_total", total)
    if inner:
        ctx.record("ricker_fixed_point_stability", inner[0].classification.value)
        ctx.record("ricker_fixed_point_max_multiplier", float(inner[0].stability.max_modulus))
    ctx.record("ricker_guarantee", found.guarantee)


def _draw(rng: np.random.Generator, k: int) -> dict[str, Any]:
    def fec() -> list[float]:
        return [0.0, *rng.uniform(0.2, 2.0, k - 1)]

    def surv() -> list[float]:
        return list(rng.uniform(0.2, 0.9, k - 1))

    return {
        "prey_fecundity": fec(),
        "prey_survival": surv(),
        "predator_fecundity": fec(),
        "predator_survival": surv(),
        "predation": float(rng.uniform(0.01, 0.1)),
        "conversion": float(rng.uniform(0.01, 0.1)),
    }


def last_species_standing(ctx: Any, model: stabkit.Model) -> None:
    c = ctx.config
    rng = np.random.default_rng(int(c["seed"]))
    k = len(c["prey_fecundity"])
    clipped = predator_prey_model(c, clip=True)
    agree, compared, complex_dominant = 0, 0, 0
    rows = []
    while compared < int(c["num_random_draws"]):
        q = model_params(_draw(rng, k))
        lam, vec = _dominant(stabkit.linear_stability(model, np.zeros(2 * k), q))
        if abs(lam.imag) > 1e-12 or lam.real <= 0:
            complex_dominant += 1
            continue
        # orient the eigenvector so that the predator block (fed by conversion) is positive:
        # prey driven negative by predation die out, otherwise both persist
        vec = np.real(vec) * np.sign(np.sum(np.real(vec[k:])))
        predicted = "both" if np.all(vec[:k] > 0) else "predator"
        final = stabkit.solve(clipped, None, (0, int(c["lss_steps"])), params=q).y[-1]
        prey_alive, predator_alive = final[:k].sum() > 0, final[k:].sum() > 0
        if prey_alive and predator_alive:
            simulated = "both"
        else:
            simulated = "predator" if predator_alive else ("prey" if prey_alive else "none")
        compared += 1
        agree += int(simulated == predicted)
        rows.append({"growth_factor": lam.real, "predicted": predicted, "simulated": simulated})
    import pandas as pd

    table = pd.DataFrame(rows)
    ctx.table("last_species_standing", table)
    counts = table.predicted.value_counts().to_dict()
    ctx.check(
        "last_species_standing",
        agree == compared and len(counts) > 1,
        f"{agree}/{compared} random predator-prey draws: the survivors after "
        f"{c['lss_steps']} steps of the map with populations clipped at zero are those the "
        "dominant eigenvector predicts (oriented with a positive predator block, the prey "
        f"die out where its prey block is negative); predicted outcomes {counts}; "
        f"{complex_dominant} draws with a complex dominant pair skipped",
    )


def figures(ctx: Any, growth: dict[str, Any]) -> None:
    from stabkit.report.figures import new_figure

    traj = growth["traj"]
    fig, (ax,) = new_figure(figsize=(7.5, 4.2))
    k = len(ctx.config["prey_fecundity"])
    ax.semilogy(traj.t, traj.y[:, :k].sum(axis=1), label="prey total")
    ax.semilogy(traj.t, traj.y[:, k:].sum(axis=1), label="predator total")
    ax.semilogy(traj.t, traj.y[0].sum() * growth["rho"] ** traj.t, ":", label="growth factor^t")
    ax.set_xlabel("t")
    ax.set_title("Block-Leslie predator-prey: exponential growth at the growth factor")
    ax.legend(loc="upper left")
    ctx.figure("totals", fig, "Totals of the iterated map against the dominant eigenvalue.")


def run(ctx: Any) -> None:
    """The study."""
    growth = growth_factor(ctx)
    single_species(ctx)
    fixed_points(ctx, growth["model"])
    last_species_standing(ctx, growth["model"])
    if ctx.out is not None:
        figures(ctx, growth)
