"""All real solutions of a polynomial (or rational) system, through a lex Groebner basis.

With the parameters substituted as exact rationals (the shortest decimal of each
float), the right-hand sides are brought to single fractions; the numerators form a
polynomial system over Q. Its reduced Groebner basis in lex order (x_1 > ... > x_n)
is triangular: for a zero-dimensional ideal, for each variable x_j it holds a
polynomial whose leading term is a pure power of x_j, with a constant coefficient,
and whose other variables come after x_j (Cox, Little and O'Shea, *Ideals, Varieties,
and Algorithms*, 4th ed., Section 3.1 and 5.3). Solving those univariate polynomials in
turn, last variable first, with the values found so far substituted, gives every
complex solution; only real partial solutions can extend to real solutions, so only
they are followed. The univariate roots are computed with mpmath at ``digits`` digits
(default 60), which keeps the back-substitution accurate near multiple roots; the
other basis polynomials of the same variable filter the candidates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import mpmath
import numpy as np
import sympy

from stabkit.errors import ConvergenceError
from stabkit.model.model import Model, ModelKind

__all__ = ["PolynomialSystem", "polynomial_system", "solve_polynomial_system"]


@dataclasses.dataclass(frozen=True)
class PolynomialSystem:
    """Numerators (polynomials over Q) and denominators of the equilibrium equations."""

    numerators: tuple[sympy.Poly, ...]
    denominators: tuple[sympy.Poly, ...]
    symbols: tuple[sympy.Symbol, ...]

    @property
    def bezout_number(self) -> int:
        """Product of the numerators' total degrees: a bound on the isolated solutions."""
        out = 1
        for p in self.numerators:
            out *= max(p.total_degree(), 1)
        return out


@dataclasses.dataclass(frozen=True)
class AlgebraicSolution:
    """Real solutions (``points``), or why there is no finite list of them."""

    points: tuple[np.ndarray, ...]
    zero_dimensional: bool


def _rational(value: float) -> sympy.Rational:
    return sympy.Rational(repr(float(value)))


def _rationalize(expr: sympy.Expr) -> sympy.Expr:
    """Replace every number that is not rational (floats, pi, sqrt(2)) by a rational."""
    if not expr.free_symbols:
        if expr.is_Rational:
            return expr
        value = complex(expr)
        if value.imag != 0.0:
            raise ValueError("complex constant")
        return _rational(value.real)
    if expr.is_Atom:
        return expr
    return expr.func(*[_rationalize(a) for a in expr.args])


def polynomial_system(model: Model, params: np.ndarray, period: int = 1) -> PolynomialSystem | str:
    """The polynomial form of F(x) = 0, or the reason the model is not polynomial."""
    if not model.is_symbolic:
        return "the model is written as Python functions"
    syms = model.variable_symbols
    subs = {s: _rational(v) for s, v in zip(model.parameter_symbols, params, strict=True)}
    try:
        eqs = [_rationalize(e.xreplace(subs)) for e in model.equations]
    except (ValueError, TypeError):
        return "the right-hand side has a constant that is not a real number"
    if model.kind is ModelKind.MAP:
        current = list(syms)
        for _ in range(period):
            current = [e.xreplace(dict(zip(syms, current, strict=True))) for e in eqs]
        eqs = [c - s for c, s in zip(current, syms, strict=True)]
    nums, dens = [], []
    for e in eqs:
        num, den = sympy.fraction(sympy.cancel(sympy.together(e)))
        if not (num.is_polynomial(*syms) and den.is_polynomial(*syms)):
            return "the right-hand side is not a rational function of the variables"
        try:
            nums.append(sympy.Poly(num, *syms, domain="QQ"))
            dens.append(sympy.Poly(den, *syms, domain="QQ"))
        except (sympy.PolynomialError, sympy.CoercionFailed):
            return "the right-hand side is not a rational function of the variables"
    return PolynomialSystem(tuple(nums), tuple(dens), tuple(syms))


def _terms(poly: sympy.Poly) -> list[tuple[tuple[int, ...], sympy.Rational]]:
    return [(tuple(int(k) for k in m), sympy.Rational(c)) for m, c in poly.terms()]


def evaluate_terms(
    terms: Sequence[tuple[tuple[int, ...], sympy.Rational]], x: np.ndarray
) -> tuple[float, float]:
    """Value of a polynomial at a float point and the sum of its terms' magnitudes."""
    value = scale = 0.0
    for monom, coef in terms:
        term = float(coef) * float(np.prod([x[i] ** k for i, k in enumerate(monom)]))
        value += term
        scale += abs(term)
    return value, scale


