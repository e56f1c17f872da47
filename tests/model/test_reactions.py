"""ReactionNetwork: reading reactions, propensities, rate equations, errors with positions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.errors import InputError, ModelError
from stabkit.model.files import load_model, load_network, loads_model, loads_network
from stabkit.model.model import ModelKind
from stabkit.model.reactions import Reaction, ReactionNetwork

X, Y, D, k, k1, k2 = sympy.symbols("X Y D k k1 k2")


def birth_death(**kwargs: float) -> ReactionNetwork:
    return ReactionNetwork.from_strings(
        "birth_death",
        species={"X": 0},
        reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
        parameters={"k1": 10.0, "k2": 1.0},
        **kwargs,
    )


def test_birth_death_structure() -> None:
    net = birth_death()
    assert net.species == ("X",)
    assert net.reaction_names == ("birth", "death")
    assert net.stoichiometry.tolist() == [[1, -1]]
    assert net.propensities == (k1, k2 * X)
    assert net.reactions[0].reactants == {} and net.reactions[0].products == {"X": 1}
    assert net.reactions[1].order == 1 and net.reactions[0].order == 0


def test_combinatorial_factors_and_volume() -> None:
    net = ReactionNetwork.from_strings(
        "n",
        species={"X": 5, "Y": 2, "D": 0},
        reactions={
            "dimerise": "2 X -> D @ k",
            "tri": "2X + Y -> 3 Y @ k1",
            "three": "3*X -> 0 @ k2",
        },
        parameters={"k": 2.0, "k1": 1.0, "k2": 1.0},
        volume=10.0,
    )
    a_dimer, a_tri, a_three = net.propensities
    # k Omega^(1-m) C(x, nu): order 2 -> /Omega, order 3 -> /Omega^2
    assert sympy.simplify(a_dimer - k * X * (X - 1) / 2 / 10) == 0
    assert sympy.simplify(a_tri - k1 * X * (X - 1) / 2 * Y / 100) == 0
    assert sympy.simplify(a_three - k2 * X * (X - 1) * (X - 2) / 6 / 100) == 0
    assert net.stoichiometry[:, 1].tolist() == [-2, 2, 0]
    assert net.reactant_matrix[:, 1].tolist() == [2, 1, 0]


def test_same_species_twice_is_summed() -> None:
    net = ReactionNetwork.from_strings(
        "n", species={"X": 1}, reactions={"r": "X + X -> 0 @ k"}, parameters={"k": 1.0}
    )
    assert net.reactions[0].reactants == {"X": 2}


def test_rate_equations_mass_action_limit() -> None:
    net = ReactionNetwork.from_strings(
        "dimer",
        species={"X": 100, "D": 0},
        reactions={"bind": "2 X -> D @ k", "unbind": "D -> 2 X @ k2"},
        parameters={"k": 1.0, "k2": 0.5},
        volume=50.0,
    )
    model = net.rate_equations()
    assert model.kind is ModelKind.ODE
    rhs = model.rhs_dict()
    assert sympy.simplify(rhs["X"] - (-k * X**2 + 2 * k2 * D)) == 0
    assert sympy.simplify(rhs["D"] - (k * X**2 / 2 - k2 * D)) == 0
    assert model.default_state == (2.0, 0.0)
    # the macroscopic limit of a(Omega c)/Omega, computed independently
    c = sympy.Symbol("c")
    for omega in (1e3, 1e6):
        a = net.with_volume(omega).propensities[0].subs({X: omega * c}) / omega
        limit = sympy.lambdify(c, a.subs({k: 1.0}))(0.7)
        assert limit == pytest.approx(0.7**2 / 2, rel=2 / omega * 10)


def test_explicit_propensity_and_volume_symbol() -> None:
    net = ReactionNetwork.from_strings(
        "mm",
        species={"X": 10},
        reactions={"make": "0 -> X @ k", "degrade": "X -> 0 @ propensity: v*X/(K*Omega + X)"},
        parameters={"k": 1.0, "v": 2.0, "K": 3.0},
        volume=4.0,
    )
    v, K = sympy.symbols("v K")
    assert net.propensities[1] == v * X / (4 * K + X)
    rhs = net.rate_equations().rhs_dict()["X"]
    # a(Omega c) / Omega: a count-rate v becomes v / Omega in concentrations
    assert sympy.simplify(rhs - (k - v * X / (4 * (K + X)))) == 0
    assert net.reactions[1].propensity is not None and not net.reactions[1].is_mass_action


def test_identity_and_copies() -> None:
    a, b = birth_death(), birth_death()
    assert a == b and hash(a) == hash(b) and a.content_hash == b.content_hash
    c = a.with_params(k1=5.0)
    assert c.default_params == (5.0, 1.0) and c.content_hash != a.content_hash
    assert c.kernel_hash == a.kernel_hash
    assert a.with_volume(3.0).kernel_hash == a.kernel_hash
    assert a.with_counts(X=7).initial_counts == (7,)
    assert isinstance(a.reactions[0], Reaction)
    assert a.reactions[1].text() == "X -> 0 @ k2"


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("X -> @ k1", 6, "right side of the reaction is empty"),
        ("X + -> Y @ k1", 5, "expected a species name"),
        ("X -> Z @ k1", 6, "species 'Z' is not declared"),
        ("X -> Y", 7, "has no rate"),
        ("X -> Y -> X @ k1", 8, "more than one arrow"),
        ("X -> Y @ k1*X", 13, "uses species 'X'"),
        ("X -> Y @ (k1", 10, "never closed"),
        ("2.5 X -> Y @ k1", 1, "whole number"),
        ("X Y -> 0 @ k1", 3, "join species"),
        ("X -> Y @ kk1", 10, "did you mean 'k1'"),
        ("X -> Y @   ", 9, "empty"),
        ("0 X -> Y @ k1", 1, "positive"),
        ("-> Y @ k1", 1, "left side"),
        ("X -> Y @ k1 @ k1", 13, "one '@'"),
        ("X <-> Y @ k1", 3, "reversible"),
        ("X -> 0 + Y @ k1", 8, "stands alone"),
        ("X -> Y @ propensity: k1*Q", 25, "unknown symbol 'Q'"),
    ],
)
def test_malformed_reactions_name_position(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ModelError) as info:
        ReactionNetwork.from_strings(
            "n", species={"X": 0, "Y": 3}, reactions={"r7": text}, parameters={"k1": 1.0}
        )
    err = info.value
    assert "reaction 'r7'" in str(err)
    assert fragment in str(err)
    assert err.column == column, str(err)


@pytest.mark.parametrize(
    ("species", "params", "fragment"),
    [
        ({"X": -1}, {"k1": 1.0}, "cannot be negative"),
        ({"X": 1.5}, {"k1": 1.0}, "whole number"),
        ({"X": True}, {"k1": 1.0}, "whole number"),
        ({"X": 1}, {"k1": -1.0}, "non-negative"),
        ({"X": 1}, {"k1": math.inf}, "not finite"),
        ({"X": 1, "k1": 2}, {"k1": 1.0}, "both a species and a parameter"),
        ({"exp": 1}, {"k1": 1.0}, "function"),
        ({"Omega": 1}, {"k1": 1.0}, "reserved"),
        ({}, {"k1": 1.0}, "no species"),
    ],
)
def test_bad_values(species: dict, params: dict, fragment: str) -> None:
    reactions = {"r": "X -> 0 @ k1"} if "X" in species else {"r": "0 -> 0 @ k1"}
    with pytest.raises(ModelError, match=fragment):
        ReactionNetwork.from_strings("n", species=species, reactions=reactions, parameters=params)


def test_bad_volume_and_empty_reactions() -> None:
    with pytest.raises(ModelError, match="system size"):
        birth_death(volume=0.0)
    with pytest.raises(InputError, match="system size"):
        birth_death().with_volume(-1.0)
    with pytest.raises(ModelError, match="no reactions"):
        ReactionNetwork.from_strings("n", species={"X": 1}, reactions={}, parameters={})
    with pytest.raises(ModelError, match="changes no species"):
        ReactionNetwork.from_strings(
            "n", species={"X": 1}, reactions={"r": "X -> X @ k"}, parameters={"k": 1.0}
        )


def test_vectors_validate() -> None:
    net = birth_death()
    with pytest.raises(InputError, match="non-negative"):
        net.param_vector({"k1": -2.0})
    with pytest.raises(InputError, match="did you mean 'k1'"):
        net.param_vector({"k_1": 2.0})
    with pytest.raises(InputError, match="negative"):
        net.count_vector({"X": -3})
    with pytest.raises(InputError, match="no species"):
        net.count_vector({"Z": 3})
    with pytest.raises(InputError, match="shape"):
        net.count_vector([1, 2])
    assert net.count_vector([4]).tolist() == [4]
    assert net.count_vector(np.array([4.0])).tolist() == [4]


@settings(max_examples=40, deadline=None)
@given(
    coefficients=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    products=st.lists(st.integers(0, 4), min_size=3, max_size=3),
    omega=st.floats(0.5, 100.0),
)
def test_property_stoichiometry_and_propensity(
    coefficients: list[int], products: list[int], omega: float
) -> None:
    names = ["A", "B", "C"]
    left = " + ".join(f"{c} {n}" for c, n in zip(coefficients, names, strict=False))
    right = " + ".join(f"{c} {n}" for c, n in zip(products, names, strict=True) if c) or "0"
    nu = dict(zip(names, coefficients, strict=False))
    net_change = [products[i] - nu.get(n, 0) for i, n in enumerate(names)]
    if not any(net_change):
        return
    net = ReactionNetwork.from_strings(
        "p",
        species=dict.fromkeys(names, 3),
        reactions={"r": f"{left} -> {right} @ k"},
        parameters={"k": 1.5},
        volume=omega,
    )
    assert net.stoichiometry[:, 0].tolist() == net_change
    # brute force: number of ordered reactant picks / nu! at counts (5, 6, 7)
    counts = {"A": 5, "B": 6, "C": 7}
    expected = 1.5 * omega ** (1 - sum(coefficients))
    for n, c in nu.items():
        expected *= math.comb(counts[n], c)
    values = {sympy.Symbol(n): v for n, v in counts.items()} | {k: 1.5}
    value = float(net.propensities[0].subs(values))
    assert value == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- TOML files
REACTION_FILES = sorted(
    (Path(__file__).parents[2] / "src/stabkit/model/models/reactions").glob("*.toml")
)

NETWORK_TEXT = """[model]
name = "bd"
kind = "reactions"
volume = 2.0

