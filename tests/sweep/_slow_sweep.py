"""A sweep run as a separate process by the resume test (killed half way)."""

from __future__ import annotations

import sys
import time

from stabkit.sweep import sweep


def slow(point):
    time.sleep(0.05)
    return {"f": point["a"] ** 2 + point["b"], "g": int(point["a"] * 10) % 3}


if __name__ == "__main__":
    sweep(
        slow,
        over={"a": (0.0, 1.0, 20), "b": (0.0, 1.0, 5)},
        executor="serial",
        store=sys.argv[1],
        chunk_size=5,
    )
