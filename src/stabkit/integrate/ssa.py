"""Stochastic simulation of reaction networks: exact and tau-leaping, in parallel.

:func:`ssa` simulates a :class:`~stabkit.model.reactions.ReactionNetwork` many times on a
common time grid with one of three methods:

* :class:`Direct`: Gillespie's direct method (exact);
* :class:`NextReaction`: Gibson and Bruck's next-reaction method (exact), an indexed
  priority queue of firing times and a dependency graph, so each step recomputes only
  the propensities that changed;
* :class:`TauLeaping`: Poisson leaps with the step selection of Cao, Gillespie and
  Petzold (2006) (relative change of each propensity bounded by ``epsilon``), critical
  reactions fired one at a time, exact steps when a leap would hold few reactions, and
  rejection of any leap that would make a count negative.

The propensities are compiled by numba from the network's sympy expressions (a
generated module, cached on disk). Runs are split into chunks simulated on
``numba.get_num_threads()`` threads (the kernels release the GIL). Each run draws from
its own stream of the xoshiro256** generator (Blackman and Vigna 2018): run 0 starts
from a state made by ``numpy.random.SeedSequence(seed)``, run ``r`` from that state
advanced ``r`` times by the generator's jump polynomial (2^128 steps each), so the
streams never overlap, and a result depends on the seed and never on the number of
threads or on how the runs are split.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from stabkit.errors import InputError
from stabkit.integrate._ssa_codegen import CompiledNetwork, compile_network, network_arrays
from stabkit.integrate._ssa_result import (
    Estimate,
    SSAResult,
    SSAStatus,
    StationaryDistribution,
    summarize_runs,
)
from stabkit.model.reactions import ReactionNetwork
from stabkit.results import Provenance, Stats

__all__ = [
    "Direct",
    "Estimate",
    "NextReaction",
    "SSAMethod",
    "SSAResult",
    "SSAStatus",
    "StationaryDistribution",
    "TauLeaping",
    "ssa",
]

#: Output times when ``t_eval`` is not given.
DEFAULT_NUM_TIMES = 101
#: Reactions a run may fire by default before it stops with status ``max_reactions``.
DEFAULT_MAX_REACTIONS = 100_000_000


@dataclasses.dataclass(frozen=True)
class Direct:
    """Gillespie's direct method: exact; O(reactions) work per step.

    Reference: D. T. Gillespie, J. Phys. Chem. 81, 2340 (1977).
    """

    kernel = "ssa_direct_batch"


@dataclasses.dataclass(frozen=True)
class NextReaction:
    """Gibson and Bruck's next-reaction method: exact; O(log reactions) per step.

    Reference: M. A. Gibson and J. Bruck, J. Phys. Chem. A 104, 1876 (2000).
    """

    kernel = "ssa_next_batch"


@dataclasses.dataclass(frozen=True)
class TauLeaping:
    """Tau-leaping with the step selection of Cao, Gillespie and Petzold (2006).

    Parameters
    ----------
    epsilon
        Bound on the relative change of each propensity in one leap (0 < epsilon < 1);
        smaller is more accurate and slower.
    num_critical
        A reaction that can fire fewer than this many times before a reactant runs out is
        critical: it fires at most once per leap, as in an exact step.
    fallback
        When the selected leap is shorter than ``fallback / a0`` (``a0`` the total
        propensity), leaping gains nothing: take ``num_exact_steps`` exact steps instead.
    num_exact_steps
        Exact steps per fallback.

    Reference: Y. Cao, D. T. Gillespie and L. R. Petzold, J. Chem. Phys. 124, 044109 (2006).
    """

    epsilon: float = 0.03
    num_critical: int = 10
    fallback: float = 10.0
    num_exact_steps: int = 100

    kernel = "ssa_tau_batch"

    def __post_init__(self) -> None:
        if not _is_real(self.epsilon) or not 0.0 < float(self.epsilon) < 1.0:
            raise InputError(f"TauLeaping(epsilon={self.epsilon!r}): must lie in (0, 1)")
        if not _is_real(self.fallback) or not float(self.fallback) >= 0.0:
            raise InputError(f"TauLeaping(fallback={self.fallback!r}): must be a number >= 0")
        for name in ("num_critical", "num_exact_steps"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise InputError(f"TauLeaping({name}={value!r}): must be a whole number >= 1")


SSAMethod = Direct | NextReaction | TauLeaping


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_t_span(t_span: object) -> tuple[float, float]:
    try:
        t0, t1 = (float(v) for v in t_span)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputError(f"t_span={t_span!r}: expected (t0, t1), such as (0.0, 10.0)") from None
    if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
        raise InputError(f"t_span={t_span!r}: need finite t0 < t1")
    return t0, t1


def _check_t_eval(t_eval: object, t0: float, t1: float) -> np.ndarray:
    if t_eval is None:
        return np.linspace(t0, t1, DEFAULT_NUM_TIMES)
    try:
        grid = np.array(t_eval, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"t_eval={t_eval!r}: expected a sequence of times") from None
    if grid.ndim != 1 or grid.size == 0:
        raise InputError(f"t_eval has shape {grid.shape}; pass a non-empty 1-D sequence")
    if not np.all(np.isfinite(grid)):
        raise InputError("t_eval holds NaN or infinite values")
    if np.any(np.diff(grid) < 0):
        raise InputError("t_eval must be sorted in increasing order")
    if grid[0] < t0 or grid[-1] > t1:
        raise InputError(
            f"t_eval spans [{grid[0]:g}, {grid[-1]:g}], outside t_span = ({t0:g}, {t1:g})"
        )
    return grid


def _check_count(value: object, name: str, minimum: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or int(value) < minimum:
        raise InputError(f"{name}={value!r}: must be a whole number >= {minimum}")
    return int(value)


def _base_state(seed: object) -> tuple[np.ndarray, int]:
    """The generator state of run 0 from ``SeedSequence(seed)``; and the entropy used."""
    if isinstance(seed, np.random.SeedSequence):
        sequence = seed
    elif seed is None:
        sequence = np.random.SeedSequence()
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        sequence = np.random.SeedSequence(int(seed))
    else:
        raise InputError(f"seed={seed!r}: pass a whole number >= 0, a SeedSequence or None")
    state = sequence.generate_state(4, np.uint64)
    if not state.any():  # pragma: no cover - probability 2^-256
        state[0] = 1
    entropy = sequence.entropy if isinstance(sequence.entropy, int) else 0
    return state, int(entropy)


def _method_args(method: SSAMethod, arrays: Any) -> tuple[Any, ...]:
    base = (arrays.ch_idx, arrays.ch_val, arrays.ch_ptr, arrays.dep_idx, arrays.dep_ptr)
    if isinstance(method, TauLeaping):
        return (
            *base,
            arrays.re_idx,
            arrays.re_ptr,
            arrays.hor,
            arrays.hor_coef,
            float(method.epsilon),
            float(method.num_critical),
            float(method.fallback),
            int(method.num_exact_steps),
        )
    return base


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """A thread pool of ``threads`` workers, kept for later calls (starting one costs)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stabkit-ssa")
            _POOLS[threads] = pool
        return pool


