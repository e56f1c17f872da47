"""Wortsman et al. (2023): attention-logit growth, qk-layernorm, z-loss and LR sensitivity.

A tiny pre-LN causal transformer (attention from :class:`stabkit.learn.QKNormAttention`
with qk-layernorm on or off) learns a synthetic language, a sparse random Markov chain,
over a log-spaced grid of learning rates. :class:`stabkit.learn.StabilityMonitor` records
the attention-logit maxima and the drift of the output log-partition;
:func:`stabkit.learn.lr_sensitivity` gives the LR-sensitivity statistic and classifies the
runs. Checked: without qk-layernorm the attention logits grow large at high LR and runs
diverge; qk-layernorm flattens the LR-loss curve; z-loss reduces the log-partition drift
and the LR sensitivity. What the small scale does not show is recorded as failed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stabkit.learn import (
    LRSensitivityResult,
    QKNormAttention,
    StabilityMonitor,
    lr_sensitivity,
    z_loss,
)

CONFIGS = {"baseline": (False, False), "qk_layernorm": (True, False), "z_loss": (False, True)}


def markov_chain(config: dict[str, Any]) -> np.ndarray:
    """Transition matrix: each token has ``successors`` random successors (Dirichlet weights)."""
    rng = np.random.default_rng(int(config["seed"]))
    v, k = int(config["vocab"]), int(config["successors"])
    matrix = np.zeros((v, v))
    for i in range(v):
        matrix[i, rng.choice(v, size=k, replace=False)] = rng.dirichlet(np.ones(k))
    return matrix


def sample(matrix: np.ndarray, batch: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``(batch, length)`` token sequences of the chain from uniform start tokens."""
    v = matrix.shape[0]
    out = np.empty((batch, length), dtype=np.int64)
    out[:, 0] = rng.integers(0, v, batch)
    cum = np.cumsum(matrix, axis=1)
    for t in range(1, length):
        u = rng.random(batch)[:, None]
        out[:, t] = np.minimum((u > cum[out[:, t - 1]]).sum(axis=1), v - 1)
    return out


def entropy_rate(matrix: np.ndarray) -> float:
    """The chain's conditional entropy under the uniform start (the best achievable loss)."""
    plogp = np.where(matrix > 0, matrix * np.log(np.where(matrix > 0, matrix, 1.0)), 0.0)
    return float(-plogp.sum(axis=1).mean())


def build_model(config: dict[str, Any], qk_layernorm: bool) -> Any:
    """A pre-LN decoder without biases: token + position embeddings, blocks, LN, head."""
    import torch

    d, v = int(config["dim"]), int(config["vocab"])

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = torch.nn.LayerNorm(d, bias=False)
            self.attn = QKNormAttention(d, int(config["heads"]), qk_layernorm=qk_layernorm)
            self.ln2 = torch.nn.LayerNorm(d, bias=False)
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(d, 4 * d, bias=False),
                torch.nn.GELU(),
                torch.nn.Linear(4 * d, d, bias=False),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class Decoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = torch.nn.Embedding(v, d)
            self.pos = torch.nn.Embedding(int(config["seq_len"]), d)
            self.blocks = torch.nn.Sequential(*[Block() for _ in range(int(config["layers"]))])
            self.ln = torch.nn.LayerNorm(d, bias=False)
            self.head = torch.nn.Linear(d, v, bias=False)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            pos = torch.arange(idx.shape[1], device=idx.device)
            return self.head(self.ln(self.blocks(self.tok(idx) + self.pos(pos))))

    return Decoder()


