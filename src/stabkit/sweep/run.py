"""``sweep``: any analysis over the points of a grid or sample, on a pool or a Dask cluster.

The points are cut into chunks of consecutive points. Each chunk is one task: a worker
process applies the analysis to each point and returns a table; the calling process writes
every finished chunk to the store at once (atomically) and moves on. Chunks already in the
store are not computed again, so a sweep that was killed resumes where it stopped and a
finished sweep computes nothing. A point whose analysis raises gets ``status = "error"``
and the message; the others go on.

The analysis and the model travel to the workers pickled by ``cloudpickle`` (lambdas and
closures work); numba kernels compile once per worker, or load from the on-disk cache.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest
from stabkit.results import Provenance, Result, Stats
from stabkit.sweep.points import Points, as_points, describe, points_hash
from stabkit.sweep.store import SweepStore

if TYPE_CHECKING:
    import pandas as pd

    from stabkit.model.model import Model

__all__ = ["DaskCluster", "LocalPool", "Serial", "SweepResult", "sweep"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Serial:
    """Run every chunk in the calling process (for debugging and tiny sweeps)."""


@dataclasses.dataclass(frozen=True)
class LocalPool:
    """A pool of worker processes on this machine (default: one per core)."""

    num_workers: int | None = None


@dataclasses.dataclass(frozen=True)
class DaskCluster:
    """A Dask distributed cluster: ``address=None`` starts a ``LocalCluster``."""

    address: str | None = None
    num_workers: int | None = None


def as_executor(executor: Any) -> Serial | LocalPool | DaskCluster:
    """An executor object from an object or from ``"serial" | "local" | "dask-local" |
    "dask://host:port" | "tcp://host:port"``."""
    if isinstance(executor, (Serial, LocalPool, DaskCluster)):
        return executor
    if isinstance(executor, str):
        if executor == "serial":
            return Serial()
        if executor == "local":
            return LocalPool()
        if executor == "dask-local":
            return DaskCluster()
        if executor.startswith("dask://"):
            return DaskCluster(address="tcp://" + executor[len("dask://") :])
        if executor.startswith("tcp://"):
            return DaskCluster(address=executor)
        hint = suggest(executor, ["serial", "local", "dask-local"])
        raise InputError(
            f"sweep(executor={executor!r}): use 'serial', 'local', 'dask-local' or "
            f"'dask://host:port'{hint}"
        )
    raise InputError(f"sweep(executor={executor!r}): pass a string or Serial/LocalPool/DaskCluster")


def _apply(analysis: Any, model: Any, point: Mapping[str, float]) -> Mapping[str, Any]:
    if model is None:
        return analysis(dict(point))
    params = {k: v for k, v in point.items() if k in model.parameters}
    state = {k: v for k, v in point.items() if k in model.variables}
    m = model.with_params(**params) if params else model
    m = m.with_state(**state) if state else m
    return analysis(m, dict(point))


def run_chunk(payload: bytes, columns: Mapping[str, Any], start: int) -> Any:
    """Apply the analysis to the points of one chunk; returns a pandas table."""
    import cloudpickle
    import pandas as pd

    analysis, model = cloudpickle.loads(payload)
    names = list(columns)
    num = len(next(iter(columns.values())))
    rows = []
    for j in range(num):
        point = {n: float(columns[n][j]) for n in names}
        row: dict[str, Any] = {"point_index": start + j, **point}
        t0 = time.perf_counter()
        try:
            out = _apply(analysis, model, point)
            if not isinstance(out, Mapping):
                raise InputError(
                    f"the analysis returned {type(out).__name__}; it must return a dict "
                    "outcome -> number or text"
                )
            for k, v in out.items():
                row[str(k)] = v.item() if isinstance(v, np.generic) else v
            row["status"] = str(out.get("status", "ok"))
            row["message"] = str(out.get("message", ""))
        except Exception as exc:  # one failing point never sinks the chunk
            row["status"] = "error"
            row["message"] = f"{type(exc).__name__}: {exc}"
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return pd.DataFrame(rows)


@dataclasses.dataclass(frozen=True)
class SweepResult(Result):
    """The table of a sweep and how it was obtained.

    Attributes
    ----------
    table
        One row per point: ``point_index``, the swept names, the analysis' outcomes,
        ``status``, ``message``, ``seconds``.
    store
        The store directory (``None`` when none was used).
    num_points, num_computed, num_reused
        Points in the sweep, computed in this call, read back from the store.
    names
        The swept names.
    """

    table: Any = None
    store: str | None = None
    num_points: int = 0
    num_computed: int = 0
    num_reused: int = 0
    names: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The result table."""
        return self.table

    def plot(self, ax: Any = None, outcome: str | None = None, **kwargs: Any) -> Any:
        """Heat map of ``outcome`` over a two-name grid (a line for one name)."""
        import matplotlib.pyplot as plt

        frame = self.table
        skip = {"point_index", "status", "message", "seconds", *self.names}
        numeric = [c for c in frame.columns if c not in skip and frame[c].dtype.kind in "fiub"]
        if outcome is None:
            if not numeric:
                raise InputError("SweepResult.plot: no numeric outcome to draw")
            outcome = numeric[0]
        if outcome not in frame.columns:
            raise InputError(
                f"SweepResult.plot(outcome={outcome!r}): not a column{suggest(outcome, numeric)}"
            )
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5))
        if len(self.names) == 1:
            ax.plot(frame[self.names[0]], frame[outcome], ".-", **kwargs)
            ax.set_xlabel(self.names[0])
            ax.set_ylabel(outcome)
            return ax
        x, y = self.names[0], self.names[1]
        pivot = frame.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean")
        mesh = ax.pcolormesh(
            pivot.columns.to_numpy(), pivot.index.to_numpy(), pivot.to_numpy(), shading="auto"
        )
        ax.figure.colorbar(mesh, ax=ax, label=outcome)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        return ax

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.append(
            (
                "points",
                f"{self.num_points} ({self.num_computed} computed, "
                f"{self.num_reused} from the store)",
            )
        )
        if self.store:
            rows.append(("store", self.store))
        return rows


