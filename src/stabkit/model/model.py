"""The :class:`Model`: what a system is.

A model is an immutable value: a kind (ODE, map, ...), named variables with default
initial values, named parameters with default values, and one right-hand side per
variable, held as sympy expressions (or, for models written as Python functions, as
the functions themselves). Models compare and hash by content.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from stabkit.errors import InputError, ModelError, suggest

if TYPE_CHECKING:
    from stabkit.model.codegen import CompiledModel

__all__ = ["TIME", "Model", "ModelKind", "PythonFunctions"]

#: The symbol of time in every model's expressions.
TIME = sympy.Symbol("t")


class ModelKind(enum.Enum):
    """What kind of system a model is."""

    ODE = "ode"
    """x' = f(t, x, p): a flow."""
    MAP = "map"
    """x[n+1] = f(n, x[n], p): a discrete-time map, iterated exactly."""
    DDE = "dde"
    """x'(t) = f(t, x(t), x(t - tau), p): constant delays."""
    REACTIONS = "reactions"
    """A reaction network; its deterministic rate equations are an ODE."""

    @classmethod
    def parse(cls, value: str | ModelKind, *, where: str = "kind") -> ModelKind:
        if isinstance(value, ModelKind):
            return value
        if not isinstance(value, str):
            raise InputError(
                f"{where}={value!r}: expected one of {', '.join(k.value for k in cls)}"
            )
        try:
            return cls(value.strip().lower())
        except ValueError:
            hint = suggest(value.strip().lower(), [k.value for k in cls])
            raise ModelError(
                f"unknown model kind {value!r}; expected one of {', '.join(k.value for k in cls)}",
                suggestion=hint,
            ) from None


