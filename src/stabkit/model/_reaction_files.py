"""Reaction networks in TOML model files (kind ``reactions``) and the shipped networks.

::

    [model]
    name = "birth_death"
    kind = "reactions"
    volume = 1.0                  # optional: the system size Omega
    description = "..."           # optional
    citation = "..."              # optional
    [species]                     # initial molecule counts
    X = 0
    [parameters]
    k1 = 10.0
    k2 = 1.0
    [reactions]
    birth = "0 -> X @ k1"
    death = "X -> 0 @ k2"
    # explicit propensity in counts: degrade = "X -> 0 @ propensity: v*X/(K*Omega + X)"
    [analysis]                    # optional, kept as plain data

:func:`stabkit.model.files.load_model` reads such a file as the network's rate
equations; :func:`load_network` as the network. The networks shipped in
``stabkit/model/models/reactions/`` are listed by :func:`network_names` and read by
:func:`library_network`.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import Any

from stabkit.errors import InputError, ModelError, suggest
from stabkit.model._reaction_build import build_network
from stabkit.model.build import SourceMap
from stabkit.model.files import _MODEL_KEYS, TABLES, _Fail, _is_reactions, _read
from stabkit.model.reactions import ReactionNetwork

__all__ = [
    "library_network",
    "load_network",
    "loads_network",
    "network_from_tables",
    "network_names",
]

#: Tables of a file of kind ``reactions`` (the others belong to equation models).
REACTION_TABLES = ("model", "parameters", "species", "reactions", "analysis")


def network_from_tables(
    data: dict[str, Any], source: SourceMap, fail: _Fail, file: str | None
) -> ReactionNetwork:
    """A reaction network from the tables of its file (kind ``reactions``)."""
    for table, content in data.items():
        if not isinstance(content, dict):
            raise fail(
                f"key {table!r} is outside any table",
                "",
                table,
                "put it under [model]" if table in _MODEL_KEYS else "put it under a [table]",
            )
        if table not in REACTION_TABLES:
            hint = suggest(table, REACTION_TABLES)
            noun = "unknown table" if table not in TABLES else "a reaction network has no table"
            raise fail(
                f"{noun} [{table}]",
                table,
                "",
                hint or f"a reactions file has the tables {', '.join(REACTION_TABLES)}",
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
    for key in ("name", "description", "citation"):
        if key in header and not isinstance(header[key], str):
            raise fail(f"model {key} must be text, got {header[key]!r}", "model", key)
    default_name = Path(file).stem if file else "network"
    return build_network(
        header.get("name", default_name),
        species=data.get("species", {}),
        reactions=data.get("reactions", {}),
        parameters=data.get("parameters", {}),
        volume=header.get("volume", 1.0),
        description=header.get("description", ""),
        citation=header.get("citation", ""),
        source=source,
    )


def loads_network(text: str, *, file: str | None = None) -> ReactionNetwork:
    """Read a reaction network from the text of a TOML file of kind ``reactions``.

    ::

        [model]
        name = "birth_death"
        kind = "reactions"
        volume = 1.0                  # optional: the system size Omega
        [species]                     # initial molecule counts
        X = 0
        [parameters]
        k1 = 10.0
        k2 = 1.0
        [reactions]
        birth = "0 -> X @ k1"
        death = "X -> 0 @ k2"
        # explicit propensities in counts: degrade = "X -> 0 @ propensity: v*X/(K + X)"

    Parameters
    ----------
    text
        The file's content.
    file
        The file name, for error messages (and the default network name).

    Returns
    -------
    ReactionNetwork

    Raises
    ------
    ModelError
        TOML syntax errors, a file of another kind, unknown tables or keys, and every
        error of :meth:`~stabkit.model.reactions.ReactionNetwork.from_strings`, each with
        file, line and column (inside a reaction string too).

    Examples
    --------
    >>> net = loads_network('''
    ... [model]
    ... kind = "reactions"
    ... [species]
    ... X = 5
    ... [parameters]
    ... k = 0.5
    ... [reactions]
    ... decay = "X -> 0 @ k"
    ... ''')
    >>> net.species, net.initial_counts, net.reaction_names
    (('X',), (5,), ('decay',))
    """
    data, source, fail = _read(text, file)
    if not _is_reactions(data):
        raise fail(
            "this file is not a reaction network",
            "model",
            "kind",
            'set kind = "reactions" and give [species] and [reactions]',
        )
    return network_from_tables(data, source, fail, file)


def load_network(path: str | Path) -> ReactionNetwork:
    """Read a reaction network from a TOML file of kind ``reactions``.

    :func:`load_model` reads the same file as the network's deterministic rate
    equations (an ODE :class:`Model` whose ``metadata`` holds the network under
    ``"reaction_network"``); this function returns the
    :class:`~stabkit.model.reactions.ReactionNetwork` itself, for :func:`stabkit.ssa`.

    Raises
    ------
    ModelError
        If the file cannot be read, and every error of :func:`loads_network`.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ModelError(f"cannot read the model file: {reason}", file=str(path)) from None
    return loads_network(text, file=str(path))


def _folder() -> Any:
    return importlib.resources.files("stabkit.model").joinpath("models", "reactions")


def network_names() -> tuple[str, ...]:
    """Names of the reaction networks shipped with stabkit, sorted.

    Examples
    --------
    >>> "birth_death" in network_names()
    True
    """
    return tuple(
        sorted(
            p.name.removesuffix(".toml") for p in _folder().iterdir() if p.name.endswith(".toml")
        )
    )


@functools.cache
def _library(name: str) -> ReactionNetwork:
    text = _folder().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return loads_network(text, file=f"stabkit/model/models/reactions/{name}.toml")


def library_network(name: str, **params: float) -> ReactionNetwork:
    """A shipped reaction network by name, with optional parameter values.

    Raises
    ------
    InputError
        Unknown network (with did-you-mean) or parameter.

    Examples
    --------
    >>> library_network("schlogl").species
    ('X',)
    """
    names = network_names()
    if name not in names:
        hint = suggest(str(name), names)
        raise InputError(
            f"no reaction network {name!r}; the shipped ones are {', '.join(names)}"
            + (f"; {hint}" if hint else "")
        )
    network = _library(name)
    return network.with_params(**params) if params else network
