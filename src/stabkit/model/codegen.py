"""Code generation: sympy model -> numba (or plain Python) kernel modules.

For a symbolic model, :func:`compile_model` writes one Python module per model (and
set of events) into the kernel cache directory and imports it. The module holds

* ``rhs(t, y, p, out)``: the right-hand side (next state for maps),
* ``jac(t, y, p, out)``: the exact symbolic Jacobian ``out[i, j] = d f_i / d y_j``,
* ``events(t, y, p, out)``: event functions ``out[k] = g_k(t, y, p)``,

with common subexpressions eliminated, followed by the integrator templates of
:mod:`stabkit.integrate._templates` (Runge-Kutta, Rosenbrock, map iteration) which
call those three functions as module globals, so that numba inlines the model into
the integrator loop. With ``backend="numba"`` every function is ``@njit(cache=True)``:
the module file is named by a content hash (model, events, templates, versions), and
numba's own on-disk cache sits beside it, so a second run compiles nothing. With
``backend="numpy"`` the same source runs as plain Python: the slow reference used by
the tests and for debugging.

Models written as Python functions (:meth:`Model.from_function`) get a module too; it
takes the user's functions from an in-process registry and is never cached on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import itertools
import logging
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import sympy
from sympy.printing.pycode import PythonCodePrinter

from stabkit.errors import CompilationError, InputError
from stabkit.model.model import TIME, Model

__all__ = [
    "CompiledModel",
    "KernelPrinter",
    "cache_dir",
    "compile_model",
    "generate_source",
    "register_function",
]

log = logging.getLogger(__name__)

_BACKENDS = ("numba", "numpy")
_TEMPLATE_MARKER = "# ---- template body ----"
_LOCK = threading.Lock()
_LOADED: dict[str, CompiledModel] = {}
_FUNCTION_REGISTRY: dict[str, Callable[..., Any]] = {}
_COUNTER = itertools.count()


class _NumpyMath:
    """Stand-in for :mod:`math` in the plain-Python backend.

    numba (``error_model='numpy'``) returns NaN or infinity where :mod:`math` raises
    (``sqrt(-1)``, ``log(0)``, ``exp(1000)``); numpy's functions do the same, so the
    reference backend agrees with the compiled one on such inputs too.
    """

    pi = math.pi
    e = math.e
    inf = math.inf
    nan = math.nan
    sqrt = staticmethod(np.sqrt)
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    log10 = staticmethod(np.log10)
    log2 = staticmethod(np.log2)
    log1p = staticmethod(np.log1p)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    asin = staticmethod(np.arcsin)
    acos = staticmethod(np.arccos)
    atan = staticmethod(np.arctan)
    atan2 = staticmethod(np.arctan2)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    tanh = staticmethod(np.tanh)
    asinh = staticmethod(np.arcsinh)
    acosh = staticmethod(np.arccosh)
    atanh = staticmethod(np.arctanh)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)
    fabs = staticmethod(np.fabs)
    copysign = staticmethod(np.copysign)
    hypot = staticmethod(np.hypot)
    isfinite = staticmethod(np.isfinite)
    isnan = staticmethod(np.isnan)
    isinf = staticmethod(np.isinf)

    def __getattr__(self, name: str) -> Any:
        return getattr(math, name)


#: The ``math`` module as seen by plain-Python kernel modules.
NUMPY_MATH = _NumpyMath()


def cache_dir() -> Path:
    """Directory of generated kernel modules: ``$STABKIT_CACHE_DIR`` or ``~/.cache/stabkit``."""
    env = os.environ.get("STABKIT_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return (base if env else base / "stabkit") / "kernels"


# --------------------------------------------------------------------------- printing
class KernelPrinter(PythonCodePrinter):
    """Prints sympy expressions as numba-compilable Python using the ``math`` module.

    Variables print as ``y[i]``, parameters as ``p[j]``, time as ``t``; small integer
    powers become products; non-smooth functions get their almost-everywhere values
    (``heaviside(0) = 1/2`` unless given, ``sign(0) = 0``).
    """

    def __init__(self, symbol_names: dict[str, str]) -> None:
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self._names = symbol_names

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        try:
            return self._names[expr.name]
        except KeyError:
            raise CompilationError(
                f"symbol {expr.name!r} is neither a variable, a parameter nor t"
            ) from None

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return f"{float(int(expr))!r}"

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return f"({float(expr.p)!r}/{float(expr.q)!r})"

    def _print_Half(self, expr: sympy.Rational) -> str:
        return "0.5"

    def _print_Pi(self, expr: sympy.Basic) -> str:
        return repr(float(sympy.pi))

    def _print_Exp1(self, expr: sympy.Basic) -> str:
        return repr(float(sympy.E))

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        b = self.parenthesize(base, sympy.printing.precedence.PRECEDENCE["Pow"])
        if exp.is_Integer:
            k = int(exp)
            if k == 0:
                return "1.0"
            if 0 < k <= 4:
                return "(" + "*".join([b] * k) + ")"
            if -4 <= k < 0:
                return "(1.0/(" + "*".join([b] * (-k)) + "))"
        if exp == sympy.S.Half:
            return f"math.sqrt({self._print(base)})"
        if exp == -sympy.S.Half:
            return f"(1.0/math.sqrt({self._print(base)}))"
        e = self.parenthesize(exp, sympy.printing.precedence.PRECEDENCE["Pow"])
        return f"({b}**{e})"

    def _print_Heaviside(self, expr: sympy.Heaviside) -> str:
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        if h0 is sympy.nan or h0 is None:
            h0 = sympy.S.Half
        return f"(1.0 if ({x}) > 0.0 else ({float(h0)!r} if ({x}) == 0.0 else 0.0))"

    def _print_sign(self, expr: sympy.sign) -> str:
        x = self._print(expr.args[0])
        return f"(1.0 if ({x}) > 0.0 else (-1.0 if ({x}) < 0.0 else 0.0))"

    def _print_DiracDelta(self, expr: sympy.Basic) -> str:
        return "0.0"

    def _print_Abs(self, expr: sympy.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_floor(self, expr: sympy.Basic) -> str:
        return f"float(math.floor({self._print(expr.args[0])}))"

    def _print_ceiling(self, expr: sympy.Basic) -> str:
        return f"float(math.ceil({self._print(expr.args[0])}))"

    def _print_Min(self, expr: sympy.Basic) -> str:
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"min({out}, {a})"
        return out

    def _print_Max(self, expr: sympy.Basic) -> str:
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"max({out}, {a})"
        return out

    def _print_BooleanTrue(self, expr: sympy.Basic) -> str:
        return "True"

    def _print_BooleanFalse(self, expr: sympy.Basic) -> str:
        return "False"

    def _print_Derivative(self, expr: sympy.Basic) -> str:
        raise CompilationError(
            f"cannot generate code for the unevaluated derivative {expr}; "
            "the model uses a function whose derivative sympy does not know"
        )

    def _print_Function(self, expr: sympy.Basic) -> str:
        raise CompilationError(f"cannot generate code for the function {expr.func}")


def _realify(
    exprs: Sequence[sympy.Expr],
) -> tuple[list[sympy.Expr], dict[sympy.Symbol, sympy.Symbol]]:
    """Replace every symbol by a real one, so that d|x|/dx = sign(x) and so on."""
    free: set[sympy.Symbol] = set()
    for e in exprs:
        free |= {s for s in e.free_symbols if isinstance(s, sympy.Symbol)}
    to_real = {s: sympy.Symbol(s.name, real=True) for s in free}
    back = {v: k for k, v in to_real.items()}
    return [e.xreplace(to_real) for e in exprs], back


def _clean_derivatives(expr: sympy.Expr) -> sympy.Expr:
    """Derivatives of piecewise-constant functions are zero almost everywhere."""
    reps = {}
    for d in expr.atoms(sympy.Derivative):
        if isinstance(d.expr, (sympy.floor, sympy.ceiling, sympy.sign, sympy.Heaviside)):
            reps[d] = sympy.S.Zero
    return expr.xreplace(reps) if reps else expr


def symbolic_jacobian(model: Model) -> list[list[sympy.Expr]]:
    """The Jacobian of a symbolic model with real symbols (exact derivatives)."""
    eqs, _ = _realify(list(model.equations))
    ys = [sympy.Symbol(v, real=True) for v in model.variables]
    return [[_clean_derivatives(sympy.diff(f, y)) for y in ys] for f in eqs]


def _event_expressions(model: Model, events: Sequence[Any]) -> list[sympy.Expr]:
    out = []
    for k, ev in enumerate(events):
        expr = ev.expression
        if isinstance(expr, str):
            from stabkit.model.parse import parse_expression

            names = {n: sympy.Symbol(n) for n in (*model.variables, *model.parameters, "t")}
            expr = parse_expression(expr, names=names)
        if not isinstance(expr, sympy.Basic):
            raise InputError(
                f"events[{k}].expression={expr!r}: for a symbolic model give text such as "
                "'x - 1' or a sympy expression"
            )
        unknown = {s.name for s in expr.free_symbols} - {
            *model.variables,
            *model.parameters,
            "t",
        }
        if unknown:
            raise InputError(
                f"events[{k}] uses unknown symbol(s) {sorted(unknown)}; "
                f"use variables {list(model.variables)}, parameters or t"
            )
        out.append(expr)
    return out


def _assignments(
    exprs: Sequence[sympy.Expr], targets: Sequence[str], printer: KernelPrinter
) -> list[str]:
    """CSE-optimised assignment lines ``target = expr``."""
    nontrivial = [(tgt, e) for tgt, e in zip(targets, exprs, strict=True)]
    if not nontrivial:
        return []
    tmp_symbols = sympy.numbered_symbols("_c")
    replacements, reduced = sympy.cse([e for _, e in nontrivial], symbols=tmp_symbols)
    lines = []
    for sym, value in replacements:
        printer._names[sym.name] = sym.name
        lines.append(f"    {sym.name} = {printer.doprint(value)}")
    for (tgt, _), e in zip(nontrivial, reduced, strict=True):
        lines.append(f"    {tgt} = {printer.doprint(e)}")
    return lines


def _symbol_names(model: Model) -> dict[str, str]:
    names = {v: f"y[{i}]" for i, v in enumerate(model.variables)}
    names.update({q: f"p[{j}]" for j, q in enumerate(model.parameters)})
    names[TIME.name] = "t"
    return names


def _template_files() -> list[Path]:
    folder = Path(__file__).resolve().parent.parent / "integrate" / "_templates"
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("__"))


def _template_body(path: Path) -> str:
    text = path.read_text()
    if _TEMPLATE_MARKER not in text:
        raise CompilationError(f"template {path.name} has no {_TEMPLATE_MARKER!r} line")
    return text.split(_TEMPLATE_MARKER, 1)[1]


def _header(backend: str, cache: bool) -> str:
    if backend == "numba":
        flags = f"cache={cache}, nogil=True, error_model='numpy'"
        return (
            "import math\n"
            "import numpy as np\n"
            "from numba import njit, prange\n\n"
            f"_jit = njit({flags})\n"
            f"_pjit = njit({flags}, parallel=True)\n"
            "NUMBA = True\n"
        )
    return (
        "import numpy as np\n\n"
        "from stabkit.model.codegen import NUMPY_MATH as math\n\n"
        "prange = range\n\n\n"
        "def _jit(fn):\n    return fn\n\n\n"
        "_pjit = _jit\n"
        "NUMBA = False\n"
    )


def generate_source(model: Model, *, backend: str = "numba", events: Sequence[Any] = ()) -> str:
    """The full source of the kernel module of a symbolic model (for inspection)."""
    model._require_symbolic("generate_source")
    n = model.num_variables
    printer = KernelPrinter(_symbol_names(model))
    eqs_real, _ = _realify(list(model.equations))
    jac = symbolic_jacobian(model)
    ev_exprs, _ = _realify(_event_expressions(model, events))

    parts = [
        f"# generated by stabkit.model.codegen for model {model.name!r} "
        f"(kernel hash {model.kernel_hash}); do not edit\n",
        _header(backend, cache=True),
        f"NUM_VARIABLES = {n}\nNUM_PARAMETERS = {model.num_parameters}\n"
        f"NUM_EVENTS = {len(ev_exprs)}\nIS_MAP = {model.kind.value == 'map'}\n",
    ]

    body = _assignments(eqs_real, [f"out[{i}]" for i in range(n)], printer)
    parts.append("\n@_jit\ndef rhs(t, y, p, out):\n" + "\n".join(body or ["    pass"]) + "\n")

    flat = [jac[i][j] for i in range(n) for j in range(n)]
    targets = [f"out[{i}, {j}]" for i in range(n) for j in range(n)]
    keep = [(tg, e) for tg, e in zip(targets, flat, strict=True) if e != 0]
    lines = ["    out[:, :] = 0.0"]
    lines += _assignments([e for _, e in keep], [tg for tg, _ in keep], printer)
    parts.append("\n@_jit\ndef jac(t, y, p, out):\n" + "\n".join(lines) + "\n")

    ev_lines = _assignments(ev_exprs, [f"out[{k}]" for k in range(len(ev_exprs))], printer)
    parts.append(
        "\n@_jit\ndef events(t, y, p, out):\n" + "\n".join(ev_lines or ["    pass"]) + "\n"
    )
    parts.append("\nHAS_JACOBIAN = True\n")
    for path in _template_files():
        parts.append(f"\n# ---- from template {path.name}\n{_template_body(path)}")
    return "".join(parts)


def _function_source(model: Model, key: str, backend: str) -> str:
    assert model.functions is not None
    fns = model.functions
    numba_backend = backend == "numba" and fns.is_numba
    parts = [
        f"# generated by stabkit.model.codegen for Python-function model {model.name!r}\n",
        _header("numba" if numba_backend else "numpy", cache=False),
        f"NUM_VARIABLES = {model.num_variables}\nNUM_PARAMETERS = {model.num_parameters}\n"
        f"NUM_EVENTS = 0\nIS_MAP = {model.kind.value == 'map'}\n",
        "from stabkit.model.codegen import _FUNCTION_REGISTRY\n",
        f"_user_rhs = _FUNCTION_REGISTRY[{key + ':rhs'!r}]\n",
        "\n@_jit\ndef rhs(t, y, p, out):\n    _user_rhs(t, y, p, out)\n",
    ]
    if fns.jac_fn is not None:
        parts.append(f"_user_jac = _FUNCTION_REGISTRY[{key + ':jac'!r}]\n")
        parts.append("\n@_jit\ndef jac(t, y, p, out):\n    _user_jac(t, y, p, out)\n")
        parts.append("\nHAS_JACOBIAN = True\n")
    else:
        parts.append(
            "\n@_jit\ndef jac(t, y, p, out):\n"
            "    # forward differences, step scaled to each component\n"
            "    n = y.shape[0]\n"
            "    f0 = np.empty(n)\n"
            "    f1 = np.empty(n)\n"
            "    yp = y.copy()\n"
            "    rhs(t, y, p, f0)\n"
            "    for j in range(n):\n"
            "        h = 1.4901161193847656e-08 * max(1.0, abs(y[j]))\n"
            "        yp[j] = y[j] + h\n"
            "        rhs(t, yp, p, f1)\n"
            "        yp[j] = y[j]\n"
            "        for i in range(n):\n"
            "            out[i, j] = (f1[i] - f0[i]) / h\n"
        )
        parts.append("\nHAS_JACOBIAN = False\n")
    parts.append("\n@_jit\ndef events(t, y, p, out):\n    pass\n")
    for path in _template_files():
        parts.append(f"\n# ---- from template {path.name}\n{_template_body(path)}")
    return "".join(parts)


def register_function(rhs_fn: Callable[..., Any], jac_fn: Callable[..., Any] | None = None) -> str:
    """Put a user's functions in the in-process registry; returns their key."""
    key = f"f{next(_COUNTER)}"
    _FUNCTION_REGISTRY[key + ":rhs"] = rhs_fn
    if jac_fn is not None:
        _FUNCTION_REGISTRY[key + ":jac"] = jac_fn
    return key