def _identity(value: Any) -> str:
    """A text identity of a setting that is the same in every process."""
    if callable(value) and not dataclasses.is_dataclass(value):
        import hashlib
        import inspect

        name = getattr(value, "__qualname__", type(value).__qualname__)
        try:
            source = inspect.getsource(value)
        except (OSError, TypeError):
            code = getattr(value, "__code__", None)
            source = repr(code.co_code) if code is not None else type(value).__qualname__
        return f"{name} [{hashlib.sha256(source.encode()).hexdigest()[:12]}]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(
            f"{f.name}={_identity(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__qualname__}({fields})"
    return repr(value)


def _analysis_name(analysis: Any) -> str:
    """The analysis' identity in the store: its settings, or a function's name and code
    (never a memory address, so that another process recognises its own sweep)."""
    return _identity(analysis)


def _versions() -> dict[str, str]:
    import numba
    import scipy

    from stabkit import __version__

    return {
        "stabkit": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
    }


def sweep(
    analysis: Callable[..., Mapping[str, Any]],
    model: Model | None = None,
    *,
    over: Any,
    executor: Any = "local",
    store: str | Path | None = None,
    chunk_size: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run ``analysis`` at every point of ``over``; results as a table, optionally stored.

    Parameters
    ----------
    analysis
        ``analysis(model, point) -> dict`` where ``model`` already carries the point's
        parameter values and initial state (names of parameters and variables), or, with
        ``model=None``, ``analysis(point) -> dict``. Outcomes are numbers, booleans or text;
        ``status`` and ``message`` keys are kept as such. Ready-made analyses are in
        :mod:`stabkit.sweep.analyses`.
    model
        The model, or ``None`` for a plain function of the point.
    over
        ``{name: (lo, hi, num) or values}`` (a product grid), or :class:`Grid`,
        :class:`LatinHypercube`, :class:`Sobol`.
    executor
        :class:`LocalPool` (``"local"``, default), :class:`DaskCluster` (``"dask-local"``
        for a LocalCluster, ``"dask://host:port"``), or :class:`Serial` (``"serial"``).
    store
        Directory of a resumable Parquet store (see :mod:`stabkit.sweep.store`).
    chunk_size
        Points per task (default: about 4 chunks per worker, at most 1000 points).
    seed
        Recorded in the provenance (samplers carry their own seeds).
    progress
        Called with ``(points done, points in total)`` after each chunk.

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        For names that are neither parameters nor variables of the model, empty ranges,
        a store written by another sweep, an unknown executor.

    Examples
    --------
    >>> r = sweep(lambda p: {"f": p["a"] * p["b"]}, over={"a": (0, 1, 3), "b": [1, 2]},
    ...           executor="serial")
    >>> r.table["f"].tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0, 2.0]
    """
    import cloudpickle

    t0 = time.perf_counter()
    points: Points = as_points(over)
    if not callable(analysis):
        raise InputError(f"sweep(analysis={analysis!r}): need a callable")
    if model is not None:
        known = set(model.parameters) | set(model.variables)
        for name in points.names:
            if name not in known:
                raise InputError(
                    f"sweep(over=...): {name!r} is neither a parameter nor a variable of model "
                    f"{model.name!r}{suggest(name, sorted(known))}; parameters: "
                    f"{list(model.parameters)}, variables: {list(model.variables)}"
                )
    ex = as_executor(executor)
    n = len(points)
    workers = ex.num_workers if isinstance(ex, (LocalPool, DaskCluster)) else 1
    workers = workers or os.cpu_count() or 1
    if chunk_size is None:
        chunk_size = max(1, min(1000, math.ceil(n / (4 * workers))))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"sweep(chunk_size={chunk_size!r}): need an integer >= 1")
    ranges = [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]
    table = points.table()
    payload = cloudpickle.dumps((analysis, model))
    meta = {
        "model_hash": model.content_hash if model is not None else None,
        "model": model.name if model is not None else None,
        "analysis": _analysis_name(analysis),
        "points": points.spec(),
        "points_hash": points_hash(points),
        "chunk_size": chunk_size,
        "num_points": n,
        "seed": seed,
        "versions": _versions(),
    }
    st = SweepStore(store) if store is not None else None
    done: set[int] = set()
    if st is not None:
        st.open(meta)
        done = st.valid_chunks(ranges)
    todo = [c for c in range(len(ranges)) if c not in done]
    frames: dict[int, Any] = {}
    reused = sum(ranges[c][1] - ranges[c][0] for c in done)
    finished = reused

    def columns(c: int) -> dict[str, Any]:
        s, e = ranges[c]
        return {k: v[s:e] for k, v in table.items()}

    def finish(c: int, frame: Any) -> None:
        nonlocal finished
        if st is not None:
            st.write_chunk(c, frame)
        else:
            frames[c] = frame
        finished += ranges[c][1] - ranges[c][0]
        if progress is not None:
            progress(finished, n)

    if progress is not None and reused:
        progress(finished, n)
    if todo:
        _execute(ex, workers, payload, todo, columns, ranges, finish)
    import pandas as pd

    if st is not None:
        frame = st.read()
    else:
        frame = (
            pd.concat([frames[c] for c in sorted(frames)], ignore_index=True)
            if frames
            else pd.DataFrame()
        )
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    bad = {k: v for k, v in counts.items() if k != "ok"}
    message = "" if not bad else "points not ok: " + ", ".join(f"{k} {v}" for k, v in bad.items())
    return SweepResult(
        status="ok" if not bad else "partial",
        message=message,
        stats=Stats(wall_time=time.perf_counter() - t0, extra={"status_counts": counts}),
        provenance=Provenance(
            model_hash=model.content_hash if model is not None else None,
            analysis="sweep",
            method=f"{meta['analysis']} over {describe(points)} on {type(ex).__name__}",
            seed=seed,
        ),
        table=frame,
        store=str(st.path) if st is not None else None,
        num_points=n,
        num_computed=n - reused,
        num_reused=reused,
        names=points.names,
    )


def _execute(
    ex: Serial | LocalPool | DaskCluster,
    workers: int,
    payload: bytes,
    todo: list[int],
    columns: Callable[[int], dict[str, Any]],
    ranges: list[tuple[int, int]],
    finish: Callable[[int, Any], None],
) -> None:
    if isinstance(ex, Serial) or (isinstance(ex, LocalPool) and workers == 1):
        for c in todo:
            finish(c, run_chunk(payload, columns(c), ranges[c][0]))
        return
    if isinstance(ex, LocalPool):
        import concurrent.futures as cf
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(run_chunk, payload, columns(c), ranges[c][0]): c for c in todo}
            for fut in cf.as_completed(futures):
                finish(futures[fut], fut.result())
        return
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if ex.address is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(ex.address)
    try:
        submitted = []
        for c in todo:
            key = f"stabkit-chunk-{c}-{os.getpid()}-{time.time_ns()}"
            submitted.append(
                (client.submit(run_chunk, payload, columns(c), ranges[c][0], key=key), c)
            )
        index = {fut.key: c for fut, c in submitted}
        for fut in as_completed([f for f, _ in submitted]):
            finish(index[fut.key], fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