def _warm(compiled: CompiledNetwork, method: SSAMethod, x0: np.ndarray, p: np.ndarray) -> float:
    """Compile the method's kernel on a one-row problem; seconds spent (0 when done)."""
    name = method.kernel
    if name in compiled._warmed:
        return 0.0
    arrays = network_arrays(compiled.network)
    n_s, n_r = compiled.network.num_species, compiled.network.num_reactions
    t0 = time.perf_counter()
    getattr(compiled.module, name)(
        0, 1, x0, p, 0.0, np.zeros(1), 1, np.ones((1, 4), np.uint64),
        np.full((1, 1, n_s), np.nan), np.zeros((1, n_r), np.int64), np.zeros(1, np.int64),
        np.zeros(1), np.zeros((1, 4), np.int64), *_method_args(method, arrays),
    )  # fmt: skip
    compiled.module.ssa_seed_states(np.ones(4, np.uint64), np.empty((1, 4), np.uint64))
    compiled._warmed.add(name)
    return time.perf_counter() - t0


def ssa(
    network: ReactionNetwork,
    t_span: tuple[float, float] | Sequence[float],
    *,
    num_runs: int = 1,
    t_eval: Sequence[float] | np.ndarray | None = None,
    method: SSAMethod | None = None,
    seed: int | np.random.SeedSequence | None = None,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    y0: Mapping[str, int] | Sequence[int] | np.ndarray | None = None,
    max_reactions: int = DEFAULT_MAX_REACTIONS,
    num_threads: int | None = None,
    chunk_size: int | None = None,
) -> SSAResult:
    r"""Simulate a reaction network stochastically, many runs on a common time grid.

    Parameters
    ----------
    network
        The :class:`~stabkit.model.reactions.ReactionNetwork`.
    t_span
        ``(t0, t1)``, ``t0 < t1``.
    num_runs
        Independent trajectories.
    t_eval
        Output times within ``t_span``, sorted, shape ``(T,)``; ``None``: 101 equally
        spaced times from ``t0`` to ``t1``. The counts at a time include every reaction
        fired at or before it.
    method
        :class:`Direct` (default), :class:`NextReaction` or :class:`TauLeaping`.
    seed
        A whole number, a :class:`numpy.random.SeedSequence`, or ``None`` (fresh
        entropy, recorded in ``provenance.seed`` so the run can be repeated). Run ``r``
        uses the stream ``r`` jumps (of 2^128 draws) after the one ``SeedSequence(seed)``
        starts, so the first runs of a larger ensemble are the same.
    params
        Parameter values overriding the network's defaults (a mapping or a full vector).
    y0
        Initial counts (a mapping or a full vector); ``None``: the network's.
    max_reactions
        A run that fires this many reactions stops with status ``max_reactions``.
    num_threads
        Threads running chunks of runs; ``None``: ``numba.get_num_threads()``.
    chunk_size
        Runs per kernel call; ``None``: about eight chunks per thread.

    Returns
    -------
    SSAResult
        ``counts`` shaped ``(runs, T, species)``, a status per run (``ok``,
        ``max_reactions``, ``bad_propensity``, ``negative_count``) with the time it
        stopped and the output before it kept, reactions fired per run and reaction;
        ``status`` is ``"ok"`` when every run finished and ``"partial"`` otherwise.
        ``stats.compile_time`` (code generation and numba) is apart from
        ``stats.wall_time``; ``stats.extra`` holds ``reactions_per_second``,
        ``num_threads``, ``exact_steps``, ``leaps`` and ``rejected_leaps``.

    Raises
    ------
    InputError
        Not a network, a bad ``t_span`` / ``t_eval`` / counts / seed, unknown parameter
        or species names, negative rate constants or counts.

    Notes
    -----
    The direct method draws the waiting time ``tau ~ Exp(a0)``, ``a0 = sum_j a_j(x)``,
    and fires reaction ``j`` with probability ``a_j / a0``; the next-reaction method
    keeps a putative firing time per reaction and rescales it
    ``t + (a_old / a_new)(tau_j - t)`` when its propensity changes. Tau-leaping fires
    ``Poisson(a_j tau)`` of each non-critical reaction with
    ``tau = min_i min(b_i / |mu_i|, b_i^2 / sigma_i^2)``, ``b_i = max(eps x_i / g_i, 1)``,
    where ``mu_i`` and ``sigma_i^2`` are the mean and variance of the change of species
    ``i`` per unit time from the non-critical reactions (Cao, Gillespie and Petzold 2006,
    eq. 33). Leaps also end on output times, so the output is that of the leaping process.

    References
    ----------
    D. T. Gillespie, J. Phys. Chem. 81, 2340 (1977); M. A. Gibson and J. Bruck,
    J. Phys. Chem. A 104, 1876 (2000); Y. Cao, D. T. Gillespie and L. R. Petzold,
    J. Chem. Phys. 124, 044109 (2006); D. Blackman and S. Vigna, Scrambled linear
    pseudorandom number generators (2018).

    Examples
    --------
    >>> from stabkit.model.reactions import ReactionNetwork
    >>> net = ReactionNetwork.from_strings(
    ...     "birth_death", species={"X": 0},
    ...     reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
    ...     parameters={"k1": 10.0, "k2": 1.0})
    >>> result = ssa(net, (0.0, 20.0), num_runs=200, seed=1)
    >>> result.counts.shape
    (200, 101, 1)
    >>> bool(abs(result.mean("X").value[-1] - 10.0) < 4 * result.mean("X").standard_error[-1])
    True
    """
    if not isinstance(network, ReactionNetwork):
        hint = ""
        if type(network).__name__ == "Model":
            hint = "; simulate a reaction network (load_network, ReactionNetwork.from_strings)"
        raise InputError(f"network={network!r}: expected a ReactionNetwork{hint}")
    t0, t1 = _check_t_span(t_span)
    grid = _check_t_eval(t_eval, t0, t1)
    runs = _check_count(num_runs, "num_runs")
    limit = _check_count(max_reactions, "max_reactions")
    if method is None:
        method = Direct()
    if not isinstance(method, (Direct, NextReaction, TauLeaping)):
        raise InputError(
            f"method={method!r}: choose Direct(), NextReaction() or TauLeaping(epsilon=...)"
        )
    if num_threads is None:
        import numba

        threads = max(1, int(numba.get_num_threads()))
    else:
        threads = _check_count(num_threads, "num_threads")
    param_vector = network.param_vector(params)
    counts0 = network.count_vector(y0)
    base, entropy = _base_state(seed)

    x0 = counts0.astype(np.float64)
    p = np.concatenate([param_vector, [float(network.volume)]])
    compiled = compile_network(network)
    compile_time = compiled.codegen_time + _warm(compiled, method, x0, p)
    seeds = np.empty((runs, 4), dtype=np.uint64)
    compiled.module.ssa_seed_states(base, seeds)
    arrays = network_arrays(network)
    extra = _method_args(method, arrays)

    n_s, n_r = network.num_species, network.num_reactions
    out = np.full((runs, grid.size, n_s), np.nan)
    fired = np.zeros((runs, n_r), dtype=np.int64)
    codes = np.zeros(runs, dtype=np.int64)
    t_stop = np.zeros(runs)
    counters = np.zeros((runs, 4), dtype=np.int64)
    kernel = getattr(compiled.module, method.kernel)
    chunk = _check_count(chunk_size, "chunk_size") if chunk_size else -(-runs // (8 * threads))
    ranges = [(lo, min(lo + chunk, runs)) for lo in range(0, runs, chunk)]
    shared = (x0, p, t0, grid, limit, seeds, out, fired, codes, t_stop, counters, *extra)
    start = time.perf_counter()
    if threads == 1 or len(ranges) == 1:
        for lo, hi in ranges:
            kernel(lo, hi, *shared)
    else:
        pool = _pool(threads)
        for future in [pool.submit(kernel, lo, hi, *shared) for lo, hi in ranges]:
            future.result()
    wall = time.perf_counter() - start
    t_stop[codes == SSAStatus.OK] = grid[-1]

    status, message = summarize_runs(codes, t_stop)
    total = int(fired.sum())
    stats = Stats(
        num_steps=int(counters[:, 1].sum() + counters[:, 2].sum()),
        num_rejected=int(counters[:, 3].sum()),
        wall_time=wall,
        compile_time=compile_time,
        extra={
            "reactions_fired": total,
            "reactions_per_second": total / wall if wall > 0 else float("nan"),
            "num_threads": threads,
            "exact_steps": int(counters[:, 1].sum()),
            "leaps": int(counters[:, 2].sum()),
            "rejected_leaps": int(counters[:, 3].sum()),
            "kernel_module": str(compiled.source_path),
        },
    )
    provenance = Provenance(
        model_hash=network.content_hash,
        analysis="ssa",
        method=repr(method),
        params=dict(zip(network.parameters, map(float, param_vector), strict=True)),
        seed=entropy,
    )
    return SSAResult(
        status=status,
        message=message,
        stats=stats,
        provenance=provenance,
        t=grid,
        counts=out,
        species=network.species,
        reactions=network.reaction_names,
        run_status=codes.astype(np.int8),
        t_stop=t_stop,
        reactions_fired=fired,
        volume=float(network.volume),
    )
