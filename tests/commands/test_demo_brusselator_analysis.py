"""The demo section 'brusselator-analysis': Hopf point against the closed form 1 + a^2."""

from __future__ import annotations

import re

import pytest

from stabkit.report import demo


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    report = demo.run_demo(folder, quick=True, only=["brusselator-analysis"], raise_errors=True)
    (only,) = report.sections
    return folder, only


def test_the_section_is_discovered_after_the_brusselator_simulation():
    keys = [s.key for s in demo.demo_sections()]
    assert keys.index("brusselator") + 1 == keys.index("brusselator-analysis")


def test_hopf_point_frequency_and_criticality_match_the_closed_form(section):
    _, report = section
    facts = dict(report.facts)
    assert report.status == "ok", facts
    b_h = float(facts["Hopf point b_H"].split()[0])
    assert b_h == pytest.approx(2.0, abs=1e-9)  # 1 + a^2 at a = 1
    omega = float(facts["frequency omega at H"].split()[0])
    assert omega == pytest.approx(1.0, abs=1e-9)  # omega = a (determinant a^2)
    assert float(facts["first Lyapunov coefficient l1"]) < 0
    assert facts["criticality"] == "supercritical"
    assert facts["equilibrium at b = 3"] == "(1, 3): unstable focus"


def test_cycles_start_with_period_2pi_over_omega_and_are_stable(section):
    _, report = section
    facts = dict(report.facts)
    if "cycle branch" not in facts:
        pytest.skip("continue_cycles is not available")
    onset = float(facts["period near onset / at the end"].split()[0])
    assert onset == pytest.approx(2 * 3.141592653589793, rel=0.02)
    stable, total = map(int, re.match(r"(\d+) of (\d+)", facts["cycles stable"]).groups())
    assert total >= 3 and stable == total  # supercritical: the cycles born are stable


def test_figures_are_written(section):
    folder, report = section
    names = {f.path.name for f in report.figures}
    assert names == {
        "brusselator_bifurcation_diagram.png",
        "brusselator_eigenvalues.png",
        "brusselator_phase_plane.png",
    }
    for name in names:
        assert (folder / name).read_bytes()[:4] == b"\x89PNG"
