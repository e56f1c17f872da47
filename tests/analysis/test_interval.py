"""Interval arithmetic and the Krawczyk search: enclosure properties and known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from stabkit.analysis._interval import IntervalProgram, interval_unsupported_reason
from stabkit.analysis._krawczyk import IntervalProblem, krawczyk_search

X, Y = sympy.symbols("x y")

#: (sympy expression, numpy function of (x, y)) pairs covering every interval rule
CASES = [
    (X + Y, lambda x, y: x + y),
    (X * Y - 3 * X, lambda x, y: x * y - 3 * x),
    (X / (Y - 1), lambda x, y: x / (y - 1)),
    (X**2 - 2 * X * Y, lambda x, y: x**2 - 2 * x * y),
    (X**3 + Y**4, lambda x, y: x**3 + y**4),
    (X**-2, lambda x, y: x**-2.0),
    (3 / (1 + Y**2.5), lambda x, y: 3 / (1 + y**2.5)),
    (sympy.sqrt(X) + Y ** sympy.Rational(1, 3), lambda x, y: np.sqrt(x) + y ** (1 / 3)),
    (sympy.exp(-X * Y) * sympy.cos(Y), lambda x, y: np.exp(-x * y) * np.cos(y)),
    (sympy.sin(X) - X / 3, lambda x, y: np.sin(x) - x / 3),
    (sympy.tan(X), lambda x, y: np.tan(x)),
    (sympy.log(X) + sympy.tanh(Y), lambda x, y: np.log(x) + np.tanh(y)),
    (sympy.cosh(X) - sympy.sinh(Y), lambda x, y: np.cosh(x) - np.sinh(y)),
    (sympy.atan(X) + sympy.asinh(Y), lambda x, y: np.arctan(x) + np.arcsinh(y)),
    (sympy.asin(X / 4) + sympy.acos(Y / 4), lambda x, y: np.arcsin(x / 4) + np.arccos(y / 4)),
    (sympy.atanh(X / 5) + sympy.acosh(Y), lambda x, y: np.arctanh(x / 5) + np.arccosh(y)),
    (sympy.Abs(X - Y) ** 2, lambda x, y: np.abs(x - y) ** 2),
    (2**X * sympy.pi, lambda x, y: 2**x * np.pi),
    (X**Y, lambda x, y: x**y),
    (sympy.sign(X) + sympy.Heaviside(Y), lambda x, y: np.sign(x) + np.heaviside(y, 0.5)),
]
PROGRAM = IntervalProgram([e for e, _ in CASES], ["x", "y"])

_centre = st.floats(-6, 6)
_width = st.sampled_from([0.0, 1e-12, 1e-6, 1e-3, 0.1, 1.0, 4.0, 10.0])


@given(cx=_centre, cy=_centre, wx=_width, wy=_width, seed=st.integers(0, 2**32 - 1))
def test_enclosures_contain_every_value(cx, cy, wx, wy, seed):
    lo, hi = np.array([[cx - wx / 2, cy - wy / 2]]), np.array([[cx + wx / 2, cy + wy / 2]])
    elo, ehi, partial = PROGRAM.evaluate(lo, hi)
    rng = np.random.default_rng(seed)
    points = np.concatenate([lo, hi, lo + (hi - lo) * rng.random((32, 2))])
    with np.errstate(all="ignore"):
        values = np.stack([fn(points[:, 0], points[:, 1]) for _, fn in CASES], axis=1)
    for k in range(len(CASES)):
        defined = np.isfinite(values[:, k])  # log(0) = -inf: outside the domain
        if np.isnan(elo[0, k]):  # undefined everywhere on the box
            assert not defined.any(), CASES[k][0]
            continue
        v = values[defined, k]
        assert np.all((elo[0, k] <= v) & (v <= ehi[0, k])), (CASES[k][0], lo, hi)
        if not partial[0, k]:  # defined on the whole box (inf only by overflow)
            assert not np.isnan(values[:, k]).any(), CASES[k][0]


def _one(expr, lo, hi):
    prog = IntervalProgram([expr], ["x"])
    a, b, p = prog.evaluate(np.array([[lo]]), np.array([[hi]]))
    return float(a[0, 0]), float(b[0, 0]), bool(p[0, 0])


def test_elementary_results_are_tight_and_outward():
    lo, hi, partial = _one(X * X + 1, 1.0, 2.0)
    assert lo < 2.0 <= lo + 1e-15 and 5.0 <= hi < 5.0 + 1e-14 and not partial
    assert _one(X**2, -1.0, 2.0)[:2] == (0.0, pytest.approx(4.0))
    assert _one(sympy.sin(X), 0.0, 2 * math.pi)[:2] == (-1.0, 1.0)
    assert _one(sympy.cos(X), -0.1, 0.1)[1] == 1.0
    assert _one(sympy.exp(X), 0.0, 0.0)[0] < 1.0 < _one(sympy.exp(X), 0.0, 0.0)[1]
    a, b, p = _one(1 / X, -1.0, 1.0)
    assert (a, b, p) == (-math.inf, math.inf, True)
    a, b, p = _one(1 / X, 0.0, 2.0)
    assert a == pytest.approx(0.5) and b == math.inf and p
    assert all(math.isnan(v) for v in _one(1 / X, 0.0, 0.0)[:2])
    assert all(math.isnan(v) for v in _one(sympy.log(X), -2.0, -1.0)[:2])
    a, b, p = _one(sympy.sqrt(X), -1.0, 4.0)
    assert a == 0.0 and b == pytest.approx(2.0) and p
    a, b, p = _one(sympy.tan(X), 1.0, 2.0)  # holds the pole at pi/2
    assert (a, b, p) == (-math.inf, math.inf, True)


def test_unsupported_expressions_are_named():
    assert interval_unsupported_reason([sympy.Max(X, 1) + sympy.Abs(Y)]) is None
    assert interval_unsupported_reason([sympy.sign(X)]) is not None
    assert interval_unsupported_reason([sympy.sign(X)], allow_steps=True) is None
    assert "discontinuous" in interval_unsupported_reason([sympy.floor(X)])
    assert interval_unsupported_reason([sympy.besselj(0, X)]).startswith("no interval rule")
    assert interval_unsupported_reason([sympy.sin(X) * Y]) is None


def _problem(exprs, names, *, is_map=False, period=1):
    syms = [sympy.Symbol(v) for v in names]
    jac = sympy.Matrix(exprs).jacobian(syms)
    return IntervalProblem(
        IntervalProgram(exprs, names),
        IntervalProgram(list(jac), names),
        len(names),
        is_map=is_map,
        period=period,
    )


@pytest.mark.parametrize(("lo", "hi", "count"), [(0.0, 3.0, 1), (-3.0, 3.0, 2), (2.0, 3.0, 0)])
def test_krawczyk_counts_square_roots(lo, hi, count):
    out = krawczyk_search(
        _problem([X**2 - 2], ["x"]), np.array([lo]), np.array([hi]), max_boxes=1000, min_width=1e-12
    )
    assert out.num_uncertified == 0
    roots = [z for z in (-math.sqrt(2), math.sqrt(2)) if lo < z < hi]
    assert len(roots) == count
    _assert_boxes_hold(out, roots)


def _assert_boxes_hold(out, roots):
    """Every root lies in a certified box, and every certified box holds a root."""
    inside = (out.certified_lo[:, 0, None] < np.array(roots)) & (
        np.array(roots) < out.certified_hi[:, 0, None]
    )
    assert inside.any(axis=0).all() and inside.any(axis=1).all()


def test_krawczyk_double_root_stays_uncertified():
    out = krawczyk_search(
        _problem([X**2], ["x"]), np.array([-1.0]), np.array([1.0]), max_boxes=10_000, min_width=1e-6
    )
    assert out.certified_lo.shape[0] == 0 and out.num_uncertified > 0
    assert np.all(out.uncertified_lo <= 0.0) and np.all(out.uncertified_hi >= 0.0)
    assert not out.budget_spent


def test_krawczyk_period_two_of_the_logistic_map():
    r = 3.2
    problem = _problem([r * X * (1 - X)], ["x"], is_map=True, period=2)
    out = krawczyk_search(
        problem, np.array([-0.1]), np.array([1.1]), max_boxes=1000, min_width=1e-12
    )
    disc = math.sqrt((r - 3) * (r + 1))
    expected = [0.0, 1 - 1 / r, (r + 1 - disc) / (2 * r), (r + 1 + disc) / (2 * r)]
    assert out.num_uncertified == 0
    _assert_boxes_hold(out, expected)
