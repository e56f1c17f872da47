"""Markers of the command tests: ``browser`` (renders a page in headless Chromium)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: renders an HTML report in headless Chromium (skipped without it)"
    )
