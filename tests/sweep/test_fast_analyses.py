"""LinearStability and NewtonStability: analytic eigenvalues, the Equilibria analysis as a
second computation, residual and convergence statuses, no recompiles across parameters.

Oracles: Brusselator equilibrium (a, b/a) with trace b - 1 - a^2 and determinant a^2;
logistic map fixed point 1 - 1/r with multiplier 2 - r; Lorenz C+ =
(+-sqrt(beta (rho - 1)), same, rho - 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.errors import InputError
from stabkit.model import library
from stabkit.model.model import Model
from stabkit.sweep import Equilibria, sweep
from stabkit.sweep.fast_analyses import LinearStability, NewtonStability

BRUSSELATOR = library.get("brusselator")


def brusselator_equilibrium(p):
    return {"x": p["a"], "y": p["b"] / p["a"]}


def _leading(a, b):
    t = b - 1.0 - a**2
    disc = t**2 - 4.0 * a**2
    return t / 2 if disc < 0 else (t + math.sqrt(disc)) / 2


@settings(max_examples=30, deadline=None)
@given(st.floats(0.2, 3.0), st.floats(0.0, 6.0))
def test_linear_stability_leading_real_part_is_analytic(a, b):
    m = BRUSSELATOR.with_params(a=a, b=b)
    out = LinearStability(brusselator_equilibrium)(m, {"a": a, "b": b})
    assert "status" not in out  # a true equilibrium: no status override
    assert out["max_real_part"] == pytest.approx(_leading(a, b), abs=1e-10)
    assert out["stable"] == (b < 1 + a**2)
    assert out["eq_x"] == a and out["residual"] < 1e-12


def test_grid_sweep_agrees_with_the_equilibria_analysis():
    over = {"a": (0.6, 1.6, 3), "b": (0.5, 3.5, 3)}
    fast = sweep(
        LinearStability(brusselator_equilibrium), BRUSSELATOR, over=over, executor="serial"
    )
    full = sweep(Equilibria(), BRUSSELATOR, over=over, executor="serial")
    np.testing.assert_allclose(fast.table["max_real_part"], full.table["max_real_part"], atol=1e-9)
    assert (fast.table["stable"].astype(int) == full.table["num_stable"]).all()


def test_a_wrong_equilibrium_is_reported_not_trusted():
    out = LinearStability(lambda p: {"x": 1.0, "y": 1.0})(
        BRUSSELATOR.with_params(a=1.0, b=3.0), {"b": 3.0}
    )
    assert out["status"] == "not_equilibrium" and out["residual"] == pytest.approx(2.0)


def test_newton_on_a_map_and_a_three_dimensional_flow():
    logistic = library.get("logistic_map")
    for r in (2.5, 2.9, 3.2):
        m = logistic.with_params(r=r)
        out = NewtonStability(start={"x": 0.5})(m, {"r": r})
        assert out["status"] == "ok" and out["eq_x"] == pytest.approx(1 - 1 / r, abs=1e-12)
        assert out["max_real_part"] == pytest.approx(abs(2 - r) - 1, abs=1e-10)  # |mult| - 1
        assert out["stable"] == (r < 3)
    lorenz = library.get("lorenz").with_params(rho=20.0)
    out = NewtonStability(start=lambda p: [7.0, 7.0, 18.0])(lorenz, {"rho": 20.0})
    c = math.sqrt(8 / 3 * 19)
    assert out["status"] == "ok" and out["iterations"] < 10
    assert [out["eq_x"], out["eq_y"], out["eq_z"]] == pytest.approx([c, c, 19.0], abs=1e-10)
    # C+ is stable below rho_H = sigma (sigma + beta + 3) / (sigma - beta - 1) = 24.74
    assert out["stable"]


def test_newton_reports_failure_in_the_status():
    m = Model.from_equations(
        {"x": "x^2 + c"}, parameters={"c": 1.0}, variables={"x": 0.5}, name="noroot"
    )
    out = NewtonStability(max_iter=20)(m, {})
    assert out["status"] in {"not_converged", "singular"} and out["message"]
    m0 = Model.from_equations(
        {"x": "c * x^2"}, parameters={"c": 1.0}, variables={"x": 0.0}, name="flat"
    )
    assert NewtonStability()(m0, {})["status"] == "singular"


def test_parameter_changes_do_not_recompile(monkeypatch):
    calls = []
    original = Model.compile

    def counting(self, **kw):
        calls.append(1)
        return original(self, **kw)

    monkeypatch.setattr(Model, "compile", counting)
    from stabkit.sweep import fast_analyses

    monkeypatch.setattr(fast_analyses, "_KERNELS", {})
    ls = LinearStability(brusselator_equilibrium)
    r = sweep(ls, BRUSSELATOR, over={"b": (0.0, 4.0, 50)}, executor="serial", chunk_size=50)
    assert r.ok and len(calls) == 1


def test_repr_is_stable_and_bad_input_is_refused():
    text = repr(LinearStability(brusselator_equilibrium))
    assert "0x" not in text and "brusselator_equilibrium[" in text
    assert "0x" not in repr(NewtonStability(start={"x": 1.0, "y": 2.0}))
    with pytest.raises(InputError, match="need a function"):
        LinearStability({"x": 1.0})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="max_iter"):
        NewtonStability(max_iter=0)
    with pytest.raises(InputError, match="2 variables"):
        LinearStability(lambda p: [1.0])(BRUSSELATOR, {})
    with pytest.raises(InputError, match="lacks"):
        NewtonStability(start={"x": 1.0})(BRUSSELATOR, {})


def test_docstring_examples():
    import doctest

    import stabkit.sweep.fast_analyses as mod

    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted >= 4
