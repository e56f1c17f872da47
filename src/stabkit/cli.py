"""The ``stabkit`` command line: the face of the package, holding no analysis logic.

Commands::

    stabkit demo [--out demo-report] [--quick]        run the bundled examples, write a report
    stabkit info MODEL                                 what a model is: values, equations, Jacobian
    stabkit simulate MODEL --t-end T [...] --out F     integrate one state or an ensemble
    stabkit models                                     list the library models

``MODEL`` is a path to a ``.toml`` model file or the name of a library model. Every
error a user can cause (a :class:`~stabkit.errors.StabkitError`, a missing file, a bad
argument) prints one red line and exits with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from stabkit.errors import InputError, StabkitError, suggest

if TYPE_CHECKING:
    from rich.console import Console

    from stabkit.integrate.trajectory import Ensemble, Trajectory
    from stabkit.model.model import Model
    from stabkit.report.demo import DemoSection
    from stabkit.report.html import ReportSection

__all__ = ["main"]

_COMMANDS = ("demo", "info", "simulate", "models")
_OUTPUT_SUFFIXES = (".parquet", ".csv", ".json")
_PROGRESS_MEMBERS = 2000  # ensembles at least this large show a progress bar


class _UsageError(Exception):
    """A bad command line (argparse's complaint), reported like any other error."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)'", message)
        if match and "command" in message.lower():
            hint = suggest(match.group(1), _COMMANDS)
            message = f"unknown command {match.group(1)!r}; choose one of {', '.join(_COMMANDS)}"
            if hint:
                message += f"; {hint}"
        raise _UsageError(message, self.prog)


# --------------------------------------------------------------------------- parser
def _parser() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser = _Parser(
        prog="stabkit",
        description="Is it stable, where does it lose stability, and why?",
        epilog="Run 'stabkit COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"stabkit {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="run the bundled examples and write an HTML report",
        description="Run the bundled examples and write a report folder (PNGs + index.html).",
    )
    demo.add_argument(
        "--out",
        default="demo-report",
        metavar="FOLDER",
        help="report folder (default: %(default)s)",
    )
    demo.add_argument("--quick", action="store_true", help="small ensembles, short runs")
    demo.add_argument(
        "--only", metavar="KEYS", help="comma-separated section keys to run (default: all)"
    )
    demo.set_defaults(handler=_cmd_demo)

    info = sub.add_parser(
        "info",
        parents=[common],
        help="show a model: values, equations, Jacobian",
        description="Show a model: variables, parameters, definitions, equations, Jacobian.",
    )
    info.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    info.set_defaults(handler=_cmd_info)

    sim = sub.add_parser(
        "simulate",
        parents=[common],
        help="integrate a model (one state or an ensemble) and save the result",
        description=(
            "Integrate a model from its default state, or an ensemble of states sampled "
            "around it (default state + spread * standard normal), and save the result."
        ),
    )
    sim.add_argument("model", metavar="MODEL", help="a .toml model file or a library model name")
    sim.add_argument(
        "--t-end", type=float, required=True, metavar="T", help="end time (iterations for maps)"
    )
    sim.add_argument(
        "--t-start", type=float, default=0.0, metavar="T", help="start time (default: 0)"
    )
    sim.add_argument("--ensemble", type=int, metavar="N", help="number of ensemble members")
    sim.add_argument(
        "--spread",
        type=float,
        default=0.1,
        metavar="S",
        help="std. dev. of the initial states (default: 0.1)",
    )
    sim.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    sim.add_argument(
        "--method", metavar="NAME", help="dopri5, tsit5, dop853, rk4, rodas5, rosenbrock23, auto"
    )
    sim.add_argument("--rtol", type=float, metavar="X", help="relative tolerance")
    sim.add_argument("--atol", type=float, metavar="X", help="absolute tolerance")
    sim.add_argument("--dt", type=float, metavar="X", help="step size (rk4)")
    sim.add_argument("--max-steps", type=int, metavar="N", help="step limit per trajectory")
    sim.add_argument(
        "--param",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="override parameter values, e.g. --param b=3.2 a=1",
    )
    sim.add_argument(
        "--num-points",
        type=int,
        default=501,
        metavar="N",
        help="output times (default: %(default)s)",
    )
    sim.add_argument("--out", metavar="FILE", help="output file: .parquet, .csv or .json")
    sim.set_defaults(handler=_cmd_simulate)

    models = sub.add_parser(
        "models", parents=[common], help="list the library models", description="List models."
    )
    models.set_defaults(handler=_cmd_models)
    return parser


def _version() -> str:
    from stabkit import __version__

    return __version__


# --------------------------------------------------------------------------- helpers
def _load_model(spec: str) -> Model:
    """A model from a file path or a library name."""
    path = Path(spec)
    looks_like_path = path.suffix.lower() == ".toml" or "/" in spec or "\\" in spec
    if path.is_file() or looks_like_path:
        if not path.is_file():
            raise InputError(f"model file {spec!r} not found")
        from stabkit.model.files import load_model

        return load_model(path)
    from stabkit.model import library

    names = list(library.names())
    if spec in names:
        return library.get(spec)
    hint = suggest(spec, names)
    raise InputError(
        f"MODEL {spec!r} is neither a model file nor a library model; "
        f"library models: {', '.join(names)}" + (f"; {hint}" if hint else "")
    )


def _expr(expr: Any) -> str:
    """A sympy expression as the model language writes it (``^`` for powers)."""
    from stabkit.model.parse import to_text

    try:
        return to_text(expr)
    except StabkitError:  # something the language cannot spell: sympy's own text
        return str(expr).replace("**", "^")


def _number(value: float) -> str:
    return f"{float(value):.10g}"


def _parse_params(items: Sequence[str]) -> dict[str, float]:
    params: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param {item!r}: expected NAME=VALUE, e.g. --param b=3.2")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"--param {item!r}: {value!r} is not a number") from None
    return params


def _short_citation(citation: str) -> str:
    """``Author, A. and Other, B. (1968)`` from a full reference."""
    match = re.match(r"\s*(.{1,80}?\(\d{4}\))", citation)
    if match:
        return match.group(1)
    text = " ".join(citation.split())
    return text if len(text) <= 50 else text[:49] + "..."


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1e3:.1f} ms"


# --------------------------------------------------------------------------- commands
def _cmd_info(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    model = _load_model(args.model)
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
        variables.add_row(name, _number(value))
    console.print(variables)
    if model.parameters:
        params = table("Parameters", "name", "value")
        for name, value in model.default_parameter_map().items():
            params.add_row(name, _number(value))
        console.print(params)
    if model.definitions:
        defs = table("Definitions", "name", "expression")
        for name, expr in model.definitions:
            defs.add_row(name, _expr(expr))
        console.print(defs)
    if not model.is_symbolic:
        console.print("(written as Python functions: no symbolic equations)")
        return 0
    lhs = [f"{v}[n+1]" if is_map else f"d{v}/dt" for v in model.variables]
    eqs = table("Equations", "", "right-hand side")
    for left, expr in zip(lhs, model.equations, strict=True):
        eqs.add_row(left, _expr(expr))
    console.print(eqs)
    jac = model.jacobian_matrix()
    jt = table("Jacobian: d(right-hand side)/d(variable)", "", *model.variables)
    for i, left in enumerate(lhs):
        row = [_expr(jac[i, j]) for j in range(model.num_variables)]
        jt.add_row(left, *[c if c != "0" else "[dim]0[/dim]" for c in row])
    console.print(jt)
    return 0


def _cmd_models(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from stabkit.model import library

    t = Table(title="Library models", title_justify="left", show_edge=False)
    for c in ("name", "kind", "variables", "parameters", "citation"):
        t.add_column(c, overflow="fold")
    for name in library.names():
        m = library.get(name)
        t.add_row(
            name,
            m.kind.value,
            ", ".join(m.variables),
            ", ".join(m.parameters),
            _short_citation(m.citation),
        )
    console.print(t)
    console.print("Show one with: stabkit info NAME", highlight=False)
    return 0


def _cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    import numpy as np

    import stabkit
    from stabkit.integrate.methods import method_from_name
    from stabkit.report.demo import states_around

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise InputError(
            f"--out {args.out!r}: unknown file type; use a name ending in "
            + ", ".join(_OUTPUT_SUFFIXES)
        )
    if not args.t_end > args.t_start:
        raise InputError(f"--t-end {args.t_end:g} must be larger than --t-start {args.t_start:g}")
    if args.num_points < 2:
        raise InputError(f"--num-points {args.num_points}: need at least 2 output times")
    if args.ensemble is not None and args.ensemble < 1:
        raise InputError(f"--ensemble {args.ensemble}: need at least 1 member")
    params = _parse_params(args.param)
    settings = {
        key: getattr(args, key)
        for key in ("rtol", "atol", "dt", "max_steps")
        if getattr(args, key) is not None
    }
    if settings and args.method is None:
        raise InputError(
            f"--{next(iter(settings)).replace('_', '-')} needs --method "
            "(e.g. --method dopri5) so that it is clear which scheme it applies to"
        )
    method = method_from_name(args.method, **settings) if args.method else None
    model = _load_model(args.model)
    model.param_vector(params)  # unknown names fail here, before any work
    t_span = (args.t_start, args.t_end)
    t_eval = np.linspace(args.t_start, args.t_end, args.num_points)
    if model.kind.value == "map":
        t_eval = np.unique(np.round(t_eval))
    result: Trajectory | Ensemble
    began = time.perf_counter()
    if args.ensemble is None:
        with console.status(f"integrating {model.name} ..."):
            result = stabkit.solve(
                model, t_span=t_span, method=method, t_eval=t_eval, params=params or None
            )
    else:
        y0s = states_around(model, args.ensemble, args.spread, seed=args.seed)
        progress = args.ensemble >= _PROGRESS_MEMBERS and console.is_terminal
        if progress:
            result = stabkit.solve_ensemble(
                model,
                y0s,
                t_span,
                method=method,
                t_eval=t_eval,
                params=params or None,
                progress=True,
            )
        else:
            with console.status(f"integrating {args.ensemble} members of {model.name} ..."):
                result = stabkit.solve_ensemble(
                    model, y0s, t_span, method=method, t_eval=t_eval, params=params or None
                )
    elapsed = time.perf_counter() - began
    _print_run_summary(console, model, result, args, elapsed)
    if out is not None:
        written = result.save(out)
        rows = result.y.shape[0] * result.y.shape[1] if result.y.ndim == 3 else result.y.shape[0]
        console.print(
            f"wrote [bold]{written}[/bold] ({rows} rows)", highlight=False, soft_wrap=True
        )
    return 0


def _print_run_summary(
    console: Console,
    model: Model,
    result: Trajectory | Ensemble,
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    import numpy as np
    from rich.table import Table

    from stabkit.integrate.trajectory import Ensemble

    method = (result.provenance.method or args.method or "default").split("(")[0]
    settings = [
        f"{key}={getattr(args, key):g}"
        for key in ("rtol", "atol", "dt", "max_steps")
        if getattr(args, key) is not None
    ]
    if settings:
        method += f"({', '.join(settings)})"
    console.print(
        f"[bold]{model.name}[/bold]: t in [{args.t_start:g}, {args.t_end:g}], "
        f"{result.t.size} output times, method {method}",
        highlight=False,
        soft_wrap=True,
    )
    t = Table(show_header=False, show_edge=False, box=None, padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    if isinstance(result, Ensemble):
        n = result.num_members
        t.add_row("members", f"{n} (seed {args.seed}, spread {args.spread:g})")
        for label, count in result.status_counts().items():
            colour = "green" if label in ("ok", "terminated") else "red"
            t.add_row(f"  {label}", f"[{colour}]{count}[/{colour}] ({100 * count / n:.1f}%)")
        t.add_row(
            "steps per member",
            f"mean {np.mean(result.num_steps):.1f}, max {int(np.max(result.num_steps))}",
        )
    else:
        colour = "green" if result.status == "ok" else "red"
        status = result.status + (f" ({result.message})" if result.message else "")
        t.add_row("status", f"[{colour}]{status}[/{colour}]")
        t.add_row(
            "steps", f"{result.stats.num_steps} accepted, {result.stats.num_rejected} rejected"
        )
    t.add_row("compile time", _seconds(result.stats.compile_time))
    t.add_row("run time", _seconds(result.stats.wall_time))
    t.add_row("total", _seconds(elapsed))
    console.print(t)


def _cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from stabkit.report.demo import run_demo

    only = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
    console.print(
        f"stabkit {_version()} demo ({'quick' if args.quick else 'full'}) -> {args.out}/",
        highlight=False,
        soft_wrap=True,
    )
    status = console.status("")

    def start(section: DemoSection) -> None:
        status.update(f"{section.title} ...")

    def finish(section: DemoSection, report: ReportSection) -> None:
        colour = {"ok": "green", "partial": "yellow"}.get(report.status, "red")
        timing = ""
        if report.wall_time is not None:
            timing = f"run {_seconds(report.wall_time)}"
        if report.compile_time:
            timing += f", compile {_seconds(report.compile_time)}"
        console.print(
            f"  [{colour}]{report.status:>7}[/{colour}]  {section.title}  [dim]{timing}[/dim]",
            highlight=False,
            soft_wrap=True,
        )
        if report.status == "error":
            console.print(f"           {report.text.splitlines()[-1]}", style="red", markup=False)

    with status:
        report = run_demo(
            args.out,
            quick=args.quick,
            only=only,
            on_start=start,
            on_finish=finish,
            raise_errors=bool(getattr(args, "debug", False)),
        )
    figures = sum(len(s.figures) for s in report.sections)
    compile_time = sum(s.compile_time or 0.0 for s in report.sections)
    console.print(
        f"wrote {report.index} and {figures} figures in {report.total_time:.1f} s "
        f"(compiling kernels: {compile_time:.1f} s; they are cached for the next run)",
        highlight=False,
        soft_wrap=True,
    )
    return 0 if report.ok else 1


# --------------------------------------------------------------------------- entry point
def _report_error(message: str, *, hint: str = "") -> None:
    from rich.console import Console
    from rich.text import Text

    err = Console(stderr=True, highlight=False)
    first, *rest = message.splitlines() or [""]
    line = Text(f"error: {first}", style="bold red")
    if hint:
        line.append(f" ({hint})", style="dim")
    err.print(line, soft_wrap=True)
    for extra in rest:  # a model error's source line and caret
        err.print(Text(extra), soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Status 0: success; 1: the demo finished but a section failed; 2: a user error (bad
    arguments, a missing or invalid model file, any :class:`StabkitError`); 130:
    interrupted.
    """
    from rich.console import Console

    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    console = Console(highlight=False)
    try:
        parser = _parser()
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 2
        return int(args.handler(args, console))
    except _UsageError as exc:
        _report_error(str(exc), hint=f"see '{exc.prog} --help'")
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _report_error("interrupted")
        return 130
    except (StabkitError, OSError) as exc:
        if debug:
            traceback.print_exc()
        message = str(exc)
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.filename}: {exc.strerror}"
        _report_error(message)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
