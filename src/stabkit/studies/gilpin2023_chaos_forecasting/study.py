"""Gilpin (2023): how long forecasters of chaotic flows stay valid, with little data.

For each system (Lorenz, Rössler) a long trajectory is sampled with 100 points per
dominant period (stabkit.solve, DOP853). Forecasters (NVAR, an echo-state network, a small
MLP, persistence) are trained on the first 1 to 10 periods and forecast in closed loop from
several windows of the unseen part; each forecast's valid prediction time (running sMAPE
over 30) is reported in Lyapunov times. Lorenz's Lyapunov exponent is recomputed with
stabkit and checked against the dysts metadata the paper uses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import stabkit
from stabkit.analysis.forecast import (
    NVAR,
    EchoStateNetwork,
    LastValue,
    MLPForecaster,
    chaotic_series,
    dominant_period,
    evaluate_forecasters,
)
from stabkit.analysis.lyapunov import largest_lyapunov_exponent


def _forecasters(c: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "NVAR": NVAR(delays=c["nvar_delays"], degree=c["nvar_degree"], ridge=c["nvar_ridge"]),
        "ESN": EchoStateNetwork(size=c["esn_size"], ridge=c["esn_ridge"], washout=c["esn_washout"]),
        "persistence": LastValue(),
    }
    try:
        import torch  # noqa: F401
    except ImportError:
        return out
    out["MLP"] = MLPForecaster(
        delays=c["mlp_delays"], hidden=c["mlp_hidden"], epochs=c["mlp_epochs"]
    )
    return out


def _system(ctx: Any, name: str) -> tuple[Any, float, float]:
    """The model, its largest Lyapunov exponent and its period (metadata or computed)."""
    model = stabkit.library.get(name)
    meta = ctx.config.get("metadata", {}).get(name, {})
    lam = meta.get("lyapunov")
    if lam is None:
        res = largest_lyapunov_exponent(model, seed=0)
        lam = float(res.largest)
        ctx.record(f"{name}_lyapunov_computed", lam)
    period = meta.get("period")
    if period is None:
        t, y = chaotic_series(model, period=1.0, num_periods=400, points_per_period=20)
        period = dominant_period(t, y[:, 0])
        ctx.record(f"{name}_period_computed", period)
    return model, float(lam), float(period)


def run(ctx: Any) -> None:
    c = ctx.config
    check = c["lyapunov_check_system"]
    res = largest_lyapunov_exponent(stabkit.library.get(check), seed=0)
    ctx.compare(f"{check}_lyapunov", float(res.largest), float(res.standard_errors[0]))
    ppp = int(c["points_per_period"])
    rows = []
    for name in c["systems"]:
        model, lam, period = _system(ctx, name)
        _, series = chaotic_series(
            model, period=period, num_periods=c["num_periods_total"], points_per_period=ppp
        )
        dt = period / ppp
        ctx.record(f"{name}_lyapunov_time_in_periods", 1.0 / (lam * period))
        for periods in c["train_periods"]:
            result = evaluate_forecasters(
                series, _forecasters(c), dt=dt, lyapunov_exponent=lam,
                num_train=int(periods * ppp), horizon=int(c["horizon_periods"] * ppp),
                num_windows=int(c["num_windows"]),
            )  # fmt: skip
            frame = result.to_frame()
            frame.insert(0, "train_periods", periods)
            frame.insert(0, "system", name)
            rows.append(frame)
            if result.errors:
                ctx.record(f"{name}_{periods}_errors", result.message)
    import pandas as pd

    table = pd.concat(rows, ignore_index=True)
    ctx.table("vpt_sweep", table)
    _claims(ctx, table)
    _figure(ctx, table)


def _claims(ctx: Any, table: Any) -> None:
    mean = table.pivot_table(
        index=["system", "train_periods"], columns="forecaster", values="vpt_lyapunov_times"
    )
    hybrid = mean[["NVAR", "ESN"]].max(axis=1)
    if "MLP" in mean.columns:
        per_system = (hybrid - mean["MLP"]).groupby(level="system").mean()
        wins = int((hybrid >= mean["MLP"]).sum())
        passed = bool(np.all(per_system >= 0))
        evidence = (
            f"best of NVAR/ESN >= MLP in {wins} of {len(mean)} (system, training length) "
            "cells; mean margin per system (Lyapunov times): "
            + ", ".join(f"{k} {v:+.2f}" for k, v in per_system.items())
        )
    else:
        passed = False
        evidence = "MLP not run: torch is not installed (pip install 'stabkit[learn]')"
    ctx.check("hybrids_beat_neural_with_little_data", passed, evidence)
    trained = mean.drop(columns=["persistence"]).max(axis=1)
    beat = trained > mean["persistence"]
    ctx.check(
        "trained_models_beat_persistence",
        bool(beat.all()),
        f"best trained VPT above persistence in {int(beat.sum())} of {len(beat)} cells; "
        f"persistence VPT at most {float(mean['persistence'].max()):.2f} Lyapunov times",
    )
    for (system, periods), row in mean.iterrows():
        for forecaster, value in row.items():
            if math.isfinite(value):
                ctx.record(f"vpt_{system}_{periods}p_{forecaster}", float(value))


def _figure(ctx: Any, table: Any) -> None:
    from stabkit.report.figures import new_figure

    systems = list(dict.fromkeys(table["system"]))
    fig, axes = new_figure(1, len(systems), figsize=(5.2 * len(systems), 3.9))
    for ax, system in zip(axes, systems, strict=True):
        sub = table[table["system"] == system]
        for forecaster, part in sub.groupby("forecaster", sort=False):
            ax.errorbar(
                part["train_periods"], part["vpt_lyapunov_times"],
                yerr=part["vpt_standard_error"].fillna(0.0), marker="o", capsize=3,
                label=str(forecaster),
            )  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("training length (periods)")
        ax.set_ylabel("valid prediction time (Lyapunov times)")
        ax.set_title(system)
        ax.legend(fontsize=8)
    ctx.figure(
        "vpt_vs_training_length",
        fig,
        "Valid prediction time (mean ± standard error over test windows) against the "
        "training length: the hybrid models (NVAR, ESN) against a small MLP and persistence.",
    )
