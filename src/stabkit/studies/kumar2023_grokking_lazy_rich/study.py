"""Kumar et al. (2024, ICLR, arXiv 2310.06110): grokking as the lazy-to-rich transition.

A one-hidden-layer network ``f(x) = alpha (1/N) sum_i phi(w_i . x)`` with
``phi(z) = z + (eps/2) z^2`` and a fixed readout learns the quadratic target
``y = (beta . x)^2 / 2`` by full-batch GD on the centred loss ``mean (f - f_0 - y)^2``
with ``eta = N / alpha^2``. Early on the network is lazy: it behaves like its
linearisation, whose test loss tends to that of kernel regression with the initial
neural tangent kernel ``K0(x, x') = (alpha/N)^2 sum_i phi'(w_i . x) phi'(w_i . x') x . x'``;
later the features align with ``beta`` (rich regime) and the test loss drops below the
kernel's: grokking, delayed more the larger ``alpha`` (the lazier the network).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make_problem(c: dict[str, Any]) -> dict[str, np.ndarray]:
    """Train/test inputs and targets, the teacher ``beta`` and the initial weights."""
    rng = np.random.default_rng(int(c["seed"]))
    d = int(c["dim"])
    beta = rng.standard_normal(d)
    x = rng.standard_normal((int(c["train_samples"]), d)) / np.sqrt(d)
    xt = rng.standard_normal((int(c["test_samples"]), d)) / np.sqrt(d)
    w = rng.standard_normal((int(c["width"]), d))
    return {
        "x": x,
        "y": (x @ beta) ** 2 / 2,
        "xt": xt,
        "yt": (xt @ beta) ** 2 / 2,
        "w": w,
        "beta": beta,
    }


def ntk(a: np.ndarray, b: np.ndarray, w: np.ndarray, alpha: float, eps: float) -> np.ndarray:
    """``K(x, x') = (alpha/N)^2 sum_i phi'(w_i . x) phi'(w_i . x') x . x'``."""
    n = w.shape[0]
    return (alpha / n) ** 2 * ((1 + eps * a @ w.T) @ (1 + eps * b @ w.T).T) * (a @ b.T)


def kernel_mse(p: dict[str, np.ndarray], alpha: float, eps: float) -> float:
    """Test MSE of (ridgeless) regression with the initial NTK: the lazy limit."""
    k = ntk(p["x"], p["x"], p["w"], alpha, eps)
    coef = np.linalg.lstsq(k, p["y"], rcond=1e-12)[0]
    pred = ntk(p["xt"], p["x"], p["w"], alpha, eps) @ coef
    return float(np.mean((pred - p["yt"]) ** 2))


