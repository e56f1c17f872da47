"""A study's output folder: ``results.csv``, ``result.json`` and an ``index.html`` page."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from stabkit.report.html import ReportFigure, ReportSection, write_html_report
from stabkit.studies._result import StudyResult, StudyRow

__all__ = ["row_text", "write_study_page"]


def _g(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.6g}"


def row_text(row: StudyRow) -> str:
    """A row in one line: verdict, measured against expected, and the source."""
    verdict = {True: "PASS", False: "FAIL", None: "-"}[row.passed]
    if row.kind == "value":
        tol = f"{row.tolerance:g}" + (" (relative)" if row.relative else "")
        what = f"measured {_g(row.measured)}, paper {_g(row.expected)} +/- {tol}"
    elif row.kind == "range":
        what = f"measured {_g(row.measured)}, paper range [{_g(row.lower)}, {_g(row.upper)}]"
    elif row.kind == "record":
        what = row.text or _g(row.measured)
        return f"{what}"
    elif row.kind == "missing":
        what = f"not reached: {row.text}"
    elif row.kind == "skipped":
        what = "skipped in quick mode (full run only)"
    else:
        what = row.text
    if not math.isnan(row.standard_error):
        what += f" (standard error {row.standard_error:.3g})"
    source = f" [{row.source}]" if row.source else ""
    return f"{verdict}: {what}{source}"


def write_study_page(
    result: StudyResult, *, captions: Sequence[str] = (), title: str = ""
) -> StudyResult:
    """Write ``results.csv``, ``result.json`` and ``index.html`` into ``result.out``.

    Returns the result with ``report`` set to the page.
    """
    if result.out is None:
        return result
    folder = result.out
    result.save(folder / "results.csv")
    checks = [(r.key, row_text(r)) for r in result.rows if r.kind != "record"]
    records = [(r.key, row_text(r)) for r in result.rows if r.kind == "record"]
    status = "ok" if result.passed else ("error" if result.status == "error" else "partial")
    text = result.message
    if result.status == "error":
        text += "\n\n" + result.error_detail
    sections = [
        ReportSection(
            title="Comparison with the paper",
            summary=f"{len(result.checks) - len(result.failures)}/{len(result.checks)} checks",
            text=text,
            facts=tuple(checks),
            status=status,
            wall_time=result.stats.wall_time,
        )
    ]
    if records:
        sections.append(ReportSection(title="Other numbers", facts=tuple(records)))
    if result.figures:
        padded = [*captions, *[""] * (len(result.figures) - len(captions))]
        figures = tuple(
            ReportFigure(path.relative_to(folder), caption)
            for path, caption in zip(result.figures, padded, strict=True)
        )
        sections.append(ReportSection(title="Figures", figures=figures))
    if result.tables:
        sections.append(
            ReportSection(
                title="Tables",
                text="Tables written beside this page as CSV files.",
                facts=tuple(
                    (f"{name}.csv", f"{len(frame)} rows: {', '.join(map(str, frame.columns))}")
                    for name, frame in result.tables.items()
                ),
            )
        )
    page = write_html_report(
        folder,
        sections,
        title=f"stabkit study: {result.name}",
        subtitle=title,
        facts=(
            ("mode", "quick" if result.quick else "full"),
            ("passed", "yes" if result.passed else "no"),
        ),
    )
    final = dataclasses.replace(result, report=page)
    final.save(folder / "result.json")
    return final
