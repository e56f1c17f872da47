"""Phase-plane figures: vector field, nullclines, and equilibria drawn by their stability.

:func:`plot_phase_plane` draws, for two variables of a model (the others held at the
model's default state), the direction field (a stream plot of the normalised vector field),
the nullclines ``f_x = 0`` and ``f_y = 0`` (zero contours on a grid), the equilibria found in
the window with filled markers for stable and open markers for unstable ones, and optional
trajectories. :func:`plot_equilibria` draws an equilibria result alone (it is what
``result.plot()`` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stabkit.analysis.equilibria import EquilibriaResult
    from stabkit.model.model import Model

__all__ = ["plot_equilibria", "plot_phase_plane"]

_KIND_COLOURS = {"stable": "#1b7837", "unstable": "#b2182b", "non-hyperbolic": "#7b3294"}


def _index(names: Sequence[str], name: str, what: str) -> int:
    if name not in names:
        raise InputError(
            f"{what}={name!r}: not a variable{suggest(name, list(names))}; variables: {list(names)}"
        )
    return list(names).index(name)


def _marker(eq: Any) -> tuple[str, str]:
    st = eq.stability
    if st.is_stable:
        return "stable", _KIND_COLOURS["stable"]
    if not st.is_hyperbolic:
        return "non-hyperbolic", _KIND_COLOURS["non-hyperbolic"]
    return "unstable", _KIND_COLOURS["unstable"]


def plot_equilibria(
    result: EquilibriaResult,
    ax: Axes | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    annotate: bool = True,
    **kwargs: Any,
) -> Axes:
    """Equilibria in the ``(x, y)`` plane: filled if stable, open if not, labelled by type."""
    import matplotlib.pyplot as plt

    names = list(result.variables)
    if not names:
        raise InputError("plot_equilibria: the result has no variables")
    ix = _index(names, x or names[0], "x")
    iy = _index(names, y or names[min(1, len(names) - 1)], "y")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    seen: set[str] = set()
    for eq in result.equilibria:
        label, colour = _marker(eq)
        filled = label == "stable"
        ax.plot(
            eq.state[ix],
            eq.state[iy] if len(names) > 1 else 0.0,
            "o",
            ms=9,
            mfc=colour if filled else "white",
            mec=colour,
            mew=2,
            label=None if label in seen else label,
            zorder=5,
            **kwargs,
        )
        seen.add(label)
        if annotate:
            ax.annotate(
                str(getattr(eq.stability.classification, "value", eq.stability.classification))
                .replace("_", " ")
                .lower(),
                (eq.state[ix], eq.state[iy] if len(names) > 1 else 0.0),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=7,
            )
    ax.set_xlabel(names[ix])
    ax.set_ylabel(names[iy] if len(names) > 1 else "")
    if seen:
        ax.legend(fontsize=8, loc="best")
    ax.set_title(f"Equilibria ({result.guarantee})", fontsize=9)
    return ax


def _field(
    model: Model, p: np.ndarray, base: np.ndarray, ix: int, iy: int, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    compiled = model.compile()
    u = np.empty((ys.size, xs.size))
    v = np.empty_like(u)
    y = base.copy()
    out = np.empty_like(base)
    for j, yv in enumerate(ys):
        for i, xv in enumerate(xs):
            y[ix] = xv
            y[iy] = yv
            compiled.rhs(0.0, y, p, out)
            u[j, i] = out[ix]
            v[j, i] = out[iy]
    if model.kind.value == "map":  # the displacement x_{n+1} - x_n
        xx, yy = np.meshgrid(xs, ys)
        u = u - xx
        v = v - yy
    return u, v


def plot_phase_plane(
    model: Model,
    params: Mapping[str, float] | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    resolution: int = 120,
    equilibria: bool | EquilibriaResult = True,
    trajectories: Sequence[Any] = (),
    ax: Axes | None = None,
) -> Axes:
    """Vector field, nullclines and equilibria of a model in a plane of two variables.

    Parameters
    ----------
    model
        An ODE (or a map: the displacement ``f(x) - x`` is drawn and the nullclines are
        those of the displacement, i.e. where one coordinate is fixed).
    params
        Parameter overrides.
    x, y
        The two variables (default: the first two); others stay at the default state.
    xlim, ylim
        Window (default: +-3 around the default state).
    resolution
        Grid points per axis for the nullclines.
    equilibria
        ``True``: find them in the window (``find_equilibria`` with these bounds);
        an :class:`EquilibriaResult` to draw; ``False``: none.
    trajectories
        :class:`~stabkit.integrate.trajectory.Trajectory` objects to draw on top.
    ax
        Axes to draw on.
    """
    import matplotlib.pyplot as plt

    names = list(model.variables)
    if len(names) < 2:
        raise InputError(f"plot_phase_plane: model {model.name!r} has one variable; need two")
    ix = _index(names, x or names[0], "x")
    iy = _index(names, y or names[1], "y")
    if ix == iy:
        raise InputError("plot_phase_plane: x and y must be different variables")
    base = model.state_vector()
    p = model.param_vector(params)
    xl = xlim or (base[ix] - 3.0, base[ix] + 3.0)
    yl = ylim or (base[iy] - 3.0, base[iy] + 3.0)
    for lim, name in ((xl, "xlim"), (yl, "ylim")):
        if not (np.all(np.isfinite(lim)) and lim[0] < lim[1]):
            raise InputError(f"plot_phase_plane({name}={lim!r}): need finite lo < hi")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 10:
        raise InputError(f"plot_phase_plane(resolution={resolution!r}): need an integer >= 10")
    xs = np.linspace(xl[0], xl[1], resolution)
    ys = np.linspace(yl[0], yl[1], resolution)
    u, v = _field(model, p, base, ix, iy, xs, ys)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    speed = np.hypot(u, v)
    finite = np.isfinite(speed)
    scale = np.where(finite & (speed > 0), speed, 1.0)
    ax.streamplot(
        xs,
        ys,
        np.where(finite, u / scale, 0),
        np.where(finite, v / scale, 0),
        color="0.65",
        density=1.1,
        linewidth=0.7,
        arrowsize=0.8,
    )
    ax.contour(xs, ys, u, levels=[0.0], colors=["#2166ac"], linewidths=1.6)
    ax.contour(xs, ys, v, levels=[0.0], colors=["#e08214"], linewidths=1.6)
    ax.plot([], [], color="#2166ac", label=f"{names[ix]}-nullcline")
    ax.plot([], [], color="#e08214", label=f"{names[iy]}-nullcline")
    for traj in trajectories:
        ax.plot(traj.y[:, ix], traj.y[:, iy], "k-", lw=1.0)
    result = None
    if equilibria is True:
        from stabkit.analysis.equilibria import find_equilibria

        bounds = {names[ix]: xl, names[iy]: yl}
        for k, name in enumerate(names):
            if k not in (ix, iy):
                bounds[name] = (base[k] - 1e3, base[k] + 1e3)
        result = find_equilibria(model, p, bounds=bounds)
    elif equilibria is not False:
        result = equilibria
    if result is not None and result.equilibria:
        plot_equilibria(result, ax, x=names[ix], y=names[iy])
    ax.set_xlim(*xl)
    ax.set_ylim(*yl)
    ax.set_xlabel(names[ix])
    ax.set_ylabel(names[iy])
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{model.name}: phase plane", fontsize=10)
    return ax


def _register() -> None:
    from stabkit.analysis.equilibria import EquilibriaResult
    from stabkit.report.figures import register_plotter

    register_plotter(EquilibriaResult, plot_equilibria)


_register()
