"""Models shared by the analysis tests, built once per session.

Most tests run the plain-Python kernels (``backend="numpy"``: nothing to compile);
one test checks that the numba kernels give the same answer.
"""

from __future__ import annotations

import math

import pytest

from stabkit.model import library
from stabkit.model.model import Model

BACKEND = "numpy"


def linear_model(n: int, kind: str = "ode") -> Model:
    """x' = A x (or x -> A x) with the entries a_ij of A as parameters (row-major)."""
    names = [f"a{i}{j}" for i in range(n) for j in range(n)]
    eqs = {f"x{i}": " + ".join(f"a{i}{j}*x{j}" for j in range(n)) for i in range(n)}
    return Model.from_equations(
        eqs, parameters=dict.fromkeys(names, 0.0), kind=kind, name=f"linear_{kind}_{n}"
    )


@pytest.fixture(scope="session")
def lorenz() -> Model:
    return library.lorenz()


@pytest.fixture(scope="session")
def brusselator() -> Model:
    return library.brusselator()


@pytest.fixture(scope="session")
def selkov() -> Model:
    return library.selkov()


@pytest.fixture(scope="session")
def logistic() -> Model:
    return library.logistic_map()


@pytest.fixture(scope="session")
def henon() -> Model:
    return library.henon_map()


@pytest.fixture(scope="session")
def toggle() -> Model:
    """Gardner-Cantor-Collins toggle switch with a non-integer Hill coefficient."""
    return Model.from_equations(
        {"u": "a/(1 + v^n) - u", "v": "a/(1 + u^n) - v"},
        parameters={"a": 3.0, "n": 2.5},
        variables={"u": 1.0, "v": 0.5},
        name="toggle",
    )


@pytest.fixture(scope="session")
def sine() -> Model:
    """x' = sin(x) - x/c: 2*floor(...) + 1 equilibria, none of them algebraic."""
    return Model.from_equations({"x": "sin(x) - x/c"}, parameters={"c": 3.0}, name="sine")


@pytest.fixture(scope="session")
def sine_function() -> Model:
    """The same model written as a plain Python function (finite-difference Jacobian)."""

    def rhs(t, y, p):
        return [math.sin(y[0]) - y[0] / p[0]]

    return Model.from_function(rhs, variables=["x"], parameters={"c": 3.0}, name="sine_fn")


@pytest.fixture(scope="session")
def linear_odes() -> dict[int, Model]:
    return {n: linear_model(n) for n in (1, 2, 3)}


@pytest.fixture(scope="session")
def linear_maps() -> dict[int, Model]:
    return {n: linear_model(n, "map") for n in (1, 2, 3)}
