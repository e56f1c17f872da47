"""Normal-form coefficients against closed forms, simulations and independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit import Model
from stabkit.analysis._multilinear import derivatives_for
from stabkit.analysis.normal_forms import (
    bogdanov_takens_coefficients,
    cusp_coefficient,
    first_lyapunov_coefficient,
    flip_coefficient,
    fold_coefficient,
    hopf_coefficients,
    neimark_sacker_coefficient,
    second_lyapunov_coefficient,
)
from stabkit.errors import InputError
from stabkit.model import library


def brusselator_l1(a: float) -> float:
    r"""Closed form of l1 for the Brusselator at its Hopf point b = 1 + a^2.

    x' = a - (b+1) x + x^2 y, y' = b x - x^2 y; equilibrium (a, b/a). At b = 1 + a^2,
    A = [[a^2, a^2], [-(1+a^2), -a^2]], trace 0, det a^2, so omega = a.
    The only nonlinearity is g = x^2 y (entering as (+g, -g)): g_xx = 2y = 2b/a,
    g_xy = 2x = 2a, g_xxy = 2, so B(u,v) = (1,-1) [2(b/a) u1 v1 + 2a (u1 v2 + u2 v1)],
    C(u,v,w) = (1,-1) 2 (u1 v1 w2 + u1 v2 w1 + u2 v1 w1).
    Unnormalised q~ = (a, i - a) (A q~ = i a q~), adjoint p~ = ((1 + i a)/(2a), i/2) with
    <p~, q~> = 1. Then
      <p~, C(q~, q~, conj q~)>                         = -3 a^2 + i a,
      A^{-1} B(q~, conj q~) = (0, 2/a - 2a),  <p~, B(q~, that)> = 2 - 2 a^2,
      Re <p~, B(conj q~, (2 i a - A)^{-1} B(q~, q~))> = 2 - 2 a^2,
    so Re g21~ = -3a^2 - 2(2 - 2a^2) + (2 - 2a^2) = -(a^2 + 2) and
    l1~ = Re g21~ / (2 omega) = -(a^2 + 2) / (2a). Normalising <q, q> = 1 divides by
    |q~|^2 = 2 a^2 + 1:

        l1 = -(a^2 + 2) / (2 a (2 a^2 + 1))     (supercritical for every a > 0).
    """
    return -(a**2 + 2) / (2 * a * (2 * a**2 + 1))


def hopf_normal_form(c: complex) -> Model:
    """z' = (mu + i) z + c z |z|^2 in Cartesian coordinates z = x + i y."""
    cr, ci = c.real, c.imag
    return Model.from_equations(
        {
            "x": f"mu*x - y + ({cr}*x - ({ci})*y)*(x^2 + y^2)",
            "y": f"x + mu*y + ({ci}*x + ({cr})*y)*(x^2 + y^2)",
        },
        parameters={"mu": 0.0},
    )


@pytest.mark.parametrize("a", [0.5, 1.0, 2.0, 3.0])
def test_brusselator_l1_closed_form(a: float) -> None:
    m = library.brusselator()
    b = 1 + a**2
    l1 = first_lyapunov_coefficient(m, [a, b / a], {"a": a, "b": b})
    assert l1 == pytest.approx(brusselator_l1(a), rel=1e-12)
    assert l1 < 0


def test_brusselator_l1_matches_general_series() -> None:
    """Closed formula (Kuznetsov 5.39) and the order-by-order homological solver agree."""
    a, b = 1.3, 1 + 1.3**2
    omega, (c1,) = hopf_coefficients(library.brusselator(), [a, b / a], {"a": a, "b": b})
    assert omega == pytest.approx(a, rel=1e-12)
    assert c1.real / omega == pytest.approx(brusselator_l1(a), rel=1e-10)


