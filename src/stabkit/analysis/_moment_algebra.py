"""Symbolic moment algebra behind :func:`stabkit.analysis.moments.moment_equations`.

Moments are indexed by multi-indices ``alpha`` (one non-negative integer per species):
the raw moment ``E[prod_i x_i^alpha_i]`` and the central moment
``E[prod_i (x_i - mu_i)^alpha_i]``. A :class:`MomentSpace` holds the state symbols of a
truncation at order ``m`` (means plus raw or central moments of orders 2..m) and gives
every moment of any order as an expression in them: moments up to order ``m`` by the
raw <-> central binomial conversions, moments above ``m`` through a closure.

Cumulants come from central moments by the multivariate moment-cumulant relation:
a central moment is the sum, over the set partitions of its index multiset into blocks
of at least two elements, of the product of the blocks' cumulants (Balakrishnan,
Johnson & Kotz 1998); a raw moment is the same sum over all set partitions, with the
cumulant of a one-element block equal to the mean.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import sympy

__all__ = [
    "MomentSpace",
    "closure_order_needed",
    "expectation",
    "multi_indices",
    "partition_sum",
]

MultiIndex = tuple[int, ...]


class ClosureRule(Protocol):
    """What a closure supplies: one moment of order above the truncation order."""

    def closed_moment(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        """Central moment (``space.central``) or raw moment (else) ``alpha``."""
        ...  # pragma: no cover


def multi_indices(num_species: int, order: int) -> list[MultiIndex]:
    """All multi-indices of total order ``order``, first species' power highest first."""
    out = [
        alpha
        for alpha in itertools.product(range(order, -1, -1), repeat=num_species)
        if sum(alpha) == order
    ]
    return out


def _below(alpha: MultiIndex) -> Iterator[MultiIndex]:
    """Every multi-index gamma with 0 <= gamma <= alpha (componentwise)."""
    return itertools.product(*(range(a + 1) for a in alpha))


def _binomial(alpha: MultiIndex, gamma: MultiIndex) -> int:
    return math.prod(math.comb(a, g) for a, g in zip(alpha, gamma, strict=True))


def _sub(alpha: MultiIndex, beta: MultiIndex) -> MultiIndex:
    return tuple(a - b for a, b in zip(alpha, beta, strict=True))


def _unit(n: int, i: int) -> MultiIndex:
    return tuple(1 if j == i else 0 for j in range(n))


def partition_sum(
    alpha: MultiIndex,
    block_value: Callable[[MultiIndex], sympy.Expr],
    *,
    min_block: int,
    exclude_whole: bool = False,
) -> sympy.Expr:
    """Sum over set partitions of the multiset ``alpha`` of the product of block values.

    The multiset has ``alpha_i`` copies of species ``i``; copies are distinguishable, so
    a block of multi-index ``beta`` drawn from ``alpha`` counts ``prod_i C(alpha_i,
    beta_i)`` times. Blocks smaller than ``min_block`` are left out; with
    ``exclude_whole`` the one-block partition is left out too.
    """

    @functools.cache
    def rec(rest: MultiIndex, top: bool) -> sympy.Expr:
        if sum(rest) == 0:
            return sympy.Integer(1)
        first = next(i for i, a in enumerate(rest) if a)
        remaining = _sub(rest, _unit(len(rest), first))
        total: sympy.Expr = sympy.Integer(0)
        for beta in _below(remaining):
            block = tuple(b + (1 if i == first else 0) for i, b in enumerate(beta))
            if sum(block) < min_block:
                continue
            if top and exclude_whole and block == rest:
                continue
            tail = rec(_sub(rest, block), False)
            if tail == 0:
                continue
            value = block_value(block)
            if value == 0:
                continue
            total += _binomial(remaining, beta) * value * tail
        return total

    return rec(tuple(alpha), True)


