"""Linear-stability criteria of optimizers at a minimum.

Near a minimum with Hessian ``H`` an optimizer is a linear map on the deviation
``delta = theta - theta*``; it is stable when that map's spectral radius is below 1.
Along an eigenvector of ``H`` with eigenvalue ``lambda`` (``a = eta lambda``):

* gradient descent ``delta' = (1 - a) delta``: stable iff ``a < 2``, i.e. ``lambda < 2/eta``;
* heavy-ball momentum (PyTorch ``SGD(momentum=beta)``, buffer ``b' = beta b + g``,
  step ``-eta b'``): the characteristic polynomial ``mu^2 - (1 + beta - a) mu + beta``
  has both roots in the unit disc iff ``a < 2 (1 + beta)``;
* Nesterov (PyTorch ``nesterov=True``): ``mu^2 - (1 + beta)(1 - a) mu + beta (1 - a)``,
  stable iff ``a < (2 + 2 beta) / (1 + 2 beta)``;
* Adam with ``beta1`` is preconditioned heavy-ball with step ``eta (1 - beta1)`` on
  ``P^{-1} H``: stable iff the preconditioned sharpness
  ``lambda_max(P^{-1} H) < (2 + 2 beta1) / ((1 - beta1) eta)`` (= 38/eta for
  ``beta1 = 0.9``; Cohen et al. 2022, arXiv 2207.14484);
* SGD with batch ``B``: linear stability in mean square, ``E ||delta_t||^2`` bounded, is
  governed by the second-moment map ``S -> E[(I - eta H_B) S (I - eta H_B)]``
  (:func:`sgd_mean_square_stability`); it forces ``tr H <= 2/eta`` at ``B = 1``
  (Wu & Su 2023, ICML, arXiv 2305.17490), ``tr H <= 2 B / eta`` when the per-sample
  gradients are orthogonal, where GD only needs ``lambda_max(H) <= 2/eta``.

Gradient descent is the map ``theta -> theta - eta grad L``; these thresholds are the
"edge of stability" that full-batch training climbs to (Cohen et al. 2021, ICLR).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OptimizerThreshold",
    "SGDStabilityResult",
    "adam_threshold",
    "gd_threshold",
    "momentum_threshold",
    "optimizer_thresholds",
    "sgd_mean_square_stability",
    "sgd_trace_threshold",
]


_RADIUS_TOL = 1e-9  # radius 1 up to rounding: neutral directions (null space of H) keep S


def _positive(value: Any, name: str, fname: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(f"{fname}({name}={value!r}): need a positive number")
    x = float(value)
    if not (np.isfinite(x) and x > 0):
        raise InputError(f"{fname}({name}={value!r}): need a positive finite number")
    return x


def _unit_interval(value: Any, name: str, fname: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(f"{fname}({name}={value!r}): need a number in [0, 1)")
    x = float(value)
    if not 0 <= x < 1:
        raise InputError(f"{fname}({name}={value!r}): need a number in [0, 1)")
    return x


def gd_threshold(lr: float) -> float:
    """Largest stable sharpness of gradient descent: ``2 / lr``.

    Examples
    --------
    >>> gd_threshold(0.01)
    200.0
    """
    return 2.0 / _positive(lr, "lr", "gd_threshold")


def momentum_threshold(
    lr: float, momentum: float, *, nesterov: bool = False, dampening: float = 0.0
) -> float:
    """Largest stable sharpness of SGD with momentum, as PyTorch defines it.

    Heavy ball: ``2 (1 + beta) / (lr (1 - dampening))``; Nesterov:
    ``(2 + 2 beta) / ((1 + 2 beta) lr (1 - dampening))``.

    Examples
    --------
    >>> round(momentum_threshold(0.1, 0.9), 9)
    38.0
    >>> round(momentum_threshold(0.1, 0.9, nesterov=True), 6)
    13.571429
    """
    fname = "momentum_threshold"
    lr = _positive(lr, "lr", fname)
    beta = _unit_interval(momentum, "momentum", fname)
    damp = _unit_interval(dampening, "dampening", fname)
    eff = lr * (1.0 - damp)
    if nesterov:
        return (2.0 + 2.0 * beta) / ((1.0 + 2.0 * beta) * eff)
    return 2.0 * (1.0 + beta) / eff


def adam_threshold(lr: float, beta1: float = 0.9) -> float:
    """Largest stable *preconditioned* sharpness of Adam: ``(2 + 2 beta1) / ((1 - beta1) lr)``.

    Compare with the top eigenvalue of
    :func:`~stabkit.learn.adam_preconditioned_operator` (Cohen et al. 2022).

    Examples
    --------
    >>> round(adam_threshold(1e-3), 6)
    38000.0
    """
    fname = "adam_threshold"
    lr = _positive(lr, "lr", fname)
    b1 = _unit_interval(beta1, "beta1", fname)
    return (2.0 + 2.0 * b1) / ((1.0 - b1) * lr)


def sgd_trace_threshold(lr: float, batch_size: int = 1) -> float:
    """The trace bound ``2 B / lr`` that mean-square stability of SGD imposes.

    Necessary at ``B = 1`` (Wu & Su 2023); exact when the per-sample gradients are
    orthogonal. Use :func:`sgd_mean_square_stability` for the exact criterion.
    """
    fname = "sgd_trace_threshold"
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise InputError(f"{fname}(batch_size={batch_size!r}): need an integer >= 1")
    if batch_size < 1:
        raise InputError(f"{fname}(batch_size={batch_size!r}): need an integer >= 1")
    return 2.0 * int(batch_size) / _positive(lr, "lr", fname)


@dataclasses.dataclass(frozen=True)
class OptimizerThreshold:
    """The stability threshold of one parameter group of an optimizer.

    Attributes
    ----------
    group
        Index of the parameter group.
    rule
        ``"gd"``, ``"heavy-ball"``, ``"nesterov"`` or ``"adam"``.
    quantity
        What to compare with it: ``"sharpness"`` (top Hessian eigenvalue) or
        ``"preconditioned sharpness"`` (top eigenvalue of ``P^{-1/2} H P^{-1/2}``).
    threshold
        The largest stable value of ``quantity``.
    lr
        The group's learning rate.
    """

    group: int
    rule: str
    quantity: str
    threshold: float
    lr: float


def optimizer_thresholds(optimizer: Any) -> list[OptimizerThreshold]:
    """Stability thresholds of a torch optimizer, one per parameter group.

    ``torch.optim.SGD`` (plain, momentum, Nesterov, with dampening) and
    ``Adam``/``AdamW``/``NAdam``-free ``Adam`` variants are read from their
    ``param_groups``; anything else is an :class:`~stabkit.errors.InputError`.
    """
    import torch

    out = []
    for i, g in enumerate(getattr(optimizer, "param_groups", None) or []):
        lr = float(g["lr"])
        if isinstance(optimizer, torch.optim.SGD):
            beta = float(g.get("momentum", 0.0))
            if beta == 0.0:
                out.append(OptimizerThreshold(i, "gd", "sharpness", gd_threshold(lr), lr))
            else:
                nesterov = bool(g.get("nesterov", False))
                thr = momentum_threshold(
                    lr, beta, nesterov=nesterov, dampening=float(g.get("dampening", 0.0))
                )
                rule = "nesterov" if nesterov else "heavy-ball"
                out.append(OptimizerThreshold(i, rule, "sharpness", thr, lr))
        elif isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
            thr = adam_threshold(lr, float(g["betas"][0]))
            out.append(OptimizerThreshold(i, "adam", "preconditioned sharpness", thr, lr))
        else:
            raise InputError(
                f"optimizer_thresholds(optimizer={type(optimizer).__name__}): known are "
                "torch.optim.SGD (with or without momentum) and Adam/AdamW"
            )
    if not out:
        raise InputError("optimizer_thresholds(optimizer=...): need a torch optimizer")
    return out


@dataclasses.dataclass(frozen=True)
class SGDStabilityResult(Result):
    """Mean-square linear stability of SGD at a minimum.

    Attributes
    ----------
    spectral_radius
        Of the second-moment map ``S -> E[(I - eta H_B) S (I - eta H_B)]`` on the span of
        the per-sample Hessians' ranges (off it SGD does not move: those directions are
        neutral); SGD is linearly stable in mean square iff it is ``<= 1``.
    stable
        ``spectral_radius <= 1``.
    lr, batch_size, replacement
        The SGD setting.
    sharpness, trace, frobenius
        ``lambda_max(H)``, ``tr H`` and ``||H||_F`` of the full-batch Hessian.
    gd_stable
        ``sharpness <= 2 / lr`` (what full-batch GD would need).
    trace_condition
        ``trace <= 2 batch_size / lr`` (the trace bound of Wu & Su 2023).
    critical_lr
        Largest stable learning rate at this batch size (bisection on the radius).
    """

    spectral_radius: float = 0.0
    stable: bool = True
    lr: float = 0.0
    batch_size: int = 1
    replacement: bool = False
    sharpness: float = 0.0
    trace: float = 0.0
    frobenius: float = 0.0
    gd_stable: bool = True
    trace_condition: bool = True
    critical_lr: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        import pandas as pd

        keys = [
            "spectral_radius",
            "stable",
            "lr",
            "batch_size",
            "sharpness",
            "trace",
            "frobenius",
            "gd_stable",
            "trace_condition",
            "critical_lr",
        ]
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(("spectral radius", f"{self.spectral_radius:.6g}"))
        rows.append(("stable (mean square)", str(self.stable)))
        rows.append(("tr H vs 2B/eta", f"{self.trace:.4g} vs {2 * self.batch_size / self.lr:.4g}"))
        rows.append(("critical lr", f"{self.critical_lr:.6g}"))
        return rows


def _per_sample(per_sample: Any, fname: str) -> tuple[str, np.ndarray]:
    if type(per_sample).__module__.startswith("torch"):
        per_sample = per_sample.detach().cpu().numpy()
    a = np.asarray(per_sample, dtype=np.float64)
    if a.ndim == 2 and a.shape[0] >= 1 and a.shape[1] >= 1:
        kind = "gradients"
    elif a.ndim == 3 and a.shape[1] == a.shape[2] and a.shape[0] >= 1:
        kind = "hessians"
        if np.max(np.abs(a - a.transpose(0, 2, 1))) > 1e-10 * max(np.abs(a).max(), 1e-300):
            raise InputError(f"{fname}(per_sample=...): the per-sample Hessians are not symmetric")
    else:
        raise InputError(
            f"{fname}(per_sample=array of shape {a.shape}): pass per-sample output gradients "
            "(n, d), so that H_i = g_i g_i^T, or per-sample Hessians (n, d, d)"
        )
    if not np.all(np.isfinite(a)):
        raise InputError(f"{fname}(per_sample=...): contains NaN or inf")
    return kind, a


def _reduce(kind: str, a: np.ndarray) -> np.ndarray:
    """The per-sample data on the span of the per-sample Hessians' ranges.

    Off that span ``H_B v = 0`` for every batch, so SGD leaves those directions alone
    (multiplier exactly 1): they are neutral and say nothing about divergence.
    """
    if kind == "gradients":
        _, sv, vt = np.linalg.svd(a, full_matrices=False)
        keep = sv > 1e-10 * max(float(sv[0]), 1e-300)
        return np.asarray(a @ vt[keep].T)
    stacked = np.concatenate(list(a), axis=1)
    u, sv, _ = np.linalg.svd(stacked, full_matrices=False)
    basis = u[:, sv > 1e-10 * max(float(sv[0]), 1e-300)]
    return np.asarray(np.einsum("ji,njk,kl->nil", basis, a, basis))


def _moment_maps(
    kind: str, a: np.ndarray, batch: int, replacement: bool
) -> tuple[int, Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """``A(S) = HS + SH`` and ``B(S) = E[H_B S H_B]`` on flattened ``d x d`` matrices."""
    n = a.shape[0]
    d = a.shape[1]
    h = a.T @ a / n if kind == "gradients" else a.mean(axis=0)
    c = 1.0 / batch if replacement else (n - batch) / (batch * max(n - 1, 1))

    def mean_hsh(s: np.ndarray) -> np.ndarray:
        if kind == "gradients":
            q = np.einsum("ij,jk,ik->i", a, s, a)  # g_i^T S g_i
            return np.asarray((a.T * q) @ a / n)
        return np.asarray(np.einsum("nij,jk,nkl->il", a, s, a) / n)

    def amap(vec: np.ndarray) -> np.ndarray:
        s = vec.reshape(d, d)
        return np.asarray((h @ s + s @ h).reshape(-1))

    def bmap(vec: np.ndarray) -> np.ndarray:
        s = vec.reshape(d, d)
        hsh = h @ s @ h
        return np.asarray((hsh + c * (mean_hsh(s) - hsh)).reshape(-1))

    return d, amap, bmap


def _second_moment_radius(
    kind: str, a: np.ndarray, lr: float, batch: int, replacement: bool
) -> float:
    """Spectral radius of ``S -> S - lr (HS + SH) + lr^2 E[H_B S H_B]`` on symmetric ``S``."""
    from scipy.sparse.linalg import LinearOperator, eigs

    d, amap, bmap = _moment_maps(kind, a, batch, replacement)

    def apply(vec: np.ndarray) -> np.ndarray:
        return vec - lr * amap(vec) + lr**2 * bmap(vec)

    if d * d <= 400:
        m = np.column_stack([apply(col) for col in np.eye(d * d)])
        return float(np.max(np.abs(np.linalg.eigvals(m))))
    op = LinearOperator((d * d, d * d), matvec=apply, dtype=np.float64)
    vals = eigs(op, k=1, which="LM", tol=1e-10, return_eigenvectors=False)
    return float(np.max(np.abs(vals)))


def _critical_lr(kind: str, a: np.ndarray, batch: int, replacement: bool, top: float) -> float:
    """Smallest lr with radius 1: the second-moment map preserves the cone of PSD matrices,
    so its spectral radius is its Perron eigenvalue and first reaches 1 where
    ``S - lr A S + lr^2 B S = S``, i.e. at the smallest positive eigenvalue of the pencil
    ``A S = lr B S``. Dense for small problems, bisection otherwise."""
    import scipy.linalg

    d, amap, bmap = _moment_maps(kind, a, batch, replacement)
    if d * d <= 900:
        eye = np.eye(d * d)
        amat = np.column_stack([amap(col) for col in eye])
        bmat = np.column_stack([bmap(col) for col in eye])
        alpha, beta = scipy.linalg.eig(amat, bmat, homogeneous_eigvals=True)[0]
        scale = max(float(np.max(np.abs(alpha))), 1e-300)
        finite = np.abs(beta) > 1e-12 * scale / max(top, 1e-300)
        lam = alpha[finite] / beta[finite]
        real = lam[(np.abs(lam.imag) <= 1e-8 * np.abs(lam)) & (lam.real > 0)].real
        if real.size:
            return float(real.min())
    lo, hi = 0.0, 4.0 / max(top, 1e-300)
    while _second_moment_radius(kind, a, hi, batch, replacement) <= 1 + _RADIUS_TOL:
        lo, hi = hi, 2 * hi
    lo = lo or hi / 1e6
    for _ in range(40):
        mid = float(np.sqrt(lo * hi))
        if _second_moment_radius(kind, a, mid, batch, replacement) <= 1 + _RADIUS_TOL:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1 + 1e-9:
            break
    return lo


def sgd_mean_square_stability(
    per_sample: Any, lr: float, *, batch_size: int = 1, replacement: bool = False
) -> SGDStabilityResult:
    """Exact mean-square linear stability of SGD at a minimum, and the trace criterion.

    Linearised SGD is ``delta' = (I - eta H_B) delta`` with ``H_B`` the mean of the
    per-sample Hessians ``H_i`` over a random batch of size ``B``. The second moment
    ``S = E[delta delta^T]`` obeys ``S' = S - eta (HS + SH) + eta^2 E[H_B S H_B]`` with
    ``E[H_B S H_B] = H S H + c ((1/n) sum_i H_i S H_i - H S H)``, ``c = (n - B)/(B (n - 1))``
    without replacement (``1/B`` with). ``E ||delta_t||^2`` stays bounded iff the spectral
    radius of this map is ``<= 1`` (Wu, Ma & E 2018, NeurIPS; Wu & Su 2023, ICML).

    Parameters
    ----------
    per_sample
        ``(n, d)`` per-sample output gradients ``g_i = grad_theta f(x_i)`` (square loss
        ``(1/2n) sum (f - y)^2`` at an interpolating minimum, where ``H_i = g_i g_i^T``),
        or ``(n, d, d)`` per-sample Hessians.
    lr
        Learning rate ``eta``.
    batch_size
        ``B``, ``1 <= B <= n``.
    replacement
        Batches drawn with replacement (default: without).

    Returns
    -------
    SGDStabilityResult
        With the spectral radius, the verdict, ``lambda_max``, ``tr H``, ``||H||_F``,
        GD's and the trace criterion's verdicts and the critical learning rate.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.eye(3) * np.sqrt([1.0, 2.0, 3.0])[:, None]  # orthogonal gradients
    >>> r = sgd_mean_square_stability(g, lr=0.5)
    >>> bool(r.stable), round(r.critical_lr, 6)  # ||g_i||^2 <= 2/lr for every i
    (True, 0.666667)
    """
    fname = "sgd_mean_square_stability"
    t0 = time.perf_counter()
    kind, a = _per_sample(per_sample, fname)
    lr = _positive(lr, "lr", fname)
    n = a.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise InputError(f"{fname}(batch_size={batch_size!r}): need an integer in [1, {n}]")
    if not 1 <= batch_size <= n:
        raise InputError(f"{fname}(batch_size={batch_size}): need an integer in [1, {n}]")
    batch = int(batch_size)
    h = a.T @ a / n if kind == "gradients" else a.mean(axis=0)
    eig = np.linalg.eigvalsh((h + h.T) / 2)
    reduced = _reduce(kind, a)
    radius = _second_moment_radius(kind, reduced, lr, batch, replacement)
    lo = _critical_lr(kind, reduced, batch, replacement, float(eig.max()))
    trace = float(np.trace(h))
    return SGDStabilityResult(
        status="ok",
        message="",
        stats=Stats(wall_time=time.perf_counter() - t0),
        provenance=Provenance(
            analysis=fname,
            method="second-moment map",
            params={"lr": lr, "batch_size": float(batch), "replacement": float(replacement)},
        ),
        spectral_radius=radius,
        stable=radius <= 1 + _RADIUS_TOL,
        lr=lr,
        batch_size=batch,
        replacement=bool(replacement),
        sharpness=float(eig.max()),
        trace=trace,
        frobenius=float(np.linalg.norm(h)),
        gd_stable=float(eig.max()) <= 2.0 / lr,
        trace_condition=trace <= 2.0 * batch / lr,
        critical_lr=float(lo),
    )