def test_brusselator_cycle_amplitude_matches_normal_form() -> None:
    """Independent check of the normalisation by simulation (pins the factor of two).

    With x = x* + w q + conj(w q) and w' = (lambda(mu)) w + c1 w|w|^2, the cycle has
    |w|^2 = -Re(lambda'(mu)) mu / Re(c1) and x oscillates with half peak-to-peak
    2 |w| |q_x| (to leading order). Here mu = b - (1 + a^2), Re lambda = mu / 2,
    Re c1 = l1 omega. Measuring (half-amplitude)^2 / mu at two small mu and
    extrapolating to mu -> 0 must give 4 |q_x|^2 (1/2) / (-l1 omega); an l1 off by a
    factor of two would be off by 100 %.
    """
    from stabkit import DOP853, solve

    a = 1.0
    m = library.brusselator()
    mus = [0.004, 0.002]
    ratios = []
    l1 = first_lyapunov_coefficient(m, [a, 2.0], {"a": a, "b": 2.0})
    qx = a / np.sqrt(2 * a**2 + 1)
    predicted = 4 * qx**2 * 0.5 / (-l1 * a)
    for mu in mus:
        b = 1 + a**2 + mu
        start = [a + 2 * np.sqrt(mu * predicted) / 2, b / a]
        t_end = 6.0 / mu
        t_eval = np.linspace(t_end - 40.0, t_end, 4001)
        traj = solve(
            m,
            start,
            (0.0, t_end),
            params={"a": a, "b": b},
            method=DOP853(rtol=1e-10, atol=1e-12),
            t_eval=t_eval,
        )
        x = traj["x"]
        half = 0.5 * (x.max() - x.min())
        ratios.append(half**2 / mu)
    extrapolated = 2 * ratios[1] - ratios[0]
    assert extrapolated == pytest.approx(predicted, rel=0.02)
    # the factor-of-two alternative is far off
    assert abs(extrapolated - predicted / 2) > 0.3 * predicted


def test_lorenz_hopf_is_subcritical() -> None:
    sigma, beta = 10.0, 8.0 / 3.0
    rho = sigma * (sigma + beta + 3) / (sigma - beta - 1)
    c = np.sqrt(beta * (rho - 1))
    m = library.lorenz()
    l1 = first_lyapunov_coefficient(m, [c, c, rho - 1], {"sigma": sigma, "beta": beta, "rho": rho})
    assert l1 > 0
    l1_minus = first_lyapunov_coefficient(
        m, [-c, -c, rho - 1], {"sigma": sigma, "beta": beta, "rho": rho}
    )
    assert l1_minus == pytest.approx(l1, rel=1e-10)  # the symmetry (x,y,z) -> (-x,-y,z)


@settings(max_examples=10, deadline=None)
@given(
    cr=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3),
    ci=st.floats(-3, 3),
)
def test_hopf_normal_form_l1(cr: float, ci: float) -> None:
    """z' = (mu + i) z + c z|z|^2 in Cartesian coordinates: with <q, q> = 1 the centre
    coordinate is w = z / sqrt(2), so c1 = 2 c and l1 = 2 Re(c) / omega (omega = 1)."""
    m = hopf_normal_form(complex(cr, ci))
    l1 = first_lyapunov_coefficient(m, [0.0, 0.0])
    assert l1 == pytest.approx(2 * cr, rel=1e-10, abs=1e-12)
    _omega, (c1,) = hopf_coefficients(m, [0.0, 0.0])
    assert c1 == pytest.approx(2 * complex(cr, ci), rel=1e-10, abs=1e-12)


def test_hopf_l1_is_invariant_under_linear_change_of_coordinates() -> None:
    """The flow in coordinates u = M x has the same l1 under the same normalisation only
    up to the scaling of q; with M orthogonal (an isometry) l1 is unchanged."""
    theta = 0.7
    cth, sth = np.cos(theta), np.sin(theta)
    # x = R^T u, f_u = R f_x(R^T u) for z' = (i) z - z|z|^2 + 0.5 i z|z|^2
    xs = f"({cth}*u - ({-sth})*v)"
    ys = f"({-sth}*u + {cth}*v)"
    r2 = f"(({xs})^2 + ({ys})^2)"
    fx = f"(-{ys} + (-1*{xs} - 0.5*{ys})*{r2})"
    fy = f"({xs} + (0.5*{xs} - 1*{ys})*{r2})"
    m = Model.from_equations({"u": f"{cth}*{fx} + ({-sth})*{fy}", "v": f"{sth}*{fx} + {cth}*{fy}"})
    assert first_lyapunov_coefficient(m, [0.0, 0.0]) == pytest.approx(-2.0, rel=1e-10)


def test_bautin_second_lyapunov_coefficient() -> None:
    """z' = (b1 + i) z + b2 z|z|^2 + s z|z|^4: c2 = 4 s with z = sqrt(2) w."""
    for s in (-1.0, 0.5):
        m = Model.from_equations(
            {
                "x": f"b1*x - y + b2*x*(x^2+y^2) + {s}*x*(x^2+y^2)^2",
                "y": f"x + b1*y + b2*y*(x^2+y^2) + {s}*y*(x^2+y^2)^2",
            },
            parameters={"b1": 0.0, "b2": 0.0},
        )
        assert second_lyapunov_coefficient(m, [0.0, 0.0]) == pytest.approx(4 * s, rel=1e-10)
        assert first_lyapunov_coefficient(m, [0.0, 0.0]) == pytest.approx(0.0, abs=1e-12)


