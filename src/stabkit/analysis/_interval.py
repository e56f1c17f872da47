"""Interval arithmetic over sympy expression trees, with outward rounding.

An :class:`IntervalProgram` turns sympy expressions into a straight-line program (every
distinct subexpression evaluated once) that maps a batch of boxes to enclosures of the
expressions' ranges. Enclosures are rigorous: every elementary result is rounded outward
with :func:`numpy.nextafter` (the basic operations are correctly rounded) and results of
library functions (``exp``, ``sin``, ...) are widened by a few units in the last place.

Each enclosure carries two flags per box: ``lo = hi = NaN`` when the expression is
undefined everywhere on the box (``log`` of a negative interval), and ``partial`` when it
is undefined somewhere on it (division by an interval holding 0). A root can only lie
where an expression is defined, so an undefined enclosure excludes a box; a partial one
rules out the Krawczyk test, which needs a differentiable function on the whole box.

Numbers are taken as the float64 values the generated kernels use (``1/3`` is the
float nearest to a third), so the enclosures are of the function the kernels compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.errors import InputError

__all__ = ["IntervalProgram", "IntervalUnsupportedError", "interval_unsupported_reason"]

_EPS = float(np.finfo(np.float64).eps)
_MAX = float(np.finfo(np.float64).max)
_TWO_PI = 2.0 * np.pi

#: Functions that are discontinuous: boxes cannot be certified where they appear.
_DISCONTINUOUS = (sympy.Heaviside, sympy.sign, sympy.floor, sympy.ceiling)

Iv = tuple[np.ndarray, np.ndarray, np.ndarray]
"""An enclosure: lower bounds, upper bounds, 'partially undefined' flags."""


class IntervalUnsupportedError(Exception):
    """An expression uses an operation the interval evaluator does not know."""


def _down(a: np.ndarray) -> np.ndarray:
    return np.nextafter(a, -np.inf)


def _up(a: np.ndarray) -> np.ndarray:
    return np.nextafter(a, np.inf)


def _fix(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lower bound of +inf (overflow) becomes the largest float, and vice versa."""
    return np.where(lo == np.inf, _MAX, lo), np.where(hi == -np.inf, -_MAX, hi)


def _widen(lo: np.ndarray, hi: np.ndarray, ulps: float) -> tuple[np.ndarray, np.ndarray]:
    """Widen by ``ulps`` units in the last place (for library functions, < 1 ulp off)."""
    with np.errstate(invalid="ignore", over="ignore"):
        wlo = np.where(np.isfinite(lo), _down(lo - np.abs(lo) * (ulps * _EPS)), lo)
        whi = np.where(np.isfinite(hi), _up(hi + np.abs(hi) * (ulps * _EPS)), hi)
    return _fix(wlo, whi)


