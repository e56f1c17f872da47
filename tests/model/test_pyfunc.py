"""Models written as Python functions: numba (4- and 3-argument) and plain Python.

Known answers: the analytic right-hand side and Jacobian of the Brusselator; the
finite-difference Jacobian of the generated module against the analytic one; a stiff
integration through the Rosenbrock template against the symbolic model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from numba import njit

from stabkit.errors import InputError, ModelError
from stabkit.integrate.methods import Event
from stabkit.model.codegen import compile_model
from stabkit.model.model import Model, ModelKind

VARIABLES = {"x": 1.0, "y": 2.0}
PARAMETERS = {"a": 1.0, "b": 3.0}


# Brusselator: x' = a - (b + 1) x + x^2 y, y' = b x - x^2 y
def brusselator_exact(t, y, p):
    x, v = y
    a, b = p
    return np.array([a - (b + 1) * x + x * x * v, b * x - x * x * v])


def brusselator_jac_exact(t, y, p):
    x, v = y
    _, b = p
    return np.array([[-(b + 1) + 2 * x * v, x * x], [b - 2 * x * v, -x * x]])


@njit
def brusselator4(t, y, p, out):
    out[0] = p[0] - (p[1] + 1.0) * y[0] + y[0] * y[0] * y[1]
    out[1] = p[1] * y[0] - y[0] * y[0] * y[1]


@njit
def brusselator3(t, y, p):
    return np.array(
        [p[0] - (p[1] + 1.0) * y[0] + y[0] * y[0] * y[1], p[1] * y[0] - y[0] * y[0] * y[1]]
    )


@njit
def brusselator_jac4(t, y, p, out):
    out[0, 0] = -(p[1] + 1.0) + 2.0 * y[0] * y[1]
    out[0, 1] = y[0] * y[0]
    out[1, 0] = p[1] - 2.0 * y[0] * y[1]
    out[1, 1] = -y[0] * y[0]


def brusselator_plain4(t, y, p, out):
    out[:] = brusselator_exact(t, y, p)


def brusselator_plain3(t, y, p):
    return [float(v) for v in brusselator_exact(t, y, p)]  # a list is fine too


def brusselator_plain_jac3(t, y, p):
    return brusselator_jac_exact(t, y, p)


def evaluate(compiled, y, p, t=0.0):
    n = compiled.model.num_variables
    f = np.full(n, np.nan)
    jac = np.full((n, n), np.nan)
    compiled.rhs(t, np.asarray(y, float), np.asarray(p, float), f)
    compiled.jac(t, np.asarray(y, float), np.asarray(p, float), jac)
    return f, jac


POINTS = [([1.0, 2.0], [1.0, 3.0]), ([0.3, -1.7], [2.5, 0.5]), ([40.0, 0.01], [1.0, 3.0])]


@pytest.mark.parametrize(
    ("rhs_fn", "jac_fn", "numba_path"),
    [
        (brusselator4, None, True),
        (brusselator3, None, True),
        (brusselator4, brusselator_jac4, True),
        (brusselator_plain4, None, False),
        (brusselator_plain3, None, False),
        (brusselator_plain4, brusselator_plain_jac3, False),
        (brusselator4, brusselator_plain_jac3, False),  # a plain jac means the slow path
    ],
)
def test_function_models_evaluate_like_the_formula(rhs_fn, jac_fn, numba_path):
    model = Model.from_function(rhs_fn, variables=VARIABLES, parameters=PARAMETERS, jac_fn=jac_fn)
    assert model.kind is ModelKind.ODE and not model.is_symbolic
    assert model.variables == ("x", "y") and model.parameters == ("a", "b")
    assert model.default_state == (1.0, 2.0) and model.default_params == (1.0, 3.0)
    assert model.functions.is_numba is numba_path
    compiled = compile_model(model)
    assert compiled.module.NUMBA is numba_path  # plain functions run uncompiled
    assert compiled.has_exact_jacobian is (jac_fn is not None)
    assert compiled.source_path is not None and "session" in compiled.source_path.parts
    differs = False
    for y, p in POINTS:
        f, jac = evaluate(compiled, y, p)
        np.testing.assert_allclose(f, brusselator_exact(0.0, y, p), rtol=1e-14)
        exact = brusselator_jac_exact(0.0, y, p)
        if jac_fn is not None:
            np.testing.assert_allclose(jac, exact, rtol=1e-14)
        else:  # forward differences: about sqrt(eps) relative to the scale of the entries
            scale = np.max(np.abs(exact))
            np.testing.assert_allclose(jac, exact, rtol=1e-6, atol=1e-6 * scale)
            differs |= not np.array_equal(jac, exact)
    assert differs is (jac_fn is None)  # without jac_fn, really a finite difference


def test_numpy_backend_runs_numba_functions_too():
    model = Model.from_function(brusselator4, variables=VARIABLES, parameters=PARAMETERS)
    compiled = compile_model(model, backend="numpy")
    assert compiled.module.NUMBA is False
    f, _ = evaluate(compiled, [1.0, 2.0], [1.0, 3.0])
    np.testing.assert_allclose(f, brusselator_exact(0.0, [1.0, 2.0], [1.0, 3.0]))


def test_variables_as_names_and_maps():
    def decay(t, y, p, out):
        out[0] = -y[0]

    model = Model.from_function(decay, variables=["u"], kind="map", name="halve")
    assert model.kind is ModelKind.MAP and model.name == "halve"
    assert model.default_state == (0.0,) and model.parameters == ()
    assert Model.from_function(decay, variables=["u"]).name == "decay"


def test_same_function_same_model_different_function_different_model():
    m1 = Model.from_function(brusselator4, variables=VARIABLES, parameters=PARAMETERS)
    m2 = Model.from_function(brusselator4, variables=VARIABLES, parameters=PARAMETERS)
    m3 = Model.from_function(brusselator3, variables=VARIABLES, parameters=PARAMETERS)
    assert m1 == m2 and m1.kernel_hash == m2.kernel_hash
    assert m1 != m3 and m1.kernel_hash != m3.kernel_hash


def test_stiff_integration_of_a_function_model_matches_the_symbolic_one():
    """Rodas5 through the template on the plain-Python path (finite-difference Jacobian)."""
    x, v, a, b = sympy.symbols("x y a b")
    symbolic = Model(
        "brusselator",
        ModelKind.ODE,
        ("x", "y"),
        ("a", "b"),
        (a - (b + 1) * x + x**2 * v, b * x - x**2 * v),
        (1.0, 2.0),
        (1.0, 3.0),
    )
    function = Model.from_function(brusselator_plain4, variables=VARIABLES, parameters=PARAMETERS)
    results = []
    for model in (symbolic, function):
        compiled = compile_model(model, backend="numpy")
        n = 2
        cfg = np.zeros(16)
        cfg[1:8] = [math.inf, 0.9, 0.2, 10.0, 0.04, 1e100, 1e5]
        counters = np.zeros(16, np.int64)
        t_final, y_final, _, _ = compiled.kernel("rodas5_member")(
            np.array([1.0, 2.0]),
            np.array([1.0, 3.0]),
            0.0,
            10.0,
            np.zeros(0),
            np.full(n, 1e-8),
            np.full(n, 1e-10),
            cfg,
            np.zeros(0),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, n)),
            np.zeros(1),
            np.zeros((1, n)),
            np.zeros(1, np.int64),
            counters,
            0,
            np.empty(1),
            np.empty((1, n)),
        )
        assert counters[6] == 0 and t_final == 10.0
        results.append(y_final)
    # the approximate Jacobian changes the steps, not the accuracy of the solution
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


# --------------------------------------------------------------------------- errors
def test_bad_signatures_are_rejected():
    def two(t, y):
        return y

    def five(t, y, p, out, extra):
        pass

    with pytest.raises(InputError, match=r"rhs_fn: expected f\(t, y, p, out\).*takes 2 arguments"):
        Model.from_function(two, variables=VARIABLES)
    with pytest.raises(InputError, match="takes 5 arguments"):
        Model.from_function(five, variables=VARIABLES)
    with pytest.raises(InputError, match="jac_fn"):
        Model.from_function(brusselator4, variables=VARIABLES, jac_fn=two)
    with pytest.raises(InputError, match="not callable"):
        Model.from_function(42, variables=VARIABLES)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"jac_fn=.*not callable"):
        Model.from_function(brusselator4, variables=VARIABLES, jac_fn="jac")  # type: ignore[arg-type]


def test_optional_arguments_do_not_count():
    def with_default(t, y, p, out, scale=2.0):
        out[0] = scale * y[0]

    model = Model.from_function(with_default, variables=["x"])
    f, _ = evaluate(compile_model(model), [1.5], [])
    assert f[0] == 3.0


@pytest.mark.parametrize(
    ("variables", "parameters", "error", "match"),
    [
        (["x", "x"], None, ModelError, "variable 'x' is listed twice"),
        ({"x": 1.0}, ["a", "a"], ModelError, "parameter 'a' is listed twice"),
        (["x", "2y"], None, ModelError, "'2y' is not a valid identifier"),
        (["x", "y z"], None, ModelError, "not a valid identifier"),
        (["x"], {"x": 1.0}, ModelError, "'x' is both a variable and a parameter"),
        ([], None, ModelError, "no variables"),
        ({"x": math.nan}, None, ModelError, "not finite"),
        ({"x": "one"}, None, ModelError, "is not a number"),
        ({"x": True}, None, ModelError, "is not a number"),
        ("xy", None, InputError, "list of names or a mapping"),
        (["x"], "ab", InputError, "list of names or a mapping"),
    ],
)
def test_bad_names_and_values_are_rejected(variables, parameters, error, match):
    with pytest.raises(error, match=match):
        Model.from_function(brusselator4, variables=variables, parameters=parameters)


def test_kinds_other_than_ode_and_map_are_rejected():
    with pytest.raises(InputError, match="'ode' or 'map'"):
        Model.from_function(brusselator4, variables=VARIABLES, kind="dde")
    with pytest.raises(ModelError, match="unknown model kind"):
        Model.from_function(brusselator4, variables=VARIABLES, kind="pde")


def test_function_models_have_no_symbolic_views_and_no_text_events():
    model = Model.from_function(brusselator4, variables=VARIABLES, parameters=PARAMETERS)
    with pytest.raises(InputError, match="needs a symbolic model"):
        model.jacobian_matrix()
    with pytest.raises(InputError, match="g\\(t, y, p\\) -> float"):
        compile_model(model, events=[Event("x - 1")])
    with pytest.raises(InputError, match="not supported yet"):
        compile_model(model, events=[Event(lambda t, y, p: y[0] - 1.0)])
