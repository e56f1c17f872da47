"""Study gilman2024_leslie_predator_prey in quick mode, and its building blocks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.studies import run_study
from stabkit.studies.gilman2024_leslie_predator_prey import study


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_study("gilman2024_leslie_predator_prey", quick=True, out=out)


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_both_outcomes_of_last_species_standing_occur(result):
    table = result.tables["last_species_standing"]
    assert set(table.predicted) == {"both", "predator"}
    assert (table.predicted == table.simulated).all()


@settings(max_examples=30, deadline=None)
@given(
    fecundity=st.lists(st.floats(0.0, 3.0), min_size=3, max_size=3).filter(lambda f: f[-1] > 0.05),
    survival=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=2),
)
def test_euler_lotka_root_is_the_spectral_radius(fecundity, survival):
    # an independent check of the helper the study compares against
    matrix = study.leslie(fecundity, survival)
    rho = max(abs(np.linalg.eigvals(matrix)))
    assert study.euler_lotka_root(fecundity, survival) == pytest.approx(rho, rel=1e-9)


def test_power_iteration_and_block_matrix():
    matrix = study.block_matrix(
        {
            "prey_fecundity": [0.0, 1.6, 1.0],
            "prey_survival": [0.7, 0.5],
            "predator_fecundity": [0.0, 0.6, 0.4],
            "predator_survival": [0.5, 0.3],
            "predation": 0.05,
            "conversion": 0.05,
        }
    )
    assert matrix.shape == (6, 6) and matrix[0, 3] == -0.05 and matrix[3, 0] == 0.05
    rho = max(abs(np.linalg.eigvals(matrix)))
    assert study.power_iteration(matrix, 2000) == pytest.approx(rho, abs=1e-12)


def test_the_output_folder_has_the_page_figures_and_tables(result):
    page = result.report.read_text()
    assert "gilman2024_leslie_predator_prey" in page and "passed" in page
    assert result.figures and all(p.read_bytes()[:4] == b"\x89PNG" for p in result.figures)
    for table in result.tables:
        assert (result.out / f"{table}.csv").is_file()
    assert (result.out / "results.csv").is_file() and (result.out / "result.json").is_file()


def test_the_study_command_runs_it(tmp_path, capsys):
    from stabkit.cli import main

    argv = ["study", "gilman2024-leslie-predator-prey", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "passed" in out and "growth_factor_power_iteration_error" in out
    assert (tmp_path / "index.html").is_file() and (tmp_path / "totals.png").is_file()
