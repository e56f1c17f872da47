"""Reaction networks: species, reactions, propensities and their rate equations.

A :class:`ReactionNetwork` is an immutable value: species with initial molecule counts,
reactions with stoichiometry and a mass-action rate constant (or an explicit
propensity), parameters with default values and the system size ``volume``
(Omega). Its propensities drive the stochastic simulation of
:func:`stabkit.integrate.ssa.ssa`; its deterministic rate equations are a
:class:`~stabkit.model.model.Model`, so every analysis of flows applies.

Mass action with combinatorial factors: a reaction with reactant coefficients
``nu_i`` (order ``m = sum nu_i``) and rate constant ``k`` fires with propensity

    a(x) = k * Omega^(1 - m) * prod_i x_i (x_i - 1) ... (x_i - nu_i + 1) / nu_i!

(``k x (x - 1) / 2`` for ``2 X`` at Omega = 1), and its macroscopic rate in
concentrations ``c = x / Omega`` is ``k * prod_i c_i^nu_i / nu_i!`` (Gillespie 1977;
van Kampen, *Stochastic processes in physics and chemistry*, ch. 7). An explicit
propensity is written in counts and may use ``Omega``; its rate equation is
``a(Omega c) / Omega``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.errors import InputError, suggest
from stabkit.model._reaction_parse import PROPENSITY_PREFIX
from stabkit.model.model import Model, ModelKind

__all__ = ["VOLUME", "Reaction", "ReactionNetwork"]

#: The symbol of the system size in explicit propensities (``Omega``).
VOLUME = sympy.Symbol("Omega")


@dataclasses.dataclass(frozen=True)
class Reaction:
    """One reaction: stoichiometry and a mass-action rate or an explicit propensity.

    Attributes
    ----------
    name
        The reaction's name (its key in the ``[reactions]`` table).
    reactants, products
        ``{species: coefficient}`` of the left and right side (positive integers;
        treat as read-only).
    rate
        Mass-action rate constant, an expression in the parameter symbols. Unused
        (``1``) when ``propensity`` is given.
    propensity
        Explicit propensity in species-count and parameter symbols (and ``Omega``),
        or ``None`` for mass action.
    line
        Line of the reaction in its model file, for messages; ``None`` otherwise.
    """

    name: str
    reactants: Mapping[str, int]
    products: Mapping[str, int]
    rate: sympy.Expr
    propensity: sympy.Expr | None = None
    line: int | None = None

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                tuple(sorted(self.reactants.items())),
                tuple(sorted(self.products.items())),
                self.rate,
                self.propensity,
            )
        )

    @property
    def order(self) -> int:
        """Molecularity: the sum of the reactant coefficients."""
        return sum(self.reactants.values())

    @property
    def is_mass_action(self) -> bool:
        return self.propensity is None

    def change(self) -> dict[str, int]:
        """Net change of each species when the reaction fires (zeros left out)."""
        net = {s: -c for s, c in self.reactants.items()}
        for s, c in self.products.items():
            net[s] = net.get(s, 0) + c
        return {s: c for s, c in net.items() if c != 0}

    def text(self) -> str:
        """The reaction written back as text, e.g. ``"2 X -> X2 @ k"``."""
        from stabkit.model.parse import to_text

        def side(counts: Mapping[str, int]) -> str:
            terms = [f"{c} {s}" if c != 1 else s for s, c in counts.items()]
            return " + ".join(terms) or "0"

        if self.propensity is not None:
            rate = f"{PROPENSITY_PREFIX} {to_text(self.propensity)}"
        else:
            rate = to_text(self.rate)
        return f"{side(self.reactants)} -> {side(self.products)} @ {rate}"


def _falling(x: sympy.Symbol, n: int) -> sympy.Expr:
    """``x (x - 1) ... (x - n + 1) / n!``: the number of ways to pick ``n`` of ``x``."""
    product = sympy.Mul(*(x - i for i in range(n))) if n > 1 else x
    return product / math.factorial(n) if n > 1 else product


@dataclasses.dataclass(frozen=True)
class ReactionNetwork:
    """A chemical reaction network: immutable, hashable by content.

    Build one with :meth:`from_strings` or :func:`stabkit.model.files.load_network`.

    Attributes
    ----------
    name
        Short name, used in reports.
    species
        Species names, in state-vector order.
    parameters, default_params
        Parameter names and default values.
    initial_counts
        Default initial molecule count of each species.
    reactions
        The reactions, in propensity-vector order.
    volume
        System size Omega (> 0): a mass-action reaction of order ``m`` has propensity
        ``k * Omega^(1 - m) * prod_i C(x_i, nu_i)``; concentrations are ``x / Omega``.
    description, citation
        Free text.
    """

    name: str
    species: tuple[str, ...]
    parameters: tuple[str, ...]
    default_params: tuple[float, ...]
    initial_counts: tuple[int, ...]
    reactions: tuple[Reaction, ...]
    volume: float = 1.0
    description: str = ""
    citation: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_strings(
        cls,
        name: str,
        *,
        species: Mapping[str, int],
        reactions: Mapping[str, str],
        parameters: Mapping[str, float] | None = None,
        volume: float = 1.0,
        description: str = "",
        citation: str = "",
    ) -> ReactionNetwork:
        """Build a network from reaction text.

        Parameters
        ----------
        name
            The network's name.
        species
            ``{species: initial count}`` (non-negative integers), in state order.
        reactions
            ``{name: "A + B -> C @ k1"}``; ``0`` stands for nothing (``"0 -> X @ k"``),
            coefficients precede species (``"2 X -> X2 @ k"``), and ``"X -> 0 @
            propensity: v*X/(K + X)"`` gives an explicit propensity in counts (it may
            use ``Omega``, the volume).
        parameters
            ``{name: default value}``.
        volume
            System size Omega (> 0).

        Returns
        -------
        ReactionNetwork

        Raises
        ------
        ModelError
            Malformed reactions (naming the reaction and the column), undeclared
            species, negative or non-integer counts, negative or non-finite rates,
            invalid or clashing names, a non-positive volume, no reactions.

        Examples
        --------
        >>> net = ReactionNetwork.from_strings(
        ...     "birth_death",
        ...     species={"X": 0},
        ...     reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
        ...     parameters={"k1": 10.0, "k2": 1.0},
        ... )
        >>> net.propensities
        (k1, X*k2)
        >>> net.stoichiometry
        array([[ 1, -1]])
        """
        from stabkit.model._reaction_build import build_network

        return build_network(
            name,
            species=species,
            reactions=reactions,
            parameters=parameters or {},
            volume=volume,
            description=description,
            citation=citation,
        )

    # ------------------------------------------------------------------ basic facts
    @property
    def num_species(self) -> int:
        return len(self.species)

    @property
    def num_reactions(self) -> int:
        return len(self.reactions)

    @property
    def species_symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(s) for s in self.species)

    @property
    def parameter_symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(p) for p in self.parameters)

    @property
    def reaction_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.reactions)

    @functools.cached_property
    def stoichiometry(self) -> np.ndarray:
        """Net change matrix, shape ``(num_species, num_reactions)``, integers."""
        out = np.zeros((self.num_species, self.num_reactions), dtype=np.int64)
        index = {s: i for i, s in enumerate(self.species)}
        for j, reaction in enumerate(self.reactions):
            for s, c in reaction.change().items():
                out[index[s], j] = c
        out.setflags(write=False)
        return out

    @functools.cached_property
    def reactant_matrix(self) -> np.ndarray:
        """Reactant coefficients, shape ``(num_species, num_reactions)``, integers."""
        out = np.zeros((self.num_species, self.num_reactions), dtype=np.int64)
        index = {s: i for i, s in enumerate(self.species)}
        for j, reaction in enumerate(self.reactions):
            for s, c in reaction.reactants.items():
                out[index[s], j] = c
        out.setflags(write=False)
        return out

    @functools.cached_property
    def propensity_templates(self) -> tuple[sympy.Expr, ...]:
        """Propensities in count and parameter symbols with the volume as ``Omega``."""
        out = []
        for reaction in self.reactions:
            if reaction.propensity is not None:
                out.append(reaction.propensity)
                continue
            factors = [_falling(sympy.Symbol(s), c) for s, c in reaction.reactants.items()]
            scale = VOLUME ** (1 - reaction.order) if reaction.order != 1 else sympy.S.One
            out.append(reaction.rate * scale * sympy.Mul(*factors))
        return tuple(out)

    @functools.cached_property
    def propensities(self) -> tuple[sympy.Expr, ...]:
        """Propensities in count and parameter symbols, volume included.

        ``k * Omega^(1 - m) * prod_i x_i (x_i - 1) ... (x_i - nu_i + 1) / nu_i!`` for mass
        action; the explicit propensity with ``Omega`` replaced by the volume otherwise.
        """
        omega = _number(self.volume)
        return tuple(a.subs(VOLUME, omega) for a in self.propensity_templates)

    # ------------------------------------------------------------------ identity
    def _canonical(self, *, values: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "species": list(self.species),
            "parameters": list(self.parameters),
            "stoichiometry": self.stoichiometry.tolist(),
            "propensities": [sympy.srepr(a) for a in self.propensity_templates],
        }
        if values:
            data["name"] = self.name
            data["reactions"] = list(self.reaction_names)
            data["default_params"] = [repr(float(v)) for v in self.default_params]
            data["initial_counts"] = [int(c) for c in self.initial_counts]
            data["volume"] = repr(float(self.volume))
        return data

    @functools.cached_property
    def content_hash(self) -> str:
        """SHA-256 (hex, 16 chars) of everything that defines the network."""
        blob = json.dumps(self._canonical(values=True), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @functools.cached_property
    def kernel_hash(self) -> str:
        """Hash of what compiled kernels depend on (not defaults, counts or volume)."""
        blob = json.dumps(self._canonical(values=False), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def __repr__(self) -> str:
        return (
            f"ReactionNetwork(name={self.name!r}, species={list(self.species)}, "
            f"reactions={len(self.reactions)}, volume={self.volume!r})"
        )

    # ------------------------------------------------------------------ values
    def default_parameter_map(self) -> dict[str, float]:
        return dict(zip(self.parameters, self.default_params, strict=True))

    def initial_count_map(self) -> dict[str, int]:
        return dict(zip(self.species, self.initial_counts, strict=True))

    def with_volume(self, omega: float) -> ReactionNetwork:
        """A copy with system size ``omega`` (initial counts unchanged).

        Raises
        ------
        InputError
            Unless ``omega`` is a finite positive number.
        """
        value = _positive_volume(omega)
        if value is None:
            raise InputError(f"volume={omega!r}: the system size must be a finite number > 0")
        return dataclasses.replace(self, volume=value)

    def with_params(self, **values: float) -> ReactionNetwork:
        """A copy with new default parameter values (rates checked non-negative)."""
        vector = self.param_vector(values)
        return dataclasses.replace(self, default_params=tuple(float(v) for v in vector))

    def with_counts(self, **counts: int) -> ReactionNetwork:
        """A copy with new default initial counts."""
        vector = self.count_vector(counts)
        return dataclasses.replace(self, initial_counts=tuple(int(c) for c in vector))

    def param_vector(
        self, params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None
    ) -> np.ndarray:
        """Parameter values as float64 in network order, mass-action rates checked >= 0.

        Raises
        ------
        InputError
            Unknown names (did-you-mean), wrong length, non-finite values, or a
            mass-action rate that is negative at these values.
        """
        from stabkit.model.model import _named_vector

        vector = _named_vector(
            params, self.parameters, self.default_params, what="params", model=self.name
        )
        _check_rates(self, vector, raise_as=InputError)
        return vector

    def count_vector(
        self, counts: Mapping[str, int] | Sequence[int] | np.ndarray | None
    ) -> np.ndarray:
        """Initial counts as int64 in species order (``None``: the defaults).

        Raises
        ------
        InputError
            Unknown species, wrong length, negative or non-integer counts.
        """
        out = np.array(self.initial_counts, dtype=np.int64)
        if counts is None:
            return out
        if isinstance(counts, Mapping):
            for key, value in counts.items():
                if key not in self.species:
                    hint = suggest(str(key), self.species)
                    raise InputError(
                        f"y0: network {self.name!r} has no species {key!r}; it has "
                        f"{', '.join(self.species)}" + (f"; {hint}" if hint else "")
                    )
                out[self.species.index(key)] = _count(value, f"y0[{key!r}]", InputError)
            return out
        values = list(np.asarray(counts, dtype=object).ravel())
        if np.ndim(counts) != 1 or len(values) != self.num_species:
            raise InputError(
                f"y0 has shape {np.shape(counts)}, but network {self.name!r} has "
                f"{self.num_species} species ({', '.join(self.species)}); pass that many "
                "counts in order or a mapping"
            )
        for i, value in enumerate(values):
            out[i] = _count(value, f"y0[{i}] ({self.species[i]})", InputError)
        return out

    # ------------------------------------------------------------------ rate equations
    def rate_equations(self) -> Model:
        """The deterministic rate equations in concentrations ``c = x / Omega``.

        ``dc_i/dt = sum_j S_ij r_j(c)`` with ``r_j = k_j prod_i c_i^nu_ij / nu_ij!`` for
        mass action and ``r_j = a_j(Omega c) / Omega`` for explicit propensities. The
        model is an ODE with the species as variables (initial state: initial counts over
        Omega) and the network's parameters; ``metadata`` holds ``("reaction_network",
        network)`` (this network) and ``("volume", Omega)``.

        Examples
        --------
        >>> net = ReactionNetwork.from_strings(
        ...     "dimer", species={"X": 10, "D": 0},
        ...     reactions={"bind": "2 X -> D @ k"}, parameters={"k": 1.0}, volume=10.0)
        >>> net.rate_equations().rhs_dict()
        {'X': -X**2*k, 'D': X**2*k/2}
        """
        omega = _number(self.volume)
        concentration = {sympy.Symbol(s): omega * sympy.Symbol(s) for s in self.species}
        rates = []
        for reaction, template in zip(self.reactions, self.propensity_templates, strict=True):
            if reaction.propensity is None:
                factors = [
                    sympy.Symbol(s) ** c / math.factorial(c) for s, c in reaction.reactants.items()
                ]
                rates.append(reaction.rate * sympy.Mul(*factors))
            else:
                scaled = template.subs(VOLUME, omega).xreplace(concentration) / omega
                rates.append(sympy.expand(scaled) if scaled.is_polynomial() else scaled)
        equations = []
        for i in range(self.num_species):
            row = self.stoichiometry[i]
            equations.append(
                sympy.Add(*(int(row[j]) * rates[j] for j in range(self.num_reactions) if row[j]))
            )
        return Model(
            name=self.name,
            kind=ModelKind.ODE,
            variables=self.species,
            parameters=self.parameters,
            equations=tuple(equations),
            default_state=tuple(c / self.volume for c in self.initial_counts),
            default_params=self.default_params,
            description=self.description,
            citation=self.citation,
            metadata=(("reaction_network", self), ("volume", float(self.volume))),
        )


# --------------------------------------------------------------------------- building
def _number(value: float) -> sympy.Expr:
    if float(value).is_integer():
        return sympy.Integer(int(value))
    return sympy.Float(float(value))


def _positive_volume(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) and number > 0 else None


def _count(value: object, where: str, error: type[Exception]) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"{where} = {value!r}: a molecule count must be a whole number")
    number = float(value)
    if not math.isfinite(number) or not number.is_integer():
        raise error(f"{where} = {value!r}: a molecule count must be a whole number")
    if number < 0:
        raise error(f"{where} = {value!r}: a molecule count cannot be negative")
    if number > 2**62:
        raise error(f"{where} = {value!r}: too large for a 64-bit count")
    return int(number)


def _check_rates(
    network: ReactionNetwork, params: np.ndarray, *, raise_as: type[Exception]
) -> None:
    values = {sympy.Symbol(p): float(v) for p, v in zip(network.parameters, params, strict=True)}
    for reaction in network.reactions:
        if reaction.propensity is not None:
            continue
        rate = reaction.rate.xreplace(values)
        try:
            number = float(rate)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise raise_as(
                f"reaction {reaction.name!r}: the rate constant {reaction.rate} = {number} "
                "must be finite and non-negative"
            )
