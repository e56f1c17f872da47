"""The TOML model file: read and write.

::

    [model]
    name = "brusselator"
    kind = "ode"                    # ode | map | reactions (see loads_network)
    description = "..."             # optional
    citation = "..."                # optional
    [parameters]
    a = 1.0
    b = 3.0
    [variables]                     # initial state
    x = 1.0
    y = 1.0
    [definitions]                   # optional auxiliary expressions
    p = "1/(1 + exp(-k*(x - xc)))"
    [equations]
    x = "a - (b + 1)*x + x^2*y"
    y = "b*x - x^2*y"
    [analysis]                      # optional, kept as plain data in Model.metadata
    continue = { parameter = "b", from = 0.5, to = 4.0 }

Files are parsed by :mod:`tomllib`; since it reports no positions, this module scans
the raw text itself for where each key and value sits, so that every error names the
file, the line and the column of the offending text (inside an equation string too).
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.errors import ModelError, suggest
from stabkit.model.build import SourceMap, SourcePosition, build_model
from stabkit.model.model import TIME, Model
from stabkit.model.parse import to_text

if TYPE_CHECKING:
    from stabkit.model.reactions import ReactionNetwork

__all__ = [
    "TABLES",
    "dumps_model",
    "load_model",
    "load_network",
    "loads_model",
    "loads_network",
    "save_model",
]

#: The tables of a model file and the keys of ``[model]``.
TABLES = (
    "model",
    "parameters",
    "variables",
    "definitions",
    "equations",
    "analysis",
    "species",
    "reactions",
)
_MODEL_KEYS = ("name", "kind", "description", "citation", "volume")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_ESCAPES = {"b": 1, "t": 1, "n": 1, "f": 1, "r": 1, '"': 1, "\\": 1, "e": 1, "u": 5, "U": 9}


# --------------------------------------------------------------------------- positions
class _Scanner:
    """Finds the position of every key and value in (valid) TOML text."""

    def __init__(self, text: str, file: str | None) -> None:
        self.text = text
        self.file = file
        self.lines = tuple(line.rstrip("\r") for line in text.split("\n"))
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.positions: dict[tuple[str, str], SourcePosition] = {}

    def where(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def record(self, table: str, key: str, key_at: int, value_at: int, chars: list[int]) -> None:
        if (table, key) in self.positions:
            return
        line, column = self.where(key_at)
        value_line, value_column = self.where(value_at)
        self.positions[(table, key)] = SourcePosition(
            self.file,
            line,
            column,
            value_line,
            value_column,
            self.lines,
            tuple(self.where(c) for c in chars),
        )

    def scan(self) -> dict[tuple[str, str], SourcePosition]:
        text, n, i, table = self.text, len(self.text), 0, ""
        self.record("", "", 0, 0, [])
        while i < n:
            ch = text[i]
            if ch in " \t\r\n":
                i += 1
            elif ch == "#":
                i = self.line_end(i)
            elif ch == "[":
                start = i + (2 if text.startswith("[[", i) else 1)
                path, i = self.key_path(start)
                table = path[0]
                self.record(table, "", start, start, [])
                i = text.index("]", i) + 1
                i += text.startswith("]", i)
            else:
                key_at = i
                path, i = self.key_path(i)
                i = text.index("=", i) + 1
                while text[i] in " \t":
                    i += 1
                owner, key = (table, path[0]) if table or len(path) == 1 else (path[0], path[1])
                value_at = i
                chars, i = self.value(i)
                if chars is not None and chars:
                    value_at = chars[0]
                elif chars is not None:  # empty string: just inside the quotes
                    value_at = value_at + (3 if text.startswith(('"""', "'''"), value_at) else 1)
                self.record(owner, key, key_at, value_at, chars or [])
        return self.positions

    def line_end(self, i: int) -> int:
        end = self.text.find("\n", i)
        return len(self.text) if end < 0 else end

    def key_path(self, i: int) -> tuple[list[str], int]:
        text, path = self.text, []
        while True:
            while text[i] in " \t":
                i += 1
            if text[i] in "\"'":
                chars, end = self.value(i)
                path.append("".join(text[c] for c in chars or []))
                i = end
            else:
                start = i
                while i < len(text) and (text[i].isalnum() or text[i] in "_-"):
                    i += 1
                path.append(text[start:i])
            while i < len(text) and text[i] in " \t":
                i += 1
            if i < len(text) and text[i] == ".":
                i += 1
                continue
            return path, i

    def value(self, i: int) -> tuple[list[int] | None, int]:
        """Skip the value at ``i``; for a string, also the offset of each character."""
        text = self.text
        for quote in ('"""', "'''", '"', "'"):
            if text.startswith(quote, i):
                return self.string(i, quote)
        if text[i] in "[{":
            depth = 0
            while True:
                ch = text[i]
                if ch in "\"'":
                    _, i = self.value(i)
                    continue
                if ch == "#":
                    i = self.line_end(i)
                    continue
                depth += (ch in "[{") - (ch in "]}")
                i += 1
                if depth == 0:
                    return None, i
        end = i
        while end < len(text) and text[end] not in "\n#,]}":
            end += 1
        return None, end

    def string(self, i: int, quote: str) -> tuple[list[int], int]:
        text, chars = self.text, list[int]()
        escapes = quote[0] == '"'
        i += len(quote)
        if len(quote) == 3 and text.startswith("\n", i):
            i += 1
        elif len(quote) == 3 and text.startswith("\r\n", i):
            i += 2
        while True:
            if text.startswith(quote, i):
                if len(quote) == 3:  # up to two quotes may precede the closing ones
                    run = len(text[i:]) - len(text[i:].lstrip(quote[0]))
                    chars.extend(range(i, i + min(run - 3, 2)))
                    return chars, i + run
                return chars, i + 1
            if escapes and text[i] == "\\":
                code = text[i + 1]
                if code in _ESCAPES:
                    chars.append(i)
                    i += 1 + _ESCAPES[code]
                else:  # a line-ending backslash swallows all whitespace after it
                    i += 1
                    while text[i] in " \t\r\n":
                        i += 1
                continue
            chars.append(i)
            i += 1


