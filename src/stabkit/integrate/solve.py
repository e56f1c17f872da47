"""The public integration API: :func:`solve` (one trajectory) and :func:`solve_ensemble`.

Both validate their input at the boundary, compile the model's kernel module
(:func:`stabkit.model.codegen.compile_model`), warm the kernel of the chosen scheme on a
one-member problem (that time is ``stats.compile_time``, apart from ``stats.wall_time``)
and run it. Method objects choose the kernel: :class:`~stabkit.integrate.methods.Dopri5`,
:class:`~stabkit.integrate.methods.Tsit5`, :class:`~stabkit.integrate.methods.DOP853`,
:class:`~stabkit.integrate.methods.RK4` (``integrate/_templates/explicit.py``),
:class:`~stabkit.integrate.methods.Rodas5`, :class:`~stabkit.integrate.methods.Rosenbrock23`
(``rosenbrock.py``) and :class:`~stabkit.integrate.methods.Auto` (explicit first, Rosenbrock
once stiffness is detected). Maps are iterated exactly (``maps.py``).

Integration runs forward in time only: ``t_span = (t0, t1)`` needs ``t1 > t0``. To
integrate backwards, solve the time-reversed system ``dy/ds = -f(-s, y)`` on
``(-t0, -t1)``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

import numpy as np

from stabkit.errors import ConvergenceError, InputError, suggest
from stabkit.integrate.methods import (
    DOP853,
    RK4,
    AdaptiveMethod,
    Auto,
    Dopri5,
    Event,
    Method,
    Rodas5,
    Rosenbrock23,
    Tsit5,
)
from stabkit.integrate.trajectory import (
    Ensemble,
    MemberStatus,
    Trajectory,
    _status_message,
    summarize_statuses,
)
from stabkit.model.codegen import CompiledModel, compile_model
from stabkit.model.model import Model, ModelKind
from stabkit.results import Provenance, Stats

__all__ = ["solve", "solve_ensemble"]

log = logging.getLogger(__name__)

_BACKENDS = ("numba", "numpy")
_STIFF = 8  # internal member status: an explicit scheme handed over to a stiff one
_PREFIX: dict[type[Method], str] = {
    Dopri5: "dopri5",
    Tsit5: "tsit5",
    DOP853: "dop853",
    RK4: "rk4",
    Rodas5: "rodas5",
    Rosenbrock23: "ros23",
}
#: Kernels with a ``<prefix>_batch(lo, hi, ...)`` entry (explicit.py), run from threads.
_BATCHED = frozenset(("dopri5", "tsit5", "dop853", "rk4", "auto", "auto23", "autots", "autots23"))
#: Positions of per-member arrays among the ensemble kernel's arguments.
_PER_MEMBER = frozenset((0, 1, 11, 12, 13, 14, 15, 16))
_AUTO_PREFIX = {
    ("dopri5", "rodas5"): "auto",
    ("dopri5", "rosenbrock23"): "auto23",
    ("tsit5", "rodas5"): "autots",
    ("tsit5", "rosenbrock23"): "autots23",
}


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Everything a kernel call needs besides the states and parameters."""

    model: Model
    compiled: CompiledModel
    method: Method | None
    prefix: str
    t0: float
    t1: float
    cfg: np.ndarray
    rtol: np.ndarray
    atol: np.ndarray
    ev_dir: np.ndarray
    ev_term: np.ndarray
    codegen_time: float

    @property
    def n(self) -> int:
        return self.model.num_variables

    @property
    def tab(self) -> np.ndarray:
        return np.zeros(0)  # the templates hold their coefficients as constants


# --------------------------------------------------------------------------- validation
def _check_model(model: Any) -> Model:
    if not isinstance(model, Model):
        raise InputError(
            f"model={model!r}: expected a stabkit Model; build one with "
            "Model.from_equations(...), stabkit.load_model(path) or stabkit.library"
        )
    if model.kind not in (ModelKind.ODE, ModelKind.MAP):
        raise InputError(
            f"model {model.name!r} is a {model.kind.value!r} model; solve and solve_ensemble "
            "integrate 'ode' and 'map' models"
        )
    return model


