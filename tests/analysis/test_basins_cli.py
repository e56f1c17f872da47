"""``stabkit basins``, the basin figure and the demo section."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stabkit.cli import main
from stabkit.commands.basins import parse_grid_item

_MODEL = """
[model]
name = "bistable"
kind = "ode"
[variables]
x = 0.5
[equations]
x = "x - x^3"
"""


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "bistable.toml"
    path.write_text(_MODEL)
    return path


def test_cli_table_and_files(model_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["basins", str(model_file), "--grid", "x=-2:2:40", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "fixed_point" in text and "0.5000" in text
    assert (out / "basins.png").stat().st_size > 1000
    data = json.loads((out / "basins.json").read_text())
    assert data["type"] == "BasinsResult"
    assert sum(data["fractions"].values()) == pytest.approx(1.0)
    assert len(data["labels"]) == 40


def test_cli_sampling_and_errors(model_file, capsys):
    code = main(["basins", str(model_file), "--grid", "x=-1:3:0", "--sample", "200"])
    text = capsys.readouterr().out
    assert code == 0 and "200 states" in text
    assert main(["basins", str(model_file), "--grid", "x=2:-2:40"]) == 2
    assert "empty range" in capsys.readouterr().err
    assert main(["basins", str(model_file), "--grid", "x=-2:2"]) == 2
    assert main(["basins", str(model_file), "--grid", "z=-2:2:10"]) == 2
    assert "not a variable" in capsys.readouterr().err


def test_parse_grid_item():
    assert parse_grid_item("y=-1.5:2e0:7") == ("y", (-1.5, 2.0, 7))
    from stabkit.errors import InputError

    with pytest.raises(InputError, match="NAME=LO:HI:NUM"):
        parse_grid_item("x:-1:2:3")


def test_plot_two_dimensional_grid_orientation():
    """The image is drawn with x across and y up, whatever the grid's order."""
    pytest.importorskip("matplotlib")
    from stabkit.analysis._attractors import Attractor
    from stabkit.analysis.basins import BasinsResult
    from stabkit.results import Provenance, Stats

    xs, ys = np.linspace(0, 1, 4), np.linspace(0, 1, 3)
    labels = np.where(xs[:, None] > 0.5, 2, 1) * np.ones((1, 3), dtype=int)
    res = BasinsResult(
        status="ok", message="", stats=Stats(), provenance=Provenance(),
        attractors=(
            Attractor(1, "fixed_point", np.array([[0.0, 0.5]])),
            Attractor(2, "fixed_point", np.array([[1.0, 0.5]])),
        ),
        labels=labels, initial_states=np.zeros((12, 2)), fractions={1: 0.5, 2: 0.5},
        standard_errors={1: 0.1, 2: 0.1}, variables=("x", "y"), grid_axes={"x": xs, "y": ys},
    )  # fmt: skip
    ax = res.plot()
    mesh = ax.collections[0]
    img = np.asarray(mesh.get_array()).reshape(3, 4)  # rows: y, columns: x
    assert np.all(img[:, :2] == img[0, 0]) and np.all(img[:, 2:] == img[0, 3])
    assert img[0, 0] != img[0, 3]
    ax2 = res.plot(variables=("y", "x"))
    img2 = np.asarray(ax2.collections[0].get_array()).reshape(4, 3)  # rows: x
    assert np.all(img2[:2] == img2[0, 0]) and img2[0, 0] != img2[3, 0]


def test_demo_section_quick(tmp_path):
    pytest.importorskip("matplotlib")
    from stabkit.report.demo import DemoContext
    from stabkit.report.demos.basins import ORDER, SECTION

    section = SECTION.run(DemoContext(tmp_path, quick=True))
    assert ORDER == 60
    assert section.status == "ok", section.text
    assert (tmp_path / "duffing_basins.png").exists()
