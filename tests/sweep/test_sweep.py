"""sweep: points, store (resume after SIGKILL, corrupt chunks, other sweeps refused),
executors (serial, local pool, Dask LocalCluster) giving identical tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stabkit
from stabkit.errors import InputError
from stabkit.sweep import Equilibria, Grid, LatinHypercube, Sobol, sweep
from stabkit.sweep.points import parse_range

HERE = Path(__file__).resolve().parent


def _f(point):
    return {"f": point["a"] ** 2 + point["b"], "g": int(point["a"] * 10) % 3}


def _table(r):
    return r.table.drop(columns=["seconds"]).reset_index(drop=True)


def test_grid_order_and_values():
    g = Grid({"a": (0.0, 1.0, 3), "b": [1.0, 2.0]})
    assert len(g) == 6 and g.shape == (3, 2)
    t = g.table()
    assert t["a"].tolist() == [0, 0, 0.5, 0.5, 1, 1] and t["b"].tolist() == [1, 2] * 3
    assert g.point(5) == {"a": 1.0, "b": 2.0}


@pytest.mark.parametrize("cls", [LatinHypercube, Sobol])
def test_samplers_are_seeded_and_in_bounds(cls):
    s1 = cls({"x": (0.0, 2.0), "y": (-1.0, 1.0)}, num=64, seed=3)
    s2 = cls({"x": (0.0, 2.0), "y": (-1.0, 1.0)}, num=64, seed=3)
    t = s1.table()
    assert np.array_equal(t["x"], s2.table()["x"])
    assert t["x"].min() >= 0 and t["x"].max() <= 2 and t["y"].min() >= -1
    if cls is LatinHypercube:  # one point in each of the 64 strata of each axis
        assert sorted(np.floor(t["x"] / 2 * 64).astype(int)) == list(range(64))


def test_serial_sweep_table_and_errors_kept():
    def f(point):
        if point["a"] == 0.5:
            raise ValueError("bad point")
        return _f(point)

    r = sweep(f, over={"a": (0.0, 1.0, 3), "b": [1.0, 2.0]}, executor="serial")
    assert r.status == "partial" and "error 2" in r.message
    bad = r.table[r.table["status"] == "error"]
    assert len(bad) == 2 and bad["message"].str.contains("bad point").all()
    ok = r.table[r.table["status"] == "ok"]
    np.testing.assert_allclose(ok["f"], ok["a"] ** 2 + ok["b"])
    assert list(r.table["point_index"]) == list(range(6))


def test_store_is_a_parquet_dataset_and_rerun_computes_nothing(tmp_path):
    store = tmp_path / "runs"
    r1 = sweep(
        _f, over={"a": (0.0, 1.0, 7), "b": [1.0, 2.0]}, executor="serial", store=store, chunk_size=3
    )
    assert r1.num_computed == 14 and r1.num_reused == 0
    direct = pd.read_parquet(store).sort_values("point_index").reset_index(drop=True)
    pd.testing.assert_frame_equal(direct.drop(columns=["seconds"]), _table(r1))
    r2 = sweep(
        _f, over={"a": (0.0, 1.0, 7), "b": [1.0, 2.0]}, executor="serial", store=store, chunk_size=3
    )
    assert r2.num_computed == 0 and r2.num_reused == 14
    pd.testing.assert_frame_equal(_table(r1), _table(r2))


def test_truncated_chunk_is_detected_and_recomputed(tmp_path):
    store = tmp_path / "runs"
    over = {"a": (0.0, 1.0, 6), "b": [1.0]}
    r1 = sweep(_f, over=over, executor="serial", store=store, chunk_size=2)
    part = store / "part-000001.parquet"
    part.write_bytes(part.read_bytes()[:40])  # truncated: unreadable
    (store / "_tmp-000002-999.parquet").write_bytes(b"partial")  # a killed writer's leftover
    r2 = sweep(_f, over=over, executor="serial", store=store, chunk_size=2)
    assert r2.num_computed == 2 and r2.num_reused == 4
    pd.testing.assert_frame_equal(_table(r1), _table(r2))
    assert not list(store.glob("_tmp-*"))


def test_store_of_another_sweep_is_refused(tmp_path):
    store = tmp_path / "runs"
    sweep(_f, over={"a": (0.0, 1.0, 3), "b": [1.0]}, executor="serial", store=store)
    with pytest.raises(InputError, match=r"another sweep.*points_hash"):
        sweep(_f, over={"a": (0.0, 2.0, 3), "b": [1.0]}, executor="serial", store=store)
    model = stabkit.library.brusselator()
    store2 = tmp_path / "bru"
    sweep(Equilibria(), model, over={"b": (1.0, 3.0, 3)}, executor="serial", store=store2)
    other = model.with_params(a=2.0)
    with pytest.raises(InputError, match="model_hash"):
        sweep(Equilibria(), other, over={"b": (1.0, 3.0, 3)}, executor="serial", store=store2)


def test_killed_sweep_resumes_to_the_uninterrupted_table(tmp_path):
    store = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent / "src")}
    proc = subprocess.Popen([sys.executable, str(HERE / "_slow_sweep.py"), str(store)], env=env)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(store.glob("part-*.parquet"))) < 8:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(list(store.glob("part-*.parquet")))
    assert 8 <= written < 20, written  # killed half way
    sys.path.insert(0, str(HERE))
    try:
        import _slow_sweep
    finally:
        sys.path.remove(str(HERE))
    over = {"a": (0.0, 1.0, 20), "b": (0.0, 1.0, 5)}
    resumed = sweep(_slow_sweep.slow, over=over, executor="serial", store=store, chunk_size=5)
    assert resumed.num_reused == 5 * written and resumed.num_computed == 100 - 5 * written
    fresh = sweep(_slow_sweep.slow, over=over, executor="serial", chunk_size=5)
    pd.testing.assert_frame_equal(_table(resumed), _table(fresh))
    assert resumed.table["point_index"].is_unique and len(resumed.table) == 100


def test_local_pool_and_dask_local_cluster_give_the_serial_table(tmp_path):
    pytest.importorskip("dask.distributed")
    model = stabkit.library.brusselator()
    over = {"b": (0.5, 3.5, 7), "a": [1.0, 1.5]}
    serial = sweep(Equilibria(), model, over=over, executor="serial", chunk_size=3)
    pool = sweep(Equilibria(), model, over=over, executor="local", chunk_size=3)
    dask = sweep(
        Equilibria(), model, over=over, executor="dask-local", chunk_size=3, store=tmp_path / "dask"
    )
    pd.testing.assert_frame_equal(_table(serial), _table(pool))
    pd.testing.assert_frame_equal(_table(serial), _table(dask))
    # Brusselator: one equilibrium (a, b/a), stable iff b < 1 + a^2
    t = serial.table
    assert (t["num_equilibria"] == 1).all()
    np.testing.assert_array_equal(t["num_stable"] == 1, t["b"] < 1 + t["a"] ** 2)


def test_bad_input():
    model = stabkit.library.brusselator()
    with pytest.raises(InputError, match="neither a parameter nor a variable"):
        sweep(Equilibria(), model, over={"bb": (0, 1, 3)}, executor="serial")
    with pytest.raises(InputError, match="at least 1 point"):
        sweep(_f, over={"a": (0, 1, 0)}, executor="serial")
    with pytest.raises(InputError, match="executor"):
        sweep(_f, over={"a": (0, 1, 2)}, executor="dask-locall")
    with pytest.raises(InputError, match="LO:HI:NUM"):
        parse_range("b=0:4")
    assert parse_range("b=0:4:3") == ("b", (0.0, 4.0, 3))
