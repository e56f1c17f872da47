"""The result base class shared by every analysis.

Every analysis returns one immutable result type carrying ``status``, ``message``,
``stats`` (counts and timings), and ``provenance`` (what produced it), with
``to_dict()``, ``to_frame()`` where tabular, ``save()`` and an HTML view.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import html
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Provenance", "Result", "Stats", "to_jsonable"]


def _version() -> str:
    from stabkit import __version__

    return __version__


def _dependency_versions() -> dict[str, str]:
    import numba
    import scipy
    import sympy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "numba": numba.__version__,
    }


@dataclasses.dataclass(frozen=True)
class Provenance:
    """What produced a result: enough to reproduce it.

    Attributes
    ----------
    model_hash
        Content hash of the model (``Model.content_hash``), or ``None``.
    analysis
        Name of the analysis function, e.g. ``"solve"``.
    method
        ``repr`` of the method object used.
    params
        Parameter values used.
    seed
        Random seed, where randomness was involved.
    version
        stabkit version.
    dependencies
        Versions of python, numpy, scipy, sympy, numba.
    created
        UTC timestamp (ISO 8601).
    """

    model_hash: str | None = None
    analysis: str = ""
    method: str = ""
    params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    seed: int | None = None
    version: str = dataclasses.field(default_factory=_version)
    dependencies: Mapping[str, str] = dataclasses.field(default_factory=_dependency_versions)
    created: str = dataclasses.field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )


@dataclasses.dataclass(frozen=True)
class Stats:
    """Work counters and timings of an analysis.

    ``compile_time`` (seconds spent compiling kernels) is kept apart from
    ``wall_time`` (seconds spent running them).
    """

    num_steps: int = 0
    num_rejected: int = 0
    num_rhs_evaluations: int = 0
    num_jacobian_evaluations: int = 0
    num_lu_decompositions: int = 0
    wall_time: float = 0.0
    compile_time: float = 0.0
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def to_jsonable(value: Any) -> Any:
    """Convert numpy arrays, enums, dataclasses and complex numbers to JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            return {"real": value.real.tolist(), "imag": value.imag.tolist()}
        if value.dtype.kind in "US":
            return value.tolist()
        if value.dtype.kind == "f":
            obj = value.astype(object)
            obj[~np.isfinite(value)] = None
            return obj.tolist()
        return value.tolist()
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@dataclasses.dataclass(frozen=True)
class Result:
    """Base of every analysis result.

    Subclasses add their fields and override :meth:`to_frame` when tabular and
    :meth:`plot` through :mod:`stabkit.report`.
    """

    status: str
    message: str
    stats: Stats
    provenance: Provenance

    @property
    def ok(self) -> bool:
        """True when the analysis finished without numerical trouble."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain JSON-compatible Python values."""
        out = to_jsonable(self)
        out["type"] = type(self).__name__
        return out

    def to_frame(self) -> pd.DataFrame:
        """The tabular part of the result as a :class:`pandas.DataFrame`."""
        raise InputError(f"{type(self).__name__} has no tabular form; use to_dict() instead")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``.json`` (everything), ``.parquet`` or ``.csv`` (the table).

        The file is written to a temporary name and renamed, so a crash never leaves
        half a file behind.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in {".json", ".parquet", ".csv"}:
            raise InputError(
                f"save(path={str(path)!r}): unknown file type {suffix!r}; "
                "use a path ending in .json, .parquet or .csv"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            if suffix == ".json":
                tmp.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False))
            else:
                frame = self.to_frame()
                frame.attrs = {}
                if suffix == ".parquet":
                    frame.to_parquet(tmp, index=False)
                else:
                    frame.to_csv(tmp, index=False)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return target

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the result with :mod:`stabkit.report` (needs matplotlib)."""
        from stabkit.report import plot_result  # type: ignore[attr-defined,unused-ignore]

        return plot_result(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        """(label, value) rows for the text and HTML summaries; subclasses extend."""
        rows = [("status", self.status)]
        if self.message:
            rows.append(("message", self.message))
        rows.append(("wall time", f"{self.stats.wall_time:.3g} s"))
        if self.stats.compile_time:
            rows.append(("compile time", f"{self.stats.compile_time:.3g} s"))
        if self.provenance.method:
            rows.append(("method", self.provenance.method))
        return rows

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._summary_rows()
        )
        return f"<b>{html.escape(type(self).__name__)}</b><table>{rows}</table>"
