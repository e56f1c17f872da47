"""``stabkit analyze`` and ``stabkit continue``: tables, special points, files, errors.

Oracles: the Brusselator's equilibrium (a, b/a) has trace b - 1 - a^2 and determinant
a^2 > 0, so it loses stability in a Hopf bifurcation at b = 1 + a^2; the Lorenz origin
has a pitchfork at rho = 1; x' = mu - x^2 has its fold at mu = 0; the logistic map's
fixed point 1 - 1/r flips at r = 3; the Henon map's fixed points solve
a x^2 + (1 - b) x - 1 = 0.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stabkit.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BRUSSELATOR = str(EXAMPLES / "brusselator.toml")

FOLD = """
[model]
name = "fold"
kind = "ode"
[parameters]
mu = 1.0
[variables]
x = 1.0
[equations]
x = "mu - x^2"
[analysis]
continue = { parameter = "mu", from = 1.0, to = -1.0, start = { x = 1.0 } }
"""


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _hopf_values(out: str) -> list[float]:
    return [float(v) for v in re.findall(r"H\s+[│|]\s+b = ([-\d.e+]+)", out)]


def test_analyze_brusselator_file_finds_the_hopf_point_and_writes_the_report(tmp_path, capsys):
    out_dir = tmp_path / "report"
    assert main(["analyze", BRUSSELATOR, "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "unstable focus" in out and "complete (algebraic)" in out
    assert "1 equilibrium;" in out
    assert _hopf_values(out) == [pytest.approx(2.0, abs=1e-8)]  # b = 1 + a^2, a = 1
    assert "supercritical" in out and "reached b = 4" in out
    frame = pd.read_csv(out_dir / "equilibria.csv")
    assert np.allclose(frame[["x", "y"]].to_numpy(), [[1.0, 3.0]])  # (a, b/a) at b = 3
    branch = pd.read_csv(out_dir / "branch_1.csv")
    assert np.allclose(branch.y, branch.b)  # y = b/a along the branch
    stable = branch.stable.to_numpy()
    assert np.all(stable[branch.b < 1.999]) and not np.any(stable[branch.b > 2.001])
    png = out_dir / "bifurcation_diagram.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    html = (out_dir / "index.html").read_text()
    assert "bifurcation_diagram.png" in html and "supercritical" in html


def test_analyze_with_a_parameter_override_moves_the_hopf_point(capsys):
    a = 1.5
    assert main(["analyze", BRUSSELATOR, "--param", f"a={a}"]) == 0
    out = capsys.readouterr().out
    assert _hopf_values(out) == [pytest.approx(1 + a * a, abs=1e-8)]
    # the equilibrium (a, b/a) at the file's b = 3
    assert re.search(r"1\.5\s+[│|]\s+2\s+[│|]\s+stable focus", out), out  # b = 3 < 3.25


def test_analyze_without_analysis_table_lists_equilibria_only(capsys):
    assert main(["analyze", "lorenz", "--param", "rho=28"]) == 0
    out = capsys.readouterr().out
    assert "3 equilibria" in out and "no continuation" in out
    assert out.count("saddle") >= 1 and "unstable" in out
    beta, rho = 8 / 3, 28.0
    c = math.sqrt(beta * (rho - 1))
    assert f"{c:.7g}" in out  # C+- = (+-sqrt(beta (rho - 1)), ..., rho - 1)


def test_analyze_a_map_lists_fixed_points(capsys):
    assert main(["analyze", "henon_map"]) == 0
    out = capsys.readouterr().out
    a, b = 1.4, 0.3
    roots = np.roots([a, 1 - b, -1])
    assert "2 fixed points" in out and "max |mu|" in out
    for x in roots:
        assert f"{x:.7g}" in out


def test_analyze_follows_a_fold_from_the_given_start(tmp_path, capsys):
    model = tmp_path / "fold.toml"
    model.write_text(FOLD)
    assert main(["analyze", str(model)]) == 0
    out = capsys.readouterr().out
    lp = re.findall(r"LP\s+[│|]\s+mu = ([-\d.e+]+)", out)
    assert len(lp) == 1 and abs(float(lp[0])) < 1e-8
    assert "ended:" in out


@pytest.mark.parametrize(
    ("analysis", "pattern"),
    [
        ('continue = { parameter = "mu", from = 1, too = 2 }', r"unknown key 'too'.*'to'"),
        ('continue = { parameter = "nu", from = 1, to = 2 }', r"no parameter 'nu'; it has mu"),
        ('continue = { parameter = "mu", from = 1 }', r"'to' is missing"),
        ('continue = { parameter = "mu", from = 1, to = 1 }', r"give a range"),
        ('continue = { parameter = "mu", from = "a", to = 2 }', r"'from': expected a finite"),
        ('continue = { parameter = "mu", from = 1, to = 2, start = { y = 1 } }', "variable 'y'"),
        ("continue = 3", r"expected a table"),
        ("bounds = { x = [0] }", r"expected \[lo, hi\]"),
    ],
)
def test_analyze_reports_a_bad_analysis_table_in_one_line(tmp_path, capsys, analysis, pattern):
    model = tmp_path / "bad.toml"
    model.write_text(FOLD.split("[analysis]")[0] + "[analysis]\n" + analysis + "\n")
    assert main(["analyze", str(model)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert re.search(pattern, line), line


def test_continue_lorenz_finds_the_pitchfork_at_rho_1(capsys):
    argv = ["continue", "lorenz", "--param", "rho", "--from", "0.5", "--to", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    bp = re.findall(r"BP\s+[│|]\s+rho = ([-\d.e+]+)", out)
    assert len(bp) == 1 and float(bp[0]) == pytest.approx(1.0, abs=1e-8)
    assert "ended: ok" in out and "reached rho = 3" in out


def test_continue_from_a_start_state_with_other_parameters(tmp_path, capsys):
    argv = ["continue", "brusselator", "--param", "b", "--from", "0.5", "--to", "6"]
    argv += ["--set", "a=2", "--start", "x=2,y=0.25", "--out", str(tmp_path / "c")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert _hopf_values(out) == [pytest.approx(5.0, abs=1e-8)]
    assert "from the given start" in out
    assert re.search(r"H\s+.*-?\d.*supercritical", out)
    assert (tmp_path / "c" / "bifurcation_diagram.png").is_file()
    assert (tmp_path / "c" / "branch_1.csv").is_file()


def test_continue_a_map_finds_the_flip_of_the_logistic_map(capsys):
    argv = ["continue", "logistic_map", "--param", "r", "--from", "2", "--to", "3.4"]
    argv += ["--bounds", "x=0.1:1"]  # the nonzero fixed point 1 - 1/r only
    assert main(argv) == 0
    out = capsys.readouterr().out
    pd_ = re.findall(r"PD\s+[│|]\s+r = ([-\d.e+]+)", out)
    assert len(pd_) == 1 and float(pd_[0]) == pytest.approx(3.0, abs=1e-8)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["--param", "rhoo", "--to", "2"], r"no parameter 'rhoo'.*did you mean 'rho'"),
        (["--param", "rho", "--to", "2", "--start", "w=1"], r"no variable 'w'"),
        (["--param", "rho", "--to", "2", "--set", "sigma"], r"--set 'sigma': expected NAME=VALUE"),
        (["--param", "rho", "--to", "2", "--bounds", "x=1"], r"expected NAME=LO:HI"),
        (["--param", "rho"], r"required: --to"),
    ],
)
def test_continue_errors_are_one_line(capsys, argv, pattern):
    assert main(["continue", "lorenz", *argv]) == 2
    line = _error_line(capsys.readouterr().err)
    assert re.search(pattern, line), line
