"""Ready-made per-point analyses for :func:`stabkit.sweep.sweep`.

Each is a frozen dataclass (picklable, its settings in its ``repr``) called as
``analysis(model, point) -> dict`` of scalar outcomes, with a ``name`` used by the CLI
(``stabkit sweep --analysis NAME``) and recorded in the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from stabkit.errors import InputError, suggest

__all__ = ["ANALYSES", "Equilibria", "LargestLyapunov", "Simulate", "analysis_from_name"]


@dataclasses.dataclass(frozen=True)
class Equilibria:
    """All equilibria (``find_equilibria``) and their stability at the point.

    Outcomes: ``num_equilibria``, ``num_stable``, ``max_real_part`` (the largest real part
    of an eigenvalue over all equilibria, for maps ``max_modulus - 1``), ``guarantee``.
    """

    bounds: Mapping[str, tuple[float, float]] | None = None
    name: str = "equilibria"

    def __call__(self, model: Any, point: Mapping[str, float]) -> dict[str, Any]:
        from stabkit.analysis.equilibria import find_equilibria

        kwargs: dict[str, Any] = {}
        if self.bounds is not None:
            kwargs["bounds"] = dict(self.bounds)
        res = find_equilibria(model, **kwargs)
        eqs = res.equilibria
        leading = []
        stable = 0
        for e in eqs:
            lam = np.asarray(e.stability.eigenvalues)
            if model.kind.value == "map":
                leading.append(float(np.max(np.abs(lam))) - 1.0 if lam.size else np.nan)
            else:
                leading.append(float(np.max(lam.real)) if lam.size else np.nan)
            stable += bool(e.stability.is_stable)
        return {
            "num_equilibria": len(eqs),
            "num_stable": stable,
            "max_real_part": max(leading) if leading else float("nan"),
            "guarantee": str(res.guarantee),
        }


@dataclasses.dataclass(frozen=True)
class Simulate:
    """Integrate from the point's state; outcomes: final state and ``status``."""

    t_end: float = 100.0
    name: str = "simulate"

    def __call__(self, model: Any, point: Mapping[str, float]) -> dict[str, Any]:
        from stabkit.integrate.solve import solve

        traj = solve(model, t_span=(0.0, float(self.t_end)))
        out: dict[str, Any] = {
            f"final_{v}": float(x) for v, x in zip(model.variables, traj.y_final, strict=True)
        }
        out["status"] = str(traj.status)
        return out


@dataclasses.dataclass(frozen=True)
class LargestLyapunov:
    """The largest Lyapunov exponent (fast path) with its standard error."""

    t_max: float = 200.0
    name: str = "lyapunov"

    def __call__(self, model: Any, point: Mapping[str, float]) -> dict[str, Any]:
        from stabkit.analysis.lyapunov import QR, largest_lyapunov_exponent

        r = largest_lyapunov_exponent(model, method=QR(t_max=float(self.t_max)))
        return {
            "lyapunov": float(r.exponents[0]),
            "lyapunov_se": float(r.standard_errors[0]),
            "status": "ok" if r.status in ("ok", "converged") else str(r.status),
        }


ANALYSES: dict[str, Any] = {
    "equilibria": Equilibria,
    "simulate": Simulate,
    "lyapunov": LargestLyapunov,
}


def _register_fast() -> None:
    from stabkit.sweep.fast_analyses import NewtonStability

    ANALYSES.setdefault("newton", NewtonStability)


def analysis_from_name(name: str, **settings: Any) -> Any:
    """The ready-made analysis called ``name`` (the CLI's registry)."""
    _register_fast()
    cls = ANALYSES.get(name)
    if cls is None:
        raise InputError(
            f"--analysis {name!r}: known analyses are {sorted(ANALYSES)}{suggest(name, ANALYSES)}"
        )
    return cls(**settings)
