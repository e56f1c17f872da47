"""Stability diagrams: regions against closed forms, curves, and a brute-force check."""

from __future__ import annotations

import numpy as np
import pytest

from stabkit import Model
from stabkit.analysis.equilibria import find_equilibria
from stabkit.analysis.stability_diagram import stability_diagram
from stabkit.errors import InputError
from stabkit.model import library


@pytest.fixture(scope="module")
def cusp_diagram():
    m = Model.from_equations({"x": "b1 + b2*x - x^3"}, parameters={"b1": 0.0, "b2": 0.0})
    return m, stability_diagram(
        m, "b1", "b2", ranges={"b1": (-1.0, 1.0), "b2": (-1.0, 2.0)}, resolution=(25, 25)
    )


def test_cusp_regions_match_closed_form(cusp_diagram) -> None:
    """Three equilibria (two stable) inside the wedge 27 b1^2 < 4 b2^3, one outside."""
    _, d = cusp_diagram
    b1, b2 = np.meshgrid(d.p1_values, d.p2_values, indexing="ij")
    disc = 4 * b2**3 - 27 * b1**2
    clear = np.abs(disc) > 0.05  # away from the fold curve itself
    inside = (disc > 0) & clear
    outside = (disc < 0) & clear
    assert np.all(d.num_equilibria[inside] == 3)
    assert np.all(d.num_stable[inside] == 2)
    assert np.all(d.num_equilibria[outside] == 1)
    assert np.all(d.num_stable[outside] == 1)
    assert np.all(d.min_unstable[clear] == 0)
    # per-equilibrium unstable dimensions: the middle one of three is the unstable one
    i, j = np.argwhere(inside)[0]
    np.testing.assert_array_equal(d.unstable_dims[i, j, :3], [0, 1, 0])


def test_cusp_diagram_curves(cusp_diagram) -> None:
    _, d = cusp_diagram
    assert [c.kind for c in d.curves] == ["LP"]
    b1, b2 = d.curves[0].points.T
    keep = (np.abs(b1) <= 1.0) & (b2 <= 2.0)
    np.testing.assert_allclose(4 * b2[keep] ** 3, 27 * b1[keep] ** 2, atol=1e-9)
    (cp,) = d.special_points
    assert cp.kind == "CP"
    assert cp.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)


def test_grid_against_brute_force_search(cusp_diagram) -> None:
    """Independent: a full find_equilibria at a few random cells gives the same states."""
    m, d = cusp_diagram
    rng = np.random.default_rng(11)
    for _ in range(6):
        i, j = rng.integers(0, 25, size=2)
        res = find_equilibria(m, {"b1": d.p1_values[i], "b2": d.p2_values[j]})
        states = sorted(e.state[0] for e in res.equilibria)
        assert d.num_equilibria[i, j] == len(states)
        np.testing.assert_allclose(d.states[i, j, : len(states), 0], states, atol=1e-9)


def test_brusselator_diagram_hopf_curve() -> None:
    d = stability_diagram(
        library.brusselator(), "a", "b", ranges={"a": (0.5, 2.0), "b": (0.5, 5.0)},
        resolution=(20, 20),
    )  # fmt: skip
    a, b = np.meshgrid(d.p1_values, d.p2_values, indexing="ij")
    assert np.all(d.num_equilibria == 1)
    clear = np.abs(b - 1 - a**2) > 0.05
    np.testing.assert_array_equal(d.num_stable[clear], (b < 1 + a**2)[clear].astype(int))
    np.testing.assert_array_equal(d.min_unstable[clear], np.where(b < 1 + a**2, 0, 2)[clear])
    (hopf,) = d.curves
    assert hopf.kind == "H"
    pa, pb = hopf.points.T
    np.testing.assert_allclose(pb, 1 + pa**2, atol=1e-8)
    assert pa.min() <= 0.5 + 1e-9 or pb.min() <= 0.5 + 1e-9
    frame = d.to_frame()
    assert len(frame) == 400
    assert set(frame.columns) >= {"a", "b", "x", "y", "num_unstable", "stable"}


def test_bogdanov_takens_diagram() -> None:
    m = Model.from_equations(
        {"x": "y", "y": "b1 + b2*x + x^2 - x*y"}, parameters={"b1": 0.0, "b2": 0.0}
    )
    d = stability_diagram(
        m, "b1", "b2", ranges={"b1": (-0.5, 0.5), "b2": (-1.0, 1.0)}, resolution=(21, 21)
    )
    kinds = sorted(c.kind for c in d.curves)
    assert kinds == ["H", "LP"]
    bts = [s for s in d.special_points if s.kind == "BT"]
    assert bts and all(s.parameter_values == pytest.approx((0, 0), abs=1e-8) for s in bts)
    # no equilibrium where b1 > b2^2 / 4
    b1, b2 = np.meshgrid(d.p1_values, d.p2_values, indexing="ij")
    none = b1 > b2**2 / 4 + 0.02
    assert np.all(d.num_equilibria[none] == 0)
    assert np.all(d.min_unstable[none] == -1)


