"""Reaction text -> stoichiometry and rate, with positions in every error.

A reaction reads ``"A + B -> C @ k1"``: a left side, the arrow ``->``, a right side,
``@`` and a rate. A side is ``0`` (nothing) or terms ``c S`` joined by ``+``, where the
optional coefficient ``c`` is a positive integer written before the species (``2 X``,
``2X`` or ``2*X``; the same species may appear twice and is summed). The rate is an
expression of the model language in the parameters (mass action); ``@ propensity:
expression`` instead gives the propensity itself, in species counts and parameters.

The reaction equation (left of ``@``) is read by the small tokenizer here; the rate or
propensity text goes through the whitelisting parser of :mod:`stabkit.model.parse`, so a
reaction string can no more run code than an equation can. Errors are
:class:`~stabkit.errors.ModelError` with the 0-based ``offset`` into the reaction text
(reported as a 1-based column) for :func:`~stabkit.model.reactions.ReactionNetwork` to
place in a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import sympy

from stabkit.errors import ModelError, suggest
from stabkit.model.parse import parse

__all__ = ["PROPENSITY_PREFIX", "ParsedReaction", "parse_reaction"]

#: What introduces an explicit propensity after ``@``.
PROPENSITY_PREFIX = "propensity:"
_NOTHING = ("0", "\u2205")  # "0" or the empty-set sign
_WHITESPACE = " \t\r\n\f\v"
_VOLUME_NAME = "Omega"  # the system size, usable in explicit propensities


@dataclasses.dataclass(frozen=True)
class ParsedReaction:
    """A reaction string, read: coefficients per species and the rate or propensity."""

    reactants: dict[str, int]
    products: dict[str, int]
    rate: sympy.Expr
    propensity: sympy.Expr | None


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "integer" | "name" | "plus" | "times" | "arrow" | "end"
    text: str
    offset: int


def _error(text: str, message: str, offset: int, suggestion: str | None = None) -> ModelError:
    return ModelError(message, column=offset + 1, text=text, suggestion=suggestion)


def _tokenize(text: str, stop: int) -> list[_Token]:
    """Tokens of ``text[:stop]`` (the reaction equation, left of ``@``)."""
    tokens: list[_Token] = []
    i = 0
    while i < stop:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch.isascii() and ch.isdigit():
            end = i
            while end < stop and text[end].isascii() and text[end].isdigit():
                end += 1
            if end < stop and text[end] == ".":
                raise _error(
                    text,
                    "a stoichiometric coefficient must be a whole number",
                    i,
                    "write 2 X, not 2.0 X; fractional orders need '@ propensity: ...'",
                )
            tokens.append(_Token("integer", text[i:end], i))
            i = end
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            end = i + 1
            while end < stop and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
                end += 1
            tokens.append(_Token("name", text[i:end], i))
            i = end
        elif text.startswith("<->", i) or text.startswith("<=>", i):
            raise _error(
                text,
                "reversible arrows are not supported",
                i,
                "write the forward and the backward reaction as two entries",
            )
        elif text.startswith("->", i):
            tokens.append(_Token("arrow", "->", i))
            i += 2
        elif text.startswith("=>", i) or text.startswith("\u2192", i):
            raise _error(text, f"unexpected {ch!r}", i, "the arrow is written ->")
        elif ch == "+":
            tokens.append(_Token("plus", ch, i))
            i += 1
        elif ch == "*":
            tokens.append(_Token("times", ch, i))
            i += 1
        elif ch == "\u2205":
            tokens.append(_Token("integer", "0", i))
            i += 1
        else:
            hint = None
            if ch == "-":
                hint = "the arrow is written ->, and coefficients are positive"
            elif ch.isalpha():
                hint = "species names use ASCII letters, digits and '_'"
            raise _error(text, f"unexpected character {ch!r} in the reaction", i, hint)
    tokens.append(_Token("end", "", stop))
    return tokens


def _side(
    text: str, tokens: list[_Token], position: int, species: Collection[str], which: str
) -> tuple[dict[str, int], int]:
    """Read one side starting at ``tokens[position]``; returns coefficients and next position."""
    counts: dict[str, int] = {}
    first = tokens[position]
    if first.kind in ("arrow", "end"):
        arrow = first.kind == "arrow"
        raise _error(
            text,
            f"the {which} side of the reaction is empty",
            first.offset,
            "write 0 for nothing, as in 0 -> X" if arrow or which == "right" else None,
        )
    if first.kind == "integer" and int(first.text) == 0:
        after = tokens[position + 1]
        if after.kind in ("arrow", "end"):
            return counts, position + 1
        if after.kind in ("name", "times"):
            raise _error(text, "a coefficient must be positive", first.offset)
        raise _error(text, "0 (nothing) stands alone on its side", after.offset)
    while True:
        token = tokens[position]
        coefficient = 1
        if token.kind == "integer":
            coefficient = int(token.text)
            if coefficient == 0:
                raise _error(text, "a coefficient must be positive", token.offset, "drop the term")
            position += 1
            if tokens[position].kind == "times":
                position += 1
            token = tokens[position]
        if token.kind != "name":
            found = "the end" if token.kind == "end" else repr(token.text)
            raise _error(
                text,
                f"expected a species name, found {found}",
                token.offset,
                "a '+' must stand between two species" if token.kind in ("plus", "arrow") else None,
            )
        if token.text not in species:
            known = ", ".join(species) if species else "none"
            raise _error(
                text,
                f"species {token.text!r} is not declared",
                token.offset,
                suggest(token.text, species) or f"declare it under [species] (declared: {known})",
            )
        counts[token.text] = counts.get(token.text, 0) + coefficient
        position += 1
        token = tokens[position]
        if token.kind == "plus":
            position += 1
            continue
        if token.kind in ("arrow", "end"):
            return counts, position
        hint = "join species with '+'" if token.kind in ("name", "integer") else None
        raise _error(text, f"unexpected {token.text!r}", token.offset, hint)


def parse_reaction(
    text: str, *, species: Collection[str], parameters: Collection[str]
) -> ParsedReaction:
    """Read a reaction string such as ``"2 X + Y -> 3 X @ k"``.

    Parameters
    ----------
    text
        The reaction (see the module docstring).
    species, parameters
        The declared names.

    Returns
    -------
    ParsedReaction

    Raises
    ------
    ModelError
        With ``column`` (1-based, in ``text``) of the offending character: no arrow or
        two arrows, an empty or dangling side, a non-integer or zero coefficient,
        undeclared species (with did-you-mean), a missing or malformed rate, a mass-action
        rate that depends on species counts, and every error of the expression parser.

    Examples
    --------
    >>> r = parse_reaction("2 X -> X2 @ k/2", species=["X", "X2"], parameters=["k"])
    >>> r.reactants, r.products, r.rate
    ({'X': 2}, {'X2': 1}, k/2)
    """
    if not isinstance(text, str):
        raise ModelError(
            f'a reaction must be text such as "A + B -> C @ k", got {type(text).__name__} {text!r}'
        )
    at = text.find("@")
    if at < 0:
        raise _error(
            text,
            "the reaction has no rate",
            len(text.rstrip()),
            "end it with '@ k' (a mass-action rate constant) or '@ propensity: expression'",
        )
    tokens = _tokenize(text, at)
    arrows = [t for t in tokens if t.kind == "arrow"]
    if not arrows:
        raise _error(text, "the reaction has no arrow '->'", tokens[0].offset, None)
    if len(arrows) > 1:
        raise _error(
            text,
            "the reaction has more than one arrow",
            arrows[1].offset,
            "write each step as its own reaction",
        )
    reactants, position = _side(text, tokens, 0, species, "left")
    if tokens[position].kind != "arrow":  # pragma: no cover - _side stops only there or at end
        raise _error(text, "expected '->'", tokens[position].offset)
    products, position = _side(text, tokens, position + 1, species, "right")

    rate_text = text[at + 1 :]
    second = rate_text.find("@")
    if second >= 0:
        raise _error(text, "a reaction has one '@'", at + 1 + second)
    stripped = rate_text.lstrip(_WHITESPACE)
    start = at + 1 + len(rate_text) - len(stripped)
    explicit = stripped.startswith(PROPENSITY_PREFIX)
    if explicit:
        start += len(PROPENSITY_PREFIX)
        body = text[start:]
    else:
        body = text[start:]
    if not body.strip():
        what = "propensity" if explicit else "rate"
        raise _error(text, f"the {what} after '@' is empty", len(text.rstrip()), None)
    names: list[str] = [*species, *parameters] if explicit else [*parameters, *species]
    if explicit:
        names.append(_VOLUME_NAME)
    try:
        found = parse(body, names=names)
    except ModelError as err:
        column = None if err.column is None else err.column + start
        if err.line is not None and err.line > 1:  # multi-line text: keep the parser's place
            raise
        raise ModelError(err.reason, column=column, text=text, suggestion=err.suggestion) from None
    if not explicit:
        counts = sorted(found.names_used & set(species))
        if counts:
            offset = start + body.find(counts[0])
            raise _error(
                text,
                f"a mass-action rate is a constant, but it uses species {counts[0]!r}",
                offset,
                f"write the propensity itself: '@ {PROPENSITY_PREFIX} ...' in counts",
            )
        return ParsedReaction(reactants, products, found.expression, None)
    return ParsedReaction(reactants, products, sympy.S.One, found.expression)
