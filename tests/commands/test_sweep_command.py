"""``stabkit sweep``: tables against the Brusselator's analytic stability, the store,
samples, output files and bad input.

Oracle: the Brusselator's only equilibrium (a, b/a) has the Jacobian
[[b - 1, a^2], [-b, -a^2]], so trace T = b - 1 - a^2 and determinant D = a^2; the
leading real part is T/2 when T^2 < 4D and (T + sqrt(T^2 - 4D))/2 otherwise.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from stabkit.cli import main


def _leading_real_part(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    t = b - 1.0 - a**2
    disc = t**2 - 4.0 * a**2
    return np.where(disc < 0, t / 2.0, (t + np.sqrt(np.maximum(disc, 0.0))) / 2.0)


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_grid_sweep_matches_the_analytic_leading_real_part(tmp_path, capsys):
    out = tmp_path / "diagram.parquet"
    argv = ["sweep", "brusselator", "--over", "b=0.5:4:4", "--over", "a=0.5:2:3"]
    argv += ["--executor", "serial", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "grid b[4] x a[3]" in text and "12 points: 12 computed, 0 from the store" in text
    assert re.search(r"ok\s+[│|]\s+12", text)
    frame = pd.read_parquet(out)
    assert len(frame) == 12 and (frame["status"] == "ok").all()
    assert (frame["num_equilibria"] == 1).all()
    expected = _leading_real_part(frame["a"].to_numpy(), frame["b"].to_numpy())
    np.testing.assert_allclose(frame["max_real_part"], expected, atol=1e-8)
    stable = expected < 0
    assert (frame["num_stable"].to_numpy() == stable.astype(int)).all()
    assert stable.any() and (~stable).any()  # the grid straddles the Hopf line b = 1 + a^2


def test_store_resumes_and_a_finished_sweep_computes_nothing(tmp_path, capsys):
    store = tmp_path / "runs"
    argv = ["sweep", "brusselator", "--over", "b=1:3:4", "--param", "a=1.2"]
    argv += ["--executor", "serial", "--chunk-size", "2", "--store", str(store)]
    assert main(argv) == 0
    assert "4 computed, 0 from the store" in capsys.readouterr().out
    assert main([*argv, "--no-progress"]) == 0
    assert "0 computed, 4 from the store" in capsys.readouterr().out
    frame = pd.read_parquet(store)
    assert frame["point_index"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(
        frame["max_real_part"], _leading_real_part(1.2, frame["b"].to_numpy()), atol=1e-8
    )
    # the same store with another fixed parameter is another model: refused, never mixed
    other = [a if a != "a=1.2" else "a=1.5" for a in argv]
    assert main(other) == 2
    assert "store" in _error_line(capsys.readouterr().err).lower()


def test_latin_hypercube_sample_to_csv_and_json(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    argv = ["sweep", "brusselator", "--sample", "lhs", "--num-samples", "5", "--seed", "3"]
    argv += ["--over", "b=1:3", "--over", "a=0.5:1.5", "--executor", "serial"]
    assert main([*argv, "--out", str(csv), "--no-progress"]) == 0
    frame = pd.read_csv(csv)
    assert len(frame) == 5
    assert frame["b"].between(1, 3).all() and frame["a"].between(0.5, 1.5).all()
    # a Latin hypercube puts exactly one point in each of the 5 strata of every axis
    assert sorted(np.floor((frame["b"] - 1) / 2 * 5).astype(int)) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(
        frame["max_real_part"],
        _leading_real_part(frame["a"].to_numpy(), frame["b"].to_numpy()),
        atol=1e-8,
    )
    js = tmp_path / "t.json"
    assert main([*argv, "--out", str(js), "--no-progress"]) == 0
    data = json.loads(js.read_text())
    assert data["type"] == "SweepResult" and data["num_points"] == 5
    assert [row["b"] for row in data["table"]] == pytest.approx(frame["b"].tolist())
    assert data["provenance"]["model_hash"]
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--over", "bb=0:1:3"], "did you mean 'b'"),
        (["--over", "b=0:1:0"], "'b=0:1:0'"),  # see notes: parse_range hides "empty range"
        (["--over", "b=0-1"], "NAME=LO:HI:NUM"),
        (["--over", "b=0:1:2", "--analysis", "equilibrium"], "did you mean 'equilibria'"),
        (["--over", "b=0:1:2", "--option", "t_end=5"], "no setting 't_end'"),
        (["--over", "b=0:1:2", "--param", "q=1"], "no parameter 'q'"),
        (["--over", "b=0:1:2", "--executor", "threads"], "'serial', 'local'"),
        (["--over", "b=0:1:2", "--out", "x.txt"], ".parquet, .csv or .json"),
        (["--over", "b=0:1", "--sample", "sobol"], "--num-samples"),
        (["--over", "b=1:0", "--sample", "lhs", "--num-samples", "4"], "empty range"),
        (["--over", "b=0:1:5", "--sample", "lhs", "--num-samples", "4"], "--num-samples"),
        ([], "at least one --over"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(extra, needle, capsys):
    assert main(["sweep", "brusselator", "--executor", "serial", *extra]) == 2
    line = _error_line(capsys.readouterr().err)
    assert needle in line


def test_newton_analysis_with_integer_option(tmp_path, capsys):
    out = tmp_path / "n.csv"
    argv = ["sweep", "brusselator", "--analysis", "newton", "--option", "max_iter=30"]
    argv += ["--over", "b=0.5:3.5:4", "--over", "a=0.8:1.6:3", "--executor", "serial"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    frame = pd.read_csv(out)
    assert (frame["status"] == "ok").all()
    np.testing.assert_allclose(frame["eq_y"], frame["b"] / frame["a"], atol=1e-10)
    np.testing.assert_allclose(
        frame["max_real_part"],
        _leading_real_part(frame["a"].to_numpy(), frame["b"].to_numpy()),
        atol=1e-9,
    )
    capsys.readouterr()


def test_a_two_worker_pool_gives_the_serial_table(tmp_path, capsys):
    argv = ["sweep", "brusselator", "--analysis", "newton", "--over", "b=0.5:3.5:6"]
    argv += ["--over", "a=0.8:1.6:2", "--no-progress", "--chunk-size", "3"]
    assert main([*argv, "--executor", "serial", "--out", str(tmp_path / "s.parquet")]) == 0
    assert (
        main([*argv, "--executor", "local", "--workers", "2", "--out", str(tmp_path / "p.parquet")])
        == 0
    )
    assert "LocalPool" in capsys.readouterr().out
    s = pd.read_parquet(tmp_path / "s.parquet").drop(columns=["seconds"])
    p = pd.read_parquet(tmp_path / "p.parquet").drop(columns=["seconds"])
    pd.testing.assert_frame_equal(s, p)
