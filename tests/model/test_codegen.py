"""Code generation: sympy models -> kernel modules (numba and plain-Python backends).

Known answers: direct sympy evaluation at 30 digits (right-hand sides and exact
Jacobians of random models drawn by hypothesis), central finite differences, the two
backends against each other, and the on-disk kernel cache seen from a new process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stabkit.errors import CompilationError, InputError
from stabkit.model.codegen import compile_model, generate_source
from stabkit.model.model import Model, ModelKind

X, Y, Z = sympy.symbols("x y z")
A, B = sympy.symbols("a b")
T = sympy.Symbol("t")
VARIABLES = (X, Y, Z)
PARAMETERS = (A, B)


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """Random models go to a throw-away kernel cache, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STABKIT_CACHE_DIR", str(tmp_path_factory.mktemp("kernels")))
        yield


# --------------------------------------------------------------------------- strategies
LEAVES = st.one_of(
    st.sampled_from([*VARIABLES, *PARAMETERS, T]),
    st.integers(-3, 3).map(sympy.Integer),
    st.sampled_from([sympy.Rational(1, 2), sympy.Rational(-2, 3), sympy.Float(0.75)]),
)

SMOOTH_UNARY = [
    sympy.sin,
    sympy.cos,
    sympy.tanh,
    lambda e: -e,
    lambda e: e**2,
    lambda e: e**3,
    lambda e: sympy.exp(sympy.tanh(e)),  # exp of something bounded: no overflow
    lambda e: sympy.exp(sympy.sin(e) / 2),
    lambda e: sympy.log(1 + e**2),  # log of positive things
    lambda e: sympy.log(2 + sympy.cos(e)),
    lambda e: sympy.sqrt(1 + e**2),
    lambda e: (1 + e**2) ** sympy.Rational(1, 3),  # fractional powers
    lambda e: (2 + sympy.sin(e)) ** sympy.Rational(-3, 2),
    lambda e: (1 + e**2) ** -1,  # negative powers
    lambda e: (2 + sympy.cos(e)) ** -2,
    lambda e: (1 + e**2) ** -5,
    lambda e: e**7,
]
NONSMOOTH_UNARY = [sympy.Abs, sympy.Heaviside, sympy.sign, lambda e: sympy.sqrt(sympy.Abs(e))]
SMOOTH_BINARY = [
    lambda u, v: u + v,
    lambda u, v: u - v,
    lambda u, v: u * v,
    lambda u, v: u / (1 + v**2),  # division by something positive
    lambda u, v: u / (3 + sympy.sin(v)),
    lambda u, v: (1 + u**2) ** sympy.tanh(v),  # a symbolic exponent
]
NONSMOOTH_BINARY = [sympy.Max, sympy.Min, lambda u, v: sympy.Max(u, v, -u * v)]


def expressions(smooth: bool) -> st.SearchStrategy[sympy.Expr]:
    unary = SMOOTH_UNARY + ([] if smooth else NONSMOOTH_UNARY)
    binary = SMOOTH_BINARY + ([] if smooth else NONSMOOTH_BINARY)

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(unary), children).map(lambda fe: fe[0](fe[1])),
            st.tuples(st.sampled_from(binary), children, children).map(
                lambda fe: fe[0](fe[1], fe[2])
            ),
        )

    return st.recursive(LEAVES, extend, max_leaves=7)


@st.composite
def random_models(draw, smooth: bool = False):
    n = draw(st.integers(1, 3))
    eqs = tuple(draw(expressions(smooth)) for _ in range(n))
    variables = tuple(str(v) for v in VARIABLES[:n])
    # symbols of variables beyond n would be unknown: map them onto the ones we keep
    fold = {VARIABLES[k]: VARIABLES[k % n] for k in range(3)}
    eqs = tuple(sympy.sympify(e).xreplace(fold) for e in eqs)
    return Model(
        "random",
        ModelKind.ODE,
        variables,
        ("a", "b"),
        eqs,
        tuple(0.0 for _ in variables),
        (0.5, -1.5),
    )


def points(n: int):
    """A state, parameters and time away from kinks: coordinates in +-[0.1, 2]."""
    coord = st.floats(0.1, 2.0).flatmap(lambda v: st.sampled_from([v, -v]))
    return st.tuples(
        st.lists(coord, min_size=n, max_size=n),
        st.lists(coord, min_size=2, max_size=2),
        coord,
    )


