"""``stabkit ssa``, the simulate hook and the figures of stochastic simulation."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from stabkit.cli import main
from stabkit.commands import ssa as ssa_command
from stabkit.integrate.ssa import ssa
from stabkit.model._reaction_files import library_network, network_names

# the birth-death network with no births: pure decay (the same compiled kernels as the
# birth-death network elsewhere in the tests)
NETWORK = """[model]
name = "decay"
kind = "reactions"
[species]
X = 50
[parameters]
k1 = 0.0
k2 = 1.0
[reactions]
birth = "0 -> X @ k1"
death = "X -> 0 @ k2"
"""
# explicit propensities that misbehave (as TROUBLE in test_ssa_errors.py)
TROUBLE = """[model]
name = "trouble"
kind = "reactions"
[species]
X = 3
[parameters]
kb = 0.0
cap = 5.0
kd = 1.0
[reactions]
grow = "0 -> 2 X @ propensity: kb*(cap - X)"
leak = "X -> 0 @ propensity: kd"
"""


def test_cli_runs_a_shipped_network(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "runs.csv"
    code = main(["ssa", "birth_death", "--runs", "50", "--t-end", "5", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "birth_death" in text and "reactions per second" in text and "variance" in text
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["run", "t", "status", "X"] and len(frame) == 50 * 101


def test_cli_file_methods_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "decay.toml"
    path.write_text(NETWORK)
    out = tmp_path / "decay.json"
    args = ["ssa", str(path), "--runs", "200", "--t-end", "1", "--num-points", "3", "--seed", "4"]
    assert main([*args, "--method", "next", "--count", "X=40", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    counts = np.array(data["counts"], dtype=float)
    assert counts.shape == (200, 3, 1) and np.all(counts[:, 0, 0] == 40)
    # each of the 40 molecules survives to t = 1 with probability exp(-1)
    observed = counts[:, -1, 0]
    expected = 40 * np.exp(-1.0)
    z = (observed.mean() - expected) / (observed.std(ddof=1) / np.sqrt(observed.size))
    assert abs(z) < 4.5
    assert main([*args, "--method", "tau", "--epsilon", "0.05"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["ssa", "birth_deth"], "did you mean 'birth_death'"),
        (["ssa", "missing.toml"], "not found"),
        (["ssa", "birth_death", "--runs", "0"], "--runs"),
        (["ssa", "birth_death", "--t-end", "-1"], "--t-end"),
        (["ssa", "birth_death", "--epsilon", "0.1"], "--epsilon applies"),
        (["ssa", "birth_death", "--out", "x.txt"], "unknown file type"),
        (["ssa", "birth_death", "--count", "X=1.5"], "whole number"),
        (["ssa", "birth_death", "--param", "k9=1"], "no parameter 'k9'"),
    ],
)
def test_cli_errors(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in captured.out + captured.err


def test_cli_reports_runs_that_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TROUBLE)
    assert main(["ssa", str(path), "--runs", "3", "--t-end", "100"]) == 1
    assert "negative_count" in capsys.readouterr().out


def test_run_from_cli_accepts_the_simulate_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    # what `stabkit simulate NETWORK --ssa --ensemble N --t-end T` would pass on
    args = argparse.Namespace(
        model="isomerisation", ensemble=20, t_end=2.0, t_start=0.0, num_points=5,
        method=None, seed=1, param=[], out=None, ssa=True,
    )  # fmt: skip
    assert ssa_command.run_from_cli(args, Console(width=120)) == 0
    assert "isomerisation" in capsys.readouterr().out


def test_shipped_networks_simulate() -> None:
    assert set(network_names()) >= {"birth_death", "dimerisation", "schlogl"}
    net = library_network("dimerisation", kon=0.01)
    assert net.default_parameter_map()["kon"] == 0.01
    result = ssa(net, (0.0, 1.0), num_runs=10, seed=0)
    assert result.ok


def test_figures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from stabkit.report._style import new_figure, save_figure

    net = library_network("birth_death")
    result = ssa(net, (0.0, 30.0), num_runs=40, seed=2, t_eval=np.linspace(0.0, 30.0, 301))
    fig, (left, right) = new_figure(1, 2, figsize=(9, 3.5))
    assert result.plot(ax=left) is left
    law = result.stationary_distribution("X", burn_in=5.0)
    assert law.plot(ax=right, reference=scipy.stats.poisson.pmf(law.values, 10.0)) is right
    assert len(left.lines) >= 1 and len(right.patches) == law.values.size
    assert save_figure(fig, tmp_path / "ssa.png").stat().st_size > 1000
