"""Two-parameter stability diagrams: equilibria and their stability on a grid, with curves.

For each cell of a grid over two parameters, :func:`stability_diagram` finds the
equilibria (flows) or fixed points (maps) and counts the stable ones and the unstable
eigenvalues of each; the fold and Hopf curves crossing the box are traced by
:func:`stabkit.analysis.codim2.continue_bifurcation_curve` from seeds found where the
grid changes (a pair of equilibria disappears, a complex pair changes side), so the
regions come with their exact boundaries and codim-2 points.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stabkit.analysis._codim2_result import BifurcationCurve, Codim2Point
from stabkit.analysis._diagram_grid import GridEquilibria, flood_fill
from stabkit.analysis._palc import PALC
from stabkit.analysis._system import check_model
from stabkit.errors import InputError, suggest
from stabkit.model.model import Model, ModelKind
from stabkit.results import Provenance, Result, Stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StabilityDiagram", "stability_diagram"]

_MAX_CURVES = 12


@dataclasses.dataclass(frozen=True)
class StabilityDiagram(Result):
    """Equilibria and their stability over a grid of two parameters.

    Attributes
    ----------
    parameters
        ``(p1, p2)``.
    variables
        State variable names.
    p1_values, p2_values
        Grid values, shapes ``(nx,)`` and ``(ny,)``; cell ``(i, j)`` is
        ``(p1_values[i], p2_values[j])``.
    num_equilibria
        Equilibria found in each cell, shape ``(nx, ny)``.
    num_stable
        Asymptotically stable ones among them (all eigenvalues with negative real part;
        for maps all multipliers inside the unit circle), shape ``(nx, ny)``.
    min_unstable
        Fewest unstable eigenvalues among the cell's equilibria (0 where one is stable),
        ``-1`` where there is none, shape ``(nx, ny)``.
    states
        The equilibria, shape ``(nx, ny, k, n)`` with ``k`` the most in any cell, sorted
        by the first variable, NaN-padded.
    unstable_dims
        Number of unstable eigenvalues of each, shape ``(nx, ny, k)``, ``-1`` padded.
    curves
        Fold and Hopf curves traced through the box.
    special_points
        Their codim-2 points inside the box.
    search
        How the equilibria were found (the guarantee of the coarse search and what the
        continuation adds).
    """

    parameters: tuple[str, str] = ("", "")
    variables: tuple[str, ...] = ()
    p1_values: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    p2_values: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    num_equilibria: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), int))
    num_stable: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), int))
    min_unstable: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), int))
    states: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0, 0)))
    unstable_dims: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0, 0), int))
    curves: tuple[BifurcationCurve, ...] = ()
    special_points: tuple[Codim2Point, ...] = ()
    search: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per (cell, equilibrium): both parameters, the state, unstable dimension."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for i, a in enumerate(self.p1_values):
            for j, b in enumerate(self.p2_values):
                for k in range(int(self.num_equilibria[i, j])):
                    row: dict[str, Any] = {self.parameters[0]: a, self.parameters[1]: b}
                    row.update(zip(self.variables, self.states[i, j, k].tolist(), strict=True))
                    row["num_unstable"] = int(self.unstable_dims[i, j, k])
                    row["stable"] = bool(self.unstable_dims[i, j, k] == 0)
                    rows.append(row)
        columns = [*self.parameters, *self.variables, "num_unstable", "stable"]
        return pd.DataFrame(rows, columns=columns)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Regions (number of stable equilibria) with labels, and the curves on top."""
        from stabkit.report.codim2_figures import plot_stability_diagram

        return plot_stability_diagram(self, ax=ax, **kwargs)

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = super()._summary_rows()
        rows.insert(0, ("grid", f"{self.p1_values.size} x {self.p2_values.size}"))
        rows.insert(1, ("curves", ", ".join(f"{c.kind} ({len(c)} points)" for c in self.curves)))
        rows.insert(2, ("search", self.search))
        return rows