def _univariate(
    terms: Sequence[tuple[tuple[int, ...], mpmath.mpf]], j: int, known: dict[int, mpmath.mpf]
) -> list[mpmath.mpf]:
    """Coefficients (highest degree first) in x_j with x_{j+1..n} = ``known``."""
    degree = max(m[j] for m, _ in terms)
    coeffs = [mpmath.mpf(0)] * (degree + 1)
    for monom, coef in terms:
        value = coef
        for i, k in enumerate(monom):
            if i != j and k:
                value *= known[i] ** k
        coeffs[degree - monom[j]] += value
    return coeffs


def _real_roots(coeffs: list[mpmath.mpf], digits: int) -> list[mpmath.mpf]:
    while len(coeffs) > 1 and coeffs[0] == 0:
        coeffs = coeffs[1:]
    if len(coeffs) <= 1:
        return []
    try:
        roots = mpmath.polyroots(coeffs, maxsteps=200, extraprec=2 * digits)
    except mpmath.libmp.NoConvergence:
        try:
            roots = mpmath.polyroots(coeffs, maxsteps=2000, extraprec=8 * digits)
        except mpmath.libmp.NoConvergence:
            raise ConvergenceError(
                f"the roots of a univariate polynomial of degree {len(coeffs) - 1} did not "
                "converge; try Algebraic(digits=...) larger or MultiStartNewton()"
            ) from None
    tol = mpmath.mpf(10) ** (-digits // 4)
    out: list[mpmath.mpf] = []
    for r in roots:
        if abs(mpmath.im(r)) <= tol * (1 + abs(r)):
            re = mpmath.re(r)
            if all(abs(re - o) > tol * (1 + abs(re)) for o in out):
                out.append(re)
    return out


def solve_polynomial_system(system: PolynomialSystem, *, digits: int = 60) -> AlgebraicSolution:
    """Every real solution of ``system.numerators = 0`` (denominators not yet checked)."""
    syms = system.symbols
    n = len(syms)
    polys = [p for p in system.numerators if not p.is_zero]
    if any(p.is_ground for p in polys):  # a nonzero constant: no solution
        return AlgebraicSolution((), True)
    if not polys:
        return AlgebraicSolution((), False)
    basis = sympy.groebner([p.as_expr() for p in polys], *syms, order="lex", domain="QQ")
    if list(basis.exprs) == [sympy.S.One]:
        return AlgebraicSolution((), True)
    if not basis.is_zero_dimensional:
        return AlgebraicSolution((), False)
    with mpmath.workdps(digits):
        groups: list[list[list[tuple[tuple[int, ...], mpmath.mpf]]]] = [[] for _ in range(n)]
        for g in basis.exprs:
            poly = sympy.Poly(g, *syms, domain="QQ")
            terms = [(m, mpmath.mpf(c.p) / c.q) for m, c in _terms(poly)]
            main = min(i for m, _ in terms for i, k in enumerate(m) if k)
            groups[main].append(terms)
        partial: list[dict[int, mpmath.mpf]] = [{}]
        tol = mpmath.mpf(10) ** (-digits // 4)
        for j in range(n - 1, -1, -1):
            extended: list[dict[int, mpmath.mpf]] = []
            # the basis polynomial whose leading monomial (lex) is a pure power of x_j
            pure = [t for t in groups[j] if _leading(t)[j] == sum(_leading(t))]
            lead = min(pure, key=lambda t: _leading(t)[j])
            for known in partial:
                for root in _real_roots(_univariate(lead, j, known), digits):
                    trial = {**known, j: root}
                    if all(_vanishes(t, trial, tol) for t in groups[j] if t is not lead):
                        extended.append(trial)
            partial = extended
        points = tuple(np.array([float(s[i]) for i in range(n)]) for s in partial)
    return AlgebraicSolution(points, True)


def _leading(terms: Sequence[tuple[tuple[int, ...], mpmath.mpf]]) -> tuple[int, ...]:
    return max(m for m, _ in terms)


def _vanishes(
    terms: Sequence[tuple[tuple[int, ...], mpmath.mpf]],
    values: dict[int, mpmath.mpf],
    tol: mpmath.mpf,
) -> bool:
    total = scale = mpmath.mpf(0)
    for monom, coef in terms:
        term = coef
        for i, k in enumerate(monom):
            if k:
                term *= values[i] ** k
        total += term
        scale += abs(term)
    return bool(abs(total) <= tol * (1 + scale))
