"""The chaos benchmark: stabkit's Lyapunov spectra over the ~135 flows of ``dysts``.

Run ``python bench/chaos.py`` (every flow, a per-system wall-time cap) or ``--quick``
(six systems, seconds each). Writes ``bench/results/chaos.json``, ``bench/results/chaos.md``
and the table ``docs/chaos.md`` (quick runs write ``chaos-quick.*`` only).

For each system of dysts' bundled ``chaotic_attractors.json`` (parameters, initial
condition, period, stored maximum exponent and spectrum) the equations are taken from
dysts' own Python class, offline:

* ``symbolic``: the class's ``_rhs(x, y, ..., t, *params)`` is called with sympy symbols
  (``np.sin`` etc. mapped to sympy functions), which gives the exact equations; stabkit
  then differentiates them (exact variational equations) and compiles them with numba;
* ``python``: classes whose right-hand side sympy cannot trace (matrix code, branches)
  become :meth:`stabkit.Model.from_function` models around the class's ``rhs`` (plain
  Python, finite-difference Jacobian: slow, so fewer time units fit in the cap);
* delay systems are skipped (their spectrum is infinite-dimensional).

Each system runs :func:`stabkit.lyapunov_spectrum` with ``transient = 20 periods``,
``tol = 1% of max(|lambda_1|, 0.05)``, ``t_max = 2000 periods`` and the wall-time cap, in
a worker process (a system that hangs in compilation is cut off and reported). The table
gives stabkit's exponents with their standard errors, dysts' stored values, the sum rule
(stabkit's sum and dysts' stored sum, each against the orbit average of tr J measured by
stabkit), the Kaplan-Yorke dimension and the time.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.resources
import inspect
import json
import math
import multiprocessing as mp
import platform
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUICK_SYSTEMS = ["Lorenz", "Rossler", "Aizawa", "Thomas", "Halvorsen", "SprottB"]
DELAY_SYSTEMS_HINT = "Delay"


def _as_expr(value: object) -> object:
    """A traced right-hand side entry as a sympy expression (numbers become constants);
    never parses text."""
    import sympy

    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return sympy.Float(float(value))
    raise TypeError(f"rhs gave {type(value).__name__}, not an expression")


def dysts_metadata() -> dict[str, dict[str, Any]]:
    """dysts' bundled metadata of its continuous-time chaotic systems."""
    path = importlib.resources.files("dysts") / "data" / "chaotic_attractors.json"
    return dict(json.loads(path.read_text()))


class _SympyNumpy:
    """Stand-in for ``numpy`` while tracing a dysts right-hand side with sympy symbols."""

    def __init__(self) -> None:
        import sympy

        for name, fn in {
            "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp,
            "log": sympy.log, "sqrt": sympy.sqrt, "tanh": sympy.tanh, "sinh": sympy.sinh,
            "cosh": sympy.cosh, "arctan": sympy.atan, "arcsin": sympy.asin,
            "arccos": sympy.acos, "abs": sympy.Abs, "sign": sympy.sign,
        }.items():  # fmt: skip
            setattr(self, name, fn)
        self.pi = sympy.pi
        self.heaviside = lambda x, h0=0.5: sympy.Heaviside(x, h0)


def symbolic_model(name: str, meta: dict[str, Any]) -> Any:
    """A symbolic stabkit Model traced from dysts' ``_rhs``; raises if it cannot be traced."""
    import dysts.flows as flows
    import sympy

    from stabkit.model.model import TIME, Model, ModelKind

    cls = getattr(flows, name)
    fn = cls._rhs
    py = getattr(fn, "py_func", fn)
    names = list(inspect.signature(py).parameters)
    if "t" not in names:
        raise TypeError("no t argument")
    ti = names.index("t")
    var_names, par_names = names[:ti], names[ti + 1 :]
    params = meta["parameters"]
    scalars = [p for p in par_names if np.isscalar(params[p])]
    glob = dict(py.__globals__)
    glob["np"] = _SympyNumpy()
    traced = types.FunctionType(py.__code__, glob, py.__name__, py.__defaults__, py.__closure__)
    args = [sympy.Symbol(v) for v in var_names] + [TIME]
    args += [sympy.Symbol(p) if p in scalars else np.asarray(params[p]) for p in par_names]
    out = traced(*args)
    eqs = tuple(_as_expr(e) for e in out)
    if len(eqs) != len(var_names):
        raise TypeError(f"{len(eqs)} equations for {len(var_names)} variables")
    return Model(
        name=name,
        kind=ModelKind.ODE,
        variables=tuple(var_names),
        parameters=tuple(scalars),
        equations=eqs,
        default_state=tuple(float(v) for v in meta["initial_conditions"]),
        default_params=tuple(float(params[p]) for p in scalars),
    )


