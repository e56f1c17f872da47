"""Errors and the Result base class."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from stabkit.errors import InputError, ModelError, StabkitError, suggest
from stabkit.results import Provenance, Result, Stats, to_jsonable


def test_model_error_formats_location_caret_and_suggestion():
    err = ModelError(
        "unknown symbol 'gama'",
        file="m.toml",
        line=12,
        column=9,
        text='x = "gama*x"',
        suggestion="did you mean 'gamma'?",
    )
    msg = str(err)
    first, code, caret = msg.splitlines()
    assert first == "m.toml:12:9: unknown symbol 'gama'; did you mean 'gamma'?"
    assert code.strip() == 'x = "gama*x"'
    assert caret.index("^") == 4 + 8
    assert isinstance(err, StabkitError) and isinstance(err, ValueError)


def test_model_error_with_location_shifts_column_and_pickles():
    err = ModelError("bad", column=3, text="a +* b")
    placed = err.with_location(file="f.toml", line=4, column_offset=10)
    assert (placed.file, placed.line, placed.column) == ("f.toml", 4, 13)
    again = pickle.loads(pickle.dumps(placed))
    assert str(again) == str(placed)
    assert again.column == 13


def test_suggest_finds_close_names_only():
    assert suggest("gama", ["gamma", "beta"]) == "did you mean 'gamma'?"
    assert suggest("zzz", ["gamma", "beta"]) is None


@dataclasses.dataclass(frozen=True)
class _Table(Result):
    values: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"v": self.values})


def _result(values):
    return _Table(
        status="ok",
        message="",
        stats=Stats(num_steps=3, wall_time=0.5, compile_time=1.5),
        provenance=Provenance(model_hash="abc", analysis="test", method="M()"),
        values=np.asarray(values, dtype=float),
    )


def test_result_to_dict_is_json_and_maps_nonfinite_to_null(tmp_path):
    res = _result([1.0, np.nan, np.inf])
    data = res.to_dict()
    assert data["type"] == "_Table"
    assert data["values"] == [1.0, None, None]
    assert data["stats"]["num_steps"] == 3
    assert data["provenance"]["dependencies"]["numpy"] == np.__version__
    path = res.save(tmp_path / "r.json")
    assert json.loads(path.read_text())["status"] == "ok"


def test_result_save_parquet_and_csv_roundtrip(tmp_path):
    res = _result([1.0, 2.0, 3.0])
    frame = pd.read_parquet(res.save(tmp_path / "sub" / "r.parquet"))
    assert frame["v"].tolist() == [1.0, 2.0, 3.0]
    assert pd.read_csv(res.save(tmp_path / "r.csv"))["v"].sum() == 6.0
    assert not list(tmp_path.glob(".*tmp*"))


def test_result_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match=r"\.json, \.parquet or \.csv"):
        _result([1.0]).save(tmp_path / "r.xlsx")


def test_result_html_escapes_text():
    res = dataclasses.replace(_result([1.0]), message="<b>x</b>")
    page = res._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "compile time" in page


def test_to_jsonable_handles_complex_and_enums():
    import enum

    class Colour(enum.Enum):
        RED = "red"

    out = to_jsonable({"z": np.array([1 + 2j]), "c": Colour.RED, "k": np.int64(3)})
    assert out == {"z": {"real": [1.0], "imag": [2.0]}, "c": "red", "k": 3}