def _undefined(lo: np.ndarray, hi: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.where(mask, np.nan, lo), np.where(mask, np.nan, hi)


# --------------------------------------------------------------------------- arithmetic
def iadd(a: Iv, b: Iv) -> Iv:
    """``a + b``."""
    with np.errstate(over="ignore", invalid="ignore"):
        lo, hi = _fix(_down(a[0] + b[0]), _up(a[1] + b[1]))
    return lo, hi, a[2] | b[2]


def isub(a: Iv, b: Iv) -> Iv:
    """``a - b``."""
    with np.errstate(over="ignore", invalid="ignore"):
        lo, hi = _fix(_down(a[0] - b[1]), _up(a[1] - b[0]))
    return lo, hi, a[2] | b[2]


def imul(a: Iv, b: Iv) -> Iv:
    """``a * b`` (0 * inf counts as 0: a zero factor makes the product zero)."""
    with np.errstate(invalid="ignore", over="ignore"):
        products = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    bad = np.isnan(a[0]) | np.isnan(b[0])
    products = [np.where(np.isnan(q), 0.0, q) for q in products]
    lo = _down(
        np.minimum(np.minimum(products[0], products[1]), np.minimum(products[2], products[3]))
    )
    hi = _up(np.maximum(np.maximum(products[0], products[1]), np.maximum(products[2], products[3])))
    lo, hi = _undefined(*_fix(lo, hi), bad)
    return lo, hi, a[2] | b[2]


def irecip(a: Iv) -> Iv:
    """``1 / a``: unbounded (partial) where ``a`` holds 0, undefined where ``a = [0, 0]``."""
    lo, hi, partial = a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv_lo = _up(1.0 / lo)
        inv_hi = _down(1.0 / hi)
    zero_lo = (lo == 0.0) & (hi > 0.0)
    zero_hi = (hi == 0.0) & (lo < 0.0)
    straddle = (lo < 0.0) & (hi > 0.0)
    rlo = np.where(straddle | zero_hi, -np.inf, inv_hi)
    rhi = np.where(straddle | zero_lo, np.inf, inv_lo)
    rlo, rhi = _undefined(*_fix(rlo, rhi), (lo == 0.0) & (hi == 0.0))
    return rlo, rhi, partial | straddle | zero_lo | zero_hi


def _sqr(a: Iv) -> Iv:
    lo, hi, partial = a
    with np.errstate(over="ignore"):
        llo, hhi = lo * lo, hi * hi
    small = np.minimum(llo, hhi)
    big = _up(np.maximum(llo, hhi))
    rlo = np.where((lo <= 0.0) & (hi >= 0.0), 0.0, _down(small))
    return rlo, big, partial


def ipow_int(a: Iv, n: int) -> Iv:
    """``a ** n`` for an integer ``n``."""
    if n == 0:
        return np.ones_like(a[0]), np.ones_like(a[1]), a[2].copy()
    if n < 0:
        return irecip(ipow_int(a, -n))
    if n == 1:
        return a
    if n == 2:
        return _sqr(a)
    lo, hi, partial = a
    with np.errstate(over="ignore", invalid="ignore"):
        plo, phi = np.power(lo, n), np.power(hi, n)
    if n % 2:
        rlo, rhi = _widen(plo, phi, 2)
    else:
        rlo, rhi = _widen(np.minimum(plo, phi), np.maximum(plo, phi), 2)
        rlo = np.where((lo <= 0.0) & (hi >= 0.0), 0.0, np.maximum(rlo, 0.0))
    return rlo, rhi, partial


def _monotone(
    a: Iv,
    fn: Callable[[np.ndarray], np.ndarray],
    *,
    domain: tuple[float, float] = (-np.inf, np.inf),
    open_ends: tuple[bool, bool] = (False, False),
    increasing: bool = True,
    ulps: float = 4.0,
    value_range: tuple[float, float] = (-np.inf, np.inf),
) -> Iv:
    """A monotone function on an interval domain (clipped; partial where the box leaves it)."""
    lo, hi, partial = a
    dlo, dhi = domain
    below = (lo < dlo) | ((lo == dlo) & open_ends[0])
    above = (hi > dhi) | ((hi == dhi) & open_ends[1])
    nowhere = (hi < dlo) | (lo > dhi) | ((hi == dlo) & open_ends[0]) | ((lo == dhi) & open_ends[1])
    clo, chi = np.clip(lo, dlo, dhi), np.clip(hi, dlo, dhi)
    with np.errstate(all="ignore"):
        flo, fhi = fn(clo), fn(chi)
    if not increasing:
        flo, fhi = fhi, flo
    rlo, rhi = _widen(flo, fhi, ulps)
    rlo, rhi = np.maximum(rlo, value_range[0]), np.minimum(rhi, value_range[1])
    rlo, rhi = _undefined(rlo, rhi, nowhere)
    return rlo, rhi, partial | below | above


def ipow_real(a: Iv, e: float) -> Iv:
    """``a ** e`` for a non-integer real ``e`` (defined for a >= 0, a > 0 when e < 0)."""
    if e == 0.5:
        return _monotone(a, np.sqrt, domain=(0.0, np.inf), ulps=1.0, value_range=(0.0, np.inf))
    return _monotone(
        a,
        lambda x: np.power(x, e),
        domain=(0.0, np.inf),
        open_ends=(e < 0, False),
        increasing=e > 0,
        value_range=(0.0, np.inf),
    )


def _pow_variable(base: Iv, expo: Iv) -> Iv:
    """``base ** expo`` with a variable exponent: exp(expo * log(base)) where base > 0.

    Where the base may be 0 or negative the kernels still give values at some points
    (``0**0 = 1``, ``(-2)**2 = 4``), so the enclosure is all reals there (partial).
    """
    log_b = _monotone(base, np.log, domain=(0.0, np.inf), open_ends=(True, False))
    lo, hi, partial = _monotone(imul(expo, log_b), np.exp, value_range=(0.0, np.inf))
    positive = base[0] > 0.0
    nowhere = np.isnan(base[0]) | np.isnan(expo[0])
    lo = np.where(positive, lo, np.where(nowhere, np.nan, -np.inf))
    hi = np.where(positive, hi, np.where(nowhere, np.nan, np.inf))
    return lo, hi, np.where(positive, partial, True)


def _periodic(a: Iv, fn: Callable[[np.ndarray], np.ndarray], max_at: float) -> Iv:
    """sin or cos: endpoint values, widened to +-1 where a maximum or minimum lies inside."""
    lo, hi, partial = a
    with np.errstate(invalid="ignore"):
        flo, fhi = fn(lo), fn(hi)
    rlo, rhi = _widen(np.minimum(flo, fhi), np.maximum(flo, fhi), 2)
    slack = 8.0 * _EPS * np.maximum(np.maximum(np.abs(lo), np.abs(hi)), 1.0)
    slo, shi = lo - slack, hi + slack

    def contains(offset: float) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            k = np.ceil((slo - offset) / _TWO_PI)
            return offset + k * _TWO_PI <= shi

    wide = ~np.isfinite(lo) | ~np.isfinite(hi) | (hi - lo >= _TWO_PI)
    rhi = np.where(contains(max_at) | wide, 1.0, np.minimum(rhi, 1.0))
    rlo = np.where(contains(max_at + np.pi) | wide, -1.0, np.maximum(rlo, -1.0))
    rlo, rhi = _undefined(rlo, rhi, np.isnan(lo))
    return rlo, rhi, partial


def _tan(a: Iv) -> Iv:
    lo, hi, partial = a
    slack = 8.0 * _EPS * np.maximum(np.maximum(np.abs(lo), np.abs(hi)), 1.0)
    with np.errstate(invalid="ignore"):
        k = np.ceil((lo - slack - np.pi / 2) / np.pi)
        pole = (np.pi / 2 + k * np.pi <= hi + slack) | ~np.isfinite(lo) | ~np.isfinite(hi)
    rlo, rhi, _ = _monotone(a, np.tan)
    rlo = np.where(pole & ~np.isnan(lo), -np.inf, rlo)
    rhi = np.where(pole & ~np.isnan(hi), np.inf, rhi)
    return rlo, rhi, partial | pole


def _cosh(a: Iv) -> Iv:
    lo, hi, partial = a
    with np.errstate(over="ignore", invalid="ignore"):
        clo, chi = np.cosh(lo), np.cosh(hi)
    rlo, rhi = _widen(np.minimum(clo, chi), np.maximum(clo, chi), 4)
    rlo = np.where((lo <= 0.0) & (hi >= 0.0), 1.0, np.maximum(rlo, 1.0))
    rlo, rhi = _undefined(rlo, rhi, np.isnan(lo))
    return rlo, rhi, partial


def _abs(a: Iv) -> Iv:
    lo, hi, partial = a
    rlo = np.where(lo >= 0.0, lo, np.where(hi <= 0.0, -hi, 0.0))
    rhi = np.maximum(np.abs(lo), np.abs(hi))
    rlo, rhi = _undefined(rlo, rhi, np.isnan(lo))
    return rlo, rhi, partial


def _step(a: Iv, at_zero: float, left: float) -> Iv:
    """Monotone step functions: sign (left = -1, at 0 -> 0) and Heaviside (left = 0)."""
    lo, hi, partial = a

    def value(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0.0, 1.0, np.where(x < 0.0, left, at_zero))

    rlo, rhi = _undefined(value(lo), value(hi), np.isnan(lo))
    return rlo, rhi, partial


_UNARY: dict[type, Callable[[Iv], Iv]] = {
    sympy.exp: lambda a: _monotone(a, np.exp, value_range=(0.0, np.inf)),
    sympy.log: lambda a: _monotone(a, np.log, domain=(0.0, np.inf), open_ends=(True, False)),
    sympy.sin: lambda a: _periodic(a, np.sin, np.pi / 2),
    sympy.cos: lambda a: _periodic(a, np.cos, 0.0),
    sympy.tan: _tan,
    sympy.tanh: lambda a: _monotone(a, np.tanh, value_range=(-1.0, 1.0)),
    sympy.sinh: lambda a: _monotone(a, np.sinh),
    sympy.cosh: _cosh,
    sympy.atan: lambda a: _monotone(a, np.arctan, value_range=(-np.pi, np.pi)),
    sympy.asinh: lambda a: _monotone(a, np.arcsinh),
    sympy.asin: lambda a: _monotone(a, np.arcsin, domain=(-1.0, 1.0)),
    sympy.acos: lambda a: _monotone(a, np.arccos, domain=(-1.0, 1.0), increasing=False),
    sympy.atanh: lambda a: _monotone(a, np.arctanh, domain=(-1.0, 1.0), open_ends=(True, True)),
    sympy.acosh: lambda a: _monotone(a, np.arccosh, domain=(1.0, np.inf)),
    sympy.Abs: _abs,
    sympy.sign: lambda a: _step(a, 0.0, -1.0),
}


def interval_unsupported_reason(
    exprs: Sequence[sympy.Expr], *, allow_steps: bool = False
) -> str | None:
    """Why the interval test cannot run on ``exprs`` (``None`` when it can).

    ``allow_steps`` admits ``sign`` and ``Heaviside`` (in a Jacobian they are the
    derivatives of the continuous ``Abs``, ``Min`` and ``Max``; their interval hulls
    enclose every slope, which is what the Krawczyk test needs).
    """
    steps = (sympy.sign, sympy.Heaviside) if allow_steps else ()
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            if isinstance(node, steps):
                continue
            if isinstance(node, _DISCONTINUOUS):
                return f"the right-hand side uses the discontinuous function {node.func.__name__}"
            if isinstance(node, sympy.Piecewise):
                return "the right-hand side is piecewise"
    try:
        IntervalProgram(exprs, sorted({s.name for e in exprs for s in e.free_symbols}))
    except IntervalUnsupportedError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------- programs
class IntervalProgram:
    """Straight-line interval evaluation of sympy expressions on batches of boxes.

    Parameters
    ----------
    exprs
        Expressions in the variables (and numbers only: parameters substituted).
    variables
        Variable names, in the column order of the boxes passed to :meth:`evaluate`.

    Examples
    --------
    >>> import numpy as np, sympy
    >>> x = sympy.Symbol("x")
    >>> prog = IntervalProgram([x**2 - 2*x], ["x"])
    >>> lo, hi, partial = prog.evaluate(np.array([[0.0]]), np.array([[3.0]]))
    >>> bool(lo[0, 0] <= -1.0 and hi[0, 0] >= 3.0), bool(partial[0, 0])
    (True, False)
    """

    def __init__(self, exprs: Sequence[sympy.Expr], variables: Sequence[str]) -> None:
        self.variables = tuple(variables)
        self._slots: dict[sympy.Basic, int] = {}
        self._ops: list[tuple[Any, ...]] = []
        self.outputs = [self._node(_as_expression(e)) for e in exprs]

    def _emit(self, expr: sympy.Basic, op: tuple[Any, ...]) -> int:
        self._ops.append(op)
        self._slots[expr] = len(self._ops) - 1
        return len(self._ops) - 1

    def _node(self, e: sympy.Basic) -> int:
        hit = self._slots.get(e)
        if hit is not None:
            return hit
        if isinstance(e, sympy.Symbol):
            if e.name not in self.variables:
                raise IntervalUnsupportedError(f"unknown symbol {e.name!r} in an expression")
            return self._emit(e, ("var", self.variables.index(e.name)))
        if e.is_Number or isinstance(e, sympy.NumberSymbol):
            value = complex(e)
            if value.imag != 0.0:
                raise IntervalUnsupportedError(f"complex number {e} in the right-hand side")
            return self._emit(e, ("const", value.real))
        if isinstance(e, sympy.Add):
            return self._emit(e, ("add", *[self._node(a) for a in e.args]))
        if isinstance(e, sympy.Mul):
            return self._emit(e, ("mul", *[self._node(a) for a in e.args]))
        if isinstance(e, sympy.Pow):
            base, expo = e.args
            if expo.is_Integer:
                return self._emit(e, ("powi", self._node(base), int(expo)))
            if expo.is_Number:
                return self._emit(e, ("powr", self._node(base), float(expo)))
            return self._emit(e, ("powvar", self._node(base), self._node(expo)))
        fn = _UNARY.get(type(e)) or _UNARY.get(e.func)
        if fn is not None and len(e.args) == 1:
            return self._emit(e, ("fn", fn, self._node(e.args[0])))
        if isinstance(e, (sympy.Min, sympy.Max)):
            args = [self._node(a) for a in e.args]
            return self._emit(e, ("max" if isinstance(e, sympy.Max) else "min", *args))
        if isinstance(e, sympy.Heaviside):
            h0 = float(e.args[1]) if len(e.args) > 1 and e.args[1].is_Number else 0.5
            return self._emit(e, ("heaviside", h0, self._node(e.args[0])))
        raise IntervalUnsupportedError(f"no interval rule for {type(e).__name__} ({e})")

    def evaluate(self, lo: np.ndarray, hi: np.ndarray) -> Iv:
        """Enclosures of every expression on boxes ``[lo, hi]``, each of shape ``(B, n)``.

        Returns lower bounds, upper bounds and 'partially undefined' flags, each of shape
        ``(B, num_expressions)``.
        """
        num = lo.shape[0]
        false = np.zeros(num, dtype=bool)
        values: list[Iv] = []
        for op in self._ops:
            kind = op[0]
            if kind == "var":
                values.append((lo[:, op[1]], hi[:, op[1]], false))
            elif kind == "const":
                c = np.full(num, op[1], dtype=np.float64)
                values.append((c, c, false))
            elif kind == "add":
                acc = values[op[1]]
                for k in op[2:]:
                    acc = iadd(acc, values[k])
                values.append(acc)
            elif kind == "mul":
                acc = values[op[1]]
                for k in op[2:]:
                    acc = imul(acc, values[k])
                values.append(acc)
            elif kind == "powi":
                values.append(ipow_int(values[op[1]], op[2]))
            elif kind == "powr":
                values.append(ipow_real(values[op[1]], op[2]))
            elif kind == "powvar":
                values.append(_pow_variable(values[op[1]], values[op[2]]))
            elif kind in ("max", "min"):
                pick = np.maximum if kind == "max" else np.minimum
                acc = values[op[1]]
                for k in op[2:]:
                    b = values[k]
                    acc = (pick(acc[0], b[0]), pick(acc[1], b[1]), acc[2] | b[2])
                values.append(acc)
            elif kind == "fn":
                values.append(op[1](values[op[2]]))
            else:  # heaviside
                values.append(_step(values[op[2]], op[1], 0.0))
        outs = [values[k] for k in self.outputs]
        if not outs:
            empty = np.empty((num, 0))
            return empty, empty, np.empty((num, 0), dtype=bool)
        return (
            np.stack([np.broadcast_to(o[0], (num,)) for o in outs], axis=1),
            np.stack([np.broadcast_to(o[1], (num,)) for o in outs], axis=1),
            np.stack([np.broadcast_to(o[2], (num,)) for o in outs], axis=1),
        )


def _as_expression(value: Any) -> sympy.Basic:
    """A sympy expression from an expression or a plain number; text is never parsed here."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(
            f"IntervalProgram: expected sympy expressions or numbers, got {value!r}; "
            "parse text with stabkit.model.parse.parse_expression first"
        )
    return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)
