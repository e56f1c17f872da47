"""``stabkit report INPUT``: a self-contained HTML page of a saved result or of a model.

``INPUT`` is a result saved as ``.json`` (``Result.save``, ``stabkit sweep --out``), a
table as ``.parquet`` / ``.csv``, a sweep store directory, or a model (a ``.toml`` file or
a library name). For a result: its status, provenance and table (summary statistics, the
first rows, a heat map of a two-parameter sweep). For a model: its equations, parameter
values, equilibria with their stability, and a phase portrait.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.commands._common import (
    expression_text,
    load_model_spec,
    number_text,
    parse_params,
    state_text,
)
from stabkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from stabkit.report.html import ReportFigure, ReportSection

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "report"
HELP = "write a self-contained HTML page of a saved result, a sweep store or a model"

_ROWS_SHOWN = 15


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit report``."""
    parser.description = __doc__.split("\n\n", 1)[1].replace("\n", " ") if __doc__ else ""
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="a result (.json, .parquet, .csv), a sweep store directory, or a model",
    )
    parser.add_argument(
        "--out", default="report", metavar="DIR", help="report folder (default: report)"
    )
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="for a model: parameter values",
    )
    parser.add_argument(
        "--t-end", type=float, default=50.0, metavar="T", help="for a model: phase portrait time"
    )
    parser.add_argument("--outcome", metavar="COLUMN", help="for a sweep: the column to map")


# --------------------------------------------------------------------------- results
def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, rows)
    elif isinstance(value, list) and len(value) > 8:
        rows.append((prefix, f"[{len(value)} values]"))
    else:
        rows.append((prefix, str(value)))


def _load_result(path: Path) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """(fields, table) of a saved result, table or store."""
    import pandas as pd

    if path.is_dir():
        meta_file = path / "_sweep.json"
        if not meta_file.is_file():
            raise InputError(f"INPUT {str(path)!r}: a directory without _sweep.json is no store")
        meta = json.loads(meta_file.read_text())
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # no chunk yet, or unreadable
            raise InputError(
                f"INPUT {str(path)!r}: the store has no readable table ({exc})"
            ) from None
        names = list(meta.get("points", {}).get("names", []) or [])
        return {"type": "sweep store", "provenance": meta, "names": names}, frame
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"INPUT {str(path)!r}: no such file")
    if suffix == ".parquet":
        return {"type": "table"}, pd.read_parquet(path)
    if suffix == ".csv":
        return {"type": "table"}, pd.read_csv(path)
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"INPUT {str(path)!r}: not a JSON result ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(
            f"INPUT {str(path)!r}: a JSON result is an object, not {type(data).__name__}"
        )
    table = data.pop("table", None)
    frame = pd.DataFrame(table) if isinstance(table, list) and table else None
    return data, frame


def _table_facts(frame: pd.DataFrame) -> list[tuple[str, str]]:
    rows = [("rows x columns", f"{len(frame)} x {len(frame.columns)}")]
    if "status" in frame.columns:
        counts = frame["status"].value_counts().to_dict()
        rows.append(("point status", ", ".join(f"{k}: {v}" for k, v in counts.items())))
    for col in frame.columns:
        if col in ("point_index", "status", "message"):
            continue
        series = frame[col]
        if series.dtype.kind in "fiu":
            rows.append(
                (
                    col,
                    f"min {number_text(series.min(), 6)}, mean {number_text(series.mean(), 6)}, "
                    f"max {number_text(series.max(), 6)}",
                )
            )
        elif series.dtype.kind == "b":
            rows.append((col, f"true in {int(series.sum())} of {len(series)} rows"))
    return rows


def _first_rows(frame: pd.DataFrame) -> list[tuple[str, str]]:
    rows = []
    shown = [c for c in frame.columns if c not in ("message", "seconds")]
    for i in range(min(_ROWS_SHOWN, len(frame))):
        rec = frame.iloc[i]
        text = ", ".join(
            f"{c}={number_text(rec[c], 6) if isinstance(rec[c], float) else rec[c]}" for c in shown
        )
        rows.append((f"row {i}", text))
    if len(frame) > _ROWS_SHOWN:
        rows.append(("...", f"{len(frame) - _ROWS_SHOWN} more rows"))
    return rows


def _save_figure(fig: Any, out: Path, name: str, caption: str) -> ReportFigure:
    import matplotlib.pyplot as plt

    from stabkit.report.html import ReportFigure

    path = out / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return ReportFigure(path=Path(path.name), caption=caption)


