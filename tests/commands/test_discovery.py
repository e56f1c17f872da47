"""Command and demo-section discovery: every module is found, a broken one breaks nothing."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import stabkit.commands
import stabkit.report.demos
from stabkit.cli import discover_commands, main
from stabkit.commands._common import load_model_spec, parse_params, parse_state
from stabkit.errors import InputError
from stabkit.report import demo

GOOD = """
NAME = "hello"
HELP = "say hello"

def add_arguments(parser):
    parser.add_argument("--who", default="world")

def run(args, console):
    console.print(f"hello {args.who}")
    return 0
"""


@pytest.fixture
def extra_commands(tmp_path, monkeypatch):
    """Add modules to stabkit.commands from files in a temporary folder."""
    folder = tmp_path / "cmds"
    folder.mkdir()
    monkeypatch.setattr(stabkit.commands, "__path__", [*stabkit.commands.__path__, str(folder)])
    added: list[str] = []

    def add(name: str, source: str) -> None:
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        added.append(f"stabkit.commands.{name}")

    yield add
    for name in added:
        sys.modules.pop(name, None)


def test_the_built_in_commands_are_discovered():
    names = [c.name for c in discover_commands()]
    for name in ("demo", "info", "models", "simulate", "study", "analyze", "continue"):
        assert name in names, name
    assert names == sorted(names)
    assert all(c.ok for c in discover_commands()), [c.error for c in discover_commands()]


def test_a_new_module_becomes_a_command(extra_commands, capsys):
    extra_commands("hello", GOOD)
    assert main(["hello", "--who", "stabkit"]) == 0
    assert "hello stabkit" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert "say hello" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("import no_such_package_xyz\n", "No module named 'no_such_package_xyz'"),
        ("NAME = 'broken'\nHELP = 'x'\ndef add_arguments(p): pass\n", "run(args, console)"),
        (GOOD.replace('NAME = "hello"', "NAME = 3"), "NAME (a non-empty string)"),
        (GOOD.replace('parser.add_argument("--who"', 'parser.add_argument("who", "who"'), "who"),
    ],
)
def test_a_broken_module_breaks_only_itself(extra_commands, capsys, source, why):
    extra_commands("broken", source)
    # the other commands still work
    assert main(["models"]) == 0
    assert "brusselator" in capsys.readouterr().out
    # invoking it reports why, in one line, exit 2
    assert main(["broken", "--anything"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: command 'broken' is unavailable")
    assert why in err
    # --debug shows the traceback of the failure
    assert main(["broken", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "stabkit.commands.broken" in err
    # and --debug on any command warns about it
    assert main(["models", "--debug"]) == 0
    assert "stabkit.commands.broken is unavailable" in capsys.readouterr().err


def test_a_duplicate_name_does_not_shadow_the_original(extra_commands, capsys):
    extra_commands("info2", GOOD.replace('NAME = "hello"', 'NAME = "info"'))
    assert main(["info", "brusselator"]) == 0
    assert "dx/dt" in capsys.readouterr().out
    assert main(["models", "--debug"]) == 0
    assert "already used by stabkit.commands.info" in capsys.readouterr().err


def test_an_unexpected_exception_is_one_line_exit_1_and_raises_with_debug(extra_commands, capsys):
    extra_commands("boom", GOOD.replace("return 0", "raise RuntimeError('kaput')"))
    assert main(["hello"]) == 1
    err = capsys.readouterr().err.strip()
    assert "RuntimeError: kaput" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="kaput"):
        main(["hello", "--debug"])


def test_unknown_command_suggests_a_discovered_one(capsys):
    assert main(["stud"]) == 2
    assert "did you mean 'study'" in capsys.readouterr().err


# --------------------------------------------------------------------------- _common helpers
def test_parse_params_and_state():
    assert parse_params(["a=1.5", "b=-2e-3,c=4"]) == {"a": 1.5, "b": -0.002, "c": 4.0}
    with pytest.raises(InputError, match="expected NAME=VALUE"):
        parse_params(["a"])
    with pytest.raises(InputError, match="is not a number"):
        parse_params(["a=x"])
    assert parse_state("x=1,y=2", ["x", "y"]) == {"x": 1.0, "y": 2.0}
    with pytest.raises(InputError, match="did you mean 'x'"):
        parse_state(["xx=1"], ["x", "y"], option="--start")


def test_load_model_spec(tmp_path):
    assert load_model_spec("brusselator").name == "brusselator"
    examples = Path(__file__).resolve().parents[2] / "examples"
    assert load_model_spec(str(examples / "lorenz.toml")).name == "lorenz"
    with pytest.raises(InputError, match="not found"):
        load_model_spec(str(tmp_path / "none.toml"))
    with pytest.raises(InputError, match="did you mean 'lorenz'"):
        load_model_spec("lorentz")


# --------------------------------------------------------------------------- demo sections
@pytest.fixture
def extra_demos(tmp_path, monkeypatch):
    folder = tmp_path / "demos"
    folder.mkdir()
    monkeypatch.setattr(
        stabkit.report.demos, "__path__", [*stabkit.report.demos.__path__, str(folder)]
    )
    added: list[str] = []

    def add(name: str, source: str) -> None:
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        added.append(f"stabkit.report.demos.{name}")

    yield add
    for name in added:
        sys.modules.pop(name, None)


SECTION = """
from stabkit.report.demo import DemoSection
from stabkit.report.html import ReportSection

ORDER = {order}

def _run(ctx):
    return ReportSection(title="{key} title", summary="ran {key}", text="quick=" + str(ctx.quick))

SECTION = DemoSection("{key}", "{key} title", _run)
"""


def test_demo_sections_are_discovered_and_sorted_by_order(extra_demos):
    extra_demos("zz_first", SECTION.format(order=5, key="first"))
    extra_demos("aa_middle", SECTION.format(order=25, key="middle"))
    extra_demos("mm_last", SECTION.format(order=99, key="last"))
    keys = [s.key for s in demo.demo_sections()]
    assert keys[0] == "first"
    assert keys.index("brusselator") < keys.index("lorenz") < keys.index("middle")
    assert keys.index("middle") < keys.index("robertson") < keys.index("blow-up")
    assert keys.index("blow-up") < keys.index("last")


def test_a_broken_demo_module_is_an_error_section_and_the_rest_run(extra_demos, tmp_path):
    extra_demos("broken_demo", "import no_such_package_xyz\n")
    extra_demos("fine", SECTION.format(order=50, key="fine"))
    sections = demo.demo_sections()
    assert [s.key for s in sections][-1] == "broken_demo"
    report = demo.run_demo(tmp_path / "out", quick=True, only=["fine", "broken_demo"])
    by_title = {s.title: s for s in report.sections}
    assert by_title["fine title"].status == "ok" and by_title["fine title"].text == "quick=True"
    failed = by_title["stabkit.report.demos.broken_demo (failed)"]
    assert failed.status == "error" and "no_such_package_xyz" in failed.text
    assert not report.ok


def test_a_demo_module_without_order_or_with_a_clashing_key(extra_demos):
    extra_demos("no_order", SECTION.format(order=1, key="x").replace("ORDER = 1", ""))
    extra_demos("clash", SECTION.format(order=15, key="lorenz"))
    sections = {s.key: s for s in demo.demo_sections()}
    with pytest.raises(RuntimeError, match="ORDER must be an int"):
        sections["no_order"].run(None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="already used by an earlier section"):
        sections["lorenz-2"].run(None)  # type: ignore[arg-type]
