"""Property tests of find_equilibria: valid, distinct roots; counts that theory fixes."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stabkit.analysis.equilibria import MultiStartNewton, find_equilibria
from stabkit.analysis.stability import StabilityType
from tests.analysis.conftest import BACKEND
from tests.analysis.test_equilibria import assert_valid


@settings(max_examples=20)
@given(
    sigma=st.floats(1.0, 20.0),
    rho=st.one_of(st.floats(0.05, 0.95), st.floats(1.05, 60.0)),
    beta=st.floats(0.5, 5.0),
)
def test_lorenz_count_and_positions(lorenz, sigma, rho, beta):
    res = find_equilibria(lorenz, {"sigma": sigma, "rho": rho, "beta": beta}, backend=BACKEND)
    assert res.complete
    assert_valid(res)
    if rho < 1:
        assert len(res.equilibria) == 1 and res.equilibria[0].is_stable
    else:
        c = math.sqrt(beta * (rho - 1))
        np.testing.assert_allclose(
            res.states, [[-c, -c, rho - 1], [0, 0, 0], [c, c, rho - 1]], rtol=1e-10, atol=1e-12
        )
        assert res.equilibria[1].classification is StabilityType.SADDLE


@settings(max_examples=15)
@given(a=st.floats(0.5, 6.0), n=st.floats(1.1, 4.0))
def test_toggle_switch_index_theorem(toggle, a, n):
    """On [0, a + 1]^2 the field points inward, so a complete count is odd (index sum 1)."""
    bounds = {"u": (0.0, a + 1.0), "v": (0.0, a + 1.0)}
    res = find_equilibria(toggle, {"a": a, "n": n}, bounds=bounds, backend=BACKEND)
    assert_valid(res)
    if res.complete:
        assert len(res.equilibria) in (1, 3)
        saddles = sum(e.classification is StabilityType.SADDLE for e in res.equilibria)
        assert saddles == (len(res.equilibria) - 1) // 2
    # multi-start never finds an equilibrium the certified search missed
    multi = find_equilibria(
        toggle,
        {"a": a, "n": n},
        bounds=bounds,
        method=MultiStartNewton(num_starts=16, seed=1),
        backend=BACKEND,
    )
    assert_valid(multi)
    if res.complete:
        for x in multi.states:
            assert np.min(np.max(np.abs(res.states - x), axis=1)) < 1e-8
