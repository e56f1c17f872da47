"""`stabkit simulate NETWORK --ssa` runs the stochastic simulation, like `stabkit ssa`."""

from __future__ import annotations

import pandas as pd

from stabkit.cli import main


def test_simulate_ssa_writes_counts(tmp_path, capsys):
    out = tmp_path / "bd.parquet"
    code = main(
        [
            "simulate",
            "birth_death",
            "--ssa",
            "--runs",
            "50",
            "--t-end",
            "5",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "birth_death" in text and "50" in text
    frame = pd.read_parquet(out)
    assert len(frame) > 0 and (frame.select_dtypes("number") >= 0).all().all()


def test_simulate_ssa_rejects_an_ode_method(capsys):
    code = main(["simulate", "birth_death", "--ssa", "--method", "dopri5", "--t-end", "5"])
    assert code == 2
    assert "direct, next or tau" in capsys.readouterr().err
