"""The TOML model file: reading, writing, and errors placed at file:line:column."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stabkit.errors import ModelError
from stabkit.model.files import dumps_model, load_model, loads_model, save_model
from stabkit.model.model import Model, ModelKind

BRUSSELATOR = """\
[model]
name = "brusselator"
kind = "ode"                    # ode | map
description = "Prigogine's \\"Brusselator\\""
citation = "Prigogine and Lefever (1968)"

[parameters]
a = 1.0
b = 3.0
gamma = 2

[variables]                     # initial state
x = 1.0
y = 1.0

[definitions]
p = \"\"\"
1/(1 + exp(-a*(x - b)))\"\"\"
q = 'p*gamma'

[equations]
x = "a - (b + 1)*x + x^2*y + q"
"y" = "b*x - x^2*y\\t+ gamma"

[analysis]
continue = { parameter = "b", from = 0.5, to = 4.0 }
grid = [1, 2,
  "a]", # a comment ]
  3]
"""


def test_reads_every_table():
    m = loads_model(BRUSSELATOR, file="b.toml")
    x, y, a, b, gamma = sympy.symbols("x y a b gamma")
    p = 1 / (1 + sympy.exp(-a * (x - b)))
    assert m.name == "brusselator" and m.kind is ModelKind.ODE
    assert m.description == 'Prigogine\'s "Brusselator"'
    assert m.citation == "Prigogine and Lefever (1968)"
    assert m.default_parameter_map() == {"a": 1.0, "b": 3.0, "gamma": 2.0}
    assert m.default_state_map() == {"x": 1.0, "y": 1.0}
    assert m.equations == (a - (b + 1) * x + x**2 * y + p * gamma, b * x - x**2 * y + gamma)
    assert [d for d, _ in m.definitions] == ["p", "q"]
    analysis = dict(m.metadata)["analysis"]
    assert analysis["continue"] == {"parameter": "b", "from": 0.5, "to": 4.0}
    assert analysis["grid"] == [1, 2, "a]", 3]


def test_minimal_file_defaults():
    m = loads_model('[equations]\nx = "-x"\n', file="dir/decay.toml")
    assert m.name == "decay" and m.kind is ModelKind.ODE and m.default_state == (0.0,)
    assert loads_model('[equations]\nx = "-x"\n').name == "model"


def test_round_trip_through_text_and_disk(tmp_path):
    m = loads_model(BRUSSELATOR, file="b.toml")
    text = dumps_model(m)
    assert tomllib.loads(text)["equations"]["y"] == "b*x + gamma - x^2*y"
    again = loads_model(text)
    assert again == m
    assert again.description == m.description and again.metadata == m.metadata
    assert dict(again.definitions) == dict(m.definitions)
    path = save_model(m, tmp_path / "b.toml")
    assert load_model(path) == m
    assert dumps_model(load_model(path)) == text


def test_dumps_writes_shadowed_constants_safely():
    m = Model.from_equations({"x": "e*x + E - pi"}, parameters={"e": 2.0})
    text = dumps_model(m)
    assert loads_model(text) == m
    assert sympy.E in loads_model(text).equations[0].atoms(sympy.NumberSymbol)


def test_dumps_refuses_python_function_models():
    model = Model.from_function(lambda t, y, p: -y, variables=["x"])
    with pytest.raises(ModelError, match="built from Python functions"):
        dumps_model(model)


names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"t", "e", "pi", "exp", "log", "ln", "sin", "cos", "tan", "abs", "min",
                        "max", "pow", "hill", "sign", "sqrt", "ceil", "floor", "asin", "acos",
                        "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "atan2"}
)  # fmt: skip
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(names, min_size=1, max_size=6, unique=True),
    st.data(),
    st.text(max_size=30),
    st.sampled_from(["ode", "map"]),
)
def test_round_trip_property(all_names, data, description, kind):
    split = data.draw(st.integers(min_value=1, max_value=len(all_names)))
    variables, parameters = all_names[:split], all_names[split:]
    terms = [*variables, *parameters, "t", "2.5", "pi"]
    equations = {
        v: " + ".join(data.draw(st.lists(st.sampled_from(terms), min_size=1, max_size=4)))
        + "*"
        + data.draw(st.sampled_from(["sin(t)", "exp(-1.5)", "2^(1/3)", "1e-300", "1"]))
        for v in variables
    }
    m = Model.from_equations(
        equations,
        parameters={p: data.draw(finite) for p in parameters},
        variables={v: data.draw(finite) for v in variables},
        kind=kind,
        name=data.draw(st.text(max_size=10)),
        description=description,
    )
    again = loads_model(dumps_model(m))
    assert again == m
    assert (again.name, again.description) == (m.name, m.description)


# --------------------------------------------------------------------------- errors
def error_of(old: str, new: str) -> ModelError:
    assert old in BRUSSELATOR, old
    with pytest.raises(ModelError) as info:
        loads_model(BRUSSELATOR.replace(old, new, 1), file="b.toml")
    assert info.value.file == "b.toml"
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "reason", "suggestion"),
    [
        (
            '"a - (b + 1)*x',
            '"a - (b + 1)*gama',
            22,
            18,
            "equation for 'x': unknown symbol 'gama'",
            "did you mean 'gamma'?",
        ),
        # after an escape sequence (\t is two characters in the file, one in the value)
        (
            "\\t+ gamma",
            "\\t+ gama",
            23,
            23,
            "equation for 'y': unknown symbol 'gama'",
            "did you mean 'gamma'?",
        ),
        # inside a multi-line string
        ("(x - b)))", "(x - bb)))", 18, 20, "definition of 'p': unknown symbol 'bb'", None),
        # inside a literal string
        ("'p*gamma'", "'p*gamma +'", 19, 14, "operator '+' has no right operand", None),
        ("'p*gamma'", "'p*sinn(x)'", 19, 8, "unknown function 'sinn'", "did you mean 'sin'?"),
        ("b*x - x^2*y", "b*x*(1 - x^2*y", 23, 12, "'(' is never closed", "add ')'"),
        ("a = 1.0", 'a = "1.0"', 8, 6, "must be a number, got str '1.0'", "without quotes"),
        ("b = 3.0", "b = nan", 9, 5, "'b' = nan is not finite", None),
        ("b = 3.0", "b = true", 9, 5, "must be a number, got bool", None),
        ("[variables]", "[variabels]", 12, 2, "unknown table [variabels]", "'variables'"),
        ("citation", "citaton", 5, 1, "unknown key 'citaton' in [model]", "'citation'"),
        ('kind = "ode"', 'kind = "odd"', 3, 9, "unknown model kind 'odd'", "'ode'"),
        ('kind = "ode"', 'kind = "dde"', 3, 9, "kind 'dde' is not supported yet", None),
        ("x = 1.0\ny", "z = 1.0\ny", 22, 1, "equation for 'x', which is not a variable", None),
        ("gamma = 2", "x = 2", 10, 1, "'x' is both a variable and a parameter", None),
        ("gamma = 2", "t = 2", 10, 1, "parameter name 't' is reserved for time", None),
        ("q = 'p*gamma'", "x = 'p*gamma'", 19, 1, "definition 'x' has the name of a var", None),
        ('p = """\n', 'p = """\nq + ', 17, 1, "cycle: p -> q -> p", None),
        ("'p*gamma'", "'p(t - 1)'", 19, 6, "'p' is not a function", "p*(...)"),
        ("'p*gamma'", "'x(t - 1)'", 19, 6, "delay terms x(t - tau) need kind='dde'", None),
        ("'p*gamma'", "'A + B -> C'", 19, 12, "'->' is a reaction arrow", "[reactions]"),
        ("b = 3.0", "b = 3.0 3", 9, 9, "TOML syntax error", "check quotes"),
        ("b = 3.0", "b = 3.0\nb = 4", 10, 6, "TOML syntax error: cannot overwrite", None),
        ("[model]", 'name = "x"\n[model]', 1, 1, "key 'name' is outside any table", "[model]"),
        ("[model]", "[model.extra]\n[model]", 1, 2, "unknown key 'extra' in [model]", None),
    ],
)
def test_errors_carry_file_line_column(old, new, line, column, reason, suggestion):
    err = error_of(old, new)
    assert (err.line, err.column) == (line, column), str(err)
    assert reason in err.reason, str(err)
    if suggestion is not None:
        assert err.suggestion is not None and suggestion in err.suggestion, str(err)
    # the message shows the file's line with a caret under the column
    shown = BRUSSELATOR.replace(old, new, 1).split("\n")[line - 1]
    message = str(err).splitlines()
    assert message[0].startswith(f"b.toml:{line}:{column}: ")
    assert message[1] == "    " + shown
    assert message[2] == " " * (4 + column - 1) + "^"


def test_empty_and_unreadable_files(tmp_path):
    with pytest.raises(ModelError, match="has no equations") as info:
        loads_model('[model]\nname = "m"\n', file="m.toml")
    assert info.value.file == "m.toml"
    with pytest.raises(ModelError, match="has no equations") as info:
        loads_model('[model]\nname = "m"\n[equations]\n', file="m.toml")
    assert (info.value.line, info.value.column) == (3, 2)
    with pytest.raises(ModelError, match="cannot read the model file") as info:
        load_model(tmp_path / "missing.toml")
    assert info.value.file == str(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[equations]")
    with pytest.raises(ModelError, match="cannot read the model file"):
        load_model(bad)


def test_unterminated_string_points_at_the_end():
    with pytest.raises(ModelError) as info:
        loads_model('[equations]\nx = "-x', file="m.toml")
    assert "TOML syntax error" in info.value.reason
    assert info.value.line == 2


def test_metadata_that_toml_cannot_hold_is_refused():
    m = Model.from_equations({"x": "-x"})
    odd = dataclasses.replace(m, metadata=(("analysis", {"f": object()}),))
    with pytest.raises(ModelError, match=r"cannot write analysis\.f"):
        dumps_model(odd)
