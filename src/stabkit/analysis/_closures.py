"""Moment closures: how moments above the truncation order are expressed in lower ones.

Each closure is a frozen dataclass with a ``closed_moment(space, alpha)`` method that
returns the moment ``alpha`` (central or raw, as the :class:`MomentSpace` keeps them) of
order above the truncation order ``m`` in the space's state symbols.

=====================  ======================================================================
closure                assumption above order m
=====================  ======================================================================
:class:`Normal`        every joint cumulant of order > m is zero (Whittle 1957; Goodman 1953)
:class:`Poisson`       pure cumulants of order > m equal the mean, mixed ones vanish
:class:`LogNormal`     the distribution is log-normal with the current means and covariances
:class:`Gamma`         cumulants of order > m are those of Lakatos et al.'s multivariate gamma
:class:`DerivativeMatching`  log of the raw moments is a polynomial of degree m in the
                       multi-index (Singh & Hespanha 2006, 2011)
:class:`Zero`          central moments above order m vanish (central-moment neglect)
=====================  ======================================================================

References: Lakatos, Ale, Kirk & Stumpf, J. Chem. Phys. 143, 094107 (2015); Schnoerr,
Sanguinetti & Grima, J. Chem. Phys. 141, 084103 (2014); Singh & Hespanha, IEEE TAC 56,
414 (2011).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from typing import ClassVar

import sympy

from stabkit.analysis._moment_algebra import MomentSpace, MultiIndex, partition_sum
from stabkit.errors import InputError

__all__ = [
    "Closure",
    "DerivativeMatching",
    "Gamma",
    "LogNormal",
    "Normal",
    "Poisson",
    "Zero",
]


@dataclasses.dataclass(frozen=True)
class Closure:
    """Base of the moment closures of :func:`~stabkit.analysis.moments.moment_equations`."""

    name: ClassVar[str] = "closure"
    min_order: ClassVar[int] = 1

    def check_order(self, order: int) -> None:
        if order < self.min_order:
            raise InputError(
                f"{type(self).__name__}() needs order >= {self.min_order} (it is fitted to "
                f"means and covariances), got order={order}; use order={self.min_order}"
            )

    def closed_moment(
        self, space: MomentSpace, alpha: MultiIndex
    ) -> sympy.Expr:  # pragma: no cover - overridden
        raise NotImplementedError


class _CumulantClosure(Closure):
    """Closures that set the cumulants above order m and sum over set partitions."""

    def high_cumulant(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        raise NotImplementedError  # pragma: no cover - overridden

    def _block(self, space: MomentSpace, block: MultiIndex) -> sympy.Expr:
        if sum(block) <= space.order:
            return space.cumulant(block)
        return self.high_cumulant(space, block)

    def closed_moment(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        def value(block: MultiIndex) -> sympy.Expr:
            return self._block(space, block)

        if space.central:
            return partition_sum(alpha, value, min_block=2)
        return partition_sum(alpha, value, min_block=1)


@dataclasses.dataclass(frozen=True)
class Normal(_CumulantClosure):
    """Zero-cumulant (normal) closure: joint cumulants of order > m vanish.

    At order 2 this is the Gaussian closure (third and higher cumulants zero); at
    higher orders the moments kept carry their own cumulants, so the third central
    moments computed at order 4 enter the closed fifth and sixth moments.
    """

    name: ClassVar[str] = "normal"

    def high_cumulant(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        return sympy.Integer(0)


@dataclasses.dataclass(frozen=True)
class Poisson(_CumulantClosure):
    """Poisson closure: kappa_{i...i} = mu_i and mixed cumulants 0 above order m.

    The joint law is taken as a product of independent Poisson laws, as far as the
    cumulants above the truncation order are concerned.
    """

    name: ClassVar[str] = "poisson"

    def high_cumulant(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        present = [i for i, a in enumerate(alpha) if a]
        if len(present) == 1:
            return space.means[present[0]]
        return sympy.Integer(0)


@dataclasses.dataclass(frozen=True)
class Gamma(_CumulantClosure):
    """Gamma closure: cumulants above order m of Lakatos et al.'s multivariate gamma.

    With n_i = sum_j (beta_i / beta_ij) Y_ij for independent gamma Y_ij = Y_ji, scale
    beta_i = C_ii / mu_i and shape alpha_ij = C_ij / (beta_i beta_j), the joint cumulant
    of a multiset with a copies of i and b of j (k = a + b) is (k-1)! C_ij beta_i^(a-1)
    beta_j^(b-1); a pure one is (k-1)! mu_i beta_i^(k-1); one with three or more distinct
    species is 0. Needs order >= 2.
    """

    name: ClassVar[str] = "gamma"
    min_order: ClassVar[int] = 2

    def high_cumulant(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        present = [i for i, a in enumerate(alpha) if a]
        k = sum(alpha)
        scale = [space.covariance(i, i) / space.means[i] for i in range(space.n)]
        if len(present) == 1:
            i = present[0]
            return math.factorial(k - 1) * space.means[i] * scale[i] ** (k - 1)
        if len(present) == 2:
            i, j = present
            return (
                math.factorial(k - 1)
                * space.covariance(i, j)
                * scale[i] ** (alpha[i] - 1)
                * scale[j] ** (alpha[j] - 1)
            )
        return sympy.Integer(0)


@dataclasses.dataclass(frozen=True)
class LogNormal(Closure):
    """Log-normal closure: raw moments of a log-normal law with the same mu and C.

    E[x^alpha] = prod_i mu_i^alpha_i prod_i (1 + C_ii/mu_i^2)^(alpha_i(alpha_i-1)/2)
    prod_{i<j} (1 + C_ij/(mu_i mu_j))^(alpha_i alpha_j); moments above order m come from
    the means and covariances only (Keeling 2000; Lakatos et al. 2015). Needs order >= 2.
    """

    name: ClassVar[str] = "log-normal"
    min_order: ClassVar[int] = 2

    def closed_moment(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        if space.central:
            # central moments above m from the closed raw ones (binomial conversion)
            return _central_via_raw(space, alpha, self._raw)
        return self._raw(space, alpha)

    def _raw(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        mu = space.means
        value: sympy.Expr = sympy.Integer(1)
        for i, a in enumerate(alpha):
            if a:
                value *= mu[i] ** a
                if a > 1:
                    value *= (1 + space.covariance(i, i) / mu[i] ** 2) ** (a * (a - 1) // 2)
        for i in range(space.n):
            for j in range(i + 1, space.n):
                if alpha[i] and alpha[j]:
                    value *= (1 + space.covariance(i, j) / (mu[i] * mu[j])) ** (alpha[i] * alpha[j])
        return value


@dataclasses.dataclass(frozen=True)
class DerivativeMatching(Closure):
    """Derivative-matching closure of Singh & Hespanha.

    A raw moment of order > m is prod_{0 < p < alpha} mu_p^gamma_p with
    gamma_p = (-1)^(|alpha - p| + 1) prod_i C(alpha_i, p_i): the finite difference of
    order alpha of log mu_p vanishes, so the time derivatives of the closed and exact
    moments match at a deterministic initial condition (Singh & Hespanha, IEEE TAC 56,
    414 (2011), Theorem 1). Moments above m + 1 follow by the same rule from closed
    ones. Needs positive raw moments. At order 2 it coincides with :class:`LogNormal`
    (log E[x^p] = p.nu + p^T Sigma p / 2 is the quadratic that interpolates).
    """

    name: ClassVar[str] = "derivative-matching"

    def closed_moment(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        if space.central:
            return _central_via_raw(space, alpha, self._raw)
        return self._raw(space, alpha)

    def _raw(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        value: sympy.Expr = sympy.Integer(1)
        for p in itertools.product(*(range(a + 1) for a in alpha)):
            if p == alpha or sum(p) == 0:
                continue
            distance = sum(alpha) - sum(p)
            exponent = (-1) ** (distance + 1) * math.prod(
                math.comb(a, q) for a, q in zip(alpha, p, strict=True)
            )
            value *= space.raw_moment(p) ** exponent
        return value


@dataclasses.dataclass(frozen=True)
class Zero(Closure):
    """Central-moment neglect: central moments of order > m are zero."""

    name: ClassVar[str] = "zero"

    def closed_moment(self, space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
        if space.central:
            return sympy.Integer(0)
        # raw moment from central moments, the one of order |alpha| being zero
        return _raw_via_central(space, alpha)


def _central_via_raw(
    space: MomentSpace,
    alpha: MultiIndex,
    raw_fn: Callable[[MomentSpace, MultiIndex], sympy.Expr],
) -> sympy.Expr:
    """Central moment alpha = sum_gamma C(alpha, gamma) (-mu)^(alpha-gamma) E[x^gamma].

    E[x^alpha] itself comes from ``raw_fn`` (the closure); lower ones from the space.
    """
    total: sympy.Expr = sympy.Integer(0)
    for gamma in itertools.product(*(range(a + 1) for a in alpha)):
        shift: sympy.Expr = sympy.Integer(1)
        for m, a, g in zip(space.means, alpha, gamma, strict=True):
            shift *= (-m) ** (a - g)
        coeff = math.prod(math.comb(a, g) for a, g in zip(alpha, gamma, strict=True))
        raw = raw_fn(space, gamma) if gamma == alpha else space.raw_moment(gamma)
        total += coeff * shift * raw
    return total


def _raw_via_central(space: MomentSpace, alpha: MultiIndex) -> sympy.Expr:
    total: sympy.Expr = sympy.Integer(0)
    for gamma in itertools.product(*(range(a + 1) for a in alpha)):
        if gamma == alpha:
            continue  # the closed central moment of order |alpha| is zero
        shift: sympy.Expr = sympy.Integer(1)
        for m, a, g in zip(space.means, alpha, gamma, strict=True):
            shift *= m ** (a - g)
        coeff = math.prod(math.comb(a, g) for a, g in zip(alpha, gamma, strict=True))
        total += coeff * shift * space.central_moment(gamma)
    return total
