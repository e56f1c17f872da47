"""Linear stability of an equilibrium (flows) or a fixed or periodic point (maps).

The eigenvalues of the Jacobian decide: for a flow x' = f(x), an equilibrium is
asymptotically stable when every eigenvalue of Df has negative real part and unstable
when one has positive real part; for a map x -> f(x), a fixed point is stable when every
eigenvalue (multiplier) of Df lies inside the unit circle, and a point of period k is
judged by the multipliers of D(f^k) = Df(x_{k-1}) ... Df(x_0) (Kuznetsov, *Elements of
Applied Bifurcation Theory*, 3rd ed., Sections 1.4 and 2.1). Eigenvalues within a stated
tolerance of the imaginary axis (of the unit circle) are *critical*: the point is then
non-hyperbolic, and linearisation alone does not decide its stability.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from stabkit.analysis._system import CompiledSystem, check_model, check_period
from stabkit.errors import InputError
from stabkit.model.model import Model, _named_vector
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LinearStability", "StabilityType", "classify_eigenvalues", "linear_stability"]


class StabilityType(enum.Enum):
    """What the eigenvalues of the linearisation say about a point."""

    STABLE_NODE = "stable node"
    """Flow: all eigenvalues real and negative."""
    STABLE_FOCUS = "stable focus"
    """Flow: all real parts negative, some eigenvalues complex."""
    UNSTABLE_NODE = "unstable node"
    """Flow: all eigenvalues real and positive."""
    UNSTABLE_FOCUS = "unstable focus"
    """Flow: all real parts positive, some eigenvalues complex."""
    SADDLE = "saddle"
    """Flow: real eigenvalues of both signs; map: multipliers inside and outside the unit circle."""
    SADDLE_FOCUS = "saddle-focus"
    """Flow: real parts of both signs, some eigenvalues complex."""
    CENTRE = "centre"
    """Flow: every eigenvalue on the imaginary axis and none zero (a linear centre)."""
    STABLE = "stable"
    """Map: every multiplier inside the unit circle."""
    UNSTABLE = "unstable"
    """Map: every multiplier outside the unit circle."""
    FLIP = "flip"
    """Map: non-hyperbolic with a multiplier at -1 (period doubling)."""
    NON_HYPERBOLIC = "non-hyperbolic"
    """A critical eigenvalue (zero real part for flows, modulus one for maps)."""


@dataclasses.dataclass(frozen=True)
class Classification:
    """The counts and labels of :func:`classify_eigenvalues`."""

    classification: StabilityType
    dim_stable: int
    dim_unstable: int
    dim_centre: int
    critical: tuple[str, ...]
    tolerance: float


def _sorted(values: np.ndarray, vectors: np.ndarray, is_map: bool) -> tuple[np.ndarray, np.ndarray]:
    keys = (
        (-values.imag, -values.real) if not is_map else (-values.imag, -values.real, -abs(values))
    )
    order = np.lexsort(keys)
    return values[order], vectors[:, order]


def classify_eigenvalues(
    eigenvalues: Sequence[complex] | np.ndarray, *, is_map: bool = False, tol: float = 1e-8
) -> Classification:
    """Classify a point by the eigenvalues of its linearisation.

    Parameters
    ----------
    eigenvalues
        Eigenvalues of Df (flows) or D(f^k) (maps), shape ``(n,)``.
    is_map
        Judge by modulus against 1 (maps) instead of real part against 0 (flows).
    tol
        Relative tolerance: for flows an eigenvalue is critical when
        ``|Re lambda| <= tol * max(1, max |lambda|)``; for maps when
        ``||lambda| - 1| <= tol``. The absolute threshold is returned as ``tolerance``.

    Returns
    -------
    Classification
        The type, the dimensions of the stable, unstable and centre subspaces, and the
        kinds of critical eigenvalues: ``"fold"`` (0 for flows, +1 for maps), ``"hopf"``
        (a pair +-i omega), ``"flip"`` (-1) and ``"neimark-sacker"`` (a complex pair of
        modulus 1).

    Examples
    --------
    >>> c = classify_eigenvalues([-1.0 + 2.0j, -1.0 - 2.0j, 0.5])
    >>> c.classification.value, c.dim_stable, c.dim_unstable
    ('saddle-focus', 2, 1)
    >>> classify_eigenvalues([-1.0], is_map=True).classification.value
    'flip'
    """
    lam = np.asarray(eigenvalues, dtype=np.complex128).ravel()
    if is_map:
        thr = float(tol)
        distance = np.abs(lam) - 1.0
    else:
        thr = float(tol) * max(1.0, float(np.max(np.abs(lam), initial=0.0)))
        distance = lam.real
    unstable = distance > thr
    stable = distance < -thr
    centre = ~(unstable | stable)
    is_complex = np.abs(lam.imag) > thr
    critical: list[str] = []
    for value, cplx in zip(lam[centre], is_complex[centre], strict=True):
        if is_map:
            kind = "neimark-sacker" if cplx else ("fold" if value.real > 0 else "flip")
        else:
            kind = "hopf" if cplx else "fold"
        if kind not in critical:
            critical.append(kind)
    n_s, n_u, n_c = int(stable.sum()), int(unstable.sum()), int(centre.sum())
    any_complex = bool(np.any(is_complex))
    if n_c:
        if is_map and "flip" in critical:
            kind_ = StabilityType.FLIP
        elif not is_map and n_c == lam.size and critical == ["hopf"]:
            kind_ = StabilityType.CENTRE
        else:
            kind_ = StabilityType.NON_HYPERBOLIC
    elif is_map:
        kind_ = (
            StabilityType.SADDLE
            if n_s and n_u
            else StabilityType.UNSTABLE
            if n_u
            else StabilityType.STABLE
        )
    elif n_s and n_u:
        kind_ = StabilityType.SADDLE_FOCUS if any_complex else StabilityType.SADDLE
    elif n_u:
        kind_ = StabilityType.UNSTABLE_FOCUS if any_complex else StabilityType.UNSTABLE_NODE
    else:
        kind_ = StabilityType.STABLE_FOCUS if any_complex else StabilityType.STABLE_NODE
    return Classification(kind_, n_s, n_u, n_c, tuple(critical), thr)


@dataclasses.dataclass(frozen=True, repr=False)
class LinearStability(Result):
    """Linear stability of one point: eigenvalues, their classification, subspace dimensions.

    Attributes
    ----------
    variables
        Variable names.
    state
        The point, shape ``(n,)``.
    kind
        ``"ode"`` (flow) or ``"map"``.
    period
        Period of the point (maps); the linearisation is then D(f^period).
    jacobian
        The linearisation: Df for flows, D(f^period) for maps, shape ``(n, n)``.
    jacobian_source
        ``"exact"``, ``"user"`` (the model's ``jac_fn``) or ``"finite differences"``.
    eigenvalues
        Shape ``(n,)``, complex; by real part descending (flows) or by modulus
        descending (maps).
    eigenvectors
        Unit eigenvectors as columns, in the order of ``eigenvalues``.
    classification
        :class:`StabilityType`.
    dim_stable, dim_unstable, dim_centre
        Dimensions of the stable, unstable and centre subspaces.
    critical
        Kinds of critical eigenvalues (see :func:`classify_eigenvalues`).
    tolerance
        Absolute threshold used for "critical": on ``|Re lambda|`` (flows) or on
        ``||lambda| - 1|`` (maps).
    is_stable
        Linearly asymptotically stable: hyperbolic with no unstable direction.
    is_hyperbolic
        No critical eigenvalue.
    max_real_part, max_modulus
        Largest real part and largest modulus of the eigenvalues.
    residual
        ``||f(x)||_inf`` (flows) or ``||f^period(x) - x||_inf`` (maps).
    is_equilibrium
        Whether the residual is small enough for ``state`` to be an equilibrium.
    """

    variables: tuple[str, ...] = ()
    state: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    kind: str = "ode"
    period: int = 1
    jacobian: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    jacobian_source: str = "exact"
    eigenvalues: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, complex))
    eigenvectors: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), complex))
    classification: StabilityType = StabilityType.NON_HYPERBOLIC
    dim_stable: int = 0
    dim_unstable: int = 0
    dim_centre: int = 0
    critical: tuple[str, ...] = ()
    tolerance: float = 0.0
    is_stable: bool = False
    is_hyperbolic: bool = False
    max_real_part: float = np.nan
    max_modulus: float = np.nan
    residual: float = 0.0
    is_equilibrium: bool = True

    @property
    def state_map(self) -> dict[str, float]:
        """``{variable: value}``."""
        return {v: float(x) for v, x in zip(self.variables, self.state, strict=True)}

    def to_frame(self) -> pd.DataFrame:
        """One row per eigenvalue: real and imaginary parts, modulus, subspace."""
        import pandas as pd

        lam = self.eigenvalues
        side = np.abs(lam) - 1.0 if self.kind == "map" else lam.real
        subspace = np.where(side > self.tolerance, "unstable", "stable")
        subspace = np.where(np.abs(side) <= self.tolerance, "centre", subspace)
        return pd.DataFrame(
            {"real": lam.real, "imag": lam.imag, "modulus": np.abs(lam), "subspace": subspace}
        )

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(1, ("classification", self.classification.value))
        rows.insert(2, ("eigenvalues", ", ".join(f"{z:.6g}" for z in self.eigenvalues)))
        rows.insert(
            3, ("dims (s, u, c)", f"{self.dim_stable}, {self.dim_unstable}, {self.dim_centre}")
        )
        return rows

    def __repr__(self) -> str:
        return (
            f"LinearStability({self.classification.value!r}, state={self.state_map}, "
            f"eigenvalues={np.array2string(self.eigenvalues, precision=6)})"
        )


def stability_at(
    system: CompiledSystem, x: np.ndarray, provenance: Provenance, tol: float | None
) -> LinearStability:
    """Linear stability at ``x`` through an already compiled system."""
    t0 = time.perf_counter()
    rhs0, jac0 = system.num_rhs, system.num_jac
    x = np.asarray(x, dtype=np.float64)
    jac = system.linearisation(x)
    if not np.all(np.isfinite(jac)):
        raise InputError(
            f"state={dict(zip(system.model.variables, x.tolist(), strict=True))}: the "
            "Jacobian is not finite there (outside the domain of the right-hand side?); "
            "give a state where the model is defined"
        )
    residual = float(np.max(np.abs(system.residual(x)), initial=0.0))
    values, vectors = np.linalg.eig(jac)
    values, vectors = _sorted(
        values.astype(np.complex128), vectors.astype(np.complex128), system.is_map
    )
    if tol is None:
        tol = 1e-6 if system.jacobian_source == "finite differences" else 1e-8
    c = classify_eigenvalues(values, is_map=system.is_map, tol=tol)
    scale = max(1.0, float(np.max(np.abs(x), initial=0.0))) * max(1.0, float(np.max(np.abs(jac))))
    is_eq = bool(np.isfinite(residual) and residual <= 1e-8 * scale)
    message = ""
    if not is_eq:
        what = (
            "an equilibrium"
            if not system.is_map
            else "a fixed point"
            if system.period == 1
            else f"a point of period {system.period}"
        )
        message = (
            f"the state is not {what}: residual {residual:.3g}; the stability reported "
            "is that of the linearisation there"
        )
    return LinearStability(
        status="ok",
        message=message,
        stats=Stats(
            num_rhs_evaluations=system.num_rhs - rhs0,
            num_jacobian_evaluations=system.num_jac - jac0,
            wall_time=time.perf_counter() - t0,
        ),
        provenance=provenance,
        variables=system.model.variables,
        state=x.copy(),
        kind="map" if system.is_map else "ode",
        period=system.period,
        jacobian=jac,
        jacobian_source=system.jacobian_source,
        eigenvalues=values,
        eigenvectors=vectors,
        classification=c.classification,
        dim_stable=c.dim_stable,
        dim_unstable=c.dim_unstable,
        dim_centre=c.dim_centre,
        critical=c.critical,
        tolerance=c.tolerance,
        is_stable=c.dim_centre == 0 and c.dim_unstable == 0,
        is_hyperbolic=c.dim_centre == 0,
        max_real_part=float(np.max(values.real)),
        max_modulus=float(np.max(np.abs(values))),
        residual=residual,
        is_equilibrium=is_eq,
    )


def linear_stability(
    model: Model,
    state: Mapping[str, float] | Sequence[float] | np.ndarray,
    params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    *,
    period: int = 1,
    tol: float | None = None,
    backend: str = "numba",
) -> LinearStability:
    """Eigenvalues, eigenvectors and classification of the linearisation at ``state``.

    Parameters
    ----------
    model
        A flow (``"ode"``) or a map; symbolic (exact Jacobian) or written as Python
        functions (the model's ``jac_fn``, else forward differences).
    state
        The point: ``{variable: value}`` or ``n`` numbers in model order.
    params
        Parameter values overriding the model's defaults.
    period
        For maps, judge the point as a point of this period (multipliers of D(f^period)).
    tol
        Relative tolerance for critical eigenvalues (see :func:`classify_eigenvalues`);
        default 1e-8, or 1e-6 with a finite-difference Jacobian. The absolute threshold
        used is reported as ``tolerance``.
    backend
        ``"numba"`` or ``"numpy"`` kernels (:func:`stabkit.model.codegen.compile_model`).

    Returns
    -------
    LinearStability
        With ``message`` warning when ``state`` is not an equilibrium (``residual``).

    Raises
    ------
    InputError
        Unknown variable or parameter names, wrong lengths, a non-autonomous or delay
        model, a period for a flow, a state where the Jacobian is not finite.

    Examples
    --------
    >>> from stabkit.model import library
    >>> ls = linear_stability(library.lorenz(), {"x": 0.0, "y": 0.0, "z": 0.0}, backend="numpy")
    >>> ls.classification.value, ls.dim_unstable, ls.is_stable
    ('saddle', 1, False)
    >>> round(ls.max_real_part, 4)
    11.8277
    """
    t0 = time.perf_counter()
    model = check_model(model, "linear_stability")
    period = check_period(period, model, "linear_stability")
    if state is None:
        raise InputError("linear_stability(state=None): give the point, e.g. {'x': 0.0, ...}")
    x = _named_vector(state, model.variables, model.default_state, what="state", model=model.name)
    p = model.param_vector(params)
    if tol is not None and not (np.isfinite(tol) and tol > 0):
        raise InputError(f"linear_stability(tol={tol!r}): must be a number > 0, e.g. 1e-8")
    system = CompiledSystem(model, p, period=period, backend=backend)
    provenance = Provenance(
        model_hash=model.content_hash,
        analysis="linear_stability",
        method=f"{system.jacobian_source} Jacobian",
        params=dict(zip(model.parameters, p.tolist(), strict=True)),
    )
    result = stability_at(system, x, provenance, tol)
    stats = dataclasses.replace(
        result.stats,
        wall_time=time.perf_counter() - t0 - system.compile_time,
        compile_time=system.compile_time,
    )
    return dataclasses.replace(result, stats=stats)
