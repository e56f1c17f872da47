"""Fast per-point stability analyses for large sweeps: compiled Jacobian, no root search.

:class:`stabkit.sweep.Equilibria` finds *all* equilibria at every point (a polynomial
system solve, tens of milliseconds). When the equilibrium is known as a function of the
parameters, or a good starting guess is, these analyses only evaluate the model's
compiled (numba) kernels and take the eigenvalues of a small matrix, tens of
microseconds per point:

* :class:`LinearStability`: the Jacobian at an equilibrium given by a function of the
  point (checked to be one: the residual ``|f(x*)|`` is reported and bounded);
* :class:`NewtonStability`: Newton's method from a given start, then the same.

Both follow the per-point contract of :func:`stabkit.sweep.sweep`
(``analysis(model, point) -> dict``). The compiled kernels are kept per worker process,
keyed on the model's equations, so the parameter changes of a sweep never recompile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.errors import InputError

__all__ = ["LinearStability", "NewtonStability"]

_KERNELS: dict[int, tuple[Any, Any, Any]] = {}


def _compiled(model: Any) -> Any:
    """The compiled model for ``model``'s equations, reused across parameter values.

    ``Model.with_params`` keeps the equations tuple object, so its identity (plus the
    names and kind) identifies the kernels without hashing the sympy expressions again.
    """
    key = id(model.equations)
    ident = (model.variables, model.parameters, model.kind, id(model.functions))
    hit = _KERNELS.get(key)
    if hit is not None and hit[0] is model.equations and hit[1] == ident:
        return hit[2]
    compiled = model.compile()
    if len(_KERNELS) >= 16:
        _KERNELS.clear()
    # the equations tuple is held in the entry, so its id cannot be reused while cached
    _KERNELS[key] = (model.equations, ident, compiled)
    return compiled


def _function_id(fn: Any) -> str:
    """A name for ``fn`` that is stable across processes (its qualname and source hash)."""
    if fn is None:
        return "None"
    if not callable(fn):
        return repr(fn)
    name = getattr(fn, "__qualname__", type(fn).__qualname__)
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        source = repr(code.co_code) if code is not None else repr(fn)
    return f"{name}[{hashlib.sha256(source.encode()).hexdigest()[:12]}]"


def _as_state(value: Any, model: Any, where: str) -> np.ndarray:
    if isinstance(value, Mapping):
        missing = [v for v in model.variables if v not in value]
        if missing:
            raise InputError(f"{where}: the state lacks {missing}; give every variable")
        vec = np.array([float(value[v]) for v in model.variables])
    else:
        vec = np.asarray(value, dtype=np.float64).reshape(-1)
        if vec.size != len(model.variables):
            raise InputError(
                f"{where}: a state of {vec.size} values for {len(model.variables)} variables "
                f"{list(model.variables)}"
            )
    return vec


def _stability(model: Any, compiled: Any, x: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Outcomes at the equilibrium ``x``: eigenvalue summary and the residual."""
    n = x.size
    is_map = model.kind.value == "map"
    f = np.empty(n)
    jac = np.empty((n, n))
    compiled.rhs(0.0, x, p, f)
    compiled.jac(0.0, x, p, jac)
    residual = float(np.max(np.abs(f - x if is_map else f))) if n else 0.0
    lam = np.linalg.eigvals(jac)
    if is_map:
        k = int(np.argmax(np.abs(lam)))
        leading = float(np.abs(lam[k])) - 1.0
        unstable = int(np.sum(np.abs(lam) > 1.0))
    else:
        k = int(np.argmax(lam.real))
        leading = float(lam[k].real)
        unstable = int(np.sum(lam.real > 0.0))
    out: dict[str, Any] = {f"eq_{v}": float(xv) for v, xv in zip(model.variables, x, strict=True)}
    out.update(
        max_real_part=leading,
        leading_imag=float(abs(lam[k].imag)),
        num_unstable=unstable,
        stable=bool(leading < 0.0),
        residual=residual,
    )
    return out


