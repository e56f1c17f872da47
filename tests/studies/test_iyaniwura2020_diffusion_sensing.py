"""Study iyaniwura2020_diffusion_sensing in quick mode: every check passes."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.studies import run_study


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_study("iyaniwura2020_diffusion_sensing", quick=True, out=out)


def test_quick_mode_passes(result):
    assert result.status == "ok", result.error_detail
    assert result.passed, [(r.key, r.measured, r.text) for r in result.failures]


def test_the_numbers_reproduced(result):
    rows = result.to_frame().set_index("key")
    assert rows.loc["cell_steady_v", "measured"] == pytest.approx(2 / 4.9, abs=1e-12)
    assert rows.loc["cell_hopf_alpha_at_mu2", "measured"] == pytest.approx(
        (np.sqrt(5.8) - 1) / 0.3 - 4, abs=1e-9
    )
    # the well-mixed design has an oscillation window in d2 (two Hopf points)
    assert rows.loc["wm_hopf_d2_1", "measured"] < rows.loc["wm_hopf_d2_2", "measured"]
    onset = result.tables["hopf_onset_vs_cells"]
    assert list(onset.num_cells) == sorted(onset.num_cells)
    assert np.all(np.isfinite(onset.first_hopf_d2))


def test_the_output_folder_has_the_page_figures_and_tables(result):
    page = result.report.read_text()
    assert "iyaniwura2020_diffusion_sensing" in page and "passed" in page
    assert result.figures and all(p.read_bytes()[:4] == b"\x89PNG" for p in result.figures)
    for table in result.tables:
        assert (result.out / f"{table}.csv").is_file()
    assert (result.out / "results.csv").is_file() and (result.out / "result.json").is_file()