def _toml_error(err: tomllib.TOMLDecodeError, text: str, file: str | None) -> ModelError:
    message = str(err)
    lines = text.split("\n")
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        message = message[: found.start()]
    else:
        message = re.sub(r"\s*\(at end of document\)$", "", message)
        line, column = len(lines), len(lines[-1]) + 1
    shown = lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None
    return ModelError(
        f"TOML syntax error: {message[0].lower()}{message[1:]}",
        file=file,
        line=line,
        column=column,
        text=shown,
        suggestion="check quotes, '=' signs and [table] headers",
    )


# --------------------------------------------------------------------------- reading
def loads_model(text: str, *, file: str | None = None) -> Model:
    """Read a model from the text of a TOML model file.

    Parameters
    ----------
    text
        The file's content.
    file
        The file name, for error messages (and the default model name).

    Returns
    -------
    Model
        For a file of kind ``reactions`` (see :func:`loads_network`): the network's
        deterministic rate equations in concentrations, an ODE model whose ``metadata``
        holds the :class:`~stabkit.model.reactions.ReactionNetwork` under
        ``"reaction_network"`` and its ``"volume"``, so every analysis applies.

    Raises
    ------
    ModelError
        TOML syntax errors, unknown tables or keys (with ``did you mean ...?``) and
        every error of :func:`~stabkit.model.build.build_model` (or of the reaction
        network), each with file, line and column.

    Examples
    --------
    >>> m = loads_model('''
    ... [parameters]
    ... k = 0.5
    ... [variables]
    ... x = 1.0
    ... [equations]
    ... x = "-k*x"
    ... ''')
    >>> m.variables, m.default_params
    (('x',), (0.5,))
    """
    data, source, fail = _read(text, file)
    if _is_reactions(data):
        from stabkit.model._reaction_files import network_from_tables

        network = network_from_tables(data, source, fail, file)
        model = network.rate_equations()
        analysis = data.get("analysis")
        if analysis is not None:
            extra = (("analysis", copy.deepcopy(analysis)),)
            model = dataclasses.replace(model, metadata=model.metadata + extra)
        return model
    return _equation_model(data, source, fail, file)


_Fail = Callable[..., ModelError]


