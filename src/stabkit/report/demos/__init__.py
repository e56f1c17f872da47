"""Demo sections beyond the four built-in ones, one module each.

Each module defines ``ORDER: int`` and ``SECTION = DemoSection(key, title, fn)``;
:func:`stabkit.report.demo.demo_sections` finds them (see :mod:`stabkit.report.demo`).
"""

__all__: list[str] = []
