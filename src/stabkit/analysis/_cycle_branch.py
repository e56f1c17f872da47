"""Result types of cycle continuation: :class:`CycleBranch` and :class:`CycleSpecialPoint`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._cycle_solve import Cycle
from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from stabkit.model.model import Model

__all__ = ["CycleBranch", "CycleSpecialPoint"]

_KIND_NAMES = {
    "LPC": "fold of cycles",
    "PD": "period doubling (flip)",
    "NS": "Neimark-Sacker (torus)",
}


@dataclasses.dataclass(frozen=True)
class CycleSpecialPoint:
    """A bifurcation of cycles located on a branch.

    Attributes
    ----------
    kind
        ``"LPC"`` (fold of cycles: a second multiplier at +1, the branch turns in the
        parameter), ``"PD"`` (a multiplier at -1, period doubling) or ``"NS"`` (a complex
        pair of multipliers on the unit circle, Neimark-Sacker).
    parameter
        The continuation parameter.
    parameter_value
        Its value at the point.
    index
        The point lies between branch points ``index`` and ``index + 1``.
    cycle
        The cycle there (period, profile, multipliers).
    located
        Whether the location converged (else the best point found).
    message
        Details: for NS the angle of the critical pair.
    """

    kind: str
    parameter: str
    parameter_value: float
    index: int
    cycle: Cycle
    located: bool = True
    message: str = ""

    @property
    def state(self) -> np.ndarray:
        """The cycle's first node, ``(n,)``."""
        return np.asarray(self.cycle.states[0])

    @property
    def period(self) -> float:
        return self.cycle.period

    @property
    def multipliers(self) -> np.ndarray:
        return self.cycle.floquet_multipliers

    @property
    def model(self) -> Model | None:
        """The model the point belongs to (for :func:`switch_period_doubling`)."""
        return getattr(self, "_model", None)

    def _attach(self, model: Model) -> CycleSpecialPoint:
        object.__setattr__(self, "_model", model)
        return self

    def __repr__(self) -> str:
        return (
            f"CycleSpecialPoint({self.kind!r}, {self.parameter}={self.parameter_value:.10g}, "
            f"period={self.cycle.period:.8g})"
        )


@dataclasses.dataclass(frozen=True, repr=False)
class CycleBranch(Result):
    """A branch of periodic orbits traced in one parameter.

    Iterating gives the :class:`Cycle` at each point.

    Attributes
    ----------
    parameter
        The continuation parameter.
    variables
        Variable names.
    parameter_values
        Shape ``(k,)``.
    periods
        Shape ``(k,)``.
    amplitudes
        ``max - min`` per variable, shape ``(k, n)``.
    multipliers
        Floquet multipliers, shape ``(k, n)``, complex, by modulus.
    stable
        Shape ``(k,)``, bool: every non-trivial multiplier inside the unit circle.
    cycles
        The :class:`Cycle` at every point.
    special_points
        Located LPC, PD and NS points, in the order met.
    """

    parameter: str = ""
    variables: tuple[str, ...] = ()
    parameter_values: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    periods: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    amplitudes: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    multipliers: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), complex))
    stable: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, bool))
    cycles: tuple[Cycle, ...] = ()
    special_points: tuple[CycleSpecialPoint, ...] = ()

    def __iter__(self) -> Iterator[Cycle]:
        return iter(self.cycles)

    def __len__(self) -> int:
        return len(self.cycles)

    def __getitem__(self, index: int) -> Cycle:
        return self.cycles[index]

    def special(self, kind: str) -> tuple[CycleSpecialPoint, ...]:
        """The special points of one kind (``"LPC"``, ``"PD"``, ``"NS"``)."""
        return tuple(s for s in self.special_points if s.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-point profiles (use ``cycles[i].to_dict()`` for those)."""
        from stabkit.results import to_jsonable

        out = {
            f.name: to_jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in {"cycles", "special_points"}
        }
        out["special_points"] = [
            {
                "kind": sp.kind,
                "parameter": sp.parameter,
                "parameter_value": sp.parameter_value,
                "index": sp.index,
                "period": sp.cycle.period,
                "multipliers": to_jsonable(sp.cycle.floquet_multipliers),
                "located": sp.located,
                "message": sp.message,
            }
            for sp in self.special_points
        ]
        out["type"] = type(self).__name__
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per point: parameter, period, amplitude per variable, stability."""
        import pandas as pd

        data: dict[str, Any] = {self.parameter: self.parameter_values, "period": self.periods}
        for k, v in enumerate(self.variables):
            data[f"amplitude_{v}"] = self.amplitudes[:, k] if self.amplitudes.size else []
        mods = np.abs(self.multipliers) if self.multipliers.size else np.empty((0, 0))
        data["max_multiplier_modulus"] = (
            np.array([np.max(np.delete(m, c.trivial_multiplier_index)) if m.size > 1 else np.nan
                      for m, c in zip(mods, self.cycles, strict=True)])
            if mods.size
            else []
        )  # fmt: skip
        data["stable"] = self.stable
        return pd.DataFrame(data)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Amplitude against the parameter, stable solid, unstable dashed, special points marked."""
        from stabkit.report.cycles_figures import plot_cycle_branch

        return plot_cycle_branch(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        if self.parameter_values.size:
            rows.insert(1, ("points", str(self.parameter_values.size)))
            rows.insert(
                2,
                (
                    self.parameter,
                    f"{self.parameter_values[0]:.6g} .. {self.parameter_values[-1]:.6g}",
                ),
            )
        sps = ", ".join(f"{sp.kind} at {sp.parameter_value:.6g}" for sp in self.special_points)
        rows.insert(3 if self.parameter_values.size else 1, ("special points", sps or "none"))
        return rows

    def __repr__(self) -> str:
        return (
            f"CycleBranch(status={self.status!r}, parameter={self.parameter!r}, "
            f"points={len(self.cycles)}, special_points={[sp.kind for sp in self.special_points]})"
        )


def describe_kind(kind: str) -> str:
    return _KIND_NAMES.get(kind, kind)
