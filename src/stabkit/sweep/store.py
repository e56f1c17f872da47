"""A resumable sweep store: a Parquet dataset directory plus bookkeeping.

Layout of ``store/``::

    _sweep.json              what the sweep is (model hash, analysis, points, chunk size,
                             versions); a later run with other settings is refused
    part-000000.parquet      one file per finished chunk of points, rows in point order
    part-000001.parquet
    ...

``pandas.read_parquet(store)`` reads the result table directly (pyarrow skips files whose
names start with ``_`` or ``.``). A chunk is written to ``_tmp-<chunk>-<pid>.parquet`` and
renamed into place (``os.replace``, atomic on POSIX), so a killed sweep leaves either a
whole chunk or none; a chunk file that is nevertheless unreadable or does not hold exactly
its points (a truncated copy, a disk error) is detected, deleted and recomputed, never read
as data.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stabkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SweepStore"]

log = logging.getLogger(__name__)

META = "_sweep.json"
IDENTITY = ("model_hash", "analysis", "points_hash", "chunk_size", "num_points")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"_tmp-{path.name}-{os.getpid()}")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SweepStore:
    """The directory of one sweep; see the module docstring."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def chunk_path(self, chunk: int) -> Path:
        return self.path / f"part-{chunk:06d}.parquet"

    def open(self, meta: dict[str, Any]) -> bool:
        """Create the store, or check that it belongs to this sweep; True if it existed."""
        meta_path = self.path / META
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"sweep store {str(self.path)!r} is a file; give a directory path")
        if meta_path.exists():
            try:
                old = json.loads(meta_path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(
                    f"sweep store {str(self.path)!r}: {META} is unreadable ({exc}); "
                    "delete the directory or choose another store"
                ) from exc
            for key in IDENTITY:
                if old.get(key) != meta.get(key):
                    raise InputError(
                        f"sweep store {str(self.path)!r} holds another sweep: its {key} is "
                        f"{old.get(key)!r}, this sweep's is {meta.get(key)!r}; results are "
                        "never mixed: choose another store or delete this one"
                    )
            return True
        if self.path.exists() and any(p.suffix == ".parquet" for p in self.path.iterdir()):
            raise InputError(
                f"sweep store {str(self.path)!r} has Parquet files but no {META}; it was not "
                "written by stabkit.sweep: choose another directory"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(meta_path, json.dumps(meta, indent=2, sort_keys=True))
        return False

    def valid_chunks(self, ranges: list[tuple[int, int]]) -> set[int]:
        """Chunks whose files hold exactly their points; broken files are removed."""
        import pyarrow.parquet as pq

        done = set()
        for p in self.path.glob("_tmp-*"):
            p.unlink(missing_ok=True)  # leftovers of a killed run: never data
        for chunk, (start, stop) in enumerate(ranges):
            path = self.chunk_path(chunk)
            if not path.exists():
                continue
            try:
                table = pq.read_table(path, columns=["point_index"])
                idx = table.column("point_index").to_pylist()
                ok = idx == list(range(start, stop))
            except Exception as exc:
                log.warning("sweep store: chunk %s unreadable (%s); recomputing it", path, exc)
                ok = False
            if ok:
                done.add(chunk)
            else:
                log.warning("sweep store: chunk %s is incomplete or corrupt; recomputing", path)
                path.unlink(missing_ok=True)
        return done

    def write_chunk(self, chunk: int, frame: pd.DataFrame) -> None:
        """Write one chunk atomically (temporary file, fsync, rename)."""
        final = self.chunk_path(chunk)
        tmp = self.path / f"_tmp-{chunk:06d}-{os.getpid()}.parquet"
        frame.to_parquet(tmp, index=False)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)

    def read(self) -> pd.DataFrame:
        """All finished chunks as one table, in point order."""
        import pandas as pd

        files = sorted(self.path.glob("part-*.parquet"))
        if not files:
            return pd.DataFrame()
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return frame.sort_values("point_index", kind="stable").reset_index(drop=True)
