"""The command line: commands, output, files written, and errors (one line, exit code 2)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stabkit import __version__
from stabkit.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LORENZ = str(EXAMPLES / "lorenz.toml")


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines, "nothing on stderr"
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- info / models
def test_info_prints_values_equations_and_the_jacobian(capsys):
    assert main(["info", LORENZ]) == 0
    out = capsys.readouterr().out
    assert "lorenz" in out and "ode" in out and "Lorenz" in out  # name, kind, citation
    for name, value in (("sigma", "10"), ("rho", "28"), ("beta", "2.666666667")):
        assert re.search(rf"{name}\s+.*{re.escape(value)}", out), name
    assert "dx/dt" in out and "dz/dt" in out
    assert "Jacobian" in out
    jac = out[out.index("Jacobian") :]
    for entry in ("-sigma", "rho - z", "-x", "-beta", "-1"):
        assert entry in jac, entry


def test_info_shows_definitions_and_powers_in_model_language(capsys):
    assert main(["info", str(EXAMPLES / "toggle_switch.toml")]) == 0
    out = capsys.readouterr().out
    assert "Definitions" in out and "production_u" in out
    compact = out.replace(" ", "")
    assert "alpha1/(v^n1+1)" in compact or "alpha1/(1+v^n1)" in compact
    assert "**" not in out


def test_info_and_models_know_the_library(capsys):
    assert main(["info", "brusselator"]) == 0
    out = capsys.readouterr().out
    assert "brusselator" in out and "dx/dt" in out
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("lorenz", "brusselator", "robertson"):
        assert name in out


# --------------------------------------------------------------------------- simulate
def test_simulate_ensemble_writes_a_parquet_file_with_the_right_shape(tmp_path, capsys):
    out_file = tmp_path / "run.parquet"
    argv = ["simulate", LORENZ, "--t-end", "1", "--ensemble", "20", "--num-points", "11"]
    argv += ["--spread", "0.5", "--seed", "3", "--method", "dopri5", "--rtol", "1e-8"]
    assert main([*argv, "--out", str(out_file)]) == 0
    frame = pd.read_parquet(out_file)
    assert frame.shape == (20 * 11, 6)
    assert list(frame.columns) == ["member", "t", "x", "y", "z", "status"]
    assert sorted(frame.member.unique()) == list(range(20))
    assert np.allclose(frame.t.unique(), np.linspace(0, 1, 11))
    assert set(frame.status) == {"ok"}
    first = frame[frame.t == 0]
    assert first.x.std() > 0.1  # the members really start apart
    out = capsys.readouterr().out
    assert "members" in out and "20" in out
    assert "compile time" in out and "run time" in out
    assert "run.parquet" in out


def test_simulate_single_trajectory_with_parameter_override(tmp_path):
    out_file = tmp_path / "one.csv"
    # rho < 1: the origin is globally attracting
    argv = ["simulate", LORENZ, "--t-end", "30", "--param", "rho=0.5", "--num-points", "31"]
    argv += ["--method", "dopri5"]
    assert main([*argv, "--out", str(out_file)]) == 0
    frame = pd.read_csv(out_file)
    assert frame.shape == (31, 4)
    assert np.all(np.abs(frame[["x", "y", "z"]].iloc[-1]) < 1e-3)


# --------------------------------------------------------------------------- errors
def test_bad_model_file_gives_one_line_naming_file_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "[model]\n"
        'name = "bad"\n'
        'kind = "ode"\n'
        "[parameters]\n"
        "k = 1.0\n"
        "[variables]\n"
        "x = 1.0\n"
        "[equations]\n"
        'x = "-k*x + (2"\n'
    )
    assert main(["info", str(bad)]) == 2
    captured = capsys.readouterr()
    first = _error_line(captured.err)
    assert re.search(rf"{re.escape(str(bad))}:9:\d+", first), first
    assert captured.out == ""


def test_debug_shows_the_traceback(capsys):
    assert main(["info", "no/such/model.toml", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "not found" in err


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["simulat", "x"], r"unknown command 'simulat'.*did you mean 'simulate'"),
        (["info", LORENZ, "--bogus"], r"unrecognized arguments: --bogus"),
        (["simulate", LORENZ], r"required: --t-end"),
        (["simulate", LORENZ, "--t-end", "abc"], r"invalid float value: 'abc'"),
        (["info", "missing.toml"], r"model file 'missing.toml' not found"),
        (["simulate", LORENZ, "--t-end", "1", "--out", "x.txt"], r"unknown file type"),
        (["simulate", LORENZ, "--t-end", "1", "--param", "rho"], r"expected NAME=VALUE"),
        (["simulate", LORENZ, "--t-end", "0"], r"must be larger than --t-start"),
        (["simulate", LORENZ, "--t-end", "1", "--rtol", "1e-3"], r"needs --method"),
    ],
)
def test_usage_errors_print_one_line_and_exit_2(argv, pattern, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    first = _error_line(captured.err)
    assert first.startswith("error: ")
    assert re.search(pattern, first), first
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["info", "lorenzz"], r"neither a model file nor a library model.*did you mean 'lorenz'"),
        (["simulate", LORENZ, "--t-end", "1", "--param", "rhoo=2"], r"no parameter 'rhoo'"),
        (["simulate", LORENZ, "--t-end", "1", "--method", "dopri"], r"unknown method 'dopri'"),
    ],
)
def test_model_and_method_errors_exit_2(argv, pattern, capsys):
    assert main(argv) == 2
    first = _error_line(capsys.readouterr().err)
    assert re.search(pattern, first), first


def test_help_version_and_no_command(capsys):
    assert main(["--help"]) == 0
    assert "simulate" in capsys.readouterr().out
    assert main(["simulate", "--help"]) == 0
    assert "--t-end" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 2


def test_python_dash_m_stabkit_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "stabkit", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"stabkit {__version__}"
    out = subprocess.run([sys.executable, "-m", "stabkit", "nope"], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: unknown command 'nope'")


# --------------------------------------------------------------------------- demo
def test_demo_quick_writes_index_html_and_pngs(tmp_path, capsys):
    folder = tmp_path / "report"
    began, began_cpu = time.perf_counter(), time.process_time()
    assert main(["demo", "--quick", "--out", str(folder)]) == 0
    # on a loaded machine wall time overstates the work, on an idle multi-core one CPU
    # time does (parallel ensembles): hold the smaller against the budget
    elapsed = min(time.perf_counter() - began, time.process_time() - began_cpu)
    index = folder / "index.html"
    html = index.read_text()
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) >= 6
    for png in pngs:
        assert png.read_bytes()[:4] == b"\x89PNG"
        assert f'href="{png.name}"' in html
    assert html.count("data:image/png;base64,") == len(pngs)
    for title in ("Brusselator", "Lorenz", "Robertson"):
        assert title in html
    assert "status status-error" not in html
    assert __version__ in html
    out = capsys.readouterr().out
    assert "index.html" in out
    # Compiling kernels the first time (cold cache) is reported apart and not held
    # against the demo; everything else must stay quick.
    compiling = float(re.search(r"compiling kernels: ([\d.]+) s", out).group(1))
    assert elapsed - compiling < 60, f"demo --quick took {elapsed:.0f} s besides compiling"


def test_demo_rejects_unknown_sections(tmp_path, capsys):
    assert main(["demo", "--quick", "--only", "lorenzz", "--out", str(tmp_path)]) == 2
    first = _error_line(capsys.readouterr().err)
    assert "no demo section 'lorenzz'" in first and "did you mean 'lorenz'" in first


def test_simulate_a_map_iterates_whole_steps(tmp_path):
    out_file = tmp_path / "henon.csv"
    argv = ["simulate", "henon_map", "--t-end", "50", "--num-points", "51"]
    assert main([*argv, "--out", str(out_file)]) == 0
    frame = pd.read_csv(out_file)
    assert frame.shape == (51, 3)
    assert np.array_equal(frame.t, np.arange(51))
    x, y = frame.x.to_numpy(), frame.y.to_numpy()
    # the Henon map itself: x' = 1 - a x^2 + y, y' = b x with a = 1.4, b = 0.3
    assert np.allclose(x[1:], 1 - 1.4 * x[:-1] ** 2 + y[:-1])
    assert np.allclose(y[1:], 0.3 * x[:-1])


def test_demo_reports_a_failing_section_and_exits_1(tmp_path, monkeypatch, capsys):
    from stabkit.report import demo

    def broken(ctx):
        raise RuntimeError("section <exploded>")

    monkeypatch.setattr(demo, "DEMO_SECTIONS", [demo.DemoSection("broken", "Broken", broken)])
    monkeypatch.setattr(demo, "discover_demo_sections", lambda: [])
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 1
    html = (tmp_path / "index.html").read_text()
    assert "status status-error" in html and "section &lt;exploded&gt;" in html
    assert "RuntimeError: section <exploded>" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="exploded"):
        main(["demo", "--quick", "--out", str(tmp_path), "--debug"])
