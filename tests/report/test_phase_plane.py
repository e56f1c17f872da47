"""Phase-plane figure: nullclines where the field's components vanish, equilibria by stability."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import stabkit  # noqa: E402
from stabkit.errors import InputError  # noqa: E402
from stabkit.report.phase_plane import plot_equilibria, plot_phase_plane  # noqa: E402


def test_brusselator_phase_plane_nullclines_and_unstable_focus():
    model = stabkit.library.brusselator()  # a = 1, b = 3: unstable focus at (1, 3)
    ax = plot_phase_plane(model, xlim=(0.1, 3.0), ylim=(0.1, 5.0), resolution=60)
    # the x-nullcline of the Brusselator is y = ((b + 1) x - a) / x^2: check a contour vertex
    xs_nullcline = ax.collections  # streamplot + 2 contour sets + markers
    assert len(xs_nullcline) >= 2
    lines = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(lines) == 1
    x0, y0 = lines[0].get_xdata()[0], lines[0].get_ydata()[0]
    assert (x0, y0) == pytest.approx((1.0, 3.0), abs=1e-9)
    assert lines[0].get_markerfacecolor() == "white"  # unstable: open marker
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "x-nullcline" in labels and "unstable" in labels


def test_x_nullcline_contour_lies_on_the_curve():
    model = stabkit.library.brusselator()
    ax = plot_phase_plane(model, xlim=(0.3, 3.0), ylim=(0.1, 6.0), resolution=80, equilibria=False)
    contour = ax.collections[-2]  # x-nullcline (first of the two contour sets)
    paths = contour.get_paths()
    verts = np.concatenate([p.vertices for p in paths])
    a, b = 1.0, 3.0
    expected = ((b + 1) * verts[:, 0] - a) / verts[:, 0] ** 2
    inside = (expected > 0.2) & (expected < 5.9)
    assert np.max(np.abs(verts[inside, 1] - expected[inside])) < 0.05


def test_equilibria_result_plots_itself_with_stability():
    model = stabkit.library.brusselator().with_params(b=1.5)  # stable: b < 1 + a^2
    res = stabkit.find_equilibria(model)
    ax = res.plot()
    marker = next(ln for ln in ax.get_lines() if ln.get_marker() == "o")
    assert marker.get_markerfacecolor() != "white"  # filled: stable
    assert ax is not None and plot_equilibria(res, ax) is ax


def test_bad_input():
    model = stabkit.library.brusselator()
    with pytest.raises(InputError, match="not a variable"):
        plot_phase_plane(model, x="z")
    with pytest.raises(InputError, match="xlim"):
        plot_phase_plane(model, xlim=(1.0, 0.0))
    with pytest.raises(InputError, match="one variable"):
        plot_phase_plane(stabkit.library.logistic_map())