# --------------------------------------------------------------------------- references
def _real_symbols(model):
    names = [*model.variables, *model.parameters, "t"]
    return {sympy.Symbol(nm): sympy.Symbol(nm, real=True) for nm in names}


def sympy_rhs_and_jac(model, y, p, t):
    """f and df/dy evaluated by sympy at 30 digits (real symbols, so d|x|/dx = sign x)."""
    real = _real_symbols(model)
    eqs = [sympy.sympify(e).xreplace(real) for e in model.equations]
    ys = [real[sympy.Symbol(v)] for v in model.variables]
    values = {
        real[sympy.Symbol(v)]: sympy.Float(float(val), 30)
        for v, val in zip(model.variables, y, strict=True)
    }
    values.update(
        {
            real[sympy.Symbol(q)]: sympy.Float(float(val), 30)
            for q, val in zip(model.parameters, p, strict=True)
        }
    )
    values[real[T]] = sympy.Float(float(t), 30)

    def num(expr):
        value = expr.xreplace(values).doit()
        value = value.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
        return float(sympy.N(value, 30))

    f = np.array([num(e) for e in eqs])
    jac = np.array([[num(sympy.diff(e, v)) for v in ys] for e in eqs])
    return f, jac


def kernels(compiled):
    n = compiled.model.num_variables

    def rhs(y, p, t):
        out = np.full(n, np.nan)
        compiled.rhs(float(t), np.asarray(y, float), np.asarray(p, float), out)
        return out

    def jac(y, p, t):
        out = np.full((n, n), np.nan)
        compiled.jac(float(t), np.asarray(y, float), np.asarray(p, float), out)
        return out

    return rhs, jac


