"""Studies: one folder per seed paper, reproducing the numbers the paper states.

A study is a package ``stabkit/studies/<name>/`` (the paper file's stem with ``-`` as
``_``) holding

``config.toml``
    Settings; a ``[quick]`` table overrides top-level keys in quick mode.
``expected.json``
    The paper's numbers and claims, each with its source::

        {"growth_rate": {"value": 0.4709, "tolerance": 0.02, "relative": true,
                         "source": "itkin2026, Table 2"},
         "band":        {"range": [1.2, 1.5], "source": "..."},
         "stable_low":  {"claim": "the origin is stable for b < 2", "source": "..."}}

``study.py``
    ``run(ctx: StudyContext) -> None``, using the public API only and reporting
    through ``ctx.compare``, ``ctx.check``, ``ctx.record``, ``ctx.figure``, ``ctx.table``.

Run one with :func:`run_study` (or ``stabkit study NAME [--full] [--out DIR]``).
"""

from __future__ import annotations

from stabkit.studies._expected import Expectation
from stabkit.studies._framework import StudyContext, list_studies, run_study
from stabkit.studies._result import StudyResult, StudyRow

__all__ = [
    "Expectation",
    "StudyContext",
    "StudyResult",
    "StudyRow",
    "list_studies",
    "run_study",
]
