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
from stabkit.analysis._moment_algebra import MomentSpace, MultiIndex, expectation
from stabkit.errors import InputError, suggest
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

_METADATA_KEY = "moments"
#: Name of the system-size parameter of the moment models (default: the network's volume).
VOLUME = "Omega"


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
            _name(_unit(len(self.species), i), self.species, True) for i in range(len(self.species))
        )

    def variance_names(self) -> tuple[str, ...]:
        """The variables holding the variances (central) or second raw moments (raw)."""
        n = len(self.species)
        return tuple(
            _name(tuple(2 * int(j == i) for j in range(n)), self.species, self.central)
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
    data = dict(model.metadata).get(_METADATA_KEY)
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


# --------------------------------------------------------------------------- names
def _unit(n: int, i: int) -> MultiIndex:
    return tuple(int(j == i) for j in range(n))


def _name(alpha: MultiIndex, species: Sequence[str], central: bool) -> str:
    k = sum(alpha)
    present = [s for s, a in zip(species, alpha, strict=True) for _ in range(a)]
    if k == 1:
        return f"mean_{present[0]}"
    if not central:
        return "raw_" + "_".join(present)
    if k == 2:
        return f"var_{present[0]}" if present[0] == present[1] else f"cov_{present[0]}_{present[1]}"
    return "cm_" + "_".join(present)


# --------------------------------------------------------------------------- network access
def _network_parts(
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


def _polynomial_propensities(
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


def _reaction_labels(network: Any, count: int) -> list[str]:
    reactions = getattr(network, "reactions", ())
    labels = [str(getattr(r, "name", i)) for i, r in enumerate(reactions)]
    return labels if len(labels) == count else [str(i) for i in range(count)]


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
    >>> from stabkit.model.reactions import ReactionNetwork  # doctest: +SKIP
    >>> bd = ReactionNetwork.from_strings("bd", species={"X": 0},
    ...     reactions={"b": "0 -> X @ k1", "d": "X -> 0 @ k2"},
    ...     parameters={"k1": 10.0, "k2": 1.0})  # doctest: +SKIP
    >>> moment_equations(bd, 2).variables  # doctest: +SKIP
    ('mean_X', 'var_X')
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
    species, symbols, propensities, stoich, values, volume = _network_parts(network, params)
    labels = _reaction_labels(network, len(propensities))
    polys = _polynomial_propensities(propensities, symbols, labels)
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
        names=lambda alpha: _name(alpha, species, central),
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
        _METADATA_KEY: {
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
    mean_rates: list[sympy.Expr] = []
    for i in range(n):
        rate: sympy.Expr = sympy.Integer(0)
        for r, a in enumerate(props):
            if stoich[i, r]:
                rate += int(stoich[i, r]) * expectation(space, a)
        mean_rates.append(sympy.expand(rate))
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
        out[alpha] = _tidy(total)
    return out


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """Expand polynomials (canonical form for algebraic solvers); leave rational ones."""
    expanded = sympy.expand(expr)
    return expanded


# --------------------------------------------------------------------------- LNA
def _macroscopic_propensities(
    network: Any, symbols: Sequence[sympy.Symbol], propensities: Sequence[sympy.Expr]
) -> list[sympy.Expr]:
    """Propensities for the deterministic limit: x(x-1)...(x-k+1) -> x^k (counts)."""
    out = []
    for a in propensities:
        poly = sympy.Poly(a, *symbols)
        top = poly.total_degree()  # leading order in Omega when counts ~ Omega
        expr: sympy.Expr = sympy.Integer(0)
        for monomial, coefficient in poly.terms():
            if sum(monomial) == top:
                expr += coefficient.as_expr() * math.prod(
                    s**k for s, k in zip(symbols, monomial, strict=True)
                )
        out.append(expr)
    return out


def linear_noise_approximation(
    network: Any, *, params: Mapping[str, float] | None = None, name: str | None = None
) -> Model:
    r"""The linear noise approximation (van Kampen) as a model in molecule counts.

    Parameters
    ----------
    network
        A :class:`~stabkit.model.reactions.ReactionNetwork` with polynomial propensities.
    params
        Parameter values overriding the network's defaults.
    name
        Model name; default ``"<network>_lna"``.

    Returns
    -------
    Model
        Variables ``mean_X`` (the rate equations, in counts) and ``var_X``, ``cov_X_Y``
        (the covariance of the counts), kind ``"ode"``.

    Raises
    ------
    InputError
        Not a network, a non-polynomial propensity.

    Notes
    -----
    dmu/dt = S a(mu) and dC/dt = J C + C J^T + S diag(a(mu)) S^T with J = S da/dx(mu),
    where a is the macroscopic propensity (falling factorials replaced by powers). At a
    stable fixed point C solves the Lyapunov equation J C + C J^T + D = 0
    (:func:`lna_stationary_covariance`). Van Kampen (2007), ch. X; Elf & Ehrenberg,
    Genome Res. 13, 2475 (2003).
    """
    species, symbols, propensities, stoich, values, volume = _network_parts(network, params)
    labels = _reaction_labels(network, len(propensities))
    _polynomial_propensities(propensities, symbols, labels)
    macro = _macroscopic_propensities(network, symbols, propensities)
    n = len(species)
    means = [sympy.Symbol(_name(_unit(n, i), species, True)) for i in range(n)]
    at_mean = dict(zip(symbols, means, strict=True))
    a_vec = sympy.Matrix([a.subs(at_mean, simultaneous=True) for a in macro])
    s_mat = sympy.Matrix(stoich.tolist())
    drift = s_mat * a_vec
    jac = drift.jacobian(sympy.Matrix(means))
    cov_names: dict[tuple[int, int], sympy.Symbol] = {}
    for i in range(n):
        for j in range(i, n):
            alpha = tuple(int(k == i) + int(k == j) for k in range(n))
            cov_names[(i, j)] = sympy.Symbol(_name(alpha, species, True))
    cov = sympy.Matrix(n, n, lambda i, j: cov_names[(min(i, j), max(i, j))])
    diffusion = s_mat * sympy.diag(*a_vec) * s_mat.T
    dcov = jac * cov + cov * jac.T + diffusion
    variables = [str(s) for s in means] + [str(cov_names[k]) for k in sorted(cov_names)]
    equations = [sympy.expand(e) for e in drift] + [
        sympy.expand(dcov[i, j]) for i, j in sorted(cov_names)
    ]
    init = np.asarray(getattr(network, "initial_counts", np.zeros(n)), dtype=float)
    indices = {str(s): list(_unit(n, i)) for i, s in enumerate(means)}
    for (i, j), sym in cov_names.items():
        indices[str(sym)] = [int(k == i) + int(k == j) for k in range(n)]
    metadata = {
        _METADATA_KEY: {
            "species": list(species),
            "order": 2,
            "central": True,
            "closure": "lna",
            "indices": indices,
            "volume": volume,
        }
    }
    net_name = str(getattr(network, "name", "network"))
    return Model(
        name=name or f"{net_name}_lna",
        kind=ModelKind.ODE,
        variables=tuple(variables),
        parameters=tuple(values),
        equations=tuple(equations),
        default_state=tuple([*(float(c) for c in init), *([0.0] * len(cov_names))]),
        default_params=tuple(values.values()),
        description=f"linear noise approximation of {net_name}",
        citation="van Kampen, Stochastic Processes in Physics and Chemistry (2007)",
        metadata=tuple(metadata.items()),
    )


def lna_stationary_covariance(
    network: Any,
    mean: Sequence[float] | np.ndarray,
    *,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    r"""Stationary LNA covariance of the counts at a fixed point of the rate equations.

    Parameters
    ----------
    network
        A :class:`~stabkit.model.reactions.ReactionNetwork`.
    mean
        The fixed point in counts, shape ``(num_species,)``.
    params
        Parameter values overriding the network's defaults.

    Returns
    -------
    numpy.ndarray
        C, shape ``(num_species, num_species)``, solving J C + C J^T + S diag(a) S^T = 0.

    Raises
    ------
    InputError
        ``mean`` of the wrong shape, or J not Hurwitz (the fixed point is not stable, so
        the LNA has no stationary covariance there).
    """
    from scipy.linalg import solve_continuous_lyapunov

    species, symbols, propensities, stoich, values, _ = _network_parts(network, params)
    macro = _macroscopic_propensities(network, symbols, propensities)
    point = np.asarray(mean, dtype=float)
    if point.shape != (len(species),):
        raise InputError(
            f"mean has shape {point.shape}; expected ({len(species)},) (one per species)"
        )
    subs = {
        **dict(zip(symbols, point, strict=True)),
        **{sympy.Symbol(k): v for k, v in values.items()},
    }
    a_vec = np.array([float(a.subs(subs)) for a in macro])
    grad = np.array([[float(sympy.diff(a, s).subs(subs)) for s in symbols] for a in macro]).reshape(
        len(macro), len(species)
    )
    s_mat = stoich.astype(float)
    jac = s_mat @ grad
    eig = np.linalg.eigvals(jac)
    if np.any(eig.real >= 0):
        raise InputError(
            f"the rate equations' Jacobian at mean={point.tolist()} has eigenvalues "
            f"{np.round(eig, 6).tolist()}; the LNA has a stationary covariance only at a stable "
            "fixed point"
        )
    diffusion = s_mat @ np.diag(a_vec) @ s_mat.T
    return np.asarray(solve_continuous_lyapunov(jac, -diffusion))