def _read(text: str, file: str | None) -> tuple[dict[str, Any], SourceMap, _Fail]:
    """The TOML data, where each key sits, and an error maker placing messages there."""
    if not isinstance(text, str):
        raise ModelError(f"expected the text of a model file, got {type(text).__name__}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _toml_error(err, text, file) from None
    source = _Scanner(text, file).scan()

    def fail(message: str, table: str, key: str = "", suggestion: str | None = None) -> ModelError:
        position = source.get((table, key)) or source.get((table, ""))
        if position is None:
            return ModelError(message, file=file, suggestion=suggestion)
        return position.error(message, suggestion=suggestion)

    return data, source, fail


def _is_reactions(data: Mapping[str, Any]) -> bool:
    header = data.get("model", {})
    kind = header.get("kind") if isinstance(header, dict) else None
    if isinstance(kind, str):
        return kind.strip().lower() == "reactions"
    return kind is None and ("reactions" in data or "species" in data)


def _equation_model(
    data: dict[str, Any], source: SourceMap, fail: _Fail, file: str | None
) -> Model:
    """A model of kind ode or map from the tables of its file."""
    for table, content in data.items():
        if not isinstance(content, dict):
            raise fail(
                f"key {table!r} is outside any table",
                "",
                table,
                "put it under [model]" if table in _MODEL_KEYS else "put it under a [table]",
            )
        if table not in TABLES:
            raise fail(
                f"unknown table [{table}]",
                table,
                "",
                suggest(table, TABLES) or f"the tables are {', '.join(TABLES)}",
            )
    header = data.get("model", {})
    for key in header:
        if key not in _MODEL_KEYS:
            raise fail(
                f"unknown key {key!r} in [model]",
                "model",
                key,
                suggest(key, _MODEL_KEYS) or f"the keys are {', '.join(_MODEL_KEYS)}",
            )
    for table in ("species", "reactions"):
        if table in data:
            raise fail(
                f"table [{table}] belongs to reaction networks",
                table,
                "",
                'set kind = "reactions" under [model]',
            )
    if "volume" in header:
        raise fail(
            "volume belongs to reaction networks", "model", "volume", 'set kind = "reactions"'
        )
    default_name = Path(file).stem if file else "model"
    analysis = data.get("analysis")
    return build_model(
        data.get("equations", {}),
        parameters=data.get("parameters", {}),
        variables=data.get("variables"),
        definitions=data.get("definitions", {}),
        kind=header.get("kind", "ode"),
        name=header.get("name", default_name),
        description=header.get("description", ""),
        citation=header.get("citation", ""),
        metadata={"analysis": analysis} if analysis is not None else None,
        source=source,
    )


def loads_network(text: str, *, file: str | None = None) -> ReactionNetwork:
    """Read a reaction network from the text of a TOML file of kind ``reactions``.

    See :func:`stabkit.model._reaction_files.loads_network` for the format.
    """
    from stabkit.model._reaction_files import loads_network as read

    return read(text, file=file)


def load_network(path: str | Path) -> ReactionNetwork:
    """Read a reaction network from a TOML file of kind ``reactions``.

    :func:`load_model` reads the same file as the network's deterministic rate
    equations (an ODE :class:`Model` whose ``metadata`` holds the network under
    ``"reaction_network"``); this function returns the
    :class:`~stabkit.model.reactions.ReactionNetwork` itself, for :func:`stabkit.ssa`.
    See :func:`stabkit.model._reaction_files.loads_network` for the format.
    """
    from stabkit.model._reaction_files import load_network as read

    return read(path)


def load_model(path: str | Path) -> Model:
    """Read a model from a TOML model file.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        If the file cannot be read, and every error of :func:`loads_model`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "decay.toml"
    >>> _ = path.write_text('[equations]\\nx = "-x"\\n')
    >>> load_model(path).name
    'decay'
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ModelError(f"cannot read the model file: {reason}", file=str(path)) from None
    return loads_model(text, file=str(path))


# --------------------------------------------------------------------------- writing
def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        items = [f"{_key(str(k))} = {_value(v, where)}" for k, v in value.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    raise ModelError(
        f"cannot write {where} = {value!r} to TOML",
        suggestion="keep metadata to numbers, text, booleans, dates, lists and tables",
    )


def dumps_model(model: Model) -> str:
    """Write a model as the text of a TOML model file.

    Equations are written with the definitions substituted (as the model holds them);
    the definitions are written too, as they were given. ``loads_model`` of the text
    gives a model equal to ``model``.

    Parameters
    ----------
    model
        A symbolic model (built from equations, not from Python functions).

    Returns
    -------
    str

    Raises
    ------
    ModelError
        For models built from Python functions, and metadata TOML cannot hold.

    Examples
    --------
    >>> m = Model.from_equations({"x": "-k*x"}, parameters={"k": 0.5}, name="decay")
    >>> print(dumps_model(m))
    [model]
    name = "decay"
    kind = "ode"
    <BLANKLINE>
    [parameters]
    k = 0.5
    <BLANKLINE>
    [variables]
    x = 0.0
    <BLANKLINE>
    [equations]
    x = "-k*x"
    <BLANKLINE>
    """
    if not model.is_symbolic:
        raise ModelError(
            f"model {model.name!r} was built from Python functions and has no equations to write",
            suggestion="build it with Model.from_equations to save it as a file",
        )
    names = (*model.variables, *model.parameters, *(d for d, _ in model.definitions), TIME.name)
    out = ["[model]", f"name = {_string(model.name)}", f"kind = {_string(model.kind.value)}"]
    if model.description:
        out.append(f"description = {_string(model.description)}")
    if model.citation:
        out.append(f"citation = {_string(model.citation)}")
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("parameters", [(p, repr(float(v))) for p, v in model.default_parameter_map().items()]),
        ("variables", [(x, repr(float(v))) for x, v in model.default_state_map().items()]),
        ("definitions", [(d, _string(to_text(e, names=names))) for d, e in model.definitions]),
        ("equations", [(x, _string(to_text(e, names=names))) for x, e in model.rhs_dict().items()]),
    ]
    for key, value in model.metadata:
        if isinstance(value, Mapping) and key == "analysis":
            sections.append((key, [(str(k), _value(v, f"{key}.{k}")) for k, v in value.items()]))
    for table, entries in sections:
        if entries or table in ("parameters", "variables", "equations"):
            out += ["", f"[{table}]", *(f"{_key(k)} = {v}" for k, v in entries)]
    return "\n".join(out) + "\n"


def save_model(model: Model, path: str | Path) -> Path:
    """Write a model to a TOML model file (UTF-8); returns the path.

    Raises
    ------
    ModelError
        As :func:`dumps_model`, or when the file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = Model.from_equations({"x": "-x"}, name="decay")
    >>> path = save_model(m, pathlib.Path(tempfile.mkdtemp()) / "decay.toml")
    >>> load_model(path) == m
    True
    """
    text = dumps_model(model)
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot write the model file: {exc.strerror}", file=str(path)) from None
    return target