def _result_sections(
    data: dict[str, Any], frame: pd.DataFrame | None, out: Path, outcome: str | None
) -> list[ReportSection]:
    from stabkit.report.html import ReportSection
    from stabkit.report.sweep_figures import grid_names, outcome_columns, plot_sweep_table

    kind = str(data.get("type", "result"))
    status = str(data.get("status", "ok"))
    facts: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in ("provenance", "stats", "type", "status", "message"):
            continue
        _flatten(key, value, facts)
    _flatten("stats", data.get("stats", {}), facts)
    sections = [
        ReportSection(
            title=kind,
            summary=f"{kind}, status {status}",
            text=str(data.get("message", "")),
            facts=tuple(facts),
            status="ok" if status in ("ok", "") else "partial",
            wall_time=(data.get("stats") or {}).get("wall_time"),
        )
    ]
    if frame is not None:
        figures = []
        names = tuple(data.get("names") or grid_names(frame))
        if names and outcome_columns(frame, names):
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6.4, 4.8))
            plot_sweep_table(frame, names, outcome, ax=ax)
            figures.append(
                _save_figure(fig, out, "sweep", f"{ax.get_title() or 'outcome'} over {names}.")
            )
        sections.append(
            ReportSection(
                title="Table",
                summary=f"{len(frame)} rows, columns {', '.join(map(str, frame.columns[:8]))}",
                facts=tuple(_table_facts(frame) + _first_rows(frame)),
                figures=tuple(figures),
            )
        )
    prov: list[tuple[str, str]] = []
    _flatten("", data.get("provenance", {}), prov)
    if prov:
        sections.append(
            ReportSection(title="Provenance", summary="how the result was made", facts=tuple(prov))
        )
    return sections


# --------------------------------------------------------------------------- models
def _model_sections(model: Any, out: Path, t_end: float) -> list[ReportSection]:
    from stabkit.analysis.equilibria import find_equilibria
    from stabkit.commands._continuation import equilibria_facts
    from stabkit.report.html import ReportSection

    is_map = model.kind.value == "map"
    eqs: list[tuple[str, str]] = []
    for var, expr in zip(model.variables, model.equations, strict=True):
        lhs = f"{var}[n+1]" if is_map else f"d{var}/dt"
        eqs.append((lhs, expression_text(expr)))
    eqs += [(f"parameter {k}", number_text(v)) for k, v in model.default_parameter_map().items()]
    eqs.append(("initial state", state_text(model.default_state_map())))
    sections = [
        ReportSection(
            title=f"Model {model.name}",
            summary=f"{model.kind.value} in {', '.join(model.variables)}",
            text=" ".join(filter(None, [model.description, model.citation])),
            facts=tuple(eqs),
        )
    ]
    t0 = time.perf_counter()
    res = find_equilibria(model, throw=False)
    sections.append(
        ReportSection(
            title="Fixed points" if is_map else "Equilibria",
            summary=f"find_equilibria: {len(res.equilibria)} found",
            text=res.message,
            facts=equilibria_facts(res),
            status="ok" if res.status == "ok" else "partial",
            wall_time=time.perf_counter() - t0,
        )
    )
    sections.append(_portrait_section(model, res, out, t_end))
    return sections


def _portrait_section(model: Any, equilibria: Any, out: Path, t_end: float) -> ReportSection:
    import matplotlib.pyplot as plt

    from stabkit.integrate.solve import solve
    from stabkit.report.figures import plot_phase_portrait, plot_time_series
    from stabkit.report.html import ReportSection

    t0 = time.perf_counter()
    is_map = model.kind.value == "map"
    traj = solve(model, t_span=(0.0, float(round(t_end)) if is_map else t_end))
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if len(model.variables) >= 2:
        if is_map:
            plot_phase_portrait(traj, ax=ax, linestyle="none", marker=".")
        else:
            plot_phase_portrait(traj, ax=ax)
        for eq in equilibria.equilibria:
            mark = "o" if eq.is_stable else "x"
            ax.plot(eq.state[0], eq.state[1], mark, color="k", ms=8, mfc="none")
        what = f"phase portrait ({model.variables[0]}, {model.variables[1]})"
    else:
        plot_time_series(traj, ax=ax)
        what = "time series"
    caption = (
        f"{what} from the default state over {t_end:g}"
        + ("; equilibria: o stable, x unstable" if len(model.variables) >= 2 else "")
        + f"; integration status {traj.status}."
    )
    figure = _save_figure(fig, out, "portrait", caption)
    return ReportSection(
        title="Phase portrait" if len(model.variables) >= 2 else "Time series",
        summary=f"solve over (0, {t_end:g})",
        figures=(figure,),
        status="ok" if str(traj.status) in ("ok", "success") else "partial",
        wall_time=time.perf_counter() - t0,
    )


def run(args: argparse.Namespace, console: Console) -> int:
    """Write ``index.html`` (figures embedded) in ``--out``."""
    import matplotlib

    from stabkit.report.html import write_html_report

    matplotlib.use("Agg")
    out = Path(args.out)
    path = Path(args.input)
    result_like = path.is_dir() or path.suffix.lower() in (".json", ".parquet", ".csv")
    if result_like and args.param:
        raise InputError("--param goes with a model, not with a saved result")
    out.mkdir(parents=True, exist_ok=True)
    if result_like:
        data, frame = _load_result(path)
        sections = _result_sections(data, frame, out, args.outcome)
        title = f"stabkit report: {path.name}"
        subtitle = f"{data.get('type', 'result')} from {path}"
    else:
        model = load_model_spec(args.input)
        params = parse_params(args.param)
        if params:
            model = model.with_params(**params)
        if not args.t_end > 0:
            raise InputError(f"--t-end {args.t_end}: need > 0")
        sections = _model_sections(model, out, args.t_end)
        title = f"stabkit report: {model.name}"
        subtitle = f"{model.kind.value} model"
    page = write_html_report(out, sections, title=title, subtitle=subtitle)
    console.print(f"wrote {page}", highlight=False, markup=False, soft_wrap=True)
    return 0