def test_fold_coefficient() -> None:
    for a in (2.0, -0.5):
        m = Model.from_equations({"x": f"mu + ({a})*x^2"}, parameters={"mu": 0.0})
        assert fold_coefficient(m, [0.0], {"mu": 0.0}) == pytest.approx(a, rel=1e-14)
    # a fold of a 2-D system: x' = mu - x^2, y' = -y + x^2  (q = (1, 0), p = (1, 0))
    m = Model.from_equations({"x": "mu - x^2", "y": "-y + x^2"}, parameters={"mu": 0.0})
    assert fold_coefficient(m, [0.0, 0.0]) == pytest.approx(-1.0, rel=1e-14)


def test_cusp_and_bogdanov_takens() -> None:
    m = Model.from_equations({"x": "b1 + b2*x - x^3"}, parameters={"b1": 0.0, "b2": 0.0})
    assert cusp_coefficient(m, [0.0]) == pytest.approx(-1.0)
    # cusp with a slaved direction: y' = -y + x^2 feeds back x' = ... + x*y
    m2 = Model.from_equations(
        {"x": "b1 + b2*x + x*y", "y": "-y + x^2"}, parameters={"b1": 0.0, "b2": 0.0}
    )
    # on the centre manifold y = x^2 + ..., so x' = x^3 + ...: c = +1
    assert cusp_coefficient(m2, [0.0, 0.0]) == pytest.approx(1.0, rel=1e-12)
    bt = Model.from_equations(
        {"x": "y", "y": "b1 + b2*x + 2*x^2 + 3*x*y"}, parameters={"b1": 0.0, "b2": 0.0}
    )
    assert bogdanov_takens_coefficients(bt, [0.0, 0.0]) == pytest.approx((2.0, 3.0))


def test_logistic_flip() -> None:
    """x -> r x (1 - x) at r = 3, x* = 2/3: x -> -x + a x^2 with a = -r = -3, b = 0,
    so c = a^2 + b = 9 > 0 (supercritical: the 2-cycle born at r = 3 is stable)."""
    m = Model.from_equations({"x": "r*x*(1 - x)"}, parameters={"r": 3.0}, kind="map")
    assert flip_coefficient(m, [2 / 3]) == pytest.approx(9.0, rel=1e-12)
    # sign check against iteration: just past r = 3 the orbit settles on a 2-cycle close
    # to x*, at distance ~ sqrt((r - 3) * |d mu / d r| / c) (|mu| = |f'| - 1 = r - 2 - 1)
    r = 3.001
    x = 2 / 3 + 1e-3
    for _ in range(200000):
        x = r * x * (1 - x)
    y = r * x * (1 - x)
    xstar = 1 - 1 / r
    assert abs(x - y) > 1e-3  # a genuine 2-cycle, not the fixed point
    half = 0.5 * abs(x - y)
    assert half == pytest.approx(np.sqrt((r - 3) / 9.0), rel=0.05)
    assert abs(0.5 * (x + y) - xstar) < 0.01


def test_delayed_logistic_neimark_sacker() -> None:
    """x' = r x (1 - y), y' = x: fixed point (1 - 1/r, 1 - 1/r), multipliers of modulus
    sqrt(r - 1): Neimark-Sacker at r = 2 with theta = pi/3. d < 0 (supercritical): just
    past r = 2 the orbit settles on a small invariant curve whose size grows like
    sqrt(r - 2)."""
    m = Model.from_equations({"x": "r*x*(1 - y)", "y": "x"}, parameters={"r": 2.0}, kind="map")
    d = neimark_sacker_coefficient(m, [0.5, 0.5])
    assert d < 0
    sizes = []
    for eps in (4e-3, 1e-3):
        r = 2 + eps
        xs = 1 - 1 / r
        x, y = xs + 1e-3, xs
        for _ in range(60000):
            x, y = r * x * (1 - y), x
        pts = []
        for _ in range(3000):
            x, y = r * x * (1 - y), x
            pts.append(np.hypot(x - xs, y - xs))
        sizes.append(max(pts))
        assert min(pts) > 0.3 * max(pts)  # a curve around the fixed point, not the point
    # amplitude ~ sqrt(eps): quadrupling eps doubles it
    assert sizes[0] / sizes[1] == pytest.approx(2.0, rel=0.1)