[species]
X = 3

[parameters]
k1 = 10.0
k2 = 1.0

[reactions]
birth = "0 -> X @ k1"
death = "X -> 0 @ k2"

[analysis]
continue = { parameter = "k1", from = 1.0, to = 20.0 }
"""


def test_shipped_reaction_files() -> None:
    names = {p.stem for p in REACTION_FILES}
    assert names == {
        "birth_death",
        "brusselator_reactions",
        "dimerisation",
        "isomerisation",
        "schlogl",
    }
    for path in REACTION_FILES:
        net = load_network(path)
        assert net.name == path.stem and net.description and net.citation
        model = load_model(path)
        assert model.kind is ModelKind.ODE and model.variables == net.species
        assert dict(model.metadata)["reaction_network"] == net


def test_schlogl_rate_equations_have_three_equilibria() -> None:
    model = load_model(REACTION_FILES[[p.stem for p in REACTION_FILES].index("schlogl")])
    rhs = sympy.lambdify(X, model.equations[0].subs(model.default_parameter_map()))
    for root, slope in ((85.49, -1), (247.60, 1), (566.91, -1)):
        assert abs(rhs(root)) < 0.05
        assert np.sign(rhs(root + 1.0) - rhs(root - 1.0)) == slope


def test_brusselator_reactions_match_the_library_brusselator() -> None:
    from stabkit.model import library

    path = REACTION_FILES[[p.stem for p in REACTION_FILES].index("brusselator_reactions")]
    rates = load_model(path)
    reference = library.brusselator()
    values = rates.default_parameter_map()
    x, y = sympy.symbols("X Y")
    for ours, theirs in zip(rates.equations, reference.equations, strict=True):
        theirs = theirs.subs({sympy.Symbol("x"): x, sympy.Symbol("y"): y})
        difference = ours.subs(values) - theirs.subs(reference.default_parameter_map())
        assert sympy.simplify(difference) == 0


def test_loads_network_and_model_from_text() -> None:
    net = loads_network(NETWORK_TEXT, file="bd.toml")
    assert net.volume == 2.0 and net.initial_counts == (3,)
    assert net.reactions[1].line == 15
    model = loads_model(NETWORK_TEXT)
    meta = dict(model.metadata)
    assert meta["volume"] == 2.0 and meta["analysis"]["continue"]["parameter"] == "k1"
    assert meta["reaction_network"] == net
    assert model.default_state == (1.5,)


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "fragment"),
    [
        ('"X -> 0 @ k2"', '"X -> Z @ k2"', 15, 15, "species 'Z' is not declared"),
        ('"X -> 0 @ k2"', '"X + -> 0 @ k2"', 15, 14, "expected a species name"),
        ('"X -> 0 @ k2"', '"X -> 0 @ k3"', 15, 19, "unknown symbol 'k3'"),
        ("X = 3", "X = -3", 7, 5, "cannot be negative"),
        ("k2 = 1.0", "k2 = -1.0", 15, 10, "must be finite and non-negative"),
        ("volume = 2.0", "volume = 0.0", 4, 10, "system size"),
        ("[species]", "[specie]", 6, 2, "did you mean 'species'"),
        ("volume = 2.0", "volum = 2.0", 4, 1, "did you mean 'volume'"),
    ],
)
def test_file_errors_have_positions(
    old: str, new: str, line: int, column: int, fragment: str
) -> None:
    text = NETWORK_TEXT.replace(old, new)
    with pytest.raises(ModelError) as info:
        loads_network(text, file="bd.toml")
    err = info.value
    assert fragment in str(err)
    assert (err.file, err.line, err.column) == ("bd.toml", line, column), str(err)
    with pytest.raises(ModelError):
        loads_model(text, file="bd.toml")


def test_kind_mismatches() -> None:
    with pytest.raises(ModelError, match="belongs to reaction networks"):
        loads_model(NETWORK_TEXT.replace('kind = "reactions"', 'kind = "ode"'))
    with pytest.raises(ModelError, match="has no table \\[equations\\]"):
        loads_network(NETWORK_TEXT + '\n[equations]\nX = "-X"\n')
    with pytest.raises(ModelError, match="not a reaction network"):
        loads_network('[equations]\nx = "-x"\n')
    # without a kind, [reactions] makes it a network
    assert loads_network(NETWORK_TEXT.replace('kind = "reactions"\n', "")).name == "bd"
