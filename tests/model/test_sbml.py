"""SBML import: mass action, explicit laws, reversible splits, buffered species, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy

from stabkit.errors import ModelError
from stabkit.model.reactions import ReactionNetwork

libsbml = pytest.importorskip("libsbml")

from stabkit.model.sbml import load_sbml, loads_sbml  # noqa: E402


def document(
    species: dict[str, float],
    reactions: list[dict[str, Any]],
    *,
    size: float = 1.0,
    parameters: dict[str, float] | None = None,
    concentration: bool = False,
    buffered: tuple[str, ...] = (),
) -> Any:
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("test_model")
    c = model.createCompartment()
    c.setId("cell")
    c.setSize(size)
    c.setConstant(True)
    for sid, value in species.items():
        s = model.createSpecies()
        s.setId(sid)
        s.setCompartment("cell")
        if concentration:
            s.setInitialConcentration(value)
        else:
            s.setInitialAmount(value)
        s.setHasOnlySubstanceUnits(False)
        s.setBoundaryCondition(sid in buffered)
        s.setConstant(False)
    for pid, value in (parameters or {}).items():
        p = model.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(True)
    for spec in reactions:
        r = model.createReaction()
        r.setId(spec["id"])
        r.setReversible(spec.get("reversible", False))
        sides = (("reactants", spec.get("reactants", {})), ("products", spec.get("products", {})))
        for side, refs in sides:
            for sid, n in refs.items():
                ref = r.createReactant() if side == "reactants" else r.createProduct()
                ref.setSpecies(sid)
                ref.setStoichiometry(n)
                ref.setConstant(True)
        law = r.createKineticLaw()
        for lid, value in spec.get("local", {}).items():
            lp = law.createLocalParameter()
            lp.setId(lid)
            lp.setValue(value)
        law.setMath(libsbml.parseL3Formula(spec["law"]))
    return doc


def text(doc: Any) -> str:
    return libsbml.writeSBMLToString(doc)


def test_birth_death_is_mass_action() -> None:
    doc = document(
        {"X": 3},
        [
            {"id": "birth", "products": {"X": 1}, "law": "k1 * cell"},
            {"id": "death", "reactants": {"X": 1}, "law": "k2 * X * cell"},
        ],
        parameters={"k1": 10.0, "k2": 1.0},
    )
    net = loads_sbml(text(doc))
    expected = ReactionNetwork.from_strings(
        "test_model",
        species={"X": 3},
        reactions={"birth": "0 -> X @ k1", "death": "X -> 0 @ k2"},
        parameters={"k1": 10.0, "k2": 1.0},
    )
    assert net.propensities == expected.propensities
    assert net.stoichiometry.tolist() == expected.stoichiometry.tolist()
    assert all(r.is_mass_action for r in net.reactions)


def test_concentrations_volume_and_dimerisation_rate_equations() -> None:
    # d[X]/dt = -2 k [X]^2 + 2 kr [D] in a compartment of size 50, concentrations 0.4
    doc = document(
        {"X": 0.4, "D": 0.0},
        [
            {"id": "bind", "reactants": {"X": 2}, "products": {"D": 1}, "law": "k * X^2 * cell"},
            {"id": "unbind", "reactants": {"D": 1}, "products": {"X": 2}, "law": "kr * D * cell"},
        ],
        size=50.0,
        parameters={"k": 0.3, "kr": 0.2},
        concentration=True,
    )
    net = loads_sbml(text(doc))
    assert net.volume == 50.0 and net.initial_counts == (20, 0)
    rhs = net.rate_equations().rhs_dict()
    x, d, k, kr = sympy.symbols("X D k kr")
    assert sympy.simplify(rhs["X"] - (-2 * k * x**2 + 2 * kr * d)) == 0
    assert sympy.simplify(rhs["D"] - (k * x**2 - kr * d)) == 0
    # propensity in counts: the SBML law read at x/V, made combinatorial
    a = net.propensities[0].subs({k: 0.3, x: 10})
    assert float(a) == pytest.approx(0.3 * 2 * 10 * 9 / 2 / 50)


def test_michaelis_menten_is_an_explicit_propensity_and_local_parameters() -> None:
    doc = document(
        {"S": 100, "P": 0},
        [
            {
                "id": "convert",
                "reactants": {"S": 1},
                "products": {"P": 1},
                "law": "V * S / (Km + S)",
                "local": {"V": 5.0, "Km": 20.0},
            }
        ],
    )
    net = loads_sbml(text(doc))
    assert net.parameters == ("convert_V", "convert_Km")
    reaction = net.reactions[0]
    assert not reaction.is_mass_action
    s = sympy.Symbol("S")
    values = dict(zip(net.parameter_symbols, (5.0, 20.0), strict=True))
    value = reaction.propensity.subs({s: 20, **values})
    assert float(value) == pytest.approx(2.5)


def test_reversible_law_is_split_and_buffered_species_become_parameters() -> None:
    doc = document(
        {"A": 10, "B": 5, "E": 7},
        [
            {
                "id": "iso",
                "reversible": True,
                "reactants": {"A": 1, "E": 1},
                "products": {"B": 1, "E": 1},
                "law": "(kf * A - kb * B) * E",
            }
        ],
        parameters={"kf": 1.0, "kb": 0.5},
        buffered=("E",),
    )
    net = loads_sbml(text(doc))
    assert net.species == ("A", "B")
    assert net.default_parameter_map()["E_"] == 7.0  # E is Euler's number: renamed
    assert net.reaction_names == ("iso_forward", "iso_backward")
    assert net.stoichiometry.tolist() == [[-1, 1], [1, -1]]


@pytest.mark.parametrize(
    ("law", "fragment"),
    [
        ("k * X * time", "'time'"),
        ("piecewise(k, X > 2, 0)", "piecewise"),
        ("k * Q", "unknown symbol 'Q'"),
    ],
)
def test_unsupported_laws(law: str, fragment: str) -> None:
    doc = document(
        {"X": 3}, [{"id": "r", "reactants": {"X": 1}, "law": law}], parameters={"k": 1.0}
    )
    with pytest.raises(ModelError, match=fragment):
        loads_sbml(text(doc))


def test_unsupported_structure(tmp_path: Path) -> None:
    decay = [{"id": "r", "reactants": {"X": 1}, "law": "k * X"}]
    doc = document({"X": 3}, decay, parameters={"k": 1.0})
    rule = doc.getModel().createAssignmentRule()
    rule.setVariable("k")
    rule.setMath(libsbml.parseL3Formula("2"))
    with pytest.raises(ModelError, match="rules"):
        loads_sbml(text(doc))
    half = document({"X": 2.5}, [{"id": "r", "reactants": {"X": 1}, "law": "X"}])
    with pytest.raises(ModelError, match="whole number"):
        loads_sbml(text(half))
    assert loads_sbml(text(half), round_counts=True).initial_counts == (2,)
    fractional = document({"X": 3}, [{"id": "r", "reactants": {"X": 1.5}, "law": "X"}])
    with pytest.raises(ModelError, match="positive whole number"):
        loads_sbml(text(fractional))
    negative = document(
        {"X": 3}, [{"id": "r", "reactants": {"X": 1}, "law": "k * X"}], parameters={"k": -1.0}
    )
    with pytest.raises(ModelError, match="non-negative"):
        loads_sbml(text(negative))
    with pytest.raises(ModelError, match="not a readable SBML"):
        loads_sbml("<not sbml/>")
    with pytest.raises(ModelError, match="cannot read"):
        load_sbml(tmp_path / "missing.xml")


def test_file_round_trip_and_simulation(tmp_path: Path) -> None:
    from stabkit.integrate.ssa import ssa

    doc = document(
        {"X": 0},
        [
            {"id": "birth", "products": {"X": 1}, "law": "k1"},
            {"id": "death", "reactants": {"X": 1}, "law": "k2 * X"},
        ],
        parameters={"k1": 10.0, "k2": 1.0},
    )
    path = tmp_path / "bd.xml"
    path.write_text(text(doc))
    net = load_sbml(path)
    result = ssa(net, (0.0, 30.0), num_runs=300, seed=1, t_eval=[30.0])
    mean = result.mean("X")
    assert abs(mean.value[0] - 10.0) < 4.5 * mean.standard_error[0]
    assert np.isfinite(result.counts).all()
