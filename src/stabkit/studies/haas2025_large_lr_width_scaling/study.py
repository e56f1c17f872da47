"""Haas et al. (2025, NeurIPS, arXiv 2505.22491): large learning rates under standard width scaling.

A 3-layer ReLU MLP in standard parameterisation (He init, one global learning rate) is
trained by SGD (batch 64, one epoch) on synthetic teacher data with cross-entropy or
MSE, over a half-decade learning-rate grid refined near the boundary. Per width,
:func:`stabkit.learn.lr_sensitivity` classifies every run (stable, controlled divergence,
catastrophic divergence) from its loss and output-logit RMS histories; the largest
learning rate that does not diverge catastrophically is fitted against width on log-log
axes. The paper: slope about -1/2 under cross-entropy, about -1 under MSE.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np


def make_data(c: dict[str, Any]) -> tuple[Any, Any]:
    """``x ~ N(0, I_d)`` and labels ``argmax(x A)`` of a random linear teacher."""
    import torch

    g = torch.Generator().manual_seed(int(c["seed"]))
    x = torch.randn(int(c["train_samples"]), int(c["input_dim"]), generator=g)
    teacher = torch.randn(int(c["input_dim"]), int(c["num_classes"]), generator=g)
    return x, (x @ teacher).argmax(dim=1)


def make_model(c: dict[str, Any], width: int) -> Any:
    """``depth`` linear layers with ReLU, He-normal weights, zero biases (SP)."""
    import torch

    torch.manual_seed(int(c["seed"]) + 1)
    sizes = [int(c["input_dim"])] + [width] * (int(c["depth"]) - 1) + [int(c["num_classes"])]
    layers: list[Any] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def loss_function(kind: str, num_classes: int) -> Any:
    """Cross-entropy, or MSE on one-hot targets (summed over classes, mean over the batch)."""
    import torch

    if kind == "ce":
        return torch.nn.functional.cross_entropy

    def mse(logits: Any, labels: Any) -> Any:
        target = torch.nn.functional.one_hot(labels, num_classes).to(logits.dtype)
        return ((logits - target) ** 2).sum(dim=1).mean()

    return mse


def train_run(c: dict[str, Any], width: int, kind: str, lr: float, data: Any) -> dict[str, Any]:
    """One SGD run; the record :func:`stabkit.learn.classify_run` reads."""
    import torch

    x, labels = data
    model = make_model(c, width)
    loss_fn = loss_function(kind, int(c["num_classes"]))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    with torch.no_grad():
        initial = float(loss_fn(model(x), labels))
    losses, logit_rms = [], []
    g = torch.Generator().manual_seed(int(c["seed"]) + 2)
    bs = int(c["batch_size"])
    for _ in range(int(c["epochs"])):
        order = torch.randperm(x.shape[0], generator=g)
        for start in range(0, x.shape[0] - bs + 1, bs):
            idx = order[start : start + bs]
            out = model(x[idx])
            loss = loss_fn(out, labels[idx])
            losses.append(float(loss.detach()))
            logit_rms.append(float(out.detach().pow(2).mean().sqrt()))
            if not math.isfinite(losses[-1]) or losses[-1] > 1e6 * max(initial, 1.0):
                return {
                    "final_loss": float("nan"),
                    "initial_loss": initial,
                    "loss_history": losses,
                    "logit_norm_history": logit_rms,
                }
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        out = model(x)
        final = float(loss_fn(out, labels))
        logit_rms.append(float(out.pow(2).mean().sqrt()))
    return {
        "final_loss": final,
        "initial_loss": initial,
        "loss_history": losses,
        "logit_norm_history": logit_rms,
    }


def boundary(c: dict[str, Any], width: int, kind: str, data: Any) -> dict[str, Any]:
    """Coarse half-decade sweep, then a refined one inside the catastrophic bracket."""
    from stabkit.learn import lr_sensitivity

    lo, hi = (float(v) for v in c["coarse_lrs_log10"])
    grid = 10.0 ** np.arange(lo, hi + 1e-9, 0.5)
    growth = float(c["logit_growth"])

    def fn(lr: float) -> dict[str, Any]:
        return train_run(c, width, kind, lr, data)

    coarse = lr_sensitivity(fn, grid, logit_growth=growth)
    lrs, classes = list(coarse.lrs), list(coarse.classes)
    if coarse.min_catastrophic_lr is not None:
        top = float(coarse.min_catastrophic_lr)
        fine = np.geomspace(top / 10**0.5, top, int(c["refine_points"]) + 2)[1:-1]
        refined = lr_sensitivity(fn, fine, logit_growth=growth, initial_loss=coarse.initial_loss)
        lrs += list(refined.lrs)
        classes += list(refined.classes)
    order = np.argsort(lrs)
    lrs_arr = np.array(lrs)[order]
    cls = [classes[i] for i in order]
    i_opt = int(np.argmin(np.abs(lrs_arr - coarse.optimal_lr)))
    last_ok, first_bad = float("nan"), float("nan")
    for i in range(i_opt, lrs_arr.size):
        if cls[i] == "catastrophic divergence":
            first_bad = float(lrs_arr[i])
            break
        last_ok = float(lrs_arr[i])
    return {
        "width": width,
        "loss": kind,
        "max_non_catastrophic_lr": last_ok,
        "min_catastrophic_lr": first_bad,
        "max_stable_lr": coarse.max_stable_lr,
        "optimal_lr": coarse.optimal_lr,
        "controlled": int(sum(c_ == "controlled divergence" for c_ in cls)),
        "lrs": lrs_arr,
        "classes": cls,
    }


def run(ctx: Any) -> None:
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
    data = make_data(c)
    widths = [int(w) for w in c["widths"]]
    results = {kind: [boundary(c, w, kind, data) for w in widths] for kind in ("ce", "mse")}
    rows, runs = [], []
    slopes = {}
    for kind, res in results.items():
        for r in res:
            rows.append({k: v for k, v in r.items() if k not in ("lrs", "classes")})
            runs += [
                {"loss": kind, "width": r["width"], "lr": lr, "class": cl}
                for lr, cl in zip(r["lrs"], r["classes"], strict=True)
            ]
        lrs = np.array([r["max_non_catastrophic_lr"] for r in res])
        slope = float(np.polyfit(np.log(widths), np.log(lrs), 1)[0])
        slopes[kind] = slope
        # the boundary lies in [last non-catastrophic, first catastrophic]: the slopes
        # of the extreme choices bound what the grid can resolve
        upper = np.array([r["min_catastrophic_lr"] for r in res])
        lw = np.log(widths)
        extremes = [
            float(np.polyfit(lw, np.log(np.where(np.arange(len(widths)) < k, lrs, upper)), 1)[0])
            for k in range(len(widths) + 1)
        ]
        extremes += [
            float(np.polyfit(lw, np.log(np.where(np.arange(len(widths)) < k, upper, lrs)), 1)[0])
            for k in range(len(widths) + 1)
        ]
        if np.all(np.isfinite(upper)):
            ctx.record(f"{kind}_exponent_grid_low", min(extremes))
            ctx.record(f"{kind}_exponent_grid_high", max(extremes))
        ctx.compare(f"{kind}_max_stable_lr_exponent", slope)
    table = pd.DataFrame(rows)
    ctx.table("boundaries", table)
    ctx.table("runs", pd.DataFrame(runs))
    ce = [r["controlled"] for r in results["ce"]]
    mse = [r["controlled"] for r in results["mse"]]
    ctx.check(
        "controlled_divergence_under_ce",
        sum(ce) > 0,
        f"runs classified as controlled divergence per width {widths}: CE {ce}, MSE {mse}",
    )
    ctx.check(
        "ce_tolerates_larger_lr_at_width",
        slopes["ce"] > slopes["mse"],
        f"fitted exponents: CE {slopes['ce']:.3f}, MSE {slopes['mse']:.3f}",
    )
    figure(ctx, results, widths, slopes)


def figure(ctx: Any, results: dict[str, list[dict]], widths: list[int], slopes: dict) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, mk in (("ce", "o"), ("mse", "s")):
        lrs = [r["max_non_catastrophic_lr"] for r in results[kind]]
        ax.loglog(widths, lrs, mk + "-", label=f"{kind.upper()} (slope {slopes[kind]:.2f})")
    ref = np.array(widths, dtype=float)
    for p in (-0.5, -1.0):
        ax.loglog(ref, (ref / ref[0]) ** p * 0.5, "k:", lw=0.8)
    ax.set_xlabel("width n")
    ax.set_ylabel("largest LR without catastrophic divergence")
    ax.legend(fontsize=8)
    ctx.figure("max_lr_vs_width", fig, "Max stable LR against width (dotted: slopes -1/2, -1).")
