"""SBML import: reaction networks from Systems Biology Markup Language files.

:func:`load_sbml` reads an SBML file (any level and version that libSBML reads) into a
:class:`~stabkit.model.reactions.ReactionNetwork`; it needs the optional dependency
``python-libsbml`` (``pip install python-libsbml``).

What is supported: compartments of constant size, species with initial amounts or
concentrations (counts must come out whole), constant global and local parameters,
and reactions with integer stoichiometry whose kinetic law uses arithmetic, powers,
``exp``, ``ln``, ``log``, ``root``, ``abs`` and the constants ``pi`` and ``e``. Species
with ``boundaryCondition`` or ``constant`` set are buffered: they become parameters
holding their count. Ids that are words of the model language (``t``, ``e``, ``pi``,
``exp``, ``Omega``, ...) get a trailing ``_``.

How a kinetic law becomes a propensity: the law is a rate in substance per time; a
species symbol stands for its concentration ``x / V`` (or its amount when
``hasOnlySubstanceUnits`` is set), so with ``x`` in molecules the law is the
propensity ``a(x)`` (the usual stochastic reading, as in StochKit and GillesPy2). A law
of the form ``C * prod_i S_i^nu_i`` over exactly the reactants becomes mass action with
rate constant ``k = C * prod_i nu_i! * V^(m - 1)`` in the network's volume ``V`` (the
compartment size), so the network's rate equations are the SBML model's ODE; any other
law becomes an explicit propensity. A reversible reaction's law is split into its
positive and negative terms (forward and backward reactions).

Not supported, each with a clear :class:`~stabkit.errors.ModelError`: rules,
events, initial assignments, constraints, function definitions, delays, ``time`` and
``piecewise`` in laws, non-integer or variable stoichiometry, non-constant parameters
or compartments, and species in compartments of different sizes within one reaction's
mass-action law.

Reference: M. Hucka et al., The Systems Biology Markup Language (SBML), Bioinformatics
19, 524 (2003); libSBML: B. J. Bornstein et al., Bioinformatics 24, 880 (2008).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sympy

from stabkit.errors import ModelError

if TYPE_CHECKING:
    from stabkit.model.reactions import ReactionNetwork

__all__ = ["load_sbml", "loads_sbml"]


def _libsbml() -> Any:
    try:
        import libsbml
    except ImportError:  # pragma: no cover - depends on the environment
        raise ModelError(
            "reading SBML needs python-libsbml",
            suggestion="pip install python-libsbml (or stabkit[sbml])",
        ) from None
    return libsbml


class _Reader:
    """Translates one SBML model into the arguments of ``build_network``."""

    def __init__(self, model: Any, libsbml: Any, file: str | None, round_counts: bool) -> None:
        self.model = model
        self.sb = libsbml
        self.file = file
        self.round_counts = round_counts
        self.symbols: dict[str, sympy.Expr] = {}
        self.species: dict[str, int] = {}
        self.parameters: dict[str, float] = {}
        self.size: dict[str, float] = {}  # compartment sizes
        self.species_compartment: dict[str, str] = {}
        self.renamed: dict[str, str] = {}  # SBML species id -> stabkit name

    def safe(self, sid: str) -> str:
        """The SBML id, renamed ``<id>_`` when it is a word of the model language."""
        from stabkit.model.build import RESERVED_NAMES
        from stabkit.model.parse import CONSTANTS, FUNCTIONS

        name = sid
        while name in RESERVED_NAMES or name in FUNCTIONS or name in CONSTANTS or name == "Omega":
            name += "_"
        return name

    def fail(self, message: str, suggestion: str | None = None) -> ModelError:
        return ModelError(message, file=self.file, suggestion=suggestion)

    # ------------------------------------------------------------------ structure
    def check_unsupported(self) -> None:
        m = self.model
        parts = [
            (m.getNumRules(), "rules (assignment, rate or algebraic)"),
            (m.getNumEvents(), "events"),
            (m.getNumInitialAssignments(), "initial assignments"),
            (m.getNumConstraints(), "constraints"),
            (m.getNumFunctionDefinitions(), "function definitions"),
        ]
        for count, what in parts:
            if count:
                raise self.fail(
                    f"the SBML model has {count} {what}, which stabkit does not import",
                    "keep to compartments, species, constant parameters and reactions",
                )

    def read_compartments(self) -> None:
        for c in self.model.getListOfCompartments():
            if not c.getConstant():
                raise self.fail(f"compartment {c.getId()!r} changes size; only constant ones")
            size = c.getSize() if c.isSetSize() else 1.0
            if not (math.isfinite(size) and size > 0):
                raise self.fail(f"compartment {c.getId()!r} has size {size}; need a size > 0")
            self.size[c.getId()] = float(size)
            self.symbols[c.getId()] = sympy.Float(size) if size != 1.0 else sympy.S.One

    def count(self, species: Any) -> int:
        volume = self.size.get(species.getCompartment(), 1.0)
        if species.isSetInitialAmount():
            amount = species.getInitialAmount()
        elif species.isSetInitialConcentration():
            amount = species.getInitialConcentration() * volume
        else:
            raise self.fail(f"species {species.getId()!r} has no initial amount or concentration")
        if not math.isfinite(amount) or amount < 0:
            raise self.fail(f"species {species.getId()!r} has initial amount {amount}")
        whole = round(amount)
        if abs(amount - whole) > 1e-9 * max(1.0, abs(amount)) and not self.round_counts:
            raise self.fail(
                f"species {species.getId()!r} starts with {amount:g} molecules, not a whole number",
                "express amounts in molecules, or pass round_counts=True to round them",
            )
        return int(whole)

    def read_species(self) -> None:
        for s in self.model.getListOfSpecies():
            sid = s.getId()
            name = self.safe(sid)
            volume = self.size.get(s.getCompartment(), 1.0)
            count = self.count(s)
            x = sympy.Symbol(name)
            only_amount = s.getHasOnlySubstanceUnits()
            if s.getBoundaryCondition() or s.getConstant():
                self.parameters[name] = float(count)  # buffered: a parameter
            else:
                self.species[name] = count
                self.species_compartment[name] = s.getCompartment()
            self.symbols[sid] = x if only_amount or volume == 1.0 else x / sympy.Float(volume)
            self.renamed[sid] = name

    def read_parameters(self) -> None:
        for p in self.model.getListOfParameters():
            if not p.getConstant():
                raise self.fail(f"parameter {p.getId()!r} is not constant; only constants")
            value = p.getValue() if p.isSetValue() else math.nan
            if not math.isfinite(value):
                raise self.fail(f"parameter {p.getId()!r} has no finite value")
            name = self.safe(p.getId())
            self.parameters[name] = float(value)
            self.symbols[p.getId()] = sympy.Symbol(name)

    # ------------------------------------------------------------------ math
    def expression(self, node: Any, names: dict[str, sympy.Expr], where: str) -> sympy.Expr:
        sb = self.sb
        kind = node.getType()
        children = [node.getChild(i) for i in range(node.getNumChildren())]

        def args() -> list[sympy.Expr]:
            return [self.expression(c, names, where) for c in children]

        if node.isInteger():
            return sympy.Integer(node.getInteger())
        if node.isRational():
            return sympy.Rational(node.getNumerator(), node.getDenominator())
        if node.isNumber():
            value = node.getReal()
            if not math.isfinite(value):
                raise self.fail(f"{where}: the number {value} is not finite")
            return sympy.Float(value)
        if kind == sb.AST_NAME:
            name = node.getName()
            if name not in names:
                raise self.fail(f"{where}: unknown symbol {name!r}")
            return names[name]
        operators: dict[int, Callable[[list[sympy.Expr]], sympy.Expr]] = {
            sb.AST_PLUS: lambda a: sympy.Add(*a),
            sb.AST_TIMES: lambda a: sympy.Mul(*a),
            sb.AST_MINUS: lambda a: -a[0] if len(a) == 1 else a[0] - a[1],
            sb.AST_DIVIDE: lambda a: a[0] / a[1],
            sb.AST_POWER: lambda a: a[0] ** a[1],
            sb.AST_FUNCTION_POWER: lambda a: a[0] ** a[1],
            sb.AST_FUNCTION_EXP: lambda a: sympy.exp(a[0]),
            sb.AST_FUNCTION_LN: lambda a: sympy.log(a[0]),
            sb.AST_FUNCTION_LOG: lambda a: sympy.log(a[-1], a[0] if len(a) == 2 else 10),
            sb.AST_FUNCTION_ROOT: lambda a: a[-1] ** (1 / a[0] if len(a) == 2 else sympy.S.Half),
            sb.AST_FUNCTION_ABS: lambda a: sympy.Abs(a[0]),
            sb.AST_CONSTANT_E: lambda a: sympy.E,
            sb.AST_CONSTANT_PI: lambda a: sympy.pi,
        }
        build = operators.get(kind)
        if build is None:
            what = node.getName() or sb.formulaToL3String(node)
            raise self.fail(
                f"{where}: {what!r} is not supported in kinetic laws",
                "stabkit imports arithmetic, powers, exp, ln, log, root and abs",
            )
        return build(args())

    # ------------------------------------------------------------------ reactions
    def side(self, references: Any, rid: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for ref in references:
            sid = self.renamed.get(ref.getSpecies(), ref.getSpecies())
            variable = getattr(ref, "isSetStoichiometryMath", lambda: False)()
            if variable or not getattr(ref, "getConstant", lambda: True)():
                raise self.fail(f"reaction {rid!r}: variable stoichiometry is not supported")
            value = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
            if not float(value).is_integer() or value <= 0:
                raise self.fail(
                    f"reaction {rid!r}: stoichiometry {value:g} of {sid!r} is not a positive "
                    "whole number"
                )
            if sid in self.parameters:  # buffered species do not change
                continue
            out[sid] = out.get(sid, 0) + int(value)
        return out

    def mass_action(self, law: sympy.Expr, reactants: dict[str, int]) -> sympy.Expr | None:
        """``k`` when ``law = C * prod x_i^nu_i`` over exactly the reactants, else None."""
        factor = sympy.Mul(*(sympy.Symbol(s) ** n for s, n in reactants.items()))
        constant = sympy.simplify(law / factor)
        species = {sympy.Symbol(s) for s in self.species}
        if constant.free_symbols & species or constant == 0:
            return None
        order = sum(reactants.values())
        scale = math.prod(math.factorial(n) for n in reactants.values())
        if self.volume != 1.0 and order != 1:
            return constant * scale * sympy.Float(self.volume) ** (order - 1)
        return constant * scale

    @property
    def volume(self) -> float:
        """The network's volume: the compartment size when all species share one, else 1."""
        sizes = {self.size[c] for c in self.species_compartment.values()}
        return sizes.pop() if len(sizes) == 1 else 1.0

    def reactions(self) -> dict[str, tuple[dict[str, int], dict[str, int], sympy.Expr, bool]]:
        out: dict[str, tuple[dict[str, int], dict[str, int], sympy.Expr, bool]] = {}
        for r in self.model.getListOfReactions():
            rid = r.getId()
            if r.isSetFast() and r.getFast():
                raise self.fail(f"reaction {rid!r} is marked fast; fast reactions are not imported")
            law = r.getKineticLaw()
            if law is None or law.getMath() is None:
                raise self.fail(f"reaction {rid!r} has no kinetic law")
            names = dict(self.symbols)
            for local in law.getListOfParameters():  # local parameters in every level
                renamed = f"{rid}_{local.getId()}"
                value = local.getValue() if local.isSetValue() else math.nan
                if not math.isfinite(value):
                    raise self.fail(f"reaction {rid!r}: local parameter has no finite value")
                self.parameters[renamed] = float(value)
                names[local.getId()] = sympy.Symbol(renamed)
            expr = sympy.expand(self.expression(law.getMath(), names, f"reaction {rid!r}"))
            reactants = self.side(r.getListOfReactants(), rid)
            products = self.side(r.getListOfProducts(), rid)
            if r.getReversible():
                forward = sympy.Add(*(t for t in sympy.Add.make_args(expr) if not _negative(t)))
                backward = -sympy.Add(*(t for t in sympy.Add.make_args(expr) if _negative(t)))
                if backward != 0:
                    out[f"{rid}_forward"] = (reactants, products, forward, True)
                    out[f"{rid}_backward"] = (products, reactants, backward, True)
                    continue
            out[rid] = (reactants, products, expr, False)
        return out


