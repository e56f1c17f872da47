"""Test-wide settings: hypothesis profiles and a shared kernel cache."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Numba compiles kernels on first use; deadlines would make property tests flaky.
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