class MomentSpace:
    """State symbols of an order-``order`` truncation and every moment in terms of them.

    Parameters
    ----------
    species
        Species names, in order.
    order
        Truncation order m >= 1.
    central
        True: the state holds means and central moments of orders 2..m; False: raw
        moments of orders 1..m.
    closure
        Supplies moments above order m; ``None``: asking for one raises ``KeyError``.
    """

    def __init__(
        self,
        species: Sequence[str],
        order: int,
        *,
        central: bool,
        closure: ClosureRule | None,
        names: Callable[[MultiIndex], str],
    ) -> None:
        self.species = tuple(species)
        self.n = len(self.species)
        self.order = order
        self.central = central
        self.closure = closure
        self.indices: list[MultiIndex] = [
            alpha for k in range(1, order + 1) for alpha in multi_indices(self.n, k)
        ]
        self.symbols: dict[MultiIndex, sympy.Symbol] = {
            alpha: sympy.Symbol(names(alpha)) for alpha in self.indices
        }
        self.means = tuple(self.symbols[_unit(self.n, i)] for i in range(self.n))
        self._central: dict[MultiIndex, sympy.Expr] = {}
        self._raw: dict[MultiIndex, sympy.Expr] = {}
        self._cumulant: dict[MultiIndex, sympy.Expr] = {}

    # ------------------------------------------------------------------ moments
    def central_moment(self, alpha: MultiIndex) -> sympy.Expr:
        """E[prod (x_i - mu_i)^alpha_i] in state symbols (closed above the order)."""
        if alpha in self._central:
            return self._central[alpha]
        k = sum(alpha)
        if k == 0:
            value: sympy.Expr = sympy.Integer(1)
        elif k == 1:
            value = sympy.Integer(0)
        elif k <= self.order and self.central:
            value = self.symbols[alpha]
        elif k <= self.order or not self.central:
            value = self._central_from_raw(alpha)
        else:
            value = self._close(alpha)
        self._central[alpha] = value
        return value

    def raw_moment(self, alpha: MultiIndex) -> sympy.Expr:
        """E[prod x_i^alpha_i] in state symbols (closed above the order)."""
        if alpha in self._raw:
            return self._raw[alpha]
        k = sum(alpha)
        if k == 0:
            value: sympy.Expr = sympy.Integer(1)
        elif k <= self.order and not self.central:
            value = self.symbols[alpha]
        elif k <= self.order or self.central:
            value = self._raw_from_central(alpha)
        else:
            value = self._close(alpha)
        self._raw[alpha] = value
        return value

    def moment(self, alpha: MultiIndex) -> sympy.Expr:
        """The moment of the space's kind (central or raw)."""
        return self.central_moment(alpha) if self.central else self.raw_moment(alpha)

    def cumulant(self, alpha: MultiIndex) -> sympy.Expr:
        """Joint cumulant of order <= m from the moments (the mean for order 1)."""
        if alpha in self._cumulant:
            return self._cumulant[alpha]
        k = sum(alpha)
        if k == 1:
            value = self.means[alpha.index(1)]
        elif k > self.order:
            raise KeyError(f"cumulant of order {k} above the truncation order {self.order}")
        else:
            others = partition_sum(alpha, self.cumulant, min_block=2, exclude_whole=True)
            value = self.central_moment(alpha) - others
        self._cumulant[alpha] = value
        return value

    def covariance(self, i: int, j: int) -> sympy.Expr:
        alpha = tuple(int(s == i) + int(s == j) for s in range(self.n))
        return self.central_moment(alpha)

    # ------------------------------------------------------------------ internals
    def _close(self, alpha: MultiIndex) -> sympy.Expr:
        if self.closure is None:
            raise KeyError(alpha)
        return self.closure.closed_moment(self, alpha)

    def _raw_from_central(self, alpha: MultiIndex) -> sympy.Expr:
        total: sympy.Expr = sympy.Integer(0)
        for gamma in _below(alpha):
            c = self.central_moment(gamma)
            if c == 0:
                continue
            shift = math.prod(m**e for m, e in zip(self.means, _sub(alpha, gamma), strict=True))
            total += _binomial(alpha, gamma) * shift * c
        return total

    def _central_from_raw(self, alpha: MultiIndex) -> sympy.Expr:
        total: sympy.Expr = sympy.Integer(0)
        for gamma in _below(alpha):
            shift = math.prod(
                (-m) ** e for m, e in zip(self.means, _sub(alpha, gamma), strict=True)
            )
            total += _binomial(alpha, gamma) * shift * self.raw_moment(gamma)
        return total


def expectation(space: MomentSpace, polynomial: sympy.Poly) -> sympy.Expr:
    """E[p] for a polynomial in the fluctuations (central space) or counts (raw space)."""
    total: sympy.Expr = sympy.Integer(0)
    for monomial, coefficient in polynomial.terms():
        total += coefficient.as_expr() * space.moment(tuple(monomial))
    return total


def closure_order_needed(degree: int, order: int) -> int:
    """Highest moment order in the order-``order`` equations of propensities of ``degree``."""
    return max(order, order + degree - 1)
