"""The examples in the docstrings of the CLI helpers and the studies framework run."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["stabkit.commands._common", "stabkit.studies._framework"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if module.endswith("_common"):
        assert result.attempted > 0
