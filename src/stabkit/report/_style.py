"""Shared look of stabkit figures: colours, matplotlib settings, figure creation.

matplotlib is imported on first use; on a Linux machine without a display the
non-interactive ``Agg`` backend is selected (unless ``MPLBACKEND`` says otherwise).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.errors import InputError
from stabkit.integrate.trajectory import MemberStatus

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "STATUS_COLORS", "STYLE", "new_axes", "new_figure", "save_figure", "style"]

#: Colour-blind-safe line colours (Okabe & Ito), used for variables in turn.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)

#: One colour per :class:`MemberStatus`; successful members share the first palette colour.
STATUS_COLORS: dict[MemberStatus, str] = {
    MemberStatus.OK: "#0072B2",
    MemberStatus.TERMINATED: "#009E73",
    MemberStatus.DIVERGED: "#C0392B",
    MemberStatus.NON_FINITE: "#E69F00",
    MemberStatus.MAX_STEPS: "#8E44AD",
    MemberStatus.STEP_TOO_SMALL: "#D35400",
    MemberStatus.SOLVER_FAILURE: "#7B241C",
    MemberStatus.NOT_RUN: "#7F8C8D",
}

#: matplotlib settings applied while stabkit draws.
STYLE: dict[str, Any] = {
    "figure.figsize": (7.0, 4.3),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11.5,
    "axes.labelsize": 10.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": None,  # filled in by style()
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
}


# --------------------------------------------------------------------------- plumbing
def _matplotlib() -> Any:
    """Import matplotlib, choosing ``Agg`` on a Linux machine without a display."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            "figures need matplotlib; install it with: pip install 'stabkit[report]'"
        ) from None
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return matplotlib


@contextmanager
def style() -> Iterator[None]:
    """Apply :data:`STYLE` (and the :data:`PALETTE` colour cycle) inside a ``with`` block."""
    mpl = _matplotlib()
    from cycler import cycler

    rc = dict(STYLE)
    rc["axes.prop_cycle"] = cycler(color=list(PALETTE))
    with mpl.rc_context(rc):
        yield


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] | None = None,
    projection: str | None = None,
) -> tuple[Figure, list[Axes]]:
    """A figure with stabkit's style that is not registered with pyplot.

    Such figures are freed when dropped (nothing accumulates in pyplot's state), which
    suits scripts and reports that draw many of them. Returns the figure and its axes
    as a flat list (row by row).
    """
    _matplotlib()
    from matplotlib.figure import Figure

    with style():
        fig = Figure(figsize=figsize, layout="constrained")
        axes = [
            fig.add_subplot(nrows, ncols, i + 1, projection=projection)
            for i in range(nrows * ncols)
        ]
    return fig, axes


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int | None = None) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, usually ``.png``); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with style():
        fig.savefig(target, dpi=dpi or STYLE["savefig.dpi"], facecolor="white")
    return target


def new_axes(ax: Axes | None, *, projection: str | None = None) -> Axes:
    if ax is not None:
        if projection == "3d" and getattr(ax, "name", "") != "3d":
            raise InputError(
                "a 3D phase portrait (z given) needs 3D axes; pass "
                "ax=fig.add_subplot(projection='3d') or leave ax=None"
            )
        return ax
    _matplotlib()
    import matplotlib.pyplot as plt

    fig = plt.figure(layout="constrained")
    return fig.add_subplot(projection=projection)
