"""Helpers for study tests: a tiny study written into a temporary folder."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MakeStudy = Callable[..., Path]


@pytest.fixture
def make_study(tmp_path: Path) -> MakeStudy:
    """``make_study(code, expected, config="")`` -> a study folder with those three files."""
    count = 0

    def make(code: str, expected: dict[str, Any] | str, config: str = "") -> Path:
        nonlocal count
        count += 1
        folder = tmp_path / f"fake_study_{count}"
        folder.mkdir()
        (folder / "study.py").write_text(textwrap.dedent(code))
        text = expected if isinstance(expected, str) else json.dumps(expected, indent=1)
        (folder / "expected.json").write_text(text)
        (folder / "config.toml").write_text(textwrap.dedent(config))
        return folder

    return make
