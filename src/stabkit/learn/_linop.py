"""Shared checks and kernels for algorithms on symmetric linear operators.

An operator is any object with ``shape == (n, n)`` and ``matvec(v)`` on numpy vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from stabkit.errors import InputError

__all__ = ["lanczos_tridiagonal", "quiet_blas", "with_quiet_blas"]

T = TypeVar("T")


def quiet_blas() -> Any:
    """A context in which numpy's BLAS runs on one thread.

    The small dense products of Lanczos and the trace estimators sit between the
    operator's products, which for a network are torch calls with their own thread pool.
    OpenBLAS threads that spin-wait after each small product take the cores from torch:
    measured on a 2-core machine, each Hessian-vector product of a 266k-parameter MLP took
    3-5x longer inside Lanczos than alone. One BLAS thread removes the contention.
    """
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a core dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _check_operator(operator: Any, fname: str) -> int:
    shape = getattr(operator, "shape", None)
    if not callable(getattr(operator, "matvec", None)) or shape is None:
        raise InputError(
            f"{fname}(operator={type(operator).__name__}): need an object with shape and "
            "matvec(v); wrap a matrix in MatrixOperator"
        )
    if len(shape) != 2 or shape[0] != shape[1] or int(shape[0]) < 1:
        raise InputError(f"{fname}(operator=...): shape {tuple(shape)} is not square (n, n)")
    return int(shape[0])


def _apply(operator: Any, v: np.ndarray, n: int) -> np.ndarray:
    out = np.asarray(operator.matvec(v), dtype=np.float64).reshape(-1)
    if out.shape != (n,):
        raise InputError(
            f"operator.matvec returned shape {out.shape}; need ({n},) for a vector of ({n},)"
        )
    if not np.all(np.isfinite(out)):
        raise InputError("operator.matvec returned NaN or inf; check the operator")
    return out


def _int_arg(value: Any, name: str, fname: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(f"{fname}({name}={value!r}): need an integer >= {low}")
    return int(value)


def lanczos_tridiagonal(
    operator: Any, v0: np.ndarray, num_steps: int, n: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """``num_steps`` Lanczos steps from ``v0`` with full reorthogonalisation.

    Returns the diagonal ``alpha`` and off-diagonal ``beta`` of the tridiagonal
    ``T_m = V_m^T A V_m`` and the number of products used. Stops early (``m <
    num_steps``) when the Krylov space becomes invariant, so the Gauss quadrature
    built from ``T_m`` is then exact for ``v0``'s spectral measure.
    """
    m_max = min(int(num_steps), n)
    basis = np.zeros((m_max, n))
    alpha = np.zeros(m_max)
    beta = np.zeros(max(m_max - 1, 0))
    basis[0] = v0 / np.linalg.norm(v0)
    m = 0
    for j in range(m_max):
        w = _apply(operator, basis[j], n)
        alpha[j] = basis[j] @ w
        m = j + 1
        if j == m_max - 1:
            break
        for _ in range(2):
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        scale = max(float(np.max(np.abs(alpha[: j + 1]))), np.finfo(float).tiny)
        if b <= 1e-12 * scale:
            break
        beta[j] = b
        basis[j + 1] = w / b
    return alpha[:m], beta[: m - 1], m


def with_quiet_blas(func: Callable[..., T]) -> Callable[..., T]:
    """Run ``func`` inside :func:`quiet_blas` (docstring and signature kept)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with quiet_blas():
            return func(*args, **kwargs)

    return wrapper
