"""Assemble ``docs/BENCHMARKS.md`` from the per-benchmark tables in ``bench/results/``.

Each benchmark script writes ``bench/results/<name>.md`` (its full-mode table; quick runs
write ``<name>-quick.md``, which is ignored here). This script puts them in one page,
in a fixed order, with an index. Run it after any benchmark (``make bench`` does).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ORDER = [
    "ensemble",
    "continuation",
    "lyapunov",
    "chaos",
    "basins",
    "ssa",
    "curvature",
    "sweep",
    "represent",
]
TITLES = {
    "ensemble": "Ensembles and stiff systems (`bench/ensemble.py`)",
    "continuation": "Continuation (`bench/continuation.py`)",
    "lyapunov": "Lyapunov spectra (`bench/lyapunov.py`)",
    "chaos": "The dysts chaos benchmark (`bench/chaos.py`)",
    "basins": "Basins of attraction (`bench/basins.py`)",
    "ssa": "Stochastic simulation (`bench/ssa.py`)",
    "curvature": "Curvature of networks (`bench/curvature.py`)",
    "sweep": "Sweeps (`bench/sweep.py`)",
    "represent": "Representations (`bench/represent.py`)",
}


def _section(name: str, text: str) -> str:
    """The file's text under a level-2 title, its own headings pushed one level down."""
    lines = text.strip().splitlines()
    if lines and re.match(r"^#{1,2} ", lines[0]):
        lines = lines[1:]
    out = []
    for line in lines:
        m = re.match(r"^(#{1,5}) ", line)
        out.append("#" + line if m and len(m.group(1)) >= 2 else line)
    title = TITLES.get(name, f"`bench/{name}.py`")
    return f"## {title}\n\n" + "\n".join(out).strip() + "\n"


def assemble(results: Path = RESULTS) -> str:
    names = [p.stem for p in results.glob("*.md") if not p.stem.endswith("-quick")]
    ordered = [n for n in ORDER if n in names] + sorted(n for n in names if n not in ORDER)
    parts = [
        "# stabkit benchmarks",
        "",
        "Every table is written by a script in `bench/` (run `make bench`, or one script, then "
        "`python bench/assemble.py`); raw numbers are in `bench/results/*.json`. The machine is "
        "shared and noisy: read the **ratios** against the anchors measured in the same run, "
        "not the seconds.",
        "",
    ]
    parts += [f"- [{TITLES.get(n, n)}](#{_anchor(TITLES.get(n, n))})" for n in ordered]
    parts.append("")
    for n in ordered:
        parts.append(_section(n, (results / f"{n}.md").read_text()))
    return "\n".join(parts)


def _anchor(title: str) -> str:
    slug = re.sub(r"[^a-z0-9 -]", "", title.lower()).strip()
    return re.sub(r"\s+", "-", slug)


def main() -> int:
    text = assemble()
    (ROOT / "docs" / "BENCHMARKS.md").write_text(text)
    print(f"wrote docs/BENCHMARKS.md ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
