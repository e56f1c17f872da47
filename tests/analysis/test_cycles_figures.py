"""Figures of cycles and branches of cycles draw what they say."""

from __future__ import annotations

import types

import numpy as np
import pytest

from stabkit.analysis._palc import PALC
from stabkit.analysis.cycles import continue_cycles, find_cycle
from stabkit.errors import InputError
from stabkit.model.model import Model

pytest.importorskip("matplotlib")

BACKEND = "numpy"


@pytest.fixture(scope="module")
def bautin_branch():
    r2 = "(x^2 + y^2)"
    model = Model.from_equations(
        {"x": f"b1*x - y + b2*x*{r2} - x*{r2}^2", "y": f"x + b1*y + b2*y*{r2} - y*{r2}^2"},
        parameters={"b1": 0.0, "b2": 1.0},
        name="bautin_fig",
    )
    hopf = types.SimpleNamespace(kind="H", state=np.zeros(2), params={"b1": 0.0, "b2": 1.0})
    return continue_cycles(
        model, "b1", hopf, to=0.0, backend=BACKEND, method=PALC(ds=0.05, ds_max=0.15)
    )


def test_branch_figure_has_stable_and_unstable_pieces_and_the_fold(bautin_branch) -> None:
    import matplotlib.pyplot as plt

    ax = bautin_branch.plot()
    styles = {line.get_linestyle() for line in ax.lines if len(line.get_xdata()) > 1}
    assert styles == {"-", "--"}
    assert any(t.get_text() == "LPC" for t in ax.texts)
    assert ax.get_xlabel() == "b1" and "amplitude" in ax.get_ylabel()
    from stabkit.report import plot_result

    ax2 = plot_result(bautin_branch, measure="period")
    assert ax2.get_ylabel() == "period"
    with pytest.raises(InputError, match="measure"):
        bautin_branch.plot(measure="mean")
    plt.close("all")


def test_cycle_figures(bautin_branch) -> None:
    import matplotlib.pyplot as plt

    from stabkit.report.cycles_figures import plot_multipliers

    cycle = bautin_branch[-1]
    ax = cycle.plot(show_mesh=True)
    x, y = ax.lines[0].get_data()
    assert np.allclose(np.hypot(x, y), np.sqrt(np.mean(np.sum(cycle.states**2, axis=1))))
    ax = cycle.plot(variables="y")
    assert ax.get_xlabel() == "t"
    ax = plot_multipliers(cycle)
    assert len(ax.lines) == 1 + cycle.floquet_multipliers.size
    with pytest.raises(InputError, match="did you mean"):
        cycle.plot(variables=("x", "yy"))
    plt.close("all")
    failed = find_cycle(
        Model.from_equations({"x": "-x"}, name="decay"),
        start=(np.arange(5.0), np.zeros((5, 1))),
        backend=BACKEND,
    )
    with pytest.raises(InputError, match="no cycle"):
        failed.plot()
