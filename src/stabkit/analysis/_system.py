"""Point evaluation of a model's equilibrium equations through its compiled kernels.

For a flow the equations are f(x) = 0 with Jacobian Df; for a map and a period k they
are F(x) = f^k(x) - x = 0 with DF = Df(x_{k-1}) ... Df(x_0) - I, where x_i = f^i(x).
The kernels are those of :func:`stabkit.model.codegen.compile_model`: the exact
symbolic Jacobian for symbolic models, the user's ``jac_fn`` or forward differences
for models written as Python functions.
"""

from __future__ import annotations

import numpy as np

from stabkit.errors import InputError
from stabkit.model.codegen import CompiledModel, compile_model
from stabkit.model.model import TIME, Model, ModelKind

__all__ = ["CompiledSystem", "check_model", "check_period"]


def check_model(model: object, where: str) -> Model:
    """The model, if equilibria and linear stability make sense for it."""
    if not isinstance(model, Model):
        raise InputError(f"{where}(model={model!r}): expected a stabkit Model")
    if model.kind is ModelKind.DDE:
        raise InputError(
            f"{where}: model {model.name!r} is a delay equation; its equilibria and their "
            "stability need the characteristic equation (stabkit.analysis.delay), not a Jacobian"
        )
    if model.is_symbolic and any(TIME in e.free_symbols for e in model.equations):
        raise InputError(
            f"{where}: model {model.name!r} depends on time t explicitly, so it has no "
            "equilibria; make it autonomous (for example, add a phase variable)"
        )
    return model


def check_period(period: object, model: Model, where: str) -> int:
    """The period (>= 1; > 1 only for maps)."""
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise InputError(f"{where}(period={period!r}): expected an integer >= 1")
    if period > 1 and model.kind is not ModelKind.MAP:
        raise InputError(
            f"{where}(period={period}): periods are for maps, but model {model.name!r} is "
            f"a{'n' if model.kind.value[0] in 'aeiou' else ''} {model.kind.value}; "
            "leave period=1 (periodic orbits of flows come with stabkit.analysis.cycles)"
        )
    return int(period)


class CompiledSystem:
    """The equations F(x) = 0 of equilibria (or period-k points) of a model at fixed params.

    Parameters
    ----------
    model
        The model.
    params
        Parameter vector in model order.
    period
        Period of the points sought (maps only).
    backend
        ``"numba"`` or ``"numpy"``, see :func:`stabkit.model.codegen.compile_model`.
    """

    def __init__(
        self, model: Model, params: np.ndarray, *, period: int = 1, backend: str = "numba"
    ) -> None:
        self.model = model
        self.params = np.ascontiguousarray(params, dtype=np.float64)
        self.period = period
        self.is_map = model.kind is ModelKind.MAP
        self.n = model.num_variables
        self.compiled: CompiledModel = compile_model(model, backend=backend)
        self.num_rhs = 0
        self.num_jac = 0
        y = np.array(model.default_state, dtype=np.float64)
        self.compile_time = self.compiled.warm(
            "rhs", 0.0, y, self.params, np.empty(self.n)
        ) + self.compiled.warm("jac", 0.0, y, self.params, np.empty((self.n, self.n)))

    @property
    def jacobian_source(self) -> str:
        """``"exact"`` (symbolic), ``"user"`` (a given ``jac_fn``) or ``"finite differences"``."""
        if self.model.is_symbolic:
            return "exact"
        return "user" if self.compiled.has_exact_jacobian else "finite differences"

    def f(self, x: np.ndarray) -> np.ndarray:
        """The right-hand side (next state for a map) at ``x``."""
        out = np.empty(self.n)
        with np.errstate(all="ignore"):  # plain-Python kernels: NaN/inf are handled by callers
            self.compiled.rhs(0.0, np.ascontiguousarray(x, dtype=np.float64), self.params, out)
        self.num_rhs += 1
        return out

    def df(self, x: np.ndarray) -> np.ndarray:
        """The Jacobian of the right-hand side at ``x``."""
        out = np.empty((self.n, self.n))
        with np.errstate(all="ignore"):
            self.compiled.jac(0.0, np.ascontiguousarray(x, dtype=np.float64), self.params, out)
        self.num_jac += 1
        return out

    def residual(self, x: np.ndarray) -> np.ndarray:
        """F(x): f(x) for flows, f^k(x) - x for maps."""
        if not self.is_map:
            return self.f(x)
        y = np.asarray(x, dtype=np.float64)
        for _ in range(self.period):
            y = self.f(y)
        return y - x

    def linearisation(self, x: np.ndarray) -> np.ndarray:
        """Df(x) for flows; D(f^k)(x) = Df(x_{k-1}) ... Df(x_0) for maps."""
        if not self.is_map:
            return self.df(x)
        y = np.asarray(x, dtype=np.float64)
        total = np.eye(self.n)
        for _ in range(self.period):
            total = self.df(y) @ total
            y = self.f(y)
        return total

    def residual_and_jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F(x) and DF(x) together (one pass along the orbit for maps)."""
        if not self.is_map:
            return self.f(x), self.df(x)
        y = np.asarray(x, dtype=np.float64)
        total = np.eye(self.n)
        for _ in range(self.period):
            total = self.df(y) @ total
            y = self.f(y)
        return y - x, total - np.eye(self.n)

    def orbit_residual(self, x: np.ndarray, period: int) -> float:
        """||f^period(x) - x||_inf (maps): is ``x`` periodic with that period?"""
        y = np.asarray(x, dtype=np.float64)
        for _ in range(period):
            y = self.f(y)
        return float(np.max(np.abs(y - x)))
