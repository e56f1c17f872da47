"""The linear noise approximation (van Kampen) of a reaction network, as a Model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.analysis._moment_network import (
    METADATA_KEY,
    moment_name,
    network_parts,
    polynomial_propensities,
    reaction_labels,
    unit,
)
from stabkit.errors import InputError
from stabkit.model.model import Model, ModelKind

__all__ = ["linear_noise_approximation", "lna_stationary_covariance"]


def macroscopic_propensities(
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
    species, symbols, propensities, stoich, values, volume = network_parts(network, params)
    labels = reaction_labels(network, len(propensities))
    polynomial_propensities(propensities, symbols, labels)
    macro = macroscopic_propensities(network, symbols, propensities)
    n = len(species)
    means = [sympy.Symbol(moment_name(unit(n, i), species, True)) for i in range(n)]
    at_mean = dict(zip(symbols, means, strict=True))
    a_vec = sympy.Matrix([a.subs(at_mean, simultaneous=True) for a in macro])
    s_mat = sympy.Matrix(stoich.tolist())
    drift = s_mat * a_vec
    jac = drift.jacobian(sympy.Matrix(means))
    cov_names: dict[tuple[int, int], sympy.Symbol] = {}
    for i in range(n):
        for j in range(i, n):
            alpha = tuple(int(k == i) + int(k == j) for k in range(n))
            cov_names[(i, j)] = sympy.Symbol(moment_name(alpha, species, True))
    cov = sympy.Matrix(n, n, lambda i, j: cov_names[(min(i, j), max(i, j))])
    diffusion = s_mat * sympy.diag(*a_vec) * s_mat.T
    dcov = jac * cov + cov * jac.T + diffusion
    variables = [str(s) for s in means] + [str(cov_names[k]) for k in sorted(cov_names)]
    equations = [sympy.expand(e) for e in drift] + [
        sympy.expand(dcov[i, j]) for i, j in sorted(cov_names)
    ]
    init = np.asarray(getattr(network, "initial_counts", np.zeros(n)), dtype=float)
    indices = {str(s): list(unit(n, i)) for i, s in enumerate(means)}
    for (i, j), sym in cov_names.items():
        indices[str(sym)] = [int(k == i) + int(k == j) for k in range(n)]
    metadata = {
        METADATA_KEY: {
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

    Examples
    --------
    >>> from stabkit.model.reactions import ReactionNetwork
    >>> bd = ReactionNetwork.from_strings("bd", species={"X": 0},
    ...     reactions={"b": "0 -> X @ k1", "d": "X -> 0 @ k2"},
    ...     parameters={"k1": 10.0, "k2": 1.0})
    >>> lna_stationary_covariance(bd, [10.0])  # Poisson: variance = mean
    array([[10.]])
    """
    from scipy.linalg import solve_continuous_lyapunov

    species, symbols, propensities, stoich, values, _ = network_parts(network, params)
    macro = macroscopic_propensities(network, symbols, propensities)
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
