"""The on-line recurrence state machine of :class:`~stabkit.analysis.basins.RecurrenceMapper`.

Datseris & Wagemakers (2022) find attractors by watching where sampled orbits go on a grid
of cells in state space: an orbit that keeps landing in cells it has already visited has
settled on an attractor; the cells it then visits are labelled; a later orbit that enters
labelled cells is given that label at once. This module holds the compiled kernel that
advances the machine of every member of a batch over one round of samples. The samples
themselves come from :func:`stabkit.solve_ensemble` (parallel, adaptive), one round at a
time, so members that are decided stop being integrated.

Per-member state (``mstate`` columns): 0 consecutive recurrences, 1 consecutive samples
outside the box, 2 label being located (0: none), 3 samples spent locating, 4 consecutive
hits on one attractor, 5 the attractor hit, 6 number of cells in the member's visited set.

The visited set of each member is an open-addressing hash set of linear cell indices
(row of ``visited``; 0 marks an empty slot, keys are stored plus one). When it fills past
70 % it is cleared and the recurrence count restarts: an orbit needing more cells than
``max_cells_per_orbit`` to close on itself is never declared recurrent.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.core import types
from numba.typed import Dict

__all__ = [
    "UNDECIDED",
    "cell_table_items",
    "new_cell_table",
    "recurrence_round",
    "resolve_labels",
]

#: ``labels`` value of a member still undecided (decided labels: >= 1 attractor, -1 diverged,
#: 0 unresolved).
UNDECIDED = -9

# cfg slots (int64)
_NEED_RECUR, _LOCATE, _NEED_HITS, _NEED_LOST, _MAX_ATT, _MAX_REPS = 0, 1, 2, 3, 4, 5


def new_cell_table() -> Dict:
    """An empty typed dict: linear cell index -> attractor label."""
    return Dict.empty(key_type=types.int64, value_type=types.int64)


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, k: int) -> int:  # pragma: no cover - compiled
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


@njit(cache=True, nogil=True)
def _union(parent: np.ndarray, a: int, b: int) -> None:  # pragma: no cover - compiled
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra != rb:
        if ra < rb:
            parent[rb] = ra
        else:
            parent[ra] = rb


@njit(cache=True, nogil=True)
def _insert(row: np.ndarray, key: int) -> int:  # pragma: no cover - compiled
    """Insert ``key`` (>= 0) into the hash set ``row``; 1 if it was there, 0 if new."""
    cap = row.shape[0]
    k = key + 1
    h = (k * 2654435761) & (cap - 1)
    while True:
        v = row[h]
        if v == 0:
            row[h] = k
            return 0
        if v == k:
            return 1
        h = (h + 1) & (cap - 1)


@njit(cache=True, nogil=True)
def _cell(x: np.ndarray, lo: np.ndarray, inv_h: np.ndarray, dims: np.ndarray) -> int:
    """Linear index of the cell holding ``x``; -1 outside the box (and past 2**31 - 2)."""
    idx = 0
    for j in range(x.shape[0]):
        c = int(np.floor((x[j] - lo[j]) * inv_h[j]))
        if c < 0 or c >= dims[j]:
            return -1
        idx = idx * dims[j] + c
    if idx >= 2147483646:
        return -1
    return idx


@njit(cache=True, nogil=True)
def recurrence_round(
    samples: np.ndarray,
    times: np.ndarray,
    codes: np.ndarray,
    active: np.ndarray,
    lo: np.ndarray,
    inv_h: np.ndarray,
    dims: np.ndarray,
    table: Dict,
    visited: np.ndarray,
    mstate: np.ndarray,
    labels: np.ndarray,
    reps: np.ndarray,
    rep_times: np.ndarray,
    rep_count: np.ndarray,
    parent: np.ndarray,
    counters: np.ndarray,
    cfg: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Advance every active member over one round of samples.

    Parameters
    ----------
    samples
        ``(a, K, n)`` states of the ``a`` active members at the round's sample times
        (NaN after a member failed).
    times
        ``(K,)`` the sample times.
    codes
        ``(a,)`` integrator status of each active member in this round
        (:class:`~stabkit.integrate.trajectory.MemberStatus` codes).
    active
        ``(a,)`` batch-local indices of the active members (rows of ``visited``,
        ``mstate``, ``labels``).
    lo, inv_h, dims
        Recurrence grid: lower corner, inverse cell widths, cells per dimension.
    table
        Cell -> attractor label (shared by all members; labels start at 1).
    visited
        ``(B, C)`` per-member hash sets, ``C`` a power of two.
    mstate
        ``(B, 7)`` per-member machine state (see the module docstring).
    labels
        ``(B,)`` output labels; ``UNDECIDED`` until decided.
    reps, rep_times, rep_count
        ``(max_attractors + 1, R, n)`` representative points of each attractor, their
        times ``(max_attractors + 1, R)`` and their counts.
    parent
        ``(max_attractors + 1,)`` union-find parents (duplicates found twice merge).
    counters
        ``(4,)``: 0 attractors created, 1 members lost outside the box, 2 members
        diverged in the integrator, 3 attractor overflow (more than ``max_attractors``).
    cfg
        ``(6,)``: consecutive recurrences needed, samples spent locating, consecutive
        hits needed, consecutive samples outside needed, max attractors, max
        representative points.
    """
    need_recur = cfg[_NEED_RECUR]
    locate = cfg[_LOCATE]
    need_hits = cfg[_NEED_HITS]
    need_lost = cfg[_NEED_LOST]
    max_att = cfg[_MAX_ATT]
    max_reps = cfg[_MAX_REPS]
    num_k = samples.shape[1]
    cap = visited.shape[1]
    for a in range(active.shape[0]):
        b = active[a]
        decided = False
        for s in range(num_k):
            x = samples[a, s]
            finite = True
            for j in range(x.shape[0]):
                if not np.isfinite(x[j]):
                    finite = False
            if not finite:
                break
            cell = _cell(x, lo, inv_h, dims)
            k = mstate[b, 2]
            if k > 0:  # locating attractor k: label every cell the orbit visits
                if cell >= 0:
                    old = table[cell] if cell in table else 0  # noqa: SIM401 (numba: get is Optional)
                    if old == 0:
                        table[cell] = k
                    elif old != k:
                        _union(parent, old, k)
                if rep_count[k] < max_reps:
                    reps[k, rep_count[k]] = x
                    rep_times[k, rep_count[k]] = times[s]
                    rep_count[k] += 1
                mstate[b, 3] += 1
                if mstate[b, 3] >= locate:
                    labels[b] = k
                    decided = True
                    break
                continue
            if cell < 0:
                mstate[b, 1] += 1
                if mstate[b, 1] >= need_lost:
                    labels[b] = -1
                    counters[1] += 1
                    decided = True
                    break
                continue
            mstate[b, 1] = 0
            att = table[cell] if cell in table else 0  # noqa: SIM401
            if att > 0:
                att = _find(parent, att)
                if att == mstate[b, 5]:
                    mstate[b, 4] += 1
                else:
                    mstate[b, 4] = 1
                    mstate[b, 5] = att
                if mstate[b, 4] >= need_hits:
                    labels[b] = att
                    decided = True
                    break
                continue  # in a known attractor's cells: no new attractor is declared here
            else:
                mstate[b, 4] = 0
                mstate[b, 5] = 0
            if _insert(visited[b], cell) == 1:
                mstate[b, 0] += 1
            else:
                mstate[b, 0] = 0
                mstate[b, 6] += 1
                if 10 * mstate[b, 6] > 7 * cap:  # set nearly full: forget and start over
                    visited[b, :] = 0
                    mstate[b, 6] = 0
            if mstate[b, 0] >= need_recur:
                if counters[0] >= max_att:
                    labels[b] = 0
                    counters[3] += 1
                    decided = True
                    break
                counters[0] += 1
                k = counters[0]
                parent[k] = k
                mstate[b, 2] = k
                mstate[b, 3] = 0
                table[cell] = k
                reps[k, 0] = x
                rep_times[k, 0] = times[s]
                rep_count[k] = 1
        if not decided:
            code = codes[a]
            if code == 2 or code == 3 or code == 5:  # diverged, non-finite, step too small
                labels[b] = -1
                counters[2] += 1
            elif code != 0 and code != 1:
                labels[b] = 0


@njit(cache=True, nogil=True)
def resolve_labels(labels: np.ndarray, parent: np.ndarray) -> None:  # pragma: no cover
    """Replace every attractor label by its union-find root, in place."""
    for i in range(labels.shape[0]):
        if labels[i] > 0:
            labels[i] = _find(parent, labels[i])


def cell_table_items(table: Dict) -> tuple[np.ndarray, np.ndarray]:
    """The (cells, labels) pairs of a cell table as two int64 arrays."""
    keys = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
    vals = np.fromiter(table.values(), dtype=np.int64, count=len(table))
    return keys, vals
