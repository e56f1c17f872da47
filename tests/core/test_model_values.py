"""Model identity and value handling (independent of the text parser)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from stabkit.errors import InputError, ModelError
from stabkit.model.model import Model, ModelKind


def _lorenz(**over):
    x, y, z, s, r, b = sympy.symbols("x y z sigma rho beta")
    fields = dict(
        name="lorenz",
        kind=ModelKind.ODE,
        variables=("x", "y", "z"),
        parameters=("sigma", "rho", "beta"),
        equations=(s * (y - x), x * (r - z) - y, x * y - b * z),
        default_state=(1.0, 1.0, 1.0),
        default_params=(10.0, 28.0, 8 / 3),
    )
    fields.update(over)
    return Model(**fields)


def test_equal_content_means_equal_and_same_hash():
    a, b = _lorenz(), _lorenz()
    assert a == b and hash(a) == hash(b) and a.content_hash == b.content_hash
    assert len({a, b}) == 1


def test_defaults_change_content_hash_but_not_kernel_hash():
    a = _lorenz()
    b = a.with_params(rho=99.0)
    assert a != b
    assert a.kernel_hash == b.kernel_hash
    assert b.default_parameter_map()["rho"] == 99.0
    assert a.default_parameter_map()["rho"] == 28.0  # immutable


def test_equation_change_changes_kernel_hash():
    x, y, z, s, r, b = sympy.symbols("x y z sigma rho beta")
    c = _lorenz(equations=(s * (y - x), x * (r - z) - y, x * y - 2 * b * z))
    assert c.kernel_hash != _lorenz().kernel_hash


def test_param_vector_accepts_mapping_sequence_and_none():
    m = _lorenz()
    assert np.allclose(m.param_vector(), [10, 28, 8 / 3])
    assert np.allclose(m.param_vector({"rho": 20}), [10, 20, 8 / 3])
    assert np.allclose(m.param_vector([1, 2, 3]), [1, 2, 3])


def test_param_vector_errors_name_the_problem():
    m = _lorenz()
    with pytest.raises(InputError, match=r"no parameter 'rh'.*did you mean 'rho'"):
        m.param_vector({"rh": 1.0})
    with pytest.raises(InputError, match=r"shape \(2,\).*3 parameters"):
        m.param_vector([1.0, 2.0])
    with pytest.raises(InputError, match="not finite"):
        m.param_vector([1.0, np.nan, 2.0])
    with pytest.raises(InputError, match="boolean"):
        m.param_vector({"rho": True})
    with pytest.raises(InputError, match="must be finite"):
        m.state_vector({"x": float("inf")})


def test_jacobian_matrix_is_exact():
    m = _lorenz()
    jac = m.jacobian_matrix()
    x, y, z, s, r, b = sympy.symbols("x y z sigma rho beta")
    assert jac == sympy.Matrix([[-s, s, 0], [r - z, -1, -x], [y, x, -b]])


def test_kind_parse_suggests():
    assert ModelKind.parse("ODE") is ModelKind.ODE
    with pytest.raises(ModelError, match="did you mean 'map'"):
        ModelKind.parse("mapp")


def test_function_models_from_closures_with_different_constants_differ():
    def make(k):
        def rhs(t, y, p, out):
            out[0] = -k * y[0]

        return rhs

    a = Model.from_function(make(1.0), variables={"x": 1.0})
    b = Model.from_function(make(2.0), variables={"x": 1.0})
    c = Model.from_function(make(1.0), variables={"x": 1.0})
    assert a != b
    assert a == c
