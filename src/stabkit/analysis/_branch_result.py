"""The result types of :func:`stabkit.analysis.continuation.continue_branch`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Branch", "BranchPoint", "SpecialPoint"]


@dataclasses.dataclass(frozen=True)
class SpecialPoint:
    """A located special point of a branch.

    Attributes
    ----------
    kind
        Flows: ``"LP"`` (fold, limit point), ``"H"`` (Hopf), ``"BP"`` (branch point);
        maps: ``"LP"`` (fold, multiplier +1), ``"PD"`` (flip, multiplier -1), ``"NS"``
        (Neimark-Sacker, a complex pair on the unit circle), ``"BP"``. ``"NSA"`` marks a
        neutral saddle (real eigenvalues lambda, -lambda; for maps mu, 1/mu), where the
        Hopf or Neimark-Sacker test vanishes but nothing bifurcates.
    parameter
        The continued parameter's name.
    parameter_value
        Its value at the point (located to 1e-10 by default).
    state
        The point, shape ``(n,)``.
    params
        Every parameter value at the point (start a further continuation with these).
    eigenvalues
        Eigenvalues (multipliers for maps) of the linearisation there, shape ``(n,)``.
    coefficients
        Normal-form data: ``a`` (LP), ``l1`` and ``omega`` (H), ``c`` (PD), ``d`` and
        ``theta`` (NS), in Kuznetsov's normalisation (see
        :mod:`stabkit.analysis.normal_forms`).
    first_lyapunov_coefficient
        l1 at a Hopf point (``<q, q> = 1``, ``<p, q> = 1``), else ``None``.
    criticality
        ``"supercritical"``, ``"subcritical"``, ``"degenerate"`` (coefficient zero to
        1e-10) or ``None`` (LP, BP, or no coefficient).
    index
        Row of the point in the branch's arrays.
    tangent
        Unit tangent of the branch there, shape ``(n + 1,)`` (the parameter last).
    located
        Whether the zero of the test function converged to the tolerance.
    message
        Notes (neutral saddle, why a coefficient is missing, ...).
    """

    kind: str
    parameter: str
    parameter_value: float
    state: np.ndarray
    params: Mapping[str, float]
    eigenvalues: np.ndarray
    coefficients: Mapping[str, float]
    first_lyapunov_coefficient: float | None
    criticality: str | None
    index: int
    tangent: np.ndarray
    located: bool = True
    period: int = 1
    message: str = ""

    def __repr__(self) -> str:
        extra = f", l1={self.first_lyapunov_coefficient:.6g}" if self.kind == "H" else ""
        extra += f", {self.criticality}" if self.criticality else ""
        return f"SpecialPoint({self.kind} at {self.parameter}={self.parameter_value:.10g}{extra})"


class BranchPoint(NamedTuple):
    """One point of a branch, as yielded by iterating over a :class:`Branch`."""

    parameter_value: float
    state: np.ndarray
    stable: bool
    eigenvalues: np.ndarray


@dataclasses.dataclass(frozen=True, repr=False)
class Branch(Result):
    """A branch of equilibria (flows) or of period-k points (maps) in one parameter.

    Iterating yields :class:`BranchPoint` ``(parameter_value, state, stable,
    eigenvalues)`` in order along the branch; located special points are points of
    the branch too (``special_points[i].index``).

    Attributes
    ----------
    parameter
        The continued parameter.
    variables
        Variable names.
    kind
        ``"ode"`` or ``"map"``.
    period
        Period of the points (maps).
    params
        The other parameters' values.
    parameter_values
        Shape ``(m,)``.
    states
        Shape ``(m, n)``.
    tangents
        Unit tangents in (state, parameter), shape ``(m, n + 1)``.
    eigenvalues
        Shape ``(m, n)``: by real part (flows) or modulus (maps), descending.
    num_unstable
        Unstable eigenvalues per point (real part > 0, or modulus > 1), shape ``(m,)``.
    stable
        Linearly asymptotically stable points, shape ``(m,)``.
    special_points
        :class:`SpecialPoint` objects in order along the branch.
    status
        ``"ok"`` (reached ``to``), ``"left_bounds"``, ``"step_collapsed"``,
        ``"max_points"``, ``"closed_loop"``; ``message`` says why in words.
    """

    parameter: str = ""
    variables: tuple[str, ...] = ()
    kind: str = "ode"
    period: int = 1
    params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    parameter_values: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    states: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    tangents: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    eigenvalues: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), complex))
    num_unstable: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, int))
    stable: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, bool))
    special_points: tuple[SpecialPoint, ...] = ()

    def __len__(self) -> int:
        return int(self.parameter_values.size)

    def __iter__(self) -> Iterator[BranchPoint]:  # type: ignore[override,unused-ignore]
        for i in range(len(self)):
            yield BranchPoint(
                float(self.parameter_values[i]),
                self.states[i],
                bool(self.stable[i]),
                self.eigenvalues[i],
            )

    def special(self, kind: str) -> tuple[SpecialPoint, ...]:
        """The special points of one kind (``"H"``, ``"LP"``, ...)."""
        return tuple(s for s in self.special_points if s.kind == kind)

    def to_frame(self) -> pd.DataFrame:
        """One row per point: parameter, state, stability, leading eigenvalue, label."""
        import pandas as pd

        frame = pd.DataFrame(self.states, columns=list(self.variables))
        frame.insert(0, self.parameter, self.parameter_values)
        frame["stable"] = self.stable
        frame["num_unstable"] = self.num_unstable
        if self.kind == "map":
            frame["max_modulus"] = np.max(np.abs(self.eigenvalues), axis=1, initial=0.0)
        else:
            frame["max_real_part"] = np.max(self.eigenvalues.real, axis=1, initial=-np.inf)
        labels = np.full(len(self), "", dtype=object)
        for s in self.special_points:
            labels[s.index] = s.kind
        frame["special"] = labels
        return frame

    def plot(self, ax: Any = None, variable: int | str = 0, **kwargs: Any) -> Any:
        """Bifurcation diagram: ``variable`` against the parameter (needs matplotlib).

        Stable parts solid, unstable parts dashed, special points marked and labelled.
        """
        from stabkit.report.continuation_figures import plot_branch

        return plot_branch(self, ax=ax, variable=variable, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        if len(self):
            lo, hi = float(np.min(self.parameter_values)), float(np.max(self.parameter_values))
            rows.insert(1, ("points", f"{len(self)} ({self.parameter} from {lo:.6g} to {hi:.6g})"))
        rows.insert(2, ("special points", ", ".join(repr(s) for s in self.special_points)))
        return rows

    def __repr__(self) -> str:
        kinds = ", ".join(f"{s.kind}@{s.parameter_value:.6g}" for s in self.special_points)
        return (
            f"Branch({self.parameter}: {len(self)} points, special=[{kinds}], "
            f"status={self.status!r})"
        )
