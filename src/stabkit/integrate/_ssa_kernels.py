"""Template: stochastic simulation kernels (direct and next-reaction methods; shared parts).

The text after the marker line is appended to each generated SSA module (see
:mod:`stabkit.integrate._ssa_codegen`), after the network's ``propensity_all(x, p, a)``
and ``propensity_one(j, x, p)``, so that numba inlines the propensities into the
simulation loops. Everything here takes only arrays and scalars; randomness comes from
a per-trajectory xoshiro256** state (four uint64 words) passed in explicitly.

Shared arguments of the ``*_batch(lo, hi, ...)`` kernels:

* ``x0`` float64 (S,) initial counts; ``p`` float64 (P + 1,) parameters, then Omega;
* ``ch_idx``, ``ch_val``, ``ch_ptr``: the net change of reaction j is
  ``x[ch_idx[q]] += ch_val[q]`` for ``q`` in ``ch_ptr[j]:ch_ptr[j + 1]``;
* ``dep_idx``, ``dep_ptr``: reactions whose propensity changes when j fires (j included);
* ``t0``, ``t_grid`` (T,) output times ``>= t0``, sorted; ``max_reactions``;
* ``seeds`` uint64 (R, 4); outputs ``out`` (R, T, S) NaN-filled, ``fired`` (R, J) int64,
  ``status`` (R,) int64, ``t_stop`` (R,) float64, ``counters`` (R, 4) int64:
  reactions fired, exact steps, leaps, rejected leaps.

Status codes: 0 ok, 1 max_reactions, 2 bad propensity (negative, NaN or infinite),
3 negative count (an explicit propensity fired a reaction without its reactants).
"""

import math
from typing import Any

import numpy as np


# stand-ins for linters: the generated module defines these above the body
def _jit(fn: Any) -> Any:
    return fn


def propensity_all(x: Any, p: Any, a: Any) -> None:
    a[:] = math.nan


def propensity_one(j: Any, x: Any, p: Any) -> float:
    return math.nan


# ---- template body ----

_U5 = np.uint64(5)
_U7 = np.uint64(7)
_U9 = np.uint64(9)
_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U64 = np.uint64(64)
_TWO_M53 = 1.0 / 9007199254740992.0
_ST_OK = 0
_ST_MAX = 1
_ST_PROPENSITY = 2
_ST_NEGATIVE = 3


@_jit
def _ssa_rotl(v, k):
    return (v << k) | (v >> (_U64 - k))


@_jit
def _ssa_next(s):
    # xoshiro256** (Blackman and Vigna 2018): 64 random bits, state s (4,) uint64 updated
    result = _ssa_rotl(s[1] * _U5, _U7) * _U9
    t = s[1] << _U17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _ssa_rotl(s[3], _U45)
    return result


_JUMP = np.array(
    [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C],
    dtype=np.uint64,
)
_U1 = np.uint64(1)


@_jit
def ssa_seed_states(base, out):
    # out[r] = base advanced by r * 2^128 steps (the xoshiro256 jump polynomial): runs
    # draw from non-overlapping stretches of one sequence
    s = base.copy()
    acc = np.empty(4, dtype=np.uint64)
    for r in range(out.shape[0]):
        out[r] = s
        acc[:] = 0
        for word in range(4):
            for b in range(64):
                if _JUMP[word] & (_U1 << np.uint64(b)):
                    acc[0] ^= s[0]
                    acc[1] ^= s[1]
                    acc[2] ^= s[2]
                    acc[3] ^= s[3]
                _ssa_next(s)
        s[:] = acc


@_jit
def _ssa_uniform(s):
    # in [0, 1), 53 random bits
    return float(_ssa_next(s) >> _U11) * _TWO_M53


@_jit
def _ssa_exponential(s):
    # standard exponential, always finite
    return -math.log(1.0 - _ssa_uniform(s))


@_jit
def _ssa_poisson(lam, s):
    # Poisson(lam): multiplication method below 10, else PTRS (Hormann 1993)
    if lam <= 0.0:
        return 0.0
    if lam < 10.0:
        limit = math.exp(-lam)
        k = 0.0
        prod = _ssa_uniform(s)
        while prod > limit:
            k += 1.0
            prod *= _ssa_uniform(s)
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = _ssa_uniform(s) - 0.5
        v = _ssa_uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= (
            -lam + k * loglam - math.lgamma(k + 1.0)
        ):
            return k


@_jit
def _ssa_bad(v):
    return not (v >= 0.0) or v == math.inf


@_jit
def _ssa_all(x, p, a):
    # all propensities; index of the first bad one or -1
    propensity_all(x, p, a)
    for j in range(a.shape[0]):
        if _ssa_bad(a[j]):
            return j
    return -1