class _ObjectArrayNumpy:
    """numpy, except that elementwise functions accept object arrays of sympy expressions."""

    def __init__(self) -> None:
        import sympy

        self._sympy = {
            "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp,
            "log": sympy.log, "sqrt": sympy.sqrt, "tanh": sympy.tanh, "sinh": sympy.sinh,
            "cosh": sympy.cosh, "arctan": sympy.atan, "abs": sympy.Abs, "sign": sympy.sign,
        }  # fmt: skip

    def heaviside(self, a: Any, h0: Any) -> Any:
        import sympy

        if isinstance(a, np.ndarray):
            flat = [sympy.Heaviside(v, h0) for v in a.ravel()]
            return np.array(flat, dtype=object).reshape(a.shape)
        return sympy.Heaviside(a, h0)

    def __getattr__(self, name: str) -> Any:
        fn = self._sympy.get(name)
        if fn is None:
            return getattr(np, name)

        def apply(a: Any) -> Any:
            if isinstance(a, np.ndarray):
                return np.array([fn(v) for v in a.ravel()], dtype=object).reshape(a.shape)
            return fn(a)

        return apply


def method_model(name: str, meta: dict[str, Any]) -> Any:
    """A symbolic Model traced through the class's ``rhs`` method (parameters as numbers)."""
    import dysts.flows as flows
    import sympy

    from stabkit.model.model import TIME, Model, ModelKind

    system = getattr(flows, name)()
    n = len(meta["initial_conditions"])
    symbols = [sympy.Symbol(f"x{i}") for i in range(n)]
    saved = flows.np
    flows.np = _ObjectArrayNumpy()
    try:
        out = system.rhs(np.array(symbols, dtype=object), TIME)
    finally:
        flows.np = saved
    eqs = tuple(_as_expr(e) for e in np.asarray(out, dtype=object).ravel())
    if len(eqs) != n or any(not isinstance(e, sympy.Expr) for e in eqs):
        raise TypeError("rhs did not give one expression per variable")
    return Model(
        name=name,
        kind=ModelKind.ODE,
        variables=tuple(s.name for s in symbols),
        parameters=(),
        equations=eqs,
        default_state=tuple(float(v) for v in meta["initial_conditions"]),
        default_params=(),
    )


