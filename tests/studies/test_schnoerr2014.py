"""The schnoerr2014 moment-closure study reproduces its claims in quick mode."""

from __future__ import annotations

from stabkit.studies import run_study


def test_schnoerr2014_quick_mode_passes() -> None:
    result = run_study("schnoerr2014_moment_closure", quick=True)
    failed = [(row.key, row.text) for row in result.rows if row.passed is False]
    assert result.passed, failed
    keys = {row.key for row in result.rows}
    assert {
        "switching_omega",
        "normal_switches_to_oscillation",
        "combinatoric_order_hierarchy",
    } <= keys
