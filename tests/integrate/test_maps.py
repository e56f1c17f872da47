"""Maps are iterated exactly: iterates equal a plain Python loop bit for bit.

The loops below evaluate each right-hand side with the same operations in the same
order as the generated code (``-a*(x*x) + y + 1`` for Henon, ``(r*x)*(1 - x)`` for the
logistic map), so equality is exact, not approximate. The logistic map at r = 2 also
has a closed form, x_n = (1 - (1 - 2 x0)^(2^n)) / 2.
"""

from __future__ import annotations

import numpy as np
import pytest

from stabkit.errors import InputError
from stabkit.integrate.methods import Dopri5, Event
from stabkit.integrate.solve import solve, solve_ensemble
from stabkit.integrate.trajectory import MemberStatus


def henon_orbit(x, y, a, b, n):
    out = [(x, y)]
    for _ in range(n):
        x, y = -a * (x * x) + y + 1.0, b * x
        out.append((x, y))
    return np.array(out)


def logistic_orbit(x, r, n):
    out = [x]
    for _ in range(n):
        x = r * x * (1.0 - x)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_henon_iterates_equal_a_python_loop(henon_map, backend):
    traj = solve(henon_map, [0.1, 0.0], (0, 200), backend=backend)
    assert traj.member_status is MemberStatus.OK
    np.testing.assert_array_equal(traj.t, np.arange(201.0))
    np.testing.assert_array_equal(traj.y, henon_orbit(0.1, 0.0, 1.4, 0.3, 200))
    assert traj.stats.num_steps == 200 and traj.stats.num_rhs_evaluations == 200
    assert traj.provenance.method == "exact map iteration"


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_logistic_map_iterates_exactly(logistic_map, backend):
    traj = solve(logistic_map, [0.1], (0, 30), backend=backend)
    np.testing.assert_array_equal(traj.y[:, 0], logistic_orbit(0.1, 2.0, 30))
    n = np.arange(31)
    closed = (1.0 - 0.8 ** (2.0**n)) / 2.0
    np.testing.assert_allclose(traj.y[:, 0], closed, rtol=1e-15, atol=1e-16)
    chaotic = solve(logistic_map, [0.2], (0, 100), params={"r": 3.9}, backend=backend)
    np.testing.assert_array_equal(chaotic.y[:, 0], logistic_orbit(0.2, 3.9, 100))


def test_selected_iterates_and_a_later_start(henon_map):
    t = [3, 10, 11, 50]
    traj = solve(henon_map, [0.1, 0.0], (3, 50), t_eval=t, backend="numpy")
    orbit = henon_orbit(0.1, 0.0, 1.4, 0.3, 47)  # starts at n = 3
    np.testing.assert_array_equal(traj.y, orbit[[0, 7, 8, 47]])
    np.testing.assert_array_equal(traj.t, t)


def test_map_ensemble_members_iterate_alone(henon_map):
    y0s = np.array([[0.1, 0.0], [0.0, 0.2], [10.0, 0.0]])
    ens = solve_ensemble(henon_map, y0s, (0, 40), t_eval=np.arange(41))
    for i in (0, 1):
        np.testing.assert_array_equal(ens.y[i], henon_orbit(*y0s[i], 1.4, 0.3, 40))
    # from x0 = 10 the orbit escapes: |x| passes 1e100 after a few iterations
    assert ens.member_status.tolist()[:2] == [MemberStatus.OK, MemberStatus.OK]
    assert ens.member_status[2] == MemberStatus.DIVERGED
    assert ens.status == "partial" and ens.t_final[2] < 12
    escaped = int(ens.t_final[2])
    assert np.abs(ens.y[2, escaped, 0]) > 1e100 and np.all(np.isnan(ens.y[2, escaped + 1 :]))
    np.testing.assert_array_equal(ens.t_final[:2], [40.0, 40.0])


def test_map_ensemble_over_parameters(logistic_map):
    r = np.array([2.0, 3.2, 3.9])
    ens = solve_ensemble(logistic_map, [0.2], (0, 25), params={"r": r}, backend="numpy")
    for i, ri in enumerate(r):
        assert ens.y[i, -1, 0] == logistic_orbit(0.2, ri, 25)[-1]


BAD = [
    (lambda m: solve(m, method=Dopri5()), r"is a map, which is iterated exactly; leave method"),
    (lambda m: solve(m, t_span=(0.0, 10.5)), r"a map is iterated a whole number of times"),
    (lambda m: solve(m, t_span=(0, 10), t_eval=[0.5, 2]), r"whole iteration numbers"),
    (lambda m: solve(m, events=[Event("x")]), r"is a map, and maps have no continuous time"),
    (lambda m: solve_ensemble(m, method=Dopri5()), r"leave method=None"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_map_input_errors(henon_map, call, message):
    with pytest.raises(InputError, match=message):
        call(henon_map)