@_jit
def _ssa_record(out_r, k, t_grid, until, x, inclusive):
    # rows k.. with t_grid < until (or <= until) get the state x; returns the next row
    n_t = t_grid.shape[0]
    while k < n_t and (t_grid[k] < until or (inclusive and t_grid[k] == until)):
        for i in range(x.shape[0]):
            out_r[k, i] = x[i]
        k += 1
    return k


@_jit
def _ssa_fire(j, x, ch_idx, ch_val, ch_ptr, times):
    # apply reaction j `times` times; True when a count went negative
    negative = False
    for q in range(ch_ptr[j], ch_ptr[j + 1]):
        i = ch_idx[q]
        x[i] += times * ch_val[q]
        if x[i] < 0.0:
            negative = True
    return negative


@_jit
def _ssa_direct_steps(
    x, a, p, t, k, limit, count, max_reactions, t_grid, out_r, fired_r,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr, s,
):  # fmt: skip
    # Gillespie's direct method for at most `limit` reactions.
    # Returns (t, k, count, status, done): done when the grid is full or the run stopped.
    n_r = a.shape[0]
    n_t = t_grid.shape[0]
    stop = min(count + limit, max_reactions)
    next_grid = t_grid[k] if k < n_t else math.inf
    while True:
        if count >= stop and count < max_reactions:  # the caller continues from (t, x)
            return t, k, count, _ST_OK, False
        a0 = 0.0
        for j in range(n_r):
            a0 += a[j]
        t_next = t + _ssa_exponential(s) / a0 if a0 > 0.0 else math.inf
        if t_next > next_grid:  # output times passed before the next reaction
            k = _ssa_record(out_r, k, t_grid, t_next, x, False)
            if k >= n_t:
                return t, k, count, _ST_OK, True
            next_grid = t_grid[k]
        if count >= max_reactions:
            return t, k, count, _ST_MAX, True
        target = _ssa_uniform(s) * a0
        j = 0
        acc = a[0]
        while acc <= target and j < n_r - 1:
            j += 1
            acc += a[j]
        while a[j] == 0.0 and j > 0:  # rounding at the top end
            j -= 1
        if _ssa_fire(j, x, ch_idx, ch_val, ch_ptr, 1.0):
            _ssa_fire(j, x, ch_idx, ch_val, ch_ptr, -1.0)
            return t_next, k, count, _ST_NEGATIVE, True
        fired_r[j] += 1
        count += 1
        t = t_next
        for q in range(dep_ptr[j], dep_ptr[j + 1]):
            d = dep_idx[q]
            v = propensity_one(d, x, p)
            a[d] = v
            if _ssa_bad(v):
                return t, k, count, _ST_PROPENSITY, True


@_jit
def ssa_direct_member(
    x0, p, t0, t_grid, max_reactions, s, out_r, fired_r, cnt_r,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
):  # fmt: skip
    # one trajectory by the direct method; returns (status, t_stop)
    x = x0.copy()
    a = np.empty(ch_ptr.shape[0] - 1)
    if _ssa_all(x, p, a) >= 0:
        return _ST_PROPENSITY, t0
    t, _, count, status, _ = _ssa_direct_steps(
        x, a, p, t0, 0, max_reactions + 1, 0, max_reactions, t_grid, out_r, fired_r,
        ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr, s,
    )  # fmt: skip
    cnt_r[0] += count
    cnt_r[1] += count
    return status, t


# ---- next-reaction method (Gibson and Bruck 2000): indexed binary heap of firing times
@_jit
def _ssa_heap_swap(heap, pos, i, j):
    a = heap[i]
    b = heap[j]
    heap[i] = b
    heap[j] = a
    pos[b] = i
    pos[a] = j


@_jit
def _ssa_heap_update(heap, pos, tau, r):
    # restore the heap order after tau[r] changed
    i = pos[r]
    while i > 0:
        parent = (i - 1) // 2
        if tau[heap[i]] < tau[heap[parent]]:
            _ssa_heap_swap(heap, pos, i, parent)
            i = parent
        else:
            break
    _ssa_heap_down(heap, pos, tau, i)


@_jit
def _ssa_heap_down(heap, pos, tau, i):
    n = heap.shape[0]
    while True:
        left = 2 * i + 1
        smallest = i
        if left < n and tau[heap[left]] < tau[heap[smallest]]:
            smallest = left
        if left + 1 < n and tau[heap[left + 1]] < tau[heap[smallest]]:
            smallest = left + 1
        if smallest == i:
            break
        _ssa_heap_swap(heap, pos, i, smallest)
        i = smallest


