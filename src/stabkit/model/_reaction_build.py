"""Building a :class:`~stabkit.model.reactions.ReactionNetwork` from text, validated.

:func:`build_network` is what :meth:`ReactionNetwork.from_strings` and the TOML reader
call: it checks every name, count, rate and the volume, reads each reaction with
:func:`~stabkit.model._reaction_parse.parse_reaction`, and raises
:class:`~stabkit.errors.ModelError` naming the reaction, and with a source map the file,
line and column.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from stabkit.errors import ModelError
from stabkit.model._reaction_parse import parse_reaction
from stabkit.model.build import RESERVED_NAMES, SourceMap, is_identifier
from stabkit.model.parse import CONSTANTS, FUNCTIONS
from stabkit.model.reactions import (
    VOLUME,
    Reaction,
    ReactionNetwork,
    _check_rates,
    _count,
    _positive_volume,
)

__all__ = ["build_network"]


class _Places:
    """Errors placed in a file when a source map is given, by table and key."""

    def __init__(self, source: SourceMap | None) -> None:
        self.source = source or {}
        root = self.source.get(("", ""))
        self.file = root.file if root is not None else None

    def error(
        self,
        message: str,
        table: str,
        key: str = "",
        *,
        offset: int | None = None,
        text: str | None = None,
        suggestion: str | None = None,
    ) -> ModelError:
        position = self.source.get((table, key))
        if position is not None:
            return position.error(message, offset=offset, suggestion=suggestion)
        header = self.source.get((table, ""))
        if header is not None:
            return header.error(message, suggestion=suggestion)
        column = offset + 1 if offset is not None and text is not None else None
        return ModelError(message, file=self.file, column=column, text=text, suggestion=suggestion)

    def line(self, table: str, key: str) -> int | None:
        position = self.source.get((table, key))
        return position.line if position is not None else None


def _name(name: object, noun: str, table: str, places: _Places) -> str:
    if not is_identifier(name):
        raise places.error(
            f"invalid {noun} name {name!r}",
            table,
            name if isinstance(name, str) else "",
            suggestion="names start with an ASCII letter or '_', then letters, digits or '_'",
        )
    assert isinstance(name, str)
    if name in RESERVED_NAMES or name == VOLUME.name:
        what = "time" if name in RESERVED_NAMES else "the volume (set it with volume=...)"
        raise places.error(f"{noun} name {name!r} is reserved for {what}", table, name)
    if name in FUNCTIONS or name in CONSTANTS:
        what = "a function" if name in FUNCTIONS else "a constant"
        raise places.error(
            f"{noun} name {name!r} is {what} of the model language",
            table,
            name,
            suggestion=f"choose another name, such as {name}_",
        )
    return name


def build_network(
    name: str,
    *,
    species: Mapping[str, int],
    reactions: Mapping[str, str],
    parameters: Mapping[str, float],
    volume: float = 1.0,
    description: str = "",
    citation: str = "",
    source: SourceMap | None = None,
) -> ReactionNetwork:
    """Build a validated :class:`ReactionNetwork`; see :meth:`ReactionNetwork.from_strings`.

    ``source`` maps ``(table, key)`` to where it sits in a model file (tables
    ``species``, ``reactions``, ``parameters``, ``model``), so errors name file, line
    and column.
    """
    places = _Places(source)
    if not isinstance(name, str) or not name:
        raise places.error(f"the network's name must be non-empty text, got {name!r}", "model")
    for table, mapping in (("species", species), ("reactions", reactions)):
        if not isinstance(mapping, Mapping):
            raise places.error(f"{table} must be a mapping, got {mapping!r}", table)
    if not isinstance(parameters, Mapping):
        raise places.error(f"parameters must be a mapping, got {parameters!r}", "parameters")
    if not species:
        raise places.error(
            f"network {name!r} has no species", "species", suggestion="add X = 10 to [species]"
        )
    if not reactions:
        raise places.error(
            f"network {name!r} has no reactions",
            "reactions",
            suggestion='add a reaction such as r1 = "X -> 0 @ k"',
        )
    counts: dict[str, int] = {}
    for key, value in species.items():
        checked = _name(key, "species", "species", places)
        try:
            counts[checked] = _count(value, f"initial count of {checked!r}", ModelError)
        except ModelError as err:
            raise places.error(err.reason, "species", checked, offset=0) from None
    values: dict[str, float] = {}
    for key, number in parameters.items():
        checked = _name(key, "parameter", "parameters", places)
        if checked in counts:
            raise places.error(
                f"{checked!r} is both a species and a parameter", "parameters", checked
            )
        if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
            raise places.error(
                f"value of parameter {checked!r} must be a number, got {number!r}",
                "parameters",
                checked,
                offset=0,
            )
        if not math.isfinite(float(number)):
            raise places.error(
                f"value of parameter {checked!r} = {number} is not finite",
                "parameters",
                checked,
                offset=0,
            )
        values[checked] = float(number)
    omega = _positive_volume(volume)
    if omega is None:
        raise places.error(
            f"volume = {volume!r}: the system size must be a finite number > 0",
            "model",
            "volume",
            offset=0,
        )
    built: list[Reaction] = []
    for key, text in reactions.items():
        if not isinstance(key, str) or not key.strip():
            raise places.error(f"invalid reaction name {key!r}", "reactions")
        if not isinstance(text, str):
            raise places.error(
                f'reaction {key!r} must be text such as "A + B -> C @ k", got {text!r}',
                "reactions",
                key,
                offset=0,
            )
        try:
            parsed = parse_reaction(text, species=list(counts), parameters=list(values))
        except ModelError as err:
            offset = None if err.column is None else err.column - 1
            raise places.error(
                f"reaction {key!r}: {err.reason}",
                "reactions",
                key,
                offset=offset,
                text=text,
                suggestion=err.suggestion,
            ) from None
        reaction = Reaction(
            name=key,
            reactants=parsed.reactants,
            products=parsed.products,
            rate=parsed.rate,
            propensity=parsed.propensity,
            line=places.line("reactions", key),
        )
        if not reaction.change():
            raise places.error(
                f"reaction {key!r} changes no species",
                "reactions",
                key,
                offset=0,
                text=text,
                suggestion="a reaction must create or consume something",
            )
        built.append(reaction)
    network = ReactionNetwork(
        name=name,
        species=tuple(counts),
        parameters=tuple(values),
        default_params=tuple(values.values()),
        initial_counts=tuple(counts.values()),
        reactions=tuple(built),
        volume=omega,
        description=description if isinstance(description, str) else "",
        citation=citation if isinstance(citation, str) else "",
    )
    try:
        _check_rates(network, np.array(network.default_params), raise_as=ModelError)
    except ModelError as err:
        bad = err.reason.split("'")[1]
        raise places.error(
            err.reason,
            "reactions",
            bad,
            offset=0,
            text=reactions[bad],
            suggestion="rate constants are non-negative; check the parameter values",
        ) from None
    return network
