"""Trajectory and Ensemble result types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stabkit.errors import InputError
from stabkit.integrate.trajectory import (
    Ensemble,
    MemberStatus,
    Trajectory,
    summarize_statuses,
)
from stabkit.results import Provenance, Stats


def _ensemble():
    t = np.array([0.0, 1.0, 2.0])
    y = np.arange(3 * 3 * 2, dtype=float).reshape(3, 3, 2)
    y[1, 2] = np.nan  # member 1 diverged after t=1
    codes = np.array([MemberStatus.OK, MemberStatus.DIVERGED, MemberStatus.OK], dtype=np.int8)
    status, message = summarize_statuses(codes)
    return Ensemble(
        status=status,
        message=message,
        stats=Stats(num_steps=30),
        provenance=Provenance(analysis="solve_ensemble"),
        t=t,
        y=y,
        variables=("x", "v"),
        member_status=codes,
        t_final=np.array([2.0, 1.5, 2.0]),
        y0=y[:, 0],
        params=np.zeros((3, 0)),
        num_steps=np.array([10, 5, 15]),
        num_rejected=np.array([0, 2, 1]),
    )


def test_summarize_statuses_counts_failures():
    ens = _ensemble()
    assert ens.status == "partial"
    assert ens.message == "1 of 3 members failed: 1 diverged"
    assert summarize_statuses(np.zeros(4, dtype=np.int8)) == ("ok", "")
    assert ens.status_counts() == {"ok": 2, "diverged": 1}
    assert ens.ok_mask.tolist() == [True, False, True]


def test_member_extraction_and_final_states():
    ens = _ensemble()
    m1 = ens.member(1)
    assert isinstance(m1, Trajectory)
    assert m1.member_status is MemberStatus.DIVERGED and m1.status == "diverged"
    assert "t = 1.5" in m1.message
    assert m1.stats.num_steps == 5
    assert np.array_equal(ens.y_final[1], ens.y[1, 1])
    assert np.array_equal(ens.y_final[0], ens.y[0, 2])
    assert np.array_equal(m1["v"], ens.y[1, :, 1], equal_nan=True)
    with pytest.raises(InputError, match="no variable 'q'"):
        m1["q"]
    with pytest.raises(InputError, match="out of range"):
        ens.member(3)


def test_ensemble_frame_is_long_format(tmp_path):
    ens = _ensemble()
    frame = ens.to_frame()
    assert list(frame.columns) == ["member", "t", "x", "v", "status"]
    assert len(frame) == 9
    assert frame.loc[frame.member == 1, "status"].unique().tolist() == ["diverged"]
    back = pd.read_parquet(ens.save(tmp_path / "e.parquet"))
    assert back.shape == (9, 5)


def test_trajectory_frame_and_repr():
    ens = _ensemble()
    traj = ens.member(0)
    frame = traj.to_frame()
    assert list(frame.columns) == ["t", "x", "v"]
    assert "Trajectory(status='ok'" in repr(traj)
    assert "statuses" in repr(ens)
