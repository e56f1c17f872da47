"""Figures and HTML reports, on hand-made trajectories and ensembles."""

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
import sys

import matplotlib.colors as mcolors
import numpy as np
import pytest

from stabkit.errors import InputError
from stabkit.integrate.trajectory import (
    Ensemble,
    MemberStatus,
    summarize_statuses,
)
from stabkit.report import (
    STATUS_COLORS,
    ReportFigure,
    ReportSection,
    new_figure,
    plot_ensemble_final_states,
    plot_phase_portrait,
    plot_result,
    plot_time_series,
    register_plotter,
    save_figure,
    write_html_report,
)
from stabkit.results import Provenance, Result, Stats


@pytest.fixture(autouse=True)
def _close_pyplot_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _ensemble(num_members: int = 12, failed=None) -> Ensemble:
    """Circles of different radii; ``failed`` maps member -> status (stopped halfway)."""
    failed = {} if failed is None else failed
    t = np.linspace(0.0, 6.0, 61)
    radius = 1.0 + 0.1 * np.arange(num_members)
    y = np.stack(
        [np.column_stack([r * np.cos(t), r * np.sin(t), r * t]) for r in radius]
    )  # (members, times, 3)
    codes = np.zeros(num_members, dtype=np.int8)
    t_final = np.full(num_members, t[-1])
    for member, status in failed.items():
        codes[member] = status
        y[member, 30:] = np.nan
        y[member, 29] *= 50.0  # shoots off before stopping
        t_final[member] = t[29]
    status, message = summarize_statuses(codes)
    return Ensemble(
        status=status,
        message=message,
        stats=Stats(),
        provenance=Provenance(analysis="solve_ensemble"),
        t=t,
        y=y,
        variables=("x", "y", "z"),
        member_status=codes,
        t_final=t_final,
        y0=y[:, 0].copy(),
        params=np.zeros((num_members, 0)),
        parameters=(),
        num_steps=np.full(num_members, 10),
        num_rejected=np.zeros(num_members, dtype=np.int64),
    )


def _axes(projection=None):
    _, (ax,) = new_figure(projection=projection)
    return ax


def _same_colour(a, b) -> bool:
    return np.allclose(mcolors.to_rgba(a)[:3], mcolors.to_rgba(b)[:3])


# --------------------------------------------------------------------------- time series
def test_time_series_of_a_trajectory_has_one_labelled_line_per_variable():
    traj = _ensemble().member(0)
    ax = plot_time_series(traj, ax=_axes())
    assert len(ax.lines) == 3
    assert [line.get_label() for line in ax.lines] == ["x", "y", "z"]
    assert np.allclose(ax.lines[1].get_ydata(), traj["y"])
    assert ax.get_xlabel() == "t"
    assert ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y", "z"]


def test_time_series_selects_variables_and_labels_the_axis():
    traj = _ensemble().member(2)
    ax = plot_time_series(traj, ["z"], ax=_axes(), title="only z")
    assert len(ax.lines) == 1
    assert ax.get_ylabel() == "z"
    assert ax.get_title() == "only z"
    with pytest.raises(InputError, match=r"no such variable.*did you mean 'z'"):
        plot_time_series(traj, ["zz"], ax=_axes())


def test_ensemble_time_series_draws_failed_members_dashed_in_their_status_colour():
    ens = _ensemble(12, failed={9: MemberStatus.DIVERGED, 11: MemberStatus.MAX_STEPS})
    ax = plot_time_series(ens, ["x"], ax=_axes(), max_members=6)
    assert len(ax.lines) == 6  # one variable x six drawn members
    styles = [line.get_linestyle() for line in ax.lines]
    assert styles.count("--") == 2  # both failed members are drawn although they come last
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert _same_colour(dashed[0].get_color(), STATUS_COLORS[MemberStatus.DIVERGED])
    assert _same_colour(dashed[1].get_color(), STATUS_COLORS[MemberStatus.MAX_STEPS])
    solid = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert all(not _same_colour(s.get_color(), STATUS_COLORS[MemberStatus.DIVERGED]) for s in solid)
    # an x marks where each failed member stopped
    assert len(ax.collections) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "x: diverged (1 of 12)" in legend and "x: max steps (1 of 12)" in legend


