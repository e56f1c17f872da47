"""Figures for stabkit results (matplotlib, imported lazily).

Every function draws on the ``ax`` it is given, or on a new figure when ``ax`` is
``None``, and returns the axes. Per-member outcomes are always visible: members that
failed (diverged, hit ``max_steps``, ...) are drawn dashed in their status colour and
marked with an ``x`` where they stopped, and the legend counts them.

matplotlib is imported on first use; on a Linux machine without a display the
non-interactive ``Agg`` backend is selected (unless ``MPLBACKEND`` says otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.integrate.trajectory import Ensemble, MemberStatus, Trajectory
from stabkit.report._style import (
    PALETTE,
    STATUS_COLORS,
    STYLE,
    new_axes,
    new_figure,
    save_figure,
    style,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PALETTE",
    "STATUS_COLORS",
    "STYLE",
    "new_figure",
    "plot_ensemble_final_states",
    "plot_phase_portrait",
    "plot_result",
    "plot_time_series",
    "register_plotter",
    "save_figure",
]

_Plotter = Callable[..., Any]
_PLOTTERS: dict[type, _Plotter] = {}


def _variable_index(result: Trajectory | Ensemble, name: str, argument: str) -> int:
    try:
        return result.variables.index(name)
    except ValueError:
        hint = suggest(name, result.variables)
        raise InputError(
            f"{argument}={name!r}: no such variable; the result has "
            f"{', '.join(result.variables) or '(none)'}" + (f"; {hint}" if hint else "")
        ) from None


def _variables(result: Trajectory | Ensemble, variables: Sequence[str] | str | None) -> list[str]:
    if variables is None:
        return list(result.variables)
    names = [variables] if isinstance(variables, str) else list(variables)
    if not names:
        raise InputError("variables=[]: name at least one variable, or pass None for all")
    for name in names:
        _variable_index(result, name, "variables")
    return names


def _check_result(result: Any, function: str, *, ensemble_only: bool = False) -> None:
    allowed: tuple[type, ...] = (Ensemble,) if ensemble_only else (Trajectory, Ensemble)
    if not isinstance(result, allowed):
        wanted = " or ".join(t.__name__ for t in allowed)
        raise InputError(f"{function}: expected a {wanted}, got {type(result).__name__}")


def _choose_members(ens: Ensemble, members: Sequence[int] | None, max_members: int) -> list[int]:
    """Members to draw: those asked for, or the first failed ones plus the first ok ones."""
    if members is not None:
        chosen = [int(m) for m in members]
        for m in chosen:
            if not -ens.num_members <= m < ens.num_members:
                raise InputError(
                    f"members: index {m} out of range for an ensemble of {ens.num_members}"
                )
        return [m % ens.num_members for m in chosen]
    if max_members < 1:
        raise InputError(f"max_members={max_members}: must be >= 1")
    ok = np.flatnonzero(ens.ok_mask)
    failed = np.flatnonzero(~ens.ok_mask)
    num_failed = min(failed.size, max(1, max_members // 3)) if failed.size else 0
    picked = [*failed[:num_failed].tolist(), *ok[: max_members - num_failed].tolist()]
    if len(picked) < max_members:  # not enough ok members: fill with more failed ones
        picked += failed[num_failed : num_failed + max_members - len(picked)].tolist()
    return sorted(int(m) for m in picked)


def _last_finite(values: np.ndarray) -> int | None:
    rows = np.flatnonzero(np.all(np.isfinite(values.reshape(values.shape[0], -1)), axis=1))
    return int(rows[-1]) if rows.size else None


def _status_of(result: Trajectory | Ensemble, member: int) -> MemberStatus:
    if isinstance(result, Trajectory):
        return MemberStatus(result.member_status)
    return MemberStatus(int(result.member_status[member]))


def _member_y(result: Trajectory | Ensemble, member: int) -> np.ndarray:
    return result.y if isinstance(result, Trajectory) else result.y[member]


def _counts(result: Trajectory | Ensemble) -> dict[MemberStatus, int]:
    if isinstance(result, Trajectory):
        return {MemberStatus(result.member_status): 1}
    codes, counts = np.unique(result.member_status, return_counts=True)
    return {MemberStatus(int(c)): int(n) for c, n in zip(codes, counts, strict=True)}


def _failure_label(status: MemberStatus, counts: Mapping[MemberStatus, int], total: int) -> str:
    name = status.label.replace("_", " ")
    return f"{name} ({counts.get(status, 0)} of {total})" if total > 1 else name


# --------------------------------------------------------------------------- time series
def plot_time_series(
    result: Trajectory | Ensemble,
    variables: Sequence[str] | str | None = None,
    ax: Axes | None = None,
    *,
    members: Sequence[int] | None = None,
    max_members: int = 30,
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
    **line_kw: Any,
) -> Axes:
    """Variables against time.

    Parameters
    ----------
    result
        A :class:`Trajectory` (one line per variable) or an :class:`Ensemble` (one
        line per variable and drawn member).
    variables
        Names to draw (default: all).
    ax
        Axes to draw on (default: a new figure).
    members, max_members
        Ensemble members to draw: the given indices, else at most ``max_members``,
        taking failed members first (up to a third) so that they stay visible.
    logx, logy
        Logarithmic axes (a log time axis suits stiff problems; non-positive times
        are then left out).
    title
        Axes title (default: describes the result).
    **line_kw
        Passed to ``Axes.plot`` for successful members.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines`` holds exactly ``len(variables) * number of drawn members`` lines.
        Failed members are dashed in their status colour (:data:`STATUS_COLORS`), with
        an ``x`` where they stopped; the legend counts them.
    """
    _check_result(result, "plot_time_series")
    names = _variables(result, variables)
    drawn = _choose_members(result, members, max_members) if isinstance(result, Ensemble) else [0]
    counts = _counts(result)
    total = sum(counts.values())
    with style():
        ax = new_axes(ax)
        t = np.asarray(result.t, dtype=float)
        keep = t > 0 if logx else np.ones(t.shape, dtype=bool)
        many = len(drawn) > 1
        labelled: set[object] = set()
        for k, name in enumerate(names):
            col = _variable_index(result, name, "variables")
            color = PALETTE[k % len(PALETTE)]
            for m in drawn:
                status = _status_of(result, m)
                values = _member_y(result, m)[:, col]
                kw: dict[str, Any]
                if status.is_success:
                    key: object = name
                    kw = {"color": color, "alpha": 0.55 if many else 1.0}
                    if many:
                        kw["linewidth"] = 0.9
                    kw.update(line_kw)
                    label = name
                else:
                    key = (name, status)
                    kw = {
                        # one variable: the status colour tells the outcome; several: keep
                        # the variable's colour and let the dashes and the x say "failed"
                        "color": STATUS_COLORS[status] if len(names) == 1 else color,
                        "linestyle": "--",
                        "linewidth": 1.1,
                        "alpha": 0.9,
                    }
                    label = f"{name}: {_failure_label(status, counts, total)}"
                kw["label"] = label if key not in labelled else "_nolegend_"
                labelled.add(key)
                ax.plot(t[keep], values[keep], **kw)
                if not status.is_success:
                    last = _last_finite(values[:, None])
                    if last is not None and keep[last]:
                        ax.scatter(
                            [t[last]],
                            [values[last]],
                            marker="x",
                            s=36,
                            color=STATUS_COLORS[status],
                            zorder=3,
                        )
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("t")
        ax.set_ylabel(names[0] if len(names) == 1 else "state")
        if title is None:
            title = _default_title(result, drawn, "time series")
        ax.set_title(title)
        if len(names) > 1 or len(counts) > 1 or not _status_of(result, drawn[0]).is_success:
            # beside the axes: time series fill their box, a legend inside hides data
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax


def _default_title(result: Trajectory | Ensemble, drawn: Sequence[int], what: str) -> str:
    if isinstance(result, Ensemble):
        shown = f"{len(drawn)} of {result.num_members} members"
        return f"Ensemble {what} ({shown})"
    status = MemberStatus(result.member_status)
    suffix = "" if status is MemberStatus.OK else f" ({result.message or status.label})"
    return f"{what[0].upper()}{what[1:]}{suffix}"


# --------------------------------------------------------------------------- phase portrait
def plot_phase_portrait(
    result: Trajectory | Ensemble,
    x: str | None = None,
    y: str | None = None,
    z: str | None = None,
    ax: Axes | None = None,
    *,
    members: Sequence[int] | None = None,
    max_members: int = 30,
    mark_ends: bool = True,
    title: str | None = None,
    **line_kw: Any,
) -> Axes:
    """One variable against another (2D), or three (3D when ``z`` is given).

    Parameters
    ----------
    result
        A :class:`Trajectory` (one line) or an :class:`Ensemble` (one line per drawn
        member, chosen as in :func:`plot_time_series`).
    x, y, z
        Variable names; ``x`` and ``y`` default to the first two variables. With
        ``z`` the axes are 3D (pass 3D axes as ``ax``, or none).
    mark_ends
        Mark the start (circle) and end (square) of each successful line.
    **line_kw
        Passed to ``Axes.plot`` for successful members, e.g.
        ``linestyle="none", marker="."`` for the iterates of a map.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines`` holds one line per drawn member; failed members are dashed in
        their status colour with an ``x`` where they stopped.
    """
    _check_result(result, "plot_phase_portrait")
    if len(result.variables) < (3 if z else 2):
        raise InputError(
            "plot_phase_portrait needs at least two variables; "
            f"the result has {', '.join(result.variables) or '(none)'}"
        )
    x = result.variables[0] if x is None else x
    if y is None:
        y = next(v for v in result.variables if v != x)
    names = [x, y] + ([z] if z else [])
    cols = [_variable_index(result, n, a) for n, a in zip(names, ("x", "y", "z"), strict=False)]
    drawn = _choose_members(result, members, max_members) if isinstance(result, Ensemble) else [0]
    counts = _counts(result)
    total = sum(counts.values())
    many = len(drawn) > 1
    with style():
        ax = new_axes(ax, projection="3d" if z else None)
        labelled: set[object] = set()
        for m in drawn:
            status = _status_of(result, m)
            data = _member_y(result, m)[:, cols]
            finite = np.all(np.isfinite(data), axis=1)
            coords = [data[:, i] for i in range(len(cols))]
            if status.is_success:
                kw: dict[str, Any] = {"color": PALETTE[0], "linewidth": 0.9 if many else 1.0}
                if many:
                    kw["alpha"] = 0.5
                kw.update(line_kw)
                label = "trajectory" if not many else f"members ({counts.get(status, 0)})"
                key: object = "ok"
            else:
                kw = {"color": STATUS_COLORS[status], "linestyle": "--", "linewidth": 1.1}
                label = _failure_label(status, counts, total)
                key = status
            kw["label"] = label if key not in labelled else "_nolegend_"
            labelled.add(key)
            ax.plot(*coords, **kw)
            rows = np.flatnonzero(finite)
            if rows.size == 0:
                continue
            first, last = rows[0], rows[-1]
            scatter: Any = ax.scatter  # 2D or 3D: coordinates are positional
            if not status.is_success:
                scatter(*[[c[last]] for c in coords], marker="x", s=40, color=STATUS_COLORS[status])
            elif mark_ends and not many:
                scatter(
                    *[[c[first]] for c in coords],
                    marker="o",
                    s=30,
                    color="#009E73",
                    zorder=3,
                    label="start",
                )
                scatter(
                    *[[c[last]] for c in coords],
                    marker="s",
                    s=30,
                    color="#D55E00",
                    zorder=3,
                    label="end",
                )
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if z:
            ax.set_zlabel(z)  # type: ignore[attr-defined]
        if title is None:
            what = f"phase portrait in ({x}, {y}, {z})" if z else f"phase portrait {y} vs {x}"
            title = _default_title(result, drawn, what)
        ax.set_title(title)
        ax.legend(loc="best")
    return ax


# --------------------------------------------------------------------------- final states
def plot_ensemble_final_states(
    ensemble: Ensemble,
    x: str | None = None,
    y: str | None = None,
    ax: Axes | None = None,
    *,
    show_initial: bool = False,
    title: str | None = None,
    **scatter_kw: Any,
) -> Axes:
    """Where the members of an ensemble ended, coloured by their status.

    Parameters
    ----------
    ensemble
        An :class:`Ensemble`.
    x, y
        Variables on the axes (default: the first two). For a one-variable model the
        axes are the initial value against the final value.
    show_initial
        Also draw the initial states (grey dots).
    **scatter_kw
        Passed to ``Axes.scatter`` for the successful members.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections`` holds one scatter per member status (successful members
        first, as dots; each failure status as ``x`` markers in its colour, placed at
        the member's last finite state), after the initial states if shown. The axis
        limits follow the successful members; failed members outside them are drawn
        on the edge, and the legend counts members by status.
    """
    _check_result(ensemble, "plot_ensemble_final_states", ensemble_only=True)
    num_vars = len(ensemble.variables)
    if num_vars == 0:
        raise InputError("plot_ensemble_final_states: the ensemble has no variables")
    final = ensemble.y_final
    initial = np.asarray(ensemble.y0, dtype=float)
    one_variable = num_vars == 1 and y is None
    if one_variable:
        name = ensemble.variables[0] if x is None else x
        col = _variable_index(ensemble, name, "x")
        px, py = initial[:, col], final[:, col]
        ix, iy = px, px
        xlabel = f"{name} at t = {_fmt(ensemble.t[0]) if ensemble.t.size else 't0'}"
        ylabel = f"{name} at the end"
        show_initial = False
    else:
        x = ensemble.variables[0] if x is None else x
        y = ensemble.variables[1] if y is None else y
        cx, cy = _variable_index(ensemble, x, "x"), _variable_index(ensemble, y, "y")
        px, py = final[:, cx], final[:, cy]
        ix, iy = initial[:, cx], initial[:, cy]
        xlabel, ylabel = x, y
    codes = np.asarray(ensemble.member_status).astype(int)
    ok = np.isin(codes, (MemberStatus.OK, MemberStatus.TERMINATED))
    total = codes.size
    with style():
        ax = new_axes(ax)
        if show_initial and initial.size:
            ax.scatter(ix, iy, s=6, color="#999999", alpha=0.6, label="initial states", zorder=1)
        limits = None
        if ok.any():
            ax.scatter(
                px[ok],
                py[ok],
                **{
                    "s": 8,
                    "color": STATUS_COLORS[MemberStatus.OK],
                    "alpha": 0.7,
                    "label": f"ok ({int(ok.sum())} of {total})",
                    "zorder": 2,
                    **scatter_kw,
                },
            )
            limits = _limits(
                # one variable: x is the initial value, known for every member
                px if one_variable else np.concatenate([px[ok], ix if show_initial else px[:0]]),
                np.concatenate([py[ok], iy if show_initial else py[:0]]),
            )
        for code in np.unique(codes[~ok]):
            status = MemberStatus(int(code))
            sel = (codes == code) & np.isfinite(px) & np.isfinite(py)
            fx, fy = px[sel], py[sel]
            label = _failure_label(status, _counts(ensemble), total)
            if limits is not None:
                (x0, x1), (y0, y1) = limits
                outside = (fx < x0) | (fx > x1) | (fy < y0) | (fy > y1)
                if outside.any():
                    label += f", {int(outside.sum())} off-scale shown at the edge"
                fx, fy = np.clip(fx, x0, x1), np.clip(fy, y0, y1)
            ax.scatter(
                fx,
                fy,
                marker="x",
                s=28,
                linewidths=1.2,
                color=STATUS_COLORS[status],
                label=label,
                zorder=3,
                clip_on=False,
            )
        if limits is not None:
            ax.set_xlim(*limits[0])
            ax.set_ylim(*limits[1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title is None:
            end = _fmt(ensemble.t[-1]) if ensemble.t.size else "the end"
            title = f"Final states of {total} members (t = {end})"
        ax.set_title(title)
        ax.legend(loc="best")
    return ax


def _fmt(value: float) -> str:
    return f"{float(value):.6g}"


def _limits(
    xs: np.ndarray, ys: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    out = []
    for v in (xs, ys):
        v = v[np.isfinite(v)]
        if v.size == 0:
            return None
        lo, hi = float(v.min()), float(v.max())
        pad = 0.05 * (hi - lo) if hi > lo else max(abs(lo) * 0.05, 0.5)
        out.append((lo - pad, hi + pad))
    return out[0], out[1]


# --------------------------------------------------------------------------- dispatch
def register_plotter(result_type: type, plotter: _Plotter) -> None:
    """Make :func:`plot_result` (and ``Result.plot``) draw ``result_type`` with ``plotter``.

    ``plotter(result, ax=None, **kw)`` must return the axes it drew on. Subclasses of
    ``result_type`` use it too unless they register their own.
    """
    _PLOTTERS[result_type] = plotter


def plot_result(result: Any, ax: Axes | None = None, **kw: Any) -> Axes:
    """Draw any stabkit result with the figure registered for its type.

    A :class:`Trajectory` or :class:`Ensemble` is drawn with :func:`plot_time_series`;
    analyses register their own figures with :func:`register_plotter`.
    """
    for cls in type(result).__mro__:
        plotter = _PLOTTERS.get(cls)
        if plotter is not None:
            return plotter(result, ax=ax, **kw)
    from stabkit.results import Result

    own = getattr(type(result), "plot", None)
    if own is not None and own is not Result.plot:  # the result draws itself
        return own(result, ax=ax, **kw)
    raise InputError(
        f"no figure for {type(result).__name__} yet; "
        f"figures exist for {', '.join(sorted(t.__name__ for t in _PLOTTERS))}"
    )


def _plot_dynamics(result: Trajectory | Ensemble, ax: Axes | None = None, **kw: Any) -> Axes:
    return plot_time_series(result, ax=ax, **kw)


register_plotter(Trajectory, _plot_dynamics)
register_plotter(Ensemble, _plot_dynamics)