@_jit
def ssa_next_member(
    x0, p, t0, t_grid, max_reactions, s, out_r, fired_r, cnt_r,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
):  # fmt: skip
    n_r = ch_ptr.shape[0] - 1
    n_t = t_grid.shape[0]
    x = x0.copy()
    a = np.empty(n_r)
    if _ssa_all(x, p, a) >= 0:
        return _ST_PROPENSITY, t0
    tau = np.empty(n_r)
    heap = np.arange(n_r)
    pos = np.arange(n_r)
    for j in range(n_r):
        tau[j] = t0 + _ssa_exponential(s) / a[j] if a[j] > 0.0 else math.inf
    for i in range(n_r // 2 - 1, -1, -1):  # heapify
        _ssa_heap_down(heap, pos, tau, i)
    t = t0
    k = 0
    count = 0
    next_grid = t_grid[0]
    while True:
        j = heap[0]
        t_next = tau[j]
        if t_next > next_grid:  # output times passed before the next reaction
            k = _ssa_record(out_r, k, t_grid, t_next, x, False)
            if k >= n_t:
                status = _ST_OK
                break
            next_grid = t_grid[k]
        if count >= max_reactions:
            status = _ST_MAX
            break
        if _ssa_fire(j, x, ch_idx, ch_val, ch_ptr, 1.0):
            _ssa_fire(j, x, ch_idx, ch_val, ch_ptr, -1.0)
            status = _ST_NEGATIVE
            t = t_next
            break
        fired_r[j] += 1
        count += 1
        t = t_next
        status = _ST_OK
        for q in range(dep_ptr[j], dep_ptr[j + 1]):
            d = dep_idx[q]
            old = a[d]
            new = propensity_one(d, x, p)
            a[d] = new
            if _ssa_bad(new):
                status = _ST_PROPENSITY
                break
            if new <= 0.0:
                tau[d] = math.inf
            elif d != j and old > 0.0 and tau[d] < math.inf:
                tau[d] = t + (old / new) * (tau[d] - t)
            else:
                tau[d] = t + _ssa_exponential(s) / new
            _ssa_heap_update(heap, pos, tau, d)
        if status != _ST_OK:
            break
    cnt_r[0] += count
    cnt_r[1] += count
    return status, t


# ---- batches: members lo..hi-1 on private copies of the shared inputs (no contention)
@_jit
def ssa_direct_batch(
    lo, hi, x0, p, t0, t_grid, max_reactions, seeds, out, fired, status, t_stop, counters,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
):  # fmt: skip
    x0 = x0.copy()
    p = p.copy()
    t_grid = t_grid.copy()
    ch_idx = ch_idx.copy()
    ch_val = ch_val.copy()
    ch_ptr = ch_ptr.copy()
    dep_idx = dep_idx.copy()
    dep_ptr = dep_ptr.copy()
    out_r = np.empty((t_grid.shape[0], x0.shape[0]))
    fired_r = np.empty(ch_ptr.shape[0] - 1, dtype=np.int64)
    cnt_r = np.empty(4, dtype=np.int64)
    for r in range(lo, hi):
        s = seeds[r].copy()
        out_r[:, :] = np.nan
        fired_r[:] = 0
        cnt_r[:] = 0
        st, ts = ssa_direct_member(
            x0, p, t0, t_grid, max_reactions, s, out_r, fired_r, cnt_r,
            ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
        )  # fmt: skip
        out[r] = out_r
        fired[r] = fired_r
        counters[r] = cnt_r
        status[r] = st
        t_stop[r] = ts


@_jit
def ssa_next_batch(
    lo, hi, x0, p, t0, t_grid, max_reactions, seeds, out, fired, status, t_stop, counters,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
):  # fmt: skip
    x0 = x0.copy()
    p = p.copy()
    t_grid = t_grid.copy()
    ch_idx = ch_idx.copy()
    ch_val = ch_val.copy()
    ch_ptr = ch_ptr.copy()
    dep_idx = dep_idx.copy()
    dep_ptr = dep_ptr.copy()
    out_r = np.empty((t_grid.shape[0], x0.shape[0]))
    fired_r = np.empty(ch_ptr.shape[0] - 1, dtype=np.int64)
    cnt_r = np.empty(4, dtype=np.int64)
    for r in range(lo, hi):
        s = seeds[r].copy()
        out_r[:, :] = np.nan
        fired_r[:] = 0
        cnt_r[:] = 0
        st, ts = ssa_next_member(
            x0, p, t0, t_grid, max_reactions, s, out_r, fired_r, cnt_r,
            ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
        )  # fmt: skip
        out[r] = out_r
        fired[r] = fired_r
        counters[r] = cnt_r
        status[r] = st
        t_stop[r] = ts
