"""Curvature benchmark: top Hessian eigenvalue and trace, stabkit against PyHessian,
hessian-eigenthings and scipy ``eigsh``.

Run ``python bench/curvature.py`` (full) or ``--quick`` (smoke run). Writes
``bench/results/curvature.{json,md}`` (``curvature-quick.*`` in quick mode).

Problems (synthetic data, generated here, float32 models as users train them):

* MLP 784-300-100-10 (266,610 parameters), 512 samples, cross-entropy;
* small CNN (two 5x5 convolutions, 8 and 16 channels, on 28x28 inputs), 256 samples;
* a saddle: ``L(w) = (1/2) w^T A w`` with the eigenvalues of ``A`` evenly in ``[-10, 2]``:
  the top eigenvalue is +2 but the largest in magnitude is -10, where power iteration goes.

The reference eigenvalue is stabkit's Lanczos at ``tol=1e-9`` checked against scipy's
``eigsh`` at ``tol=1e-10`` on the same operator. Every method is asked for the top
eigenvalue; a method "reaches a true 1e-3" when its answer is within ``1e-3`` relative of
the reference. Matrix-vector products are counted by wrapping each library's product.
The anchor of the time ratios is PyHessian, the tool the issue names first; all rows run
in one process, one after the other.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _mlp_problem(n: int, seed: int = 0, hidden: tuple[int, int] = (300, 100)) -> tuple[Any, ...]:
    torch.manual_seed(seed)
    h1, h2 = hidden
    model = torch.nn.Sequential(
        torch.nn.Linear(784, h1),
        torch.nn.ReLU(),
        torch.nn.Linear(h1, h2),
        torch.nn.ReLU(),
        torch.nn.Linear(h2, 10),
    )
    x = torch.randn(n, 784)
    teacher = torch.nn.Linear(784, 10)
    y = teacher(x).argmax(dim=1).detach()
    return model, x, y


def _cnn_problem(n: int, seed: int = 1) -> tuple[torch.nn.Module, Any, Any]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 4 * 4, 10),
    )
    x = torch.randn(n, 1, 28, 28)
    y = torch.randint(0, 10, (n,))
    return model, x, y


class _Quadratic(torch.nn.Module):
    """``w -> (1/2) w^T A w`` with ``A`` passed as the batch's inputs."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(d) * 0.1)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.w @ (a @ self.w)


def _negative_problem(d: int = 200, seed: int = 2) -> tuple[Any, Any, Any, Any]:
    """A Hessian with eigenvalues evenly in [-10, 2]: the top one is +2, the largest in
    magnitude -10 (a saddle, as early in training or at a bad minimum)."""
    torch.manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))
    a = ((q * torch.linspace(-10.0, 2.0, d, dtype=torch.float64)) @ q.T).float()
    model = _Quadratic(d)

    def loss(out: torch.Tensor, _y: torch.Tensor) -> torch.Tensor:
        return out

    return model, a, torch.zeros(d), loss


def _ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(out, y)


class _Counter:
    def __init__(self) -> None:
        self.count = 0


