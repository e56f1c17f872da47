"""Prieto et al. (2025): softmax collapse halts grokking; StableMax and PerpGrad fix it.

Modular addition ``(a + b) mod p`` with concatenated one-hot inputs is learned by a
bias-free ReLU MLP, full batch, with AdamW and no weight decay. After the training set
is memorised the loss keeps falling by scaling the logits up until, in float32,
``sum_j exp(z_j - max z)`` rounds to 1 for most samples (softmax collapse,
:func:`stabkit.learn.softmax_collapse_fraction`): their gradient is exactly 0 and test
accuracy stays near chance. Float64 postpones the collapse; PerpGrad
(:class:`stabkit.learn.PerpGrad`) and StableMax cross-entropy
(:func:`stabkit.learn.stablemax_cross_entropy`) let the model generalise without weight
decay. The spec's numerical properties of the three pieces are checked first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stabkit.learn import (
    PerpGrad,
    collapse_gap,
    softmax_collapse_fraction,
    stablemax,
    stablemax_cross_entropy,
)


def modular_addition(p: int, fraction: float, seed: int) -> tuple[Any, Any, Any, Any]:
    """All ``p^2`` pairs as ``2p`` one-hot inputs, split at random: train x, y, test x, y."""
    import torch

    a, b = (g.ravel() for g in np.meshgrid(np.arange(p), np.arange(p), indexing="ij"))
    x = np.zeros((p * p, 2 * p), dtype=np.float32)
    x[np.arange(p * p), a] = 1.0
    x[np.arange(p * p), p + b] = 1.0
    y = (a + b) % p
    perm = np.random.default_rng(seed).permutation(p * p)
    n = round(fraction * p * p)
    tr, te = perm[:n], perm[n:]
    return torch.tensor(x[tr]), torch.tensor(y[tr]), torch.tensor(x[te]), torch.tensor(y[te])


def train(config: dict[str, Any], p: int, variant: str, epochs: int) -> dict[str, np.ndarray]:
    """One full-batch run; history of epoch, train/test accuracy, loss, collapse fraction.

    ``variant``: ``"float32"`` / ``"float64"`` (softmax cross-entropy in that precision),
    ``"perpgrad"`` (float32, PerpGrad around AdamW), ``"stablemax"`` (float64 StableMax
    cross-entropy, as the paper's code computes it).
    """
    import torch

    seed = int(config["seed"])
    xtr, ytr, xte, yte = modular_addition(p, float(config["train_fraction"]), seed)
    dtype = torch.float64 if variant in ("float64", "stablemax") else torch.float32
    torch.manual_seed(seed)
    h = int(config["hidden"])
    model = torch.nn.Sequential(
        torch.nn.Linear(2 * p, h, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(h, h, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(h, p, bias=False),
    ).to(dtype)
    lr = float(config["lr"])
    opt: torch.optim.Optimizer
    if variant == "perpgrad":
        opt = PerpGrad(model.parameters(), lr=lr, weight_decay=0.0)
    else:
        betas = (float(config["betas"][0]), float(config["betas"][1]))
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=betas, weight_decay=0.0)
    xtr, xte = xtr.to(dtype), xte.to(dtype)
    rows = []
    every = int(config["log_every"])
    for epoch in range(epochs + 1):
        logits = model(xtr)
        if variant == "stablemax":
            loss = stablemax_cross_entropy(logits, ytr)
        else:
            loss = torch.nn.functional.cross_entropy(logits, ytr)
        if epoch % every == 0 or epoch == epochs:
            with torch.no_grad():
                test_acc = float((model(xte).argmax(-1) == yte).float().mean())
                rows.append(
                    (
                        epoch,
                        float((logits.argmax(-1) == ytr).float().mean()),
                        test_acc,
                        float(loss),
                        softmax_collapse_fraction(logits.detach(), ytr),
                    )
                )
        if epoch == epochs:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    arr = np.array(rows)
    keys = ("epoch", "train_acc", "test_acc", "loss", "collapse")
    return {k: arr[:, i] for i, k in enumerate(keys)}


def unit_checks(ctx: Any) -> None:
    """The spec's numerical properties of the detector, StableMax and PerpGrad."""
    import torch

    for dtype, key in ((torch.float32, "float32"), (torch.float64, "float64")):
        gap = collapse_gap(dtype)
        above = torch.tensor([[gap * 1.01, 0.0]], dtype=dtype)
        below = torch.tensor([[gap * 0.99, 0.0]], dtype=dtype)
        f_above = softmax_collapse_fraction(above, torch.tensor([0]))
        f_below = softmax_collapse_fraction(below, torch.tensor([0]))
        # independent: the float cross-entropy is exactly 0 iff collapsed
        ce_above = float(torch.nn.functional.cross_entropy(above, torch.tensor([0])))
        ctx.check(
            f"collapse_detector_{key}",
            f_above == 1.0 and f_below == 0.0 and ce_above == 0.0,
            f"gap -ln(eps/2) = {gap:.4f}; flagged at 1.01x: {f_above:g} (cross-entropy "
            f"{ce_above:g}), at 0.99x: {f_below:g}",
        )
    gen = torch.Generator().manual_seed(0)
    z = (torch.rand(64, 10, generator=gen, dtype=torch.float64) - 0.5) * 2e6
    s = stablemax(z)
    # softmax is increasing in each logit, so its ranking is the logits' ranking (the
    # float softmax itself underflows to ties at this scale)
    same_order = bool(torch.equal(s.argsort(-1), z.argsort(-1)))
    ce = stablemax_cross_entropy(z, torch.zeros(64, dtype=torch.long), reduction="none")
    finite = bool(torch.isfinite(s).all() and torch.isfinite(ce).all())
    sums = float((s.sum(-1) - 1).abs().max())
    ctx.check(
        "stablemax_finite_and_ordered",
        finite and same_order and sums < 1e-12,
        f"64 x 10 logits uniform in [-1e6, 1e6]: finite {finite}, same ranking as softmax "
        f"{same_order}, rows sum to 1 within {sums:.1e}, largest cross-entropy "
        f"{float(ce.max()):.3g}",
    )
    w = torch.nn.Parameter(torch.randn(7, 5, generator=gen, dtype=torch.float64))
    g = torch.randn(7, 5, generator=gen, dtype=torch.float64)
    w0 = w.detach().clone()
    opt = PerpGrad([w], base=torch.optim.SGD, lr=1.0)
    w.grad = g.clone()
    opt.step()
    step = (w0 - w.detach()).ravel()  # SGD with lr 1: the step is the modified gradient
    cos = float(step @ w0.ravel() / (step.norm() * w0.norm()))
    ratio = float(step.norm() / g.norm())
    ctx.check(
        "perpgrad_orthogonal_rescaled",
        abs(cos) < 1e-6 and abs(ratio - 1) < 1e-12,
        f"SGD(lr=1) step of PerpGrad on a random 7x5 tensor: cos(step, w) = {cos:.1e}, "
        f"|step| / |g| = {ratio:.15f}",
    )


def _first(history: dict[str, np.ndarray], level: float) -> float:
    hit = np.flatnonzero(history["collapse"] >= level)
    return float(history["epoch"][hit[0]]) if hit.size else math.inf


def run(ctx: Any) -> None:
    """The study (single-threaded torch: the models are tiny)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run(ctx)
    finally:
        torch.set_num_threads(threads)


def _run(ctx: Any) -> None:
    import pandas as pd

    c = ctx.config
    unit_checks(ctx)
    p = int(c["collapse_p"])
    epochs = int(c["collapse_epochs"])
    runs = {v: train(c, p, v, epochs) for v in ("float32", "float64")}
    f32, f64 = runs["float32"], runs["float64"]
    peak32, peak64 = float(f32["collapse"].max()), float(f64["collapse"].max())
    level = float(c["collapse_target"])
    stall = float(f32["test_acc"].max())
    ctx.record("collapse_p", p)
    ctx.record("float32_peak_collapse_fraction", peak32)
    ctx.record("float32_best_test_accuracy", stall)
    ctx.record("float64_peak_collapse_fraction", peak64)
    ctx.check(
        "float32_collapse_stalls",
        peak32 >= level and stall < 5.0 / p,
        f"p = {p}, {epochs} epochs: float32 collapse fraction peaks at {peak32:.2f} (first "
        f">= {level} at epoch {_first(f32, level):g}; {f32['collapse'][-1]:.2f} at the end, "
        f"loss spikes between collapses) while train accuracy is "
        f"{f32['train_acc'][-1]:.2f} and the best test accuracy {stall:.3f} (chance "
        f"{1 / p:.3f})",
    )
    t32, t64 = _first(f32, 0.1), _first(f64, 0.1)
    ctx.check(
        "float64_delays_collapse",
        t64 > t32 and peak64 < peak32,
        f"first epoch with collapse fraction >= 0.1: float32 {t32:g}, float64 "
        f"{t64:g} (inf: never within {epochs}); peaks {peak32:.2f} against {peak64:.2f}",
    )
    q = int(c["generalise_p"])
    perp = train(c, q, "perpgrad", int(c["perp_epochs"]))
    best = float(perp["test_acc"][-1])
    ctx.record("perpgrad_final_test_accuracy", best)
    ctx.check(
        "perpgrad_generalises",
        best > float(c["generalised"]),
        f"p = {q}, PerpGrad(AdamW, lr {c['lr']}, no weight decay), {c['perp_epochs']} "
        f"epochs: test accuracy {best:.3f} (chance {1 / q:.3f}; first >= 0.5 at epoch "
        f"{_first({'collapse': perp['test_acc'], 'epoch': perp['epoch']}, 0.5):g})",
    )
    frames = [pd.DataFrame({**h, "run": name, "p": p}) for name, h in runs.items()] + [
        pd.DataFrame({**perp, "run": "perpgrad", "p": q})
    ]
    if c["run_stablemax"]:
        sm = train(c, q, "stablemax", int(c["stablemax_epochs"]))
        acc = float(sm["test_acc"][-1])
        ctx.record("stablemax_final_test_accuracy", acc)
        ctx.check(
            "stablemax_generalises",
            acc > float(c["generalised"]),
            f"p = {q}, float64 StableMax cross-entropy, AdamW without weight decay, "
            f"{c['stablemax_epochs']} epochs: test accuracy {acc:.3f}, best "
            f"{float(sm['test_acc'].max()):.3f} (chance {1 / q:.3f})",
        )
        frames.append(pd.DataFrame({**sm, "run": "stablemax", "p": q}))
    table = pd.concat(frames, ignore_index=True)
    ctx.table("histories", table)
    if ctx.out is not None:
        from stabkit.report.figures import new_figure

        fig, (ax0, ax1) = new_figure(ncols=2, figsize=(10, 3.8))
        for name, group in table.groupby("run", sort=False):
            ax0.plot(group.epoch, group.test_acc, label=str(name))
            if name in ("float32", "float64"):
                ax1.plot(group.epoch, group.collapse, label=str(name))
        ax0.set_xlabel("epoch")
        ax0.set_ylabel("test accuracy")
        ax0.legend()
        ax1.set_xlabel("epoch")
        ax1.set_ylabel("softmax-collapse fraction (train)")
        ax1.legend()
        ctx.figure(
            "collapse_and_generalisation",
            fig,
            "Left: test accuracy of each run (no weight decay). Right: fraction of training "
            "samples whose softmax collapsed, float32 against float64.",
        )
