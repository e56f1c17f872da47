"""``stabkit info MODEL``: what a model is (values, equations, Jacobian)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from stabkit.commands._common import expression_text, load_model_spec, number_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "info"
HELP = "show a model: values, equations, Jacobian"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stabkit info``."""
    parser.description = "Show a model: variables, parameters, definitions, equations, Jacobian."
    parser.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")


def run(args: argparse.Namespace, console: Console) -> int:
    """Print the model's variables, parameters, definitions, equations and Jacobian."""
    from rich.table import Table

    model = load_model_spec(args.model)
    is_map = model.kind.value == "map"
    console.print(
        f"[bold]{model.name}[/bold]  ({model.kind.value}, {model.num_variables} variables, "
        f"{model.num_parameters} parameters)",
        highlight=False,
    )
    if model.citation:
        console.print(f"citation: {model.citation}", markup=False, soft_wrap=True)
    if model.description:
        console.print(model.description, markup=False, soft_wrap=True)

    def table(title: str, *columns: str) -> Table:
        console.print()
        t = Table(title=title, title_justify="left", title_style="bold", show_edge=False)
        for c in columns:
            t.add_column(c, overflow="fold")
        return t

    variables = table("Variables", "name", "initial value")
    for name, value in model.default_state_map().items():
        variables.add_row(name, number_text(value))
    console.print(variables)
    if model.parameters:
        params = table("Parameters", "name", "value")
        for name, value in model.default_parameter_map().items():
            params.add_row(name, number_text(value))
        console.print(params)
    if model.definitions:
        defs = table("Definitions", "name", "expression")
        for name, expr in model.definitions:
            defs.add_row(name, expression_text(expr))
        console.print(defs)
    if not model.is_symbolic:
        console.print("(written as Python functions: no symbolic equations)")
        return 0
    lhs = [f"{v}[n+1]" if is_map else f"d{v}/dt" for v in model.variables]
    eqs = table("Equations", "", "right-hand side")
    for left, expr in zip(lhs, model.equations, strict=True):
        eqs.add_row(left, expression_text(expr))
    console.print(eqs)
    jac = model.jacobian_matrix()
    jt = table("Jacobian: d(right-hand side)/d(variable)", "", *model.variables)
    for i, left in enumerate(lhs):
        row = [expression_text(jac[i, j]) for j in range(model.num_variables)]
        jt.add_row(left, *[c if c != "0" else "[dim]0[/dim]" for c in row])
    console.print(jt)
    return 0