def test_ensemble_time_series_with_explicit_members_and_log_axes():
    ens = _ensemble(5)
    ax = plot_time_series(ens, ["x", "z"], ax=_axes(), members=[0, 4], logx=True)
    assert len(ax.lines) == 4
    assert ax.get_xscale() == "log"
    assert all(np.all(line.get_xdata() > 0) for line in ax.lines)
    with pytest.raises(InputError, match="out of range"):
        plot_time_series(ens, ax=_axes(), members=[7])


def test_single_failed_trajectory_keeps_variable_colours_but_is_dashed_and_marked():
    traj = _ensemble(3, failed={1: MemberStatus.NON_FINITE}).member(1)
    ax = plot_time_series(traj, ax=_axes())
    assert all(line.get_linestyle() == "--" for line in ax.lines)
    assert len({mcolors.to_hex(line.get_color()) for line in ax.lines}) == 3
    assert len(ax.collections) == 3  # where each variable stopped
    assert "non finite" in ax.get_title() or "non_finite" in ax.get_title()


# --------------------------------------------------------------------------- phase portraits
def test_phase_portrait_2d_draws_the_trajectory_with_start_and_end():
    traj = _ensemble().member(0)
    ax = plot_phase_portrait(traj, "x", "y", ax=_axes())
    assert len(ax.lines) == 1
    assert np.allclose(ax.lines[0].get_xdata(), traj["x"])
    assert np.allclose(ax.lines[0].get_ydata(), traj["y"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["trajectory", "start", "end"]


def test_phase_portrait_defaults_to_the_first_two_variables_and_new_figure():
    traj = _ensemble().member(0)
    ax = plot_phase_portrait(traj)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    ax = plot_phase_portrait(traj, x="z")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z", "x")


def test_phase_portrait_3d_when_z_is_given():
    traj = _ensemble().member(0)
    ax = plot_phase_portrait(traj, "x", "y", "z")
    assert ax.name == "3d"
    assert ax.get_zlabel() == "z"
    assert len(ax.lines) == 1
    ax = plot_phase_portrait(traj, "x", "y", "z", ax=_axes(projection="3d"))
    assert ax.name == "3d"
    with pytest.raises(InputError, match="3D axes"):
        plot_phase_portrait(traj, "x", "y", "z", ax=_axes())


def test_phase_portrait_of_an_ensemble_styles_failed_members():
    ens = _ensemble(8, failed={2: MemberStatus.DIVERGED})
    ax = plot_phase_portrait(ens, "x", "y", ax=_axes())
    assert len(ax.lines) == 8
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert _same_colour(dashed[0].get_color(), STATUS_COLORS[MemberStatus.DIVERGED])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["members (7)", "diverged (1 of 8)"]


# --------------------------------------------------------------------------- final states
def test_final_states_one_scatter_per_status_with_failed_members_marked_differently():
    ens = _ensemble(10, failed={3: MemberStatus.DIVERGED, 7: MemberStatus.DIVERGED})
    ax = plot_ensemble_final_states(ens, "x", "z", ax=_axes())
    ok, bad = ax.collections
    assert len(ok.get_offsets()) == 8 and len(bad.get_offsets()) == 2
    assert _same_colour(bad.get_facecolor()[0], STATUS_COLORS[MemberStatus.DIVERGED]) or (
        _same_colour(bad.get_edgecolor()[0], STATUS_COLORS[MemberStatus.DIVERGED])
    )
    assert not _same_colour(ok.get_facecolor()[0], STATUS_COLORS[MemberStatus.DIVERGED])
    assert ok.get_paths()[0] != bad.get_paths()[0]  # dots vs crosses
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "z")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "ok (8 of 10)"
    assert labels[1].startswith("diverged (2 of 10)")
    # the axes follow the successful members; the far-off failed ones sit on the edge
    x0, x1 = ax.get_xlim()
    assert x1 < 10
    assert "off-scale" in labels[1]
    assert np.all((bad.get_offsets()[:, 0] >= x0) & (bad.get_offsets()[:, 0] <= x1))


def test_final_states_with_initial_states_and_positions():
    ens = _ensemble(6)
    ax = plot_ensemble_final_states(ens, ax=_axes(), show_initial=True)
    initial, final = ax.collections
    assert np.allclose(initial.get_offsets(), ens.y0[:, :2])
    assert np.allclose(final.get_offsets(), ens.y_final[:, :2])
    assert ax.get_title().startswith("Final states of 6 members")


def test_final_states_of_a_one_variable_ensemble_plot_initial_against_final():
    ens = _ensemble(5)
    one = dataclasses.replace(ens, y=ens.y[:, :, :1], y0=ens.y0[:, :1], variables=("x",))
    ax = plot_ensemble_final_states(one, ax=_axes())
    (dots,) = ax.collections
    assert np.allclose(dots.get_offsets()[:, 0], one.y0[:, 0])
    assert np.allclose(dots.get_offsets()[:, 1], one.y_final[:, 0])
    assert "x at" in ax.get_xlabel()


def test_final_states_need_an_ensemble():
    with pytest.raises(InputError, match="expected a Ensemble"):
        plot_ensemble_final_states(_ensemble().member(0), ax=_axes())


# --------------------------------------------------------------------------- dispatch
def test_result_plot_dispatches_on_the_result_type():
    ens = _ensemble(4)
    ax = ens.member(0).plot()
    assert len(ax.lines) == 3
    ax = plot_result(ens, variables=["y"], max_members=2)
    assert len(ax.lines) == 2


def test_register_plotter_and_unknown_result_types():
    @dataclasses.dataclass(frozen=True)
    class Custom(Result):
        value: float = 1.0

    res = Custom(status="ok", message="", stats=Stats(), provenance=Provenance())
    with pytest.raises(InputError, match="no figure for Custom"):
        res.plot()

    def draw(result, ax=None, **kw):
        ax = ax if ax is not None else _axes()
        ax.axhline(result.value)
        return ax

    register_plotter(Custom, draw)
    assert len(res.plot().lines) == 1


def test_save_figure_writes_a_png(tmp_path):
    fig, (ax,) = new_figure()
    plot_time_series(_ensemble().member(0), ax=ax)
    path = save_figure(fig, tmp_path / "sub" / "fig.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_matplotlib_on_import_and_agg_without_display():
    code = (
        "import sys, stabkit.report, stabkit.report.figures\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'\n"
        "from stabkit.report import new_figure\n"
        "new_figure()\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend().lower())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env.pop("MPLBACKEND", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    if sys.platform.startswith("linux"):
        assert out.stdout.strip() == "agg"


# --------------------------------------------------------------------------- HTML
def test_html_report_is_self_contained_and_escapes_text(tmp_path):
    fig, (ax,) = new_figure()
    plot_time_series(_ensemble().member(0), ax=ax)
    png = save_figure(fig, tmp_path / "a.png")
    sections = [
        ReportSection(
            title="Good <b>section</b>",
            summary="solve(x & y)",
            text="First paragraph.\n\nSecond <script>alert(1)</script> paragraph.",
            facts=(("steps", "12 < 13"),),
            figures=(ReportFigure(png.relative_to(tmp_path), "caption & more"),),
            wall_time=1.5,
            compile_time=0.02,
        ),
        ReportSection(title="Broken", text="ValueError: boom <here>", status="error"),
    ]
    page = write_html_report(tmp_path, sections, title="T <1>", facts=(("mode", "quick"),))
    text = page.read_text()
    assert page.name == "index.html"
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "Good &lt;b&gt;section&lt;/b&gt;" in text and "T &lt;1&gt;" in text
    assert "solve(x &amp; y)" in text and "12 &lt; 13" in text
    assert "caption &amp; more" in text
    encoded = base64.b64encode(png.read_bytes()).decode()
    assert f"data:image/png;base64,{encoded}" in text
    assert 'href="a.png"' in text
    assert text.count("<p>") >= 2
    assert '<pre class="error">ValueError: boom &lt;here&gt;</pre>' in text
    assert "status-error" in text and "1.50 s" in text and "20 ms" in text
    from stabkit import __version__

    assert f"<td>{__version__}</td>" in text


def test_html_report_links_instead_of_embedding_and_checks_its_input(tmp_path):
    fig, _ = new_figure()
    png = save_figure(fig, tmp_path / "f.png")
    page = write_html_report(
        tmp_path, [ReportSection("s", figures=(ReportFigure(png),))], embed_figures=False
    )
    assert 'src="f.png"' in page.read_text() and "base64" not in page.read_text()
    with pytest.raises(InputError, match="no such file"):
        write_html_report(
            tmp_path, [ReportSection("s", figures=(ReportFigure(tmp_path / "x.png"),))]
        )
    with pytest.raises(InputError, match="unsupported image type"):
        write_html_report(
            tmp_path, [ReportSection("s", figures=(ReportFigure(tmp_path / "x.pdf"),))]
        )
    with pytest.raises(InputError, match="expected a ReportSection"):
        write_html_report(tmp_path, ["not a section"])  # type: ignore[list-item]
