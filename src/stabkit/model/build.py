"""Equation text and values -> :class:`~stabkit.model.model.Model`, validated.

:func:`build_model` is what :meth:`Model.from_equations` and the TOML reader call. It
checks every name and value, resolves the definitions in dependency order, parses the
equations with the whitelisting parser of :mod:`stabkit.model.parse`, and raises
:class:`~stabkit.errors.ModelError` for anything wrong. Given a source map (the TOML
reader builds one), each error names the file, line and column of the offending text.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.errors import ModelError, suggest
from stabkit.model.model import TIME, Model, ModelKind
from stabkit.model.parse import FUNCTIONS, parse

__all__ = ["RESERVED_NAMES", "SourceMap", "SourcePosition", "build_model", "is_identifier"]

#: Names a model may not declare: time.
RESERVED_NAMES = frozenset({TIME.name})
_SUPPORTED_KINDS = (ModelKind.ODE, ModelKind.MAP)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NOUNS = {
    "variables": "variable",
    "parameters": "parameter",
    "definitions": "definition",
    "equations": "equation",
}


def is_identifier(name: object) -> bool:
    """True for a valid name: an ASCII letter or ``_``, then letters, digits, ``_``."""
    return isinstance(name, str) and _IDENTIFIER.match(name) is not None


@dataclasses.dataclass(frozen=True, eq=False)
class SourcePosition:
    """Where a key and its value sit in a model file (1-based lines and columns).

    Attributes
    ----------
    file
        The file name, for messages.
    line, column
        Position of the key (or of a table header).
    value_line, value_column
        Position of the value's first character; for a string, of the first
        character inside the quotes.
    lines
        The file's lines, to show the offending one under the message.
    char_positions
        For a string value: ``(line, column)`` of each character of the decoded
        string, so that columns reported by the parser map to the file exactly
        (escapes and multi-line strings included).
    """

    file: str | None
    line: int
    column: int
    value_line: int
    value_column: int
    lines: tuple[str, ...] = ()
    char_positions: tuple[tuple[int, int], ...] = ()

    def locate(self, offset: int | None) -> tuple[int, int]:
        """``(line, column)`` of character ``offset`` of the value (``None``: the key)."""
        if offset is None:
            return self.line, self.column
        if self.char_positions:
            if offset < len(self.char_positions):
                return self.char_positions[offset]
            line, column = self.char_positions[-1]
            return line, column + 1 + offset - len(self.char_positions)
        return self.value_line, self.value_column + offset

    def error(
        self, message: str, *, offset: int | None = None, suggestion: str | None = None
    ) -> ModelError:
        """A :class:`ModelError` placed at the key (``offset=None``) or inside the value."""
        line, column = self.locate(offset)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return ModelError(
            message, file=self.file, line=line, column=column, text=text, suggestion=suggestion
        )


#: ``(table, key) -> position``; ``(table, "")`` is the table's header.
SourceMap = Mapping[tuple[str, str], SourcePosition]


class _Places:
    """Builds errors placed by a source map when there is one."""

    def __init__(self, source: SourceMap | None) -> None:
        self.source = source or {}
        root = self.source.get(("", "")) or next(iter(self.source.values()), None)
        self.file = root.file if root is not None else None

    def error(
        self,
        message: str,
        table: str,
        key: str = "",
        *,
        at_value: bool = False,
        suggestion: str | None = None,
    ) -> ModelError:
        position = self.source.get((table, key)) or self.source.get((table, ""))
        if position is None or not table:
            return ModelError(message, file=self.file, suggestion=suggestion)
        exact = (table, key) in self.source
        return position.error(
            message, offset=0 if at_value and exact else None, suggestion=suggestion
        )

    def relocate(self, err: ModelError, table: str, key: str, text: str) -> ModelError:
        """A parse error inside ``text`` (the value of ``table.key``), placed in the file."""
        noun = "equation for" if table == "equations" else "definition of"
        reason = f"{noun} {key!r}: {err.reason}"
        position = self.source.get((table, key))
        if position is None:
            return ModelError(
                reason,
                file=self.file,
                line=err.line,
                column=err.column,
                text=err.text,
                suggestion=err.suggestion,
            )
        offset = None
        if err.column is not None:
            lines = text.split("\n")
            before = sum(len(line) + 1 for line in lines[: (err.line or 1) - 1])
            offset = before + err.column - 1
        return position.error(reason, offset=offset, suggestion=err.suggestion)


def _check_name(name: object, table: str, places: _Places) -> str:
    noun = _NOUNS[table]
    if not isinstance(name, str) or _IDENTIFIER.match(name) is None:
        raise places.error(
            f"invalid {noun} name {name!r}",
            table,
            name if isinstance(name, str) else "",
            suggestion="names start with an ASCII letter or '_', then letters, digits or '_'",
        )
    if name in RESERVED_NAMES:
        raise places.error(
            f"{noun} name {name!r} is reserved for time",
            table,
            name,
            suggestion="choose another name; t is always available in equations",
        )
    if name in FUNCTIONS:
        raise places.error(
            f"{noun} name {name!r} is a function of the model language",
            table,
            name,
            suggestion=f"choose another name, such as {name}_",
        )
    return name


def _check_number(value: object, table: str, key: str, places: _Places) -> float:
    noun = "initial value of" if table == "variables" else "value of parameter"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        hint = None
        if isinstance(value, str):
            hint = "write a number without quotes, such as 1.0"
        raise places.error(
            f"{noun} {key!r} must be a number, got {type(value).__name__} {value!r}",
            table,
            key,
            at_value=True,
            suggestion=hint,
        )
    number = float(value)
    if not math.isfinite(number):
        raise places.error(f"{noun} {key!r} = {number} is not finite", table, key, at_value=True)
    return number


def _variables(
    variables: Mapping[str, float] | Sequence[str] | None,
    equations: Mapping[str, str],
    places: _Places,
) -> dict[str, float]:
    if variables is None:
        names: list[object] = list(equations)
        values: dict[str, float] = {}
    elif isinstance(variables, Mapping):
        names = list(variables)
        values = {
            str(k): _check_number(v, "variables", str(k), places) for k, v in variables.items()
        }
    elif isinstance(variables, str) or not isinstance(variables, Sequence):
        raise ModelError(
            f"variables={variables!r}: expected a mapping name -> initial value or a "
            "sequence of names",
            suggestion="write variables={'x': 1.0} or variables=['x']",
        )
    else:
        names = list(variables)
        values = {}
    out: dict[str, float] = {}
    for name in names:
        checked = _check_name(name, "variables", places)
        if checked in out:
            raise places.error(f"variable {checked!r} is listed twice", "variables", checked)
        out[checked] = values.get(checked, 0.0)
    return out


def _order_definitions(
    definitions: Mapping[str, str],  # name -> text
    symbols: Mapping[str, sympy.Basic],
    state: Sequence[str],
    places: _Places,
) -> tuple[list[str], dict[str, sympy.Expr]]:
    """Definitions in dependency order, and each one's expression as written."""
    placeholders = {**symbols, **{d: sympy.Symbol(d) for d in definitions}}
    written: dict[str, sympy.Expr] = {}
    depends: dict[str, list[str]] = {}
    for name, text in definitions.items():
        try:
            found = parse(text, names=placeholders, variables=state)
        except ModelError as err:
            raise places.relocate(err, "definitions", name, text) from None
        written[name] = found.expression
        depends[name] = [d for d in definitions if d in found.names_used]
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            raise places.error(
                "definitions refer to each other in a cycle: " + " -> ".join(cycle),
                "definitions",
                name,
                suggestion="write one of them without the others",
            )
        visiting.append(name)
        for dependency in depends[name]:
            visit(dependency)
        visiting.pop()
        order.append(name)

    for name in definitions:
        visit(name)
    return order, written


