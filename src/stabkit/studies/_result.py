"""The result of a study: one row per comparison, claim and recorded number."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.results import Result, to_jsonable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StudyResult", "StudyRow"]

#: Row kinds: a compared number, a number against a range, a qualitative claim, an
#: extra recorded number (no check), an expected entry the run never reached, one
#: skipped by quick mode.
ROW_KINDS = ("value", "range", "claim", "record", "missing", "skipped")


@dataclasses.dataclass(frozen=True)
class StudyRow:
    """One line of a study's outcome.

    Attributes
    ----------
    key
        The entry of ``expected.json`` (or the recorded name).
    kind
        One of ``"value"``, ``"range"``, ``"claim"``, ``"record"``, ``"missing"``,
        ``"skipped"``.
    measured
        The reproduced number (NaN for claims and missing entries).
    expected
        The paper's number (NaN for ranges, claims and records).
    tolerance
        As written in ``expected.json`` (relative when ``relative``).
    relative
        Whether ``tolerance`` is relative to ``expected``.
    lower, upper
        The accepted interval (NaN where there is none).
    standard_error
        The measurement's standard error, for stochastic estimates (NaN otherwise).
    passed
        Whether the row matched; ``None`` for records and skipped entries (no check).
    source
        Where the expected number or claim comes from.
    text
        The claim and the evidence for it, or why an entry is missing.
    """

    key: str
    kind: str
    measured: float = math.nan
    expected: float = math.nan
    tolerance: float = math.nan
    relative: bool = False
    lower: float = math.nan
    upper: float = math.nan
    standard_error: float = math.nan
    passed: bool | None = None
    source: str = ""
    text: str = ""


@dataclasses.dataclass(frozen=True)
class StudyResult(Result):
    """What :func:`~stabkit.studies.run_study` produced.

    ``status`` is ``"ok"`` when the study ran to its end and ``"error"`` when it raised
    (``message`` then holds the error and ``error_detail`` its traceback; the rows
    finished before it are kept). :attr:`passed` also needs every check to pass.

    Attributes
    ----------
    name
        The study's name.
    quick
        Whether it ran in quick mode.
    rows
        :class:`StudyRow` values in the order they were made, then the expected entries
        never reached.
    figures
        Paths of the figures written (empty without an output folder).
    tables
        Tables the study produced, by name.
    out
        The output folder, if any.
    report
        The HTML page written there, if any.
    error_detail
        Traceback of the error that stopped the study (empty when none).
    """

    name: str = ""
    quick: bool = True
    rows: tuple[StudyRow, ...] = ()
    figures: tuple[Path, ...] = ()
    tables: Mapping[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    out: Path | None = None
    report: Path | None = None
    error_detail: str = ""

    @property
    def checks(self) -> tuple[StudyRow, ...]:
        """The rows that are checks (everything but records and skipped entries)."""
        return tuple(r for r in self.rows if r.passed is not None)

    @property
    def failures(self) -> tuple[StudyRow, ...]:
        """The checks that failed."""
        return tuple(r for r in self.checks if not r.passed)

    @property
    def passed(self) -> bool:
        """True when the study ran to its end, made at least one check, and all passed."""
        return self.status == "ok" and bool(self.checks) and not self.failures

    def to_frame(self) -> pd.DataFrame:
        """One row per :class:`StudyRow`: key, measured, expected, tolerance, passed, ..."""
        import pandas as pd

        columns = [
            "key",
            "measured",
            "expected",
            "tolerance",
            "passed",
            "source",
            "kind",
            "relative",
            "lower",
            "upper",
            "standard_error",
            "text",
        ]
        frame = pd.DataFrame(
            [{c: getattr(r, c) for c in columns} for r in self.rows], columns=columns
        )
        frame["passed"] = frame["passed"].astype("boolean")
        for c in ("measured", "expected", "tolerance", "lower", "upper", "standard_error"):
            frame[c] = frame[c].astype(float)
        frame["relative"] = frame["relative"].astype(bool)
        frame.attrs["study"] = self.name
        return frame

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values (each table as a dict of column lists)."""
        tables = {name: frame.to_dict(orient="list") for name, frame in self.tables.items()}
        out = to_jsonable(dataclasses.replace(self, tables={}))
        out["tables"] = to_jsonable(tables)
        out["passed"] = self.passed
        out["type"] = type(self).__name__
        return out

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(0, ("study", f"{self.name} ({'quick' if self.quick else 'full'})"))
        rows.insert(1, ("passed", f"{len(self.checks) - len(self.failures)}/{len(self.checks)}"))
        return rows

    def __repr__(self) -> str:
        return (
            f"StudyResult({self.name!r}, passed={self.passed}, "
            f"{len(self.checks) - len(self.failures)}/{len(self.checks)} checks, "
            f"status={self.status!r})"
        )
