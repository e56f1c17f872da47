"""Helpers shared by the command modules: loading models, parsing ``NAME=VALUE`` items.

These are for :mod:`stabkit.commands` modules only; the library's own API is elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.errors import InputError, StabkitError, suggest

if TYPE_CHECKING:
    from stabkit.model.model import Model

__all__ = [
    "expression_text",
    "load_model_spec",
    "number_text",
    "parse_params",
    "parse_state",
    "seconds_text",
    "short_citation",
    "state_text",
]


def load_model_spec(spec: str) -> Model:
    """A model from a ``.toml`` file path or a library model name.

    Parameters
    ----------
    spec
        A path to a model file (anything ending in ``.toml`` or containing a path
        separator is taken as a path) or the name of a library model.

    Returns
    -------
    Model
        The model, with any ``[analysis]`` table of the file in ``model.metadata``.

    Raises
    ------
    InputError
        The file does not exist, or the name is neither a file nor a library model
        (with a did-you-mean suggestion).
    ModelError
        The file is malformed (naming file, line and column).

    Examples
    --------
    >>> load_model_spec("brusselator").name
    'brusselator'
    """
    path = Path(spec)
    looks_like_path = path.suffix.lower() == ".toml" or "/" in spec or "\\" in spec
    if path.is_file() or looks_like_path:
        if not path.is_file():
            raise InputError(f"model file {spec!r} not found")
        from stabkit.model.files import load_model

        return load_model(path)
    from stabkit.model import library

    names = list(library.names())
    if spec in names:
        return library.get(spec)
    hint = suggest(spec, names)
    raise InputError(
        f"MODEL {spec!r} is neither a model file nor a library model; "
        f"library models: {', '.join(names)}" + (f"; {hint}" if hint else "")
    )


def _items(items: Sequence[str] | str) -> list[str]:
    if isinstance(items, str):
        items = [items]
    out: list[str] = []
    for item in items:
        out.extend(part for part in item.split(",") if part.strip())
    return out


def parse_params(items: Sequence[str], *, option: str = "--param") -> dict[str, float]:
    """``["a=1.5", "b=2"]`` as ``{"a": 1.5, "b": 2.0}``.

    Items may also be comma-separated (``"a=1.5,b=2"``).

    Raises
    ------
    InputError
        An item without ``=`` or whose value is not a number.

    Examples
    --------
    >>> parse_params(["a=1.5", "b=2,c=-1e-3"])
    {'a': 1.5, 'b': 2.0, 'c': -0.001}
    """
    params: dict[str, float] = {}
    for item in _items(items):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{option} {item!r}: expected NAME=VALUE, e.g. {option} b=3.2")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"{option} {item!r}: {value!r} is not a number") from None
    return params


def parse_state(
    items: Sequence[str] | str, variables: Sequence[str], *, option: str = "--start"
) -> dict[str, float]:
    """``"x=1,y=2"`` as a state map, checking the names against ``variables``.

    Raises
    ------
    InputError
        A malformed item or an unknown variable name (with a did-you-mean suggestion).
    """
    state = parse_params(_items(items), option=option)
    for name in state:
        if name not in variables:
            hint = suggest(name, variables)
            raise InputError(
                f"{option}: no variable {name!r}; the variables are {', '.join(variables)}"
                + (f"; {hint}" if hint else "")
            )
    return state


def expression_text(expr: Any) -> str:
    """A sympy expression as the model language writes it (``^`` for powers)."""
    from stabkit.model.parse import to_text

    try:
        return to_text(expr)
    except StabkitError:  # something the language cannot spell: sympy's own text
        return str(expr).replace("**", "^")


def number_text(value: float, digits: int = 10) -> str:
    """A number in ``%g`` style with ``digits`` significant digits."""
    return f"{float(value):.{digits}g}"


def short_citation(citation: str) -> str:
    """``Author, A. and Other, B. (1968)`` from a full reference."""
    match = re.match(r"\s*(.{1,80}?\(\d{4}\))", citation)
    if match:
        return match.group(1)
    text = " ".join(citation.split())
    return text if len(text) <= 50 else text[:49] + "..."


def seconds_text(value: float) -> str:
    """``1.23 s`` or ``45.6 ms``."""
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1e3:.1f} ms"


def state_text(state: Mapping[str, float], digits: int = 6) -> str:
    """``x=1, y=2.5``."""
    return ", ".join(f"{k}={float(v):.{digits}g}" for k, v in state.items())
