"""``stabkit report``: pages of a model, a saved sweep, a store and a table; the heat map;
a real headless browser renders the page to a non-blank screenshot."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from stabkit.cli import main
from stabkit.errors import InputError
from stabkit.report.sweep_figures import grid_names, plot_sweep_table


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_model_report_has_equations_equilibria_and_an_embedded_portrait(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "brusselator", "--out", str(out), "--t-end", "30"]) == 0
    html = (out / "index.html").read_text()
    assert "dx/dt" in html and "dy/dt" in html and "x^2" in html
    # the equilibrium (a, b/a) = (1, 3) at b = 3 > 1 + a^2: an unstable focus
    assert "x=1, y=3" in html and "unstable focus" in html
    images = _images(html)
    assert len(images) == 1 and images[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().out


def test_sweep_json_report_has_provenance_table_and_heat_map(tmp_path, capsys):
    res = tmp_path / "sweep.json"
    argv = ["sweep", "brusselator", "--over", "b=1:3:3", "--over", "a=0.8:1.2:2"]
    assert main([*argv, "--executor", "serial", "--out", str(res), "--no-progress"]) == 0
    out = tmp_path / "rep"
    assert main(["report", str(res), "--out", str(out)]) == 0
    html = (out / "index.html").read_text()
    assert "SweepResult" in html and "model_hash" in html and "point status" in html
    assert "max_real_part" in html and "row 5" in html
    assert len(_images(html)) == 1
    capsys.readouterr()


def test_store_and_csv_reports(tmp_path, capsys):
    store = tmp_path / "store"
    argv = ["sweep", "brusselator", "--over", "b=1:3:3", "--executor", "serial"]
    assert main([*argv, "--store", str(store), "--no-progress"]) == 0
    assert main(["report", str(store), "--out", str(tmp_path / "r1")]) == 0
    html = (tmp_path / "r1" / "index.html").read_text()
    assert "sweep store" in html and "points_hash" in html
    frame = pd.DataFrame(
        {"a": np.repeat([1.0, 2.0], 3), "b": np.tile([0.0, 1.0, 2.0], 2), "v": np.arange(6.0)}
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert main(["report", str(tmp_path / "t.csv"), "--out", str(tmp_path / "r2")]) == 0
    assert len(_images((tmp_path / "r2" / "index.html").read_text())) == 1
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.json"], "no such file"),
        (["{dir}"], "no store"),
        (["{bad}"], "not a JSON result"),
        (["{list}"], "is an object"),
        (["{list}", "--param", "a=1"], "--param goes with a model"),
        (["brusselatr"], "did you mean"),
    ],
)
def test_bad_input(args, needle, tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "d").mkdir()
    fill = {"{dir}": str(tmp_path / "d"), "{bad}": str(tmp_path / "bad.json")}
    fill["{list}"] = str(tmp_path / "list.json")
    argv = [fill.get(a, a) for a in args]
    assert main(["report", *argv, "--out", str(tmp_path / "o")]) == 2
    assert needle in _error_line(capsys.readouterr().err)


def test_heat_map_draws_the_zero_level_and_refuses_unknown_outcomes():
    import matplotlib

    matplotlib.use("Agg")
    a, b = np.meshgrid(np.linspace(0.5, 2, 12), np.linspace(0, 4, 10), indexing="ij")
    frame = pd.DataFrame({"a": a.ravel(), "b": b.ravel()})
    frame["max_real_part"] = (frame["b"] - 1 - frame["a"] ** 2) / 2
    assert grid_names(frame) == ("a", "b")
    ax = plot_sweep_table(frame, ("a", "b"))
    assert "zero level" in ax.get_title() and len(ax.collections) >= 2  # mesh + contour
    with pytest.raises(InputError, match="did you mean 'max_real_part'"):
        plot_sweep_table(frame, ("a", "b"), outcome="max_real_prt")
    import matplotlib.pyplot as plt

    plt.close("all")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path, capsys):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    out = tmp_path / "rep"
    assert main(["report", "brusselator", "--out", str(out), "--t-end", "20"]) == 0
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    cmd += [f"--screenshot={shot}", "--window-size=1100,1600", (out / "index.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "Chromium wrote no screenshot"
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    non_white = np.mean(np.any(pixels < 0.9, axis=-1))
    assert non_white > 0.02  # text, tables and the embedded figure are drawn
    assert pixels.std() > 0.05
    capsys.readouterr()


def test_docstring_examples():
    import doctest

    import stabkit.report.sweep_figures as mod

    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0
