"""Reading and checking a study's ``expected.json``: the cited numbers and claims.

Each entry is one of::

    {"value": 0.4709, "tolerance": 0.02, "relative": true, "source": "..."}   a number
    {"range": [1.2, 1.5], "source": "..."}                                      an interval
    {"claim": "the origin is stable for b < 2", "source": "..."}               a claim

A number is matched when ``|measured - value| <= tol`` with ``tol = tolerance * |value|``
when ``relative`` is true and ``tol = tolerance`` when it is false (the default); a
Monte Carlo estimate with standard error ``se`` may also fall within
``num_standard_errors * se`` (default 3) beyond that. Optional fields on every entry:
``note`` (free text), ``unit``, ``full_only`` (true: checked only by the full run).
Keys starting with ``_`` (e.g. ``"_comment"``) are ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stabkit.errors import InputError, suggest

__all__ = ["Expectation", "load_expected"]

_COMMON = {"source", "note", "unit", "full_only"}
_FIELDS = {
    "value": {"value", "tolerance", "relative", "num_standard_errors"} | _COMMON,
    "range": {"range", "num_standard_errors"} | _COMMON,
    "claim": {"claim"} | _COMMON,
}


@dataclasses.dataclass(frozen=True)
class Expectation:
    """One entry of ``expected.json``.

    Attributes
    ----------
    key
        The entry's name.
    kind
        ``"value"``, ``"range"`` or ``"claim"``.
    source
        Where the number or claim comes from (paper, table, equation).
    value, tolerance, relative
        A number and how close a measurement must come (``kind == "value"``).
    lower, upper
        The accepted interval: ``value -/+ tol`` or the ``range``.
    claim
        The paper's qualitative statement (``kind == "claim"``).
    num_standard_errors
        How many standard errors a stochastic estimate may add to the tolerance.
    note, unit
        Free text.
    full_only
        Checked only by the full run (quick mode skips it).
    """

    key: str
    kind: str
    source: str
    value: float = math.nan
    tolerance: float = math.nan
    relative: bool = False
    lower: float = math.nan
    upper: float = math.nan
    claim: str = ""
    num_standard_errors: float = 3.0
    note: str = ""
    unit: str = ""
    full_only: bool = False

    def accepts(self, measured: float, standard_error: float | None = None) -> bool:
        """Whether ``measured`` (with its standard error, if any) matches the entry."""
        if self.kind == "claim":
            raise InputError(f"expected entry {self.key!r} is a claim, not a number")
        if not math.isfinite(measured):
            return False
        slack = 0.0
        if standard_error is not None:
            slack = self.num_standard_errors * abs(float(standard_error))
        return self.lower - slack <= measured <= self.upper + slack


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: {name!r} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{where}: {name!r} must be finite, got {value!r}")
    return number


def _entry(file: Path, key: str, raw: Any) -> Expectation:
    where = f"{file}: entry {key!r}"
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: must be an object such as {{'value': ..., 'source': ...}}")
    kinds = [k for k in ("value", "range", "claim") if k in raw]
    if len(kinds) != 1:
        raise InputError(
            f"{where}: needs exactly one of 'value', 'range' or 'claim', found "
            + (", ".join(repr(k) for k in kinds) or "none")
        )
    kind = kinds[0]
    for name in raw:
        if name not in _FIELDS[kind]:
            hint = suggest(name, _FIELDS[kind])
            raise InputError(
                f"{where}: unknown field {name!r} for a {kind} entry; allowed: "
                + ", ".join(sorted(_FIELDS[kind]))
                + (f"; {hint}" if hint else "")
            )
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError(f"{where}: 'source' (where the number or claim comes from) is missing")
    common: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "source": source,
        "note": str(raw.get("note", "")),
        "unit": str(raw.get("unit", "")),
        "full_only": bool(raw.get("full_only", False)),
    }
    if "num_standard_errors" in raw:
        k = _number(where, "num_standard_errors", raw["num_standard_errors"])
        if k < 0:
            raise InputError(f"{where}: 'num_standard_errors' must be >= 0, got {k:g}")
        common["num_standard_errors"] = k
    if kind == "claim":
        claim = raw["claim"]
        if not isinstance(claim, str) or not claim.strip():
            raise InputError(f"{where}: 'claim' must be the text of the paper's statement")
        return Expectation(claim=claim, **common)
    if kind == "range":
        bounds = raw["range"]
        if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
            raise InputError(f"{where}: 'range' must be [lower, upper], got {bounds!r}")
        lo = _number(where, "range[0]", bounds[0])
        hi = _number(where, "range[1]", bounds[1])
        if lo > hi:
            raise InputError(f"{where}: 'range' [{lo:g}, {hi:g}] has lower > upper")
        return Expectation(lower=lo, upper=hi, **common)
    value = _number(where, "value", raw["value"])
    if "tolerance" not in raw:
        raise InputError(f"{where}: 'tolerance' is missing (how close a measurement must be)")
    tolerance = _number(where, "tolerance", raw["tolerance"])
    if tolerance < 0:
        raise InputError(f"{where}: 'tolerance' must be >= 0, got {tolerance:g}")
    relative = raw.get("relative", False)
    if not isinstance(relative, bool):
        raise InputError(f"{where}: 'relative' must be true or false, got {relative!r}")
    width = tolerance * abs(value) if relative else tolerance
    return Expectation(
        value=value,
        tolerance=tolerance,
        relative=relative,
        lower=value - width,
        upper=value + width,
        **common,
    )


def load_expected(file: Path) -> dict[str, Expectation]:
    """The entries of an ``expected.json`` file, validated.

    Raises
    ------
    InputError
        The file is missing, is not valid JSON (line and column given), is not an
        object, or an entry is malformed (naming the entry and the field).
    """
    if not file.is_file():
        raise InputError(f"{file}: not found; every study needs an expected.json")
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{file}:{err.lineno}:{err.colno}: malformed JSON ({err.msg})") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{file}: must hold one JSON object of entries, got {type(data).__name__}")
    return {
        key: _entry(file, key, raw) for key, raw in data.items() if not str(key).startswith("_")
    }
