"""Extreme eigenvalues of symmetric linear operators by Lanczos, with error bars.

Works on any operator with ``shape`` and ``matvec(v)`` (numpy in, numpy out), e.g.
:class:`~stabkit.learn.operators.MatrixOperator` or
:class:`~stabkit.learn.operators.HessianOperator`. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import ConvergenceError, InputError
from stabkit.learn._linop import _apply, _check_operator, _int_arg, with_quiet_blas
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EigenResult", "top_eigenvalues"]

_WHICH = ("largest_algebraic", "largest_magnitude", "smallest_algebraic")


@dataclasses.dataclass(frozen=True)
class EigenResult(Result):
    """Extreme eigenvalues of a symmetric operator, with error bars.

    Attributes
    ----------
    values
        The ``k`` wanted Ritz values, in the order of ``which`` (largest first for
        ``largest_*``, smallest first for ``smallest_algebraic``).
    errors
        Residual norms ``||A x - theta x||`` of the Ritz pairs; each interval
        ``[theta - error, theta + error]`` holds an eigenvalue of the operator.
    eigenvectors
        ``(n, k)`` array of unit Ritz vectors.
    converged
        Per value: did the residual reach ``tol * |theta|``.
    num_matvecs
        Operator products used.
    which, tol
        What was asked.
    """

    values: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    errors: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    eigenvectors: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    converged: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=bool))
    num_matvecs: int = 0
    which: str = "largest_algebraic"
    tol: float = 1e-3

    def to_frame(self) -> pd.DataFrame:
        """One row per eigenvalue: value, error, converged."""
        import pandas as pd

        return pd.DataFrame(
            {"value": self.values, "error": self.errors, "converged": self.converged}
        )

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(
            (
                "eigenvalues",
                ", ".join(
                    f"{v:.6g} ± {e:.2g}" for v, e in zip(self.values, self.errors, strict=True)
                ),
            )
        )
        rows.append(("matvecs", str(self.num_matvecs)))
        return rows


def _select(theta: np.ndarray, k: int, which: str) -> np.ndarray:
    if which == "largest_algebraic":
        order = np.argsort(-theta, kind="stable")
    elif which == "smallest_algebraic":
        order = np.argsort(theta, kind="stable")
    else:
        order = np.argsort(-np.abs(theta), kind="stable")
    return order[:k]


@with_quiet_blas
def top_eigenvalues(
    operator: Any,
    k: int = 1,
    *,
    which: str = "largest_algebraic",
    tol: float = 1e-3,
    max_matvecs: int | None = None,
    seed: int = 0,
    v0: Any = None,
    throw: bool = True,
) -> EigenResult:
    """Extreme eigenvalues of a symmetric operator by Lanczos, with error bars.

    Lanczos with full reorthogonalisation builds ``A V_m = V_m T_m + beta_m v e_m^T``;
    the Ritz pairs ``(theta, V_m s)`` of ``T_m`` have residual norm
    ``beta_m |s_m|``, and each interval ``theta ± residual`` holds an eigenvalue of
    ``A`` (Parlett, *The Symmetric Eigenvalue Problem*, 1998, Thm 4.5.1). Iteration
    stops when every wanted pair has ``residual <= tol * |theta|``.

    Parameters
    ----------
    operator
        Object with ``shape == (n, n)`` and ``matvec(v)`` on numpy vectors.
    k
        Number of eigenvalues, ``1 <= k <= n``.
    which
        ``"largest_algebraic"``, ``"largest_magnitude"`` or ``"smallest_algebraic"``.
    tol
        Relative residual tolerance.
    max_matvecs
        Budget of products (default ``min(n, max(300, 20 k))``); memory is
        ``max_matvecs`` vectors of length ``n``.
    seed
        Seed of the random start vector.
    v0
        Start vector (warm start, e.g. a previous eigenvector); overrides ``seed``.
    throw
        Raise :class:`~stabkit.errors.ConvergenceError` when the budget is spent
        before convergence; with ``throw=False`` return with ``status="not_converged"``.

    Returns
    -------
    EigenResult

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit.learn import MatrixOperator
    >>> op = MatrixOperator(np.diag([1.0, -5.0, 2.0, 3.0]))
    >>> r = top_eigenvalues(op, k=2)
    >>> np.round(r.values, 6)
    array([3., 2.])
    >>> float(np.round(top_eigenvalues(op, which="largest_magnitude").values[0], 6))
    -5.0
    """
    fname = "top_eigenvalues"
    t0 = time.perf_counter()
    n = _check_operator(operator, fname)
    k = _int_arg(k, "k", fname, 1)
    if k > n:
        raise InputError(f"{fname}(k={k}): the operator has only {n} eigenvalues; use k <= {n}")
    if which not in _WHICH:
        raise InputError(f"{fname}(which={which!r}): use one of {', '.join(_WHICH)}")
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol > 0):
        raise InputError(f"{fname}(tol={tol!r}): need a positive finite number")
    if max_matvecs is None:
        max_matvecs = min(n, max(300, 20 * k))
    m_max = _int_arg(max_matvecs, "max_matvecs", fname, k)
    m_max = min(m_max, n)
    rng = np.random.default_rng(seed)
    if v0 is None:
        v = rng.standard_normal(n)
    else:
        if type(v0).__module__.startswith("torch"):
            v0 = v0.detach().cpu().numpy()
        v = np.array(v0, dtype=np.float64).reshape(-1)
        if v.shape != (n,) or not np.all(np.isfinite(v)) or not np.any(v):
            raise InputError(f"{fname}(v0=...): need a finite non-zero vector of length {n}")
    v /= np.linalg.norm(v)

    # the Krylov basis grows by doubling: memory follows the steps taken, not the budget
    basis = np.empty((min(m_max + 1, 32), n))
    basis[0] = v
    alpha = np.zeros(m_max)
    beta = np.zeros(m_max)
    matvecs = 0
    theta = np.zeros(0)
    s = np.zeros((0, 0))
    idx = np.zeros(0, dtype=int)
    residuals = np.zeros(0)
    done = False
    m = 0
    for j in range(m_max):
        w = _apply(operator, basis[j], n)
        matvecs += 1
        alpha[j] = basis[j] @ w
        for _ in range(2):  # full reorthogonalisation, twice is enough
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        m = j + 1
        t = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
        theta, s = np.linalg.eigh(t)
        scale = float(np.max(np.abs(theta)))
        if m >= k:
            idx = _select(theta, k, which)
            residuals = beta[j] * np.abs(s[-1, idx])
            if np.all(residuals <= tol * np.abs(theta[idx]) + 1e-13 * scale) or m == n:
                done = True
                break
        if beta[j] <= 1e-12 * max(scale, np.finfo(float).tiny):
            # invariant subspace: continue with a fresh direction orthogonal to the basis
            beta[j] = 0.0
            w = rng.standard_normal(n)
            for _ in range(2):
                w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
            w = w / np.linalg.norm(w)
        else:
            w = w / beta[j]
        if j + 1 >= basis.shape[0]:
            grown = np.empty((min(2 * basis.shape[0], m_max + 1), n))
            grown[: j + 1] = basis[: j + 1]
            basis = grown
        basis[j + 1] = w
    if m < k:  # pragma: no cover - m_max >= k guarantees m >= k
        raise InputError(f"{fname}(max_matvecs={max_matvecs}): need at least k products")
    vectors = basis[:m].T @ s[:, idx]
    values = theta[idx]
    converged = residuals <= tol * np.abs(values) + 1e-13 * float(np.max(np.abs(theta)))
    status = "ok" if done else "not_converged"
    message = (
        ""
        if done
        else f"Lanczos spent max_matvecs={m_max} before all residuals reached tol={tol}; "
        "raise max_matvecs or tol"
    )
    result = EigenResult(
        status=status,
        message=message,
        stats=Stats(wall_time=time.perf_counter() - t0, extra={"num_matvecs": matvecs}),
        provenance=Provenance(
            analysis="top_eigenvalues",
            method="Lanczos (full reorthogonalisation)",
            params={"k": float(k), "tol": float(tol), "max_matvecs": float(m_max)},
            seed=seed if v0 is None else None,
        ),
        values=values,
        errors=residuals,
        eigenvectors=vectors,
        converged=converged,
        num_matvecs=matvecs,
        which=which,
        tol=float(tol),
    )
    if not done and throw:
        raise ConvergenceError(f"{fname}: {message}", result)
    return result
