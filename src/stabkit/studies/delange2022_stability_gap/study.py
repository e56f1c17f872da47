"""De Lange et al. (2023): the stability gap of experience replay under continual evaluation.

scikit-learn's digits are split into five two-class tasks learned one after another
(class-incremental, one shared 10-way head) by an MLP trained with SGD and experience
replay (each step: a batch of the new task and a batch from a small class-balanced
memory). :class:`stabkit.learn.ContinualEvaluator` evaluates every seen task after every
iteration. The paper's findings checked here: right after a task switch the accuracy
of earlier tasks drops far below the level it recovers to (min-ACC well below the
final ACC), the worst-case accuracy WC-ACC lies below the final ACC, and evaluating
only at the end of each task hides the drops.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from stabkit.learn import ContinualEvaluator, ContinualResult


def digits_tasks(config: dict[str, Any]) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """Train/test tensors per task: ``[(x_train, y_train)]`` and ``{name: (x_test, y_test)}``."""
    import torch
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    rng = np.random.default_rng(int(config["seed"]))
    test = rng.random(y.size) < float(config["test_fraction"])
    train_sets, test_sets = [], {}
    for classes in config["task_classes"]:
        sel = np.isin(y, classes)
        name = "".join(str(c) for c in classes)
        train_sets.append((torch.tensor(x[sel & ~test]), torch.tensor(y[sel & ~test])))
        test_sets[name] = (torch.tensor(x[sel & test]), torch.tensor(y[sel & test]))
    return train_sets, test_sets


def train_continual(config: dict[str, Any], seed: int) -> ContinualResult:
    """One continual run with experience replay; the evaluator's result."""
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    train_sets, test_sets = digits_tasks(config)
    sizes = [64, *config["hidden"], 10]
    layers: list[torch.nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=float(config["lr"]), momentum=config["momentum"])
    ce = torch.nn.functional.cross_entropy
    evaluator = ContinualEvaluator(test_sets)
    memory: list[tuple[torch.Tensor, torch.Tensor]] = []
    bs, rbs, w = int(config["batch_size"]), int(config["replay_batch_size"]), config["new_weight"]
    for (x, y), name in zip(train_sets, test_sets, strict=True):
        evaluator.start_task(name)
        for _ in range(int(config["epochs_per_task"])):
            perm = torch.randperm(y.numel(), generator=gen)
            for start in range(0, y.numel(), bs):
                idx = perm[start : start + bs]
                loss = ce(model(x[idx]), y[idx])
                if memory:
                    mx = torch.cat([m[0] for m in memory])
                    my = torch.cat([m[1] for m in memory])
                    ridx = torch.randint(0, my.numel(), (rbs,), generator=gen)
                    loss = w * loss + (1 - w) * ce(model(mx[ridx]), my[ridx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                evaluator.evaluate(model)
        evaluator.end_task()
        # class-balanced memory: equal shares per seen task
        memory.append((x, y))
        share = int(config["memory_size"]) // len(memory)
        memory = [
            (mx, my)
            for mx, my in (
                (m[0][keep], m[1][keep])
                for m in memory
                for keep in [torch.randperm(m[1].numel(), generator=gen)[:share]]
            )
        ]
    return evaluator.result()


def end_of_task_minimum(result: ContinualResult) -> np.ndarray:
    """Per earlier task, the lowest accuracy seen only at the ends of later tasks."""
    ends = [e for e in result.task_end if e is not None]
    out = np.full(len(result.tasks), np.nan)
    for pos in range(len(result.tasks) - 1):
        later = ends[pos + 1 :]
        rows = np.searchsorted(result.iterations, later)
        out[pos] = float(np.nanmin(result.accuracy[rows, pos]))
    return out


def run(ctx: Any) -> None:
    """The study."""
    import pandas as pd

    c = ctx.config
    seeds = [int(c["seed"]) + i for i in range(int(c["num_seeds"]))]
    results = [train_continual(c, s) for s in seeds]
    rows = []
    for s, r in zip(seeds, results, strict=True):
        final = r.accuracy[-1]
        eot = end_of_task_minimum(r)
        for pos, task in enumerate(r.tasks):
            rows.append(
                {
                    "seed": s,
                    "task": task,
                    "final_acc": float(final[pos]),
                    "min_acc": float(r.min_accuracy[pos]),
                    "end_of_task_min_acc": float(eot[pos]),
                    "windowed_forgetting": float(r.windowed_forgetting[pos]),
                    "learning_curve_area": float(r.learning_curve_area[pos]),
                }
            )
    table = pd.DataFrame(rows)
    ctx.table("per_task", table)
    early = table[table.task != results[0].tasks[-1]]
    gap = float((early.final_acc - early.min_acc).mean())
    ctx.record("earlier_tasks_final_acc", float(early.final_acc.mean()))
    ctx.record("earlier_tasks_min_acc", float(early.min_acc.mean()))
    ctx.check(
        "early_task_gap",
        gap > float(c["early_task_gap"]),
        f"tasks before the last, mean over them and {len(seeds)} seed(s): min-ACC "
        f"{early.min_acc.mean():.3f} against final ACC {early.final_acc.mean():.3f}, gap "
        f"{gap:.3f} (threshold {c['early_task_gap']}); per task and seed "
        + ", ".join(
            f"{t}: {a:.2f} -> {b:.2f}"
            for t, a, b in zip(early.task, early.min_acc, early.final_acc, strict=True)
        ),
    )
    acc = np.array([r.final_accuracy for r in results])
    wc = np.array([r.worst_case_accuracy for r in results])
    mins = np.array([r.average_min_accuracy for r in results])
    ctx.record("final_acc", float(acc.mean()))
    ctx.record("wc_acc", float(wc.mean()))
    ctx.record("average_min_acc", float(mins.mean()))
    ctx.record("forgetting", float(np.mean([r.forgetting for r in results])))
    ctx.check(
        "wc_acc_below_acc",
        bool(np.all(wc < acc)),
        "per seed WC-ACC / ACC: "
        + ", ".join(f"{a:.3f} / {b:.3f}" for a, b in zip(wc, acc, strict=True)),
    )
    prev = table[table.task != results[0].tasks[-1]]
    hidden = prev.end_of_task_min_acc - prev.min_acc
    ctx.record("hidden_drop_mean", float(hidden.mean()))
    ctx.check(
        "end_of_task_hides_drops",
        bool(hidden.mean() > float(c["early_task_gap"]) and (hidden >= 0).all()),
        f"over the earlier tasks and seeds, the lowest accuracy seen only at task ends "
        f"({prev.end_of_task_min_acc.mean():.3f} on average) exceeds the per-iteration "
        f"minimum ({prev.min_acc.mean():.3f}) by {hidden.mean():.3f} on average "
        f"(at least {hidden.min():.3f})",
    )
    if ctx.out is not None:
        from stabkit.report.figures import new_figure

        fig, (ax,) = new_figure(figsize=(8, 4.2))
        results[0].plot(ax=ax)
        ctx.figure(
            "stability_gap",
            fig,
            "Accuracy of each seen task after every iteration (seed "
            f"{seeds[0]}); dotted lines: task switches. Earlier tasks drop sharply right "
            "after each switch and recover.",
        )
