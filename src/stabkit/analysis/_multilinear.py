"""Exact higher derivatives of a model's right-hand side as multilinear forms.

For a symbolic model x' = f(x, p) (or the map x -> f(x, p)) this module evaluates

    B(u, v)_i       = sum_{j,k}     d^2 f_i / dx_j dx_k            u_j v_k,
    C(u, v, w)_i    = sum_{j,k,l}   d^3 f_i / dx_j dx_k dx_l       u_j v_k w_l,

and so on up to any order, on complex vectors, from the exact symbolic derivatives
(sympy), differentiated once per model and order and cached by the model's kernel hash.
Only the derivatives with sorted index tuples ``j <= k <= ...`` that are not
identically zero are kept (polynomial models have few); each is compiled once with
sympy's ``lambdify`` through :class:`stabkit.model.codegen.KernelPrinter`, so that
non-smooth functions get the same almost-everywhere values as in the integrators.
Contracting with the vectors sums over the distinct permutations of each index tuple.

For models written as Python functions the forms come from central finite differences
of the right-hand side along real directions (complex vectors by multilinearity): the
second-order form has a relative error of about 1e-8 and the third-order one about
1e-5 for well-scaled problems; higher orders are refused with an :class:`InputError`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy

from stabkit.errors import InputError
from stabkit.model.codegen import NUMPY_MATH, KernelPrinter, _clean_derivatives, _realify
from stabkit.model.model import Model

__all__ = ["Derivatives", "derivatives_for", "finite_difference_accuracy"]

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], Derivatives] = {}

#: Highest order available from finite differences (Python-function models).
_MAX_FD_ORDER = 3


def finite_difference_accuracy(order: int) -> float:
    """The relative accuracy promised for a finite-difference form of this order."""
    return {1: 1e-8, 2: 1e-7, 3: 1e-5}.get(order, float("nan"))


class _IdentityNames(dict[str, str]):
    """Every symbol prints as its own name (arguments and CSE temporaries)."""

    def __missing__(self, key: str) -> str:
        return key


def _cse(exprs: list[sympy.Expr]) -> tuple[list[tuple[sympy.Symbol, sympy.Expr]], list[Any]]:
    replacements, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols("_cse"))
    return replacements, list(reduced)


class _Order:
    """The non-zero sorted-index derivatives of one order, compiled, with contraction plan."""

    def __init__(
        self,
        entries: list[tuple[int, tuple[int, ...], sympy.Expr]],
        symbols: Sequence[sympy.Symbol],
        order: int,
    ) -> None:
        self.entries = entries
        self.order = order
        if entries:
            printer = KernelPrinter(_IdentityNames())
            self._fn: Callable[..., Any] | None = sympy.lambdify(
                list(symbols),
                [e for _, _, e in entries],
                modules=[{"math": NUMPY_MATH}],
                printer=printer,
                cse=_cse,
                docstring_limit=0,
            )
        else:
            self._fn = None
        rows_entry: list[int] = []
        rows_out: list[int] = []
        rows_idx: list[tuple[int, ...]] = []
        for e_id, (i, idx, _) in enumerate(entries if order > 0 else []):
            for perm in sorted(set(itertools.permutations(idx))):
                rows_entry.append(e_id)
                rows_out.append(i)
                rows_idx.append(perm)
        self.row_entry = np.asarray(rows_entry, dtype=np.intp)
        self.row_out = np.asarray(rows_out, dtype=np.intp)
        self.row_idx = (
            np.asarray(rows_idx, dtype=np.intp).reshape(len(rows_idx), order)
            if rows_idx
            else np.zeros((0, max(order, 0)), dtype=np.intp)
        )

    def values(self, args: Sequence[float]) -> np.ndarray:
        if self._fn is None:
            return np.zeros(0)
        with np.errstate(all="ignore"):
            out = np.asarray(self._fn(*args), dtype=np.float64).reshape(-1)
        return out


class Derivatives:
    """Multilinear forms of a model's right-hand side at a point (exact or finite differences).

    Parameters
    ----------
    model
        A symbolic model (exact derivatives of any order) or one written as Python
        functions (finite differences up to third order).

    Notes
    -----
    Use :func:`derivatives_for`, which caches one instance per model content.
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.n = model.num_variables
        self.exact = model.is_symbolic
        self._orders: dict[int, _Order] = {}
        self._lock = threading.Lock()
        if self.exact:
            eqs, _ = _realify(list(model.equations))
            self._x = [sympy.Symbol(v, real=True) for v in model.variables]
            self._p = [sympy.Symbol(q, real=True) for q in model.parameters]
            self._level: list[tuple[int, tuple[int, ...], sympy.Expr]] = [
                (i, (), e) for i, e in enumerate(eqs)
            ]
            self._level_order = 0
        else:
            self._compiled = model.compile(backend="numpy" if not _is_numba(model) else "numba")

    # ------------------------------------------------------------------ symbolic
    def _order(self, k: int) -> _Order:
        with self._lock:
            while self._level_order < k:
                nxt = []
                for i, idx, e in self._level:
                    start = idx[-1] if idx else 0
                    for j in range(start, self.n):
                        d = _clean_derivatives(sympy.diff(e, self._x[j]))
                        if d != 0:
                            nxt.append((i, (*idx, j), d))
                self._level = nxt
                self._level_order += 1
                self._orders[self._level_order] = _Order(
                    nxt, [*self._x, *self._p], self._level_order
                )
            return self._orders[k]

    def _param_plan(self) -> _Order:
        """f_p and (Df)_p entries as one compiled list: (i, (k,)) and (i, (j, n + k))."""
        with self._lock:
            plan = self._orders.get(-1)
            if plan is None:
                eqs = [e for i, idx, e in self._first_level()]
                entries: list[tuple[int, tuple[int, ...], sympy.Expr]] = []
                for i, f in enumerate(eqs):
                    for k, pk in enumerate(self._p):
                        d = _clean_derivatives(sympy.diff(f, pk))
                        if d != 0:
                            entries.append((i, (k,), d))
                        for j, xj in enumerate(self._x):
                            dd = _clean_derivatives(sympy.diff(f, xj, pk))
                            if dd != 0:
                                entries.append((i, (j, self.n + k), dd))
                plan = _Order(entries, [*self._x, *self._p], 0)
                self._orders[-1] = plan
            return plan

    def _first_level(self) -> list[tuple[int, tuple[int, ...], sympy.Expr]]:
        eqs, _ = _realify(list(self.model.equations))
        return [(i, (), e) for i, e in enumerate(eqs)]

    def second_derivatives(
        self, x: np.ndarray, p: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(f_xx, f_p, f_xp)``: shapes ``(n, n, n)``, ``(n, m)``, ``(n, n, m)``.

        ``f_xx[i, j, k] = d^2 f_i / dx_j dx_k``, ``f_p[i, k] = d f_i / dp_k``,
        ``f_xp[i, j, k] = d^2 f_i / dx_j dp_k``; exact for symbolic models, central
        differences of the Jacobian (relative accuracy about 1e-8) otherwise.
        """
        x = np.asarray(x, dtype=np.float64)
        p = np.asarray(p, dtype=np.float64)
        n, m = self.n, p.size
        if self.exact:
            fxx = self.tensor(x, p, 2)
            fp = np.zeros((n, m))
            fxp = np.zeros((n, n, m))
            plan = self._param_plan()
            if plan.entries:
                vals = plan.values([*x, *p])
                for (i, idx, _), val in zip(plan.entries, vals, strict=True):
                    if len(idx) == 1:
                        fp[i, idx[0]] = val
                    else:
                        fxp[i, idx[0], idx[1] - n] = val
            return fxx, fp, fxp
        fxx = np.empty((n, n, n))
        eye_n, eye_m = np.eye(n), np.eye(m)
        for j in range(n):
            for k in range(j, n):
                fxx[:, j, k] = fxx[:, k, j] = self._fd_real(x, p, [eye_n[j], eye_n[k]])
        fp = np.empty((n, m))
        fxp = np.empty((n, n, m))
        for k in range(m):
            hp = 1e-4 * max(1.0, abs(p[k]))
            dp = hp * eye_m[k]
            fp[:, k] = (self.rhs(x, p + dp) - self.rhs(x, p - dp)) / (2 * hp)
            for j in range(n):
                hx = 1e-4 * max(1.0, abs(x[j]))
                dx = hx * eye_n[j]
                fxp[:, j, k] = (
                    self.rhs(x + dx, p + dp)
                    - self.rhs(x + dx, p - dp)
                    - self.rhs(x - dx, p + dp)
                    + self.rhs(x - dx, p - dp)
                ) / (4 * hx * hp)
        return fxx, fp, fxp

    def is_zero(self, order: int) -> bool:
        """True when every derivative of this order vanishes identically (symbolic models)."""
        return self.exact and not self._order(order).entries

    # ------------------------------------------------------------------ evaluation
    def rhs(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """f(x, p)."""
        out = np.empty(self.n)
        if self.exact and not hasattr(self, "_compiled"):
            self._compiled = self.model.compile(backend="numba")
        with np.errstate(all="ignore"):
            self._compiled.rhs(0.0, np.ascontiguousarray(x, dtype=np.float64), p, out)
        return out

    def jacobian(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The Jacobian Df(x) (exact, or the user's / finite differences), shape ``(n, n)``."""
        if self.exact:
            return self.tensor(x, p, 1)
        if not self._compiled.has_exact_jacobian:
            x = np.asarray(x, dtype=np.float64)
            cols = []
            for j in range(self.n):
                h = 6e-6 * max(1.0, abs(x[j]))
                e = np.zeros(self.n)
                e[j] = h
                cols.append((self.rhs(x + e, p) - self.rhs(x - e, p)) / (2 * h))
            return np.stack(cols, axis=1)
        out = np.empty((self.n, self.n))
        with np.errstate(all="ignore"):
            self._compiled.jac(0.0, np.ascontiguousarray(x, dtype=np.float64), p, out)
        return out

    def form(self, x: np.ndarray, p: np.ndarray, *vectors: np.ndarray) -> np.ndarray:
        """The k-linear form D^k f(x)[v_1, ..., v_k] (k = number of vectors), complex (n,)."""
        k = len(vectors)
        if k < 1:
            raise InputError("form() needs at least one vector")
        vecs = [np.asarray(v, dtype=np.complex128).reshape(self.n) for v in vectors]
        if not self.exact:
            return self._fd_form(np.asarray(x, dtype=np.float64), p, vecs)
        plan = self._order(k)
        out = np.zeros(self.n, dtype=np.complex128)
        if not plan.entries:
            return out
        vals = plan.values([*np.asarray(x, dtype=np.float64), *np.asarray(p, dtype=np.float64)])
        prod = vals[plan.row_entry].astype(np.complex128)
        for slot, v in enumerate(vecs):
            prod = prod * v[plan.row_idx[:, slot]]
        out.real = np.bincount(plan.row_out, weights=prod.real, minlength=self.n)
        out.imag = np.bincount(plan.row_out, weights=prod.imag, minlength=self.n)
        return out

    def tensor(self, x: np.ndarray, p: np.ndarray, order: int) -> np.ndarray:
        """The full derivative tensor of one order, shape ``(n,) + (n,) * order`` (real)."""
        if not self.exact:
            raise InputError("tensor() needs a symbolic model")
        plan = self._order(order)
        out = np.zeros((self.n,) + (self.n,) * order)
        if plan.entries:
            vals = plan.values([*np.asarray(x, dtype=np.float64), *np.asarray(p, dtype=np.float64)])
            out[(plan.row_out, *plan.row_idx.T)] = vals[plan.row_entry]
        return out

    # ------------------------------------------------------------------ finite differences
    def _fd_form(self, x: np.ndarray, p: np.ndarray, vecs: list[np.ndarray]) -> np.ndarray:
        k = len(vecs)
        if k > _MAX_FD_ORDER:
            raise InputError(
                f"model {self.model.name!r} is written as a Python function, so derivatives of "
                f"order {k} would come from finite differences too inaccurate to use; build it "
                "with Model.from_equations for exact derivatives"
            )
        # expand each complex vector into real and imaginary parts (multilinearity)
        out = np.zeros(self.n, dtype=np.complex128)
        for parts in itertools.product((0, 1), repeat=k):
            dirs = [v.imag if part else v.real for v, part in zip(vecs, parts, strict=True)]
            if any(not np.any(d) for d in dirs):
                continue
            coeff = 1j ** sum(parts)
            out += coeff * self._fd_real(x, p, dirs)
        return out

    def _fd_real(self, x: np.ndarray, p: np.ndarray, dirs: list[np.ndarray]) -> np.ndarray:
        """D^k f(x)[d_1..d_k] for real directions by central polarisation differences."""
        k = len(dirs)
        scale = max(1.0, float(np.max(np.abs(x))))
        norms = [float(np.max(np.abs(d))) for d in dirs]
        units = [d / nrm for d, nrm in zip(dirs, norms, strict=True)]
        h = scale * {1: 6e-6, 2: 1e-4, 3: 1e-3}[k]
        total = np.zeros(self.n)
        for signs in itertools.product((1.0, -1.0), repeat=k):
            shift = sum(s * u for s, u in zip(signs, units, strict=True))
            total += float(np.prod(signs)) * self.rhs(x + h * shift, p)
        return total / (2.0**k * h**k) * float(np.prod(norms))


def _is_numba(model: Model) -> bool:
    return bool(model.functions is not None and model.functions.is_numba)


def derivatives_for(model: Model) -> Derivatives:
    """The (cached) :class:`Derivatives` of a model, one per model content."""
    key = (model.kernel_hash, model.name if not model.is_symbolic else "")
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = Derivatives(model)
            _CACHE[key] = found
            if len(_CACHE) > 64:
                _CACHE.pop(next(iter(_CACHE)))
        return found
