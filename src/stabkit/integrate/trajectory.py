"""Trajectory and Ensemble results of integration.

A :class:`Trajectory` is one solution; an :class:`Ensemble` is many, on a common time
grid, each member with its own :class:`MemberStatus`: one member that blows up never
spoils the others.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING

import numpy as np

from stabkit.errors import InputError
from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Ensemble", "MemberStatus", "Trajectory"]


class MemberStatus(enum.IntEnum):
    """Outcome of one trajectory (stored as int8 codes in ensembles)."""

    OK = 0
    """Reached the end of ``t_span``."""
    TERMINATED = 1
    """Stopped by a terminal event (not an error)."""
    DIVERGED = 2
    """The state's max-norm passed the method's ``divergence_threshold``."""
    NON_FINITE = 3
    """The right-hand side returned NaN or infinity."""
    MAX_STEPS = 4
    """The method's ``max_steps`` was reached before the end."""
    STEP_TOO_SMALL = 5
    """The step size fell below the resolution of floating point at the current time."""
    SOLVER_FAILURE = 6
    """A linear solve failed (singular iteration matrix in a stiff method)."""
    NOT_RUN = 7
    """The member was not integrated (its input was invalid)."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def is_success(self) -> bool:
        return self in (MemberStatus.OK, MemberStatus.TERMINATED)


def _status_message(status: MemberStatus, t_final: float) -> str:
    if status is MemberStatus.OK:
        return ""
    if status is MemberStatus.TERMINATED:
        return f"terminated by an event at t = {t_final:.6g}"
    return f"{status.label.replace('_', ' ')} at t = {t_final:.6g}"


@dataclasses.dataclass(frozen=True, repr=False)
class Trajectory(Result):
    """One solution of a model.

    Attributes
    ----------
    t
        Output times, shape ``(num_times,)``. Past ``t_final`` of a failed run the
        rows of ``y`` are NaN.
    y
        States, shape ``(num_times, num_variables)``.
    variables
        Variable names (columns of ``y``).
    member_status
        :class:`MemberStatus`.
    t_final
        Time reached.
    t_events, y_events, event_index
        Event crossings: times ``(k,)``, states ``(k, num_variables)``, and which
        event (index into the ``events`` argument) each crossing belongs to.
    final_state
        The state at ``t_final`` as the integrator ended, ``(num_variables,)``; empty
        when unknown (then :attr:`y_final` falls back to the last finite row of ``y``).
    """

    t: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    y: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    variables: tuple[str, ...] = ()
    member_status: MemberStatus = MemberStatus.OK
    t_final: float = 0.0
    t_events: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    y_events: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    event_index: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    final_state: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))

    @property
    def y_final(self) -> np.ndarray:
        """The state at ``t_final``, shape ``(num_variables,)``."""
        if self.final_state.size:
            return self.final_state.copy()
        rows = np.flatnonzero(np.all(np.isfinite(self.y), axis=1))
        if rows.size == 0:
            return np.full(len(self.variables), np.nan)
        return self.y[rows[-1]].copy()

    def __getitem__(self, variable: str) -> np.ndarray:
        """Time series of one variable: ``traj["x"]``."""
        try:
            return self.y[:, self.variables.index(variable)]
        except ValueError:
            raise InputError(
                f"no variable {variable!r}; the trajectory has {', '.join(self.variables)}"
            ) from None

    def to_frame(self) -> pd.DataFrame:
        """Columns ``t`` and one per variable."""
        import pandas as pd

        frame = pd.DataFrame(self.y, columns=list(self.variables))
        frame.insert(0, "t", self.t)
        return frame

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(1, ("points", f"{self.t.size} times x {len(self.variables)} variables"))
        rows.insert(2, ("t_final", f"{self.t_final:.6g}"))
        rows.append(
            ("steps", f"{self.stats.num_steps} accepted, {self.stats.num_rejected} rejected")
        )
        return rows

    def __repr__(self) -> str:
        return (
            f"Trajectory(status={self.status!r}, t=[{self.t[0] if self.t.size else ''}.."
            f"{self.t_final:.6g}], num_times={self.t.size}, variables={list(self.variables)})"
        )


@dataclasses.dataclass(frozen=True, repr=False)
class Ensemble(Result):
    """Many solutions on a common time grid.

    Attributes
    ----------
    t
        Output times, shape ``(num_times,)``.
    y
        States, shape ``(num_members, num_times, num_variables)``; rows after a
        member's ``t_final`` are NaN.
    variables
        Variable names.
    member_status
        int8 codes of :class:`MemberStatus`, shape ``(num_members,)``.
    t_final
        Time each member reached, shape ``(num_members,)``.
    y0
        Initial states, shape ``(num_members, num_variables)``.
    params
        Parameter vectors, shape ``(num_members, num_parameters)``.
    parameters
        Parameter names.
    num_steps, num_rejected
        Per-member step counts, shape ``(num_members,)``.
    t_events, y_events, event_index
        Event crossings per member, first ``max_events`` of each: times
        ``(num_members, max_events)`` (NaN-padded), states
        ``(num_members, max_events, num_variables)`` and which event (-1 padded).

    ``status`` is ``"ok"`` when every member succeeded and ``"partial"`` otherwise;
    ``message`` counts members by status.
    """

    t: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    y: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    variables: tuple[str, ...] = ()
    member_status: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty(0, dtype=np.int8)
    )
    t_final: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    y0: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    params: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    parameters: tuple[str, ...] = ()
    num_steps: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    num_rejected: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty(0, dtype=np.int64)
    )
    t_events: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    y_events: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0)))
    event_index: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty((0, 0), dtype=np.int64)
    )

    @property
    def num_members(self) -> int:
        return int(self.y.shape[0])

    def __len__(self) -> int:
        return self.num_members

    @property
    def ok_mask(self) -> np.ndarray:
        """Boolean mask of members that succeeded (OK or TERMINATED)."""
        return np.isin(self.member_status, (MemberStatus.OK, MemberStatus.TERMINATED))

    @property
    def y_final(self) -> np.ndarray:
        """Last finite state of each member, shape ``(num_members, num_variables)``."""
        out = np.full((self.num_members, len(self.variables)), np.nan)
        finite = np.all(np.isfinite(self.y), axis=2)
        for i in range(self.num_members):
            rows = np.flatnonzero(finite[i])
            if rows.size:
                out[i] = self.y[i, rows[-1]]
        return out

    def status_counts(self) -> dict[str, int]:
        """``{status label: number of members}`` for the statuses that occur."""
        codes, counts = np.unique(self.member_status, return_counts=True)
        return {MemberStatus(int(c)).label: int(n) for c, n in zip(codes, counts, strict=True)}

    def member(self, index: int) -> Trajectory:
        """Member ``index`` as a :class:`Trajectory`."""
        if not -self.num_members <= index < self.num_members:
            raise InputError(
                f"member index {index} out of range for an ensemble of {self.num_members}"
            )
        status = MemberStatus(int(self.member_status[index]))
        events: dict[str, np.ndarray] = {}
        if self.event_index.shape[0] == self.num_members:
            keep = self.event_index[index] >= 0
            events = {
                "t_events": self.t_events[index][keep].copy(),
                "y_events": self.y_events[index][keep].copy(),
                "event_index": self.event_index[index][keep].copy(),
            }
        return Trajectory(
            status="ok" if status.is_success else status.label,
            message=_status_message(status, float(self.t_final[index])),
            stats=dataclasses.replace(
                self.stats,
                num_steps=int(self.num_steps[index]),
                num_rejected=int(self.num_rejected[index]),
                extra={},
            ),
            provenance=self.provenance,
            t=self.t.copy(),
            y=self.y[index].copy(),
            variables=self.variables,
            member_status=status,
            t_final=float(self.t_final[index]),
            **events,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long format: columns ``member``, ``t``, one per variable, ``status``."""
        import pandas as pd

        m, k, n = self.y.shape
        frame = pd.DataFrame(self.y.reshape(m * k, n), columns=list(self.variables))
        frame.insert(0, "t", np.tile(self.t, m))
        frame.insert(0, "member", np.repeat(np.arange(m), k))
        labels = np.array([MemberStatus(int(c)).label for c in range(len(MemberStatus))])
        frame["status"] = labels[np.repeat(self.member_status.astype(np.int64), k)]
        return frame

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(1, ("members", str(self.num_members)))
        rows.insert(
            2, ("statuses", ", ".join(f"{k}: {v}" for k, v in self.status_counts().items()))
        )
        return rows

    def __repr__(self) -> str:
        return (
            f"Ensemble(status={self.status!r}, num_members={self.num_members}, "
            f"num_times={self.t.size}, variables={list(self.variables)}, "
            f"statuses={self.status_counts()})"
        )


def summarize_statuses(codes: np.ndarray) -> tuple[str, str]:
    """``(status, message)`` of an ensemble from its member codes."""
    codes = np.asarray(codes)
    bad = ~np.isin(codes, (MemberStatus.OK, MemberStatus.TERMINATED))
    if not bad.any():
        return "ok", ""
    parts = []
    for code in np.unique(codes[bad]):
        parts.append(f"{int(np.sum(codes == code))} {MemberStatus(int(code)).label}")
    return "partial", f"{int(bad.sum())} of {codes.size} members failed: " + ", ".join(parts)