@dataclasses.dataclass(frozen=True)
class PythonFunctions:
    """Right-hand side (and optional Jacobian) of a model written in Python.

    ``rhs_fn(t, y, p, out)`` writes dy/dt (or the next state of a map) into ``out``;
    ``jac_fn(t, y, p, out)`` writes the ``(n, n)`` Jacobian. ``is_numba`` tells whether
    both are numba-compiled (fast path) or plain Python/numpy (reference path; the
    Jacobian then defaults to finite differences).
    """

    rhs_fn: Callable[..., Any]
    jac_fn: Callable[..., Any] | None
    is_numba: bool
    fingerprint: str


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """A dynamical system: immutable, hashable by content.

    Build one with :meth:`from_equations` (text), :meth:`from_sympy`,
    :meth:`from_function` (Python code) or :func:`stabkit.load_model` (a TOML file).

    Attributes
    ----------
    name
        Short name, used in reports.
    kind
        :class:`ModelKind`.
    variables
        State variable names, in state-vector order.
    parameters
        Parameter names, in parameter-vector order.
    equations
        One sympy expression per variable (definitions substituted), or ``()`` for
        models given as Python functions.
    default_state
        Default initial state, one value per variable.
    default_params
        Default parameter values, one per parameter.
    definitions
        Auxiliary definitions ``(name, expression)`` as written, for display.
    description, citation
        Free text; library models cite their source.
    functions
        :class:`PythonFunctions` for models written in Python, else ``None``.
    """

    name: str
    kind: ModelKind
    variables: tuple[str, ...]
    parameters: tuple[str, ...]
    equations: tuple[sympy.Expr, ...]
    default_state: tuple[float, ...]
    default_params: tuple[float, ...]
    definitions: tuple[tuple[str, sympy.Expr], ...] = ()
    description: str = ""
    citation: str = ""
    functions: PythonFunctions | None = None
    metadata: tuple[tuple[str, Any], ...] = ()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_equations(
        cls,
        equations: Mapping[str, str],
        *,
        parameters: Mapping[str, float] | None = None,
        variables: Mapping[str, float] | Sequence[str] | None = None,
        definitions: Mapping[str, str] | None = None,
        kind: str | ModelKind = "ode",
        name: str = "model",
        description: str = "",
        citation: str = "",
    ) -> Model:
        """Build a model from equation text, one right-hand side per variable.

        Parameters
        ----------
        equations
            ``{variable: "right-hand side"}``; the order gives the state-vector order
            unless ``variables`` is given.
        parameters
            ``{name: default value}``.
        variables
            Default initial state ``{name: value}`` or just the names (initial values 0).
        definitions
            Auxiliary expressions ``{name: "text"}`` usable in equations and in later
            definitions.
        kind
            ``"ode"`` or ``"map"`` (``"dde"`` and ``"reactions"`` come with their modules).

        Raises
        ------
        ModelError
            Syntax errors, unknown symbols or functions, missing or duplicate equations,
            non-finite parameter values, empty models.

        Examples
        --------
        >>> m = Model.from_equations({"x": "-k*x"}, parameters={"k": 0.5}, variables={"x": 1.0})
        >>> m.variables, m.parameters
        (('x',), ('k',))
        """
        from stabkit.model.build import build_model

        return build_model(
            equations,
            parameters=parameters,
            variables=variables,
            definitions=definitions,
            kind=kind,
            name=name,
            description=description,
            citation=citation,
        )

    @classmethod
    def from_function(
        cls,
        rhs_fn: Callable[..., Any],
        *,
        variables: Mapping[str, float] | Sequence[str],
        parameters: Mapping[str, float] | Sequence[str] | None = None,
        jac_fn: Callable[..., Any] | None = None,
        kind: str | ModelKind = "ode",
        name: str | None = None,
    ) -> Model:
        """Build a model from a Python function ``rhs_fn(t, y, p, out)``.

        A numba-compiled function (``@numba.njit``) runs at full speed inside the
        integrators; a plain Python/numpy function works too, more slowly, with a
        finite-difference Jacobian unless ``jac_fn(t, y, p, out)`` is given. A
        three-argument function ``rhs_fn(t, y, p) -> dy`` is accepted as well.
        """
        from stabkit.model.pyfunc import model_from_function

        return model_from_function(
            rhs_fn, variables=variables, parameters=parameters, jac_fn=jac_fn, kind=kind, name=name
        )

    # ------------------------------------------------------------------ basic facts
    @property
    def num_variables(self) -> int:
        return len(self.variables)

    @property
    def num_parameters(self) -> int:
        return len(self.parameters)

    @property
    def is_symbolic(self) -> bool:
        """True when the right-hand side is known symbolically (exact Jacobian, codegen)."""
        return self.functions is None

    @property
    def variable_symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(v) for v in self.variables)

    @property
    def parameter_symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(p) for p in self.parameters)

    def rhs_dict(self) -> dict[str, sympy.Expr]:
        """``{variable: right-hand side}``."""
        return dict(zip(self.variables, self.equations, strict=True))

    def jacobian_matrix(self) -> sympy.Matrix:
        """The exact symbolic Jacobian d f_i / d y_j."""
        self._require_symbolic("jacobian_matrix")
        return sympy.Matrix(self.equations).jacobian(sympy.Matrix(self.variable_symbols))

    # ------------------------------------------------------------------ identity
    def _canonical(self, *, values: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "variables": list(self.variables),
            "parameters": list(self.parameters),
        }
        if self.functions is not None:
            data["functions"] = self.functions.fingerprint
        else:
            data["equations"] = [sympy.srepr(e) for e in self.equations]
        if values:
            data["name"] = self.name
            data["default_state"] = [repr(float(v)) for v in self.default_state]
            data["default_params"] = [repr(float(v)) for v in self.default_params]
        return data

    @functools.cached_property  # immutable: computed once (sympy printing is slow)
    def content_hash(self) -> str:
        """SHA-256 (hex, 16 chars) of everything that defines the model, defaults included."""
        blob = json.dumps(self._canonical(values=True), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @functools.cached_property
    def kernel_hash(self) -> str:
        """Hash of what compiled kernels depend on (equations, names, kind; not defaults)."""
        blob = json.dumps(self._canonical(values=False), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self.content_hash == other.content_hash

    def __repr__(self) -> str:
        return (
            f"Model(name={self.name!r}, kind={self.kind.value!r}, "
            f"variables={list(self.variables)}, parameters={dict(self.default_parameter_map())})"
        )

    # ------------------------------------------------------------------ values
    def default_parameter_map(self) -> dict[str, float]:
        return dict(zip(self.parameters, self.default_params, strict=True))

    def default_state_map(self) -> dict[str, float]:
        return dict(zip(self.variables, self.default_state, strict=True))

    def with_params(self, **values: float) -> Model:
        """A copy with new default parameter values."""
        vec = self.param_vector(values)
        return dataclasses.replace(self, default_params=tuple(float(v) for v in vec))

    def with_state(self, **values: float) -> Model:
        """A copy with a new default initial state."""
        vec = self.state_vector(values)
        return dataclasses.replace(self, default_state=tuple(float(v) for v in vec))

    def param_vector(
        self, params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None
    ) -> np.ndarray:
        """Parameter values as a float64 vector in model order.

        ``params`` may be ``None`` (defaults), a mapping overriding some defaults, or a
        full sequence in model order.
        """
        return _named_vector(
            params, self.parameters, self.default_params, what="params", model=self.name
        )

    def state_vector(
        self, state: Mapping[str, float] | Sequence[float] | np.ndarray | None = None
    ) -> np.ndarray:
        """A state as a float64 vector in model order (``None``: the default state)."""
        return _named_vector(state, self.variables, self.default_state, what="y0", model=self.name)

    # ------------------------------------------------------------------ compiled form
    def compile(self, *, backend: str = "numba") -> CompiledModel:
        """Kernels for this model: ``backend="numba"`` (fast, cached on disk) or ``"numpy"``.

        See :func:`stabkit.model.codegen.compile_model`.
        """
        from stabkit.model.codegen import compile_model

        return compile_model(self, backend=backend)

    def _require_symbolic(self, what: str) -> None:
        if not self.is_symbolic:
            raise InputError(
                f"{what} needs a symbolic model, but {self.name!r} was built from a Python "
                "function; build it with Model.from_equations to get exact derivatives"
            )


def _named_vector(
    values: Mapping[str, float] | Sequence[float] | np.ndarray | None,
    names: tuple[str, ...],
    defaults: tuple[float, ...],
    *,
    what: str,
    model: str,
) -> np.ndarray:
    out = np.array(defaults, dtype=np.float64)
    if values is None:
        return out
    if isinstance(values, Mapping):
        for key, val in values.items():
            if key not in names:
                hint = suggest(str(key), names)
                known = ", ".join(names) if names else "(none)"
                noun = "parameter" if what == "params" else "variable"
                raise InputError(
                    f"{what}: model {model!r} has no {noun} {key!r}; it has {known}"
                    + (f"; {hint}" if hint else "")
                )
            out[names.index(key)] = _finite(val, f"{what}[{key!r}]")
        return out
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"{what}={values!r}: expected a mapping name -> number or {len(names)} numbers"
        ) from None
    if arr.shape != (len(names),):
        raise InputError(
            f"{what} has shape {arr.shape}, but model {model!r} has {len(names)} "
            f"{'parameters' if what == 'params' else 'variables'} ({', '.join(names)}); "
            f"pass {len(names)} values in that order or a mapping"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"{what}[{bad}] ({names[bad]}) = {arr[bad]} is not finite")
    return arr.copy()


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{where} = {value!r}: expected a number, got a boolean")
    try:
        val = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where} = {value!r}: expected a number") from None
    if not math.isfinite(val):
        raise InputError(f"{where} = {val}: must be finite")
    return val