def test_logistic_map_diagram() -> None:
    """Logistic map: fixed point 1 - 1/r stable for 1 < r < 3 (0 stable for r < 1); the
    flip curve is r = 3 whatever the (unused) second parameter."""
    m = Model.from_equations(
        {"x": "r*x*(1 - x) + s*0"}, parameters={"r": 2.0, "s": 0.0}, kind="map"
    )
    d = stability_diagram(
        m, "r", "s", ranges={"r": (0.5, 3.5), "s": (0.0, 1.0)}, resolution=(31, 3)
    )
    r = d.p1_values
    assert np.all(d.num_stable[(r > 1.05) & (r < 2.95), 0] == 1)
    assert np.all(d.num_stable[r > 3.05, 0] == 0)
    (flip,) = d.curves
    assert flip.kind == "PD"
    np.testing.assert_allclose(flip.points[:, 0], 3.0, atol=1e-10)


def test_henon_map_diagram() -> None:
    """Fixed points exist for a > -(1 - b)^2 / 4 (fold) and one is stable up to the flip
    curve a = 3 (1 - b)^2 / 4 (|b| < 1)."""
    d = stability_diagram(
        library.henon_map(), "a", "b", ranges={"a": (-0.5, 2.0), "b": (-0.8, 0.8)},
        resolution=(21, 21),
    )  # fmt: skip
    a, b = np.meshgrid(d.p1_values, d.p2_values, indexing="ij")
    fold, flip = -((1 - b) ** 2) / 4, 3 * (1 - b) ** 2 / 4
    clear = (np.abs(a - fold) > 0.05) & (np.abs(a - flip) > 0.05)
    stable = (a > fold) & (a < flip)
    np.testing.assert_array_equal(d.num_stable[clear], stable[clear].astype(int))
    assert np.all(d.num_equilibria[a < fold - 0.05] == 0)
    assert sorted(c.kind for c in d.curves) == ["LP", "PD"]
    for curve in d.curves:
        ca, cb = curve.points.T
        expected = -((1 - cb) ** 2) / 4 if curve.kind == "LP" else 3 * (1 - cb) ** 2 / 4
        np.testing.assert_allclose(ca, expected, atol=1e-9)


def test_plot_smoke(cusp_diagram) -> None:
    import matplotlib

    matplotlib.use("Agg")
    _, d = cusp_diagram
    ax = d.plot()
    texts = [t.get_text() for t in ax.texts]
    assert "2 stable equilibria" in texts and "1 stable equilibrium" in texts
    assert "CP" in texts
    ax2 = d.curves[0].plot()
    assert ax2.get_xlabel() == "b1"


def test_bad_input() -> None:
    m = library.brusselator()
    with pytest.raises(InputError, match="no parameter"):
        stability_diagram(m, "a", "c", ranges={"a": (0, 1), "c": (0, 1)})
    with pytest.raises(InputError, match="ranges"):
        stability_diagram(m, "a", "b", ranges={"a": (0, 1)})
    with pytest.raises(InputError, match="lo < hi"):
        stability_diagram(m, "a", "b", ranges={"a": (1, 0), "b": (0, 1)})
    with pytest.raises(InputError, match="resolution"):
        stability_diagram(m, "a", "b", ranges={"a": (0, 1), "b": (0, 1)}, resolution=(1, 5))


def test_python_function_model() -> None:
    """Finite-difference derivatives, multi-start coarse search, the same regions."""
    from stabkit.analysis.equilibria import MultiStartNewton

    def rhs(t, y, p, out):
        out[0] = p[0] + p[1] * y[0] - y[0] ** 3

    m = Model.from_function(rhs, variables=["x"], parameters={"b1": 0.0, "b2": 0.0})
    d = stability_diagram(
        m, "b1", "b2", ranges={"b1": (-1.0, 1.0), "b2": (-1.0, 2.0)}, resolution=(11, 11),
        bounds={"x": (-3.0, 3.0)}, method=MultiStartNewton(num_starts=12), coarse=(2, 2),
    )  # fmt: skip
    b1, b2 = np.meshgrid(d.p1_values, d.p2_values, indexing="ij")
    disc = 4 * b2**3 - 27 * b1**2
    clear = np.abs(disc) > 0.2
    np.testing.assert_array_equal(d.num_stable[clear], np.where(disc > 0, 2, 1)[clear])
    assert "multi-start" in d.search
    (cp,) = d.special_points
    assert cp.parameter_values == pytest.approx((0.0, 0.0), abs=1e-8)


def test_grid_invariants_and_saving(cusp_diagram, tmp_path) -> None:
    """Per-cell counts agree with the per-equilibrium arrays; the table saves."""
    _, d = cusp_diagram
    valid = d.unstable_dims >= 0
    np.testing.assert_array_equal(valid.sum(axis=2), d.num_equilibria)
    np.testing.assert_array_equal((d.unstable_dims == 0).sum(axis=2), d.num_stable)
    assert np.all(d.num_stable <= d.num_equilibria)
    has = d.num_equilibria > 0
    np.testing.assert_array_equal(
        d.min_unstable[has], np.where(valid, d.unstable_dims, 99).min(axis=2)[has]
    )
    assert np.all(np.isnan(d.states[~valid]))
    path = d.save(tmp_path / "diagram.csv")
    assert path.read_text().splitlines()[0].startswith("b1,b2,x")
    assert "grid" in d._repr_html_()
