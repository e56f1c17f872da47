"""Wu & Su (2023, ICML, arXiv 2305.17490): the implicit regularisation of SGD's stability.

At an interpolating minimum of the square loss ``(1/2n) sum (f(x_i) - y_i)^2`` the
Hessian is ``H = (1/n) sum g_i g_i^T`` (``g_i = grad_theta f(x_i)``). Linear stability of
SGD with batch 1 in mean square needs ``tr H <= 2/eta``; full-batch GD needs only
``lambda_max(H) <= 2/eta``. On a diagonal linear net and a two-layer ReLU net, SGD and
GD are run over a log grid of learning rates; at each minimum reached the trace (by
Hutch++ on the Gauss-Newton operator, :func:`stabkit.learn.trace_estimate`, against the
exact Gram trace) and the sharpness are compared with ``2/eta``; the exact mean-square
criterion (:func:`stabkit.learn.sgd_mean_square_stability`) is checked at one minimum,
and a direct simulation of the linearised SGD shows ``E ||delta_t||^2`` growing exactly
when that criterion fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stabkit.studies.wu2023_sgd_dynamical_stability import _nets


def diagonal_data(c: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """``x (n, d) ~ N(0, I)``, k-sparse ``beta*`` of +-1, noiseless ``y``; and a test set."""
    rng = np.random.default_rng(int(c["seed"]))
    d, n, k = int(c["diag_dim"]), int(c["diag_samples"]), int(c["diag_sparsity"])
    beta = np.zeros(d)
    beta[:k] = rng.choice([-1.0, 1.0], size=k)
    x = rng.standard_normal((n, d))
    xt = rng.standard_normal((int(c["diag_test_samples"]), d))
    return x, x @ beta, xt, xt @ beta


def relu_data(c: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``x ~ N(0, I)`` in ``relu_dim`` dimensions, a 3-unit ReLU teacher scaled to unit RMS."""
    rng = np.random.default_rng(int(c["seed"]) + 7)
    n, d = int(c["relu_samples"]), int(c["relu_dim"])
    x = rng.standard_normal((n, d))
    teacher = rng.standard_normal((3, d))
    y = np.maximum(x @ teacher.T, 0.0) @ np.array([1.0, -1.0, 1.0])
    return x, y / np.sqrt(np.mean(y**2))


def _trace_probe(module: Any, x: np.ndarray, y: np.ndarray, n_params: int) -> Any:
    import torch

    from stabkit.learn import HutchPlusPlus, ggn_operator, trace_estimate

    batch = (torch.tensor(x), torch.tensor(y))
    op = ggn_operator(module, _nets.half_mse, batch, check_determinism=False)
    m = 3 * (x.shape[0] + 4)  # the sketch covers the rank-n GGN
    return trace_estimate(op, HutchPlusPlus(num_matvecs=min(m, 3 * n_params)), seed=0)


def analyse(family: str, optimizer: str, lrs: list[float], params: Any, data: Any) -> list[dict]:
    """One row per learning rate: loss, exact tr H and lambda_max, norms; the module."""
    x, y = data[0], data[1]
    rows = []
    for i, lr in enumerate(lrs):
        row: dict[str, Any] = {"family": family, "optimizer": optimizer, "lr": lr}
        row["two_over_lr"] = 2.0 / lr
        if family == "diagonal":
            u, v = params[0][i], params[1][i]
            ok = bool(np.all(np.isfinite(u)))
            if ok:
                beta = u * v
                g = _nets.diagonal_output_gradients(u, v, x)
                module = _nets.torch_diagonal(u, v)
                row["weighted_l1"] = float(np.sum(np.abs(beta) * np.mean(x**2, axis=0)))
                row["test_mse"] = float(np.mean((data[2] @ beta - data[3]) ** 2))
        else:
            w, a = params[0][i], params[1][i]
            ok = bool(np.all(np.isfinite(a)))
            if ok:
                g = _nets.relu_output_gradients(w, a, x)
                module = _nets.torch_relu(w, a)
                row["path_norm"] = float(np.sum(np.abs(a) * np.linalg.norm(w, axis=1)))
        row["diverged"] = not ok
        if not ok:
            rows.append(row)
            continue
        resid = g.sum(axis=1) * 0.0 + (module(_as_tensor(x)).detach().numpy() - y)
        row["loss"] = float(0.5 * np.mean(resid**2))
        gram = g @ g.T / x.shape[0]
        row["trace"] = float(np.trace(gram))
        row["lambda_max"] = float(np.linalg.eigvalsh(gram).max())
        row["module"] = module
        rows.append(row)
    return rows


def _as_tensor(x: np.ndarray) -> Any:
    import torch

    return torch.tensor(x)


