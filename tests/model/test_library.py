"""The model library: canonical models, their files and their known facts."""

from __future__ import annotations

import importlib.resources
import inspect
import math

import numpy as np
import pytest
import sympy

from stabkit.errors import InputError
from stabkit.model import library
from stabkit.model.files import dumps_model, loads_model
from stabkit.model.model import ModelKind

EXPECTED = {
    "brusselator",
    "duffing",
    "fitzhugh_nagumo",
    "henon_map",
    "logistic_map",
    "lorenz",
    "lotka_volterra",
    "robertson",
    "rossler",
    "selkov",
    "van_der_pol",
}


def test_names_and_files_agree():
    assert set(library.names()) == EXPECTED
    assert list(library.names()) == sorted(EXPECTED)
    folder = importlib.resources.files("stabkit.model").joinpath("models")
    shipped = {p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")}
    assert shipped == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_model_is_complete_and_consistent(name):
    factory = getattr(library, name)
    model = factory()
    assert model == library.get(name)
    assert model.name == name
    assert model.description and model.citation
    assert any(str(year) in model.citation for year in range(1900, 2030))
    # the function's defaults are the file's defaults
    defaults = {p.name: p.default for p in inspect.signature(factory).parameters.values()}
    assert defaults == model.default_parameter_map()
    assert tuple(defaults) == model.parameters
    # every equation uses only declared names and time
    allowed = {*model.variables, *model.parameters, "t"}
    for expr in model.equations:
        assert {s.name for s in expr.free_symbols} <= allowed
    # the shipped file round-trips through the writer
    assert loads_model(dumps_model(model)) == model
    assert loads_model(library.model_file(name)) == model
    # parameters are keyword arguments
    first = model.parameters[0]
    changed = factory(**{first: 0.25})
    assert changed.default_parameter_map()[first] == 0.25
    assert changed.kernel_hash == model.kernel_hash and changed != model


def rhs(model, state, params=None):
    values = {
        **dict(zip(model.variable_symbols, state, strict=True)),
        **dict(zip(model.parameter_symbols, model.param_vector(params), strict=True)),
        sympy.Symbol("t"): 0.0,
    }
    return np.array([float(e.subs(values)) for e in model.equations])


def test_lorenz_equations_and_equilibria():
    m = library.lorenz()
    assert m.default_params == (10.0, 28.0, 8 / 3) and m.default_state == (1.0, 1.0, 1.0)
    assert np.allclose(rhs(m, [1.0, 2.0, 3.0]), [10.0, 1 * (28 - 3) - 2, 2 - 8.0])
    c = math.sqrt(8 / 3 * 27)  # equilibria (+-c, +-c, rho - 1)
    assert np.allclose(rhs(m, [c, c, 27.0]), 0.0, atol=1e-12)


def test_brusselator_equilibrium_and_hopf_point():
    m = library.brusselator(a=1.0, b=2.0)
    assert np.allclose(rhs(m, [1.0, 2.0]), 0.0)  # equilibrium (a, b/a)
    jac = np.array(m.jacobian_matrix().subs({"x": 1, "y": 2, "a": 1, "b": 2}), dtype=float)
    assert abs(np.trace(jac)) < 1e-12  # b = 1 + a^2: a pair of eigenvalues on the axis
    assert np.linalg.det(jac) > 0
    assert dict(library.brusselator().metadata)["analysis"]["continue"]["parameter"] == "b"


def test_selkov_matches_strogatz():
    m = library.selkov()
    a, b = 0.08, 0.6
    x_star, y_star = b, b / (a + b**2)
    assert np.allclose(rhs(m, [x_star, y_star]), 0.0, atol=1e-12)
    jac = np.array(m.jacobian_matrix().subs({"x": x_star, "y": y_star, "a": a, "b": b}), float)
    assert np.trace(jac) > 0  # unstable spiral inside the limit cycle


def test_robertson_is_stiff_and_conserves_mass():
    m = library.robertson()
    assert m.default_params == (0.04, 3e7, 1e4) and m.default_state == (1.0, 0.0, 0.0)
    assert sympy.simplify(sum(m.equations)) == 0
    f = rhs(m, [0.9, 1e-5, 0.1])
    assert abs(f.sum()) < 1e-12


def test_maps():
    logistic = library.logistic_map(r=4.0)
    assert logistic.kind is ModelKind.MAP
    assert rhs(logistic, [0.5])[0] == 1.0
    henon = library.henon_map()
    assert henon.kind is ModelKind.MAP and henon.default_params == (1.4, 0.3)
    assert np.allclose(rhs(henon, [1.0, 0.5]), [1 - 1.4 + 0.5, 0.3])


def test_oscillators():
    vdp = library.van_der_pol(mu=2.0)
    assert np.allclose(rhs(vdp, [2.0, 1.0]), [1.0, 2.0 * (1 - 4) * 1 - 2])
    duffing = library.duffing()
    assert sympy.Symbol("t") in duffing.equations[1].free_symbols  # forced
    fhn = library.fitzhugh_nagumo()
    assert np.allclose(rhs(fhn, [0.0, 0.0]), [0.5, 0.7 / 12.5])
    lv = library.lotka_volterra()
    p = lv.default_parameter_map()
    centre = [p["gamma"] / p["delta"], p["alpha"] / p["beta"]]
    assert np.allclose(rhs(lv, centre), 0.0)
    assert np.allclose(rhs(library.rossler(), [0.0, 0.0, 0.0]), [0.0, 0.0, 0.2])


def test_get_errors_name_the_fix():
    with pytest.raises(InputError, match=r"no such library model.*did you mean 'lorenz'"):
        library.get("lorenzz")
    with pytest.raises(InputError, match=r"has no parameter 'rh'.*did you mean 'rho'"):
        library.get("lorenz", rh=1.0)
    with pytest.raises(InputError, match="must be finite"):
        library.lorenz(rho=float("nan"))
    assert library.get("lorenz", rho=20.0).default_parameter_map()["rho"] == 20.0


def test_library_models_are_immutable_values():
    changed = library.lorenz().with_params(rho=1.0)
    assert changed.default_parameter_map()["rho"] == 1.0
    assert library.lorenz().default_parameter_map()["rho"] == 28.0