def _text(value: object, table: str, key: str, places: _Places) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return str(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))
    noun = "equation for" if table == "equations" else "definition of"
    raise places.error(
        f"{noun} {key!r} must be text, got {type(value).__name__} {value!r}",
        table,
        key,
        at_value=True,
        suggestion=f'write it in quotes, such as {key} = "-k*{key}"',
    )


def build_model(
    equations: Mapping[str, str],
    *,
    parameters: Mapping[str, float] | None = None,
    variables: Mapping[str, float] | Sequence[str] | None = None,
    definitions: Mapping[str, str] | None = None,
    kind: str | ModelKind = "ode",
    name: str = "model",
    description: str = "",
    citation: str = "",
    metadata: Mapping[str, Any] | None = None,
    source: SourceMap | None = None,
) -> Model:
    """Build a validated :class:`Model` from equation text.

    Parameters
    ----------
    equations
        ``{variable: "right-hand side"}`` (for a map, the next state).
    parameters
        ``{name: default value}``, in parameter-vector order.
    variables
        ``{name: initial value}`` or names only (initial value 0), in state order;
        ``None``: the order of ``equations``.
    definitions
        ``{name: "expression"}``: auxiliary expressions that may use variables,
        parameters, ``t`` and other definitions (earlier or later); substituted into
        the equations.
    kind
        ``"ode"`` or ``"map"``.
    name, description, citation
        Free text.
    metadata
        Plain data kept with the model (the TOML reader stores ``[analysis]`` here).
    source
        Where each key and value sits in a file, ``(table, key) -> SourcePosition``;
        errors are then placed at file, line and column.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        Empty model; a variable without an equation or an equation for an unknown
        variable; invalid, reserved (``t``), function-named or duplicate names;
        non-numeric or non-finite values; unknown or unsupported kind; cyclic
        definitions; and every parse error of an equation or definition.

    Examples
    --------
    >>> m = build_model(
    ...     {"x": "a - (b + 1)*x + x^2*y", "y": "b*x - x^2*y"},
    ...     parameters={"a": 1.0, "b": 3.0},
    ...     variables={"x": 1.0, "y": 1.0},
    ... )
    >>> m.equations[1]
    b*x - x**2*y
    """
    places = _Places(source)
    if not isinstance(kind, (str, ModelKind)):
        raise places.error(
            f"kind must be text such as 'ode', got {kind!r}", "model", "kind", at_value=True
        )
    try:
        model_kind = ModelKind.parse(kind)
    except ModelError as err:
        raise places.error(
            err.reason, "model", "kind", at_value=True, suggestion=err.suggestion
        ) from None
    if model_kind not in _SUPPORTED_KINDS:
        raise places.error(
            f"kind {model_kind.value!r} is not supported yet",
            "model",
            "kind",
            at_value=True,
            suggestion="use 'ode' or 'map'",
        )
    for field, text in (("name", name), ("description", description), ("citation", citation)):
        if not isinstance(text, str):
            raise places.error(f"model {field} must be text, got {text!r}", "model", field)
    for table, mapping in (("equations", equations), ("parameters", parameters)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise places.error(f"{table} must be a mapping name -> value, got {mapping!r}", table)
    if definitions is not None and not isinstance(definitions, Mapping):
        raise places.error(f"definitions must be a mapping, got {definitions!r}", "definitions")
    parameters = parameters or {}
    definitions = definitions or {}
    if not equations:
        raise places.error(
            f"model {name!r} has no equations",
            "equations",
            suggestion='add one right-hand side per variable, such as x = "-k*x"',
        )

    state = _variables(variables, equations, places)
    values: dict[str, float] = {}
    for key, value in parameters.items():
        checked = _check_name(key, "parameters", places)
        if checked in state:
            raise places.error(
                f"{checked!r} is both a variable and a parameter", "parameters", checked
            )
        values[checked] = _check_number(value, "parameters", checked, places)
    for key in definitions:
        checked = _check_name(key, "definitions", places)
        if checked in state or checked in values:
            other = "variable" if checked in state else "parameter"
            raise places.error(
                f"definition {checked!r} has the name of a {other}",
                "definitions",
                checked,
                suggestion="rename the definition",
            )
    for key in equations:
        if key not in state:
            checked = _check_name(key, "equations", places)
            raise places.error(
                f"equation for {checked!r}, which is not a variable",
                "equations",
                checked,
                suggestion=suggest(checked, state) or f"add {checked} to [variables]",
            )
    for variable in state:
        if variable not in equations:
            raise places.error(
                f"variable {variable!r} has no equation",
                "variables",
                variable,
                suggestion=f'add {variable} = "..." to the equations',
            )

    symbols: dict[str, sympy.Basic] = {n: sympy.Symbol(n) for n in (*state, *values)}
    symbols[TIME.name] = TIME
    texts = {key: _text(value, "definitions", key, places) for key, value in definitions.items()}
    order, written = _order_definitions(texts, symbols, list(state), places)
    resolved = dict(symbols)
    for key in order:
        try:
            resolved[key] = parse(texts[key], names=resolved, variables=state).expression
        except ModelError as err:
            raise places.relocate(err, "definitions", key, texts[key]) from None

    rhs = []
    for variable in state:
        text = _text(equations[variable], "equations", variable, places)
        try:
            rhs.append(parse(text, names=resolved, variables=state).expression)
        except ModelError as err:
            raise places.relocate(err, "equations", variable, text) from None

    return Model(
        name=name,
        kind=model_kind,
        variables=tuple(state),
        parameters=tuple(values),
        equations=tuple(rhs),
        default_state=tuple(state.values()),
        default_params=tuple(values.values()),
        definitions=tuple((key, written[key]) for key in definitions),
        description=description,
        citation=citation,
        metadata=tuple((str(k), copy.deepcopy(v)) for k, v in (metadata or {}).items()),
    )
