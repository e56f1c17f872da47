"""Errors raised by stabkit.

Every error a user can provoke is a :class:`StabkitError`. Bad input raises at the
boundary and names the argument, the value and the fix; numerical trouble is reported
in a result's ``status`` and raised as :class:`ConvergenceError` only when the caller
did not ask for ``throw=False``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CompilationError",
    "ConvergenceError",
    "InputError",
    "ModelError",
    "SourceLocation",
    "StabkitError",
    "suggest",
]


class StabkitError(Exception):
    """Base class of every error stabkit raises on purpose."""


class InputError(StabkitError, ValueError):
    """An argument has a wrong value, type or shape.

    The message names the argument, the value received and how to fix it.
    """


@dataclass(frozen=True)
class SourceLocation:
    """Where in a model text an error sits (1-based line and column)."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<model>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ModelError(StabkitError, ValueError):
    """A model (file, equations, parameters) is malformed.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    file, line, column
        Where (1-based). ``file`` is ``None`` for models built in Python.
    text
        The offending source text, shown with a caret under ``column``.
    suggestion
        How to fix it (``did you mean 'gamma'?``).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        text: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.reason = message
        self.location = SourceLocation(file, line, column)
        self.text = text
        self.suggestion = suggestion
        super().__init__(self._format())

    @property
    def file(self) -> str | None:
        return self.location.file

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def column(self) -> int | None:
        return self.location.column

    def with_location(
        self,
        *,
        file: str | None = None,
        line: int | None = None,
        column_offset: int = 0,
    ) -> ModelError:
        """A copy placed in a file: ``line`` replaces, ``column_offset`` shifts the column."""
        column = self.column + column_offset if self.column is not None else None
        return ModelError(
            self.reason,
            file=file if file is not None else self.file,
            line=line if line is not None else self.line,
            column=column,
            text=self.text,
            suggestion=self.suggestion,
        )

    def _format(self) -> str:
        where = ""
        if self.file is not None or self.line is not None:
            where = f"{self.location}: "
        msg = f"{where}{self.reason}"
        if self.suggestion:
            msg += f"; {self.suggestion}"
        if self.text is not None:
            msg += f"\n    {self.text}"
            if self.column is not None:
                msg += "\n    " + " " * max(self.column - 1, 0) + "^"
        return msg

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:  # picklable across processes
        return (
            _rebuild_model_error,
            (self.reason, self.file, self.line, self.column, self.text, self.suggestion),
        )


def _rebuild_model_error(
    reason: str,
    file: str | None,
    line: int | None,
    column: int | None,
    text: str | None,
    suggestion: str | None,
) -> ModelError:
    return ModelError(reason, file=file, line=line, column=column, text=text, suggestion=suggestion)


class ConvergenceError(StabkitError, RuntimeError):
    """A numerical method did not converge; ``result`` holds what was computed."""

    def __init__(self, message: str, result: object | None = None) -> None:
        super().__init__(message)
        self.result = result


class CompilationError(StabkitError, RuntimeError):
    """Generated or user code could not be compiled by numba."""


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest candidate, or ``None``."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if matches:
        return f"did you mean '{matches[0]}'?"
    return None