def _negative(term: sympy.Expr) -> bool:
    coefficient = term.as_coeff_Mul()[0]
    return bool(coefficient.is_Number and coefficient.is_negative)


def _side_text(counts: dict[str, int]) -> str:
    return " + ".join(f"{n} {s}" if n != 1 else s for s, n in counts.items()) or "0"


def loads_sbml(
    text: str, *, file: str | None = None, round_counts: bool = False
) -> ReactionNetwork:
    """Read a reaction network from SBML text; see :func:`load_sbml`."""
    from stabkit.model._reaction_build import build_network
    from stabkit.model.parse import to_text

    libsbml = _libsbml()
    document = libsbml.readSBMLFromString(text)
    errors = document.getNumErrors(libsbml.LIBSBML_SEV_ERROR) + document.getNumErrors(
        libsbml.LIBSBML_SEV_FATAL
    )
    if errors or document.getModel() is None:
        first = document.getError(0).getMessage().strip() if document.getNumErrors() else ""
        raise ModelError(f"not a readable SBML document: {first or 'no model'}", file=file)
    reader = _Reader(document.getModel(), libsbml, file, round_counts)
    reader.check_unsupported()
    reader.read_compartments()
    reader.read_parameters()
    reader.read_species()
    translated = reader.reactions()
    volume = reader.volume
    texts: dict[str, str] = {}
    names = [*reader.species, *reader.parameters]
    for rid, (reactants, products, law, _) in translated.items():
        rate = reader.mass_action(law, reactants)
        left, right = _side_text(reactants), _side_text(products)
        if rate is not None:
            texts[rid] = f"{left} -> {right} @ {to_text(rate, names=names)}"
        else:
            texts[rid] = f"{left} -> {right} @ propensity: {to_text(law, names=names)}"
    model = document.getModel()
    name = model.getId() or (Path(file).stem if file else "sbml_model")
    try:
        return build_network(
            name,
            species=reader.species,
            reactions=texts,
            parameters=reader.parameters,
            volume=volume,
            description=model.getName() or "",
        )
    except ModelError as err:
        raise ModelError(
            f"SBML model: {err.reason}", file=file, suggestion=err.suggestion
        ) from None