def linearised_test_loss(
    p: dict[str, np.ndarray], alpha: float, eps: float, steps: np.ndarray
) -> np.ndarray:
    """Test loss of GD on the network linearised at init, at ``steps``, in closed form.

    On the training set the residual obeys ``r_{t+1} = (I - (2 eta/P) K0) r_t`` (K0 with
    the factor ``eta = N / alpha^2``); the test predictions follow through ``K0(test, train)``.
    """
    n, pn = p["w"].shape[0], p["x"].shape[0]
    eta = n / alpha**2
    k = ntk(p["x"], p["x"], p["w"], alpha, eps)
    kt = ntk(p["xt"], p["x"], p["w"], alpha, eps)
    lam, v = np.linalg.eigh(k)
    lam = np.clip(lam, 0.0, None)
    yv = v.T @ p["y"]
    out = []
    for t in steps:
        # coefficients a_t with f_train = K a_t: a_t = V diag((1 - (1 - 2 eta lam/P)^t)/lam) V^T y
        decay = (1 - 2 * eta * lam / pn) ** int(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(lam > 1e-14 * lam.max(), (1 - decay) / lam, 2 * eta * int(t) / pn)
        out.append(float(np.mean((kt @ (v @ (g * yv)) - p["yt"]) ** 2)))
    return np.array(out)


def train(p: dict[str, np.ndarray], alpha: float, eps: float, num_steps: int, every: int) -> dict:
    """Full-batch GD on the centred loss; train/test loss, alignment and ||W|| every ``every``."""
    x, y, xt, yt = p["x"], p["y"], p["xt"], p["yt"]
    w = p["w"].copy()
    n, pn = w.shape[0], x.shape[0]
    d = x.shape[1]

    def f(ww: np.ndarray, xx: np.ndarray) -> np.ndarray:
        h = xx @ ww.T
        return alpha * (h + 0.5 * eps * h * h).mean(axis=1)

    f0, f0t = f(w, x), f(w, xt)
    unit = p["beta"] / np.linalg.norm(p["beta"])
    rec: dict[str, list[float]] = {
        "step": [],
        "train": [],
        "test": [],
        "alignment": [],
        "wnorm": [],
    }
    for step in range(num_steps + 1):
        h = x @ w.T
        r = alpha * (h + 0.5 * eps * h * h).mean(axis=1) - f0 - y
        if step % every == 0:
            rec["step"].append(step)
            rec["train"].append(float(np.mean(r**2)))
            rec["test"].append(float(np.mean((f(w, xt) - f0t - yt) ** 2)))
            # RMS overlap of the weights with beta, relative to a random direction (1 at init)
            rec["alignment"].append(
                float(np.linalg.norm(w @ unit) / np.linalg.norm(w) * np.sqrt(d))
            )
            rec["wnorm"].append(float(np.linalg.norm(w)))
        if step == num_steps:
            break
        # eta (2/P) alpha/N sum_mu r_mu phi'(h_i mu) x_mu with eta = N / alpha^2
        w = w - (2.0 / (alpha * pn)) * ((1 + eps * h) * r[:, None]).T @ x
    _ = n
    return {k: np.array(v) for k, v in rec.items()}


def run(ctx: Any) -> None:
    import pandas as pd

    c = ctx.config
    eps = float(c["eps"])
    p = make_problem(c)
    alphas = [float(a) for a in c["alphas"]]
    steps, every = int(c["num_steps"]), int(c["eval_every"])
    frames, grok = [], {}
    for alpha in alphas:
        k0 = kernel_mse(p, alpha, eps)
        rec = train(p, alpha, eps, steps, every)
        lin = linearised_test_loss(p, alpha, eps, rec["step"])
        frame = pd.DataFrame(rec)
        frame["linearised_test"] = lin
        frame["alpha"] = alpha
        frame["k0_mse"] = k0
        frames.append(frame)
        below = np.nonzero(rec["test"] < float(c["grok_fraction"]) * k0)[0]
        grok[alpha] = float(rec["step"][below[0]]) if below.size else float("inf")
        ctx.record(f"k0_mse_alpha_{alpha:g}", k0)
        ctx.record(f"grokking_step_alpha_{alpha:g}", grok[alpha])
        ctx.record(f"final_test_over_k0_alpha_{alpha:g}", float(rec["test"][-1] / k0))
    table = pd.concat(frames, ignore_index=True)
    ctx.table("curves", table)

    lazy = table[table.alpha == max(alphas)]
    k0 = float(lazy.k0_mse.iloc[0])
    ratio = float(lazy.linearised_test.iloc[-1] / k0)
    ctx.record("linearised_final_test_over_k0_measured", ratio)
    if not ctx.quick:
        ctx.compare("linearised_final_test_over_k0", ratio)
    limit = linearised_test_loss(p, max(alphas), eps, np.array([10**12]))[0]
    ctx.compare("linearised_limit_over_k0", float(limit / k0))
    train0 = float(lazy.train.iloc[0])
    hit = lazy[lazy.train < float(c["memorise_fraction"]) * train0]
    if len(hit):
        ctx.record("network_test_over_k0_when_train_fitted", float(hit.test.iloc[0] / k0))

    # the lazy phase: while the train loss is still above memorise_fraction of its start,
    # the test loss has not gone below the kernel's (no generalisation beyond K0 yet)
    checks = []
    for alpha in alphas:
        sub = table[table.alpha == alpha]
        early = sub[sub.train > float(c["memorise_fraction"]) * sub.train.iloc[0]]
        checks.append((alpha, float((early.test / early.k0_mse).min()), float(early.step.max())))
    ctx.check(
        "lazy_phase_no_better_than_kernel",
        all(m >= 0.9 for _, m, _ in checks),
        "; ".join(
            f"alpha {a:g}: min test/K0 = {m:.3f} until step {s:.0f} (train above "
            f"{c['memorise_fraction']} x initial)"
            for a, m, s in checks
        ),
    )
    times = [grok[a] for a in alphas]
    ctx.check(
        "grokking_delay_grows_with_alpha",
        bool(np.all(np.isfinite(times)) and np.all(np.diff(times) > 0)),
        "first step with test loss < "
        f"{c['grok_fraction']} x K0 MSE: "
        + ", ".join(f"alpha {a:g}: {t:.0f}" for a, t in zip(alphas, times, strict=True)),
    )
    ends = [float(table[table.alpha == a].alignment.iloc[-1]) for a in alphas]
    starts = [float(table[table.alpha == a].alignment.iloc[0]) for a in alphas]
    finals = [
        float(table[table.alpha == a].test.iloc[-1] / table[table.alpha == a].k0_mse.iloc[0])
        for a in alphas
    ]
    ctx.check(
        "rich_regime_beats_kernel",
        all(e > 1.5 * s for e, s in zip(ends, starts, strict=True))
        and all(f < 0.5 for f in finals),
        ", ".join(
            f"alpha {a:g}: alignment {s:.2f} -> {e:.2f}, final test/K0 {f:.3f}"
            for a, s, e, f in zip(alphas, starts, ends, finals, strict=True)
        ),
    )
    figure(ctx, table, alphas)


def figure(ctx: Any, table: Any, alphas: list[float]) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(alphas), figsize=(4 * len(alphas), 3.6), sharey=True)
    for ax, alpha in zip(np.atleast_1d(axes), alphas, strict=True):
        sub = table[table.alpha == alpha]
        ax.semilogy(sub.step, sub.train, label="train")
        ax.semilogy(sub.step, sub.test, label="test")
        ax.semilogy(sub.step, sub.linearised_test, ":", label="linearised test")
        ax.axhline(float(sub.k0_mse.iloc[0]), color="k", ls="--", lw=1, label="K0 regression")
        ax.set_title(f"alpha = {alpha:g}")
        ax.set_xlabel("GD step")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    ctx.figure(
        "losses",
        fig,
        "Centred train and test loss of the network, the test loss of its linearisation at "
        "init, and the test MSE of kernel regression with the initial NTK (dashed).",
    )