def test_finite_difference_models_agree_with_symbolic() -> None:
    def rhs(t, y, p, out):
        a, b = p[0], p[1]
        out[0] = a - (b + 1) * y[0] + y[0] ** 2 * y[1]
        out[1] = b * y[0] - y[0] ** 2 * y[1]

    mf = Model.from_function(rhs, variables=["x", "y"], parameters={"a": 1.0, "b": 2.0})
    l1 = first_lyapunov_coefficient(mf, [1.0, 2.0])
    assert l1 == pytest.approx(brusselator_l1(1.0), rel=1e-5)
    with pytest.raises(InputError, match=r"Model\.from_equations"):
        second_lyapunov_coefficient(mf, [1.0, 2.0])


def test_multilinear_forms_against_tensor_einsum() -> None:
    m = library.lorenz()
    d = derivatives_for(m)
    rng = np.random.default_rng(3)
    x = rng.normal(size=3)
    p = m.param_vector()
    u, v, w = (rng.normal(size=3) + 1j * rng.normal(size=3) for _ in range(3))
    t2 = d.tensor(x, p, 2)
    np.testing.assert_allclose(d.form(x, p, u, v), np.einsum("ijk,j,k->i", t2, u, v))
    np.testing.assert_allclose(d.form(x, p, u, v), d.form(x, p, v, u))
    assert np.all(d.form(x, p, u, v, w) == 0)
    assert d.is_zero(3)


def test_bad_input() -> None:
    m = library.brusselator()
    with pytest.raises(InputError, match="no complex pair"):
        first_lyapunov_coefficient(m, [1.0, 5.0], {"a": 1.0, "b": 5.0})
    with pytest.raises(InputError, match="parameter"):
        fold_coefficient(m, [1.0, 1.0], {"nope": 1.0})
    with pytest.raises(InputError, match="maps"):
        flip_coefficient(m, [1.0, 2.0])
    with pytest.raises(InputError, match="neimark_sacker_coefficient"):
        first_lyapunov_coefficient(
            Model.from_equations({"x": "r*x*(1-y)", "y": "x"}, parameters={"r": 2.0}, kind="map"),
            [0.5, 0.5],
        )
    with pytest.raises(InputError, match="order"):
        hopf_coefficients(m, [1.0, 2.0], order=4)


def _transformed(rhs: dict[str, str], quadratic: dict[str, str], params: dict[str, float]) -> Model:
    """The system in coordinates y with x = y + Q(y), Q strictly triangular (x_i depends on
    y_j, j > i, only), so that dy/dt = (I + DQ)^{-1} f(y + Q(y)) is again polynomial."""
    import sympy

    names = list(rhs)
    ys = sympy.symbols(names)
    local = {n: s for n, s in zip(names, ys, strict=True)} | {k: sympy.Symbol(k) for k in params}
    q = sympy.Matrix([sympy.sympify(quadratic.get(n, "0"), locals=local) for n in names])
    subs = {s: s + qi for s, qi in zip(ys, q, strict=True)}
    f = sympy.Matrix([sympy.sympify(rhs[n], locals=local).xreplace(subs) for n in names])
    nil = q.jacobian(sympy.Matrix(ys))
    inverse = sympy.eye(len(names))
    power = sympy.eye(len(names))
    for _ in range(len(names)):
        power = -power * nil
        inverse += power
    new = inverse * f
    return Model.from_equations(
        {n: str(e) for n, e in zip(names, new, strict=True)}, parameters=params
    )


def test_l1_invariant_under_nonlinear_change_of_coordinates() -> None:
    """x = y + Q(y) with Q quadratic changes B (and so the h-vectors), not l1."""
    base = {"x": "-y - x*(x**2 + y**2)", "y": "x - y*(x**2 + y**2)"}
    m = _transformed(base, {"x": "0.7*y**2"}, {})
    assert not derivatives_for(m).is_zero(2)
    assert first_lyapunov_coefficient(m, [0.0, 0.0]) == pytest.approx(-2.0, rel=1e-10)
    omega, (c1,) = hopf_coefficients(m, [0.0, 0.0])
    assert c1.real / omega == pytest.approx(-2.0, rel=1e-10)


