"""The studies framework: context, comparisons, errors, output folder, the command."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stabkit.cli import main
from stabkit.errors import InputError
from stabkit.studies import StudyResult, list_studies, run_study
from stabkit.studies._expected import load_expected

EXPECTED = {
    "_comment": "ignored",
    "sqrt2": {"value": 1.41421356, "tolerance": 1e-6, "relative": True, "source": "Pythagoras"},
    "pi_abs": {"value": 3.14, "tolerance": 0.01, "source": "Archimedes"},
    "e_range": {"range": [2.7, 2.8], "source": "Euler"},
    "mc_mean": {"value": 0.5, "tolerance": 0.0, "source": "symmetry"},
    "positive": {"claim": "squares are non-negative", "source": "folklore"},
}

STUDY = """
    \"\"\"A tiny fake study: square roots and friends.\"\"\"
    import math
    import numpy as np

    def run(ctx):
        ctx.record("n", ctx.config["n"])
        ctx.compare("sqrt2", math.sqrt(2))
        ctx.compare("pi_abs", math.pi)
        ctx.compare("e_range", math.e)
        rng = np.random.default_rng(0)
        x = rng.random(ctx.config["n"])
        ctx.compare("mc_mean", x.mean(), standard_error=x.std() / np.sqrt(x.size))
        squares = np.linspace(-3, 3, 11) ** 2
        ctx.check("positive", bool(np.all(squares >= 0)), "11 squares on [-3, 3]")
        import pandas as pd
        ctx.table("squares", pd.DataFrame({"x": np.linspace(-3, 3, 11), "x2": squares}))
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.plot(squares)
        ctx.figure("squares", fig, "a parabola")
"""

CONFIG = """
    n = 4000
    [nested]
    a = 1
    b = 2
    [quick]
    n = 400
    [quick.nested]
    b = 3
