"""The equations of a branch of equilibria (or period-k points) with one free parameter.

The unknowns are z = (x, p): the state and the continued parameter, appended last. For
a flow the branch is R(z) = f(x, p) = 0; for a map and a period k it is
R(z) = f^k(x, p) - x = 0. The Jacobian DR = [R_x, R_p] is exact for symbolic models:
the parameter becomes an extra variable of an *augmented* model (p' = 0 for flows,
p -> p for maps), whose generated Jacobian kernel holds f_p as its last column; for maps
the product of the augmented Jacobians along the orbit is [[D_x f^k, D_p f^k], [0, 1]].
Models written as Python functions get f_p by central differences.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import sympy

from stabkit.model.codegen import CompiledModel, compile_model
from stabkit.model.model import Model, ModelKind

__all__ = ["BranchSystem", "augmented_model", "iterated_model"]

# (kernel hash, parameter, backend) -> augmented kernels and compiled PALC module
_KERNELS: dict[tuple[str, str, str], tuple[CompiledModel, ModuleType | None]] = {}


def augmented_model(model: Model, parameter: str) -> Model:
    """The model with ``parameter`` turned into the last variable (constant in time)."""
    j = model.parameters.index(parameter)
    symbol = sympy.Symbol(parameter)
    extra = symbol if model.kind is ModelKind.MAP else sympy.Integer(0)
    rest = tuple(q for q in model.parameters if q != parameter)
    rest_values = tuple(v for i, v in enumerate(model.default_params) if i != j)
    return Model(
        name=f"{model.name}__with_{parameter}",
        kind=model.kind,
        variables=(*model.variables, parameter),
        parameters=rest,
        equations=(*model.equations, extra),
        default_state=(*model.default_state, model.default_params[j]),
        default_params=rest_values,
    )


def iterated_model(model: Model, period: int) -> Model:
    """The map f^period as a symbolic model (for normal forms of period-k points)."""
    symbols = model.variable_symbols
    current = list(model.equations)
    for _ in range(period - 1):
        subs = dict(zip(symbols, current, strict=True))
        current = [e.xreplace(subs) for e in model.equations]
    return Model(
        name=f"{model.name}__iterate_{period}",
        kind=model.kind,
        variables=model.variables,
        parameters=model.parameters,
        equations=tuple(current),
        default_state=model.default_state,
        default_params=model.default_params,
    )


class BranchSystem:
    """R(z) and DR(z) of a branch, through compiled kernels.

    Parameters
    ----------
    model
        A symbolic model or one written as Python functions.
    parameter
        The continued parameter's name.
    params
        All parameter values in model order (the continued one is read from ``z``).
    period
        Period of the points (maps).
    backend
        ``"numba"`` or ``"numpy"``.
    """

    def __init__(
        self, model: Model, parameter: str, params: np.ndarray, period: int, backend: str
    ) -> None:
        self.model = model
        self.parameter = parameter
        self.index = model.parameters.index(parameter)
        self.params = np.array(params, dtype=np.float64)
        self.period = period
        self.is_map = model.kind is ModelKind.MAP
        self.n = model.num_variables
        self.exact = model.is_symbolic
        self.num_rhs = 0
        self.num_jac = 0
        n = self.n
        self.compile_time = 0.0
        self.kernels: ModuleType | None = None
        if self.exact:
            compiled, self.kernels = self._augmented_kernels(backend)
            self._p = np.ascontiguousarray(np.delete(self.params, self.index))
        else:
            compiled = compile_model(model, backend=backend)
            self._p = self.params.copy()
        self._rhs = compiled.rhs
        self._jac = compiled.jac
        self.exact_state_jacobian = compiled.has_exact_jacobian
        z = np.array([*model.default_state, self.params[self.index]])
        size = n + 1 if self.exact else n
        y = z if self.exact else z[:n]
        self.compile_time += compiled.warm("rhs", 0.0, y, self._p, np.empty(size))
        self.compile_time += compiled.warm("jac", 0.0, y, self._p, np.empty((size, size)))
        self._out = np.empty(size)
        self._jout = np.empty((size, size))

    def _augmented_kernels(self, backend: str) -> tuple[CompiledModel, ModuleType | None]:
        """Kernels of the augmented model and the compiled PALC loop (cached per process)."""
        key = (self.model.kernel_hash, self.parameter, backend)
        cached = _KERNELS.get(key)
        if cached is None:
            compiled = compile_model(augmented_model(self.model, self.parameter), backend=backend)
            module = None
            if backend == "numba":
                from stabkit.analysis._palc_kernel import compiled_tracer

                found = compiled_tracer(compiled)
                if found is not None:
                    module, self.compile_time = found
            cached = _KERNELS[key] = (compiled, module)
        return cached

    @property
    def tracer(self) -> Callable[..., Any] | None:
        """The compiled PALC loop (``palc_trace``), or ``None`` (plain-Python backend)."""
        return None if self.kernels is None else self.kernels.palc_trace

    def fast_correct(
        self, z_pred: np.ndarray, normal: np.ndarray, tol: float, max_iterations: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The compiled PALC corrector: (z, DR(z)), or (None, None) when Newton failed."""
        assert self.kernels is not None
        size = self.n + 1
        z = np.empty(size)
        dr = np.empty((self.n, size))
        counters = np.zeros(8, dtype=np.int64)
        with np.errstate(all="ignore"):
            k = self.kernels._palc_correct(
                np.ascontiguousarray(z_pred, dtype=np.float64),
                np.ascontiguousarray(normal, dtype=np.float64),
                self._p if self._p.size else np.zeros(1), self.period, self.is_map,
                float(tol), int(max_iterations), z, dr, counters,
            )  # fmt: skip
        self.num_jac += int(counters[2])
        return (z, dr) if k >= 0 else (None, None)

    def corrector(
        self,
    ) -> (
        Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray | None, np.ndarray | None]]
        | None
    ):
        """:meth:`fast_correct` as a ``locate_zero`` corrector, or ``None`` without kernels."""
        if self.kernels is None:
            return None

        def run(
            z_pred: np.ndarray, normal: np.ndarray, tol: float
        ) -> tuple[np.ndarray | None, np.ndarray | None]:
            return self.fast_correct(z_pred, normal, tol, 12)

        return run

    @property
    def kernel_params(self) -> np.ndarray:
        """The parameter vector the (augmented) kernels take."""
        return self._p

    # ----------------------------------------------------------------- one step of f
    def _f(self, z: np.ndarray) -> np.ndarray:
        """f(x, p) (next state for maps), shape (n,)."""
        self.num_rhs += 1
        out = self._out
        with np.errstate(all="ignore"):
            if self.exact:
                self._rhs(0.0, z, self._p, out)
            else:
                self._p[self.index] = z[-1]
                self._rhs(0.0, np.ascontiguousarray(z[:-1]), self._p, out)
        return out[: self.n].copy()

    def _df(self, z: np.ndarray) -> np.ndarray:
        """[f_x, f_p] at z, shape (n, n + 1)."""
        self.num_jac += 1
        n = self.n
        with np.errstate(all="ignore"):
            if self.exact:
                self._jac(0.0, z, self._p, self._jout)
                return self._jout[:n].copy()
            out = np.empty((n, n + 1))
            self._p[self.index] = z[-1]
            self._jac(0.0, np.ascontiguousarray(z[:-1]), self._p, self._jout)
            out[:, :n] = self._jout
            h = 1e-6 * max(1.0, abs(float(z[-1])))
            up, down = z.copy(), z.copy()
            up[-1] += h
            down[-1] -= h
            out[:, n] = (self._f(up) - self._f(down)) / (up[-1] - down[-1])
            return out

    # ----------------------------------------------------------------- the branch
    def residual(self, z: np.ndarray) -> np.ndarray:
        """R(z), shape (n,)."""
        z = np.ascontiguousarray(z, dtype=np.float64)
        if not self.is_map:
            return self._f(z)
        y = z.copy()
        for _ in range(self.period):
            y[:-1] = self._f(y)
        return y[:-1] - z[:-1]

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        """DR(z) = [R_x, R_p], shape (n, n + 1)."""
        z = np.ascontiguousarray(z, dtype=np.float64)
        if not self.is_map:
            return self._df(z)
        total = self.orbit_jacobian(z)
        total[:, : self.n] -= np.eye(self.n)
        return total

    def orbit_jacobian(self, z: np.ndarray) -> np.ndarray:
        """[D_x f^k, D_p f^k] at z (maps), shape (n, n + 1)."""
        n = self.n
        y = np.ascontiguousarray(z, dtype=np.float64).copy()
        total = np.zeros((n + 1, n + 1))
        total[np.arange(n + 1), np.arange(n + 1)] = 1.0
        step = np.zeros((n + 1, n + 1))
        step[n, n] = 1.0
        for _ in range(self.period):
            step[:n] = self._df(y)
            total = step @ total
            y[:-1] = self._f(y)
        return total[:n].copy()

    def state_jacobian(self, z: np.ndarray) -> np.ndarray:
        """The linearisation: f_x (flows) or D_x f^k (maps), shape (n, n)."""
        if not self.is_map:
            return self.jacobian(z)[:, : self.n]
        return self.orbit_jacobian(z)[:, : self.n]

    def params_at(self, z: np.ndarray) -> np.ndarray:
        """All parameter values with the continued one taken from z."""
        p = self.params.copy()
        p[self.index] = float(z[-1])
        return p
