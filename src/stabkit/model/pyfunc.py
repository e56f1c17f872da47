"""Models written as Python functions (numba-compiled or plain)."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.errors import InputError, ModelError
from stabkit.model.model import Model, ModelKind, PythonFunctions

__all__ = ["model_from_function"]


def _is_numba(fn: Any) -> bool:
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - numba is a core dependency
        return False
    return isinstance(fn, CPUDispatcher)


def _num_args(fn: Callable[..., Any]) -> int:
    target = getattr(fn, "py_func", fn)
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        raise InputError(f"cannot read the signature of {fn!r}") from None
    params = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(params)


def _fingerprint(*fns: Callable[..., Any] | None) -> str:
    h = hashlib.sha256()
    for fn in fns:
        if fn is None:
            h.update(b"none")
            continue
        target = getattr(fn, "py_func", fn)
        code = getattr(target, "__code__", None)
        h.update(getattr(target, "__qualname__", repr(target)).encode())
        if code is not None:
            h.update(code.co_code)
            h.update(repr(code.co_consts).encode())
        for cell in getattr(target, "__closure__", None) or ():
            # closures that differ only in captured values are different models
            try:
                h.update(repr(cell.cell_contents).encode())
            except ValueError:  # empty cell
                h.update(b"<empty>")
    return h.hexdigest()[:24]


def _in_place(fn: Callable[..., Any], what: str, numba_fn: bool) -> Callable[..., Any]:
    """Adapt ``fn(t, y, p) -> array`` to ``fn(t, y, p, out)``."""
    nargs = _num_args(fn)
    if nargs == 4:
        return fn
    if nargs != 3:
        raise InputError(
            f"{what}: expected f(t, y, p, out) writing into out, or f(t, y, p) returning "
            f"the result; {getattr(fn, '__name__', fn)!r} takes {nargs} arguments"
        )
    user = fn
    if numba_fn:
        from numba import njit

        @njit(nogil=True)
        def wrapped_numba(t: float, y: Any, p: Any, out: Any) -> None:
            r = user(t, y, p)
            out[...] = r

        return wrapped_numba  # type: ignore[no-any-return,unused-ignore]

    def wrapped(t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
        out[...] = np.asarray(user(t, y, p), dtype=np.float64).reshape(out.shape)

    return wrapped


def _names_and_values(
    spec: Mapping[str, float] | Sequence[str] | None, what: str
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if spec is None:
        return (), ()
    if isinstance(spec, Mapping):
        names = tuple(str(k) for k in spec)
        values = []
        for k, v in spec.items():
            if isinstance(v, bool):
                raise ModelError(f"{what} {k!r} = {v!r} is not a number")
            try:
                val = float(v)
            except (TypeError, ValueError):
                raise ModelError(f"{what} {k!r} = {v!r} is not a number") from None
            if not np.isfinite(val):
                raise ModelError(f"{what} {k!r} = {val} is not finite")
            values.append(val)
        out_values = tuple(values)
    elif isinstance(spec, str):
        raise InputError(f"{what}={spec!r}: give a list of names or a mapping name -> value")
    else:
        names = tuple(str(k) for k in spec)
        out_values = tuple(0.0 for _ in names)
    for n in names:
        if not n.isidentifier():
            raise ModelError(f"{what} name {n!r} is not a valid identifier")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ModelError(f"{what} {dup!r} is listed twice")
    return names, out_values


def model_from_function(
    rhs_fn: Callable[..., Any],
    *,
    variables: Mapping[str, float] | Sequence[str],
    parameters: Mapping[str, float] | Sequence[str] | None = None,
    jac_fn: Callable[..., Any] | None = None,
    kind: str | ModelKind = "ode",
    name: str | None = None,
) -> Model:
    """See :meth:`stabkit.Model.from_function`."""
    if not callable(rhs_fn):
        raise InputError(f"rhs_fn={rhs_fn!r} is not callable")
    if jac_fn is not None and not callable(jac_fn):
        raise InputError(f"jac_fn={jac_fn!r} is not callable")
    kind_ = ModelKind.parse(kind)
    if kind_ not in (ModelKind.ODE, ModelKind.MAP):
        raise InputError(f"kind={kind_.value!r}: Python-function models are 'ode' or 'map'")
    var_names, state = _names_and_values(variables, "variable")
    if not var_names:
        raise ModelError("the model has no variables; give at least one")
    par_names, pvals = _names_and_values(parameters, "parameter")
    clash = set(var_names) & set(par_names)
    if clash:
        raise ModelError(f"{sorted(clash)[0]!r} is both a variable and a parameter")
    numba_fn = _is_numba(rhs_fn) and (jac_fn is None or _is_numba(jac_fn))
    rhs4 = _in_place(rhs_fn, "rhs_fn", _is_numba(rhs_fn))
    jac4 = _in_place(jac_fn, "jac_fn", _is_numba(jac_fn)) if jac_fn is not None else None
    functions = PythonFunctions(
        rhs_fn=rhs4, jac_fn=jac4, is_numba=numba_fn, fingerprint=_fingerprint(rhs_fn, jac_fn)
    )
    return Model(
        name=name or str(getattr(getattr(rhs_fn, "py_func", rhs_fn), "__name__", "model")),
        kind=kind_,
        variables=var_names,
        parameters=par_names,
        equations=(),
        default_state=state,
        default_params=pvals,
        functions=functions,
    )