"""


def test_a_passing_study_runs_and_writes_its_folder(make_study, tmp_path):
    folder = make_study(STUDY, EXPECTED, CONFIG)
    out = tmp_path / "out"
    result = run_study(folder, quick=True, out=out)
    assert isinstance(result, StudyResult)
    assert result.status == "ok" and result.passed, result.to_frame()
    assert result.message == "5/5 checks passed"
    frame = result.to_frame()
    for column in ("key", "measured", "expected", "tolerance", "passed", "source", "kind"):
        assert column in frame.columns
    assert list(frame.key) == ["n", "sqrt2", "pi_abs", "e_range", "mc_mean", "positive"]
    assert frame.set_index("key").loc["n", "measured"] == 400  # quick override applied
    row = frame.set_index("key").loc["pi_abs"]
    assert row.lower == pytest.approx(3.13) and row.upper == pytest.approx(3.15)
    assert not row.relative
    sqrt_row = frame.set_index("key").loc["sqrt2"]
    assert sqrt_row.upper - sqrt_row.lower == pytest.approx(2e-6 * 1.41421356)
    assert frame.set_index("key").loc["mc_mean", "standard_error"] > 0
    # files
    assert (out / "squares.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_csv(out / "squares.csv").shape == (11, 2)
    assert pd.read_csv(out / "results.csv").shape[0] == 6
    page = (out / "index.html").read_text()
    assert "a parabola" in page and "Pythagoras" in page and "squares are non-negative" in page
    assert result.report == out / "index.html"
    saved = json.loads((out / "result.json").read_text())
    assert saved["passed"] is True and saved["tables"]["squares"]["x2"][0] == 9.0


def test_quick_overrides_merge_nested_tables(make_study):
    code = """
        def run(ctx):
            ctx.record("a", ctx.config["nested"]["a"])
            ctx.record("b", ctx.config["nested"]["b"])
            ctx.record("quick", float(ctx.quick))
            ctx.check("positive", "quick" not in ctx.config, "no [quick] table left")
    """
    folder = make_study(code, {"positive": EXPECTED["positive"]}, CONFIG)
    for quick, b in ((True, 3), (False, 2)):
        frame = run_study(folder, quick=quick).to_frame().set_index("key")
        assert frame.loc["a", "measured"] == 1 and frame.loc["b", "measured"] == b
        assert frame.loc["quick", "measured"] == float(quick)
        assert frame.loc["positive", "passed"]


def test_a_failing_comparison_fails_the_study(make_study):
    code = """
        def run(ctx):
            ctx.compare("pi_abs", 3.16)
            ctx.check("positive", False, "found a negative square")
    """
    expected = {k: EXPECTED[k] for k in ("pi_abs", "positive")}
    result = run_study(make_study(code, expected))
    assert result.status == "ok" and not result.passed
    assert [r.key for r in result.failures] == ["pi_abs", "positive"]
    assert result.message == "0/2 checks passed"


def test_a_study_that_raises_keeps_its_rows_and_reports_the_error(make_study):
    code = """
        import math
        def run(ctx):
            ctx.compare("sqrt2", math.sqrt(2))
            raise RuntimeError("solver exploded")
    """
    result = run_study(make_study(code, EXPECTED))
    assert result.status == "error" and not result.passed
    assert "RuntimeError: solver exploded" in result.message
    assert "Traceback" in result.error_detail
    frame = result.to_frame().set_index("key")
    assert frame.loc["sqrt2", "passed"]
    assert frame.loc["pi_abs", "kind"] == "missing" and not frame.loc["pi_abs", "passed"]
    assert "stopped before" in frame.loc["pi_abs", "text"]


def test_an_entry_the_study_never_reaches_fails_unless_full_only_in_quick_mode(make_study):
    expected = {
        "sqrt2": EXPECTED["sqrt2"],
        "later": {"value": 1.0, "tolerance": 0.1, "source": "x", "full_only": True},
        "forgotten": {"value": 2.0, "tolerance": 0.1, "source": "y"},
    }
    code = "import math\ndef run(ctx):\n    ctx.compare('sqrt2', math.sqrt(2))\n"
    result = run_study(make_study(code, expected), quick=True)
    frame = result.to_frame().set_index("key")
    assert frame.loc["later", "kind"] == "skipped" and pd.isna(frame.loc["later", "passed"])
    assert frame.loc["forgotten", "kind"] == "missing"
    assert not result.passed
    del expected["forgotten"]
    assert run_study(make_study(code, expected), quick=True).passed
    assert not run_study(make_study(code, expected), quick=False).passed  # full: "later" is due


def test_a_study_that_makes_no_check_does_not_pass(make_study):
    result = run_study(make_study("def run(ctx):\n    ctx.record('x', 1.0)\n", {}))
    assert result.status == "ok" and not result.passed


@pytest.mark.parametrize(
    ("code", "pattern"),
    [
        ("def run(ctx):\n    ctx.compare('sqrt', 1.4)\n", r"no entry 'sqrt'.*did you mean 'sqrt2'"),
        ("def run(ctx):\n    ctx.compare('positive', 1.0)\n", r"holds a claim.*use ctx.check"),
        ("def run(ctx):\n    ctx.check('sqrt2', True, 'x')\n", r"holds a value.*use ctx.compare"),
        ("def run(ctx):\n    ctx.compare('sqrt2', 'abc')\n", r"expected a number, got 'abc'"),
        ("def run(ctx):\n    ctx.check('positive', 1, 'x')\n", r"must be True or False"),
        (
            "def run(ctx):\n    ctx.compare('pi_abs', 3.14)\n    ctx.compare('pi_abs', 3.14)\n",
            r"already reported",
        ),
    ],
)
def test_mistakes_in_a_study_are_reported_clearly(make_study, code, pattern):
    result = run_study(make_study(code, EXPECTED))
    assert result.status == "error" and not result.passed
    assert "InputError" in result.message
    import re

    assert re.search(pattern, result.message), result.message


@pytest.mark.parametrize(
    ("expected", "pattern"),
    [
        (
            '{"a": {"value": 1.0, "tolerance": 0.1, "source": "x"',
            r"expected\.json:1:\d+: malformed",
        ),
        ("[1, 2]", r"one JSON object"),
        ({"a": {"value": 1.0, "source": "x"}}, r"'tolerance' is missing"),
        ({"a": {"value": 1.0, "tolerance": 0.1}}, r"'source'.*missing"),
        ({"a": {"value": 1.0, "tolerance": 0.1, "source": "x", "tol": 1}}, r"unknown field 'tol'"),
        ({"a": {"value": "1", "tolerance": 0.1, "source": "x"}}, r"'value' must be a number"),
        ({"a": {"value": 1, "tolerance": -1, "source": "x"}}, r"must be >= 0"),
        ({"a": {"range": [2, 1], "source": "x"}}, r"lower > upper"),
        ({"a": {"range": [2], "source": "x"}}, r"\[lower, upper\]"),
        ({"a": {"value": 1, "claim": "c", "source": "x"}}, r"exactly one of"),
        ({"a": {"value": 1, "tolerance": 1, "relative": "yes", "source": "x"}}, r"true or false"),
        ({"a": 3}, r"must be an object"),
    ],
)
def test_malformed_expected_json_is_an_input_error(make_study, expected, pattern):
    folder = make_study("def run(ctx):\n    pass\n", expected)
    with pytest.raises(InputError, match=pattern):
        run_study(folder)


def test_bad_config_and_bad_study_are_input_errors(make_study, tmp_path):
    with pytest.raises(InputError, match="malformed TOML"):
        run_study(make_study("def run(ctx): pass\n", {}, "n = \n"))
    with pytest.raises(InputError, match=r"\[quick\] overrides 'm'"):
        run_study(make_study("def run(ctx): pass\n", {}, "n = 1\n[quick]\nm = 2\n"))
    with pytest.raises(InputError, match=r"does not define run\(ctx\)"):
        run_study(make_study("x = 1\n", {}))
    with pytest.raises(InputError, match="not found"):
        run_study(tmp_path / "nowhere")
    with pytest.raises(InputError, match=r"no study\.py"):
        run_study(tmp_path)
    with pytest.raises(InputError, match=r"no study 'nope'"):
        run_study("nope")


def test_run_study_accepts_a_module(make_study):
    import importlib.util

    folder = make_study(STUDY, EXPECTED, CONFIG)
    spec = importlib.util.spec_from_file_location("fake_study_module", folder / "study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert run_study(module).passed


def test_unknown_study_name_suggests_a_real_one():
    names = list_studies()
    assert names == sorted(names)
    if not names:
        pytest.skip("no bundled studies yet")
    with pytest.raises(InputError, match=rf"did you mean '{names[0]}'"):
        run_study(names[0][:-1])


@given(
    value=st.floats(-1e6, 1e6, allow_nan=False),
    tolerance=st.floats(0, 10, allow_nan=False),
    relative=st.booleans(),
    offset=st.floats(-3, 3, allow_nan=False),
)
def test_the_accepted_interval_is_value_plus_minus_tolerance(
    tmp_path_factory, value, tolerance, relative, offset
):
    file = tmp_path_factory.mktemp("e") / "expected.json"
    entry = {"value": value, "tolerance": tolerance, "relative": relative, "source": "s"}
    file.write_text(json.dumps({"k": entry}))
    e = load_expected(file)["k"]
    width = tolerance * abs(value) if relative else tolerance
    measured = value + offset * width
    if width > 1e-6 * max(1.0, abs(value)) and abs(abs(offset) - 1) > 1e-6:
        assert e.accepts(measured) == (abs(offset) < 1)
    assert e.accepts(value)
    assert not e.accepts(math.nan)
    assert e.accepts(value + 2 * width + 1.0, standard_error=(width + 1.0) / 2.9) is True


# --------------------------------------------------------------------------- the command
def test_study_command_runs_a_folder_free_list_and_errors(
    capsys, monkeypatch, make_study, tmp_path
):
    assert main(["study", "list"]) == 0
    out = capsys.readouterr().out
    for name in list_studies():
        assert name in out
    assert main(["study", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no study 'nope'")


def test_study_command_exit_codes_and_output(capsys, monkeypatch, make_study, tmp_path):
    from stabkit.studies import _framework

    good = make_study(STUDY, EXPECTED, CONFIG)
    bad = make_study(
        "def run(ctx):\n    ctx.compare('pi_abs', 3.5)\n", {"pi_abs": EXPECTED["pi_abs"]}
    )
    folders = {"good_one": good, "bad_one": bad}
    real = _framework._resolve

    def resolve(study):
        return real(folders.get(study, study))

    monkeypatch.setattr(_framework, "list_studies", lambda: sorted(folders))
    monkeypatch.setattr(_framework, "_resolve", resolve)
    monkeypatch.setattr("stabkit.studies.list_studies", lambda: sorted(folders))
    assert main(["study", "good_one", "--out", str(tmp_path / "g")]) == 0
    out = capsys.readouterr().out
    assert "passed" in out and "sqrt2" in out and "index.html" in out
    assert main(["study", "bad_one"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "pi_abs" in out and "3.5" in out
    assert main(["study", "all", "--out", str(tmp_path / "all")]) == 1
    out = capsys.readouterr().out
    assert "1/2 studies passed; failed: fake_study_2" in out  # named by its folder
    assert (tmp_path / "all" / "index.html").is_file()
    assert (tmp_path / "all" / "good_one" / "index.html").is_file()
    assert np.isfinite(1.0)
