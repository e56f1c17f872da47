"""Integration methods as immutable objects.

A method object carries every setting of a scheme (tolerances, step limits); the
integrators read them. ``Dopri5(rtol=1e-8)`` rather than ``method="RK45", rtol=...``.
Strings appear only at the command line, through :func:`method_from_name`.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from stabkit.errors import InputError, suggest

__all__ = [
    "DOP853",
    "RK4",
    "AdaptiveMethod",
    "Auto",
    "Dopri5",
    "Event",
    "Method",
    "MethodFamily",
    "Rodas5",
    "Rosenbrock23",
    "Tsit5",
    "method_from_name",
]


class MethodFamily(enum.Enum):
    """How a method advances: explicit Runge-Kutta, Rosenbrock (linearly implicit), or automatic."""

    EXPLICIT = "explicit"
    FIXED = "fixed"
    ROSENBROCK = "rosenbrock"
    AUTO = "auto"


def _tolerance(value: Any, name: str, method: str) -> float | tuple[float, ...]:
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        val = float(value)
        if not math.isfinite(val) or val <= 0.0:
            raise InputError(
                f"{method}({name}={value!r}): tolerances must be finite and > 0; "
                f"typical values are {name}=1e-6 (rtol) or 1e-9 (atol)"
            )
        return val
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        vals = tuple(float(_tolerance(v, name, method)) for v in value)  # type: ignore[arg-type]
        if not vals:
            raise InputError(f"{method}({name}=[]): give one tolerance or one per variable")
        return vals
    raise InputError(f"{method}({name}={value!r}): expected a positive number or one per variable")


@dataclasses.dataclass(frozen=True)
class Method:
    """Base of all integration methods."""

    family: ClassVar[MethodFamily]
    """How the method advances (set by each concrete method)."""
    order: ClassVar[int]
    """Order of the solution the method advances."""

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclasses.dataclass(frozen=True)
class AdaptiveMethod(Method):
    """Common settings of adaptive-step methods.

    Parameters
    ----------
    rtol, atol
        Relative and absolute tolerances (> 0), scalars or one per variable. A step is
        accepted when the RMS norm of ``err_i / (atol_i + rtol_i * max(|y_i|, |y_new_i|))``
        is at most 1.
    first_step
        Initial step size; ``None`` chooses it (Hairer, Norsett & Wanner, II.4).
    max_step
        Largest step size allowed.
    max_steps
        Largest number of steps (accepted + rejected) per trajectory; reaching it marks
        the trajectory ``MAX_STEPS``.
    safety, min_factor, max_factor
        Step-size controller: new h = h * clip(safety * err^(-k), min_factor, max_factor).
    divergence_threshold
        A trajectory whose max-norm exceeds this is marked ``DIVERGED`` and stopped.
    """

    rtol: float | tuple[float, ...] = 1e-6
    atol: float | tuple[float, ...] = 1e-9
    first_step: float | None = None
    max_step: float = math.inf
    max_steps: int = 1_000_000
    safety: float = 0.9
    min_factor: float = 0.2
    max_factor: float = 10.0
    divergence_threshold: float = 1e100

    def __post_init__(self) -> None:
        object.__setattr__(self, "rtol", _tolerance(self.rtol, "rtol", self.name))
        object.__setattr__(self, "atol", _tolerance(self.atol, "atol", self.name))
        if self.first_step is not None and not (
            math.isfinite(self.first_step) and self.first_step > 0
        ):
            raise InputError(f"{self.name}(first_step={self.first_step!r}): must be > 0 or None")
        if not self.max_step > 0:
            raise InputError(f"{self.name}(max_step={self.max_step!r}): must be > 0")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, (int, np.integer)):
            raise InputError(f"{self.name}(max_steps={self.max_steps!r}): must be an integer")
        if self.max_steps < 1:
            raise InputError(f"{self.name}(max_steps={self.max_steps!r}): must be >= 1")
        if not 0 < self.safety <= 1:
            raise InputError(f"{self.name}(safety={self.safety!r}): must be in (0, 1]")
        if not 0 < self.min_factor < 1 < self.max_factor:
            raise InputError(
                f"{self.name}(min_factor={self.min_factor!r}, max_factor={self.max_factor!r}): "
                "need 0 < min_factor < 1 < max_factor"
            )
        if not self.divergence_threshold > 0:
            raise InputError(
                f"{self.name}(divergence_threshold={self.divergence_threshold!r}): must be > 0"
            )

    def tolerance_vectors(self, num_variables: int) -> tuple[np.ndarray, np.ndarray]:
        """``(rtol, atol)`` as float64 vectors of length ``num_variables``."""
        out = []
        for name in ("rtol", "atol"):
            val = getattr(self, name)
            if isinstance(val, tuple):
                if len(val) != num_variables:
                    raise InputError(
                        f"{self.name}({name}=...) has {len(val)} values but the model has "
                        f"{num_variables} variables; give one value or one per variable"
                    )
                out.append(np.array(val, dtype=np.float64))
            else:
                out.append(np.full(num_variables, float(val)))
        return out[0], out[1]


@dataclasses.dataclass(frozen=True)
class Dopri5(AdaptiveMethod):
    """Dormand-Prince 5(4), FSAL, PI step control, 4th-order dense output.

    Reference: Dormand & Prince, J. Comput. Appl. Math. 6 (1980); Hairer, Norsett &
    Wanner, Solving ODEs I (1993), II.5.
    """

    family: ClassVar[MethodFamily] = MethodFamily.EXPLICIT
    order: ClassVar[int] = 5

    beta: float = 0.04
    """PI controller: weight of the previous error (Hairer's DOPRI5 default 0.04)."""


@dataclasses.dataclass(frozen=True)
class Tsit5(AdaptiveMethod):
    """Tsitouras 5(4), FSAL, PI step control, 4th-order dense output.

    Reference: Ch. Tsitouras, Comput. Math. Appl. 62 (2011) 770-775.
    """

    family: ClassVar[MethodFamily] = MethodFamily.EXPLICIT
    order: ClassVar[int] = 5

    beta: float = 0.04


@dataclasses.dataclass(frozen=True)
class DOP853(AdaptiveMethod):
    """Dormand-Prince 8(5,3) with 7th-order dense output, for tight tolerances.

    Reference: Hairer, Norsett & Wanner, Solving ODEs I (1993), II.10.
    """

    family: ClassVar[MethodFamily] = MethodFamily.EXPLICIT
    order: ClassVar[int] = 8

    beta: float = 0.0


@dataclasses.dataclass(frozen=True)
class Rosenbrock23(AdaptiveMethod):
    """Rosenbrock 2(3) (Shampine & Reichelt's ode23s, L-stable) with the exact Jacobian.

    Reference: Shampine & Reichelt, SIAM J. Sci. Comput. 18 (1997) 1-22.
    """

    family: ClassVar[MethodFamily] = MethodFamily.ROSENBROCK
    order: ClassVar[int] = 2


@dataclasses.dataclass(frozen=True)
class Rodas5(AdaptiveMethod):
    """Rodas5: stiffly accurate Rosenbrock 5(4), L-stable, exact Jacobian.

    Reference: Di Marzo (1993); Hairer & Wanner, Solving ODEs II (1996), VI.4.
    """

    family: ClassVar[MethodFamily] = MethodFamily.ROSENBROCK
    order: ClassVar[int] = 5


@dataclasses.dataclass(frozen=True)
class RK4(Method):
    """Classical fixed-step Runge-Kutta of order 4.

    Parameters
    ----------
    dt
        Step size (> 0); the last step is shortened to land on ``t_span[1]``.
    divergence_threshold
        A trajectory whose max-norm exceeds this is marked ``DIVERGED``.
    """

    family: ClassVar[MethodFamily] = MethodFamily.FIXED
    order: ClassVar[int] = 4

    dt: float = 0.01
    divergence_threshold: float = 1e100

    def __post_init__(self) -> None:
        if not (isinstance(self.dt, (int, float)) and math.isfinite(self.dt) and self.dt > 0):
            raise InputError(f"RK4(dt={self.dt!r}): the step size must be finite and > 0")


@dataclasses.dataclass(frozen=True)
class Auto(AdaptiveMethod):
    """Start with a non-stiff method and switch to a stiff one when stiffness is detected.

    Stiffness is detected as in Hairer's DOPRI5: the estimate ``h * |lambda|`` of the
    step size times the dominant Jacobian eigenvalue stays above 3.25 (the edge of the
    stability region) for ``stiffness_patience`` accepted steps; the trajectory then
    continues with ``stiff`` (default :class:`Rodas5`) from the current state.
    """

    family: ClassVar[MethodFamily] = MethodFamily.AUTO
    order: ClassVar[int] = 5

    nonstiff: str = "dopri5"
    stiff: str = "rodas5"
    stiffness_patience: int = 15

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.nonstiff not in {"dopri5", "tsit5"}:
            raise InputError(f"Auto(nonstiff={self.nonstiff!r}): choose 'dopri5' or 'tsit5'")
        if self.stiff not in {"rodas5", "rosenbrock23"}:
            raise InputError(f"Auto(stiff={self.stiff!r}): choose 'rodas5' or 'rosenbrock23'")
        if self.stiffness_patience < 1:
            raise InputError(f"Auto(stiffness_patience={self.stiffness_patience}): must be >= 1")


@dataclasses.dataclass(frozen=True)
class Event:
    """A zero crossing to detect during integration.

    Parameters
    ----------
    expression
        For symbolic models, text in the model language (``"x - 1"``) or a sympy
        expression; for models built from Python functions, a numba function
        ``g(t, y, p) -> float``.
    direction
        ``+1`` only upward crossings, ``-1`` only downward, ``0`` both.
    terminal
        Stop the trajectory at the first crossing.
    name
        Label for reports.

    The crossing time is located to machine precision on the dense output
    (Illinois / regula falsi), and the state there is interpolated.
    """

    expression: Any
    direction: int = 0
    terminal: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if self.direction not in (-1, 0, 1):
            raise InputError(f"Event(direction={self.direction!r}): use -1, 0 or +1")


_REGISTRY: dict[str, type[Method]] = {
    "dopri5": Dopri5,
    "tsit5": Tsit5,
    "dop853": DOP853,
    "rk4": RK4,
    "rodas5": Rodas5,
    "rosenbrock23": Rosenbrock23,
    "auto": Auto,
}


def method_from_name(name: str, **settings: Any) -> Method:
    """The method called ``name`` (CLI use), e.g. ``method_from_name("dopri5", rtol=1e-8)``."""
    key = name.strip().lower()
    cls = _REGISTRY.get(key)
    if cls is None:
        hint = suggest(key, _REGISTRY)
        raise InputError(
            f"unknown method {name!r}; choose one of {', '.join(_REGISTRY)}"
            + (f"; {hint}" if hint else "")
        )
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - fields)
    if unknown:
        raise InputError(
            f"{cls.__name__} has no setting {unknown[0]!r}; it has {', '.join(sorted(fields))}"
        )
    return cls(**settings)
