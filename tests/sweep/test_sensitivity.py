"""Sobol indices and Morris screening against analytic values.

Oracles: the Ishigami function f = sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3
with a = 7, b = 0.1 has S1 = 0.3139, S2 = 0.4424, S3 = 0, S13 = 0.2437, ST1 = 0.5576,
ST2 = 0.4424, ST3 = 0.2437 (Ishigami and Homma 1990; Saltelli et al. 2008, Global
Sensitivity Analysis, sec. 4.9); for a linear function sum c_i x_i of independent
inputs S_i = ST_i = c_i^2 var_i / sum_j c_j^2 var_j; Morris' mu* on a p = 4 level grid
is the mean of |f(x + Delta e_i) - f(x)| / Delta over the grid pairs, enumerated exactly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from stabkit.errors import InputError
from stabkit.model import library
from stabkit.sweep import Equilibria, LocalPool
from stabkit.sweep.sensitivity import morris_screening, sobol_indices

PI = math.pi
BOUNDS = {"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)}
S1 = [0.3139, 0.4424, 0.0]
ST = [0.5576, 0.4424, 0.2437]


def ishigami(point, a=7.0, b=0.1):
    x1, x2, x3 = point["x1"], point["x2"], point["x3"]
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


@pytest.fixture(scope="module")
def ishigami_sobol():
    return sobol_indices(ishigami, bounds=BOUNDS, num_samples=1024, seed=1, executor="serial")


def test_ishigami_sobol_indices_match_the_analytic_values(ishigami_sobol):
    r = ishigami_sobol
    assert r.ok and r.names == ("x1", "x2", "x3") and r.num_failed == 0
    assert r.num_evaluations == 1024 * 8 and r.num_samples == 1024
    np.testing.assert_allclose(r.first_order, S1, atol=0.03)
    np.testing.assert_allclose(r.total, ST, atol=0.03)
    assert r.second_order is not None
    assert r.second_order[0, 2] == pytest.approx(0.2437, abs=0.05)  # S13 = ST1 - S1
    assert abs(r.second_order[0, 1]) < 0.05 and abs(r.second_order[1, 2]) < 0.05
    # the 95% intervals cover the truth (with a margin for the bootstrap's own noise)
    assert np.all(np.abs(r.first_order - S1) <= 1.5 * r.first_order_conf)
    assert np.all(np.abs(r.total - ST) <= 1.5 * r.total_conf)
    frame = r.to_frame()
    assert list(frame.columns) == ["name", "S1", "S1_conf", "ST", "ST_conf"]


def test_linear_function_indices_are_the_variance_shares():
    c = {"u": 1.0, "v": 2.0, "w": 0.0}
    bounds = {"u": (0.0, 1.0), "v": (-1.0, 1.0), "w": (0.0, 5.0)}
    var = {n: (hi - lo) ** 2 / 12 for n, (lo, hi) in bounds.items()}
    shares = np.array([c[n] ** 2 * var[n] for n in c])
    shares /= shares.sum()

    def f(p):
        return {"y": sum(c[n] * p[n] for n in c), "status": "ok"}

    r = sobol_indices(
        f, bounds=bounds, outcome="y", num_samples=512, second_order=False, executor="serial"
    )
    assert r.second_order is None
    assert "S1 = " in r._repr_html_() and "ST = " in r._repr_html_()
    np.testing.assert_allclose(r.first_order, shares, atol=0.02)
    np.testing.assert_allclose(r.total, shares, atol=0.02)


def test_store_resumes_and_failed_points_drop_their_blocks(tmp_path):
    store = tmp_path / "sobol"
    kwargs = {"bounds": BOUNDS, "num_samples": 64, "second_order": False, "executor": "serial"}
    first = sobol_indices(ishigami, store=store, chunk_size=50, **kwargs)
    again = sobol_indices(ishigami, store=store, chunk_size=50, **kwargs)
    assert first.stats.extra["num_computed"] == 64 * 5
    assert again.stats.extra["num_computed"] == 0 and again.stats.extra["num_reused"] == 64 * 5
    np.testing.assert_array_equal(first.first_order, again.first_order)

    def flaky(p):
        if p["x1"] > 2.5:
            raise ArithmeticError("no value here")
        return ishigami(p)

    r = sobol_indices(flaky, **kwargs)
    assert r.status == "partial" and r.num_failed > 0
    assert 0 < r.num_samples < 64 and "blocks dropped" in r.message
    assert np.all(np.isfinite(r.first_order))


def _exact_morris_mu_star(num_levels=4):
    """mu* of each Ishigami input by enumerating the p-level grid (unit-scale Delta)."""
    levels = np.linspace(-PI, PI, num_levels)
    delta_unit = num_levels / (2 * (num_levels - 1))
    step = round(delta_unit * (num_levels - 1))
    names = list(BOUNDS)
    out = []
    for i in range(3):
        effects = []
        for lo in range(num_levels - step):
            for others in itertools.product(levels, repeat=2):
                x = list(others)
                x.insert(i, levels[lo])
                y = list(others)
                y.insert(i, levels[lo + step])
                fx = ishigami(dict(zip(names, x, strict=True)))
                fy = ishigami(dict(zip(names, y, strict=True)))
                effects.append(abs(fy - fx) / delta_unit)
        out.append(float(np.mean(effects)))
    return np.array(out)


def test_morris_ranks_the_ishigami_inputs_as_the_exact_elementary_effects():
    r = morris_screening(ishigami, bounds=BOUNDS, num_trajectories=100, seed=2, executor="serial")
    exact = _exact_morris_mu_star()
    assert r.ok and r.num_trajectories == 100
    np.testing.assert_allclose(r.mu_star, exact, rtol=0.12)
    assert r.ranking == tuple(np.array(list(BOUNDS))[np.argsort(-exact)])
    assert r.ranking[-1] == "x3"  # least influential, as its total Sobol index says
    # x2 enters additively: its elementary effects do not depend on x1 or x3
    assert r.mu_star[1] == pytest.approx(exact[1], rel=1e-9)
    assert list(r.to_frame().columns) == ["name", "mu", "mu_star", "mu_star_conf", "sigma"]
    assert "mu* = " in r._repr_html_()


def test_model_analysis_brusselator_leading_real_part():
    """Brusselator: the leading real part (b - 1 - a^2)/2 rises with b and falls with a."""
    model = library.get("brusselator")
    r = morris_screening(
        Equilibria(),
        model,
        bounds={"a": (0.8, 1.2), "b": (1.0, 1.4)},
        outcome="max_real_part",
        num_trajectories=3,
        executor="serial",
    )
    assert r.ok
    a_mu, b_mu = r.mu
    assert b_mu > 0 > a_mu
    # where the equilibrium is a focus, d/db = 1/2 per unit b; on the unit scale x 0.4
    assert b_mu == pytest.approx(0.5 * 0.4, rel=1e-6)

    seen = sobol_indices(
        lambda m, p: {"b_seen": m.default_parameter_map()["b"]},
        model,
        bounds={"a": (0.5, 1.0), "b": (1.0, 3.0)},
        outcome="b_seen",
        num_samples=64,
        second_order=False,
        executor="serial",
    )
    np.testing.assert_allclose(seen.first_order, [0.0, 1.0], atol=0.02)
    assert seen.provenance.model_hash == model.content_hash


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"bounds": {}}, "at least one name"),
        ({"bounds": {"x1": (1.0, 1.0)}}, "empty range"),
        ({"bounds": {"x1": (0.0,)}}, "give (lo, hi)"),
        ({"bounds": BOUNDS, "outcome": "valeu"}, "did you mean 'value'"),
        ({"bounds": BOUNDS, "num_samples": 1}, "num_samples"),
    ],
)
def test_sobol_bad_input(kwargs, needle):
    with pytest.raises(InputError, match=None) as info:
        sobol_indices(ishigami, executor="serial", **{"num_samples": 4, **kwargs})
    assert needle in str(info.value)


def test_bad_names_and_morris_settings():
    model = library.get("brusselator")
    with pytest.raises(InputError, match="did you mean 'b'"):
        sobol_indices(Equilibria(), model, bounds={"bb": (1, 2)}, outcome="max_real_part")
    with pytest.raises(InputError, match="even integer"):
        morris_screening(ishigami, bounds=BOUNDS, num_levels=3, executor="serial")
    with pytest.raises(InputError, match="at least 2"):
        morris_screening(ishigami, bounds=BOUNDS, num_trajectories=1, executor="serial")


def test_docstring_examples():
    import doctest

    import stabkit.sweep.sensitivity as mod

    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0


def test_a_process_pool_gives_the_serial_indices():
    """The design travels to the workers (cloudpickle) and comes back in point order."""
    model = library.get("brusselator")
    kwargs = {
        "bounds": {"a": (0.8, 1.2), "b": (1.0, 1.4)},
        "outcome": "max_real_part",
        "num_samples": 16,
        "second_order": False,
    }
    from stabkit.sweep.fast_analyses import LinearStability

    job = LinearStability(_brusselator_equilibrium)
    serial = sobol_indices(job, model, executor="serial", **kwargs)
    pooled = sobol_indices(job, model, executor=LocalPool(2), chunk_size=16, **kwargs)
    np.testing.assert_array_equal(serial.first_order, pooled.first_order)
    np.testing.assert_array_equal(serial.total, pooled.total)


def _brusselator_equilibrium(p):
    return {"x": p["a"], "y": p["b"] / p["a"]}


def test_store_identity_is_stable_across_processes(tmp_path):
    """The job's name in the store has no memory address: a new process resumes the store."""
    import subprocess
    import sys

    code = (
        "import math\n"
        "from stabkit.sweep.sensitivity import sobol_indices\n"
        "f = lambda p: math.sin(p['x']) + 2 * p['y']\n"
        "r = sobol_indices(f, bounds={'x': (0, 3), 'y': (0, 1)}, num_samples=8,\n"
        f"    second_order=False, executor='serial', store={str(tmp_path / 's')!r})\n"
        "print(r.stats.extra['num_computed'], r.stats.extra['num_reused'])\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    assert [r.stdout.split() for r in runs] == [["32", "0"], ["0", "32"]], runs[1].stderr
