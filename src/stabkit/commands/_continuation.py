"""What ``stabkit analyze`` and ``stabkit continue`` share: equilibria tables, branches
from every equilibrium at the start value, the special-points table, the report folder."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.commands._common import number_text, state_text
from stabkit.errors import InputError, suggest

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.console import Console

    from stabkit.analysis.continuation import Branch
    from stabkit.analysis.equilibria import EquilibriaResult
    from stabkit.model.model import Model
    from stabkit.report.html import ReportFigure, ReportSection

__all__ = [
    "ContinuationRequest",
    "bifurcation_figure",
    "branch_section",
    "branches_from_equilibria",
    "continuation_request",
    "equilibria_facts",
    "parse_bounds_items",
    "print_branches",
    "print_equilibria",
    "save_diagram",
    "special_point_rows",
    "write_report",
]

_CONTINUE_KEYS = ("parameter", "from", "to", "start", "ds", "max_points")
MAX_BRANCHES = 8  # starting equilibria continued at most


@dataclasses.dataclass(frozen=True)
class ContinuationRequest:
    """One continuation to run: parameter, from, to, optional start state and step."""

    parameter: str
    start_value: float
    end_value: float
    start: Mapping[str, float] | None = None
    ds: float | None = None
    max_points: int | None = None


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def continuation_request(raw: Any, model: Model, where: str) -> ContinuationRequest:
    """Check an ``[analysis] continue = {parameter = "b", from = 0.5, to = 4.0}`` table.

    Raises
    ------
    InputError
        Not a table, an unknown key (did-you-mean), a missing key, an unknown parameter
        or variable, or a value that is not a finite number.
    """
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: expected a table such as {{parameter = 'b', from = 0, to = 4}}")
    for key in raw:
        if key not in _CONTINUE_KEYS:
            hint = suggest(str(key), _CONTINUE_KEYS)
            raise InputError(
                f"{where}: unknown key {key!r}; allowed: {', '.join(_CONTINUE_KEYS)}"
                + (f"; {hint}" if hint else "")
            )
    for key in ("parameter", "from", "to"):
        if key not in raw:
            raise InputError(f"{where}: {key!r} is missing")
    parameter = raw["parameter"]
    if parameter not in model.parameters:
        hint = suggest(str(parameter), model.parameters)
        raise InputError(
            f"{where}: model {model.name!r} has no parameter {parameter!r}; it has "
            f"{', '.join(model.parameters)}" + (f"; {hint}" if hint else "")
        )
    start = None
    if "start" in raw:
        if not isinstance(raw["start"], Mapping):
            raise InputError(f"{where}: 'start' must be a table {{x = 1.0, y = 2.0}}")
        start = {}
        for name, value in raw["start"].items():
            if name not in model.variables:
                hint = suggest(str(name), model.variables)
                raise InputError(
                    f"{where}: start: no variable {name!r}; the variables are "
                    f"{', '.join(model.variables)}" + (f"; {hint}" if hint else "")
                )
            start[name] = _finite(value, f"{where}: start.{name}")
    lo = _finite(raw["from"], f"{where}: 'from'")
    hi = _finite(raw["to"], f"{where}: 'to'")
    if lo == hi:
        raise InputError(f"{where}: 'from' and 'to' are both {lo:g}; give a range")
    ds = None if "ds" not in raw else _finite(raw["ds"], f"{where}: 'ds'")
    max_points = raw.get("max_points")
    if max_points is not None and (isinstance(max_points, bool) or not isinstance(max_points, int)):
        raise InputError(f"{where}: 'max_points' must be an integer, got {max_points!r}")
    return ContinuationRequest(str(parameter), lo, hi, start, ds, max_points)


def parse_bounds_items(items: Sequence[str], model: Model) -> dict[str, tuple[float, float]]:
    """``["x=0:10", "y=-1:1"]`` as ``{"x": (0, 10), "y": (-1, 1)}``."""
    bounds: dict[str, tuple[float, float]] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            name, sep, rng = part.partition("=")
            lo, colon, hi = rng.partition(":")
            if not sep or not colon:
                raise InputError(f"--bounds {part!r}: expected NAME=LO:HI, e.g. --bounds x=0:10")
            name = name.strip()
            if name not in model.variables:
                hint = suggest(name, model.variables)
                raise InputError(
                    f"--bounds {part!r}: no variable {name!r}; the variables are "
                    f"{', '.join(model.variables)}" + (f"; {hint}" if hint else "")
                )
            try:
                pair = (float(lo), float(hi))
            except ValueError:
                raise InputError(f"--bounds {part!r}: {rng!r} is not LO:HI numbers") from None
            if not pair[0] < pair[1]:
                raise InputError(f"--bounds {part!r}: LO must be smaller than HI")
            bounds[name] = pair
    return bounds


# --------------------------------------------------------------------------- equilibria
def _leading(eq: Any, is_map: bool) -> str:
    s = eq.stability
    return number_text(s.max_modulus if is_map else s.max_real_part, 6)


def print_equilibria(console: Console, result: EquilibriaResult, title: str) -> None:
    """The equilibria as a table: state, classification, stability, leading eigenvalue."""
    from rich.table import Table
    from rich.text import Text

    is_map = result.kind == "map"
    lead = "max |mu|" if is_map else "max Re"
    t = Table(title=title, title_justify="left", title_style="bold", show_edge=False)
    for v in result.variables:
        t.add_column(v, no_wrap=True)
    for c in ("classification", "stable", lead, "unstable"):
        t.add_column(c, no_wrap=True)
    for eq in result.equilibria:
        stable = Text("yes", style="green") if eq.is_stable else Text("no", style="red")
        t.add_row(
            *[number_text(v, 7) for v in eq.state],
            eq.classification.value,
            stable,
            _leading(eq, is_map),
            str(eq.stability.dim_unstable),
        )
    console.print(t)
    count = len(result.equilibria)
    if is_map:
        what = "fixed point" if count == 1 else "fixed points"
    else:
        what = "equilibrium" if count == 1 else "equilibria"
    console.print(
        f"{count} {what}; guarantee: {result.guarantee}"
        + (f" ({result.message})" if result.message else ""),
        highlight=False,
        soft_wrap=True,
    )


def equilibria_facts(result: EquilibriaResult) -> tuple[tuple[str, str], ...]:
    """(label, value) rows of the equilibria for the HTML report."""
    is_map = result.kind == "map"
    rows = [("guarantee", result.guarantee)]
    for i, eq in enumerate(result.equilibria):
        lead = "max |mu|" if is_map else "max Re(lambda)"
        rows.append(
            (
                f"#{i + 1} " + state_text(eq.state_map, 8),
                f"{eq.classification.value}; {'stable' if eq.is_stable else 'unstable'}; "
                f"{lead} = {_leading(eq, is_map)}",
            )
        )
    return tuple(rows)


# --------------------------------------------------------------------------- continuation
def branches_from_equilibria(
    model: Model,
    request: ContinuationRequest,
    params: Mapping[str, float],
    bounds: Mapping[str, tuple[float, float]] | None,
) -> tuple[list[Branch], str]:
    """Continue from ``request.start`` or from every equilibrium at the start value.

    Returns the branches and a note (how the starts were found).
    """
    from stabkit.analysis.continuation import PALC, continue_branch
    from stabkit.analysis.equilibria import find_equilibria

    at = {**params, request.parameter: request.start_value}
    settings: dict[str, Any] = {}
    if request.ds is not None:
        settings["ds"] = request.ds
        settings["ds_max"] = max(request.ds, PALC().ds_max)
    if request.max_points is not None:
        settings["max_points"] = request.max_points
    method = PALC(**settings)
    kwargs: dict[str, Any] = {"params": at, "to": request.end_value, "method": method}
    if bounds:
        kwargs["bounds"] = dict(bounds)
    if request.start is not None:
        state = {**model.default_state_map(), **request.start}
        note = f"from the given start {state_text(state)}"
        return [continue_branch(model, request.parameter, state, **kwargs)], note
    found = find_equilibria(model, at, bounds=dict(bounds) if bounds else None, throw=False)
    starts = list(found.equilibria)
    note = (
        f"from the {len(starts)} equilibri{'um' if len(starts) == 1 else 'a'} at "
        f"{request.parameter} = {request.start_value:g} ({found.guarantee})"
    )
    if len(starts) > MAX_BRANCHES:
        note += f"; the first {MAX_BRANCHES} continued"
        starts = starts[:MAX_BRANCHES]
    return [continue_branch(model, request.parameter, eq, **kwargs) for eq in starts], note


def special_point_rows(branch: Branch) -> list[dict[str, str]]:
    """The special points of a branch as text columns."""
    rows = []
    for s in branch.special_points:
        l1 = s.first_lyapunov_coefficient
        coefficients = ", ".join(
            f"{k}={v:.6g}" for k, v in s.coefficients.items() if k not in ("l1",)
        )
        rows.append(
            {
                "kind": s.kind,
                "parameter": f"{s.parameter} = {s.parameter_value:.10g}",
                "state": ", ".join(
                    f"{v}={x:.8g}" for v, x in zip(branch.variables, s.state, strict=True)
                ),
                "l1": "" if l1 is None else f"{l1:.6g}",
                "criticality": s.criticality or "",
                "other": "; ".join(part for part in (coefficients, s.message) if part),
            }
        )
    return rows


def print_branches(console: Console, branches: Sequence[Branch]) -> None:
    """Per branch: its range, special points (kind, value, state, l1, criticality), end."""
    from rich.table import Table

    for i, branch in enumerate(branches):
        if len(branch):
            lo, hi = branch.parameter_values[0], branch.parameter_values[-1]
            extent = f"{branch.parameter} from {lo:.6g} to {hi:.6g}, {len(branch)} points"
        else:
            extent = "no points"
        label = f"Branch {i + 1}" if len(branches) > 1 else "Branch"
        console.print(f"[bold]{label}[/bold]: {extent}", highlight=False, soft_wrap=True)
        rows = special_point_rows(branch)
        if rows:
            t = Table(show_edge=False, title_justify="left")
            for c in ("kind", "parameter", "state", "l1", "criticality", "other"):
                t.add_column(c, overflow="fold")
            for row in rows:
                t.add_row(*row.values())
            console.print(t)
        else:
            console.print("  no special points", highlight=False)
        colour = "green" if branch.status == "ok" else "yellow"
        console.print(
            f"  ended: [{colour}]{branch.status}[/{colour}] ({branch.message})",
            highlight=False,
            soft_wrap=True,
        )


def _most_varying(branches: Sequence[Branch]) -> int:
    import numpy as np

    spans = [
        np.ptp(np.concatenate([b.states[:, j] for b in branches if len(b)]))
        for j in range(len(branches[0].variables))
    ]
    return int(np.argmax(spans))


def bifurcation_figure(branches: Sequence[Branch], variable: int | str | None = None) -> Figure:
    """All branches in one bifurcation diagram (``Branch.plot`` on a shared axis).

    ``variable`` defaults to the one that varies most along the branches.
    """
    from stabkit.report.figures import new_figure

    drawn = [b for b in branches if len(b)]
    if variable is None:
        variable = _most_varying(drawn)
    fig, (ax,) = new_figure(figsize=(7.5, 4.6))
    for branch in drawn:
        branch.plot(ax=ax, variable=variable)
    return fig


def write_report(
    out: Path,
    *,
    title: str,
    subtitle: str,
    sections: Sequence[ReportSection],
    branches: Sequence[Branch],
    equilibria: EquilibriaResult | None = None,
) -> Path:
    """CSV files of the equilibria and branches, and ``index.html``, in ``out``."""
    from stabkit.report.html import write_html_report

    out.mkdir(parents=True, exist_ok=True)
    if equilibria is not None:
        equilibria.save(out / "equilibria.csv")
    for i, branch in enumerate(branches):
        branch.save(out / f"branch_{i + 1}.csv")
    return write_html_report(out, list(sections), title=title, subtitle=subtitle)


def branch_section(
    branches: Sequence[Branch], note: str, figure: ReportFigure | None, figure_error: str = ""
) -> ReportSection:
    """The continuation as a report section: special points as facts, the diagram."""
    from stabkit.report.html import ReportSection

    facts: list[tuple[str, str]] = []
    for i, branch in enumerate(branches):
        prefix = f"branch {i + 1}: " if len(branches) > 1 else ""
        for row in special_point_rows(branch):
            value = f"{row['state']}"
            if row["l1"]:
                value += f"; l1 = {row['l1']} ({row['criticality']})"
            facts.append((f"{prefix}{row['kind']} at {row['parameter']}", value))
        facts.append((f"{prefix}ended", f"{branch.status}: {branch.message}"))
    trouble = any(b.status not in ("ok",) for b in branches)
    text = f"Pseudo-arclength continuation {note}."
    if figure_error:
        text += f"\n\nNo bifurcation diagram: {figure_error}"
    return ReportSection(
        title="Continuation",
        summary=f"continue_branch in {branches[0].parameter}" if branches else "continuation",
        text=text,
        facts=tuple(facts),
        figures=(figure,) if figure is not None else (),
        status="partial" if trouble or not branches else "ok",
        wall_time=sum(b.stats.wall_time for b in branches),
        compile_time=sum(b.stats.compile_time for b in branches) or None,
    )


def save_diagram(
    out: Path, branches: Sequence[Branch], name: str, caption: str
) -> tuple[ReportFigure | None, str]:
    """Draw and save the bifurcation diagram; ``(figure, "")`` or ``(None, why not)``."""
    import matplotlib.pyplot as plt

    from stabkit.report.figures import save_figure
    from stabkit.report.html import ReportFigure

    if not any(len(b) for b in branches):
        return None, "no branch points"
    try:
        fig = bifurcation_figure(branches)
    except ImportError as exc:  # the plotting module of branches is missing
        return None, str(exc)
    try:
        path = save_figure(fig, out / f"{name}.png")
    finally:
        plt.close(fig)
    return ReportFigure(Path(path.name), caption), ""