def _check_backend(backend: Any) -> str:
    if backend not in _BACKENDS:
        hint = suggest(str(backend), _BACKENDS)
        raise InputError(
            f"backend={backend!r}: choose 'numba' (compiled) or 'numpy' (plain Python, slow)"
            + (f"; {hint}" if hint else "")
        )
    return str(backend)


def _check_t_span(t_span: Any, is_map: bool) -> tuple[float, float]:
    try:
        t0, t1 = (float(v) for v in t_span)
    except (TypeError, ValueError):
        raise InputError(
            f"t_span={t_span!r}: expected two numbers (t0, t1), e.g. t_span=(0.0, 10.0)"
        ) from None
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise InputError(f"t_span={t_span!r}: both ends must be finite numbers")
    if t1 <= t0:
        raise InputError(
            f"t_span={t_span!r}: t1 must be greater than t0; backward integration is not "
            "supported yet (integrate dy/ds = -f(-s, y) over (-t0, -t1) instead)"
        )
    if is_map and not (t0.is_integer() and t1.is_integer()):
        raise InputError(
            f"t_span={t_span!r}: a map is iterated a whole number of times; give integers, "
            "e.g. t_span=(0, 100)"
        )
    return t0, t1


def _check_t_eval(t_eval: Any, t0: float, t1: float, is_map: bool) -> np.ndarray | None:
    if t_eval is None:
        return None
    try:
        arr = np.array(t_eval, dtype=np.float64, ndmin=1)
    except (TypeError, ValueError):
        raise InputError(f"t_eval={t_eval!r}: expected a 1-D array of times") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(
            f"t_eval has shape {arr.shape}: give a non-empty 1-D array of times, or None"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError("t_eval contains NaN or infinity; give finite times")
    if np.any(np.diff(arr) < 0):
        bad = int(np.flatnonzero(np.diff(arr) < 0)[0])
        raise InputError(
            f"t_eval is not sorted: t_eval[{bad}] = {float(arr[bad])!r} > t_eval[{bad + 1}] = "
            f"{float(arr[bad + 1])!r}; pass np.sort(t_eval)"
        )
    if arr[0] < t0 or arr[-1] > t1:
        raise InputError(
            f"t_eval runs from {float(arr[0])!r} to {float(arr[-1])!r}, outside t_span = "
            f"({t0!r}, {t1!r}); "
            "every output time must lie within t_span"
        )
    if is_map and not np.all(arr == np.round(arr)):
        raise InputError("t_eval for a map must hold whole iteration numbers (integers)")
    return np.ascontiguousarray(arr)


def _check_events(events: Any, model: Model) -> tuple[Event, ...]:
    if events is None:
        return ()
    if isinstance(events, Event):
        events = (events,)
    if isinstance(events, (str, bytes)) or not isinstance(events, Sequence):
        raise InputError(
            f"events={events!r}: expected a sequence of stabkit Event objects, "
            "e.g. events=[Event('x - 1', direction=1)]"
        )
    for k, ev in enumerate(events):
        if not isinstance(ev, Event):
            raise InputError(
                f"events[{k}]={ev!r}: expected a stabkit Event, e.g. Event('x - 1', direction=1)"
            )
    if events and model.kind is ModelKind.MAP:
        raise InputError(
            f"events=...: model {model.name!r} is a map, and maps have no continuous time "
            "to locate crossings in; compare the iterates in the result instead"
        )
    return tuple(events)


def _check_count(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name}={value!r}: expected an integer >= {minimum}")
    return int(value)


# --------------------------------------------------------------------------- methods
def _kernel_prefix(method: Method) -> str:
    if isinstance(method, Auto):
        return _AUTO_PREFIX[(method.nonstiff, method.stiff)]
    for cls in type(method).__mro__:
        if cls in _PREFIX:
            return _PREFIX[cls]
    raise InputError(
        f"method={method!r}: no integrator for {type(method).__name__}; use Dopri5(), Tsit5(), "
        "DOP853(), RK4(), Rodas5(), Rosenbrock23() or Auto()"
    )


def _settings(method: Method | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cfg, rtol, atol)`` in the layout of the template contract."""
    cfg = np.zeros(16)
    cfg[2:5] = (0.9, 0.2, 10.0)
    cfg[6] = 1e100
    cfg[7] = np.inf
    rtol = np.full(n, 1e-6)
    atol = np.full(n, 1e-9)
    if isinstance(method, RK4):
        cfg[6] = method.divergence_threshold
        cfg[8] = method.dt
    elif isinstance(method, AdaptiveMethod):
        rtol, atol = method.tolerance_vectors(n)
        cfg[0] = method.first_step or 0.0
        cfg[1] = method.max_step
        cfg[2:5] = (method.safety, method.min_factor, method.max_factor)
        cfg[5] = float(getattr(method, "beta", 0.04 if isinstance(method, Auto) else 0.0))
        cfg[6] = method.divergence_threshold
        cfg[7] = float(method.max_steps)
        if isinstance(method, Auto):
            cfg[9] = 1.0
            cfg[10] = float(method.stiffness_patience)
            cfg[11] = 1.0 if method.nonstiff == "tsit5" else 0.0
    return cfg, np.ascontiguousarray(rtol), np.ascontiguousarray(atol)


def _plan(
    model: Any,
    method: Any,
    t_span: Any,
    events: Any,
    backend: Any,
) -> _Plan:
    model = _check_model(model)
    backend = _check_backend(backend)
    is_map = model.kind is ModelKind.MAP
    if isinstance(method, type) and issubclass(method, Method):
        raise InputError(
            f"method={method.__name__}: pass an instance, e.g. method={method.__name__}()"
        )
    if method is not None and not isinstance(method, Method):
        raise InputError(
            f"method={method!r}: expected a method object such as Dopri5(rtol=1e-8) or None"
        )
    if is_map and method is not None:
        raise InputError(
            f"method={method!r}: model {model.name!r} is a map, which is iterated exactly; "
            "leave method=None"
        )
    t0, t1 = _check_t_span(t_span, is_map)
    evs = _check_events(events, model)
    if not is_map and method is None:
        method = Auto()
    prefix = "map" if is_map else _kernel_prefix(method)
    cfg, rtol, atol = _settings(method, model.num_variables)
    start = time.perf_counter()
    compiled = compile_model(model, backend=backend, events=evs)
    codegen_time = time.perf_counter() - start  # generation, or a cache lookup
    ev_dir = np.array([ev.direction for ev in evs], dtype=np.int64)
    ev_term = np.array([1 if ev.terminal else 0 for ev in evs], dtype=np.int64)
    return _Plan(
        model, compiled, method, prefix, t0, t1, cfg, rtol, atol, ev_dir, ev_term, codegen_time
    )


# --------------------------------------------------------------------------- kernels
def _member_args(
    plan: _Plan,
    y0: np.ndarray,
    p: np.ndarray,
    t_eval: np.ndarray,
    max_events: int,
    save_all: int,
    cfg: np.ndarray | None = None,
) -> tuple[Any, ...]:
    n = plan.n
    return (
        y0,
        p,
        plan.t0,
        plan.t1,
        t_eval,
        plan.rtol,
        plan.atol,
        plan.cfg if cfg is None else cfg,
        plan.tab,
        plan.ev_dir,
        plan.ev_term,
        np.full((t_eval.shape[0], n), np.nan),
        np.full(max_events, np.nan),
        np.full((max_events, n), np.nan),
        np.full(max_events, -1, dtype=np.int64),
        np.zeros(16, dtype=np.int64),
        save_all,
        np.empty(256 if save_all else 1),
        np.empty((256 if save_all else 1, n)),
    )


def _ensemble_args(
    plan: _Plan,
    y0s: np.ndarray,
    ps: np.ndarray,
    t_eval: np.ndarray,
    max_events: int,
    cfg: np.ndarray | None = None,
) -> tuple[Any, ...]:
    m, n = y0s.shape
    return (
        y0s,
        ps,
        plan.t0,
        plan.t1,
        t_eval,
        plan.rtol,
        plan.atol,
        plan.cfg if cfg is None else cfg,
        plan.tab,
        plan.ev_dir,
        plan.ev_term,
        np.full((m, t_eval.shape[0], n), np.nan),
        np.full((m, max_events), np.nan),
        np.full((m, max_events, n), np.nan),
        np.full((m, max_events), -1, dtype=np.int64),
        np.zeros((m, 16), dtype=np.int64),
        np.zeros(m),
    )


def _warm(plan: _Plan, name: str, args: tuple[Any, ...], offset: int = 0) -> float:
    """Compile ``name`` (once per process) on a copy of ``args`` cut to a few steps.

    ``offset``: arguments before the member/ensemble arguments (``lo, hi`` of a batch).
    """
    if plan.compiled.backend != "numba":
        return 0.0
    cfg = plan.cfg.copy()
    cfg[7] = 3.0  # max_steps: the warm-up only has to compile, not to integrate
    tiny = list(args)
    tiny[offset + 7] = cfg
    tiny[offset + 3] = plan.t0 + 1.0 if plan.prefix == "map" else plan.t1
    return plan.compiled.warm(name, *tiny)


def _num_threads() -> int:
    """Threads for ensembles: numba's setting (``numba.set_num_threads``)."""
    import numba

    return max(1, int(numba.get_num_threads()))


def _run_batches(
    kernel: Callable[..., Any],
    args: tuple[Any, ...],
    m: int,
    chunk: int,
    threads: int,
    advance: Callable[[int], None],
) -> None:
    """Call ``kernel(lo, hi, *args)`` on chunks of members, from ``threads`` threads.

    The batch kernels release the GIL, so the threads run in parallel; they write
    disjoint rows of the output arrays.
    """
    ranges = [(lo, min(lo + chunk, m)) for lo in range(0, m, chunk)]
    if threads <= 1 or len(ranges) == 1:
        for lo, hi in ranges:
            kernel(lo, hi, *args)
            advance(hi - lo)
        return
    with ThreadPoolExecutor(max_workers=min(threads, len(ranges))) as pool:
        futures = {pool.submit(kernel, lo, hi, *args): hi - lo for lo, hi in ranges}
        for future in as_completed(futures):
            future.result()
            advance(futures[future])


def _status_of(code: int) -> MemberStatus:
    try:
        status = MemberStatus(code)
    except ValueError:
        return MemberStatus.SOLVER_FAILURE
    return status


def _provenance(plan: _Plan, analysis: str, params: Mapping[str, float]) -> Provenance:
    method = "exact map iteration" if plan.prefix == "map" else repr(plan.method)
    return Provenance(
        model_hash=plan.model.content_hash, analysis=analysis, method=method, params=params
    )


# --------------------------------------------------------------------------- solve
def solve(
    model: Model,
    y0: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    t_span: tuple[float, float] = (0.0, 10.0),
    *,
    method: Method | None = None,
    t_eval: Sequence[float] | np.ndarray | None = None,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    events: Sequence[Event] | Event = (),
    backend: str = "numba",
    max_events: int = 100,
    throw: bool = False,
) -> Trajectory:
    r"""Integrate one trajectory of an ODE, or iterate a map.

    Parameters
    ----------
    model
        A :class:`~stabkit.model.model.Model` of kind ``"ode"`` or ``"map"``.
    y0
        Initial state, shape ``(num_variables,)`` or a mapping ``{variable: value}``
        overriding the model's default state; ``None``: the default state.
    t_span
        ``(t0, t1)`` with ``t1 > t0`` (forward only). For maps, whole iteration numbers.
    method
        A method object: :class:`Dopri5`, :class:`Tsit5`, :class:`DOP853`, :class:`RK4`,
        :class:`Rodas5`, :class:`Rosenbrock23` or :class:`Auto`; ``None``: ``Auto()``.
        Must be ``None`` for maps (iterated exactly).
    t_eval
        Sorted output times within ``t_span``, shape ``(k,)``, filled from each scheme's
        dense output; ``None``: every accepted step (every iterate of a map).
    params
        Parameter values: a mapping overriding the defaults, or all of them in model
        order; ``None``: the defaults.
    events
        :class:`Event` objects; crossings are located on the dense output, terminal
        ones end the trajectory (status ``ok``, ``member_status`` TERMINATED).
    backend
        ``"numba"`` (compiled, cached on disk) or ``"numpy"`` (the same kernels as plain
        Python: slow, the reference).
    max_events
        How many crossings to keep (all are counted in ``stats.extra``).
    throw
        Raise :class:`~stabkit.errors.ConvergenceError` (with the result attached) when
        the trajectory fails: diverged, non-finite, max steps, step too small.

    Returns
    -------
    Trajectory
        ``t`` ``(k,)``, ``y`` ``(k, num_variables)`` (rows past a failure are NaN),
        ``member_status``, ``t_final``, the events, ``stats`` (steps, rejections,
        evaluations; ``wall_time`` apart from ``compile_time``) and ``provenance``.
        ``status`` is ``"ok"`` when the run succeeded (also when a terminal event ended
        it) and the member status label (``"diverged"``, ...) otherwise.

    Raises
    ------
    InputError
        Bad model, state, span, output times, parameters, method, events or backend.
    ConvergenceError
        Only with ``throw=True``, when the trajectory failed.

    Notes
    -----
    Explicit schemes step with Hairer's PI controller on the RMS norm of
    ``err_i / (atol_i + rtol_i max(|y_i|, |y_new_i|))``; see the method objects and
    ``integrate/_templates/explicit.py``. References: Hairer, Norsett & Wanner, *Solving
    Ordinary Differential Equations I* (1993), II.4-II.10.

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit import Dopri5, Model, solve
    >>> decay = Model.from_equations({"x": "-k*x"}, parameters={"k": 0.5}, variables={"x": 1.0})
    >>> traj = solve(decay, t_span=(0.0, 2.0), method=Dopri5(rtol=1e-10, atol=1e-12),
    ...              t_eval=[0.0, 1.0, 2.0])
    >>> traj.status, bool(np.allclose(traj["x"], np.exp(-0.5 * traj.t), rtol=1e-8))
    ('ok', True)
    """
    plan = _plan(model, method, t_span, events, backend)
    m = plan.model
    te = _check_t_eval(t_eval, plan.t0, plan.t1, plan.prefix == "map")
    y = m.state_vector(y0)
    p = m.param_vector(params)
    emax = _check_count(max_events, "max_events", minimum=0)
    save_all = 1 if te is None else 0
    te_arr = np.zeros(0) if te is None else te
    name = f"{plan.prefix}_member"

    compile_time = plan.codegen_time + _warm(
        plan, name, _member_args(plan, y, p, te_arr, 0, save_all)
    )
    args = _member_args(plan, y, p, te_arr, emax, save_all)
    out_y, ev_t, ev_y, ev_i, counters = args[11:16]
    kernel = plan.compiled.kernel(name)
    start = time.perf_counter()
    t_final, y_final, buf_t, buf_y = kernel(*args)
    wall = time.perf_counter() - start

    status = _status_of(int(counters[6]))
    if te is None:
        saved = int(counters[8])
        t_out, y_out = np.array(buf_t[:saved]), np.array(buf_y[:saved])
    else:
        t_out, y_out = te.copy(), out_y
    stored = min(int(counters[5]), emax)
    found = int(counters[7])
    message = _status_message(status, float(t_final))
    if found > stored:
        message = (message + "; " if message else "") + (
            f"{found} event crossings found, the first {stored} kept (max_events={emax})"
        )
    result = Trajectory(
        status="ok" if status.is_success else status.label,
        message=message,
        stats=_stats(counters[None, :], wall, compile_time, plan, found),
        provenance=_provenance(plan, "solve", dict(zip(m.parameters, map(float, p), strict=True))),
        t=t_out,
        y=y_out,
        variables=m.variables,
        member_status=status,
        t_final=float(t_final),
        t_events=ev_t[:stored].copy(),
        y_events=ev_y[:stored].copy(),
        event_index=ev_i[:stored].copy(),
        final_state=np.array(y_final, dtype=np.float64),
    )
    if throw and not status.is_success:
        raise ConvergenceError(f"solve({m.name!r}): {message}", result=result)
    return result


def _stats(
    counters: np.ndarray, wall: float, compile_time: float, plan: _Plan, found: int
) -> Stats:
    total = counters.sum(axis=0)
    return Stats(
        num_steps=int(total[0]),
        num_rejected=int(total[1]),
        num_rhs_evaluations=int(total[2]),
        num_jacobian_evaluations=int(total[3]),
        num_lu_decompositions=int(total[4]),
        wall_time=wall,
        compile_time=compile_time,
        extra={
            "codegen_time": plan.codegen_time,
            "backend": plan.compiled.backend,
            "kernel": plan.prefix,
            "num_events_found": found,
            "num_stiff_switches": int(np.count_nonzero(counters[:, 9])),
        },
    )


# --------------------------------------------------------------------------- ensembles
def _member_states(model: Model, y0s: Any) -> np.ndarray:
    if y0s is None or isinstance(y0s, Mapping):
        return model.state_vector(y0s)[None, :]
    try:
        arr = np.array(y0s, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"y0s={y0s!r}: expected an array of initial states, shape (m, {model.num_variables})"
        ) from None
    if arr.ndim == 1:
        return model.state_vector(arr)[None, :]
    if arr.ndim != 2 or arr.shape[1] != model.num_variables or arr.shape[0] == 0:
        raise InputError(
            f"y0s has shape {arr.shape}, but model {model.name!r} has {model.num_variables} "
            f"variables ({', '.join(model.variables)}); pass an array of shape (m, "
            f"{model.num_variables}), one initial state per row"
        )
    bad = ~np.all(np.isfinite(arr), axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"y0s[{i}] = {arr[i].tolist()} is not finite; every state must be")
    return arr


def _member_params(model: Model, params: Any) -> np.ndarray:
    if params is None:
        return model.param_vector(None)[None, :]
    if isinstance(params, Mapping):
        columns = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in params.items()}
        sizes = {v.shape[0] for v in columns.values() if v.ndim == 1 and v.shape[0] != 1}
        if len(sizes) > 1 or any(v.ndim != 1 for v in columns.values()):
            raise InputError(
                f"params: values of different lengths {sorted(sizes)}; give each parameter "
                "one number or an array of one common length m"
            )
        m = sizes.pop() if sizes else 1
        base = model.param_vector({k: float(v[0]) for k, v in columns.items()})
        out = np.tile(base, (m, 1))
        for k, v in columns.items():
            out[:, model.parameters.index(k)] = v
        if not np.all(np.isfinite(out)):
            raise InputError("params contains NaN or infinity; every value must be finite")
        return out
    arr = np.array(params, dtype=np.float64)
    if arr.ndim == 1:
        return model.param_vector(arr)[None, :]
    if arr.ndim != 2 or arr.shape[1] != model.num_parameters or arr.shape[0] == 0:
        raise InputError(
            f"params has shape {arr.shape}, but model {model.name!r} has "
            f"{model.num_parameters} parameters ({', '.join(model.parameters)}); pass one "
            f"vector, a mapping, or an array of shape (m, {model.num_parameters})"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError("params contains NaN or infinity; every value must be finite")
    return arr


def _broadcast(y0s: np.ndarray, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    my, mp = y0s.shape[0], ps.shape[0]
    if my != mp and 1 not in (my, mp):
        raise InputError(
            f"y0s has {my} states but params has {mp} parameter sets; give the same number "
            "of each, or one of either to share among all members"
        )
    m = max(my, mp)
    return (
        np.ascontiguousarray(np.broadcast_to(y0s, (m, y0s.shape[1]))),
        np.ascontiguousarray(np.broadcast_to(ps, (m, ps.shape[1]))),
    )


@contextmanager
def _progress_bar(enabled: bool, total: int, label: str) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _done: None
        return
    from rich.progress import Progress  # lazy: rich only when asked for

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, advance=done)


def solve_ensemble(
    model: Model,
    y0s: np.ndarray | Sequence[Sequence[float]] | Mapping[str, float] | None = None,
    t_span: tuple[float, float] = (0.0, 10.0),
    *,
    method: Method | None = None,
    t_eval: Sequence[float] | np.ndarray | None = None,
    params: Mapping[str, Any] | Sequence[float] | np.ndarray | None = None,
    events: Sequence[Event] | Event = (),
    backend: str = "numba",
    max_events: int = 10,
    chunk_size: int | None = None,
    progress: bool = False,
) -> Ensemble:
    r"""Integrate many trajectories in parallel: initial states and/or parameter sets.

    Parameters
    ----------
    model
        A :class:`~stabkit.model.model.Model` of kind ``"ode"`` or ``"map"``.
    y0s
        Initial states, shape ``(m, num_variables)``; one state (a vector or mapping)
        or ``None`` (the default state) is shared by all members.
    t_span
        ``(t0, t1)``, ``t1 > t0``; whole numbers for maps.
    method
        As in :func:`solve`; ``None``: ``Auto()``.
    t_eval
        Common output times within ``t_span``, shape ``(k,)``; ``None``: ``[t0, t1]``.
    params
        ``None`` (defaults), a mapping whose values are numbers or arrays of one common
        length ``m`` (``{"rho": np.linspace(20, 30, 100)}``), one full vector, or an
        array of shape ``(m, num_parameters)``. States and parameter sets broadcast: the
        same number of each, or one of either.
    events
        :class:`Event` objects, as in :func:`solve`; per member, the first ``max_events``
        crossings are kept (``Ensemble.t_events``, NaN-padded).
    backend
        ``"numba"`` or ``"numpy"``.
    max_events
        Crossings kept per member.
    chunk_size
        Members per kernel call: the unit of work handed to a thread, and how often the
        progress bar moves. ``None``: about eight chunks per thread (at least 100 with
        a progress bar).
    progress
        Show a progress bar (needs ``rich``).

    Returns
    -------
    Ensemble
        ``y`` of shape ``(m, k, num_variables)``, per-member ``member_status``,
        ``t_final``, ``num_steps``, ``num_rejected``; ``status`` is ``"ok"`` when every
        member succeeded and ``"partial"`` otherwise. ``stats`` sums the counts of all
        members; ``compile_time`` is reported apart from ``wall_time``.

    Raises
    ------
    InputError
        Bad input: shapes, non-finite values, mismatched member counts, and all the
        cases of :func:`solve`.

    Notes
    -----
    Members are independent: one that diverges or fails stops alone and is marked in
    ``member_status``. With the numba backend, chunks of members run in parallel on
    ``numba.get_num_threads()`` threads (the explicit schemes through their batch
    kernels, which release the GIL; the Rosenbrock schemes and maps through their
    ``prange`` ensemble kernels); each member has its own scratch arrays, and results
    equal those of :func:`solve` member by member.

    Examples
    --------
    >>> import numpy as np
    >>> from stabkit import Dopri5, Model, solve_ensemble
    >>> grow = Model.from_equations({"x": "x^2"}, variables={"x": 1.0})
    >>> ens = solve_ensemble(grow, [[-1.0], [0.5], [2.0]], (0.0, 1.0), method=Dopri5())
    >>> ens.status, ens.status_counts()["ok"]
    ('partial', 2)
    >>> bool(np.isclose(ens.y[1, -1, 0], 0.5 / (1 - 0.5), rtol=1e-5))
    True
    """
    plan = _plan(model, method, t_span, events, backend)
    m_ = plan.model
    y0_arr, p_arr = _broadcast(_member_states(m_, y0s), _member_params(m_, params))
    te = _check_t_eval(t_eval, plan.t0, plan.t1, plan.prefix == "map")
    if te is None:
        te = np.array([plan.t0, plan.t1])
    emax = _check_count(max_events, "max_events", minimum=0) if plan.ev_dir.size else 0
    m = y0_arr.shape[0]
    batched = plan.prefix in _BATCHED
    threads = _num_threads() if batched and plan.compiled.backend == "numba" else 1
    if chunk_size is not None:
        chunk = _check_count(chunk_size, "chunk_size", minimum=1)
    elif batched:  # a few chunks per thread balance the load; 100 or more move the bar
        chunk = max(1, min(-(-m // (8 * threads)), -(-m // 100) if progress else m))
    else:
        chunk = max(1, -(-m // 100)) if progress else m
    name = f"{plan.prefix}_batch" if batched else f"{plan.prefix}_ensemble"
    tiny = _ensemble_args(plan, y0_arr[:1], p_arr[:1], te, 0)
    compile_time = plan.codegen_time + _warm(
        plan, name, (0, 1, *tiny) if batched else tiny, offset=2 if batched else 0
    )

    kernel = plan.compiled.kernel(name)
    args = _ensemble_args(plan, y0_arr, p_arr, te, emax)
    out_y, ev_t, ev_y, ev_i, counters, t_final = args[11:17]
    with _progress_bar(progress, m, f"{m_.name}: {m} members") as advance:
        start = time.perf_counter()
        if batched:
            _run_batches(kernel, args, m, chunk, threads, advance)
        else:
            for lo in range(0, m, chunk):
                hi = min(lo + chunk, m)
                kernel(*(a[lo:hi] if k in _PER_MEMBER else a for k, a in enumerate(args)))
                advance(hi - lo)
        wall = time.perf_counter() - start

    codes = counters[:, 6].copy()
    codes[(codes < 0) | (codes >= len(MemberStatus)) | (codes == _STIFF)] = (
        MemberStatus.SOLVER_FAILURE
    )
    status, message = summarize_statuses(codes)
    shared = {
        name_: float(p_arr[0, j])
        for j, name_ in enumerate(m_.parameters)
        if np.all(p_arr[:, j] == p_arr[0, j])
    }
    return Ensemble(
        status=status,
        message=message,
        stats=_stats(counters, wall, compile_time, plan, int(counters[:, 7].sum())),
        provenance=_provenance(plan, "solve_ensemble", shared),
        t=te.copy(),
        y=out_y,
        variables=m_.variables,
        member_status=codes.astype(np.int8),
        t_final=t_final,
        y0=y0_arr,
        params=p_arr,
        parameters=m_.parameters,
        num_steps=counters[:, 0].copy(),
        num_rejected=counters[:, 1].copy(),
        t_events=ev_t,
        y_events=ev_y,
        event_index=ev_i,
    )
