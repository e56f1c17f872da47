"""Result types of two-parameter continuation: :class:`BifurcationCurve`, :class:`Codim2Point`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CODIM2_KINDS", "BifurcationCurve", "Codim2Point"]

#: What each codim-2 label means.
CODIM2_KINDS = {
    "CP": "cusp: the fold coefficient vanishes on a fold curve",
    "BT": "Bogdanov-Takens: a double zero eigenvalue (fold and Hopf curves meet)",
    "GH": "generalised Hopf (Bautin): l1 = 0 on a Hopf curve",
    "ZH": "zero-Hopf (fold-Hopf): a zero eigenvalue and a pair +- i omega",
    "HH": "double Hopf: two pairs of purely imaginary eigenvalues",
    "R1": "1:1 resonance (maps): a double multiplier 1",
    "R2": "1:2 resonance (maps): a double multiplier -1",
    "R3": "1:3 resonance (maps): multipliers exp(+-2 pi i / 3)",
    "R4": "1:4 resonance (maps): multipliers +-i",
    "LPPD": "fold-flip (maps): multipliers 1 and -1",
    "LPNS": "fold-Neimark-Sacker (maps): a multiplier 1 and a pair on the unit circle",
    "PDNS": "flip-Neimark-Sacker (maps): a multiplier -1 and a pair on the unit circle",
    "GPD": "generalised flip (maps): the flip coefficient vanishes",
    "CH": "Chenciner (maps): the Neimark-Sacker coefficient vanishes",
}


@dataclasses.dataclass(frozen=True)
class Codim2Point:
    """A codimension-two point located on a fold or Hopf curve.

    Attributes
    ----------
    kind
        Flows: ``"CP"``, ``"BT"``, ``"GH"``, ``"ZH"``, ``"HH"``; maps: ``"CP"``, ``"R1"``
        to ``"R4"``, ``"LPPD"``, ``"LPNS"``, ``"PDNS"``, ``"GPD"``, ``"CH"`` (see
        ``CODIM2_KINDS``).
    curve
        The curve it was found on: ``"LP"`` (fold), ``"H"`` (Hopf), ``"PD"`` (flip) or
        ``"NS"`` (Neimark-Sacker).
    parameters
        The two free parameters' names.
    parameter_values
        Their values at the point, ``(p1, p2)``.
    params
        Every parameter value there.
    state
        The equilibrium, shape ``(n,)``.
    eigenvalues
        Eigenvalues of the Jacobian there, shape ``(n,)``.
    coefficients
        Normal-form data in Kuznetsov's normalisation (:mod:`stabkit.analysis.normal_forms`):
        ``c`` (CP), ``a`` and ``b`` (BT), ``l2`` and ``omega`` (GH), those of
        :func:`~stabkit.analysis.normal_forms.zero_hopf_coefficients` (ZH: ``omega, b, c,
        d_real, d_imag, s, theta``) and of
        :func:`~stabkit.analysis.normal_forms.double_hopf_coefficients` (HH: ``omega1,
        omega2, p11, p12, p21, p22, theta, delta``); empty where not computed (a message
        says why).
    index
        Position in the curve's points (the point is inserted there).
    located
        Whether the test function's zero converged.
    message
        Notes.
    """

    kind: str
    curve: str
    parameters: tuple[str, str]
    parameter_values: tuple[float, float]
    params: Mapping[str, float]
    state: np.ndarray
    eigenvalues: np.ndarray
    coefficients: Mapping[str, float]
    index: int
    located: bool = True
    message: str = ""

    def __repr__(self) -> str:
        coeff = ", ".join(f"{k}={v:.6g}" for k, v in self.coefficients.items())
        (n1, n2), (v1, v2) = self.parameters, self.parameter_values
        return (
            f"Codim2Point({self.kind} at {n1}={v1:.10g}, {n2}={v2:.10g}"
            + (f"; {coeff}" if coeff else "")
            + ")"
        )


@dataclasses.dataclass(frozen=True)
class BifurcationCurve(Result):
    """A fold, Hopf, flip or Neimark-Sacker curve (``kind`` LP, H, PD, NS) in a parameter plane.

    Attributes
    ----------
    kind
        ``"LP"`` or ``"H"``.
    parameters
        ``(p1, p2)``.
    variables
        State variable names.
    points
        Parameter values along the curve, shape ``(m, 2)``, in order (codim-2 points
        included).
    states
        Equilibria along the curve, shape ``(m, n)``.
    eigenvalues
        Eigenvalues at each point, shape ``(m, n)``.
    frequency
        Hopf curves: ``omega = sqrt(kappa)`` of the critical pair (NaN where the pair is
        real, beyond a Bogdanov-Takens point: a curve of neutral saddles); Neimark-Sacker
        curves: the angle ``theta`` of the multipliers; otherwise NaN.
    first_lyapunov
        Hopf curves: ``l1`` at each point (Kuznetsov's normalisation, see
        :func:`~stabkit.analysis.normal_forms.first_lyapunov_coefficient`; negative:
        supercritical), NaN on neutral saddles and on fold curves.
    special_points
        Located codim-2 points.
    base_params
        The values of the other parameters (held fixed).
    end_reasons
        Why each end stopped (backward end first).
    """

    kind: str = "LP"
    parameters: tuple[str, str] = ("", "")
    variables: tuple[str, ...] = ()
    points: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 2)))
    states: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    eigenvalues: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty((0, 0), dtype=complex)
    )
    frequency: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    first_lyapunov: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    special_points: tuple[Codim2Point, ...] = ()
    base_params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    end_reasons: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def special(self, kind: str) -> tuple[Codim2Point, ...]:
        """The codim-2 points of one kind."""
        return tuple(s for s in self.special_points if s.kind == kind)

    def to_frame(self) -> pd.DataFrame:
        """One row per point: both parameters, the state, the frequency, max Re(lambda)."""
        import pandas as pd

        data: dict[str, Any] = {
            self.parameters[0]: self.points[:, 0],
            self.parameters[1]: self.points[:, 1],
        }
        for j, name in enumerate(self.variables):
            data[name] = self.states[:, j] if len(self) else np.empty(0)
        data["frequency"] = self.frequency
        data["l1"] = self.first_lyapunov
        data["max_real_eigenvalue"] = (
            np.max(self.eigenvalues.real, axis=1) if len(self) else np.empty(0)
        )
        labels = np.array([""] * len(self), dtype=object)
        for s in self.special_points:
            labels[s.index] = s.kind
        data["special"] = labels
        frame = pd.DataFrame(data)
        frame.attrs["curve"] = self.kind
        return frame

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """The curve in the parameter plane with its codim-2 points labelled."""
        from stabkit.report.codim2_figures import plot_bifurcation_curve

        return plot_bifurcation_curve(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        name = {"LP": "fold", "H": "Hopf"}.get(self.kind, self.kind)
        rows.insert(0, ("curve", f"{name} in ({self.parameters[0]}, {self.parameters[1]})"))
        rows.insert(1, ("points", str(len(self))))
        if self.special_points:
            rows.insert(2, ("codim-2 points", ", ".join(repr(s) for s in self.special_points)))
        return rows

    def __repr__(self) -> str:
        kinds = ", ".join(s.kind for s in self.special_points) or "none"
        return (
            f"BifurcationCurve({self.kind} in {self.parameters}, {len(self)} points, "
            f"codim-2: {kinds}, status={self.status!r})"
        )
