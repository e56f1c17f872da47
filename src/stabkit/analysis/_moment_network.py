"""Network access shared by the moment equations and the LNA: names, propensities.

A network is read through the ReactionNetwork contract: ``species``,
``species_symbols``, ``propensities`` (volume included), ``propensity_templates`` (the
volume as the symbol ``Omega``), ``stoichiometry``, ``parameters``, ``default_params``,
``initial_counts``, ``volume``, ``reactions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.analysis._moment_algebra import MultiIndex
from stabkit.errors import InputError, suggest

__all__ = [
    "METADATA_KEY",
    "VOLUME",
    "moment_name",
    "network_parts",
    "polynomial_propensities",
    "reaction_labels",
    "unit",
]

#: Key of the moment description in ``Model.metadata``.
METADATA_KEY = "moments"
#: Name of the system-size parameter of the moment models (default: the network's volume).
VOLUME = "Omega"


def unit(n: int, i: int) -> MultiIndex:
    return tuple(int(j == i) for j in range(n))


def moment_name(alpha: MultiIndex, species: Sequence[str], central: bool) -> str:
    k = sum(alpha)
    present = [s for s, a in zip(species, alpha, strict=True) for _ in range(a)]
    if k == 1:
        return f"mean_{present[0]}"
    if not central:
        return "raw_" + "_".join(present)
    if k == 2:
        return f"var_{present[0]}" if present[0] == present[1] else f"cov_{present[0]}_{present[1]}"
    return "cm_" + "_".join(present)


def network_parts(
    network: Any, params: Mapping[str, float] | None
) -> tuple[
    tuple[str, ...], list[sympy.Symbol], list[sympy.Expr], np.ndarray, dict[str, float], float
]:
    """Species, their symbols, propensities, stoichiometry, parameter values, volume."""
    try:
        species = tuple(network.species)
        symbols = list(network.species_symbols)
        propensities = list(network.propensities)
        stoich = np.asarray(network.stoichiometry, dtype=np.int64)
        names = tuple(network.parameters)
        defaults = tuple(float(v) for v in network.default_params)
        volume = float(getattr(network, "volume", 1.0))
    except AttributeError as err:
        raise InputError(
            f"network={network!r}: expected a ReactionNetwork (build one with "
            f"ReactionNetwork.from_strings(...)); missing {err.name!r}"
        ) from None
    omega = sympy.Symbol(VOLUME)
    if not all(isinstance(a, sympy.Expr) for a in propensities):
        raise InputError("network.propensities must be sympy expressions in the species counts")
    values = dict(zip(names, defaults, strict=True))
    numeric = [_exact(a.subs(omega, volume)) for a in propensities]
    symbolic = _volume_as_parameter(network, values)
    if symbolic is not None and len(symbolic) == len(numeric):
        propensities, values[VOLUME] = symbolic, volume
    else:
        propensities = numeric
    if params is not None:
        if not isinstance(params, Mapping):
            raise InputError(f"params={params!r}: expected a mapping parameter name -> value")
        for key, value in params.items():
            if key not in values:
                hint = suggest(str(key), tuple(values))
                raise InputError(
                    f"params: network {getattr(network, 'name', '')!r} has no parameter {key!r}; "
                    f"it has {', '.join(values) or '(none)'}" + (f"; {hint}" if hint else "")
                )
            number = float(value)
            if not math.isfinite(number):
                raise InputError(f"params[{key!r}] = {value!r} is not finite")
            values[key] = number
    if stoich.shape != (len(species), len(propensities)):
        raise InputError(
            f"network stoichiometry has shape {stoich.shape}; expected "
            f"({len(species)}, {len(propensities)}) (species, reactions)"
        )
    return species, symbols, propensities, stoich, values, volume


def _volume_as_parameter(network: Any, values: Mapping[str, float]) -> list[sympy.Expr] | None:
    """Propensities with the system size as the symbol ``Omega`` (a parameter), or None.

    Taken from ``network.propensity_templates`` (mass action: k Omega^(1-m) prod_i x_i
    (x_i - 1) ... / nu_i!; explicit propensities as written) when the network has them.
    """
    templates = getattr(network, "propensity_templates", None)
    if VOLUME in values or templates is None:
        return None
    out = [_exact(a) for a in templates]
    if not all(isinstance(a, sympy.Expr) for a in out):
        return None
    return out


def _exact(expr: sympy.Expr) -> sympy.Expr:
    """Floats -> the rationals they print as, so that the algebra cancels exactly."""
    floats = expr.atoms(sympy.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sympy.Rational(repr(float(f))) for f in floats})


def polynomial_propensities(
    propensities: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol], reactions: Sequence[str]
) -> list[sympy.Poly]:
    out = []
    for a, label in zip(propensities, reactions, strict=True):
        try:
            poly = sympy.Poly(a, *symbols)
        except sympy.PolynomialError:
            poly = None
        if poly is None or any(s in poly.free_symbols_in_domain for s in symbols):
            raise InputError(
                f"reaction {label!r}: propensity {a} is not a polynomial in the species counts; "
                "moment equations need mass action or polynomial propensities"
            )
        out.append(poly)
    return out


def reaction_labels(network: Any, count: int) -> list[str]:
    reactions = getattr(network, "reactions", ())
    labels = [str(getattr(r, "name", i)) for i, r in enumerate(reactions)]
    return labels if len(labels) == count else [str(i) for i in range(count)]
