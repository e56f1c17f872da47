r"""Moment equations of a reaction network, moment closures and the linear noise approximation.

:func:`moment_equations` derives, from the chemical master equation, the ODEs of the
means and of the central (or raw) moments up to a given order,

.. math::

    \frac{d}{dt}\langle f(x)\rangle = \sum_r \langle a_r(x)\,(f(x + \nu_r) - f(x))\rangle ,

expanding each propensity in the moments, symbolically with sympy. For propensities of
degree at most one (linear networks) the hierarchy closes by itself; otherwise moments
above the truncation order are replaced by a closure (:class:`Normal`,
:class:`LogNormal`, :class:`Poisson`, :class:`Gamma`, :class:`DerivativeMatching`,
:class:`Zero`). :func:`linear_noise_approximation` gives van Kampen's LNA: the rate
equations for the mean and a Lyapunov ODE for the covariance.

Both return an ordinary :class:`~stabkit.model.model.Model` (kind ``"ode"``) whose
variables are named moments -- ``mean_X``, ``var_X``, ``cov_X_Y``, ``cm_X_X_Y`` (a third
central moment), ``raw_X_Y`` (a raw moment) -- so :func:`~stabkit.solve`,
:func:`~stabkit.find_equilibria`, :func:`~stabkit.linear_stability` and continuation all
apply. ``model.metadata`` holds ``"moments"``: the closure, order, species and the
multi-index of every variable (read it with :func:`moment_info`).

References: Schnoerr, Sanguinetti & Grima, J. Chem. Phys. 141, 084103 (2014);
Lakatos, Ale, Kirk & Stumpf, J. Chem. Phys. 143, 094107 (2015); van Kampen, *Stochastic
Processes in Physics and Chemistry* (2007), ch. X.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.analysis._closures import (
    Closure,
    DerivativeMatching,
    Gamma,
    LogNormal,
    Normal,
    Poisson,
    Zero,
)
from stabkit.analysis._lna import linear_noise_approximation, lna_stationary_covariance
from stabkit.analysis._moment_algebra import MomentSpace, MultiIndex, expectation
from stabkit.analysis._moment_network import (
    METADATA_KEY,
    VOLUME,
    moment_name,
    network_parts,
    polynomial_propensities,
    reaction_labels,
    unit,
)
from stabkit.errors import InputError
from stabkit.model.model import Model, ModelKind

__all__ = [
    "VOLUME",
    "Closure",
    "DerivativeMatching",
    "Gamma",
    "LogNormal",
    "MomentInfo",
    "Normal",
    "Poisson",
    "Zero",
    "linear_noise_approximation",
    "lna_stationary_covariance",
    "means_of",
    "moment_equations",
    "moment_info",
    "variances_of",
]


@dataclasses.dataclass(frozen=True)
class MomentInfo:
    """What a moment model's variables are.

    Attributes
    ----------
    species
        Species names.
    order
        Truncation order.
    central
        True for means + central moments, False for raw moments.
    closure
        Closure name (``"normal"``, ``"log-normal"``, ...), ``"exact"`` when none was
        needed, ``"lna"`` for the linear noise approximation.
    indices
        ``{variable: multi-index}``.
    volume
        System size Omega of the network.
    """

    species: tuple[str, ...]
    order: int
    central: bool
    closure: str
    indices: Mapping[str, tuple[int, ...]]
    volume: float

    def mean_names(self) -> tuple[str, ...]:
        """The variables holding the means, in species order."""
        return tuple(
            moment_name(unit(len(self.species), i), self.species, True)
            for i in range(len(self.species))
        )

    def variance_names(self) -> tuple[str, ...]:
        """The variables holding the variances (central) or second raw moments (raw)."""
        n = len(self.species)
        return tuple(
            moment_name(tuple(2 * int(j == i) for j in range(n)), self.species, self.central)
            for i in range(n)
        )


def moment_info(model: Model) -> MomentInfo:
    """The :class:`MomentInfo` of a model built by this module.

    Raises
    ------
    InputError
        The model was not built by :func:`moment_equations` or
        :func:`linear_noise_approximation`.
    """
    data = dict(model.metadata).get(METADATA_KEY)
    if not isinstance(data, Mapping):
        raise InputError(
            f"model {model.name!r} is not a moment model; build one with "
            "moment_equations(network, order)"
        )
    return MomentInfo(
        species=tuple(data["species"]),
        order=int(data["order"]),
        central=bool(data["central"]),
        closure=str(data["closure"]),
        indices={k: tuple(v) for k, v in data["indices"].items()},
        volume=float(data["volume"]),
    )


def variances_of(model: Model, states: np.ndarray) -> np.ndarray:
    """Variances of every species along states of a moment model, shape ``(..., species)``."""
    info = moment_info(model)
    if info.order < 2:
        raise InputError(f"model {model.name!r} is of order 1: it has means but no variances")
    states = np.asarray(states, dtype=float)
    index = {name: i for i, name in enumerate(model.variables)}
    means = states[..., [index[v] for v in info.mean_names()]]
    second = states[..., [index[v] for v in info.variance_names()]]
    return second if info.central else second - means**2


def means_of(model: Model, states: np.ndarray) -> np.ndarray:
    """Means of every species along states of a moment model, shape ``(..., species)``."""
    info = moment_info(model)
    index = {name: i for i, name in enumerate(model.variables)}
    return np.asarray(states, dtype=float)[..., [index[v] for v in info.mean_names()]]


def _check_order(order: object) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise InputError(f"order={order!r}: expected an integer >= 1 (1: means, 2: + covariances)")
    if order > 6:
        raise InputError(
            f"order={order!r}: orders above 6 are not supported (the algebra grows fast)"
        )
    return int(order)


# --------------------------------------------------------------------------- moment equations
def moment_equations(
    network: Any,
    order: int,
    *,
    closure: Closure | None = None,
    central: bool = True,
    params: Mapping[str, float] | None = None,
    name: str | None = None,
) -> Model:
    r"""Moment equations of a reaction network up to ``order``, closed by ``closure``.

    Parameters
    ----------
    network
        A :class:`~stabkit.model.reactions.ReactionNetwork` with polynomial (mass-action
        or explicit polynomial) propensities.
    order
        Truncation order m, 1 <= m <= 6: the equations of all moments of order <= m.
    closure
        :class:`Normal`, :class:`LogNormal`, :class:`Poisson`, :class:`Gamma`,
        :class:`DerivativeMatching` or :class:`Zero`. ``None``: no closure; allowed only
        when the hierarchy closes exactly (every propensity of degree <= 1).
    central
        True: means and central moments (``mean_X``, ``var_X``, ``cov_X_Y``, ``cm_...``);
        False: raw moments (``mean_X``, ``raw_X_X``, ...).
    params
        Parameter values overriding the network's defaults (the model's defaults).
    name
        Model name; default ``"<network>_moments<m>_<closure>"``.

    Returns
    -------
    Model
        Kind ``"ode"``, parameters those of the network; default state: the moments of
        the deterministic initial counts. ``moment_info(model)`` describes it.

    Raises
    ------
    InputError
        Not a network; order out of range; a non-polynomial propensity; ``closure=None``
        for a network whose hierarchy does not close; a closure that needs a higher
        order (log-normal and gamma need m >= 2).

    Notes
    -----
    d<x^alpha>/dt = sum_r <a_r(x) ((x + nu_r)^alpha - x^alpha)> (raw); for central moments
    the polynomial is expanded about the mean and -sum_i alpha_i C_{alpha-e_i} dmu_i/dt
    added. Moments above m are the closure's.

    Examples
    --------
    >>> from stabkit.model.reactions import ReactionNetwork
    >>> bd = ReactionNetwork.from_strings("bd", species={"X": 0},
    ...     reactions={"b": "0 -> X @ k1", "d": "X -> 0 @ k2"},
    ...     parameters={"k1": 10.0, "k2": 1.0})
    >>> model = moment_equations(bd, 2)
    >>> model.variables
    ('mean_X', 'var_X')
    >>> model.equations[1]
    Omega*k1 + k2*mean_X - 2*k2*var_X
    >>> dimer = ReactionNetwork.from_strings("dimer", species={"X": 0},
    ...     reactions={"b": "0 -> X @ k1", "d": "2 X -> 0 @ k2"},
    ...     parameters={"k1": 10.0, "k2": 1.0})
    >>> moment_equations(dimer, 2, closure=Normal()).equations[0]
    Omega*k1 - k2*mean_X**2/Omega + k2*mean_X/Omega - k2*var_X/Omega
    """
    m = _check_order(order)
    if closure is not None and not isinstance(closure, Closure):
        raise InputError(
            f"closure={closure!r}: expected Normal(), LogNormal(), Poisson(), Gamma(), "
            "DerivativeMatching(), Zero() or None"
        )
    if not isinstance(central, bool):
        raise InputError(f"central={central!r}: expected True or False")
    if closure is not None:
        closure.check_order(m)
    species, symbols, propensities, stoich, values, volume = network_parts(network, params)
    labels = reaction_labels(network, len(propensities))
    polys = polynomial_propensities(propensities, symbols, labels)
    degree = max((p.total_degree() for p in polys), default=0)
    exact = degree <= 1
    if closure is None and not exact:
        raise InputError(
            f"the moment equations of network {getattr(network, 'name', '')!r} do not close "
            f"(propensities of degree {degree}); pass closure=Normal() or another closure"
        )
    n = len(species)
    space = MomentSpace(
        species,
        m,
        central=central,
        closure=None if exact else closure,
        names=lambda alpha: moment_name(alpha, species, central),
    )
    clashes = [str(s) for s in space.symbols.values() if str(s) in values or str(s) in species]
    if clashes:
        raise InputError(
            f"moment variable names {clashes} clash with parameter or species names of "
            "the network; rename those parameters"
        )
    equations = _derive(space, symbols, polys, stoich)
    label = "exact" if exact else (closure.name if closure is not None else "exact")
    init = np.asarray(getattr(network, "initial_counts", np.zeros(n)), dtype=float)
    state = {str(space.symbols[a]): _moment_of_point(init, a, central) for a in space.indices}
    metadata = {
        METADATA_KEY: {
            "species": list(species),
            "order": m,
            "central": central,
            "closure": label,
            "indices": {str(space.symbols[a]): list(a) for a in space.indices},
            "volume": volume,
        }
    }
    net_name = str(getattr(network, "name", "network"))
    return Model(
        name=name or f"{net_name}_moments{m}_{label.replace('-', '_')}",
        kind=ModelKind.ODE,
        variables=tuple(str(space.symbols[a]) for a in space.indices),
        parameters=tuple(values),
        equations=tuple(equations[a] for a in space.indices),
        default_state=tuple(state.values()),
        default_params=tuple(values.values()),
        description=f"order-{m} {'central' if central else 'raw'} moment equations of "
        f"{net_name} ({label} closure)",
        citation="Schnoerr, Sanguinetti & Grima, J. Chem. Phys. 141, 084103 (2014)",
        metadata=tuple(metadata.items()),
    )


def _moment_of_point(point: np.ndarray, alpha: MultiIndex, central: bool) -> float:
    if sum(alpha) == 1 or not central:
        return float(np.prod(point ** np.asarray(alpha)))
    return 0.0


def _derive(
    space: MomentSpace,
    symbols: Sequence[sympy.Symbol],
    polys: Sequence[sympy.Poly],
    stoich: np.ndarray,
) -> dict[MultiIndex, sympy.Expr]:
    n = space.n
    deltas = sympy.symbols(f"_d0:{n}")
    variables = deltas if space.central else tuple(symbols)
    if space.central:
        shift = {s: mu + d for s, mu, d in zip(symbols, space.means, deltas, strict=True)}
        props = [sympy.Poly(p.as_expr().subs(shift, simultaneous=True), *deltas) for p in polys]
    else:
        props = [sympy.Poly(p.as_expr(), *variables) for p in polys]
    out: dict[MultiIndex, sympy.Expr] = {}
    state = list(space.symbols.values())
    mean_rates: list[sympy.Expr] = []
    for i in range(n):
        rate: sympy.Expr = sympy.Integer(0)
        for r, a in enumerate(props):
            if stoich[i, r]:
                rate += int(stoich[i, r]) * expectation(space, a)
        mean_rates.append(_tidy(rate, state))
    for alpha in space.indices:
        if sum(alpha) == 1:
            out[alpha] = mean_rates[alpha.index(1)]
            continue
        total: sympy.Expr = sympy.Integer(0)
        base = sympy.Poly(
            math.prod(v**a for v, a in zip(variables, alpha, strict=True)), *variables
        )
        for r, a in enumerate(props):
            column = stoich[:, r]
            if not column.any():
                continue
            moved = sympy.Poly(
                math.prod(
                    (v + int(c)) ** k for v, c, k in zip(variables, column, alpha, strict=True)
                ),
                *variables,
            )
            total += expectation(space, a * (moved - base))
        if space.central:
            for i in range(n):
                if alpha[i] and sum(alpha) > 2:
                    lower = tuple(a - int(j == i) for j, a in enumerate(alpha))
                    total -= alpha[i] * space.central_moment(lower) * mean_rates[i]
        out[alpha] = _tidy(total, state)
    return out


def _tidy(expr: sympy.Expr, state: Sequence[sympy.Symbol]) -> sympy.Expr:
    """Expand polynomials (canonical form for algebraic solvers); leave rational ones.

    Expanding the rational right-hand sides of the log-normal, gamma and
    derivative-matching closures multiplies out nested powers (hundreds of thousands of
    terms for a trimolecular reaction); as built they stay compact.
    """
    if expr.is_polynomial(*state):
        return sympy.expand(expr)
    return expr
