"""Smoke test of bench/ssa.py: the quick run of stabkit's rows and GillesPy2's conventions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import sympy

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import ssa as bench  # noqa: E402

from stabkit.model.parse import parse_expression  # noqa: E402


def test_quick_run_without_competitors() -> None:
    assert bench.main(["--quick", "--skip", "gillespy2"]) == 0
    out = json.loads((bench.ROOT / "bench" / "results" / "ssa-quick.json").read_text())
    rows = {(r["network"], r["method"]): r for r in out["rows"]}
    for network in ("birth_death", "dimerisation"):
        anchor = rows[(network, "stabkit Direct, 1 thread")]
        assert anchor["stabkit_speedup"] == 1.0 and anchor["status"] == "ok"
        assert anchor["reactions"] > 0 and anchor["reactions_per_second"] > 0
        two = rows[(network, "stabkit Direct, 2 threads")]
        # same seeds, same runs: threads change nothing but the time
        assert two["final_mean"] == anchor["final_mean"]
    # birth-death from 0: X(100) ~ Poisson(10)
    bd = rows[("birth_death", "stabkit Direct, 1 thread")]
    assert abs(bd["final_mean"] - 10.0) < 4.5 * bd["final_standard_error"]
    text = (bench.ROOT / "bench" / "results" / "ssa-quick.md").read_text()
    assert "| birth_death | stabkit Direct, 1 thread |" in text
    assert "parallel speed-up" in text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_gillespy2_models_are_the_same_processes() -> None:
    pytest.importorskip("gillespy2")
    ours = bench.networks()
    for name in ("birth_death", "dimerisation"):
        model = bench.gillespy2_model(name)
        for reaction, propensity in zip(
            model.get_all_reactions().values(), ours[name].propensities, strict=True
        ):
            theirs = reaction.propensity_function.replace("vol", "1")
            symbols = {s.name: s for s in propensity.free_symbols}
            values = {**model.listOfParameters}
            names = {**symbols, **{p: sympy.Float(v.value) for p, v in values.items()}}
            theirs_expr = parse_expression(theirs, names=names)
            ours_expr = propensity.subs(ours[name].default_parameter_map())
            assert sympy.simplify(theirs_expr - ours_expr) == 0, (name, reaction.name)