def _ranges(model: Model, p1: str, p2: str, ranges: Any) -> list[tuple[float, float]]:
    for name in (p1, p2):
        if name not in model.parameters:
            hint = suggest(str(name), model.parameters)
            raise InputError(
                f"stability_diagram: model {model.name!r} has no parameter {name!r}; it has "
                f"{', '.join(model.parameters)}" + (f"; {hint}" if hint else "")
            )
    if p1 == p2:
        raise InputError(f"stability_diagram: p1 and p2 are both {p1!r}; give two parameters")
    if not isinstance(ranges, Mapping) or set(ranges) != {p1, p2}:
        raise InputError(
            f"stability_diagram(ranges={ranges!r}): give {{{p1!r}: (lo, hi), {p2!r}: (lo, hi)}}"
        )
    out = []
    for name in (p1, p2):
        try:
            lo, hi = (float(v) for v in ranges[name])
        except (TypeError, ValueError):
            raise InputError(f"ranges[{name!r}]={ranges[name]!r}: expected (lo, hi)") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InputError(f"ranges[{name!r}]=({lo}, {hi}): need finite lo < hi")
        out.append((lo, hi))
    return out


def stability_diagram(
    model: Model,
    p1: str,
    p2: str,
    *,
    ranges: Mapping[str, tuple[float, float]],
    resolution: tuple[int, int] = (60, 60),
    params: Mapping[str, float] | None = None,
    bounds: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None = None,
    coarse: tuple[int, int] | None = None,
    method: Any = None,
    curves: bool = True,
) -> StabilityDiagram:
    """Equilibria and their stability over a grid of two parameters, with fold and Hopf curves.

    Parameters
    ----------
    model
        A flow or a map (fixed points); symbolic or written as Python functions (then
        ``bounds`` is needed for the global search).
    p1, p2
        The parameters on the horizontal and vertical axes.
    ranges
        ``{p1: (lo, hi), p2: (lo, hi)}``.
    resolution
        Grid points ``(nx, ny)``, each at least 2.
    params
        Values of the other parameters.
    bounds
        State box for the equilibria (as for :func:`stabkit.find_equilibria`); optional
        for polynomial models (then all real equilibria). Equilibria leaving the box are
        dropped.
    coarse
        How many cells per axis get a full :func:`stabkit.find_equilibria` search
        (evenly spaced, corners included); Newton continuation fills the rest. Default
        ``(6, 6)``, or ``(3, 3)`` for models written as Python functions, whose search is
        a (slow) deflated multi-start.
    method
        The :func:`stabkit.find_equilibria` method of the coarse search (default ``Auto()``;
        e.g. ``MultiStartNewton(num_starts=32)`` for a quicker, less thorough search).
    curves
        Trace the bifurcation curves crossing the box: fold and Hopf (flows), fold, flip
        and Neimark-Sacker (maps).

    Returns
    -------
    StabilityDiagram
        Per cell: ``num_equilibria``, ``num_stable``, ``min_unstable``; per equilibrium:
        ``states`` and ``unstable_dims``; ``curves`` and their codim-2 points.

    Raises
    ------
    InputError
        Unknown parameters, bad ranges or resolution, a delay model.

    Notes
    -----
    What the grid means: an equilibrium counts in a cell when it was found there, either
    by the global search of a coarse cell or by Newton's method started from an
    equilibrium of a neighbouring cell. An equilibrium branch that exists only strictly
    between coarse cells (an isola smaller than the coarse spacing) can be missed; the
    ``search`` field states the guarantee of the coarse search.

    Examples
    --------
    >>> from stabkit import Model
    >>> m = Model.from_equations({"x": "b1 + b2*x - x^3"}, parameters={"b1": 0.0, "b2": 0.0})
    >>> d = stability_diagram(m, "b1", "b2", ranges={"b1": (-1, 1), "b2": (-1, 2)},
    ...                       resolution=(21, 21), curves=False)
    >>> int(d.num_stable.max()), int(d.num_stable.min())
    (2, 1)
    """
    t0 = time.perf_counter()
    model = check_model(model, "stability_diagram")
    box = _ranges(model, p1, p2, ranges)
    if (
        not isinstance(resolution, (tuple, list))
        or len(resolution) != 2
        or not all(isinstance(r, (int, np.integer)) and r >= 2 for r in resolution)
    ):
        raise InputError(f"stability_diagram(resolution={resolution!r}): expected (nx, ny) >= 2")
    nx, ny = int(resolution[0]), int(resolution[1])
    xs = np.linspace(*box[0], nx)
    ys = np.linspace(*box[1], ny)
    base = model.param_vector(params)
    i1, i2 = model.parameters.index(p1), model.parameters.index(p2)
    is_map = model.kind is ModelKind.MAP

    def params_at(cell: tuple[int, int]) -> np.ndarray:
        p = base.copy()
        p[i1], p[i2] = xs[cell[0]], ys[cell[1]]
        return p

    from stabkit.analysis._multilinear import derivatives_for
    from stabkit.analysis.equilibria import find_equilibria

    compiled = model.compile()
    n = model.num_variables
    lo_box, hi_box = _state_box(model, bounds)
    has_box = bool(np.isfinite(lo_box).any() or np.isfinite(hi_box).any())

    deriv = None if model.is_symbolic else derivatives_for(model)

    def residual_jac(x: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if deriv is not None:  # Python-function model: central differences
            f, jac = deriv.rhs(x, p), deriv.jacobian(x, p)
        else:
            f, jac = np.empty(n), np.empty((n, n))
            compiled.rhs(0.0, x, p, f)
            compiled.jac(0.0, x, p, jac)
        return (f - x, jac - np.eye(n)) if is_map else (f, jac)

    def newton(x0: np.ndarray, p: np.ndarray) -> np.ndarray | None:
        x = np.array(x0, dtype=np.float64)
        with np.errstate(all="ignore"):
            for _ in range(25):
                f, jac = residual_jac(x, p)
                size = 1.0 + float(np.abs(x).max())
                worst = float(np.abs(f).max())
                if worst < 1e-12 * size:
                    break
                if not worst < np.inf:  # NaN or inf
                    return None
                try:
                    step = np.linalg.solve(jac, f)
                except np.linalg.LinAlgError:
                    return None
                x -= step
                if float(np.abs(step).max()) < 1e-13 * size:
                    f, _ = residual_jac(x, p)
                    break
            else:
                f, _ = residual_jac(x, p)
        size = 1.0 + float(np.abs(x).max())
        if not float(np.abs(f).max()) < 1e-9 * size:
            return None
        if has_box and (np.any(x < lo_box) or np.any(x > hi_box)):
            return None
        return x

    if coarse is None:
        coarse = (6, 6) if model.is_symbolic else (3, 3)
    if (
        not isinstance(coarse, (tuple, list))
        or len(coarse) != 2
        or not all(isinstance(c, (int, np.integer)) and c >= 1 for c in coarse)
    ):
        raise InputError(f"stability_diagram(coarse={coarse!r}): expected (kx, ky) >= 1")
    kx, ky = min(coarse[0], nx), min(coarse[1], ny)
    seeds: dict[tuple[int, int], list[np.ndarray]] = {}
    guarantees = set()
    for i in np.unique(np.linspace(0, nx - 1, kx).round().astype(int)):
        for j in np.unique(np.linspace(0, ny - 1, ky).round().astype(int)):
            res = find_equilibria(
                model, params_at((i, j)), bounds=bounds, method=method, throw=False
            )
            guarantees.add(res.guarantee)
            seeds[(int(i), int(j))] = [e.state for e in res.equilibria]
    grid = GridEquilibria((nx, ny))
    flood_fill(grid, seeds, params_at, newton)
    kmax = max((len(v) for v in grid.states.values()), default=0)
    states = np.full((nx, ny, max(kmax, 1), n), np.nan)
    dims = np.full((nx, ny, max(kmax, 1)), -1, dtype=int)
    complex_dims: dict[tuple[tuple[int, int], int], tuple[int, int, int]] = {}
    for cell, found in grid.states.items():
        order = sorted(range(len(found)), key=lambda k: tuple(found[k]))
        for slot, k in enumerate(order):
            _, jac = residual_jac(found[k], params_at(cell))
            values = np.linalg.eigvals(jac + (np.eye(n) if is_map else 0.0))
            growth = np.abs(values) - 1.0 if is_map else values.real
            states[cell[0], cell[1], slot] = found[k]
            dims[cell[0], cell[1], slot] = int(np.sum(growth > 0))
            complex_dims[(cell, k)] = (
                int(dims[cell[0], cell[1], slot]),
                int(np.sum((growth > 0) & (np.abs(values.imag) > 1e-12))),
                int(np.sum((growth > 0) & (np.abs(values.imag) <= 1e-12) & (values.real < 0))),
            )
    num_eq = np.sum(dims >= 0, axis=2)
    num_stable = np.sum(dims == 0, axis=2)
    min_unstable = np.where(num_eq > 0, np.where(dims >= 0, dims, 10**6).min(axis=2), -1)
    traced: list[BifurcationCurve] = []
    message = ""
    if curves:
        traced = _trace_curves(model, grid, complex_dims, params_at, (p1, p2), box, xs, ys, is_map)
        troubled = [f"{c.kind} curve: {c.message}" for c in traced if c.status != "ok"]
        if troubled:
            message = "some curves ended early: " + "; ".join(troubled)
    specials = tuple(
        s
        for c in traced
        for s in c.special_points
        if box[0][0] <= s.parameter_values[0] <= box[0][1]
        and box[1][0] <= s.parameter_values[1] <= box[1][1]
    )
    search = (
        f"{'/'.join(sorted(guarantees))} search at {len(seeds)} coarse cells, "
        f"Newton continuation to the other {nx * ny - len(seeds)}"
    )
    return StabilityDiagram(
        status="ok",
        message=message,
        stats=Stats(
            num_steps=nx * ny,
            extra={"num_newton_solves": grid.num_newton, "num_global_searches": len(seeds)},
            wall_time=time.perf_counter() - t0,
        ),
        provenance=Provenance(
            model_hash=model.content_hash,
            analysis="stability_diagram",
            params=dict(zip(model.parameters, base.tolist(), strict=True)),
        ),
        parameters=(p1, p2),
        variables=model.variables,
        p1_values=xs,
        p2_values=ys,
        num_equilibria=num_eq,
        num_stable=num_stable,
        min_unstable=min_unstable,
        states=states,
        unstable_dims=dims,
        curves=tuple(traced),
        special_points=specials,
        search=search,
    )


def _state_box(model: Model, bounds: Any) -> tuple[np.ndarray, np.ndarray]:
    n = model.num_variables
    if bounds is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    if isinstance(bounds, Mapping):
        lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
        for key, (a, b) in bounds.items():
            if key not in model.variables:
                raise InputError(f"bounds: model {model.name!r} has no variable {key!r}")
            k = model.variables.index(key)
            lo[k], hi[k] = float(a), float(b)
        return lo, hi
    arr = np.asarray(bounds, dtype=float).reshape(n, 2)
    return arr[:, 0], arr[:, 1]


def _branch_points(model: Model, curve: BifurcationCurve, names: tuple[str, str]) -> bool:
    """True when the curve's middle point has ``[f_x, f_p]`` rank deficient (a BP, not LP)."""
    from stabkit.analysis._multilinear import derivatives_for

    deriv = derivatives_for(model)
    k = len(curve) // 2
    p = model.param_vector(dict(curve.base_params))
    p[model.parameters.index(names[0])], p[model.parameters.index(names[1])] = curve.points[k]
    x = curve.states[k]
    jac = deriv.jacobian(x, p)
    if model.kind is ModelKind.MAP:
        jac = jac - np.eye(model.num_variables)
    _, fp, _ = deriv.second_derivatives(x, p)
    full = np.hstack([jac, fp])
    sigma = np.linalg.svd(full, compute_uv=False)
    return bool(sigma[-1] < 1e-4 * max(1.0, float(np.abs(full).max())))


def _distance(polyline: np.ndarray, point: np.ndarray) -> float:
    """Distance from a point to a polyline (rows are vertices)."""
    if len(polyline) == 0:
        return np.inf
    if len(polyline) == 1:
        return float(np.linalg.norm(polyline[0] - point))
    a, b = polyline[:-1], polyline[1:]
    ab = b - a
    t = np.clip(
        np.einsum("ij,ij->i", point - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300),
        0,
        1,
    )
    return float(np.min(np.linalg.norm(a + t[:, None] * ab - point, axis=1)))


def _trace_curves(
    model: Model,
    grid: GridEquilibria,
    complex_dims: dict[tuple[tuple[int, int], int], tuple[int, int, int]],
    params_at: Any,
    names: tuple[str, str],
    box: list[tuple[float, float]],
    xs: np.ndarray,
    ys: np.ndarray,
    is_map: bool,
) -> list[BifurcationCurve]:
    """Seeds where the grid changes, each traced unless an earlier curve passes nearby."""
    from stabkit.analysis.codim2 import continue_bifurcation_curve

    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    seeds: list[tuple[str, np.ndarray, np.ndarray]] = []
    for cell, k, nb, k_nb in grid.links:
        (tot_a, cx_a, neg_a), (tot_b, cx_b, neg_b) = (
            complex_dims[(cell, k)],
            complex_dims[(nb, k_nb)],
        )
        x = 0.5 * (grid.states[cell][k] + grid.states[nb][k_nb])
        p_mid = 0.5 * (params_at(cell) + params_at(nb))
        if abs(tot_a - tot_b) == 2 and cx_a != cx_b:  # a complex pair crossed: H or NS
            seeds.append(("NS" if is_map else "H", x, p_mid))
        elif is_map and abs(tot_a - tot_b) == 1 and neg_a != neg_b:  # through -1: flip
            seeds.append(("PD", x, p_mid))
    nx, ny = grid.shape
    for i in range(nx):
        for j in range(ny):
            here = grid.states.get((i, j), [])
            for nb in ((i + 1, j), (i, j + 1), (i - 1, j), (i, j - 1)):
                if not (0 <= nb[0] < nx and 0 <= nb[1] < ny):
                    continue
                there = grid.states.get(nb, [])
                if len(here) > len(there) and len(here) >= 2:
                    pairs = [(a, b) for a in range(len(here)) for b in range(a + 1, len(here))]
                    a, b = min(pairs, key=lambda ab: np.linalg.norm(here[ab[0]] - here[ab[1]]))
                    seeds.append(("LP", 0.5 * (here[a] + here[b]), params_at((i, j))))
    step = float(min(dx, dy))
    method = PALC(ds=step, ds_min=1e-6 * step, ds_max=4 * max(dx, dy), max_points=1500)
    bounds = {names[0]: box[0], names[1]: box[1]}
    out: list[BifurcationCurve] = []
    scale = np.array([dx, dy])
    attempts = 0
    for kind, x, p in seeds:
        if len(out) >= _MAX_CURVES or attempts >= 3 * _MAX_CURVES:
            break
        where = np.array([p[model.parameters.index(names[0])], p[model.parameters.index(names[1])]])
        if any(c.kind == kind and _distance(c.points / scale, where / scale) < 2.0 for c in out):
            continue
        attempts += 1
        try:
            curve = continue_bifurcation_curve(model, (kind, x, p), names, to=bounds, method=method)
        except InputError:
            continue
        if len(curve) <= 2:
            continue
        if kind == "LP" and _branch_points(model, curve, names):
            continue  # multiplier / eigenvalue crossing at a transcritical or pitchfork
        # a seed far from the curve it converged to can retrace a known curve: drop copies
        mid = curve.points[len(curve) // 2] / scale
        if any(c.kind == kind and _distance(c.points / scale, mid) < 1.0 for c in out):
            continue
        out.append(curve)
    return out
