"""Demo sections beyond the four built-in ones, one module each.

Each module defines ``ORDER: int`` and ``SECTION = DemoSection(key, title, fn)``;
:func:`stabkit.report.demo.demo_sections` finds them with :func:`discover_demo_sections`
(see :mod:`stabkit.report.demo`).
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stabkit.report.demo import DemoContext, DemoSection
    from stabkit.report.html import ReportSection

__all__ = ["discover_demo_sections", "failed_section"]

_DEMOS_PACKAGE = "stabkit.report.demos"


def failed_section(key: str, title: str, why: str, exc: BaseException) -> DemoSection:
    """A section that raises ``RuntimeError(why: exc)`` when run (the report shows it)."""
    from stabkit.report.demo import DemoSection

    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()

    def fail(ctx: DemoContext) -> ReportSection:
        raise RuntimeError(f"{why}: {detail}") from exc

    return DemoSection(key, title, fail)


def discover_demo_sections(package: str = _DEMOS_PACKAGE) -> list[tuple[int, DemoSection]]:
    """``(ORDER, SECTION)`` of every module of ``package`` not starting with ``_``.

    A module that fails to import or lacks ``ORDER`` (an int) or ``SECTION`` (a
    :class:`DemoSection`) gives a section that raises its error when run, ordered last,
    so the report shows it and every other section still runs.
    """
    from stabkit.report.demo import DemoSection

    pkg = importlib.import_module(package)
    found: list[tuple[int, DemoSection]] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        name = f"{package}.{info.name}"
        try:
            module = importlib.import_module(name)
            order = getattr(module, "ORDER", None)
            section = getattr(module, "SECTION", None)
            if isinstance(order, bool) or not isinstance(order, int):
                raise TypeError(f"{name}.ORDER must be an int, got {order!r}")
            if not isinstance(section, DemoSection):
                raise TypeError(f"{name}.SECTION must be a DemoSection, got {section!r}")
        except Exception as exc:
            why = f"demo module {name} failed to load"
            found.append((10**9, failed_section(info.name, f"{name} (failed)", why, exc)))
            continue
        found.append((order, section))
    return found