def load_sbml(path: str | Path, *, round_counts: bool = False) -> ReactionNetwork:
    """Read a reaction network from an SBML file (needs ``python-libsbml``).

    Parameters
    ----------
    path
        The SBML file.
    round_counts
        Round initial amounts to whole molecule counts instead of raising.

    Returns
    -------
    ReactionNetwork
        Species (not buffered) with their initial counts, constant parameters (local
        ones renamed ``<reaction>_<name>``), mass-action reactions where the kinetic law
        is mass action and explicit propensities otherwise; volume: the compartment size
        when every species shares one, else 1.

    Raises
    ------
    ModelError
        libsbml missing, an unreadable file, and everything listed as unsupported in
        the module docstring, naming the element.

    Examples
    --------
    >>> import pathlib, tempfile, pytest
    >>> _ = pytest.importorskip("libsbml")
    >>> text = '''<?xml version="1.0" encoding="UTF-8"?>
    ... <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
    ...  <model id="decay">
    ...   <listOfCompartments><compartment id="c" size="1" constant="true"/>
    ...   </listOfCompartments>
    ...   <listOfSpecies><species id="X" compartment="c" initialAmount="10"
    ...     hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    ...   </listOfSpecies>
    ...   <listOfParameters><parameter id="k" value="0.5" constant="true"/>
    ...   </listOfParameters>
    ...   <listOfReactions><reaction id="d" reversible="false">
    ...    <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/>
    ...    </listOfReactants>
    ...    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
    ...     <apply><times/><ci>k</ci><ci>X</ci></apply></math></kineticLaw>
    ...   </reaction></listOfReactions>
    ...  </model>
    ... </sbml>'''
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "decay.xml"
    >>> _ = path.write_text(text)
    >>> net = load_sbml(path)
    >>> net.reactions[0].text()
    'X -> 0 @ k'
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ModelError(f"cannot read the SBML file: {reason}", file=str(path)) from None
    return loads_sbml(text, file=str(path), round_counts=round_counts)
