"""Two-parameter continuation: fold and Hopf curves and their codim-2 points."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit import Model
from stabkit.analysis._curve_systems import bialternate
from stabkit.analysis.codim2 import continue_bifurcation_curve
from stabkit.analysis.normal_forms import first_lyapunov_coefficient
from stabkit.analysis.stability import linear_stability
from stabkit.errors import ConvergenceError, InputError
from stabkit.model import library


@pytest.fixture(scope="module")
def cusp() -> Model:
    return Model.from_equations({"x": "b1 + b2*x - x^3"}, parameters={"b1": 0.0, "b2": 1.0})


@pytest.fixture(scope="module")
def bogdanov_takens() -> Model:
    return Model.from_equations(
        {"x": "y", "y": "b1 + b2*x + x^2 - x*y"}, parameters={"b1": 0.0, "b2": 0.0}
    )


def test_bialternate_eigenvalues_are_pair_sums() -> None:
    rng = np.random.default_rng(7)
    for n in (2, 3, 5):
        a = rng.normal(size=(n, n))
        lam = np.linalg.eigvals(a)
        i, j = np.triu_indices(n, 1)
        # same spectrum: same characteristic polynomial
        expected = np.poly(lam[i] + lam[j])
        got = np.poly(bialternate(a))
        np.testing.assert_allclose(got, expected, atol=1e-8 * np.abs(expected).max())


def test_cusp_fold_curve_and_cusp_point(cusp: Model) -> None:
    """Fold curve of x' = b1 + b2 x - x^3 is 4 b2^3 = 27 b1^2 (closed form, independent):
    f = f_x = 0 gives b2 = 3x^2, b1 = -2x^3. The cusp is at (0, 0) with c = -1."""
    x = 1 / np.sqrt(3)
    curve = continue_bifurcation_curve(
        cusp, ("LP", [x], {"b1": -x + x**3, "b2": 1.0}), ("b1", "b2"), to={"b2": (-1.0, 1.2)}
    )
    assert curve.status == "ok", curve.message
    b1, b2 = curve.points.T
    inside = b2 <= 1.2
    np.testing.assert_allclose(4 * b2[inside] ** 3, 27 * b1[inside] ** 2, atol=1e-9)
    np.testing.assert_allclose(curve.states[:, 0] ** 2, b2 / 3, atol=1e-9)
    (cp,) = curve.special("CP")
    assert cp.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    assert cp.coefficients["c"] == pytest.approx(-1.0, rel=1e-6)
    assert [s.kind for s in curve.special_points] == ["CP"]
    # both branches of the wedge are traced: b1 takes both signs
    assert b1.min() < -0.1 and b1.max() > 0.1


def test_brusselator_hopf_curve(cusp: Model) -> None:
    m = library.brusselator()
    curve = continue_bifurcation_curve(
        m, ("H", [1.0, 2.0], {"a": 1.0, "b": 2.0}), ("a", "b"), to={"a": (0.3, 3.0)}
    )
    assert curve.status == "ok", curve.message
    a, b = curve.points.T
    np.testing.assert_allclose(b, 1 + a**2, atol=1e-8)
    np.testing.assert_allclose(curve.states[:, 0], a, atol=1e-8)
    np.testing.assert_allclose(curve.states[:, 1], b / a, atol=1e-8)
    np.testing.assert_allclose(curve.frequency, a, atol=1e-8)  # omega = a on the curve
    np.testing.assert_allclose(
        curve.first_lyapunov, -(a**2 + 2) / (2 * a * (2 * a**2 + 1)), rtol=1e-7
    )
    assert a.min() < 0.31 and a.max() > 2.99
    assert curve.special_points == ()
    # an independent check: the Hopf test crosses zero (bisection on scipy eigenvalues)
    from scipy.optimize import brentq

    def max_real(bb: float, aa: float) -> float:
        from scipy.linalg import eigvals

        jac = np.array([[bb - 1, aa**2], [-bb, -(aa**2)]])
        return float(np.max(eigvals(jac).real))

    for aa, bb in curve.points[::7]:
        if 0.3 <= aa <= 3.0:
            assert brentq(max_real, bb - 0.5, bb + 0.5, args=(aa,), xtol=1e-13) == pytest.approx(
                bb, abs=1e-8
            )
    frame = curve.to_frame()
    assert list(frame.columns[:4]) == ["a", "b", "x", "y"]


def test_bogdanov_takens_on_fold_and_hopf_curves(bogdanov_takens: Model) -> None:
    """x' = y, y' = b1 + b2 x + x^2 - x y: fold curve b1 = b2^2/4 (x = -b2/2), Hopf curve
    b1 = 0, b2 < 0 (x = 0), continuing for b2 > 0 as neutral saddles; BT at (0, 0) with
    a = 1, b = -1."""
    fold = continue_bifurcation_curve(
        bogdanov_takens, ("LP", [0.5, 0.0], {"b1": 0.25, "b2": -1.0}), ("b1", "b2"),
        to={"b2": (-1.5, 1.5)},
    )  # fmt: skip
    b1, b2 = fold.points.T
    np.testing.assert_allclose(b1, b2**2 / 4, atol=1e-9)
    (bt,) = fold.special("BT")
    assert bt.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    assert (bt.coefficients["a"], bt.coefficients["b"]) == pytest.approx((1.0, -1.0), rel=1e-6)
    hopf = continue_bifurcation_curve(
        bogdanov_takens, ("H", [0.0, 0.0], {"b1": 0.0, "b2": -1.0}), ("b1", "b2"),
        to={"b2": (-1.5, 1.5)},
    )  # fmt: skip
    (bt2,) = hopf.special("BT")
    assert bt2.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    np.testing.assert_allclose(hopf.points[:, 0], 0.0, atol=1e-10)
    b2h = hopf.points[:, 1]
    assert np.all(np.isnan(hopf.frequency[b2h > 1e-6]))  # neutral saddles beyond BT
    np.testing.assert_allclose(hopf.frequency[b2h < -1e-6], np.sqrt(-b2h[b2h < -1e-6]))


def test_bautin_point() -> None:
    m = Model.from_equations(
        {
            "x": "b1*x - y + b2*x*(x^2+y^2) - x*(x^2+y^2)^2",
            "y": "x + b1*y + b2*y*(x^2+y^2) - y*(x^2+y^2)^2",
        },
        parameters={"b1": 0.0, "b2": 0.0},
    )
    curve = continue_bifurcation_curve(
        m, ("H", [0.0, 0.0], {"b1": 0.0, "b2": -0.7}), ("b1", "b2"), to={"b2": (-1.0, 1.0)}
    )
    (gh,) = curve.special("GH")
    assert gh.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    assert gh.coefficients["l2"] == pytest.approx(-4.0, rel=1e-8)
    # l1 = 2 b2 along the curve (independent of b1 = 0 there)
    np.testing.assert_allclose(curve.first_lyapunov, 2 * curve.points[:, 1], atol=1e-10)
    assert [s.kind for s in curve.special_points] == ["GH"]
    # l1 = 2 b2 on either side
    for b2 in (-0.5, 0.5):
        assert first_lyapunov_coefficient(m, [0, 0], {"b1": 0.0, "b2": b2}) == pytest.approx(2 * b2)


def test_double_hopf_point() -> None:
    """Two oscillators (frequencies 1 and 2.5) whose growth rates are p1 and p2 + p1/2:
    on the Hopf curve p1 = 0 the second pair crosses at p2 = 0. The quadratic coupling
    x1^2 is non-resonant (frequencies 0, +-2 against 2.5), so p11 = p22 = 2 (-1) and
    p12 = p21 = 0 (with <q, q> = 1, |z|^2 = 2 |w|^2)."""
    m = Model.from_equations(
        {
            "x1": "p1*x1 - y1 - x1*(x1^2+y1^2)",
            "y1": "x1 + p1*y1 - y1*(x1^2+y1^2)",
            "x2": "(p2 + 0.5*p1)*x2 - 2.5*y2 - x2*(x2^2+y2^2) + x1^2",
            "y2": "2.5*x2 + (p2 + 0.5*p1)*y2 - y2*(x2^2+y2^2)",
        },
        parameters={"p1": 0.0, "p2": 0.0},
    )
    curve = continue_bifurcation_curve(
        m, ("H", [0, 0, 0, 0], {"p1": 0.0, "p2": -1.0}), ("p1", "p2"), to={"p2": (-1.0, 1.0)}
    )
    (hh,) = curve.special("HH")
    assert hh.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    # the other Hopf curve p2 = -p1/2 crosses here: the trace stays on p1 = 0
    np.testing.assert_allclose(curve.points[:, 0], 0.0, atol=1e-10)
    assert curve.points[:, 1].min() < -0.99 and curve.points[:, 1].max() > 0.99
    assert (hh.coefficients["omega1"], hh.coefficients["omega2"]) == pytest.approx((2.5, 1.0))
    for key, value in {"p11": -2.0, "p22": -2.0, "p12": 0.0, "p21": 0.0}.items():
        assert hh.coefficients[key] == pytest.approx(value, abs=1e-9), key
    assert hh.located


def test_zero_hopf_on_fold_and_hopf_curves() -> None:
    """An oscillator (growth m1) beside z' = m2 + z^2: fold curve m2 = 0 (z = 0) meets the
    Hopf curve m1 = 0 (z = -sqrt(-m2)) at the zero-Hopf point (0, 0)."""
    m = Model.from_equations(
        {
            "x": "m1*x - y - x*(x^2+y^2) + x*z",
            "y": "x + m1*y - y*(x^2+y^2)",
            "z": "m2 + z^2 + 0.3*x^2",
        },
        parameters={"m1": 0.0, "m2": 0.0},
    )
    fold = continue_bifurcation_curve(
        m, ("LP", [0, 0, 0], {"m1": -1.0, "m2": 0.0}), ("m1", "m2"), to={"m1": (-1.0, 1.0)}
    )
    (zh,) = fold.special("ZH")
    assert zh.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    assert zh.coefficients["omega"] == pytest.approx(1.0)
    # xi = z: b = 1 (z^2), c = 2 * 0.3 (0.3 x^2 = 0.3 (w q + cc)^2 -> 0.3 * 2|q_x|^2 |w|^2 * 2 / 2,
    # q_x = 1/sqrt(2)), d = 1/2 (x z in the x equation: <p, q_x e_x> z w with p_x = q_x)
    assert zh.coefficients["b"] == pytest.approx(1.0, rel=1e-8)
    assert zh.coefficients["c"] == pytest.approx(0.3, rel=1e-8)
    assert zh.coefficients["d_real"] == pytest.approx(0.5, rel=1e-8)
    assert zh.coefficients["s"] == 1.0
    hopf = continue_bifurcation_curve(
        m, ("H", [0, 0, -1.0], {"m1": 0.5, "m2": -1.0}), ("m1", "m2"), to={"m2": (-1.5, 0.5)}
    )
    # on the Hopf curve the trace 2 m1 + z = 0 with z = -sqrt(-m2): 4 m1^2 = -m2
    m1, m2 = hopf.points.T
    np.testing.assert_allclose(4 * m1**2, -m2, atol=1e-9)
    (zh2,) = hopf.special("ZH")
    assert zh2.parameter_values == pytest.approx((0.0, 0.0), abs=1e-7)
    # l1 has a pole at the zero-Hopf point (A^{-1} in its formula): no GH reported there
    for gh in hopf.special("GH"):
        assert np.hypot(*gh.parameter_values) > 1e-3
        x, p = gh.state, gh.params
        assert abs(first_lyapunov_coefficient(m, x, p)) < 1e-8


def test_python_function_model_hopf_curve() -> None:
    def rhs(t, y, p, out):
        a, b = p[0], p[1]
        out[0] = a - (b + 1) * y[0] + y[0] ** 2 * y[1]
        out[1] = b * y[0] - y[0] ** 2 * y[1]

    m = Model.from_function(rhs, variables=["x", "y"], parameters={"a": 1.0, "b": 2.0})
    curve = continue_bifurcation_curve(
        m, ("H", [1.0, 2.0], {"a": 1.0, "b": 2.0}), ("a", "b"), to={"a": (0.7, 1.5)}
    )
    a, b = curve.points.T
    np.testing.assert_allclose(b, 1 + a**2, atol=1e-8)


def test_curve_points_are_bifurcations(cusp: Model) -> None:
    """Property: every point of a Hopf curve has a pair of eigenvalues summing to zero."""
    m = library.brusselator()
    curve = continue_bifurcation_curve(
        m, ("H", [2.0, 2.5], {"a": 2.0, "b": 5.0}), ("a", "b"), to={"b": (2.0, 9.0)}
    )
    for (a, b), state in zip(curve.points, curve.states, strict=True):
        ls = linear_stability(m, state, {"a": a, "b": b}, backend="numpy")
        assert abs(ls.eigenvalues.real).max() < 1e-8


def test_status_and_throw(cusp: Model) -> None:
    from stabkit.analysis._palc import PALC

    x = 1 / np.sqrt(3)
    start = ("LP", [x], {"b1": -x + x**3, "b2": 1.0})
    curve = continue_bifurcation_curve(cusp, start, ("b1", "b2"), method=PALC(max_points=5))
    assert curve.status == "max_points"
    assert "max_points" in curve.message
    assert len(curve) > 5  # both directions kept
    with pytest.raises(ConvergenceError):
        continue_bifurcation_curve(cusp, start, ("b1", "b2"), method=PALC(max_points=5), throw=True)


def test_bad_input(cusp: Model) -> None:
    start = ("LP", [0.5], {"b2": 0.75})
    with pytest.raises(InputError, match="has no parameter"):
        continue_bifurcation_curve(cusp, start, ("b1", "bb2"))
    with pytest.raises(InputError, match="two"):
        continue_bifurcation_curve(cusp, start, ("b1",))
    with pytest.raises(InputError, match="'LP'"):
        continue_bifurcation_curve(cusp, ("BP", [0.5], {}), ("b1", "b2"))
    with pytest.raises(InputError, match="free parameters"):
        continue_bifurcation_curve(cusp, start, ("b1", "b2"), to={"c": (0, 1)})
    with pytest.raises(InputError, match="lo < hi"):
        continue_bifurcation_curve(cusp, start, ("b1", "b2"), to={"b1": (1, 0)})
    with pytest.raises(InputError, match="PALC"):
        continue_bifurcation_curve(cusp, start, ("b1", "b2"), method="palc")
    with pytest.raises(InputError, match="'PD'"):
        continue_bifurcation_curve(
            Model.from_equations({"x": "r*x*(1-x)"}, parameters={"r": 3.0, "s": 0}, kind="map"),
            ("H", [0.5], {}),
            ("r", "s"),
        )


def test_from_a_continued_branch_and_clipped_ends() -> None:
    """End to end: the Hopf point of continue_branch starts the curve; ends lie on the bounds."""
    from stabkit.analysis.continuation import continue_branch

    m = library.brusselator().with_params(a=1.0)
    branch = continue_branch(m, "b", {"x": 1.0, "y": 0.6}, params={"b": 0.6}, to=(0.5, 4.0))
    (h,) = branch.special("H")
    curve = continue_bifurcation_curve(m, h, ("a", "b"), to={"a": (0.4, 2.5)})
    assert curve.status == "ok"
    a, b = curve.points.T
    assert sorted([a[0], a[-1]]) == pytest.approx([0.4, 2.5], abs=1e-12)
    np.testing.assert_allclose(b, 1 + a**2, atol=1e-8)
    assert all("reached the bound a" in reason for reason in curve.end_reasons)


def test_bialternate_gradient_matches_directional_derivative() -> None:
    from stabkit.analysis._curve_systems import bialternate_gradient

    rng = np.random.default_rng(5)
    n = 4
    e = rng.normal(size=(n, n))
    m = n * (n - 1) // 2
    w, v = rng.normal(size=m), rng.normal(size=m)
    grad = bialternate_gradient(w, v, n)
    assert float(np.sum(grad * e)) == pytest.approx(float(w @ bialternate(e) @ v), rel=1e-12)


# ---------------------------------------------------------------------------- maps
def test_henon_flip_and_fold_curves() -> None:
    """Hénon map: fixed points a x^2 + (1 - b) x - 1 = 0, multipliers mu^2 + 2ax mu - b = 0.
    Flip curve a = 3 (1 - b)^2 / 4 (mu = -1, the other multiplier b): 1:2 resonance at
    (3, -1). Fold curve a = -(1 - b)^2 / 4 (mu = 1, the other -b): 1:1 resonance at (-1, -1)."""
    from stabkit.analysis._palc import PALC

    m = library.henon_map()
    b = 0.3
    a_pd = 3 * (1 - b) ** 2 / 4
    x = 2 / (3 * (1 - b))
    flip = continue_bifurcation_curve(
        m, ("PD", [x, b * x], {"a": a_pd, "b": b}), ("a", "b"), to={"b": (-1.5, 0.8)},
        method=PALC(ds_max=0.2),
    )  # fmt: skip
    assert flip.status == "ok", flip.message
    a, bb = flip.points.T
    np.testing.assert_allclose(a, 3 * (1 - bb) ** 2 / 4, atol=1e-9)
    assert [s.kind for s in flip.special_points] == ["R2"]
    assert flip.special_points[0].parameter_values == pytest.approx((3.0, -1.0), abs=1e-8)
    a_lp = -((1 - b) ** 2) / 4
    fold = continue_bifurcation_curve(
        m, ("LP", [-(1 - b) / (2 * a_lp), -b * (1 - b) / (2 * a_lp)], {"a": a_lp, "b": b}),
        ("a", "b"), to={"b": (-1.5, 0.8)}, method=PALC(ds_max=0.2),
    )  # fmt: skip
    a, bb = fold.points.T
    np.testing.assert_allclose(a, -((1 - bb) ** 2) / 4, atol=1e-9)
    (r1,) = fold.special("R1")
    assert r1.parameter_values == pytest.approx((-1.0, -1.0), abs=1e-8)


def test_henon_neimark_sacker_curve_resonances() -> None:
    """At b = -1 (det = 1) the multipliers of the fixed point are exp(+-i theta) with
    cos theta = 1 - sqrt(1 + a): R1 at a = -1, R4 at a = 0, R3 at a = 5/4, R2 at a = 3."""
    from stabkit.analysis._palc import PALC

    m = library.henon_map()
    a = 0.5
    x = (-1 + np.sqrt(1 + a)) / a
    curve = continue_bifurcation_curve(
        m, ("NS", [x, -x], {"a": a, "b": -1.0}), ("a", "b"), to={"a": (-2.0, 4.0)},
        method=PALC(max_points=300, ds_max=0.2),
    )  # fmt: skip
    np.testing.assert_allclose(curve.points[:, 1], -1.0, atol=1e-10)
    found = {s.kind: s.parameter_values[0] for s in curve.special_points}
    expected = {"R1": -1.0, "R4": 0.0, "R3": 1.25, "R2": 3.0}
    assert set(found) == set(expected)
    for kind, value in expected.items():
        assert found[kind] == pytest.approx(value, abs=1e-8), kind
    r3 = curve.special("R3")[0]
    assert r3.coefficients["theta"] == pytest.approx(2 * np.pi / 3, abs=1e-8)
    # past R1 the curve turns onto the other fixed point, whose multipliers are real
    # (a neutral saddle: cos theta = 1 + sqrt(1 + a) > 1, frequency NaN)
    inside = np.isfinite(curve.frequency)
    assert inside.sum() > 10 and np.all(curve.points[inside, 0] < 3.0 + 1e-9)
    np.testing.assert_allclose(
        np.cos(curve.frequency[inside]), 1 - np.sqrt(1 + curve.points[inside, 0]), atol=1e-9
    )


def test_chenciner_and_generalised_flip() -> None:
    """z -> e^{i} ((1 + al) z + be z|z|^2 - z|z|^4): NS curve al = 0 with d = 2 be, so CH at
    be = 0; x -> -(1 + al) x + be x^3 + x^5: flip curve al = 0 with c = be, GPD at be = 0."""
    rot = (
        "cos(1)*((1+al)*{u} + be*{u}*(x^2+y^2) - {u}*(x^2+y^2)^2)"
        " {sign} sin(1)*((1+al)*{v} + be*{v}*(x^2+y^2) - {v}*(x^2+y^2)^2)"
    )
    ns = Model.from_equations(
        {"x": rot.format(u="x", v="y", sign="-"), "y": rot.format(u="y", v="x", sign="+")},
        parameters={"al": 0.0, "be": 0.0},
        kind="map",
    )
    curve = continue_bifurcation_curve(
        ns, ("NS", [0.0, 0.0], {"al": 0.0, "be": -0.5}), ("al", "be"), to={"be": (-1, 1)}
    )
    (ch,) = curve.special("CH")
    assert ch.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)
    np.testing.assert_allclose(curve.frequency, 1.0, atol=1e-12)
    pd = Model.from_equations(
        {"x": "-(1 + al)*x + be*x^3 + x^5"}, parameters={"al": 0.0, "be": 0.0}, kind="map"
    )
    curve = continue_bifurcation_curve(
        pd, ("PD", [0.0], {"al": 0.0, "be": 0.5}), ("al", "be"), to={"be": (-1, 1)}
    )
    (gpd,) = curve.special("GPD")
    assert gpd.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)


def test_result_round_trips(tmp_path, bogdanov_takens: Model) -> None:
    import json

    curve = continue_bifurcation_curve(
        bogdanov_takens, ("H", [0.0, 0.0], {"b1": 0.0, "b2": -1.0}), ("b1", "b2"),
        to={"b2": (-1.0, 0.5)},
    )  # fmt: skip
    data = json.loads(curve.save(tmp_path / "curve.json").read_text())
    assert data["type"] == "BifurcationCurve"
    assert data["special_points"][0]["kind"] == "BT"
    frame = curve.to_frame()
    assert list(frame["special"]).count("BT") == 1
    curve.save(tmp_path / "curve.csv")
    assert "BT" in repr(curve) and "Codim2Point(BT" in repr(curve.special_points[0])
    assert "Hopf in (b1, b2)" in curve._repr_html_()


def test_period_two_points_are_refused() -> None:
    from types import SimpleNamespace

    m = library.logistic_map()
    point = SimpleNamespace(kind="PD", state=np.array([0.5]), params={}, period=2)
    with pytest.raises(InputError, match="period 2"):
        continue_bifurcation_curve(m, point, (m.parameters[0], m.parameters[0] + "x"))


def test_ring_of_brusselators_symmetric_crossing() -> None:
    """Three diffusively coupled Brusselators: the homogeneous Hopf curve is still
    b = 1 + a^2 with l1 = l1_single / 3 (the eigenvector spreads over three cells). A
    double real eigenvalue (two symmetric Turing modes) crosses zero on the way: neither a
    double Hopf nor a zero-Hopf point, and the curve must not jump there."""
    n_cells = 3
    eqs = {}
    for i in range(n_cells):
        j, k = (i + 1) % n_cells, (i - 1) % n_cells
        eqs[f"x{i}"] = f"a - (b+1)*x{i} + x{i}^2*y{i} + d*(x{j} + x{k} - 2*x{i})"
        eqs[f"y{i}"] = f"b*x{i} - x{i}^2*y{i} + 10*d*(y{j} + y{k} - 2*y{i})"
    m = Model.from_equations(eqs, parameters={"a": 1.0, "b": 2.0, "d": 0.1})
    curve = continue_bifurcation_curve(
        m, ("H", [1.0, 2.0] * n_cells, {"a": 1.0, "b": 2.0, "d": 0.1}), ("a", "b"),
        to={"a": (0.5, 1.5)},
    )  # fmt: skip
    a, b = curve.points.T
    np.testing.assert_allclose(b, 1 + a**2, atol=1e-9)
    assert not curve.special("HH")
    l1_single = -(a**2 + 2) / (2 * a * (2 * a**2 + 1))
    # (A^{-1} in l1 is ill-conditioned where the Turing modes cross zero: 1e-4 relative)
    np.testing.assert_allclose(curve.first_lyapunov, l1_single / n_cells, rtol=1e-4)
