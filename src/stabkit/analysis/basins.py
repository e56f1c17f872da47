r"""Attractors and their basins of attraction; basin stability; basin entropy.

:func:`basins_of_attraction` integrates every initial state of a grid (or of a random
:class:`Sampler`) with :func:`stabkit.solve_ensemble` and decides where each one goes:

* :class:`RecurrenceMapper` (default): the recurrence finite-state machine of Datseris &
  Wagemakers (2022), run on-line in compiled code. State space is cut into cells; an orbit
  that lands ``consecutive_recurrences`` times in a row in cells it visited before has
  found an attractor, whose cells it then labels for ``locate_steps`` samples; an orbit
  that enters cells of a known attractor ``consecutive_hits`` times in a row gets its label
  at once, so most orbits stop early.
* :class:`FeatureClustering`: every orbit is integrated to ``t_max``, summarised by a
  feature vector (default: smallest and largest value of each variable after
  ``t_transient``) and the vectors are clustered by DBSCAN (Ester et al. 1996).

Labels: ``1, 2, ...`` attractors; ``-1`` diverged (the integrator blew up, or the orbit left
the recurrence box for good); ``0`` unresolved (undecided by ``t_max``, or DBSCAN noise).
Divergence is a class of its own, never an error.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._attractors import Attractor
from stabkit.analysis._basin_input import Sampler, check_positive, initial_states, parse_range
from stabkit.analysis._basin_mappers import MapperOutcome, auto_box, run_features, run_recurrence
from stabkit.analysis._basin_metrics import basin_entropy, boundary_fraction, fractions_with_errors
from stabkit.errors import InputError, suggest
from stabkit.integrate.methods import Dopri5, Method
from stabkit.model.model import Model, ModelKind
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Attractor",
    "BasinsResult",
    "FeatureClustering",
    "RecurrenceMapper",
    "Sampler",
    "basins_of_attraction",
]

LABEL_NAMES = {-1: "diverged", 0: "unresolved"}


@dataclasses.dataclass(frozen=True)
class RecurrenceMapper:
    """Attractors by recurrences on a grid of cells (Datseris & Wagemakers 2022).

    Parameters
    ----------
    cells
        Recurrence grid ``{variable: (lo, hi, num_cells)}`` for every variable; ``None``
        chooses a box around the initial states and a pilot ensemble (20 % wider) with
        ``num_cells`` cells per side.
    num_cells
        Cells per side of the automatic box.
    sample_interval
        Time between samples of a flow (maps: every iteration). For a periodically
        driven system, the driving period makes periodic orbits fixed points of the
        samples.
    consecutive_recurrences
        Samples in a row in already-visited cells that declare a new attractor.
    locate_steps
        Samples spent labelling the cells of a new attractor.
    consecutive_hits
        Samples in a row in one attractor's cells that assign an orbit to it.
    consecutive_lost
        Samples in a row outside the box that count an orbit as diverged.
    max_cells_per_orbit
        Cells remembered per orbit; an orbit needing more to close on itself is never
        declared recurrent (coarsen the grid then).
    max_attractors
        Most attractors kept; states beyond are left unresolved.
    num_points
        Points stored per attractor.
    samples_per_round, batch_size
        Samples integrated between two passes of the machine, and members integrated
        together (memory: about ``batch_size * max_cells_per_orbit * 6`` bytes).
    """

    cells: Mapping[str, tuple[float, float, int]] | None = None
    num_cells: int = 100
    sample_interval: float = 1.0
    consecutive_recurrences: int = 100
    locate_steps: int = 300
    consecutive_hits: int = 2
    consecutive_lost: int = 20
    max_cells_per_orbit: int = 1000
    max_attractors: int = 64
    num_points: int = 300
    samples_per_round: int = 100
    batch_size: int = 8192

    def __post_init__(self) -> None:
        for name in (
            "num_cells", "consecutive_recurrences", "locate_steps", "consecutive_hits",
            "consecutive_lost", "max_cells_per_orbit", "max_attractors", "num_points",
            "samples_per_round", "batch_size",
        ):  # fmt: skip
            check_positive("RecurrenceMapper", name, getattr(self, name), integer=True, minimum=1)
        check_positive(
            "RecurrenceMapper", "sample_interval", self.sample_interval, integer=False, minimum=0
        )
        if not self.sample_interval > 0:
            raise InputError(
                f"RecurrenceMapper(sample_interval={self.sample_interval!r}): must be > 0"
            )
        if self.cells is not None:
            if not isinstance(self.cells, Mapping):
                raise InputError(
                    f"RecurrenceMapper(cells={self.cells!r}): expected "
                    "{variable: (lo, hi, num_cells)} for every variable, or None"
                )
            for k, v in self.cells.items():
                parse_range(v, f"RecurrenceMapper(cells[{k!r}])", with_num=True)


@dataclasses.dataclass(frozen=True)
class FeatureClustering:
    """Attractors by clustering features of long orbits (DBSCAN).

    Parameters
    ----------
    features_fn
        ``features_fn(ys) -> (f,)`` for one orbit ``ys`` of shape ``(num_samples, n)``
        sampled on ``[t_transient, t_max]``; ``None``: smallest and largest value of
        every variable (vectorised; independent of the phase of a periodic orbit when
        the window spans a whole period).
    num_samples
        Samples per orbit.
    eps, min_samples
        DBSCAN radius in features scaled to ``[0, 1]``, and neighbours of a core point.
    batch_size
        Members integrated together.
    """

    features_fn: Callable[[np.ndarray], np.ndarray] | None = None
    num_samples: int = 200
    eps: float = 0.05
    min_samples: int = 10
    batch_size: int = 8192

    def __post_init__(self) -> None:
        check_positive(
            "FeatureClustering", "num_samples", self.num_samples, integer=True, minimum=2
        )
        check_positive(
            "FeatureClustering", "min_samples", self.min_samples, integer=True, minimum=1
        )
        check_positive("FeatureClustering", "batch_size", self.batch_size, integer=True, minimum=1)
        check_positive("FeatureClustering", "eps", self.eps, integer=False, minimum=0)
        if not self.eps > 0:
            raise InputError(f"FeatureClustering(eps={self.eps!r}): must be > 0")
        if self.features_fn is not None and not callable(self.features_fn):
            raise InputError(f"FeatureClustering(features_fn={self.features_fn!r}): not callable")


@dataclasses.dataclass(frozen=True)
class BasinsResult(Result):
    """Result of :func:`basins_of_attraction`.

    Attributes
    ----------
    attractors
        :class:`Attractor` objects, ``id`` 1, 2, ...
    labels
        Label of each initial state: grid-shaped ``(n_1, ..., n_d)`` for a grid, ``(num,)``
        for a sampler. ``-1`` diverged, ``0`` unresolved.
    initial_states
        ``(N, n)`` the states mapped, in ``labels.ravel()`` order.
    fractions
        ``{label: fraction of states}``, summing to 1 (labels -1 and 0 included when present).
        For a :class:`Sampler` these are basin stability values (Menck et al. 2013).
    standard_errors
        ``{label: sqrt(f (1 - f) / N)}``: the binomial standard error of a sampled
        fraction. For a grid the same number is what random states would give; the
        grid's own error is set by how finely it resolves the basin boundaries (see
        ``boundary_fraction``).
    basin_entropy, boundary_basin_entropy
        Daza et al. (2016) with boxes of 5 x 5 points (grids only; NaN for samplers).
    boundary_fraction
        Grid points with a neighbour of another label (grids only; NaN for samplers).
    variables
        Model variables (columns of ``initial_states``).
    grid_axes
        ``{variable: values}`` of the grid's axes (empty for a sampler).
    """

    attractors: tuple[Attractor, ...] = ()
    labels: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    initial_states: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    fractions: Mapping[int, float] = dataclasses.field(default_factory=dict)
    standard_errors: Mapping[int, float] = dataclasses.field(default_factory=dict)
    basin_entropy: float = math.nan
    boundary_basin_entropy: float = math.nan
    boundary_fraction: float = math.nan
    variables: tuple[str, ...] = ()
    grid_axes: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def is_grid(self) -> bool:
        """True when the states form a grid (``labels`` is grid-shaped)."""
        return bool(self.grid_axes)

    def label_name(self, label: int) -> str:
        """``"diverged"``, ``"unresolved"`` or ``"attractor k (kind)"``."""
        if label in LABEL_NAMES:
            return LABEL_NAMES[label]
        kind = next((a.kind for a in self.attractors if a.id == label), "?")
        return f"attractor {label} ({kind})"

    def to_frame(self) -> pd.DataFrame:
        """One row per label: kind, fraction, standard error, centre of the attractor."""
        import pandas as pd

        rows = []
        by_id = {a.id: a for a in self.attractors}
        for label in sorted(set(self.fractions) | set(by_id)):
            a = by_id.get(label)
            row: dict[str, object] = {
                "label": label,
                "kind": a.kind if a else LABEL_NAMES.get(label, "?"),
                "fraction": self.fractions.get(label, 0.0),
                "standard_error": self.standard_errors.get(label, 0.0),
                "period": a.period if a else math.nan,
            }
            centre = a.centre if a is not None and a.points.size else None
            for j, v in enumerate(self.variables):
                row[v] = float(centre[j]) if centre is not None else math.nan
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Basin image (grids) or scatter (samplers) with the attractors drawn."""
        from stabkit.report.basins_figures import plot_basins

        return plot_basins(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        for label, f in sorted(self.fractions.items()):
            se = self.standard_errors.get(label, 0.0)
            rows.append((self.label_name(label), f"{f:.4f} ± {se:.4f}"))
        if self.is_grid:
            rows.append(("basin entropy", f"{self.basin_entropy:.4f}"))
            rows.append(("boundary basin entropy", f"{self.boundary_basin_entropy:.4f}"))
        return rows

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {v:.3f}" for k, v in sorted(self.fractions.items()))
        return (
            f"BasinsResult(status={self.status!r}, attractors={len(self.attractors)}, "
            f"states={self.initial_states.shape[0]}, fractions={{{parts}}})"
        )


def _check_mapper(mapper: Any) -> RecurrenceMapper | FeatureClustering:
    if not isinstance(mapper, (RecurrenceMapper, FeatureClustering)):
        raise InputError(
            f"mapper={mapper!r}: expected RecurrenceMapper(...) or FeatureClustering(...)"
        )
    return mapper


def _check_time(value: Any, name: str) -> float:
    check_positive("basins_of_attraction", name, value, integer=False, minimum=0)
    return float(value)


def _recurrence_box(
    model: Model, mapper: RecurrenceMapper, states: Any, **pilot: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = model.num_variables
    if mapper.cells is None:
        lo, hi = auto_box(model, states.y0s, **pilot)
        per_side = min(int(mapper.num_cells), int((2.0**31 - 2) ** (1.0 / n)))
        return lo, hi, np.full(n, per_side, dtype=np.int64)
    missing = [v for v in model.variables if v not in mapper.cells]
    unknown = [k for k in mapper.cells if k not in model.variables]
    if unknown:
        hint = suggest(str(unknown[0]), model.variables)
        raise InputError(
            f"RecurrenceMapper(cells=...): {unknown[0]!r} is not a variable of model "
            f"{model.name!r}" + (f"; {hint}" if hint else "")
        )
    if missing:
        raise InputError(
            f"RecurrenceMapper(cells=...): give (lo, hi, num_cells) for every variable; "
            f"missing {', '.join(missing)} (or pass cells=None for an automatic box)"
        )
    spec = [parse_range(mapper.cells[v], f"cells[{v!r}]", with_num=True) for v in model.variables]
    arr = np.array(spec)
    num = arr[:, 2].astype(np.int64)
    if float(np.prod(num.astype(float))) >= 2.0**31 - 2:
        raise InputError(
            f"RecurrenceMapper(cells=...): {' x '.join(map(str, num.tolist()))} cells is more "
            "than 2**31 - 2; use fewer cells per side"
        )
    return arr[:, 0], arr[:, 1], num


def basins_of_attraction(
    model: Model,
    grid_or_sampler: Mapping[str, tuple[float, float, int]] | Sampler,
    *,
    params: Mapping[str, float] | None = None,
    y0: Mapping[str, float] | None = None,
    mapper: RecurrenceMapper | FeatureClustering | None = None,
    t_transient: float | None = None,
    t_max: float | None = None,
    method: Method | None = None,
    seed: int | None = None,
) -> BasinsResult:
    r"""Find the attractors of a flow or map and the basin of each.

    Parameters
    ----------
    model
        A :class:`~stabkit.model.model.Model` of kind ``"ode"`` or ``"map"``.
    grid_or_sampler
        A grid ``{variable: (lo, hi, num)}`` (``labels`` takes the shape
        ``(num_1, num_2, ...)`` in the mapping's order) or a :class:`Sampler` (random
        states: basin stability).
    params
        Parameter values (defaults for the rest).
    y0
        Values of the variables the grid or sampler does not vary (default state).
    mapper
        :class:`RecurrenceMapper` (default) or :class:`FeatureClustering`.
    t_transient
        Time integrated before any sample counts. Default: 0 for the recurrence
        mapper; ``t_max / 2`` for feature clustering (the features describe the second
        half of each orbit).
    t_max
        Longest time per orbit (iterations for maps). Default: ``10000 *
        sample_interval`` (recurrences), ``200`` (features).
    method
        Integration method; default ``Dopri5()`` with a divergence threshold of
        ``1e6`` times the size of the state box.
    seed
        Seed of the pilot ensemble that sizes the automatic recurrence box.

    Returns
    -------
    BasinsResult
        ``status`` ``"ok"`` when every state was decided (attractor or diverged),
        ``"partial"`` when some stayed unresolved.

    Raises
    ------
    InputError
        Unknown variables or keywords, empty or non-finite ranges, a non-ODE/map model.

    Notes
    -----
    Fractions :math:`f_k = N_k / N`; standard errors :math:`\sqrt{f_k (1 - f_k) / N}`.
    Basin entropy :math:`S_b = \langle -\sum_j p_{ij} \ln p_{ij} \rangle_i` over boxes.

    References
    ----------
    Datseris, G. & Wagemakers, A. (2022). Effortless estimation of basins of attraction.
    Chaos 32, 023104. Daza, A. et al. (2016). Basin entropy. Sci. Rep. 6, 31416.
    Menck, P. J. et al. (2013). How basin stability complements the linear-stability
    paradigm. Nat. Phys. 9, 89-92.

    Examples
    --------
    >>> from stabkit import Model
    >>> bistable = Model.from_equations({"x": "x - x^3"}, variables={"x": 0.5})
    >>> res = basins_of_attraction(bistable, {"x": (-1.0, 1.0, 10)})
    >>> sorted(round(f, 2) for f in res.fractions.values())
    [0.5, 0.5]
    """
    if not isinstance(model, Model) or model.kind not in (ModelKind.ODE, ModelKind.MAP):
        raise InputError(
            f"model={model!r}: basins_of_attraction needs a stabkit Model of kind 'ode' or 'map'"
        )
    mapper = _check_mapper(RecurrenceMapper() if mapper is None else mapper)
    if params is not None:
        model.param_vector(params)  # validates names and values
    states = initial_states(model, grid_or_sampler, y0)
    is_map = model.kind is ModelKind.MAP
    recurrence = isinstance(mapper, RecurrenceMapper)
    dt = 1.0 if is_map or not recurrence else float(mapper.sample_interval)  # type: ignore[union-attr]
    if t_max is None:
        t_max = 10000.0 * dt if recurrence else 200.0
    if t_transient is None:
        t_transient = 0.0 if recurrence else float(t_max) / 2
    t_max = _check_time(t_max, "t_max")
    t_transient = _check_time(t_transient, "t_transient")
    if not t_max > t_transient:
        raise InputError(
            f"basins_of_attraction(t_transient={t_transient!r}, t_max={t_max!r}): t_max must "
            "exceed t_transient"
        )
    if method is None and not is_map:
        scale = max(1.0, float(np.max(np.abs(states.y0s))))
        method = Dopri5(divergence_threshold=1e6 * scale)
    start = time.perf_counter()
    outcome = MapperOutcome(labels=np.empty(0, dtype=np.int64), attractors=[])
    if isinstance(mapper, RecurrenceMapper):
        lo, hi, num = _recurrence_box(
            model, mapper, states, t_transient=t_transient, dt=dt, params=params,
            method=method, seed=seed, outcome=outcome,
        )  # fmt: skip
        run_recurrence(
            model, states.y0s, mapper, lo=lo, hi=hi, num_cells=num, t_transient=t_transient,
            t_max=t_max, params=params, method=method, outcome=outcome,
        )  # fmt: skip
    else:
        run_features(
            model, states.y0s, mapper, t_transient=t_transient, t_max=t_max, params=params,
            method=method, outcome=outcome,
        )  # fmt: skip
    wall = time.perf_counter() - start - outcome.compile_time
    labels = outcome.labels
    fractions, errors = fractions_with_errors(labels)
    s_b = s_bb = bf = math.nan
    if states.shape is not None:
        labels = labels.reshape(states.shape)
        bf = boundary_fraction(labels)
        if min(states.shape) >= 5:
            s_b, s_bb = basin_entropy(labels, 5)
    unresolved = int(np.sum(labels == 0))
    notes = list(outcome.notes)
    if unresolved:
        notes.insert(0, f"{unresolved} of {labels.size} states unresolved by t_max={t_max:g}")
    return BasinsResult(
        status="partial" if unresolved else "ok",
        message="; ".join(notes),
        stats=Stats(
            num_steps=outcome.num_steps,
            num_rejected=outcome.num_rejected,
            num_rhs_evaluations=outcome.num_rhs,
            wall_time=max(wall, 0.0),
            compile_time=outcome.compile_time,
            extra={"num_states": int(labels.size), **outcome.extra},
        ),
        provenance=Provenance(
            model_hash=model.content_hash,
            analysis="basins_of_attraction",
            method=f"{mapper!r}; {method!r}",
            params=dict(zip(model.parameters, model.param_vector(params).tolist(), strict=True)),
            seed=seed,
        ),
        attractors=tuple(outcome.attractors),
        labels=labels,
        initial_states=states.y0s,
        fractions=fractions,
        standard_errors=errors,
        basin_entropy=s_b,
        boundary_basin_entropy=s_bb,
        boundary_fraction=bf,
        variables=model.variables,
        grid_axes=dict(states.axes),
    )