def assert_close(actual, desired, rtol):
    """Relative agreement with a floor at the size of the row (cancellation)."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    scale = np.maximum(np.abs(desired), rtol * np.max(np.abs(desired), initial=1.0))
    np.testing.assert_array_less(np.abs(actual - desired), rtol * scale + 1e-300)


# --------------------------------------------------------------------------- random models
@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_numpy_backend_matches_sympy_on_random_models(data):
    model = data.draw(random_models())
    y, p, t = data.draw(points(model.num_variables))
    compiled = compile_model(model, backend="numpy")
    rhs, jac = kernels(compiled)
    f_ref, j_ref = sympy_rhs_and_jac(model, y, p, t)
    assert_close(rhs(y, p, t), f_ref, 1e-10)
    assert_close(jac(y, p, t), j_ref, 1e-9)


@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_numba_and_numpy_backends_agree_on_random_models(data):
    model = data.draw(random_models())
    fast_rhs, fast_jac = kernels(compile_model(model, backend="numba"))
    slow_rhs, slow_jac = kernels(compile_model(model, backend="numpy"))
    for _ in range(5):  # one compilation, several points
        y, p, t = data.draw(points(model.num_variables))
        assert_close(fast_rhs(y, p, t), slow_rhs(y, p, t), 1e-13)
        assert_close(fast_jac(y, p, t), slow_jac(y, p, t), 1e-13)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_jacobian_matches_central_differences_on_smooth_models(data):
    model = data.draw(random_models(smooth=True))
    y, p, t = data.draw(points(model.num_variables))
    rhs, jac = kernels(compile_model(model, backend="numpy"))
    y = np.array(y)
    n = y.size
    fd = np.empty((n, n))
    for j in range(n):
        h = 1e-5 * max(1.0, abs(y[j]))
        e = np.zeros(n)
        e[j] = h
        fd[:, j] = (rhs(y + e, p, t) - rhs(y - e, p, t)) / (2 * h)
    exact = jac(y, p, t)
    scale = max(1.0, np.max(np.abs(exact)), np.max(np.abs(rhs(y, p, t))))
    np.testing.assert_allclose(exact, fd, rtol=1e-5, atol=1e-6 * scale)


# --------------------------------------------------------------------------- fixed models
def lorenz_model():
    s, r, b = sympy.symbols("sigma rho beta")
    return Model(
        "lorenz",
        ModelKind.ODE,
        ("x", "y", "z"),
        ("sigma", "rho", "beta"),
        (s * (Y - X), X * (r - Z) - Y, X * Y - b * Z),
        (1.0, 1.0, 1.0),
        (10.0, 28.0, 8 / 3),
    )


def forced_model():
    """Non-autonomous, every printing path: powers, rationals, pi, E, non-smooth functions."""
    eqs = (
        A * sympy.sin(T) * X**4 - Y ** (-3) + sympy.Rational(2, 7) * sympy.pi,
        sympy.exp(-B * T) * sympy.Abs(X)
        + sympy.E * sympy.sqrt(1 + Y**2)
        - X ** sympy.Rational(5, 2),
        sympy.Max(X, Y, Z) - sympy.Min(X, 2 * Y) + sympy.Heaviside(Z) + sympy.sign(X - Y) + Z**-4,
    )
    return Model(
        "forced", ModelKind.ODE, ("x", "y", "z"), ("a", "b"), eqs, (1.0, 1.0, 1.0), (2.0, 0.5)
    )


@pytest.mark.parametrize("make", [lorenz_model, forced_model])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_fixed_models_match_sympy(make, backend):
    model = make()
    rhs, jac = kernels(compile_model(model, backend=backend))
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = rng.uniform(0.2, 2.0, 3)  # x^(5/2) needs x > 0
        p = rng.uniform(0.5, 3.0, model.num_parameters)
        t = float(rng.uniform(-3, 3))
        f_ref, j_ref = sympy_rhs_and_jac(model, y, p, t)
        assert_close(rhs(y, p, t), f_ref, 1e-12)
        assert_close(jac(y, p, t), j_ref, 1e-12)


def test_non_smooth_functions_take_their_almost_everywhere_values():
    model = Model(
        "kinks",
        ModelKind.ODE,
        ("x", "y"),
        (),
        (sympy.Heaviside(X) + 10 * sympy.sign(Y), sympy.Heaviside(X, 0) + sympy.Abs(Y)),
        (0.0, 0.0),
        (),
    )
    for backend in ("numpy", "numba"):
        rhs, jac = kernels(compile_model(model, backend=backend))
        np.testing.assert_array_equal(rhs([0.0, 0.0], [], 0.0), [0.5, 0.0])
        np.testing.assert_array_equal(rhs([1e-300, -2.0], [], 0.0), [-9.0, 3.0])
        np.testing.assert_array_equal(rhs([-1.0, 3.0], [], 0.0), [10.0, 3.0])
        # d sign / dy = d Heaviside / dx = 0 almost everywhere; d|y|/dy = sign(y)
        np.testing.assert_array_equal(jac([0.3, -2.0], [], 0.0), [[0.0, 0.0], [0.0, -1.0]])


def test_generated_source_is_plain_and_unrolls_small_powers():
    src = generate_source(forced_model(), backend="numpy")
    assert "def rhs(t, y, p, out):" in src and "def jac(t, y, p, out):" in src
    assert "**4" not in src and "y[0]*y[0]*y[0]*y[0]" in src  # x^4 unrolled
    assert "math.sqrt" in src
    assert "NUMBA = False" in src and "NUM_VARIABLES = 3" in src and "IS_MAP = False" in src
    assert "# ---- from template rosenbrock.py" in src  # the integrators follow the model
    compile(src, "<generated>", "exec")
    numba_src = generate_source(forced_model(), backend="numba")
    assert "from numba import njit, prange" in numba_src and "cache=True" in numba_src


def test_events_are_compiled_into_the_module():
    from stabkit.integrate.methods import Event

    compiled = compile_model(lorenz_model(), backend="numpy", events=[Event(X - Y), Event(Z * T)])
    out = np.zeros(2)
    compiled.module.events(2.0, np.array([3.0, 1.0, 4.0]), np.zeros(3), out)
    np.testing.assert_array_equal(out, [2.0, 8.0])
    assert compiled.num_events == 2 and compiled.module.NUM_EVENTS == 2
    with pytest.raises(InputError, match="unknown symbol"):
        compile_model(lorenz_model(), backend="numpy", events=[Event(X - sympy.Symbol("w"))])


# --------------------------------------------------------------------------- errors
def test_unknown_symbols_raise_compilation_error():
    w = sympy.Symbol("w")
    model = Model("bad", ModelKind.ODE, ("x",), ("a",), (A * X + w,), (1.0,), (1.0,))
    for backend in ("numpy", "numba"):
        with pytest.raises(CompilationError, match="'w' is neither a variable, a parameter"):
            compile_model(model, backend=backend)


def test_unknown_functions_raise_compilation_error():
    g = sympy.Function("g")
    model = Model("bad", ModelKind.ODE, ("x",), (), (g(X),), (1.0,), ())
    with pytest.raises(CompilationError):
        compile_model(model, backend="numpy")


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="backend"):
        compile_model(lorenz_model(), backend="cuda")
    with pytest.raises(InputError, match="expected a stabkit Model"):
        compile_model("lorenz")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the cache
def test_equal_models_share_one_module_and_edits_make_a_new_one():
    first = compile_model(lorenz_model(), backend="numpy")
    again = compile_model(lorenz_model().with_params(rho=99.0), backend="numpy")  # defaults only
    assert again.source_path == first.source_path and again.module is first.module
    s, r, b = sympy.symbols("sigma rho beta")
    edited = lorenz_model()
    edited = Model(
        edited.name,
        edited.kind,
        edited.variables,
        edited.parameters,
        (s * (Y - X), X * (r - Z) - Y, X * Y - 2 * b * Z),
        edited.default_state,
        edited.default_params,
    )
    other = compile_model(edited, backend="numpy")
    assert other.source_path != first.source_path
    numba_version = compile_model(lorenz_model(), backend="numba")
    assert numba_version.source_path != first.source_path


_CHILD = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, sympy
    from stabkit.model.codegen import compile_model
    from stabkit.model.model import Model, ModelKind

    x, y, z, s, r, b = sympy.symbols("x y z sigma rho beta")
    model = Model("lorenz", ModelKind.ODE, ("x", "y", "z"), ("sigma", "rho", "beta"),
                  (s * (y - x), x * (r - z) - y, x * y - b * z), (1.0, 1.0, 1.0),
                  (10.0, 28.0, 8 / 3))
    compiled = compile_model(model)
    out = np.zeros(3)
    jout = np.zeros((3, 3))
    start = time.perf_counter()
    compiled.rhs(0.0, np.array([1.0, 2.0, 3.0]), np.array([10.0, 28.0, 8 / 3]), out)
    compiled.jac(0.0, np.array([1.0, 2.0, 3.0]), np.array([10.0, 28.0, 8 / 3]), jout)
    first_call = time.perf_counter() - start
    path = compiled.source_path
    print(json.dumps({
        "path": str(path),
        "mtime_ns": path.stat().st_mtime_ns,
        "codegen_time": compiled.codegen_time,
        "rhs_hits": sum(compiled.rhs.stats.cache_hits.values()),
        "rhs_misses": sum(compiled.rhs.stats.cache_misses.values()),
        "jac_hits": sum(compiled.jac.stats.cache_hits.values()),
        "jac_misses": sum(compiled.jac.stats.cache_misses.values()),
        "first_call": first_call,
        "out": out.tolist(),
    }))
    """
)


def test_a_second_process_loads_kernels_from_disk(tmp_path):
    env = dict(os.environ, STABKIT_CACHE_DIR=str(tmp_path))

    def child():
        done = subprocess.run(
            [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    cold = child()
    warm = child()
    assert Path(cold["path"]).parent == tmp_path / "kernels"
    assert cold["rhs_misses"] == 1 and cold["jac_misses"] == 1 and cold["codegen_time"] > 0
    # same module file, not rewritten; numba found both functions in its disk cache
    assert warm["path"] == cold["path"] and warm["mtime_ns"] == cold["mtime_ns"]
    assert warm["codegen_time"] == 0.0
    assert warm["rhs_hits"] == 1 and warm["rhs_misses"] == 0
    assert warm["jac_hits"] == 1 and warm["jac_misses"] == 0
    assert warm["out"] == cold["out"] == [10.0, 23.0, -6.0]
    assert warm["first_call"] < cold["first_call"]
    assert any(p.suffix == ".nbi" for p in (tmp_path / "kernels" / "__pycache__").iterdir())


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    from stabkit.model.codegen import cache_dir

    monkeypatch.setenv("STABKIT_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "kernels"
    monkeypatch.delenv("STABKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "stabkit" / "kernels"