@dataclasses.dataclass(frozen=True, repr=False)
class LinearStability:
    """Linear stability at an equilibrium known as a function of the point.

    At ``x* = equilibrium(params)`` the Jacobian ``J = df/dx (x*)`` decides local
    stability: asymptotically stable when ``max Re lambda(J) < 0`` (flows) or
    ``max |lambda(J)| < 1`` (maps) (Hartman-Grobman; Kuznetsov 2004, Elements of Applied
    Bifurcation Theory, sec. 1.4 and 2.1).

    Parameters
    ----------
    equilibrium
        ``equilibrium(values) -> {variable: value}`` or a vector in model order, where
        ``values`` maps every parameter (and the swept state names) to its value at the
        point. Must be picklable by cloudpickle (lambdas are).
    residual_tol
        A point whose ``max |f(x*)|`` (``|f(x*) - x*|`` for maps) exceeds
        ``residual_tol * (1 + max |x*|)`` gets ``status="not_equilibrium"``.

    Returns (per point)
    -------------------
    dict
        ``eq_<variable>``, ``max_real_part`` (for maps ``max |lambda| - 1``),
        ``leading_imag``, ``num_unstable``, ``stable``, ``residual``, ``status``.

    Examples
    --------
    >>> from stabkit.model import library
    >>> m = library.get("brusselator").with_params(a=1.0, b=3.0)
    >>> ls = LinearStability(lambda p: {"x": p["a"], "y": p["b"] / p["a"]})
    >>> out = ls(m, {"b": 3.0})
    >>> round(out["max_real_part"], 12), out["stable"]  # trace/2 = (b - 1 - a^2)/2
    (0.5, False)
    """

    equilibrium: Callable[[Mapping[str, float]], Any]
    residual_tol: float = 1e-8
    name: str = "linear-stability"

    def __post_init__(self) -> None:
        if not callable(self.equilibrium):
            raise InputError(
                f"LinearStability(equilibrium={self.equilibrium!r}): need a function "
                "values -> {variable: value}"
            )
        if not self.residual_tol > 0:
            raise InputError(f"LinearStability(residual_tol={self.residual_tol!r}): need > 0")

    def __repr__(self) -> str:
        return (
            f"LinearStability(equilibrium={_function_id(self.equilibrium)}, "
            f"residual_tol={self.residual_tol!r})"
        )

    def __call__(self, model: Any, point: Mapping[str, float]) -> dict[str, Any]:
        compiled = _compiled(model)
        values = {**model.default_parameter_map(), **dict(point)}
        x = _as_state(self.equilibrium(values), model, "LinearStability(equilibrium=...)")
        p = np.asarray(model.default_params, dtype=np.float64)
        out = _stability(model, compiled, x, p)
        scale = 1.0 + float(np.max(np.abs(x))) if x.size else 1.0
        if not np.isfinite(out["residual"]) or out["residual"] > self.residual_tol * scale:
            out["status"] = "not_equilibrium"
            out["message"] = f"|f(x*)| = {out['residual']:.3g} at the given x*"
        return out


@dataclasses.dataclass(frozen=True, repr=False)
class NewtonStability:
    """Newton's method from a start, then linear stability at the equilibrium found.

    Iterates ``x <- x - J(x)^-1 F(x)`` with ``F = f`` (flows) or ``F = f(x) - x`` (maps)
    until ``max |dx| <= tol (1 + max |x|)``; quadratic convergence near a regular root
    (Deuflhard 2011, Newton Methods for Nonlinear Problems, ch. 2).

    Parameters
    ----------
    start
        ``None`` (the model's state at the point: its default or the swept variables), a
        ``{variable: value}`` map, a vector, or ``start(values) -> state``.
    tol
        Relative step tolerance.
    max_iter
        Iterations before ``status="not_converged"``.

    Returns (per point)
    -------------------
    dict
        As :class:`LinearStability`, plus ``iterations``; ``status`` is ``"ok"``,
        ``"not_converged"`` or ``"singular"``.

    Examples
    --------
    >>> from stabkit.model import library
    >>> m = library.get("brusselator").with_params(a=2.0, b=1.0)
    >>> out = NewtonStability(start={"x": 1.0, "y": 1.0})(m, {"b": 1.0})
    >>> round(out["eq_x"], 10), round(out["eq_y"], 10), out["stable"]
    (2.0, 0.5, True)
    """

    start: Any = None
    tol: float = 1e-12
    max_iter: int = 50
    name: str = "newton-stability"

    def __post_init__(self) -> None:
        if not self.tol > 0:
            raise InputError(f"NewtonStability(tol={self.tol!r}): need > 0")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int):
            raise InputError(f"NewtonStability(max_iter={self.max_iter!r}): need an integer")
        if self.max_iter < 1:
            raise InputError(f"NewtonStability(max_iter={self.max_iter}): need >= 1")

    def __repr__(self) -> str:
        start = self.start
        text = _function_id(start) if callable(start) else repr(_plain(start))
        return f"NewtonStability(start={text}, tol={self.tol!r}, max_iter={self.max_iter!r})"

    def __call__(self, model: Any, point: Mapping[str, float]) -> dict[str, Any]:
        compiled = _compiled(model)
        where = "NewtonStability(start=...)"
        if self.start is None:
            x = np.asarray(model.default_state, dtype=np.float64).copy()
        elif callable(self.start):
            values = {**model.default_parameter_map(), **dict(point)}
            x = _as_state(self.start(values), model, where)
        else:
            x = _as_state(self.start, model, where)
        p = np.asarray(model.default_params, dtype=np.float64)
        n = x.size
        is_map = model.kind.value == "map"
        f = np.empty(n)
        jac = np.empty((n, n))
        eye = np.eye(n)
        status, message = "not_converged", f"no convergence in {self.max_iter} iterations"
        it = 0
        for it in range(1, self.max_iter + 1):
            compiled.rhs(0.0, x, p, f)
            compiled.jac(0.0, x, p, jac)
            g, dg = (f - x, jac - eye) if is_map else (f, jac)
            try:
                dx = np.linalg.solve(dg, g)
            except np.linalg.LinAlgError:
                status, message = "singular", f"singular Jacobian at iteration {it}"
                break
            x = x - dx
            if not np.all(np.isfinite(x)):
                status, message = "not_converged", f"diverged at iteration {it}"
                break
            if float(np.max(np.abs(dx))) <= self.tol * (1.0 + float(np.max(np.abs(x)))):
                status, message = "ok", ""
                break
        if not np.all(np.isfinite(x)):
            out: dict[str, Any] = {f"eq_{v}": float("nan") for v in model.variables}
            out.update(max_real_part=float("nan"), stable=False, residual=float("nan"))
        else:
            out = _stability(model, compiled, x, p)
        out["iterations"] = it
        out["status"] = status
        if message:
            out["message"] = message
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        return [float(v) for v in np.asarray(value, dtype=float).reshape(-1)]
    return value