def second_moment(g: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """``E ||delta_t||^2`` of ``delta' = (I - lr g_i g_i^T) delta``, ``i`` uniform, exactly.

    Iterates ``S' = (1/n) sum_i (I - lr H_i) S (I - lr H_i)`` from ``S_0 = I / r``.
    """
    n, r = g.shape
    s = np.eye(r) / r
    out = [1.0]
    for _ in range(steps):
        gs = g @ s  # (n, r)
        q = np.einsum("ij,ij->i", gs, g)  # g_i^T S g_i
        s = s - lr * (gs.T @ g + g.T @ gs) / n + lr**2 * (g.T * q) @ g / n
        out.append(float(np.trace(s)))
    return np.array(out)


def simulate(g: np.ndarray, lr: float, steps: int, chains: int, seed: int) -> np.ndarray:
    """Monte Carlo of the same recursion: ``||delta_t||^2`` of ``chains`` runs, ``(chains,)``."""
    rng = np.random.default_rng(seed)
    n, r = g.shape
    delta = rng.standard_normal((chains, r))
    delta /= np.linalg.norm(delta, axis=1, keepdims=True)
    for _ in range(steps):
        gi = g[rng.integers(0, n, size=chains)]
        delta -= lr * np.einsum("ij,ij->i", gi, delta)[:, None] * gi
    return np.sum(delta**2, axis=1)


def run(ctx: Any) -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add overhead
    try:
        _run(ctx)
    finally:
        torch.set_num_threads(threads)


def _run(ctx: Any) -> None:
    import pandas as pd

    c = ctx.config
    tol = float(c["converged_loss"])
    slack = 1.0 + float(c["trace_slack"])
    seed = int(c["seed"])
    dd = diagonal_data(c)
    rd = relu_data(c)
    rows: list[dict] = []
    for optimizer, sgd in (("sgd", True), ("gd", False)):
        lrs = [float(v) for v in c[f"diag_{optimizer}_lrs"]]
        it = int(c["diag_sgd_epochs"] if sgd else c["diag_gd_steps"])
        p = _nets.train_diagonal(
            dd[0],
            dd[1],
            np.array(lrs),
            alpha=float(c["diag_alpha"]),
            sgd=sgd,
            num_iter=it,
            seed=seed,
        )
        rows += analyse("diagonal", optimizer, lrs, p, dd)
        lrs = [float(v) for v in c[f"relu_{optimizer}_lrs"]]
        it = int(c["relu_sgd_epochs"] if sgd else c["relu_gd_steps"])
        p = _nets.train_relu(
            rd[0], rd[1], np.array(lrs), width=int(c["relu_width"]), sgd=sgd, num_iter=it, seed=seed
        )
        rows += analyse("relu", optimizer, lrs, p, rd)
    modules = [row.pop("module", None) for row in rows]
    table = pd.DataFrame(rows)
    table["converged"] = (~table["diverged"]) & (table["loss"].fillna(np.inf) < tol)
    ctx.table("minima", table)
    conv = table[table["converged"]]

    # Hutch++ on the Gauss-Newton operator against the exact trace, at the largest-lr
    # SGD minimum of each family (the one closest to the bound)
    rel = []
    for fam, data in (("diagonal", dd), ("relu", rd)):
        sub = conv[(conv.family == fam) & (conv.optimizer == "sgd")]
        if len(sub):
            i = int(sub.index[-1])
            n_params = sum(int(p.numel()) for p in modules[i].parameters())
            est = _trace_probe(modules[i], data[0], data[1], n_params)
            rel.append(abs(est.estimate / table.trace[i] - 1))
            ctx.record(f"{fam}_trace_hutchpp", est.estimate)
            ctx.record(f"{fam}_trace_hutchpp_matvecs", float(est.num_matvecs))
    ctx.compare("trace_estimate_relative_error", float(max(rel)) if rel else float("nan"))

    for fam in ("diagonal", "relu"):
        sgd_rows = conv[(conv.family == fam) & (conv.optimizer == "sgd")]
        gd_rows = conv[(conv.family == fam) & (conv.optimizer == "gd")]
        ratio = sgd_rows.lr * sgd_rows.trace / 2
        diverged = table[(table.family == fam) & (table.optimizer == "sgd") & table.diverged]
        ctx.compare(f"{fam}_sgd_max_lr_trace_over_2", float(ratio.max()))
        ctx.check(
            f"{fam}_sgd_trace_bound",
            len(sgd_rows) >= 3 and bool(np.all(ratio <= slack)),
            f"{len(sgd_rows)} SGD minima (lr {sorted(sgd_rows.lr)}): eta tr H / 2 = "
            + ", ".join(f"{v:.3f}" for v in ratio)
            + f"; SGD runs that diverged: {sorted(diverged.lr)}",
        )
        sharp = gd_rows.lr * gd_rows.lambda_max / 2
        gtr = gd_rows.lr * gd_rows.trace / 2
        ctx.check(
            f"{fam}_gd_sharpness_not_trace",
            len(gd_rows) >= 2 and bool(np.all(sharp <= slack)) and bool(np.any(gtr > slack)),
            f"GD minima at lr {list(gd_rows.lr)}: eta lambda_max / 2 = "
            + ", ".join(f"{v:.3f}" for v in sharp)
            + "; eta tr H / 2 = "
            + ", ".join(f"{v:.3f}" for v in gtr),
        )

    dsgd = conv[(conv.family == "diagonal") & (conv.optimizer == "sgd")].sort_values("lr")
    l1, err = dsgd.weighted_l1.to_numpy(), dsgd.test_mse.to_numpy()
    ctx.check(
        "diagonal_sgd_norm_falls_with_lr",
        len(l1) >= 3 and bool(np.all(np.diff(l1) < 0)) and bool(err[-1] < err[0]),
        f"lr {list(dsgd.lr)}: weighted l1 of beta "
        + ", ".join(f"{v:.3f}" for v in l1)
        + "; test MSE "
        + ", ".join(f"{v:.3g}" for v in err),
    )

    mean_square(ctx, dd, dsgd, c)
    figure(ctx, table)


def mean_square(ctx: Any, dd: Any, dsgd: Any, c: dict[str, Any]) -> None:
    """Exact criterion at the largest-lr SGD minimum, and the quadratic test there."""
    from stabkit.learn import sgd_mean_square_stability

    best = dsgd.iloc[-1]
    seed = int(c["seed"])
    u, v = _nets.train_diagonal(
        dd[0],
        dd[1],
        np.array([best.lr]),
        alpha=float(c["diag_alpha"]),
        sgd=True,
        num_iter=int(c["diag_sgd_epochs"]),
        seed=seed,
    )
    g = _nets.reduce_gradients(_nets.diagonal_output_gradients(u[0], v[0], dd[0]))
    r = sgd_mean_square_stability(g, float(best.lr), batch_size=1)
    ctx.record("mean_square_lr", float(best.lr))
    ctx.record("mean_square_spectral_radius", r.spectral_radius)
    ctx.record("critical_lr", r.critical_lr)
    ctx.compare("critical_lr_trace_over_2", r.critical_lr * r.trace / 2)
    ctx.check(
        "sgd_minimum_mean_square_stable",
        bool(r.stable and r.trace_condition),
        f"at lr {best.lr:g}: spectral radius {r.spectral_radius:.6f}, tr H {r.trace:.4g} "
        f"<= 2/eta {2 / best.lr:.4g}; critical lr {r.critical_lr:.4g}",
    )
    steps, chains = int(c["quadratic_steps"]), int(c["quadratic_chains"])
    lines = []
    ok = True
    for factor in (0.9, 1.1):
        lr = factor * r.critical_lr
        exact = second_moment(g, lr, steps)
        grows = bool(exact[-1] > exact[steps // 2])
        ok &= grows == (factor > 1)
        lines.append(
            f"lr = {factor} x critical: E||delta||^2 {exact[steps // 2]:.3g} -> {exact[-1]:.3g} "
            f"(per-step ratio {(exact[-1] / exact[steps // 2]) ** (2 / steps):.5f})"
        )
    for factor in (0.5, 2.0):
        lr = factor * r.critical_lr
        sq = simulate(g, lr, steps, chains, seed)
        exact = second_moment(g, lr, steps)
        mean, se = float(sq.mean()), float(sq.std(ddof=1) / np.sqrt(chains))
        grows = mean > 1.0
        ok &= grows == (factor > 1)
        lines.append(
            f"lr = {factor} x critical, {chains} simulated runs: mean ||delta_T||^2 "
            f"{mean:.3g} +- {se:.2g} (exact {exact[-1]:.3g})"
        )
    ctx.check("quadratic_test", ok, "; ".join(lines))


def figure(ctx: Any, table: Any) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, fam in zip(axes, ("diagonal", "relu"), strict=True):
        sub = table[(table.family == fam) & table.converged]
        lr = np.geomspace(table.lr.min(), table.lr.max(), 50)
        ax.loglog(lr, 2 / lr, "k--", lw=1, label="2/eta")
        for opt, mk in (("sgd", "o"), ("gd", "s")):
            s = sub[sub.optimizer == opt]
            ax.loglog(s.lr, s.trace, mk + "-", label=f"{opt.upper()}: tr H")
            ax.loglog(s.lr, s.lambda_max, mk + ":", label=f"{opt.upper()}: lambda_max")
        ax.set_xlabel("learning rate")
        ax.set_title(f"{fam} net: minima reached")
        ax.legend(fontsize=7)
    ctx.figure(
        "trace_vs_lr",
        fig,
        "tr H and lambda_max at the minima reached by SGD (batch 1) and GD, against 2/eta.",
    )