def test_double_hopf_coefficients() -> None:
    """z1' = 2i z1 + a11 z1|z1|^2 + a12 z1|z2|^2, z2' = i z2 + a21 z2|z1|^2 + a22 z2|z2|^2
    in Cartesian coordinates: with <q, q> = 1 each |z_k|^2 = 2|w_k|^2, so p_jk = 2 a_jk.
    The same after a quadratic change of coordinates (no resonant quadratic terms at a
    non-resonant double Hopf point, so the cubic coefficients are unique)."""
    from stabkit.analysis.normal_forms import double_hopf_coefficients

    a = {"a11": -1.0, "a12": 0.5, "a21": -2.0, "a22": 0.25}
    base = {
        "x1": "-2*y1 + x1*(a11*(x1**2 + y1**2) + a12*(x2**2 + y2**2))",
        "y1": "2*x1 + y1*(a11*(x1**2 + y1**2) + a12*(x2**2 + y2**2))",
        "x2": "-y2 + x2*(a21*(x1**2 + y1**2) + a22*(x2**2 + y2**2))",
        "y2": "x2 + y2*(a21*(x1**2 + y1**2) + a22*(x2**2 + y2**2))",
    }
    expected = {k.replace("a", "p"): 2 * v for k, v in a.items()}
    for quadratic in ({}, {"x1": "0.5*x2*y2", "y1": "x2**2"}):
        m = _transformed(base, quadratic, a)
        got = double_hopf_coefficients(m, [0.0] * 4)
        assert (got["omega1"], got["omega2"]) == pytest.approx((2.0, 1.0))
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
        assert got["theta"] == pytest.approx(0.5 / 0.25)
        assert got["delta"] == pytest.approx(-2.0 / -1.0)


def test_zero_hopf_coefficients_and_generic_solver_agree_with_closed_forms() -> None:
    from stabkit.analysis.normal_forms import zero_hopf_coefficients

    m = Model.from_equations(
        {
            "u": "-1.5*u^2 + 0.5*(x^2 + y^2) + u*x",
            "x": "-2*y + 0.25*u*x - 0.75*u*y",
            "y": "2*x + 0.75*u*x + 0.25*u*y",
        }
    )
    got = zero_hopf_coefficients(m, [0.0, 0.0, 0.0])
    # the u*x term is non-resonant (u x = u (w q + conj) projects on xi w, no xi-equation
    # term in xi, w conj w), so it does not change b, c, d: b = -1.5, c = 2*0.5, d = 0.25+0.75i
    assert got["omega"] == pytest.approx(2.0)
    assert (got["b"], got["c"]) == pytest.approx((-1.5, 1.0), rel=1e-12)
    assert (got["d_real"], got["d_imag"]) == pytest.approx((0.25, 0.75), rel=1e-12)
    assert got["s"] == -1.0
    assert got["theta"] == pytest.approx(0.25 / -1.5)


@pytest.mark.parametrize(
    "module",
    [
        "stabkit.analysis.normal_forms",
        "stabkit.analysis._nf_codim2",
        "stabkit.analysis.codim2",
        "stabkit.analysis.stability_diagram",
    ],
)
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=15, deadline=None)
@given(
    a=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-2),
    c=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-2),
    k=st.floats(0.2, 3.0),
)
def test_fold_and_cusp_coefficients_of_planar_normal_forms(a: float, c: float, k: float) -> None:
    """x' = a x^2 + c x^3, y' = -k y + x^2 has fold coefficient a (q = p = e_x). With
    the x^2 term replaced by x y, the centre manifold y = x^2 / k + ... feeds back, and
    x' = (c + 1/k) x^3: the cusp coefficient (through h2 = A^{-1}(...) = (0, 2/k))."""
    m = Model.from_equations({"x": f"({a})*x^2 + ({c})*x^3", "y": f"-({k})*y + x^2"})
    assert fold_coefficient(m, [0.0, 0.0]) == pytest.approx(a, rel=1e-12)
    m0 = Model.from_equations({"x": f"({c})*x^3 + x*y", "y": f"-({k})*y + x^2"})
    # centre manifold y = x^2 / k + ...: x' = (c + 1/k) x^3
    assert cusp_coefficient(m0, [0.0, 0.0]) == pytest.approx(c + 1 / k, rel=1e-10)


def test_l2_invariant_under_nonlinear_change_of_coordinates() -> None:
    """At a Bautin point (l1 = 0) l2 does not depend on the coordinates: the quadratic
    change x = u + 0.5 v^2 brings quadratic and cubic terms (and so every h-vector up to
    fourth order into play) but must give l2 = 4 s again."""
    base = {
        "x": "-y - x*(x**2 + y**2)**2",
        "y": "x - y*(x**2 + y**2)**2",
    }
    m = _transformed(base, {"x": "0.5*y**2"}, {})
    assert not derivatives_for(m).is_zero(2)
    assert first_lyapunov_coefficient(m, [0.0, 0.0]) == pytest.approx(0.0, abs=1e-12)
    assert second_lyapunov_coefficient(m, [0.0, 0.0]) == pytest.approx(-4.0, rel=1e-9)