# --------------------------------------------------------------------------- compiled model
@dataclasses.dataclass(frozen=True, eq=False)
class CompiledModel:
    """The kernels of a model, ready to call.

    Attributes
    ----------
    model
        The model.
    backend
        ``"numba"`` or ``"numpy"`` (plain Python, the reference).
    module
        The generated module: ``rhs``, ``jac``, ``events`` and the integrator kernels.
    source_path
        The module's file (``None`` for Python-function models' temporary modules).
    codegen_time
        Seconds spent generating the source (0 when it came from the cache).
    """

    model: Model
    backend: str
    module: ModuleType
    source_path: Path | None
    codegen_time: float
    num_events: int = 0
    _compiled: set[str] = dataclasses.field(default_factory=set, repr=False)

    @property
    def rhs(self) -> Callable[..., Any]:
        """``rhs(t, y, p, out)``."""
        return self.module.rhs

    @property
    def jac(self) -> Callable[..., Any]:
        """``jac(t, y, p, out)`` with ``out`` of shape ``(n, n)``."""
        return self.module.jac

    @property
    def has_exact_jacobian(self) -> bool:
        return bool(self.module.HAS_JACOBIAN)

    def kernel(self, name: str) -> Callable[..., Any]:
        """An integrator kernel of the generated module by name."""
        try:
            return getattr(self.module, name)
        except AttributeError:
            raise CompilationError(f"the kernel module has no function {name!r}") from None

    def call(self, name: str, *args: Any) -> tuple[Any, float]:
        """Call kernel ``name``; returns ``(value, compile_seconds)``.

        The first call of a kernel in a process compiles it (or loads it from numba's
        disk cache); that call is made on ``args`` too, and its duration beyond a
        second timed call is not separable, so callers that need clean timings warm
        up with a tiny problem first (see :meth:`warm`).
        """
        fn = self.kernel(name)
        t0 = time.perf_counter()
        value = fn(*args)
        return value, time.perf_counter() - t0

    def warm(self, name: str, *args: Any) -> float:
        """Compile kernel ``name`` by calling it on small ``args``; returns seconds spent.

        Returns 0.0 when the kernel was already compiled in this process.
        """
        if name in self._compiled or self.backend != "numba":
            return 0.0
        fn = self.kernel(name)
        t0 = time.perf_counter()
        try:
            fn(*args)
        except Exception as exc:  # numba typing errors surface here
            raise CompilationError(
                f"compiling {name} for model {self.model.name!r} failed: {exc}"
            ) from exc
        self._compiled.add(name)
        return time.perf_counter() - t0


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _import_file(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - defensive
        raise CompilationError(f"cannot import generated module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise CompilationError(f"generated module {path} failed to import: {exc}") from exc
    return module


_TEMPLATES_HASH: dict[tuple[tuple[str, int, int], ...], str] = {}


def _templates_hash() -> str:
    """Hash of the generator and the templates; recomputed only when a file changes."""
    paths = [Path(__file__), *_template_files()]
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    cached = _TEMPLATES_HASH.get(stamp)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    value = h.hexdigest()[:12]
    _TEMPLATES_HASH.clear()
    _TEMPLATES_HASH[stamp] = value
    return value


def _events_key(events: Sequence[Any]) -> str:
    if not events:
        return ""
    reprs = [
        sympy.srepr(e.expression) if isinstance(e.expression, sympy.Basic) else str(e.expression)
        for e in events
    ]
    return hashlib.sha256("\n".join(reprs).encode()).hexdigest()[:12]


def compile_model(
    model: Model, *, backend: str = "numba", events: Sequence[Any] = ()
) -> CompiledModel:
    """Generate (or load from the cache) the kernel module of ``model``.

    Parameters
    ----------
    model
        A symbolic model or one built from Python functions.
    backend
        ``"numba"`` (compiled, cached on disk) or ``"numpy"`` (plain Python reference).
    events
        :class:`stabkit.integrate.methods.Event` objects whose expressions are
        compiled into ``events(t, y, p, out)``.

    Returns
    -------
    CompiledModel

    Examples
    --------
    >>> import numpy as np, sympy
    >>> from stabkit.model.model import Model, ModelKind
    >>> x, k = sympy.symbols("x k")
    >>> m = Model("decay", ModelKind.ODE, ("x",), ("k",), (-k * x,), (1.0,), (2.0,))
    >>> c = compile_model(m, backend="numpy")
    >>> out = np.zeros(1); c.rhs(0.0, np.array([3.0]), np.array([2.0]), out); float(out[0])
    -6.0
    """
    if backend not in _BACKENDS:
        raise InputError(f"backend={backend!r}: choose 'numba' or 'numpy'")
    if not isinstance(model, Model):
        raise InputError(f"model={model!r}: expected a stabkit Model")
    if events and not model.is_symbolic:
        for k, ev in enumerate(events):
            if isinstance(ev.expression, (str, sympy.Basic)):
                raise InputError(
                    f"events[{k}]: a model built from Python functions needs event functions "
                    "g(t, y, p) -> float, not text"
                )
        raise InputError(
            "events on models built from Python functions are not supported yet; "
            "write the model as equations (Model.from_equations) to use events"
        )

    import stabkit

    key_parts = [
        model.kernel_hash,
        backend,
        _events_key(events),
        _templates_hash(),
        stabkit.__version__,
    ]
    if model.functions is not None:
        key_parts.append(str(id(model.functions)))
    key = hashlib.sha256("|".join(key_parts).encode()).hexdigest()[:20]
    with _LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            return cached
        t0 = time.perf_counter()
        if model.functions is not None:
            fkey = register_function(model.functions.rhs_fn, model.functions.jac_fn)
            source = _function_source(model, fkey, backend)
            folder = cache_dir() / "session" / f"pid{os.getpid()}"
            path = folder / f"u_{key}.py"
            _write_atomically(path, source)
            codegen_time = time.perf_counter() - t0
        else:
            path = cache_dir() / f"k_{key}.py"
            codegen_time = 0.0
            if not path.exists():
                source = generate_source(model, backend=backend, events=events)
                _write_atomically(path, source)
                codegen_time = time.perf_counter() - t0
        module = _import_file(path, f"stabkit_kernels.k_{key}")
        compiled = CompiledModel(
            model=model,
            backend=backend,
            module=module,
            source_path=path,
            codegen_time=codegen_time,
            num_events=len(events),
        )
        _LOADED[key] = compiled
        log.debug("kernel module for %s at %s (codegen %.3fs)", model.name, path, codegen_time)
        return compiled
