"""The bundled demo: a list of sections, each running one example and drawing its figures.

``stabkit demo`` (and ``make demo``) runs the sections of :func:`demo_sections` in order
and writes a report folder: one PNG per figure and a self-contained ``index.html``.

To add an analysis to the demo, write a module ``stabkit/report/demos/<key>.py`` defining
``ORDER: int`` (sections sort by it; the four built-in sections of :data:`DEMO_SECTIONS`
count as 10, 20, 30 and 40) and ``SECTION = DemoSection(key, title, fn)`` with
``fn(ctx: DemoContext) -> ReportSection``; use ``ctx.quick`` to keep the quick mode (run
by the test suite) to a few seconds, and ``ctx.save`` to write figures. A module that
fails to load becomes a section with status ``"error"``; the others still run.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.report.demos import discover_demo_sections, failed_section
from stabkit.report.html import ReportFigure, ReportSection, write_html_report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from stabkit.integrate.trajectory import Ensemble, Trajectory
    from stabkit.model.model import Model

__all__ = [
    "DEMO_SECTIONS",
    "DemoContext",
    "DemoReport",
    "DemoSection",
    "demo_sections",
    "discover_demo_sections",
    "run_demo",
    "states_around",
]


def states_around(
    model: Model, num_members: int, spread: float, *, seed: int | None = 0
) -> np.ndarray:
    """Initial states scattered around the model's default state.

    Each member is ``default_state + spread * z`` with ``z`` standard normal, drawn
    from ``numpy.random.default_rng(seed)``. Returns shape ``(num_members, num_variables)``.
    """
    if isinstance(num_members, bool) or int(num_members) != num_members or num_members < 1:
        raise InputError(f"num_members={num_members!r}: must be an integer >= 1")
    if not (np.isfinite(spread) and spread >= 0):
        raise InputError(f"spread={spread!r}: must be a finite number >= 0")
    rng = np.random.default_rng(seed)
    base = model.state_vector()
    return base + spread * rng.standard_normal((int(num_members), base.size))


@dataclasses.dataclass(frozen=True)
class DemoContext:
    """What a demo section gets: the report folder and whether to run quickly."""

    folder: Path
    quick: bool = False

    def save(self, fig: Figure, name: str, caption: str) -> ReportFigure:
        """Write ``fig`` as ``<folder>/<name>.png`` and return it as a report figure."""
        from stabkit.report.figures import save_figure

        path = save_figure(fig, self.folder / f"{name}.png")
        return ReportFigure(Path(path.name), caption)


@dataclasses.dataclass(frozen=True)
class DemoSection:
    """One example of the demo: ``run(ctx)`` computes, draws and describes it."""

    key: str
    title: str
    run: Callable[[DemoContext], ReportSection]


@dataclasses.dataclass(frozen=True)
class DemoReport:
    """What :func:`run_demo` produced."""

    folder: Path
    index: Path
    sections: tuple[ReportSection, ...]
    total_time: float

    @property
    def ok(self) -> bool:
        """True when no section failed with an error."""
        return all(s.status != "error" for s in self.sections)


# --------------------------------------------------------------------------- helpers
def _times(*results: Trajectory | Ensemble) -> tuple[float, float]:
    wall = sum(float(r.stats.wall_time) for r in results)
    compile_ = sum(float(r.stats.compile_time) for r in results)
    return wall, compile_


def _status_text(result: Trajectory | Ensemble) -> str:
    from stabkit.integrate.trajectory import Ensemble

    if isinstance(result, Ensemble):
        counts = result.status_counts()
        return ", ".join(f"{label}: {n}" for label, n in counts.items())
    return result.status + (f" ({result.message})" if result.message else "")


def _g(value: float) -> str:
    return f"{float(value):.4g}"


# --------------------------------------------------------------------------- sections
def _brusselator(ctx: DemoContext) -> ReportSection:
    import stabkit
    from stabkit.report.figures import new_figure, plot_phase_portrait, plot_time_series

    a, b = 1.0, 3.0
    model = stabkit.library.brusselator().with_params(a=a, b=b)
    t_end = 40.0
    method = stabkit.Dopri5(rtol=1e-8, atol=1e-10)
    upward = stabkit.Event("x - 1", direction=1, name="x = a upward")
    traj = stabkit.solve(
        model,
        t_span=(0.0, t_end),
        method=method,
        t_eval=np.linspace(0.0, t_end, 2001),
        events=(upward,),
    )
    crossings = np.asarray(traj.t_events, dtype=float)
    crossings = crossings[crossings > t_end / 2]  # once the cycle is reached
    period = float(np.mean(np.diff(crossings))) if crossings.size >= 2 else float("nan")

    fig, (ax,) = new_figure(figsize=(7.5, 3.8))
    plot_time_series(traj, ["x", "y"], ax=ax, title=f"Brusselator (a = {a:g}, b = {b:g})")
    ts = ctx.save(fig, "brusselator_time_series", "x and y settle onto sustained oscillations.")
    fig, (ax,) = new_figure(figsize=(5.8, 5.0))
    plot_phase_portrait(traj, "x", "y", ax=ax, title="Brusselator phase portrait: a limit cycle")
    ax.scatter([a], [b / a], marker="+", s=120, color="#C0392B", zorder=4)
    ax.annotate(
        "unstable equilibrium (a, b/a)",
        (a, b / a),
        textcoords="offset points",
        xytext=(10, -4),
        fontsize=9,
        color="#C0392B",
    )
    pp = ctx.save(fig, "brusselator_phase_portrait", "The trajectory spirals out to the cycle.")
    wall, compile_ = _times(traj)
    return ReportSection(
        title="Brusselator: a limit cycle",
        summary=f"solve(brusselator, a={a:g}, b={b:g}, t in [0, {t_end:g}], {method.name})",
        text=(
            "The Brusselator x' = a - (b + 1) x + x^2 y, y' = b x - x^2 y has one "
            "equilibrium, (a, b/a). It loses stability in a Hopf bifurcation at "
            f"b = 1 + a^2 = {1 + a * a:g}; at b = {b:g} trajectories spiral away from it "
            "and settle on a stable limit cycle. An event (x crossing a upwards) measures "
            "the period."
        ),
        facts=(
            ("status", _status_text(traj)),
            ("steps", f"{traj.stats.num_steps} accepted, {traj.stats.num_rejected} rejected"),
            ("period (from events)", _g(period)),
        ),
        figures=(ts, pp),
        status=traj.status if traj.status in ("ok", "partial") else "partial",
        wall_time=wall,
        compile_time=compile_,
    )


def _lorenz(ctx: DemoContext) -> ReportSection:
    import stabkit
    from stabkit.report.figures import (
        new_figure,
        plot_ensemble_final_states,
        plot_phase_portrait,
        plot_time_series,
    )

    model = stabkit.library.lorenz()
    num_members = 200 if ctx.quick else 1000
    t_end = 20.0 if ctx.quick else 30.0
    spread = 1e-3
    method = stabkit.Dopri5(rtol=1e-8, atol=1e-10)
    y0s = states_around(model, num_members, spread, seed=0)
    ens = stabkit.solve_ensemble(
        model,
        y0s,
        (0.0, t_end),
        method=method,
        t_eval=np.linspace(0.0, t_end, int(100 * t_end) + 1),
    )
    first = ens.member(0)
    fig, (ax,) = new_figure(figsize=(7.5, 3.8))
    plot_time_series(first, ax=ax, title="Lorenz: one member of the ensemble")
    ts = ctx.save(fig, "lorenz_time_series", "x, y and z of the first member.")
    fig, (ax,) = new_figure(figsize=(5.8, 5.0))
    plot_phase_portrait(first, "x", "z", ax=ax, title="Lorenz attractor (x-z projection)")
    pp = ctx.save(fig, "lorenz_phase_portrait", "The butterfly: the first member in the x-z plane.")
    fig, (ax,) = new_figure(figsize=(7.5, 3.8))
    plot_time_series(
        ens,
        ["x"],
        ax=ax,
        members=range(min(12, num_members)),
        title="Sensitive dependence: x(t) of 12 members",
    )
    spread_fig = ctx.save(
        fig,
        "lorenz_members",
        f"Members start within about {spread:g} of each other and separate after a while.",
    )
    fig, (ax,) = new_figure(figsize=(5.8, 5.0))
    plot_ensemble_final_states(ens, "x", "z", ax=ax, show_initial=True)
    fs = ctx.save(
        fig,
        "lorenz_final_states",
        "Final states of all members (blue) spread over the attractor; grey: the initial cloud.",
    )
    wall, compile_ = _times(ens)
    finals = ens.y_final[ens.ok_mask]
    return ReportSection(
        title="Lorenz: an ensemble on a chaotic attractor",
        summary=(
            f"solve_ensemble(lorenz, {num_members} members, spread {spread:g}, "
            f"t in [0, {t_end:g}], {method.name})"
        ),
        text=(
            "The Lorenz system at the classic parameters (sigma = 10, rho = 28, "
            "beta = 8/3) has three unstable equilibria and a chaotic attractor. "
            f"{num_members} initial states, drawn within about {spread:g} of the default "
            "state, run in parallel in one compiled ensemble kernel; each member keeps "
            "its own status. Nearby states separate exponentially: by the end the "
            "ensemble covers the attractor."
        ),
        facts=(
            ("members by status", _status_text(ens)),
            ("mean steps per member", _g(float(np.mean(ens.num_steps)))),
            ("final x range", f"[{_g(finals[:, 0].min())}, {_g(finals[:, 0].max())}]"),
            ("run time per member", f"{1e3 * wall / max(num_members, 1):.3g} ms"),
        ),
        figures=(ts, pp, spread_fig, fs),
        status=ens.status if ens.status in ("ok", "partial") else "partial",
        wall_time=wall,
        compile_time=compile_,
    )


def _robertson(ctx: DemoContext) -> ReportSection:
    import stabkit
    from stabkit.report.figures import new_figure, plot_time_series

    model = stabkit.library.robertson()
    t_end = 1e8
    stiff = stabkit.Rodas5(rtol=1e-6, atol=1e-10)
    t_eval = np.logspace(-6, np.log10(t_end), 400)
    traj = stabkit.solve(model, t_span=(0.0, t_end), method=stiff, t_eval=t_eval)
    results: list[Any] = [traj]
    facts = [
        ("status", _status_text(traj)),
        (
            f"{stiff.name} steps",
            f"{traj.stats.num_steps} accepted, {traj.stats.num_rejected} rejected",
        ),
    ]
    explicit_note = ""
    if not ctx.quick:
        explicit = stabkit.Dopri5(rtol=1e-6, atol=1e-10, max_steps=20_000)
        attempt = stabkit.solve(model, t_span=(0.0, t_end), method=explicit, t_eval=t_eval)
        results.append(attempt)
        facts.append((f"{explicit.name} (explicit, max_steps=20000)", _status_text(attempt)))
        explicit_note = (
            f" For comparison, the explicit {explicit.name} with the same tolerances "
            f"stops with status '{attempt.status}' at t = {attempt.t_final:.3g}: its "
            "step size is held down by stability, not accuracy."
        )
    v = list(model.variables)
    fig, axes = new_figure(1, 2, figsize=(10.0, 3.9))
    plot_time_series(traj, [v[0], v[2]], ax=axes[0], logx=True, title="Robertson: y1 and y3")
    plot_time_series(traj, [v[1]], ax=axes[1], logx=True, title="Robertson: y2 (note the scale)")
    fig_ts = ctx.save(
        fig,
        "robertson_time_series",
        "Concentrations on a log time axis from 1e-6 to 1e8: fast and slow scales together.",
    )
    wall, compile_ = _times(*results)
    return ReportSection(
        title="Robertson: a stiff chemical system",
        summary=f"solve(robertson, t in [0, {t_end:.0e}], {stiff.name})",
        text=(
            "Robertson's reactions (rates 0.04, 3e7, 1e4) mix time scales eleven orders "
            f"of magnitude apart. The linearly implicit {stiff.name}, using the exact "
            "Jacobian generated from the equations, steps through them with a step size "
            "that grows with t." + explicit_note
        ),
        facts=tuple(facts),
        figures=(fig_ts,),
        status=traj.status if traj.status in ("ok", "partial") else "partial",
        wall_time=wall,
        compile_time=compile_,
    )


def _blow_up_times(ax: Any, ens: Ensemble, y0: np.ndarray, t_end: float) -> None:
    from stabkit.integrate.trajectory import MemberStatus
    from stabkit.report.figures import STATUS_COLORS

    for ok, label, colour, marker in (
        (True, "finished", STATUS_COLORS[MemberStatus.OK], "o"),
        (False, "diverged", STATUS_COLORS[MemberStatus.DIVERGED], "x"),
    ):
        sel = ens.ok_mask == ok
        ax.scatter(y0[sel], ens.t_final[sel], marker=marker, s=18, color=colour, label=label)
    grid = np.linspace(1 / t_end, y0.max(), 200)
    ax.plot(grid, 1 / grid, color="#555555", linestyle=":", label="exact blow-up time 1/y0")
    ax.set_xlabel("y0")
    ax.set_ylabel("t where the member stopped")
    ax.set_title("Each member stops on its own")
    ax.legend(loc="upper right")


def _blow_up(ctx: DemoContext) -> ReportSection:
    import stabkit
    from stabkit.report._style import style
    from stabkit.report.figures import new_figure, plot_time_series

    model = stabkit.Model.from_equations(
        {"y": "y^2"}, variables={"y": 0.1}, name="quadratic_blow_up"
    )
    num_members = 40 if ctx.quick else 100
    t_end = 5.0
    y0s = np.linspace(0.05, 0.5, num_members)[:, None]
    method = stabkit.Dopri5(rtol=1e-8, atol=1e-10, divergence_threshold=1e6)
    ens = stabkit.solve_ensemble(
        model, y0s, (0.0, t_end), method=method, t_eval=np.linspace(0.0, t_end, 501)
    )
    failed = ~ens.ok_mask
    exact = 1.0 / y0s[:, 0]
    error = np.abs(ens.t_final[failed] - exact[failed]) if failed.any() else np.zeros(0)
    fig, axes = new_figure(1, 2, figsize=(11.0, 4.0))
    plot_time_series(
        ens, ax=axes[0], max_members=num_members, logy=True, title="y(t) of all members"
    )
    with style():
        axes[0].legend(loc="upper left")  # inside: the upper left corner is empty here
        _blow_up_times(axes[1], ens, y0s[:, 0], t_end)
    fig_ts = ctx.save(
        fig,
        "blow_up_members",
        "Members with y0 > 1/5 blow up before t = 5 (red, dashed, stopped at the x) at "
        "t = 1/y0; the others finish.",
    )
    wall, compile_ = _times(ens)
    return ReportSection(
        title="Finite-time blow-up: per-member status",
        summary=f"solve_ensemble(y' = y^2, {num_members} members, y0 in [0.05, 0.5], t in [0, 5])",
        text=(
            "y' = y^2 from y(0) = y0 blows up at t = 1/y0. The method object "
            f"{method.name}(divergence_threshold=1e6) stops a member once |y| passes 1e6 "
            "and marks it 'diverged'; the other members are unaffected and finish. One "
            "failing trajectory never sinks an ensemble."
        ),
        facts=(
            ("members by status", _status_text(ens)),
            ("expected to blow up (y0 > 0.2)", str(int(np.sum(y0s[:, 0] > 1 / t_end)))),
            (
                "largest |t_final - 1/y0| of diverged members",
                _g(float(error.max())) if error.size else "-",
            ),
        ),
        figures=(fig_ts,),
        status="ok",  # the failures are the point of this example
        wall_time=wall,
        compile_time=compile_,
    )


#: The built-in sections, in order (their ORDER is 10, 20, 30, 40).
DEMO_SECTIONS: list[DemoSection] = [
    DemoSection("brusselator", "Brusselator: a limit cycle", _brusselator),
    DemoSection("lorenz", "Lorenz: an ensemble on a chaotic attractor", _lorenz),
    DemoSection("robertson", "Robertson: a stiff chemical system", _robertson),
    DemoSection("blow-up", "Finite-time blow-up: per-member status", _blow_up),
]


def demo_sections() -> list[DemoSection]:
    """The whole demo in order: :data:`DEMO_SECTIONS` and the modules of ``report.demos``.

    Sections sort by ``ORDER`` (the built-in ones count as 10, 20, 30, 40; ties keep
    the built-in sections first, then module names in alphabetical order). A discovered
    section whose key repeats an earlier one becomes an error section.
    """
    entries = [(10 * (i + 1), s) for i, s in enumerate(DEMO_SECTIONS)]
    entries += discover_demo_sections()
    ordered = [s for _, s in sorted(entries, key=lambda e: e[0])]
    seen: set[str] = set()
    out: list[DemoSection] = []
    for section in ordered:
        if section.key in seen:
            clash = InputError(f"key {section.key!r} is already used by an earlier section")
            why = f"demo section {section.title!r} cannot run"
            section = failed_section(f"{section.key}-2", section.title, why, clash)
        seen.add(section.key)
        out.append(section)
    return out


def run_demo(
    folder: str | Path = "demo-report",
    *,
    quick: bool = False,
    only: Sequence[str] | None = None,
    on_start: Callable[[DemoSection], None] | None = None,
    on_finish: Callable[[DemoSection, ReportSection], None] | None = None,
    raise_errors: bool = False,
) -> DemoReport:
    """Run the demo sections and write the report folder.

    Parameters
    ----------
    folder
        Report folder (created if missing): PNG figures and ``index.html``.
    quick
        Smaller ensembles and shorter runs (seconds once kernels are cached).
    only
        Keys of the sections to run (default: all of :func:`demo_sections`).
    on_start, on_finish
        Called before and after each section (the CLI shows progress with them).
    raise_errors
        Re-raise an exception from a section instead of recording it in the report.

    Returns
    -------
    DemoReport
        The folder, the page and the sections; a failed section has status ``"error"``
        and its error as text.
    """
    sections = demo_sections()
    keys = [s.key for s in sections]
    chosen = list(sections)
    if only is not None:
        for key in only:
            if key not in keys:
                hint = suggest(key, keys)
                raise InputError(
                    f"no demo section {key!r}; the sections are {', '.join(keys)}"
                    + (f"; {hint}" if hint else "")
                )
        chosen = [s for s in sections if s.key in set(only)]
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(folder=target, quick=quick)
    start = time.perf_counter()
    done: list[ReportSection] = []
    for section in chosen:
        if on_start is not None:
            on_start(section)
        began = time.perf_counter()
        try:
            result = section.run(ctx)
        except Exception as exc:
            if raise_errors:
                raise
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            result = ReportSection(
                title=section.title,
                summary="failed",
                text=detail,
                status="error",
                wall_time=time.perf_counter() - began,
            )
        done.append(result)
        if on_finish is not None:
            on_finish(section, result)
    total = time.perf_counter() - start
    index = write_html_report(
        target,
        done,
        title="stabkit demo",
        subtitle=(
            "Models from the library, compiled to fast kernels and integrated: single "
            "trajectories, ensembles with per-member status, a stiff system."
        ),
        facts=(
            ("mode", "quick" if quick else "full"),
            ("total time", f"{total:.1f} s"),
        ),
    )
    return DemoReport(folder=target, index=index, sections=tuple(done), total_time=total)
