"""Method objects: validation and the CLI registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stabkit.errors import InputError
from stabkit.integrate.methods import (
    DOP853,
    RK4,
    Auto,
    Dopri5,
    Event,
    MethodFamily,
    Rodas5,
    Rosenbrock23,
    Tsit5,
    method_from_name,
)

ADAPTIVE = [Dopri5, Tsit5, DOP853, Rodas5, Rosenbrock23, Auto]


@pytest.mark.parametrize("cls", ADAPTIVE)
@pytest.mark.parametrize("name", ["rtol", "atol"])
@pytest.mark.parametrize("bad", [0.0, -1e-6, math.nan, math.inf])
def test_nonpositive_or_nonfinite_tolerances_are_rejected(cls, name, bad):
    with pytest.raises(InputError, match=rf"{cls.__name__}\({name}=.*> 0"):
        cls(**{name: bad})


@given(st.floats(min_value=1e-14, max_value=1.0), st.floats(min_value=1e-16, max_value=1.0))
def test_valid_tolerances_become_vectors(rtol, atol):
    r, a = Dopri5(rtol=rtol, atol=atol).tolerance_vectors(3)
    assert r.shape == a.shape == (3,)
    assert np.all(r == rtol) and np.all(a == atol)


def test_per_variable_tolerances_must_match_model_size():
    m = Dopri5(atol=(1e-9, 1e-10))
    assert m.tolerance_vectors(2)[1].tolist() == [1e-9, 1e-10]
    with pytest.raises(InputError, match="2 values but the model has 3"):
        m.tolerance_vectors(3)


def test_other_settings_are_validated():
    with pytest.raises(InputError, match="max_steps"):
        Dopri5(max_steps=0)
    with pytest.raises(InputError, match="max_steps"):
        Dopri5(max_steps=2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="first_step"):
        Dopri5(first_step=-1.0)
    with pytest.raises(InputError, match="min_factor"):
        Dopri5(min_factor=2.0)
    with pytest.raises(InputError, match="dt"):
        RK4(dt=0.0)
    with pytest.raises(InputError, match="stiff"):
        Auto(stiff="radau")
    with pytest.raises(InputError, match="direction"):
        Event("x", direction=2)


def test_families_and_orders():
    assert Dopri5().family is MethodFamily.EXPLICIT and Dopri5().order == 5
    assert DOP853().order == 8 and RK4().family is MethodFamily.FIXED
    assert Rodas5().family is MethodFamily.ROSENBROCK
    assert Auto().family is MethodFamily.AUTO


def test_methods_are_immutable_values():
    a, b = Dopri5(rtol=1e-8), Dopri5(rtol=1e-8)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.rtol = 1.0  # type: ignore[misc]


def test_registry_builds_methods_and_rejects_unknown_names_and_settings():
    assert method_from_name("DOPRI5", rtol=1e-8) == Dopri5(rtol=1e-8)
    assert method_from_name("rk4", dt=0.1) == RK4(dt=0.1)
    with pytest.raises(InputError, match="did you mean 'dopri5'"):
        method_from_name("dopri")
    with pytest.raises(InputError, match="no setting 'tol'"):
        method_from_name("tsit5", tol=1e-3)
