"""The ``stabkit lyapunov`` command, the demo section and the figures of Lyapunov results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stabkit.analysis.lyapunov import QR, lyapunov_from_series, lyapunov_spectrum
from stabkit.cli import main
from stabkit.errors import InputError
from stabkit.model import library

MODEL_FILE = """
[model]
name = "decay_pair"
kind = "ode"
[parameters]
a = 0.5
[variables]
x = 1.0
y = 1.0
[equations]
x = "-a*x"
y = "-3*y + x"
"""


def test_cli_prints_exponents_sum_rule_and_dimension(tmp_path: Path, capsys) -> None:
    path = tmp_path / "decay.toml"
    path.write_text(MODEL_FILE)
    code = main(["lyapunov", str(path), "--param", "a=0.25", "--t-max", "200", "--tol", "1e-3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "-0.25" in out and "-3" in out  # the exponents of a triangular linear system
    assert "sum rule" in out and "Kaplan-Yorke dimension: 0.0000" in out
    assert "flow direction" not in out and "settles to an equilibrium" in out


def test_cli_library_model_and_map(capsys) -> None:
    code = main(["lyapunov", "henon_map", "--t-max", "100000", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0 and "per iteration" in out and "<log|det J|>" in out


def test_cli_reports_divergence_with_status_1(tmp_path: Path, capsys) -> None:
    path = tmp_path / "decay.toml"
    path.write_text(MODEL_FILE)
    code = main(["lyapunov", str(path), "--param", "a=-5"])  # x' = 5 x
    out = capsys.readouterr().out
    assert code == 1 and "diverged" in out


def test_cli_bad_input_exits_2(capsys) -> None:
    assert main(["lyapunov", "lorenz", "--param", "rhoo=3"]) == 2
    assert "did you mean 'rho'" in capsys.readouterr().err
    assert main(["lyapunov", "lorenz", "--tol", "-1"]) == 2


def test_convergence_figure() -> None:
    pytest.importorskip("matplotlib")
    from stabkit.report.lyapunov_figures import plot_lyapunov_convergence

    r = lyapunov_spectrum(library.get("lorenz"), seed=0, method=QR(t_max=200, tol=None))
    ax = r.plot()
    assert len(ax.get_lines()) >= 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("λ1 = ")
    with pytest.raises(InputError, match="LyapunovResult"):
        plot_lyapunov_convergence("not a result")  # type: ignore[arg-type]


def test_divergence_figure() -> None:
    pytest.importorskip("matplotlib")
    t = np.arange(3000) * 0.05
    x = np.sin(t) + 0.5 * np.sin(np.sqrt(2.0) * t)
    r = lyapunov_from_series(x, dt=0.05, embedding_dimension=3, delay=8)
    ax = r.plot()
    assert ax.get_title() == "Rosenstein divergence curve"


def test_demo_section(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from stabkit.report.demo import DemoContext
    from stabkit.report.demos import lorenz_lyapunov

    assert lorenz_lyapunov.ORDER == 50
    section = lorenz_lyapunov.SECTION.run(DemoContext(tmp_path, quick=True))
    assert section.status == "ok" and len(section.figures) == 1
    assert (tmp_path / "lorenz_lyapunov_convergence.png").exists()
    facts = dict(section.facts)
    assert "sum rule" in facts and "Kaplan-Yorke dimension" in facts
