"""Private helpers of :mod:`stabkit.sweep.sensitivity`: the design as a sweep, bounds checks."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError, suggest

if TYPE_CHECKING:
    from stabkit.model.model import Model

__all__ = ["as_job", "complete_blocks", "evaluate", "problem_of", "sweep_extra"]


@dataclasses.dataclass(frozen=True, repr=False)
class _SampleRow:
    """Per-point job of a sensitivity sweep: point ``{"sample": i}`` -> row ``i`` of the design.

    Its ``repr`` (the store's identity) names the inner analysis, the model's hash and a
    hash of the design matrix, so a store is never shared by two different designs.
    """

    inner: Any
    names: tuple[str, ...]
    design_hash: str
    model_hash: str | None
    design: np.ndarray = dataclasses.field(repr=False, compare=False)
    model: Any = dataclasses.field(repr=False, compare=False, default=None)

    def __repr__(self) -> str:
        from stabkit.sweep.fast_analyses import _function_id

        inner = repr(self.inner) if dataclasses.is_dataclass(self.inner) else None
        if inner is None or " at 0x" in inner:
            inner = _function_id(self.inner)
        return (
            f"_SampleRow(inner={inner}, names={self.names!r}, design_hash={self.design_hash!r}, "
            f"model_hash={self.model_hash!r})"
        )

    def __call__(self, point: Mapping[str, float]) -> dict[str, Any]:
        row = self.design[round(point["sample"])]
        values = {n: float(v) for n, v in zip(self.names, row, strict=True)}
        if self.model is None:
            out = self.inner(values)
        else:
            params = {k: v for k, v in values.items() if k in self.model.parameters}
            state = {k: v for k, v in values.items() if k in self.model.variables}
            m = self.model.with_params(**params) if params else self.model
            m = m.with_state(**state) if state else m
            out = self.inner(m, values)
        if not isinstance(out, Mapping):
            return {"value": float(out)}
        return dict(out)


def problem_of(bounds: Mapping[str, Any], model: Model | None, where: str) -> dict[str, Any]:
    if not isinstance(bounds, Mapping) or not bounds:
        raise InputError(
            f"{where}(bounds=...): give a dict name -> (lo, hi) with at least one name"
        )
    names: list[str] = []
    ranges: list[list[float]] = []
    known = None if model is None else set(model.parameters) | set(model.variables)
    for name, spec in bounds.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"{where}(bounds=...): {name!r} is not a valid name")
        if known is not None and name not in known:
            raise InputError(
                f"{where}(bounds=...): {name!r} is neither a parameter nor a variable of model "
                f"{model.name!r}{suggest(name, sorted(known))}"  # type: ignore[union-attr]
            )
        try:
            lo, hi = (float(v) for v in spec)
        except (TypeError, ValueError):
            raise InputError(f"{where}(bounds[{name!r}]={spec!r}): give (lo, hi)") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InputError(f"{where}(bounds[{name!r}]=({lo}, {hi})): empty range; need lo < hi")
        names.append(name)
        ranges.append([lo, hi])
    return {"num_vars": len(names), "names": names, "bounds": ranges}


def as_job(fn_or_analysis: Any, where: str) -> Any:
    if isinstance(fn_or_analysis, str):
        from stabkit.sweep.analyses import analysis_from_name

        return analysis_from_name(fn_or_analysis)
    if not callable(fn_or_analysis):
        raise InputError(f"{where}: need a function, a ready-made analysis or its name")
    return fn_or_analysis


def evaluate(
    job: Any,
    model: Model | None,
    problem: dict[str, Any],
    design: np.ndarray,
    outcome: str,
    *,
    executor: Any,
    store: str | Path | None,
    chunk_size: int | None,
    seed: int | None,
    progress: Callable[[int, int], None] | None,
    where: str,
) -> tuple[np.ndarray, Any]:
    """The outcome at every row of ``design`` (NaN where the point failed), and the sweep."""
    from stabkit.sweep.run import sweep

    digest = hashlib.sha256(np.ascontiguousarray(design, dtype=np.float64).tobytes())
    runner = _SampleRow(
        inner=job,
        names=tuple(problem["names"]),
        design_hash=digest.hexdigest()[:16],
        model_hash=model.content_hash if model is not None else None,
        design=np.asarray(design, dtype=np.float64),
        model=model,
    )
    n = design.shape[0]
    result = sweep(
        runner,
        None,
        over={"sample": (0.0, float(n - 1), n)},
        executor=executor,
        store=store,
        chunk_size=chunk_size,
        seed=seed,
        progress=progress,
    )
    frame = result.table.sort_values("point_index")
    if outcome not in frame.columns:
        skip = {"point_index", "sample", "status", "message", "seconds"}
        columns = [c for c in frame.columns if c not in skip]
        if (frame["status"] == "error").all():
            raise InputError(
                f"{where}: every evaluation failed; the first: {frame['message'].iloc[0]}"
            )
        raise InputError(
            f"{where}(outcome={outcome!r}): the analysis returns no such outcome"
            f"{suggest(outcome, columns)}; it returns {columns}"
        )
    y = np.array(_pd_numeric(frame[outcome]), dtype=np.float64)
    y[frame["status"].to_numpy() == "error"] = np.nan
    return y, result


def _pd_numeric(column: Any) -> Any:
    """A column as floats (non-numbers as NaN)."""
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)


def sweep_extra(swept: Any) -> dict[str, Any]:
    return {
        "num_computed": swept.num_computed,
        "num_reused": swept.num_reused,
        "store": swept.store,
        "sweep_message": swept.message,
    }


def complete_blocks(y: np.ndarray, block: int) -> np.ndarray:
    """Mask of the rows whose whole block of ``block`` consecutive rows is finite."""
    ok = np.isfinite(y).reshape(-1, block).all(axis=1)
    return np.repeat(ok, block)
