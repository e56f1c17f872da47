"""Lyapunov exponents with convergence diagnostics: flows, maps and measured series.

:func:`lyapunov_spectrum` runs Benettin's algorithm on the exact variational equations
(the model's symbolic Jacobian, compiled with numba together with an adaptive
Dormand-Prince integrator): the state and ``k`` tangent vectors advance together and are
re-orthonormalised (QR) at fixed intervals; each exponent is the orbit average of
``log R_ii``. Its error bar is the standard error over contiguous blocks of the orbit
(batch means) and the run stops when every error bar is below ``tol`` or at ``t_max``.
The sum of all exponents is checked against the orbit average of ``tr J`` (Liouville)
or ``log|det J|`` (maps). :func:`largest_lyapunov_exponent` is the one-vector fast path;
:func:`lyapunov_from_series` estimates exponents from measured data
(:class:`Rosenstein`, :class:`Eckmann`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from stabkit.analysis._lyapunov_driver import RawRun, batch_means, run_benettin
from stabkit.analysis._lyapunov_kernels import lyapunov_kernels
from stabkit.analysis._lyapunov_result import LyapunovResult, SumRule, kaplan_yorke_dimension
from stabkit.analysis._lyapunov_series import Eckmann, Rosenstein, lyapunov_from_series
from stabkit.errors import ConvergenceError, InputError
from stabkit.integrate.methods import Dopri5
from stabkit.model.model import TIME, Model, ModelKind
from stabkit.results import Provenance, Stats

__all__ = [
    "QR",
    "Eckmann",
    "LyapunovResult",
    "Rosenstein",
    "SumRule",
    "kaplan_yorke_dimension",
    "largest_lyapunov_exponent",
    "lyapunov_from_series",
    "lyapunov_spectrum",
]

_MAX_RUNNING_POINTS = 600


def _positive(owner: str, name: str, value: object, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{owner}({name}={value!r}): expected a positive number")
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise InputError(f"{owner}({name}={value!r}): must be finite and > 0")


@dataclasses.dataclass(frozen=True)
class QR:
    """Benettin's algorithm with QR re-orthonormalisation (the method of
    :func:`lyapunov_spectrum`).

    Parameters
    ----------
    transient
        Orbit length discarded before averaging (state and tangent vectors both settle);
        ``None``: 100 time units (flows) or 1000 iterations (maps). ``0`` keeps all.
    renormalise_every
        Time (iterations for maps) between re-orthonormalisations; ``None``: 1 iteration
        for maps, ``min(1, 4 / mean ||J||_inf)`` sampled along the transient for flows
        (tangent vectors grow or shrink by at most about ``e^4`` between two QRs).
    t_max
        Largest averaging time (iterations for maps) after the transient; ``None``:
        10,000 time units or 1,000,000 iterations.
    tol
        Stop as soon as every exponent's standard error is at most ``tol`` (absolute,
        per unit time); ``None`` runs to ``t_max``.
    num_blocks
        Number of contiguous blocks of the orbit for the batch-means standard error
        (>= 2; each block must hold 20 intervals before a check).
    integrator
        :class:`~stabkit.integrate.methods.Dopri5` settings (``rtol``, ``atol``,
        ``max_steps`` as the budget of the whole run, ``divergence_threshold``) for the
        variational equations; ignored for maps.
    max_wall_time
        Seconds after which the run stops with status ``"time_limit"``, keeping what
        it has.

    References
    ----------
    Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15 (1980) 9-30 and 21-30;
    batch means: Flegal & Jones, Ann. Statist. 38 (2010) 1034-1070.
    """

    transient: float | None = None
    renormalise_every: float | None = None
    t_max: float | None = None
    tol: float | None = 2e-3
    num_blocks: int = 20
    integrator: Dopri5 = dataclasses.field(
        default_factory=lambda: Dopri5(rtol=1e-6, atol=1e-9, max_steps=200_000_000)
    )
    max_wall_time: float = 120.0

    def __post_init__(self) -> None:
        if self.transient is not None:
            bad = isinstance(self.transient, bool) or not isinstance(
                self.transient, (int, float, np.integer, np.floating)
            )
            if bad or not (math.isfinite(float(self.transient)) and self.transient >= 0):
                raise InputError(f"QR(transient={self.transient!r}): must be a number >= 0")
        _positive("QR", "renormalise_every", self.renormalise_every)
        _positive("QR", "t_max", self.t_max)
        _positive("QR", "tol", self.tol)
        _positive("QR", "max_wall_time", self.max_wall_time, allow_none=False)
        if (
            isinstance(self.num_blocks, bool)
            or not isinstance(self.num_blocks, (int, np.integer))
            or self.num_blocks < 2
        ):
            raise InputError(f"QR(num_blocks={self.num_blocks!r}): expected an integer >= 2")
        if not isinstance(self.integrator, Dopri5):
            raise InputError(
                f"QR(integrator={self.integrator!r}): the variational kernel integrates with "
                "Dormand-Prince 5(4); pass Dopri5(rtol=..., atol=...)"
            )


def _check_model(model: object, where: str) -> Model:
    if not isinstance(model, Model):
        raise InputError(f"{where}(model={model!r}): expected a stabkit Model")
    if model.kind is ModelKind.DDE:
        raise InputError(
            f"{where}: model {model.name!r} is a delay equation; its Lyapunov spectrum is "
            "infinite-dimensional and not supported here"
        )
    if model.kind is ModelKind.REACTIONS and not model.equations:
        raise InputError(f"{where}: model {model.name!r} has no rate equations")
    return model


def _num_exponents(value: object, n: int, where: str) -> int:
    if value is None:
        return n
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= n:
        raise InputError(
            f"{where}(num_exponents={value!r}): expected an integer from 1 to {n} "
            "(the number of variables)"
        )
    return int(value)


def _initial_tangents(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    return np.ascontiguousarray(q[:, :k])


def _running(raw: RawRun) -> tuple[np.ndarray, np.ndarray]:
    num = raw.logs.shape[0]
    if num == 0:
        return np.zeros(0), np.zeros((0, raw.logs.shape[1]))
    idx = np.unique(np.geomspace(1, num, min(num, _MAX_RUNNING_POINTS)).astype(int)) - 1
    cums = np.cumsum(raw.logs, axis=0)[idx]
    times = (idx + 1) * raw.interval
    return times, cums / times[:, None]


def _build_result(
    raw: RawRun,
    *,
    model: Model,
    k: int,
    autonomous: bool,
    compile_time: float,
    wall: float,
    provenance: Provenance,
    jacobian_source: str,
    num_blocks: int,
) -> LyapunovResult:
    is_map = model.kind is ModelKind.MAP
    n = model.num_variables
    num = raw.logs.shape[0]
    averaging = num * raw.interval
    if num:
        exps = raw.logs.sum(axis=0) / averaging
        ses = batch_means(raw.logs, raw.interval, num_blocks)
    else:
        exps = np.full(k, np.nan)
        ses = np.full(k, np.inf)
    order = np.argsort(-np.nan_to_num(exps, nan=-np.inf), kind="stable")
    exps, ses = exps[order], ses[order]
    times, running = _running(raw)
    running = running[:, order]
    sum_rule = None
    if k == n and num:
        total = float(np.sum(exps))
        trace_avg = float(raw.trace.sum() / averaging)
        sum_rule = SumRule(total, trace_avg, total - trace_avg)
    zero_index = None
    nearest = None
    if not is_map and autonomous and k == n and n > 1 and num:
        nearest = int(np.argmin(np.abs(exps)))
        scale = max(1.0, float(np.max(np.abs(exps))))
        if abs(exps[nearest]) <= max(4 * ses[nearest], 1e-3 * scale):
            zero_index = nearest
    c = raw.counters
    stats = Stats(
        num_steps=int(c[0]),
        num_rejected=int(c[1]),
        num_rhs_evaluations=int(c[2]),
        num_jacobian_evaluations=int(c[3]),
        wall_time=wall,
        compile_time=compile_time,
        extra={
            "num_renormalisations": int(c[6]),
            "final_time": raw.t_final,
            "final_state": raw.y_final.tolist(),
            "num_convergence_checks": len(raw.check_times),
        },
    )
    message = raw.message
    if nearest is not None and zero_index is None:
        message += (
            f"; no exponent is zero within its error bar (nearest: {exps[nearest]:.3g}),"
            " as on an orbit that settles to an equilibrium"
        )
    return LyapunovResult(
        status=raw.status,
        message=message,
        stats=stats,
        provenance=provenance,
        exponents=exps,
        standard_errors=ses,
        running_time=times,
        running_estimates=running,
        sum_rule=sum_rule,
        kaplan_yorke_dimension=kaplan_yorke_dimension(exps) if k == n and num else math.nan,
        zero_exponent_index=zero_index,
        variables=model.variables,
        kind="map" if is_map else "ode",
        averaging_time=averaging,
        transient=raw.transient,
        renormalisation_interval=raw.interval,
        jacobian_source=jacobian_source,
    )


def lyapunov_spectrum(
    model: Model,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    *,
    y0: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    num_exponents: int | None = None,
    method: QR | None = None,
    seed: int | None = None,
    backend: str = "numba",
    throw: bool = False,
) -> LyapunovResult:
    r"""The Lyapunov spectrum of a flow or a map, with error bars and checks.

    Parameters
    ----------
    model
        A flow (``"ode"``) or a map; symbolic (exact Jacobian) or written as Python
        functions (their ``jac_fn``, else forward differences).
    params
        Parameter values (mapping overriding defaults, or all in model order).
    y0
        Initial state, shape ``(n,)`` or a mapping; ``None``: the model's default state.
    num_exponents
        How many of the largest exponents, ``1 <= k <= n``; ``None``: all ``n``.
    method
        :class:`QR` settings; ``None``: ``QR()``.
    seed
        Seed of the random initial tangent vectors; ``None`` draws one (recorded in
        ``provenance.seed``).
    backend
        ``"numba"`` (compiled, cached on disk) or ``"numpy"`` (plain Python reference).
    throw
        Raise :class:`~stabkit.errors.ConvergenceError` (holding the result) when the
        status is not ``"ok"``.

    Returns
    -------
    LyapunovResult
        ``status`` is ``"ok"`` (tolerance met, or ``t_max`` reached with ``tol=None``),
        ``"not_converged"`` (``t_max`` reached first), ``"diverged"``, ``"non_finite"``,
        ``"max_steps"``, ``"step_too_small"`` or ``"time_limit"``; on failure the
        exponents average over the intervals finished before it (NaN when none).

    Raises
    ------
    InputError
        Not a model, a delay equation, a bad ``num_exponents``/``y0``/``params``.
    ConvergenceError
        Only with ``throw=True`` and a status other than ``"ok"``.

    Notes
    -----
    With ``Q' = J(t, y) Q`` and ``Q(t_j) = Q_j R_j`` at the renormalisation times,

    .. math:: \lambda_i = \lim_{T\to\infty} \frac{1}{T}\sum_j \log (R_j)_{ii},
              \qquad \sum_i \lambda_i = \langle \operatorname{tr} J \rangle .

    References
    ----------
    Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15 (1980) 9-30; Shimada &
    Nagashima, Prog. Theor. Phys. 61 (1979) 1605-1616.

    Examples
    --------
    >>> from stabkit.model import library
    >>> r = lyapunov_spectrum(library.get("henon_map"), seed=1, method=QR(t_max=20000))
    >>> round(float(r.sum_rule.exponent_sum), 6), round(float(np.log(0.3)), 6)
    (-1.203973, -1.203973)
    """
    return _spectrum(model, params, y0, num_exponents, method, seed, backend, throw, "spectrum")


def largest_lyapunov_exponent(
    model: Model,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    *,
    y0: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    method: QR | None = None,
    seed: int | None = None,
    backend: str = "numba",
    throw: bool = False,
) -> LyapunovResult:
    r"""The largest Lyapunov exponent: one tangent vector, renormalised only.

    Same parameters and result as :func:`lyapunov_spectrum` with ``num_exponents=1``
    (``exponents`` has one entry, ``sum_rule`` is ``None``); the variational system has
    ``2n`` instead of ``n + n^2`` components.

    .. math:: \lambda_1 = \lim_{T\to\infty} \frac{1}{T}\sum_j \log\|v(t_j^-)\|,
              \qquad v' = J v,\ \|v(t_j^+)\| = 1 .

    References
    ----------
    Benettin, Galgani & Strelcyn, Phys. Rev. A 14 (1976) 2338-2345.

    Examples
    --------
    >>> from stabkit.model import library
    >>> r = largest_lyapunov_exponent(library.get("logistic_map"), {"r": 4.0}, seed=0)
    >>> bool(abs(r.largest - np.log(2)) < 5 * r.standard_errors[0] + 1e-3)
    True
    """
    return _spectrum(model, params, y0, 1, method, seed, backend, throw, "largest")


def _spectrum(
    model: Model,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None,
    y0: Mapping[str, float] | Sequence[float] | np.ndarray | None,
    num_exponents: int | None,
    method: QR | None,
    seed: int | None,
    backend: str,
    throw: bool,
    which: str,
) -> LyapunovResult:
    where = "lyapunov_spectrum" if which == "spectrum" else "largest_lyapunov_exponent"
    model = _check_model(model, where)
    if method is None:
        method = QR()
    if not isinstance(method, QR):
        raise InputError(f"{where}(method={method!r}): expected QR(...)")
    if backend not in ("numba", "numpy"):
        raise InputError(f"{where}(backend={backend!r}): choose 'numba' or 'numpy'")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InputError(f"{where}(seed={seed!r}): expected an integer or None")
    n = model.num_variables
    k = _num_exponents(num_exponents, n, where)
    p = model.param_vector(params)
    state = model.state_vector(y0)
    is_map = model.kind is ModelKind.MAP
    used_seed = int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else seed
    Q0 = _initial_tangents(n, k, int(used_seed))
    transient = method.transient
    if transient is None:
        transient = 1000.0 if is_map else 100.0
    t_max = method.t_max if method.t_max is not None else (1e6 if is_map else 1e4)
    interval = method.renormalise_every
    if is_map:
        interval = float(max(1, round(interval))) if interval is not None else 1.0
        transient = float(round(transient))
    kernels = lyapunov_kernels(model, backend=backend)
    compile_time = kernels.warm("ly_map" if is_map else "ly_flow", n, k, p)
    # a Python function may read t: only symbolic models are known to be autonomous
    autonomous = model.is_symbolic and all(TIME not in e.free_symbols for e in model.equations)
    tic = time.perf_counter()
    raw = run_benettin(
        kernels,
        is_map=is_map,
        y0=state,
        Q0=Q0,
        p=p,
        method=method,
        transient=float(transient),
        interval=interval,
        t_max=float(t_max),
    )
    wall = time.perf_counter() - tic
    provenance = Provenance(
        model_hash=model.content_hash,
        analysis="lyapunov_spectrum" if which == "spectrum" else "largest_lyapunov_exponent",
        method=repr(method),
        params=dict(zip(model.parameters, (float(v) for v in p), strict=True)),
        seed=int(used_seed),
    )
    result = _build_result(
        raw,
        model=model,
        k=k,
        autonomous=autonomous,
        compile_time=compile_time + kernels.codegen_time,
        wall=wall,
        provenance=provenance,
        jacobian_source=kernels.jacobian_source,
        num_blocks=method.num_blocks,
    )
    if throw and result.status != "ok":
        raise ConvergenceError(f"{where}: {result.message}", result)
    return result
