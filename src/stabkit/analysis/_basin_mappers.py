"""The two ways of mapping initial states to attractors, driven round by round.

Both integrate with :func:`stabkit.solve_ensemble` (compiled, members in parallel).
:func:`run_recurrence` integrates a batch of members ``samples_per_round`` samples at a time
and hands each round to the compiled recurrence machine (:mod:`._recurrence`); members that
are decided drop out of the next round. :func:`run_features` integrates every member over
``[t_transient, t_max]``, turns each orbit into a feature vector and clusters the vectors.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis import _recurrence as rec
from stabkit.analysis._attractors import Attractor, characterize
from stabkit.analysis._basin_metrics import dbscan
from stabkit.integrate.methods import Method
from stabkit.integrate.solve import solve_ensemble
from stabkit.model.model import Model, ModelKind

if TYPE_CHECKING:
    from stabkit.analysis.basins import FeatureClustering, RecurrenceMapper

__all__ = ["MapperOutcome", "auto_box", "run_features", "run_recurrence"]

log = logging.getLogger(__name__)

_FAILED_DIVERGED = (2, 3, 5)  # MemberStatus: diverged, non-finite, step too small


@dataclasses.dataclass
class MapperOutcome:
    """What a mapper hands back to :func:`basins_of_attraction`."""

    labels: np.ndarray
    attractors: list[Attractor]
    num_steps: int = 0
    num_rejected: int = 0
    num_rhs: int = 0
    compile_time: float = 0.0
    notes: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def add(self, ens: Any) -> None:
        self.num_steps += int(ens.stats.num_steps)
        self.num_rejected += int(ens.stats.num_rejected)
        self.num_rhs += int(ens.stats.num_rhs_evaluations)
        self.compile_time += float(ens.stats.compile_time)


def _span(model: Model, t0: float, t1: float) -> tuple[float, float]:
    if model.kind is ModelKind.MAP:
        return float(round(t0)), float(round(t1))
    return t0, t1


def auto_box(
    model: Model,
    y0s: np.ndarray,
    *,
    t_transient: float,
    dt: float,
    params: Mapping[str, float] | None,
    method: Method | None,
    seed: int | None,
    outcome: MapperOutcome,
) -> tuple[np.ndarray, np.ndarray]:
    """A box holding the initial states and where a pilot ensemble goes, 20 % wider."""
    rng = np.random.default_rng(seed)
    pick = y0s[rng.choice(y0s.shape[0], size=min(200, y0s.shape[0]), replace=False)]
    t0 = 0.0
    t1 = t_transient + 200.0 * dt
    te = np.linspace(t_transient, t1, 201)
    if model.kind is ModelKind.MAP:
        te = np.unique(np.round(te))
    ens = solve_ensemble(model, pick, _span(model, t0, t1), t_eval=te, params=params, method=method)
    outcome.add(ens)
    ok = np.isin(ens.member_status, (0, 1))
    pts = ens.y[ok].reshape(-1, y0s.shape[1])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    scale = max(1.0, float(np.max(np.abs(y0s))))
    pts = pts[np.max(np.abs(pts), axis=1) < 1e4 * scale]
    allp = np.vstack([y0s.min(axis=0), y0s.max(axis=0), pts])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = 0.2 * np.maximum(hi - lo, 1e-3 * scale)
    return lo - pad, hi + pad


def run_recurrence(
    model: Model,
    y0s: np.ndarray,
    mapper: RecurrenceMapper,
    *,
    lo: np.ndarray,
    hi: np.ndarray,
    num_cells: np.ndarray,
    t_transient: float,
    t_max: float,
    params: Mapping[str, float] | None,
    method: Method | None,
    outcome: MapperOutcome,
) -> None:
    """Label every state with the recurrence machine; fills ``outcome``."""
    n = model.num_variables
    m = y0s.shape[0]
    dt = 1.0 if model.kind is ModelKind.MAP else float(mapper.sample_interval)
    width = (hi - lo) / num_cells
    inv_h = 1.0 / width
    dims = num_cells.astype(np.int64)
    table = rec.new_cell_table()
    max_att = int(mapper.max_attractors)
    reps = np.full((max_att + 1, mapper.num_points, n), np.nan)
    rep_times = np.full((max_att + 1, mapper.num_points), np.nan)
    rep_count = np.zeros(max_att + 1, dtype=np.int64)
    parent = np.arange(max_att + 1, dtype=np.int64)
    counters = np.zeros(4, dtype=np.int64)
    cfg = np.array(
        [
            mapper.consecutive_recurrences,
            mapper.locate_steps,
            mapper.consecutive_hits,
            mapper.consecutive_lost,
            max_att,
            mapper.num_points,
        ],
        dtype=np.int64,
    )
    cap = 1 << math.ceil(math.log2(mapper.max_cells_per_orbit / 0.7 + 1))
    labels = np.full(m, rec.UNDECIDED, dtype=np.int64)
    batch = int(mapper.batch_size)
    rounds = 0
    for start in range(0, m, batch):
        stop = min(m, start + batch)
        nb = stop - start
        y = y0s[start:stop].copy()
        lab = np.full(nb, rec.UNDECIDED, dtype=np.int64)
        visited = np.zeros((nb, cap), dtype=np.int32)
        mstate = np.zeros((nb, 7), dtype=np.int64)
        active = np.arange(nb, dtype=np.int64)
        t = 0.0
        if t_transient > 0:
            ens = solve_ensemble(
                model, y, _span(model, 0.0, t_transient), params=params, method=method
            )
            outcome.add(ens)
            y = ens.y[:, -1].copy()
            bad = ~np.isin(ens.member_status, (0, 1))
            diverged = np.isin(ens.member_status, _FAILED_DIVERGED)
            lab[bad] = 0
            lab[diverged] = -1
            counters[2] += int(diverged.sum())
            active = np.flatnonzero(~bad).astype(np.int64)
            t = t_transient
        while active.size and t + dt <= t_max * (1 + 1e-12):
            k = max(1, min(int(mapper.samples_per_round), math.floor((t_max - t) / dt + 1e-9)))
            te = t + dt * np.arange(1, k + 1)
            if model.kind is ModelKind.MAP:
                te = np.round(te)
            ens = solve_ensemble(
                model,
                y[active],
                _span(model, t, float(te[-1])),
                t_eval=te,
                params=params,
                method=method,
            )
            outcome.add(ens)
            codes = ens.member_status.astype(np.int64)
            rec.recurrence_round(
                ens.y,
                te,
                codes,
                active,
                lo,
                inv_h,
                dims,
                table,
                visited,
                mstate,
                lab,
                reps,
                rep_times,
                rep_count,
                parent,
                counters,
                cfg,
            )
            y[active] = ens.y[:, -1]
            active = active[lab[active] == rec.UNDECIDED]
            t = float(te[-1])
            rounds += 1
        lab[lab == rec.UNDECIDED] = 0
        labels[start:stop] = lab
        log.debug("basins: batch %d-%d done after %d rounds", start, stop, rounds)
    rec.resolve_labels(labels, parent)
    keys, vals = rec.cell_table_items(table)
    roots = np.array([rec_find(parent, int(v)) for v in vals], dtype=np.int64)
    used = sorted({int(v) for v in labels if v > 0} | {int(r) for r in np.unique(roots)})
    renumber = {old: new for new, old in enumerate(used, start=1)}
    for old, new in renumber.items():
        labels[labels == old] = -100 - new
    pos = labels <= -101
    labels[pos] = -100 - labels[pos]
    for old, new in renumber.items():
        pts = reps[old, : rep_count[old]]
        tms = rep_times[old, : rep_count[old]]
        kind, period, lam = characterize(
            model, pts, tms, width=width, sample_interval=dt, params=params, method=method
        )
        outcome.attractors.append(
            Attractor(
                id=new,
                kind=kind,
                points=pts.copy(),
                num_cells=int(np.sum(roots == old)),
                period=period,
                lyapunov_estimate=lam,
            )
        )
    outcome.labels = labels
    outcome.extra.update(
        num_rounds=rounds,
        num_cells_labelled=int(keys.size),
        num_lost_outside_box=int(counters[1]),
        num_diverged_in_integrator=int(counters[2]),
        box_lo=lo.tolist(),
        box_hi=hi.tolist(),
        num_cells=num_cells.tolist(),
    )
    if counters[1]:
        outcome.notes.append(
            f"{int(counters[1])} states left the recurrence box {lo.tolist()}..{hi.tolist()} "
            f"for {mapper.consecutive_lost} samples in a row and count as diverged (-1); "
            "widen RecurrenceMapper(cells=...) if an attractor lies outside it"
        )
    if counters[3]:
        outcome.notes.append(
            f"more than max_attractors={max_att} attractors: {int(counters[3])} states left "
            "unresolved; raise RecurrenceMapper(max_attractors=...)"
        )


def rec_find(parent: np.ndarray, k: int) -> int:
    """Union-find root of label ``k`` (plain Python)."""
    while parent[k] != k:
        k = int(parent[k])
    return k


def _default_features(ys: np.ndarray) -> np.ndarray:
    """Smallest and largest value of each variable over the sampled window.

    Unlike means and standard deviations, these do not depend on the phase at which the
    window cuts a periodic orbit, once the window spans a whole period.
    """
    return np.concatenate([ys.min(axis=1), ys.max(axis=1)], axis=1)


def run_features(
    model: Model,
    y0s: np.ndarray,
    mapper: FeatureClustering,
    *,
    t_transient: float,
    t_max: float,
    params: Mapping[str, float] | None,
    method: Method | None,
    outcome: MapperOutcome,
) -> None:
    """Label every state by clustering features of its orbit; fills ``outcome``."""
    m = y0s.shape[0]
    te = np.linspace(t_transient, t_max, int(mapper.num_samples))
    if model.kind is ModelKind.MAP:
        te = np.unique(np.round(te))
    dt = float(te[1] - te[0]) if te.size > 1 else 1.0
    feats: np.ndarray | None = None
    diverged = np.zeros(m, dtype=bool)
    failed = np.zeros(m, dtype=bool)
    keep: list[np.ndarray] = []
    for start in range(0, m, int(mapper.batch_size)):
        stop = min(m, start + int(mapper.batch_size))
        ens = solve_ensemble(
            model,
            y0s[start:stop],
            _span(model, 0.0, t_max),
            t_eval=te,
            params=params,
            method=method,
        )
        outcome.add(ens)
        ys = ens.y
        finite = np.all(np.isfinite(ys), axis=(1, 2))
        diverged[start:stop] = np.isin(ens.member_status, _FAILED_DIVERGED) | ~finite
        failed[start:stop] = ~np.isin(ens.member_status, (0, 1)) & ~diverged[start:stop]
        if mapper.features_fn is None:
            f = _default_features(np.where(finite[:, None, None], ys, 0.0))
        else:
            f = np.stack(
                [np.asarray(mapper.features_fn(ys[i]), dtype=float) for i in range(ys.shape[0])]
            )
        feats = f if feats is None else np.vstack([feats, f])
        keep.append(ys[:, -min(ys.shape[1], mapper.num_samples) :])
    if feats is None:  # pragma: no cover - m >= 1 always
        raise RuntimeError("no states were integrated")
    good = ~diverged & ~failed & np.all(np.isfinite(feats), axis=1)
    labels = np.zeros(m, dtype=np.int64)
    labels[diverged] = -1
    if good.any():
        fg = feats[good]
        lo, hi = fg.min(axis=0), fg.max(axis=0)
        # features that barely vary (the spread of orbits on fixed points) must not be
        # blown up to the unit range: floor every range at 1e-3 of the largest one
        span = np.maximum(hi - lo, max(1e-3 * float(np.max(hi - lo)), 1e-12))
        scaled = (fg - lo) / span
        cl = dbscan(scaled, float(mapper.eps), int(mapper.min_samples))
        sub = np.where(cl >= 0, cl + 1, 0)
        labels[good] = sub
        orbits = np.concatenate(keep, axis=0)
        for k in range(1, int(sub.max()) + 1 if sub.size else 1):
            members = np.flatnonzero(good)[sub == k]
            centre = scaled[sub == k].mean(axis=0)
            pick = members[int(np.argmin(np.sum((scaled[sub == k] - centre) ** 2, axis=1)))]
            pts = orbits[pick]
            width = np.maximum(np.ptp(pts, axis=0), 1e-9 * (1 + np.abs(pts).max())) / 100.0
            width = np.maximum(width, np.ptp(y0s, axis=0).max() / 1000.0 + 1e-12)
            kind, period, lam = characterize(
                model,
                pts,
                te[-pts.shape[0] :],
                width=width,
                sample_interval=dt,
                params=params,
                method=method,
            )
            outcome.attractors.append(
                Attractor(id=k, kind=kind, points=pts.copy(), period=period, lyapunov_estimate=lam)
            )
    noise = int(np.sum(good & (labels == 0)))
    if noise:
        outcome.notes.append(
            f"{noise} states fell outside every cluster (DBSCAN noise) and are unresolved (0); "
            "raise FeatureClustering(eps=...) or lower min_samples"
        )
    outcome.labels = labels
    outcome.extra.update(num_features=int(feats.shape[1]))
