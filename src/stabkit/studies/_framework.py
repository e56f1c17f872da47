"""Running a study: the context a study's ``run(ctx)`` gets, and :func:`run_study`."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import math
import os
import pkgutil
import re
import time
import tomllib
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from stabkit.errors import InputError, suggest
from stabkit.results import Provenance, Stats
from stabkit.studies._expected import Expectation, load_expected
from stabkit.studies._result import StudyResult, StudyRow

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["StudyContext", "list_studies", "run_study"]

logger = logging.getLogger("stabkit.studies")

_PACKAGE = "stabkit.studies"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class StudyContext:
    """What a study's ``run(ctx)`` works with: its settings and where its findings go.

    A study reads :attr:`config` and :attr:`quick`, computes with the public API, and
    reports every finding through :meth:`compare` (a number cited in ``expected.json``),
    :meth:`check` (a qualitative claim cited there), :meth:`record` (an extra number),
    :meth:`figure` and :meth:`table`. Each call adds a row to the study's result at
    once, so an error later in the study loses nothing already found.

    Attributes
    ----------
    name
        The study's name.
    config
        Settings from ``config.toml``; in quick mode the ``[quick]`` table's keys
        replace the top-level ones (tables are merged key by key).
    quick
        True in quick mode (the test suite's): the study must finish in seconds.
    expected
        The entries of ``expected.json`` by key.
    out
        The output folder, or ``None`` (figures are then not rendered).
    """

    def __init__(
        self,
        name: str,
        config: Mapping[str, Any],
        expected: Mapping[str, Expectation],
        *,
        quick: bool,
        out: Path | None,
        expected_file: Path | None = None,
    ) -> None:
        self.name = name
        self.config: dict[str, Any] = dict(config)
        self.expected: Mapping[str, Expectation] = dict(expected)
        self.quick = quick
        self.out = out
        self._expected_file = expected_file
        self._rows: list[StudyRow] = []
        self._done: set[str] = set()
        self._figures: list[Path] = []
        self._captions: list[str] = []
        self._tables: dict[str, pd.DataFrame] = {}

    # ------------------------------------------------------------------ lookups
    def _entry(self, key: str, kinds: tuple[str, ...], call: str) -> Expectation:
        entry = self.expected.get(key)
        where = self._expected_file or "expected.json"
        if entry is None:
            hint = suggest(key, self.expected)
            raise InputError(
                f"study {self.name!r}: {call}({key!r}, ...) but {where} has no entry {key!r}"
                + (f"; {hint}" if hint else "")
                + "; add it with its value and source"
            )
        if entry.kind not in kinds:
            use = "check" if entry.kind == "claim" else "compare"
            raise InputError(
                f"study {self.name!r}: {call}({key!r}, ...) but {where} holds a {entry.kind} "
                f"under {key!r}; use ctx.{use}"
            )
        if key in self._done:
            raise InputError(f"study {self.name!r}: {key!r} was already reported once")
        self._done.add(key)
        return entry

    # ------------------------------------------------------------------ findings
    def compare(self, key: str, measured: float, standard_error: float | None = None) -> bool:
        """Compare a reproduced number with the entry ``key`` of ``expected.json``.

        Parameters
        ----------
        key
            The entry (a ``value`` or ``range`` entry).
        measured
            The reproduced number.
        standard_error
            Its standard error, for stochastic estimates: the accepted interval widens
            by ``num_standard_errors`` (default 3) standard errors.

        Returns
        -------
        bool
            Whether it matched (also recorded in the result).

        Raises
        ------
        InputError
            ``expected.json`` has no such entry (did-you-mean given), the entry is a
            claim, the key was reported before, or ``measured`` is not a number.
        """
        entry = self._entry(key, ("value", "range"), "compare")
        value = _as_float(measured, f"compare({key!r}, measured=...)")
        se = None if standard_error is None else _as_float(standard_error, "standard_error")
        passed = entry.accepts(value, se)
        self._rows.append(
            StudyRow(
                key=key,
                kind=entry.kind,
                measured=value,
                expected=entry.value,
                tolerance=entry.tolerance,
                relative=entry.relative,
                lower=entry.lower,
                upper=entry.upper,
                standard_error=math.nan if se is None else se,
                passed=passed,
                source=entry.source,
                text=entry.note,
            )
        )
        logger.info("%s: %s = %.6g (%s)", self.name, key, value, "ok" if passed else "FAILED")
        return passed

    def check(self, key: str, passed: bool, evidence: str) -> bool:
        """Record whether the claim ``key`` of ``expected.json`` holds, with the evidence.

        Returns ``passed``. Raises :class:`~stabkit.errors.InputError` when there is no
        such claim, or ``passed`` is not a bool (numpy bools are accepted).
        """
        entry = self._entry(key, ("claim",), "check")
        if type(passed).__name__ not in ("bool", "bool_"):
            raise InputError(f"check({key!r}, passed={passed!r}): passed must be True or False")
        ok = bool(passed)
        self._rows.append(
            StudyRow(
                key=key,
                kind="claim",
                passed=ok,
                source=entry.source,
                text=f"{entry.claim} -- {evidence}",
            )
        )
        logger.info("%s: claim %s (%s)", self.name, key, "ok" if ok else "FAILED")
        return ok

    def record(self, key: str, value: float | str) -> None:
        """Record an extra number (or a short text) that is reported but not checked."""
        if isinstance(value, str):
            self._rows.append(StudyRow(key=key, kind="record", text=value))
            return
        self._rows.append(
            StudyRow(key=key, kind="record", measured=_as_float(value, f"record({key!r})"))
        )

    def figure(self, name: str, fig: Figure, caption: str) -> Path | None:
        """Save ``fig`` as ``<out>/<name>.png`` (when there is an output folder) and close it."""
        _check_file_name(name)
        import matplotlib.pyplot as plt

        try:
            if self.out is None:
                return None
            from stabkit.report.figures import save_figure

            path = save_figure(fig, self.out / f"{name}.png")
            self._figures.append(path)
            self._captions.append(caption)
            return path
        finally:
            plt.close(fig)

    def table(self, name: str, frame: pd.DataFrame) -> Path | None:
        """Keep a table in the result; write ``<out>/<name>.csv`` when there is a folder."""
        import pandas as pd

        _check_file_name(name)
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"table({name!r}, ...): expected a pandas DataFrame")
        self._tables[name] = frame
        if self.out is None:
            return None
        path = self.out / f"{name}.csv"
        frame.to_csv(path, index=False)
        return path


def _as_float(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected a number, got {value!r}") from None
    return number


def _check_file_name(name: str) -> None:
    if not isinstance(name, str) or not _FILE_NAME.match(name):
        raise InputError(f"figure/table name {name!r}: use letters, digits, '_', '-' and '.' only")


# ---------------------------------------------------------------------- finding studies
def _studies_folder() -> Path:
    return Path(__file__).resolve().parent


def list_studies() -> list[str]:
    """Names of the bundled studies (folders of :mod:`stabkit.studies` with a study.py)."""
    pkg = importlib.import_module(_PACKAGE)
    names = []
    for info in pkgutil.iter_modules(pkg.__path__):
        folder = _studies_folder() / info.name
        if info.ispkg and not info.name.startswith("_") and (folder / "study.py").is_file():
            names.append(info.name)
    return sorted(names)


def _load_file_module(folder: Path) -> ModuleType:
    file = folder / "study.py"
    if not file.is_file():
        raise InputError(f"study folder {str(folder)!r} has no study.py")
    digest = hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"_stabkit_study_{digest}", file)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise InputError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolve(study: str | os.PathLike[str] | ModuleType) -> tuple[str, ModuleType, Path]:
    if isinstance(study, ModuleType):
        file = getattr(study, "__file__", None)
        if file is None:
            raise InputError(f"study module {study.__name__!r} has no file (it needs a folder)")
        folder = Path(file).resolve().parent
        return folder.name, study, folder
    if isinstance(study, os.PathLike) or os.sep in study or "/" in study:
        folder = Path(study)
        if not folder.is_dir():
            raise InputError(f"study folder {str(folder)!r} not found")
        return folder.name, _load_file_module(folder), folder
    if not isinstance(study, str):
        raise InputError(f"study={study!r}: expected a study name, a folder or a module")
    name = study.replace("-", "_")
    names = list_studies()
    if name not in names:
        hint = suggest(name, names)
        raise InputError(
            f"no study {study!r}; the studies are {', '.join(names) or '(none)'}"
            + (f"; {hint}" if hint else "")
        )
    module = importlib.import_module(f"{_PACKAGE}.{name}.study")
    return name, module, _studies_folder() / name


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(folder: Path, *, quick: bool) -> dict[str, Any]:
    """``config.toml`` of a study folder, with ``[quick]`` applied in quick mode."""
    file = folder / "config.toml"
    if not file.is_file():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{file}: malformed TOML ({err})") from None
    overrides = data.pop("quick", {})
    if not isinstance(overrides, Mapping):
        raise InputError(f"{file}: 'quick' must be a table ([quick]) of overrides")
    unknown = sorted(set(overrides) - set(data))
    if unknown:
        hint = suggest(unknown[0], data)
        raise InputError(
            f"{file}: [quick] overrides {', '.join(map(repr, unknown))}, which the top level "
            "does not set" + (f"; {hint}" if hint else "")
        )
    return _merge(data, overrides) if quick else data


# ---------------------------------------------------------------------- running
def run_study(
    study: str | os.PathLike[str] | ModuleType,
    *,
    quick: bool = True,
    out: str | os.PathLike[str] | None = None,
) -> StudyResult:
    """Run a study and compare what it finds with the numbers its paper states.

    Parameters
    ----------
    study
        A bundled study's name (see :func:`list_studies`; ``-`` may stand for ``_``),
        a folder holding ``study.py``, ``config.toml`` and ``expected.json``, or an
        imported ``study`` module (its folder holds the other two files).
    quick
        Quick mode (seconds; what the test suite runs) or the full run.
    out
        Folder for figures (PNG), tables (CSV), ``results.csv``, ``result.json`` and
        an ``index.html`` page; nothing is written when ``None``.

    Returns
    -------
    StudyResult
        One row per comparison, claim and record; ``passed`` when every check passed.
        A study that raises has status ``"error"`` and keeps the rows it finished;
        expected entries it never reached appear as failed ``"missing"`` rows (or
        ``"skipped"`` ones, in quick mode, for entries marked ``full_only``).

    Raises
    ------
    InputError
        Unknown study (with a did-you-mean), a folder without ``study.py``, a module
        without ``run``, or a malformed ``config.toml`` or ``expected.json``.

    Examples
    --------
    >>> from stabkit.studies import list_studies, run_study
    >>> result = run_study(list_studies()[0], quick=True)   # doctest: +SKIP
    >>> result.passed, result.to_frame()[["key", "measured", "expected"]]  # doctest: +SKIP
    """
    if not isinstance(quick, bool):
        raise InputError(f"quick={quick!r}: must be True or False")
    name, module, folder = _resolve(study)
    run_fn: Callable[[StudyContext], Any] | None = getattr(module, "run", None)
    if not callable(run_fn):
        raise InputError(f"study {name!r}: {module.__name__} does not define run(ctx)")
    expected_file = folder / "expected.json"
    expected = load_expected(expected_file)
    config = load_config(folder, quick=quick)
    target = Path(out) if out is not None else None
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    ctx = StudyContext(name, config, expected, quick=quick, out=target, expected_file=expected_file)
    status, message, detail = "ok", "", ""
    began = time.perf_counter()
    try:
        run_fn(ctx)
    except Exception as exc:
        status = "error"
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        message = f"the study stopped with {summary.splitlines()[-1] if summary else exc!r}"
        detail = traceback.format_exc()
        logger.warning("study %s: %s", name, message)
    wall = time.perf_counter() - began
    rows = list(ctx._rows)
    for key, entry in expected.items():
        if key in ctx._done:
            continue
        if quick and entry.full_only:
            rows.append(
                StudyRow(key=key, kind="skipped", source=entry.source, text="full run only")
            )
        else:
            why = (
                "the study stopped before reaching it"
                if status == "error"
                else ("the study never compared or checked it")
            )
            rows.append(
                StudyRow(
                    key=key,
                    kind="missing",
                    expected=entry.value,
                    tolerance=entry.tolerance,
                    relative=entry.relative,
                    lower=entry.lower,
                    upper=entry.upper,
                    passed=False,
                    source=entry.source,
                    text=why,
                )
            )
    mode = "quick" if quick else "full"
    checks = [r for r in rows if r.passed is not None]
    num_passed = sum(1 for r in checks if r.passed)
    if status == "ok":
        message = f"{num_passed}/{len(checks)} checks passed"
    result = StudyResult(
        status=status,
        message=message,
        stats=Stats(wall_time=wall, extra={"num_checks": len(checks), "num_passed": num_passed}),
        provenance=Provenance(analysis="run_study", method=f"{name} ({mode})"),
        name=name,
        quick=quick,
        rows=tuple(rows),
        figures=tuple(ctx._figures),
        tables=dict(ctx._tables),
        out=target,
        error_detail=detail,
    )
    if target is not None:
        from stabkit.studies._page import write_study_page

        result = write_study_page(result, captions=tuple(ctx._captions), title=_title(module))
    return result


def _title(module: ModuleType) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""