def train_run(
    config: dict[str, Any], lr: float, qk_layernorm: bool, use_z_loss: bool
) -> dict[str, Any]:
    """One run at ``lr``; the record :func:`lr_sensitivity` takes, plus monitor summaries."""
    import torch

    seed = int(config["seed"])
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed + 1)
    matrix = markov_chain(config)
    model = build_model(config, qk_layernorm)
    max_lr = max(float(x) for x in config["lrs"])
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=lr,
        betas=(0.9, 0.95),
        eps=1e-8,
        weight_decay=float(config["weight_decay"]) * max_lr / lr,
    )
    steps, warmup = int(config["steps"]), int(config["warmup"])

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(steps - warmup, 1)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    monitor = StabilityMonitor(model, optimizer=opt)
    losses, logit_rms = [], []
    for _ in range(steps):
        seq = torch.tensor(sample(matrix, int(config["batch_size"]), int(config["seq_len"]), rng))
        logits = model(seq[:, :-1])
        flat, targets = logits.reshape(-1, logits.shape[-1]), seq[:, 1:].reshape(-1)
        ce = torch.nn.functional.cross_entropy(flat, targets)
        loss = ce + z_loss(flat, float(config["z_loss"])) if use_z_loss else ce
        opt.zero_grad()
        loss.backward()
        monitor.step(loss=ce, logits=flat, targets=targets)
        losses.append(float(ce.detach()))
        logit_rms.append(float(flat.detach().pow(2).mean().sqrt()))
        if not math.isfinite(losses[-1]):
            break
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    monitor.detach()
    frame = monitor.to_frame()
    att = frame[[c for c in frame.columns if c.startswith("attention_logit_max/")]]
    tail = max(1, len(losses) // 10)
    return {
        "final_loss": float(np.mean(losses[-tail:])),
        "initial_loss": losses[0],
        "loss_history": losses,
        "logit_norm_history": logit_rms,
        "max_attention_logit": float(np.nanmax(att.to_numpy())) if att.size else math.nan,
        "final_log_partition_drift": float(frame.log_partition_drift.iloc[-1]),
        "mean_abs_log_partition": float(frame.log_partition.abs().iloc[-tail:].mean()),
    }


def sweep(ctx: Any) -> tuple[dict[str, LRSensitivityResult], Any]:
    """The LR sweep of every configuration; results and a per-run table."""
    import pandas as pd

    c = ctx.config
    results, rows = {}, []
    for name, (qk, zl) in CONFIGS.items():
        extras: dict[float, dict[str, Any]] = {}

        def train_fn(lr: float, qk: bool = qk, zl: bool = zl, extras: Any = extras) -> Any:
            out = train_run(c, lr, qk, zl)
            extras[lr] = out
            return out

        res = lr_sensitivity(train_fn, [float(x) for x in c["lrs"]])
        results[name] = res
        for lr, loss, cls in zip(res.lrs, res.final_loss, res.classes, strict=True):
            out = extras.get(float(lr), {})
            rows.append(
                {
                    "config": name,
                    "lr": float(lr),
                    "final_loss": float(loss),
                    "class": cls,
                    "max_attention_logit": out.get("max_attention_logit", math.nan),
                    "log_partition_drift": out.get("final_log_partition_drift", math.nan),
                    "mean_abs_log_partition": out.get("mean_abs_log_partition", math.nan),
                }
            )
    return results, pd.DataFrame(rows)


def _run(ctx: Any) -> None:
    c = ctx.config
    results, table = sweep(ctx)
    ctx.table("runs", table)
    ctx.record("entropy_rate", entropy_rate(markov_chain(c)))
    for name, res in results.items():
        ctx.record(f"lr_sensitivity_{name}", res.sensitivity)
    top = max(float(x) for x in c["lrs"])
    by = {name: table[table.config == name].set_index("lr") for name in CONFIGS}
    base, qk = by["baseline"], by["qk_layernorm"]
    ratio = float(base.max_attention_logit[top] / qk.max_attention_logit[top])
    grows = bool(np.all(np.diff(base.max_attention_logit.to_numpy()) > 0))
    ctx.check(
        "attention_logit_growth",
        ratio > float(c["logit_ratio"]) and grows,
        "max attention logit over the run, without qk-layernorm, per LR: "
        + ", ".join(f"{lr:g}: {v:.3g}" for lr, v in base.max_attention_logit.items())
        + f"; with qk-layernorm at lr {top:g}: {qk.max_attention_logit[top]:.3g} (ratio "
        f"{ratio:.3g}, threshold {c['logit_ratio']})",
    )
    unstable = [lr for lr, cls in base["class"].items() if cls != "stable"]
    ctx.check(
        "high_lr_divergence",
        bool(unstable) and all(cls == "stable" for cls in qk["class"]),
        "run classes (lr_sensitivity) without qk-layernorm: "
        + ", ".join(f"{lr:g}: {cls}" for lr, cls in base["class"].items())
        + "; with qk-layernorm: "
        + ", ".join(f"{lr:g}: {cls}" for lr, cls in qk["class"].items()),
    )
    s = {name: results[name].sensitivity for name in CONFIGS}
    ctx.check(
        "qk_layernorm_flatter",
        s["qk_layernorm"] < s["baseline"],
        f"LR sensitivity without / with qk-layernorm: {s['baseline']:.4g} / "
        f"{s['qk_layernorm']:.4g}; final losses "
        + "; ".join(
            f"{lr:g}: {a:.3f} / {b:.3f}"
            for lr, a, b in zip(base.index, base.final_loss, qk.final_loss, strict=True)
        ),
    )
    zl = by["z_loss"]
    d_base = float(base.mean_abs_log_partition.mean())
    d_z = float(zl.mean_abs_log_partition.mean())
    ctx.check(
        "z_loss_log_partition",
        d_z < d_base,
        f"|log Z| over the last tenth of training, mean over the LRs: {d_base:.3g} without "
        f"z-loss, {d_z:.3g} with (coefficient {c['z_loss']}); drift of log Z from its "
        f"first value at the end, per LR without / with: "
        + "; ".join(
            f"{lr:g}: {a:.3g} / {b:.3g}"
            for lr, a, b in zip(
                base.index, base.log_partition_drift, zl.log_partition_drift, strict=True
            )
        ),
    )
    ctx.check(
        "z_loss_sensitivity",
        s["z_loss"] < s["baseline"],
        f"LR sensitivity without / with z-loss: {s['baseline']:.4g} / {s['z_loss']:.4g}",
    )
    if ctx.out is not None:
        from stabkit.report.figures import new_figure

        fig, (ax0, ax1) = new_figure(ncols=2, figsize=(10, 3.8))
        for name, res in results.items():
            capped = np.minimum(
                np.nan_to_num(res.final_loss, nan=res.initial_loss), res.initial_loss
            )
            ax0.semilogx(res.lrs, capped, "o-", label=f"{name} (LRS {res.sensitivity:.3g})")
            ax1.loglog(res.lrs, by[name].max_attention_logit.to_numpy(), "o-", label=name)
        ax0.set_xlabel("learning rate")
        ax0.set_ylabel("final loss (capped at initial)")
        ax0.legend(fontsize=8)
        ax1.set_xlabel("learning rate")
        ax1.set_ylabel("max attention logit")
        ax1.legend(fontsize=8)
        ctx.figure(
            "lr_sweep",
            fig,
            "Left: final loss against learning rate per configuration. Right: the largest "
            "attention logit of each run.",
        )


def run(ctx: Any) -> None:
    """The study (single-threaded torch: the models are tiny)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run(ctx)
    finally:
        torch.set_num_threads(threads)