def python_model(name: str, meta: dict[str, Any]) -> Any:
    """A plain-Python stabkit Model around the dysts class's ``rhs`` (finite differences)."""
    import dysts.flows as flows

    from stabkit.model.model import Model

    system = getattr(flows, name)()

    def rhs(t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.asarray(system.rhs(y, t), dtype=np.float64)

    ic = [float(v) for v in meta["initial_conditions"]]
    return Model.from_function(rhs, variables={f"x{i}": v for i, v in enumerate(ic)}, name=name)


def build_model(name: str, meta: dict[str, Any]) -> tuple[Any, str]:
    try:
        return symbolic_model(name, meta), "symbolic"
    except Exception:  # any tracing failure: try the rhs method, then plain numpy
        pass
    try:
        return method_model(name, meta), "symbolic (rhs)"
    except Exception:
        return python_model(name, meta), "python"


def analyse(name: str, meta: dict[str, Any], cap: float) -> dict[str, Any]:
    """One row of the table (runs in the worker)."""
    from stabkit.analysis.lyapunov import QR, lyapunov_spectrum
    from stabkit.integrate.methods import Dopri5

    row: dict[str, Any] = {"system": name, "dimension": len(meta["initial_conditions"])}
    row["dysts_max"] = meta.get("maximum_lyapunov_estimated")
    spec = meta.get("lyapunov_spectrum_estimated")
    row["dysts_spectrum"] = spec
    row["dysts_sum"] = float(np.sum(spec)) if spec else None
    if meta.get("delay"):
        row.update(status="skipped", message="delay equation (infinite-dimensional spectrum)")
        return row
    tic = time.perf_counter()
    model, how = build_model(name, meta)
    row["equations"] = how
    row["build_time"] = time.perf_counter() - tic
    period = float(meta.get("period") or 1.0)
    if how == "python":  # plain-Python kernels are slow: a shorter transient, a longer cap
        cap, transient = 4.0 * cap, 5 * period
    else:
        transient = 20 * period
    scale = max(abs(float(row["dysts_max"] or 0.0)), 0.05)
    method = QR(
        transient=transient,
        t_max=2000 * period,
        tol=0.01 * scale,
        max_wall_time=cap,
        integrator=Dopri5(rtol=1e-6, atol=1e-9, max_steps=50_000_000, divergence_threshold=1e12),
    )
    tic = time.perf_counter()
    r = lyapunov_spectrum(model, seed=0, method=method)
    row["time"] = time.perf_counter() - tic
    row.update(
        status=r.status,
        message=r.message,
        exponents=r.exponents.tolist(),
        standard_errors=r.standard_errors.tolist(),
        compile_time=r.stats.compile_time,
        run_time=r.stats.wall_time,
        averaging_time=r.averaging_time,
        periods=r.averaging_time / period,
        kaplan_yorke=r.kaplan_yorke_dimension,
        jacobian=r.jacobian_source,
    )
    if r.sum_rule is not None:
        row["sum"] = r.sum_rule.exponent_sum
        row["trace_average"] = r.sum_rule.trace_average
        row["sum_rule_error"] = r.sum_rule.difference
        if row["dysts_sum"] is not None:
            row["dysts_sum_rule_error"] = row["dysts_sum"] - r.sum_rule.trace_average
    return row


def _worker(args: tuple[str, dict[str, Any], float]) -> dict[str, Any]:
    name, meta, cap = args
    try:
        return analyse(name, meta, cap)
    except Exception as exc:
        return {"system": name, "status": "error", "message": f"{type(exc).__name__}: {exc}"}


def run_all(names: list[str], meta: dict[str, dict[str, Any]], cap: float) -> list[dict[str, Any]]:
    """Each system in a worker process; a worker stuck past the cap (compilation) is killed."""
    ctx = mp.get_context("fork")
    rows = []
    pool = ctx.Pool(1)
    for i, name in enumerate(names):
        job = pool.apply_async(_worker, ((name, meta[name], cap),))
        try:
            row = job.get(timeout=cap + 120.0)
        except mp.TimeoutError:
            pool.terminate()
            pool = ctx.Pool(1)
            row = {"system": name, "status": "timeout", "message": f"no answer in {cap + 120:g} s"}
        rows.append(row)
        print(f"[{i + 1}/{len(names)}] {name}: {row.get('status')} {row.get('exponents', '')}",
              flush=True)  # fmt: skip
    pool.terminate()
    return rows


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


def _is_finite(value: Any) -> bool:
    return value is not None and math.isfinite(value)


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and medians for the headline."""
    done = [r for r in rows if r.get("exponents") and all(_is_finite(e) for e in r["exponents"])]
    rel = [
        abs(r["exponents"][0] - r["dysts_max"]) / max(abs(r["dysts_max"]), 1e-3)
        for r in done
        if r.get("dysts_max") is not None
    ]
    rel_spec = [
        abs(r["exponents"][0] - r["dysts_spectrum"][0]) / max(abs(r["dysts_spectrum"][0]), 1e-3)
        for r in done
        if r.get("dysts_spectrum")
    ]
    ours = [abs(r["sum_rule_error"]) for r in done if "sum_rule_error" in r]
    theirs = [abs(r["dysts_sum_rule_error"]) for r in done if "dysts_sum_rule_error" in r]
    tr = [abs(r["trace_average"]) for r in done if "trace_average" in r]
    scale = float(np.median(tr)) if tr else 1.0
    return {
        "num_systems": len(rows),
        "num_with_spectrum": len(done),
        "statuses": {
            s: sum(r.get("status") == s for r in rows) for s in {r.get("status") for r in rows}
        },
        "median_relative_difference_lambda1_vs_dysts": float(np.median(rel)) if rel else None,
        "median_relative_difference_lambda1_vs_dysts_spectrum": (
            float(np.median(rel_spec)) if rel_spec else None
        ),
        "median_abs_sum_rule_error_stabkit": float(np.median(ours)) if ours else None,
        "median_abs_sum_rule_error_dysts": float(np.median(theirs)) if theirs else None,
        "dysts_sum_rule_off_by_more_than_1pct_of_trace": sum(t > 0.01 * scale for t in theirs),
        "stabkit_sum_rule_off_by_more_than_1e-3": sum(o > 1e-3 for o in ours),
        "total_time": float(sum(r.get("time", 0.0) or 0.0 for r in rows)),
    }


def markdown(rows: list[dict[str, Any]], head: dict[str, Any], cap: float) -> str:
    lines = [
        "# The chaos benchmark: Lyapunov spectra of the dysts flows",
        "",
        f"Generated by `python bench/chaos.py` on {datetime.date.today().isoformat()} "
        f"(Python {platform.python_version()}, one worker, cap {cap:g} s of averaging per "
        "system on a shared 2-core machine). Exponents are per unit time, `±` one standard "
        "error (batch means over 20 blocks). *dysts λ1* is dysts' stored "
        "`maximum_lyapunov_estimated`, *dysts Σ* the sum of its stored spectrum. *Σ − ⟨tr J⟩* "
        "compares a sum of exponents with the orbit average of the Jacobian's trace that "
        "stabkit measured along its orbit (Liouville's formula says they are equal).",
        "",
        "Status: *ok*: every standard error below 1% of max(|dysts λ1|, 0.05); "
        "*not_converged*: `t_max` (2000 periods) or the cap came first, the exponents are "
        "the average so far with honest error bars; *time_limit*: the wall-time cap ended the "
        "run (NaN when it ended during the transient: mostly the *python* rows, whose "
        "right-hand sides sympy could not trace and which run as plain-Python kernels); "
        "*skipped*: delay equations. *eqs*: *symbolic* = dysts' `_rhs` traced into exact "
        "equations (exact Jacobian); *python* = dysts' numpy `rhs` with a finite-difference "
        "Jacobian. Each system's numba compilation (seconds, once per model; cached on disk) "
        "is not in *time*.",
        "",
        f"Systems: {head['num_systems']}; spectra: {head['num_with_spectrum']}; statuses: "
        + ", ".join(f"{k} {v}" for k, v in sorted(head["statuses"].items(), key=str))
        + ".",
        "Median |λ1 − dysts λ1| / |dysts λ1|: "
        f"{_fmt(head['median_relative_difference_lambda1_vs_dysts'], 3)} (against the first "
        "entry of dysts' stored spectrum: "
        f"{_fmt(head.get('median_relative_difference_lambda1_vs_dysts_spectrum'), 3)}; dysts' "
        "two stored estimates disagree with each other too, e.g. Lorenz 0.892 and 1.091). "
        f"Median |Σ − ⟨tr J⟩|: stabkit {_fmt(head['median_abs_sum_rule_error_stabkit'], 2)}, "
        f"dysts' stored spectra {_fmt(head['median_abs_sum_rule_error_dysts'], 2)}; "
        f"stabkit off by more than 1e-3 on {head['stabkit_sum_rule_off_by_more_than_1e-3']} "
        f"systems, dysts off by more than 1% of the median |⟨tr J⟩| on "
        f"{head['dysts_sum_rule_off_by_more_than_1pct_of_trace']}.",
        "",
        "| system | n | eqs | status | stabkit λ1 ± se | dysts λ1 | dysts spectrum λ1 | "
        "stabkit spectrum | "
        "Σ − ⟨tr J⟩ stabkit | Σ − ⟨tr J⟩ dysts | D_KY | periods | time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ex = r.get("exponents") or []
        se = r.get("standard_errors") or []
        l1 = f"{ex[0]:.4g} ± {se[0]:.1g}" if ex and ex[0] is not None else "-"
        spectrum = ", ".join("nan" if e is None else f"{e:.3g}" for e in ex[:6]) + (
            " …" if len(ex) > 6 else ""
        )
        lines.append(
            f"| {r['system']} | {r.get('dimension', '-')} | {r.get('equations', '-')} | "
            f"{r.get('status')} | {l1} | {_fmt(r.get('dysts_max'))} | "
            f"{_fmt((r.get('dysts_spectrum') or [None])[0])} | {spectrum or '-'} | "
            f"{_fmt(r.get('sum_rule_error'), 2)} | {_fmt(r.get('dysts_sum_rule_error'), 3)} | "
            f"{_fmt(r.get('kaplan_yorke'), 3)} | {_fmt(r.get('periods'), 3)} | "
            f"{_fmt(r.get('time'), 3)} |"
        )
    notes = [r for r in rows if r.get("status") not in ("ok",)]
    if notes:
        lines += ["", "## Notes on systems without status ok", ""]
        for r in notes:
            lines.append(f"- **{r['system']}** ({r.get('status')}): {r.get('message', '')}")
    return "\n".join(lines) + "\n"


def _clean(value: Any) -> Any:
    """NaN and infinities as None, so the file is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="six systems, short cap")
    parser.add_argument("--cap", type=float, default=None, help="seconds of averaging per system")
    parser.add_argument("--systems", default=None, help="comma-separated dysts names")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the tables from chaos.json"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="with --systems: replace those rows of chaos.json and rewrite the tables",
    )
    args = parser.parse_args(argv)
    out = ROOT / "bench" / "results"
    if args.render_only:
        payload = json.loads((out / "chaos.json").read_text())
        payload["summary"] = {**payload["summary"], **summary(payload["rows"])}
        (out / "chaos.json").write_text(json.dumps(_clean(payload), indent=1))
        text = markdown(payload["rows"], payload["summary"], payload["cap_seconds"])
        (out / "chaos.md").write_text(text)
        (ROOT / "docs" / "chaos.md").write_text(text)
        return 0
    meta = dysts_metadata()
    if args.systems:
        names = [s.strip() for s in args.systems.split(",") if s.strip()]
    elif args.quick:
        names = QUICK_SYSTEMS
    else:
        names = sorted(meta)
    unknown = [n for n in names if n not in meta]
    if unknown:
        parser.error(f"unknown dysts systems: {unknown}")
    cap = args.cap if args.cap is not None else (1.0 if args.quick else 3.0)
    tic = time.perf_counter()
    rows = run_all(names, meta, cap)
    if args.update and args.systems:
        payload = json.loads((out / "chaos.json").read_text())
        fresh = {r["system"]: _clean(r) for r in rows}
        payload["rows"] = [fresh.get(r["system"], r) for r in payload["rows"]]
        payload["summary"] = {**payload["summary"], **summary(payload["rows"])}
        payload["updated"] = sorted(fresh)
        (out / "chaos.json").write_text(json.dumps(_clean(payload), indent=1))
        text = markdown(payload["rows"], payload["summary"], payload["cap_seconds"])
        (out / "chaos.md").write_text(text)
        (ROOT / "docs" / "chaos.md").write_text(text)
        return 0
    head = summary(rows)
    head["wall_time"] = time.perf_counter() - tic
    out.mkdir(parents=True, exist_ok=True)
    stem = "chaos" if not (args.quick or args.systems) else "chaos-quick"
    payload = {"summary": head, "cap_seconds": cap, "rows": rows}
    (out / f"{stem}.json").write_text(json.dumps(_clean(payload), indent=1, default=float))
    text = markdown(rows, head, cap)
    (out / f"{stem}.md").write_text(text)
    if not args.quick and not args.systems:
        (ROOT / "docs" / "chaos.md").write_text(text)
    print(json.dumps(head, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
