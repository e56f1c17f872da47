"""Edge of stability (Cohen et al. 2021, ICLR, arXiv 2103.00065) at small scale.

Full-batch gradient descent with step ``eta`` on a small tanh MLP (MSE loss, random
one-hot labels on Gaussian inputs) is tracked by :func:`stabkit.learn.edge_of_stability`:
the sharpness ``lambda_max(H)`` (Lanczos, warm-started) rises from well below ``2/eta``
(progressive sharpening), reaches it and then hovers there while the loss keeps falling
non-monotonically. With half the learning rate the sharpness climbs past the first run's
threshold: the plateau is set by ``2/eta``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make_data(c: dict[str, Any]) -> tuple[Any, Any]:
    """Gaussian inputs ``(n, d)`` and random one-hot labels ``(n, k)``, float64."""
    import torch

    g = torch.Generator().manual_seed(int(c["data_seed"]))
    n, d, k = int(c["num_samples"]), int(c["input_dim"]), int(c["num_classes"])
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (n,), generator=g)
    y = torch.nn.functional.one_hot(labels, k).to(torch.float64)
    return x, y


def make_model(c: dict[str, Any]) -> Any:
    """A tanh MLP with ``depth`` hidden layers of ``width`` units (PyTorch default init)."""
    import torch

    torch.manual_seed(int(c["init_seed"]))
    layers: list[Any] = []
    fan_in = int(c["input_dim"])
    for _ in range(int(c["depth"])):
        layers += [torch.nn.Linear(fan_in, int(c["width"])), torch.nn.Tanh()]
        fan_in = int(c["width"])
    layers.append(torch.nn.Linear(fan_in, int(c["num_classes"])))
    return torch.nn.Sequential(*layers).double()


def train(c: dict[str, Any], lr: float, num_steps: int) -> Any:
    """One full-batch GD run tracked by ``edge_of_stability``."""
    import torch

    from stabkit.learn import edge_of_stability

    x, y = make_data(c)
    model = make_model(c)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return edge_of_stability(
        model,
        torch.nn.functional.mse_loss,
        (x, y),
        opt,
        num_steps=num_steps,
        every=int(c["probe_every"]),
        reach=float(c["reach"]),
    )


def run(ctx: Any) -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add overhead
    try:
        _run(ctx)
    finally:
        torch.set_num_threads(threads)


def _run(ctx: Any) -> None:
    c = ctx.config
    lr, small = float(c["lr"]), float(c["small_lr"])
    main = train(c, lr, int(c["num_steps"]))
    thr = main.threshold
    ratio = main.sharpness / thr
    ctx.record("threshold_2_over_eta", thr)
    ctx.record("num_matvecs", float(main.stats.extra["num_matvecs"]))
    ctx.compare("initial_sharpness_fraction", float(ratio[0]))

    reached = main.reached_step
    ctx.check(
        "progressive_sharpening",
        main.status == "ok" and reached is not None and bool(ratio[0] < 0.5),
        f"sharpness/(2/eta) = {ratio[0]:.3f} at step 0; first >= {c['reach']} at step "
        f"{reached} of {main.steps.size} (status {main.status})",
    )
    if reached is None:
        return
    ctx.record("reached_step", float(reached))
    ctx.compare("ratio_after_reaching", main.ratio_after)

    settle = int(c["settle_steps"])
    ctx.record("max_ratio_after_reaching", float(ratio[main.probe_steps >= reached].max()))
    after = ratio[main.probe_steps >= reached + settle]
    lo, hi = (float(b) for b in c["band"])
    inside = float(np.mean((after >= lo) & (after <= hi))) if after.size else float("nan")
    ctx.check(
        "hovers_in_band",
        after.size >= 3 and inside == 1.0,
        f"{after.size} probes from step {reached + settle} ({settle} steps after reaching): "
        f"ratio in [{after.min():.3f}, {after.max():.3f}], {inside:.0%} inside [{lo}, {hi}]",
    )

    tail = main.loss[reached:]
    drop = float(tail[-1] / tail[0])
    ctx.check(
        "loss_decreases_non_monotonically",
        drop < 0.5 and main.loss_increases_after > 0.02,
        f"loss {tail[0]:.4g} at step {reached} -> {tail[-1]:.4g} at the end (x{drop:.3f}); "
        f"it went up at {main.loss_increases_after:.1%} of the steps after reaching 2/eta",
    )

    slow = train(c, small, int(c["small_lr_steps"]))
    final = float(slow.sharpness[-1])
    ctx.record("small_lr_final_sharpness", final)
    ctx.check(
        "smaller_lr_sharpens_further",
        slow.status == "ok" and thr < final <= 1.1 * slow.threshold,
        f"eta = {small:g}: sharpness {slow.sharpness[0]:.3f} -> {final:.3f}, above 2/{lr:g} = "
        f"{thr:.3g} and below 1.1 x 2/{small:g} = {1.1 * slow.threshold:.3g}",
    )

    import matplotlib.pyplot as plt
    import pandas as pd

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    main.plot(ax=axes[0])
    axes[0].set_title(f"GD, eta = {lr:g}")
    axes[1].plot(main.probe_steps, main.sharpness, ".-", label=f"eta = {lr:g}")
    axes[1].plot(slow.probe_steps, slow.sharpness, ".-", label=f"eta = {small:g}")
    for t, col in ((thr, "C0"), (slow.threshold, "C1")):
        axes[1].axhline(t, color=col, ls="--", lw=1)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("sharpness")
    axes[1].legend(fontsize=8)
    ctx.figure(
        "sharpness",
        fig,
        "Left: sharpness (dots, Lanczos error bars) against 2/eta (dashed) and the loss (grey). "
        "Right: two learning rates, each plateauing at its own 2/eta.",
    )
    frame = pd.concat(
        [
            pd.DataFrame({"lr": lr, "step": main.probe_steps, "sharpness": main.sharpness}),
            pd.DataFrame({"lr": small, "step": slow.probe_steps, "sharpness": slow.sharpness}),
        ]
    )
    ctx.table("sharpness", frame)
