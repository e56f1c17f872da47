"""Generated kernel modules for Lyapunov exponents.

For a symbolic model the module holds the model's ``rhs`` and exact symbolic ``jac``
(printed with :class:`stabkit.model.codegen.KernelPrinter`, common subexpressions
eliminated) followed by the body of :mod:`stabkit.analysis._lyapunov_template`, so that
numba inlines the model into the variational integrator. The file is named by a hash
of the model's equations, the template and the stabkit version and every function is
``@njit(cache=True)``: a second process compiles nothing. A model written as Python
functions gets a session module that takes ``rhs`` and ``jac`` (the user's ``jac_fn`` or
forward differences) from the model's ordinary kernel module; it is never cached on disk.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from stabkit.errors import CompilationError
from stabkit.model.codegen import (
    KernelPrinter,
    _assignments,
    _header,
    _import_file,
    _realify,
    _symbol_names,
    _write_atomically,
    cache_dir,
    compile_model,
    symbolic_jacobian,
)
from stabkit.model.model import Model

__all__ = ["LyapunovKernels", "lyapunov_kernels"]

_MARKER = "# ---- template body ----"
_LOCK = threading.Lock()
_LOADED: dict[str, LyapunovKernels] = {}


def _template_path() -> Path:
    return Path(__file__).resolve().parent / "_lyapunov_template.py"


def _template_body() -> str:
    text = _template_path().read_text()
    if _MARKER not in text:  # pragma: no cover - defensive
        raise CompilationError(f"{_template_path().name} has no {_MARKER!r} line")
    return text.split(_MARKER, 1)[1]


def _model_functions_source(model: Model) -> str:
    """``rhs`` and ``jac`` of a symbolic model as (numba-compilable) Python source."""
    n = model.num_variables
    printer = KernelPrinter(_symbol_names(model))
    eqs_real, _ = _realify(list(model.equations))
    body = _assignments(eqs_real, [f"out[{i}]" for i in range(n)], printer)
    jac = symbolic_jacobian(model)
    flat = [jac[i][j] for i in range(n) for j in range(n)]
    targets = [f"out[{i}, {j}]" for i in range(n) for j in range(n)]
    keep = [(tg, e) for tg, e in zip(targets, flat, strict=True) if e != 0]
    lines = ["    out[:, :] = 0.0"]
    printer = KernelPrinter(_symbol_names(model))
    lines += _assignments([e for _, e in keep], [tg for tg, _ in keep], printer)
    return (
        "\n@_jit\ndef rhs(t, y, p, out):\n"
        + "\n".join(body or ["    pass"])
        + "\n\n@_jit\ndef jac(t, y, p, out):\n"
        + "\n".join(lines)
        + "\nHAS_JACOBIAN = True\n"
    )


@dataclass(eq=False)
class LyapunovKernels:
    """The loaded kernel module of one model.

    Attributes
    ----------
    module
        Generated module with ``ly_flow`` and ``ly_map``.
    backend
        ``"numba"`` or ``"numpy"``.
    jacobian_source
        ``"exact"``, ``"user"`` or ``"finite differences"``.
    codegen_time
        Seconds spent writing the source (0 when it came from the cache).
    """

    module: ModuleType
    backend: str
    jacobian_source: str
    codegen_time: float
    _warm: set[str] = field(default_factory=set)

    def warm(self, name: str, n: int, k: int, p: np.ndarray) -> float:
        """Compile ``ly_flow`` or ``ly_map`` on a tiny problem; seconds spent (0 if done)."""
        if self.backend != "numba" or name in self._warm:
            return 0.0
        y = np.zeros(n)
        Q = np.eye(n)[:, :k].copy()
        cfg = np.array([0.0, 1.0, 0.9, 0.2, 10.0, 0.04, 1e100, 1.0, 0.0] + [0.0] * 7)
        logs = np.zeros((1, k))
        trace = np.zeros(1)
        counters = np.zeros(16, dtype=np.int64)
        t0 = time.perf_counter()
        try:
            if name == "ly_flow":
                self.module.ly_flow(
                    y, Q, p, 0.0, 1e-3, 1e-3, 0, 1e-6, 1e-9, cfg, logs, trace, counters
                )
            else:
                self.module.ly_map(y, Q, p, 0.0, 1, 0, cfg, logs, trace, counters)
        except Exception as exc:  # numba typing errors surface here
            raise CompilationError(f"compiling the Lyapunov kernel {name} failed: {exc}") from exc
        self._warm.add(name)
        return time.perf_counter() - t0

    def call(self, name: str, *args: Any) -> Any:
        """Call ``ly_flow`` or ``ly_map``."""
        with np.errstate(all="ignore"):
            return getattr(self.module, name)(*args)


def lyapunov_kernels(model: Model, *, backend: str = "numba") -> LyapunovKernels:
    """Generate (or load from the cache) the Lyapunov kernel module of ``model``."""
    import stabkit

    template_hash = hashlib.sha256(_template_path().read_bytes()).hexdigest()[:12]
    if model.is_symbolic:
        parts = [model.kernel_hash, backend, template_hash, stabkit.__version__, "ly1"]
    else:
        base = compile_model(model, backend=backend)
        parts = [base.module.__name__, backend, template_hash, str(id(model.functions))]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]
    with _LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            return cached
        t0 = time.perf_counter()
        codegen_time = 0.0
        if model.is_symbolic:
            path = cache_dir() / f"ly_{key}.py"
            if not path.exists():
                source = (
                    f"# generated by stabkit.analysis._lyapunov_kernels for model {model.name!r}"
                    "; do not edit\n"
                    + _header(backend, cache=True)
                    + _model_functions_source(model)
                    + _template_body()
                )
                _write_atomically(path, source)
                codegen_time = time.perf_counter() - t0
            jacobian_source = "exact"
        else:
            import os

            base = compile_model(model, backend=backend)
            numba_backend = backend == "numba" and bool(base.module.NUMBA)
            source = (
                "# generated by stabkit.analysis._lyapunov_kernels (Python-function model)\n"
                + _header("numba" if numba_backend else "numpy", cache=False)
                + "import sys\n"
                + f"_base = sys.modules[{base.module.__name__!r}]\n"
                + "rhs = _base.rhs\njac = _base.jac\n"
                + _template_body()
            )
            path = cache_dir() / "session" / f"pid{os.getpid()}" / f"ly_{key}.py"
            _write_atomically(path, source)
            codegen_time = time.perf_counter() - t0
            jacobian_source = "user" if base.has_exact_jacobian else "finite differences"
            backend = "numba" if numba_backend else "numpy"
        module = _import_file(path, f"stabkit_kernels.ly_{key}")
        kernels = LyapunovKernels(module, backend, jacobian_source, codegen_time)
        _LOADED[key] = kernels
        return kernels