def _time(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _stabkit_rows(model: Any, loss: Any, x: Any, y: Any, ref: float, which: str) -> list[dict]:
    from stabkit.learn import hessian_operator, top_eigenvalues

    rows = []
    for tol in (1e-2, 1e-3):

        def run(tol: float = tol) -> Any:
            op = hessian_operator(model, loss, (x, y), check_determinism=False)
            return top_eigenvalues(op, tol=tol, which=which, seed=0)

        r, t = _time(run)
        rows.append(
            {
                "method": f"stabkit Lanczos tol={tol:g}",
                "value": float(r.values[0]),
                "error_bar": float(r.errors[0]),
                "matvecs": int(r.num_matvecs),
                "seconds": t,
                "rel_error": abs(float(r.values[0]) - ref) / abs(ref),
            }
        )
    return rows


def _eigsh_row(model: Any, loss: Any, x: Any, y: Any, ref: float, which: str) -> dict:
    from scipy.sparse.linalg import LinearOperator, eigsh

    from stabkit.learn import hessian_operator

    op = hessian_operator(model, loss, (x, y), check_determinism=False)
    n = op.shape[0]
    lo = LinearOperator((n, n), matvec=op.matvec, dtype=np.float64)
    code = {"largest_algebraic": "LA", "largest_magnitude": "LM"}[which]
    w, t = _time(lambda: eigsh(lo, k=1, which=code, tol=1e-3, v0=np.ones(n)))
    val = float(w[0][0])
    return {
        "method": "scipy eigsh tol=1e-3 (stabkit products)",
        "value": val,
        "error_bar": None,
        "matvecs": int(op.num_matvecs),
        "seconds": t,
        "rel_error": abs(val - ref) / abs(ref),
    }


def _pyhessian_rows(
    model: Any, loss: Any, x: Any, y: Any, ref: float, tols: tuple[float, ...]
) -> list[dict]:
    try:
        from pyhessian.hessian import hessian as PyHessian  # noqa: N812

        ph_hessian_mod = sys.modules["pyhessian.hessian"]
    except ImportError:
        return [{"method": "PyHessian", "skipped": "not installed (pip install pyhessian)"}]
    counter = _Counter()
    original = ph_hessian_mod.hessian_vector_product

    def counted(*a: Any, **k: Any) -> Any:
        counter.count += 1
        return original(*a, **k)

    ph_hessian_mod.hessian_vector_product = counted
    rows = []
    try:
        for tol in tols:
            torch.manual_seed(0)
            counter.count = 0
            (vals, _), t = _time(
                lambda tol=tol: PyHessian(model, loss, data=(x, y), cuda=False).eigenvalues(
                    maxIter=1000, tol=tol
                )
            )
            rows.append(
                {
                    "method": f"PyHessian power iteration tol={tol:g}"
                    + (" (default)" if tol == 1e-3 else ""),
                    "value": float(vals[0]),
                    "error_bar": None,
                    "matvecs": counter.count,
                    "seconds": t,
                    "rel_error": abs(float(vals[0]) - ref) / abs(ref),
                }
            )
    finally:
        ph_hessian_mod.hessian_vector_product = original
    model.train()
    return rows


def _eigenthings_rows(model: Any, loss: Any, x: Any, y: Any, ref: float, which: str) -> list[dict]:
    try:
        import hessian_eigenthings as he
    except ImportError:
        return [{"method": "hessian-eigenthings", "skipped": "not installed"}]

    def loss_fn(m: Any, batch: Any) -> Any:
        return loss(m(batch[0]), batch[1])

    rows = []
    code = {"largest_algebraic": "LA", "largest_magnitude": "LM"}[which]
    for name, run in (
        (
            "lanczos tol=1e-3",
            lambda op: he.lanczos(
                op, k=1, tol=1e-3, which=code, seed=0, max_iter=min(200, op.size - 1)
            ),
        ),
        (
            "power iteration tol=1e-4",
            lambda op: he.power_iteration_one(op, tol=1e-4, seed=0, max_iter=1000),
        ),
    ):
        t_build = time.perf_counter()
        op = he.HessianOperator(model, [(x, y)], loss_fn)
        t_build = time.perf_counter() - t_build
        counter = _Counter()
        original = op.matvec

        def counted(v: Any, original: Any = original, counter: _Counter = counter) -> Any:
            counter.count += 1
            return original(v)

        op.matvec = counted  # type: ignore[method-assign]
        try:
            out, t = _time(lambda op=op, run=run: run(op))
        except Exception as exc:  # a failure of the competitor is a result too
            rows.append({"method": f"hessian-eigenthings {name}", "skipped": f"{exc}"[:120]})
            continue
        if isinstance(out, tuple):
            val = float(out[0])
        else:
            val = float(torch.as_tensor(out.eigenvalues).reshape(-1)[0])
        rows.append(
            {
                "method": f"hessian-eigenthings {name}",
                "value": val,
                "error_bar": None,
                "matvecs": counter.count,
                "seconds": t + t_build,
                "rel_error": abs(val - ref) / abs(ref),
            }
        )
    return rows


def _reference(model: Any, loss: Any, x: Any, y: Any, which: str) -> tuple[float, float]:
    from scipy.sparse.linalg import LinearOperator, eigsh

    from stabkit.learn import hessian_operator, top_eigenvalues

    op = hessian_operator(model, loss, (x, y), check_determinism=False)
    r = top_eigenvalues(op, tol=1e-9, which=which, max_matvecs=200, throw=False)
    n = op.shape[0]
    lo = LinearOperator((n, n), matvec=op.matvec, dtype=np.float64)
    w = eigsh(
        lo, k=1, which={"largest_algebraic": "LA", "largest_magnitude": "LM"}[which], tol=1e-10
    )[0]
    return float(r.values[0]), float(w[0])


def _trace_rows(model: Any, x: Any, y: Any, budget: int, truth_budget: int) -> dict:
    from stabkit.learn import Hutchinson, HutchPlusPlus, hessian_operator, trace_estimate

    op = hessian_operator(model, _ce, (x, y), check_determinism=False)
    truth = trace_estimate(op, HutchPlusPlus(truth_budget), seed=123)
    rows = []
    for method in (HutchPlusPlus(budget), Hutchinson(budget)):
        op = hessian_operator(model, _ce, (x, y), check_determinism=False)
        r, t = _time(lambda op=op, method=method: trace_estimate(op, method, seed=0))
        rows.append(
            {
                "method": f"stabkit {type(method).__name__}({budget})",
                "value": r.estimate,
                "error_bar": r.standard_error,
                "matvecs": r.num_matvecs,
                "seconds": t,
                "rel_error": abs(r.estimate - truth.estimate) / abs(truth.estimate),
            }
        )
    try:
        from pyhessian.hessian import hessian as PyHessian  # noqa: N812

        ph_mod = sys.modules["pyhessian.hessian"]

        counter = _Counter()
        original = ph_mod.hessian_vector_product

        def counted(*a: Any, **k: Any) -> Any:
            counter.count += 1
            return original(*a, **k)

        ph_mod.hessian_vector_product = counted
        try:
            torch.manual_seed(0)
            h = PyHessian(model, _ce, data=(x, y), cuda=False)
            vals, t = _time(lambda: h.trace(maxIter=budget, tol=1e-3))
        finally:
            ph_mod.hessian_vector_product = original
        model.train()
        est = float(np.mean(vals))
        rows.append(
            {
                "method": "PyHessian Hutchinson (tol=1e-3 stop)",
                "value": est,
                "error_bar": None,
                "matvecs": counter.count,
                "seconds": t,
                "rel_error": abs(est - truth.estimate) / abs(truth.estimate),
            }
        )
    except ImportError:
        rows.append({"method": "PyHessian", "skipped": "not installed"})
    try:
        import hessian_eigenthings as he

        op2 = he.HessianOperator(model, [(x, y)], lambda m, b: _ce(m(b[0]), b[1]))
        r2, t = _time(lambda: he.hutch_plus_plus(op2, num_matvecs=budget, seed=0))
        est = float(r2.estimate)
        rows.append(
            {
                "method": f"hessian-eigenthings hutch++({budget})",
                "value": est,
                "error_bar": None,
                "matvecs": budget,
                "seconds": t,
                "rel_error": abs(est - truth.estimate) / abs(truth.estimate),
            }
        )
    except Exception as exc:
        rows.append({"method": "hessian-eigenthings hutch++", "skipped": f"{exc}"[:120]})
    return {
        "truth": truth.estimate,
        "truth_standard_error": truth.standard_error,
        "truth_matvecs": truth.num_matvecs,
        "rows": rows,
    }


def _eig_case(
    name: str, model: Any, loss: Any, x: Any, y: Any, which: str, quick: bool = False
) -> dict:
    ref, ref_eigsh = _reference(model, loss, x, y, which)
    rows = _stabkit_rows(model, loss, x, y, ref, which)
    rows.append(_eigsh_row(model, loss, x, y, ref, which))
    rows += _pyhessian_rows(model, loss, x, y, ref, (1e-3,) if quick else (1e-3, 1e-4, 1e-5))
    rows += _eigenthings_rows(model, loss, x, y, ref, which)
    anchor = next((r for r in rows if r.get("method", "").endswith("(default)")), None)
    for r in rows:
        if "seconds" in r and anchor is not None:
            r["time_vs_pyhessian_default"] = r["seconds"] / anchor["seconds"]
        if "rel_error" in r:
            r["reaches_1e-3"] = bool(r["rel_error"] <= 1e-3)
            r["right_sign"] = bool(np.sign(r["value"]) == np.sign(ref))
    return {
        "problem": name,
        "num_parameters": int(sum(p.numel() for p in model.parameters())),
        "which": which,
        "reference": ref,
        "reference_eigsh": ref_eigsh,
        "rows": rows,
    }


def _fmt(v: Any, spec: str) -> str:
    return "" if v is None else format(v, spec)


def _markdown(results: dict) -> str:
    lines = [
        "## Curvature (`bench/curvature.py`)",
        "",
        f"{results['machine']}; torch {results['torch']}; one process, rows run one after "
        "the other. Time ratios are against PyHessian's default call (tol 1e-3) on the same "
        "problem; every time includes building the operator (PyHessian builds the gradient's "
        "graph in its constructor, stabkit at the first product).",
        "",
    ]
    for case in results["eigen"]:
        lines += [
            f"### Top eigenvalue: {case['problem']} ({case['num_parameters']:,} parameters)",
            "",
            f"Reference {case['reference']:.8g} (stabkit Lanczos tol 1e-9; scipy eigsh "
            f"{case['reference_eigsh']:.8g}).",
            "",
            "| method | value | error bar | rel. error | true 1e-3 | sign | matvecs "
            "| time / PyHessian |",
            "|---|---:|---:|---:|:---:|:---:|---:|---:|",
        ]
        for r in case["rows"]:
            if "skipped" in r:
                lines.append(f"| {r['method']} | skipped: {r['skipped']} | | | | | | |")
                continue
            lines.append(
                f"| {r['method']} | {r['value']:.6g} | {_fmt(r['error_bar'], '.2g')} | "
                f"{r['rel_error']:.1e} | {'yes' if r['reaches_1e-3'] else 'no'} | "
                f"{'right' if r['right_sign'] else 'WRONG'} | {r['matvecs']} | "
                f"{_fmt(r.get('time_vs_pyhessian_default'), '.2f')} |"
            )
        lines.append("")
    tr = results["trace"]
    lines += [
        f"### Trace: {tr['problem']} ({tr['num_parameters']:,} parameters)",
        "",
        f"Truth: Hutch++ with {tr['truth_matvecs']} products, {tr['truth']:.6g} ± "
        f"{tr['truth_standard_error']:.2g}.",
        "",
        "| method | estimate | standard error | rel. error | matvecs | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in tr["rows"]:
        if "skipped" in r:
            lines.append(f"| {r['method']} | skipped: {r['skipped']} | | | | |")
            continue
        lines.append(
            f"| {r['method']} | {r['value']:.6g} | {_fmt(r['error_bar'], '.2g')} | "
            f"{r['rel_error']:.1e} | {r['matvecs']} | {r['seconds']:.2f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems, seconds")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    n_mlp = 64 if args.quick else 512
    n_cnn = 32 if args.quick else 256
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "quick": args.quick,
        "eigen": [],
    }
    hidden = (30, 10) if args.quick else (300, 100)
    model, x, y = _mlp_problem(n_mlp, hidden=hidden)
    label = f"MLP 784-{hidden[0]}-{hidden[1]}-10"
    results["eigen"].append(_eig_case(label, model, _ce, x, y, "largest_algebraic", args.quick))
    if not args.quick:
        model, x, y = _cnn_problem(n_cnn)
        results["eigen"].append(_eig_case("CNN", model, _ce, x, y, "largest_algebraic"))
    model, x, y, loss = _negative_problem(50 if args.quick else 200)
    results["eigen"].append(
        _eig_case(
            "saddle: eigenvalues in [-10, 2]", model, loss, x, y, "largest_algebraic", args.quick
        )
    )
    model, x, y = _cnn_problem(n_cnn)
    trace = _trace_rows(model, x, y, 30 if args.quick else 99, 120 if args.quick else 1500)
    trace.update(problem="CNN", num_parameters=int(sum(p.numel() for p in model.parameters())))
    results["trace"] = trace
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "curvature-quick" if args.quick else "curvature"
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=2, default=float))
    (RESULTS / f"{stem}.md").write_text(_markdown(results))
    print(_markdown(results))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
