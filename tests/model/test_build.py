"""build_model: equation text and values -> validated Model."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from stabkit.errors import ModelError
from stabkit.model.build import SourcePosition, build_model, is_identifier
from stabkit.model.model import TIME, Model, ModelKind

x, y, a, b, k, t = sympy.symbols("x y a b k t")


def brusselator(**over):
    fields = dict(
        equations={"x": "a - (b + 1)*x + x^2*y", "y": "b*x - x^2*y"},
        parameters={"a": 1.0, "b": 3.0},
        variables={"x": 1.0, "y": 2.0},
        name="brusselator",
    )
    fields.update(over)
    return build_model(**fields)


def test_builds_a_model_in_the_given_orders():
    m = brusselator()
    assert m.variables == ("x", "y") and m.parameters == ("a", "b")
    assert m.equations == (a - (b + 1) * x + x**2 * y, b * x - x**2 * y)
    assert m.default_state == (1.0, 2.0) and m.default_params == (1.0, 3.0)
    assert m.kind is ModelKind.ODE and m.name == "brusselator"
    assert all(isinstance(v, float) for v in (*m.default_state, *m.default_params))
    # from_equations is the same entry point
    same = Model.from_equations(
        {"y": "b*x - x^2*y", "x": "a - (b + 1)*x + x^2*y"},
        parameters={"a": 1, "b": 3},
        variables={"x": 1, "y": 2},
        name="brusselator",
    )
    assert same == m


def test_variable_order_defaults_to_equation_order_with_zero_state():
    m = build_model({"y": "-y", "x": "y"})
    assert m.variables == ("y", "x") and m.default_state == (0.0, 0.0)
    m = build_model({"y": "-y", "x": "y"}, variables=["x", "y"])
    assert m.variables == ("x", "y") and m.equations == (y, -y)


def test_time_numpy_values_and_numeric_equations():
    m = build_model(
        {"x": "cos(t) - k*x", "y": 0},
        parameters={"k": np.float64(0.5)},
        variables={"x": np.int64(2), "y": 1},
        kind="ode",
    )
    assert m.equations == (sympy.cos(TIME) - k * x, sympy.Integer(0))
    assert m.default_params == (0.5,) and m.default_state == (2.0, 1.0)


def test_map_kind():
    m = build_model({"x": "r*x*(1 - x)"}, parameters={"r": 3.8}, kind="map")
    assert m.kind is ModelKind.MAP


def test_definitions_in_any_order_are_substituted():
    m = build_model(
        {"x": "p - x", "y": "q"},
        parameters={"k": 2.0, "xc": 1.0},
        definitions={"q": "2*p + t", "p": "1/(1 + exp(-k*(x - xc)))"},
    )
    p = 1 / (1 + sympy.exp(-k * (x - sympy.Symbol("xc"))))
    assert m.equations[0] == p - x
    assert m.equations[1] == 2 * p + TIME
    # definitions are kept as written, in the given order
    assert [name for name, _ in m.definitions] == ["q", "p"]
    assert dict(m.definitions)["q"] == 2 * sympy.Symbol("p") + TIME


def test_definitions_are_guarded_after_substitution():
    with pytest.raises(ModelError) as info:
        build_model({"x": "1/(p - 1)"}, definitions={"p": "1"})
    err = info.value
    assert "equation for 'x'" in err.reason and "division by zero" in err.reason
    assert err.column == 2 and err.text == "1/(p - 1)"
    with pytest.raises(ModelError, match="too large to compute exactly"):
        build_model({"x": "p^p"}, definitions={"p": "10^10"})


def error_of(**kwargs) -> ModelError:
    fields = dict(equations={"x": "-k*x"}, parameters={"k": 1.0})
    fields.update(kwargs)
    with pytest.raises(ModelError) as info:
        build_model(**fields)
    return info.value


@pytest.mark.parametrize(
    ("kwargs", "reason", "suggestion"),
    [
        ({"equations": {}}, "has no equations", 'x = "-k*x"'),
        ({"variables": ["x", "y"]}, "variable 'y' has no equation", 'add y = "..."'),
        (
            {"equations": {"x": "-k*x", "z": "1"}, "variables": ["x"]},
            "equation for 'z', which is not a variable",
            "add z to [variables]",
        ),
        (
            {"equations": {"x": "-k*x", "xx": "1"}, "variables": ["x", "y"]},
            "equation for 'xx', which is not a variable",
            "did you mean 'x'?",
        ),
        ({"variables": ["x", "x"]}, "variable 'x' is listed twice", None),
        ({"parameters": {"x": 1.0}}, "'x' is both a variable and a parameter", None),
        (
            {"definitions": {"k": "2"}},
            "definition 'k' has the name of a parameter",
            "rename",
        ),
        (
            {"definitions": {"x": "2"}},
            "definition 'x' has the name of a variable",
            "rename",
        ),
        ({"parameters": {"t": 1.0}}, "parameter name 't' is reserved for time", None),
        ({"equations": {"t": "1"}}, "variable name 't' is reserved for time", None),
        ({"definitions": {"t": "1"}}, "definition name 't' is reserved for time", None),
        ({"parameters": {"sin": 1.0}}, "'sin' is a function", "sin_"),
        ({"equations": {"x y": "1"}}, "invalid variable name 'x y'", "ASCII letter"),
        ({"parameters": {"2k": 1.0}}, "invalid parameter name '2k'", None),
        ({"parameters": {"k": True}}, "must be a number, got bool True", None),
        ({"parameters": {"k": "1.0"}}, "must be a number, got str '1.0'", "without quotes"),
        ({"parameters": {"k": None}}, "must be a number", None),
        ({"parameters": {"k": float("nan")}}, "'k' = nan is not finite", None),
        ({"parameters": {"k": float("inf")}}, "'k' = inf is not finite", None),
        ({"variables": {"x": -np.inf}}, "initial value of 'x' = -inf is not finite", None),
        ({"variables": {"x": "one"}}, "initial value of 'x' must be a number", None),
        ({"variables": "x"}, "expected a mapping", None),
        ({"kind": "odee"}, "unknown model kind 'odee'", "did you mean 'ode'?"),
        ({"kind": "dde"}, "kind 'dde' is not supported yet", "'ode' or 'map'"),
        ({"kind": 3}, "kind must be text", None),
        ({"name": 3}, "model name must be text", None),
        ({"equations": {"x": ["1"]}}, "equation for 'x' must be text, got list", None),
        (
            {"equations": {"x": "p"}, "definitions": {"p": "q", "q": "p"}},
            "cycle: p -> q -> p",
            None,
        ),
        ({"equations": {"x": "p"}, "definitions": {"p": "p + 1"}}, "cycle: p -> p", None),
    ],
)
def test_validation_errors(kwargs, reason, suggestion):
    err = error_of(**kwargs)
    assert reason in str(err), str(err)
    if suggestion is not None:
        assert err.suggestion is not None and suggestion in err.suggestion, str(err)
    assert err.file is None


def test_parse_errors_name_the_equation_and_keep_the_caret():
    err = error_of(equations={"x": "-gama*x"}, parameters={"gamma": 1.0})
    assert err.reason == "equation for 'x': unknown symbol 'gama'"
    assert err.suggestion == "did you mean 'gamma'?"
    assert (err.column, err.text) == (2, "-gama*x")
    err = error_of(equations={"x": "p"}, definitions={"p": "sinn(x)"})
    assert err.reason == "definition of 'p': unknown function 'sinn'"
    assert err.suggestion == "did you mean 'sin'?"


def test_unknown_symbols_suggest_among_all_declared_names():
    err = error_of(equations={"x": "-k*x + rate"}, definitions={"rate1": "1"})
    assert err.suggestion == "did you mean 'rate1'?"


def test_delay_terms_are_refused_until_the_dde_kind():
    err = error_of(equations={"x": "-k*x(t - 1)"})
    assert "delay terms x(t - tau) need kind='dde'" in err.reason and err.column == 4


def test_metadata_is_copied_plain_data():
    analysis = {"continue": {"parameter": "k", "from": 0.5, "to": 4.0}}
    m = build_model({"x": "-k*x"}, parameters={"k": 1.0}, metadata={"analysis": analysis})
    analysis["continue"]["to"] = 99.0
    assert dict(m.metadata)["analysis"]["continue"]["to"] == 4.0


def test_source_positions_place_errors_in_a_file():
    lines = ("[equations]", 'x = "-gama*x"')
    source = {
        ("", ""): SourcePosition("m.toml", 1, 1, 1, 1, lines),
        ("equations", "x"): SourcePosition("m.toml", 2, 1, 2, 6, lines),
    }
    with pytest.raises(ModelError) as info:
        build_model({"x": "-gama*x"}, parameters={"gamma": 1.0}, source=source)
    err = info.value
    assert (err.file, err.line, err.column) == ("m.toml", 2, 7)
    assert err.text == 'x = "-gama*x"'
    assert str(err).splitlines()[0] == (
        "m.toml:2:7: equation for 'x': unknown symbol 'gama'; did you mean 'gamma'?"
    )
    # a key without a position falls back to the file
    with pytest.raises(ModelError) as info:
        build_model({"x": "1"}, parameters={"t": 1.0}, source=source)
    assert info.value.file == "m.toml" and info.value.line is None


def test_is_identifier():
    assert is_identifier("gamma") and is_identifier("_x1") and is_identifier("lambda")
    assert not is_identifier("1x") and not is_identifier("x-y") and not is_identifier("α")
    assert not is_identifier(3)
