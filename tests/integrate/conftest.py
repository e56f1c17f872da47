"""Models shared by the integrate tests.

Built once per session: numba compiles each (model, events, kernel) once per process
and keeps it in the on-disk kernel cache, so the tests reuse a few models rather than
building new ones. Most accuracy tests run the plain-Python backend (the reference;
no compilation); the numba kernels are checked against it on a few problems.
"""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.integrate.methods import Event
from stabkit.model.model import Model

LORENZ_PARAMS = {"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0}

#: Events of the harmonic oscillator: x = 0 and v = 0 (directions and terminal flags
#: are run-time settings, so every test shares one compiled module).
HARMONIC_EVENTS = (Event("x", name="x = 0"), Event("v", name="v = 0"))


def lorenz_rhs(t, u):
    s, r, b = LORENZ_PARAMS.values()
    return [s * (u[1] - u[0]), u[0] * (r - u[2]) - u[1], u[0] * u[1] - b * u[2]]


def brusselator_rhs(t, u, a=1.0, b=3.0):
    return [a - (b + 1) * u[0] + u[0] ** 2 * u[1], b * u[0] - u[0] ** 2 * u[1]]


def van_der_pol_rhs(t, u, mu=1.0):
    return [u[1], mu * (1 - u[0] ** 2) * u[1] - u[0]]


def linear_model(n: int) -> Model:
    """y' = A y with the entries a_ij of A as parameters (row-major)."""
    names = [f"a{i}{j}" for i in range(n) for j in range(n)]
    eqs = {f"x{i}": " + ".join(f"a{i}{j}*x{j}" for j in range(n)) for i in range(n)}
    return Model.from_equations(
        eqs,
        parameters=dict.fromkeys(names, 0.0),
        variables={f"x{i}": 1.0 for i in range(n)},
        name=f"linear{n}",
    )


def rotation_exact(t):
    """Solution of the nonlinear rotation model: (cos, sin) of t + t^2/2."""
    phase = np.asarray(t) + np.asarray(t) ** 2 / 2
    return np.stack([np.cos(phase), np.sin(phase)], axis=-1)


@pytest.fixture(scope="session")
def lorenz() -> Model:
    return Model.from_equations(
        {"x": "sigma*(y - x)", "y": "x*(rho - z) - y", "z": "x*y - beta*z"},
        parameters=LORENZ_PARAMS,
        variables={"x": 1.0, "y": 1.0, "z": 1.0},
        name="lorenz",
    )


@pytest.fixture(scope="session")
def brusselator() -> Model:
    return Model.from_equations(
        {"x": "a - (b + 1)*x + x^2*y", "y": "b*x - x^2*y"},
        parameters={"a": 1.0, "b": 3.0},
        variables={"x": 1.5, "y": 3.0},
        name="brusselator",
    )


@pytest.fixture(scope="session")
def van_der_pol() -> Model:
    return Model.from_equations(
        {"x": "y", "y": "mu*(1 - x^2)*y - x"},
        parameters={"mu": 1.0},
        variables={"x": 2.0, "y": 0.0},
        name="van_der_pol",
    )


@pytest.fixture(scope="session")
def rotation() -> Model:
    """x' = -(1+t) y r^2, y' = (1+t) x r^2: nonlinear, r = 1 is invariant, known solution."""
    return Model.from_equations(
        {"x": "-(1 + t)*y*(x^2 + y^2)", "y": "(1 + t)*x*(x^2 + y^2)"},
        variables={"x": 1.0, "y": 0.0},
        name="nonlinear_rotation",
    )


@pytest.fixture(scope="session")
def quadratic() -> Model:
    """x' = x^2: x(t) = x0 / (1 - x0 t), blowing up at t = 1/x0 for x0 > 0."""
    return Model.from_equations({"x": "x^2"}, variables={"x": 1.0}, name="quadratic")


@pytest.fixture(scope="session")
def harmonic() -> Model:
    """x'' = -x as x' = v, v' = -x; from (1, 0): x = cos t, zeros at pi/2 + k pi."""
    return Model.from_equations(
        {"x": "v", "v": "-x"}, variables={"x": 1.0, "v": 0.0}, name="harmonic"
    )


@pytest.fixture(scope="session")
def falling_ball() -> Model:
    """h' = v, v' = -g: a ball dropped from h0 lands at t = sqrt(2 h0 / g)."""
    return Model.from_equations(
        {"h": "v", "v": "-g"},
        parameters={"g": 9.81},
        variables={"h": 10.0, "v": 0.0},
        name="falling_ball",
    )


@pytest.fixture(scope="session")
def linear2() -> Model:
    return linear_model(2)


@pytest.fixture(scope="session")
def linear3() -> Model:
    return linear_model(3)


@pytest.fixture(scope="session")
def linear4() -> Model:
    return linear_model(4)


@pytest.fixture(scope="session")
def logistic_map() -> Model:
    return Model.from_equations(
        {"x": "r*x*(1 - x)"},
        parameters={"r": 2.0},
        variables={"x": 0.1},
        kind="map",
        name="logistic_map",
    )


@pytest.fixture(scope="session")
def henon_map() -> Model:
    return Model.from_equations(
        {"x": "1 - a*x^2 + y", "y": "b*x"},
        parameters={"a": 1.4, "b": 0.3},
        variables={"x": 0.0, "y": 0.0},
        kind="map",
        name="henon_map",
    )
