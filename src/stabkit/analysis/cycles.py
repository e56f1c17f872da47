"""Periodic orbits of flows: collocation, Floquet multipliers, continuation, bifurcations.

:func:`find_cycle` computes one periodic orbit by orthogonal collocation at Gauss points
with the period as an unknown, an integral phase condition and an adaptive mesh, and its
Floquet multipliers from the block structure of the collocation system.
:func:`continue_cycles` follows a branch of cycles in a parameter by pseudo-arclength
continuation, starting from a cycle, from a Hopf point or from a period-doubling point,
and locates folds of cycles (LPC), period doublings (PD) and Neimark-Sacker points (NS).
:func:`switch_period_doubling` starts the doubled cycle at a PD point.

References: E. J. Doedel, H. B. Keller and J. P. Kernevez, Numerical analysis and control
of bifurcation problems (II), Int. J. Bifurcation Chaos 1 (1991) 745-772; Yu. A. Kuznetsov,
*Elements of Applied Bifurcation Theory*, 3rd ed., Springer 2004, ch. 10; A. Dhooge,
W. Govaerts and Yu. A. Kuznetsov, MatCont, ACM TOMS 29 (2003) 141-164.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stabkit.analysis._collocation import resample
from stabkit.analysis._cycle_branch import CycleBranch, CycleSpecialPoint
from stabkit.analysis._cycle_common import (
    check_flow,
    check_parameter,
    compile_flow,
    cycle_from_point,
    fail_result,
    param_map,
    parse_to,
)
from stabkit.analysis._cycle_homotopy import guess_from_hopf, orient
from stabkit.analysis._cycle_solve import (
    Collocation,
    Cycle,
    SolvedCycle,
    build_cycle,
    solve_cycle,
    uniform_nodes,
)
from stabkit.analysis._cycle_start import (
    Guess,
    circle_nodes,
    guess_from_samples,
    guess_from_trajectory,
    hopf_data,
    hopf_params,
    is_hopf_like,
)
from stabkit.analysis._cycle_trace import TraceOutcome, doubled_start, trace_cycles
from stabkit.analysis._palc import PALC
from stabkit.errors import ConvergenceError, InputError
from stabkit.model.model import Model
from stabkit.results import Provenance, Stats

__all__ = [
    "Collocation",
    "Cycle",
    "CycleBranch",
    "CycleSpecialPoint",
    "continue_cycles",
    "find_cycle",
    "switch_period_doubling",
]

ParamsLike = Mapping[str, float] | Sequence[float] | np.ndarray | None


def find_cycle(
    model: Model,
    params: ParamsLike = None,
    *,
    start: Any,
    method: Collocation | None = None,
    backend: str = "numba",
    throw: bool = False,
) -> Cycle:
    r"""Compute a periodic orbit of a flow by collocation, with its Floquet multipliers.

    The orbit x(t) = x(t + T) is sought as u(tau) = x(tau T) on [0, 1]:

    .. math:: u' = T f(u, p), \quad u(0) = u(1), \quad \int_0^1 \langle u, v' \rangle d\tau = 0,

    with v the start (the phase condition fixes the shift along the orbit). The profile is
    piecewise polynomial of degree m on N mesh intervals, collocated at Gauss points.

    Parameters
    ----------
    model
        A flow (kind ``"ode"``), symbolic (exact Jacobian) or from Python functions.
    params
        Parameter values (mapping overriding defaults, or all in model order); ``None``:
        the start's own parameters (a trajectory's, a cycle's) or the model's defaults.
    start
        One of: a :class:`~stabkit.integrate.trajectory.Trajectory` that has settled on
        the cycle (the period is read off the returns to a Poincare section through its
        last point over its second half); a :class:`Cycle` (re-solved at ``params``);
        ``(times, states)`` samples of one period, shapes ``(k,)`` and ``(k, n)``; or a
        Hopf point: an object with ``kind`` ``"H"``, ``state`` and its parameter values
        (``params``, or ``parameter`` and ``parameter_value``), such as a special point of
        :func:`~stabkit.continue_branch`; the cycle is then followed from the small circle
        of the critical eigenvector at the Hopf point to ``params`` (which must differ).
    method
        :class:`Collocation` settings; default ``Collocation()``.
    backend
        ``"numba"`` or ``"numpy"`` kernels.
    throw
        Raise :class:`~stabkit.errors.ConvergenceError` when no cycle was found.

    Returns
    -------
    Cycle
        ``status`` ``"ok"``, or ``"newton_failed"``, ``"no_return"`` (the trajectory is not
        periodic), ``"equilibrium"`` (the start, or Newton's limit, is an equilibrium),
        ``"not_reached"`` (from a Hopf point: the cycles do not reach ``params``),
        ``"bad_period"`` (Newton's limit has a period <= 0), with the reason in ``message``;
        a failed search keeps its last iterate in ``states`` and ``period``.

    Raises
    ------
    InputError
        A model that is not a flow, an unknown parameter, a start of another type, a
        Hopf point that is not one, or ``params`` equal to the Hopf point's.

    References
    ----------
    C. de Boor and B. Swartz, Collocation at Gaussian points, SIAM J. Numer. Anal. 10
    (1973) 582-606; E. J. Doedel, H. B. Keller and J. P. Kernevez, Int. J. Bifurcation
    Chaos 1 (1991) 745-772 (the AUTO and MatCont method).

    Examples
    --------
    >>> from stabkit.model import library
    >>> import numpy as np
    >>> t = np.linspace(0.0, 2 * np.pi, 50)
    >>> c = find_cycle(library.van_der_pol(mu=1.0), start=(t, np.c_[2 * np.cos(t), -2 * np.sin(t)]),
    ...                backend="numpy")
    >>> round(c.period, 8), c.stable
    (6.66328686, True)
    """
    t_start = time.perf_counter()
    model = check_flow(model, "find_cycle")
    method = Collocation() if method is None else method
    if not isinstance(method, Collocation):
        raise InputError(f"find_cycle(method={method!r}): expected Collocation(...)")
    compiled, compile_time, source = compile_flow(model, backend)
    n = model.num_variables
    hopf = None
    from stabkit.integrate.trajectory import Trajectory

    if isinstance(start, Trajectory):
        p = model.param_vector(params if params is not None else dict(start.provenance.params))
        guess = guess_from_trajectory(
            model, compiled, start.t, start.y, p, method.num_intervals, method.degree, backend
        )
    elif isinstance(start, Cycle):
        p = model.param_vector(params if params is not None else dict(start.params))
        if start.states.size == 0:
            raise InputError(f"find_cycle(start=Cycle): the cycle is empty ({start.message})")
        guess = Guess("ok", "", start.mesh, start.states, start.period)
    elif is_hopf_like(start):
        if params is None:
            raise InputError(
                "find_cycle(start=Hopf point): give params beyond the Hopf point (at the "
                "point itself the cycle has zero amplitude), or use continue_cycles"
            )
        p = model.param_vector(params)
        hopf = start
        guess = Guess("ok", "")
    elif isinstance(start, (tuple, list)) and len(start) == 2:
        p = model.param_vector(params)
        guess = guess_from_samples(start[0], start[1], n, method.num_intervals, method.degree)
    else:
        raise InputError(
            f"find_cycle(start={type(start).__name__}): expected a Trajectory, a Cycle, "
            "(times, states) samples of one period, or a Hopf point (kind 'H')"
        )
    provenance = Provenance(
        model_hash=model.content_hash, analysis="find_cycle", method=repr(method),
        params=param_map(model, p),
    )  # fmt: skip

    def stats_now(solved: SolvedCycle | None = None, extra: dict[str, Any] | None = None) -> Stats:
        return Stats(
            num_steps=solved.iterations if solved else 0,
            num_rhs_evaluations=solved.num_rhs if solved else 0,
            num_jacobian_evaluations=solved.num_jac if solved else 0,
            num_lu_decompositions=solved.num_factorisations if solved else 0,
            wall_time=time.perf_counter() - t_start - compile_time,
            compile_time=compile_time,
            extra=extra or {},
        )

    if hopf is not None:
        guess = guess_from_hopf(model, compiled, hopf, p, method)
    elif guess.status == "ok":
        guess = orient(compiled, guess, p)
    if guess.status != "ok":
        return fail_result(model, guess, p, method, provenance, stats_now(), source, throw)
    solved = solve_cycle(compiled, p, guess.mesh, guess.nodes, guess.period, method)
    cycle = build_cycle(
        solved, variables=model.variables, params=param_map(model, p), degree=method.degree,
        provenance=provenance, stats=stats_now(solved), jacobian_source=source,
    )  # fmt: skip
    if throw and cycle.status != "ok":
        raise ConvergenceError(f"find_cycle: {cycle.message}", cycle)
    return cycle


def continue_cycles(
    model: Model,
    parameter: str,
    start: Any,
    *,
    params: ParamsLike = None,
    to: float | tuple[float, float] | None = None,
    method: PALC | None = None,
    collocation: Collocation | None = None,
    detect: bool = True,
    backend: str = "numba",
) -> CycleBranch:
    r"""Continue a branch of periodic orbits in one parameter; locate LPC, PD and NS points.

    Pseudo-arclength continuation of the collocation equations of :func:`find_cycle`
    with the parameter free; at every point the Floquet multipliers give the stability
    and three test functions: the parameter component of the tangent (LPC, a fold of
    cycles where a second multiplier reaches +1), :math:`\prod_i (\mu_i + 1)` (PD, a
    multiplier at -1) and :math:`\prod_{i<j} (\mu_i \mu_j - 1)` over the non-trivial
    multipliers (NS, a complex pair on the unit circle; neutral saddles are discarded).
    Zeros are located by secant/bisection with every trial point on the branch.

    Parameters
    ----------
    model
        A flow (kind ``"ode"``).
    parameter
        The parameter to vary.
    start
        A :class:`Cycle` (from :func:`find_cycle`, :func:`switch_period_doubling` or a
        branch); a Hopf point (``kind`` ``"H"``, ``state``, ``params``: a special point of
        :func:`~stabkit.continue_branch`), from which the branch starts on the small
        circle of the critical eigenvector with amplitude ``method.ds``; or a ``"PD"``
        :class:`CycleSpecialPoint`, from which the period-doubled branch is followed.
    params
        Values of the other parameters when the start does not carry them.
    to
        An end value of ``parameter``: stop once the branch passes it (from a cycle, the
        first step heads towards it); or ``(lo, hi)``: stop when the branch leaves that
        interval (from a cycle, ``method.direction`` sets the first step); ``None``: no
        limit but ``method.max_points``.
    method
        :class:`~stabkit.PALC` settings (``ds`` in the L2 norm of the profile, the period
        and the parameter); ``method.direction`` orients the first step in the parameter
        when starting from a cycle.
    collocation
        :class:`Collocation` settings; the mesh is re-adapted every 12 points.
    detect
        Compute the test functions and locate LPC, PD and NS points.
    backend
        ``"numba"`` or ``"numpy"`` kernels.

    Returns
    -------
    CycleBranch
        Points with period, amplitude, multipliers and stability, the located special
        points, and ``status``/``message`` saying why the branch ended (``"ok"`` when it
        reached ``to``; ``"step_collapsed"``, ``"max_points"``, ``"period_blowup"``
        (approach to a homoclinic orbit), ``"newton_failed"`` otherwise).

    Raises
    ------
    InputError
        Not a flow, unknown parameter, a start of another kind, a Hopf point that is not
        one, a start cycle that did not converge.

    References
    ----------
    Yu. A. Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., Springer 2004,
    Section 10.3; W. Govaerts, *Numerical Methods for Bifurcations of Dynamical
    Equilibria*, SIAM 2000; A. Dhooge, W. Govaerts and Yu. A. Kuznetsov, ACM TOMS 29 (2003)
    141-164 (MatCont).

    Examples
    --------
    >>> from stabkit.model import library
    >>> import numpy as np
    >>> t = np.linspace(0.0, 2 * np.pi, 40)
    >>> c = find_cycle(library.van_der_pol(mu=1.0), start=(t, np.c_[2 * np.cos(t), -2 * np.sin(t)]),
    ...                backend="numpy")
    >>> br = continue_cycles(library.van_der_pol(), "mu", c, to=1.5, backend="numpy",
    ...                      method=PALC(ds=0.1, ds_max=0.2), detect=False)
    >>> br.status, bool(br.parameter_values[-1] >= 1.5)
    ('ok', True)
    """
    t_start = time.perf_counter()
    model = check_flow(model, "continue_cycles")
    k = check_parameter(model, parameter, "continue_cycles")
    method = PALC() if method is None else method
    collocation = Collocation() if collocation is None else collocation
    if not isinstance(method, PALC):
        raise InputError(f"continue_cycles(method={method!r}): expected PALC(...)")
    if not isinstance(collocation, Collocation):
        raise InputError(f"continue_cycles(collocation={collocation!r}): expected Collocation(...)")
    end, bounds = parse_to(to)
    compiled, compile_time, source = compile_flow(model, backend)
    deg = collocation.degree
    tangent_nodes = None
    reference = None
    if isinstance(start, Cycle):
        if start.status != "ok" or start.states.size == 0:
            raise InputError(
                f"continue_cycles(start=Cycle): the cycle has status {start.status!r} "
                f"({start.message}); start from a converged cycle"
            )
        p = model.param_vector(dict(start.params))
        mesh, nodes, period = start.mesh, start.states, start.period
        if start.degree != deg or mesh.size - 1 != collocation.num_intervals:
            mesh, nodes = resample(
                mesh, nodes, collocation.num_intervals, deg, collocation.adapt_mesh
            )
    elif isinstance(start, CycleSpecialPoint):
        if start.kind != "PD":
            raise InputError(
                f"continue_cycles(start={start!r}): from a special point of cycles only a PD "
                "point starts a new branch; for an LPC or NS point pass its .cycle"
            )
        p = model.param_vector(dict(start.cycle.params))
        c = start.cycle
        ds_ = doubled_start(compiled, p, c.mesh, c.states, c.period, c.degree)
        mesh, period = ds_.mesh, ds_.period
        # start off the twice-traversed cycle (where the null space is two-dimensional)
        nodes = ds_.nodes + method.ds * ds_.eigenfunction
        tangent_nodes = ds_.eigenfunction
        reference = ds_.nodes
        deg = c.degree
        collocation = dataclasses.replace(collocation, degree=deg)
    elif is_hopf_like(start):
        p = hopf_params(model, start, params)
        data = hopf_data(compiled, model, start, p)
        mesh, tau = uniform_nodes(collocation.num_intervals, deg)
        wave = circle_nodes(data, 1.0, tau) - data.state[None, :]
        nodes = data.state[None, :] + method.ds * wave
        period = 2.0 * math.pi / data.omega
        tangent_nodes = wave
        reference = nodes
    else:
        raise InputError(
            f"continue_cycles(start={type(start).__name__}): expected a Cycle, a Hopf point "
            "(kind 'H') or a PD CycleSpecialPoint"
        )
    alpha0 = float(p[k])
    origin = p.copy()
    origin[k] = 0.0
    direction = np.zeros_like(p)
    direction[k] = 1.0
    if tangent_nodes is None:
        if end is not None and end == alpha0:
            raise InputError(f"continue_cycles(to={to}): equals the start value of {parameter!r}")
        if end is not None:
            method = dataclasses.replace(method, direction=1 if end > alpha0 else -1)
        if bounds is not None and not bounds[0] <= alpha0 <= bounds[1]:
            raise InputError(
                f"continue_cycles(to={to}): the start {parameter} = {alpha0:g} is outside"
            )
    period_limit = 50.0 * period
    side: list[float] = []  # the side of `end` the branch starts on

    def stop(alpha: float, per: float, nodes_: np.ndarray) -> str | tuple[str, str] | None:
        if end is not None:
            here = float(np.sign(alpha - end))
            if not side:
                if here != 0.0:
                    side.append(here)
            elif here != side[0]:
                return f"reached {parameter} = {end:g}"
        if bounds is not None and not bounds[0] <= alpha <= bounds[1]:
            return f"reached {parameter} = {bounds[0] if alpha < bounds[0] else bounds[1]:g}"
        if per > period_limit:
            return (
                "period_blowup",
                f"the period grew past {period_limit:.4g} (50 times its start value) at "
                f"{parameter} = {alpha:.8g}: the branch approaches a homoclinic orbit",
            )
        return None

    out: TraceOutcome = trace_cycles(
        compiled, p, (origin, direction), mesh, nodes, period, alpha0, method, collocation,
        tangent_nodes=tangent_nodes, reference=reference, stop=stop, detect=detect,
        parameter_name=parameter,
    )  # fmt: skip
    provenance = Provenance(
        model_hash=model.content_hash, analysis="continue_cycles",
        method=f"{method!r}, {collocation!r}", params=param_map(model, p),
    )  # fmt: skip

    def params_at(alpha: float) -> np.ndarray:
        return origin + alpha * direction

    cycles = tuple(
        cycle_from_point(pt, model, params_at(pt.alpha), deg, provenance, source)
        for pt in out.points
    )
    specials = tuple(
        CycleSpecialPoint(
            kind=lp.kind, parameter=parameter, parameter_value=lp.point.alpha, index=lp.index,
            cycle=cycle_from_point(lp.point, model, params_at(lp.point.alpha), deg, provenance,
                                    source),
            located=lp.converged, message=lp.message,
        )._attach(model)
        for lp in out.located
    )  # fmt: skip
    n = model.num_variables
    nan = np.full(n, np.nan, dtype=complex)
    mult = np.array(
        [pt.floquet.multipliers if pt.floquet is not None else nan for pt in out.points],
        dtype=complex,
    ).reshape(-1, n)
    return CycleBranch(
        status=out.status,
        message=out.message,
        stats=Stats(
            num_steps=len(out.points),
            num_rhs_evaluations=out.num_rhs,
            num_jacobian_evaluations=out.num_jac,
            num_lu_decompositions=out.num_newton_iterations,
            wall_time=time.perf_counter() - t_start - compile_time,
            compile_time=compile_time,
            extra={"num_newton_iterations": out.num_newton_iterations},
        ),
        provenance=provenance,
        parameter=parameter,
        variables=model.variables,
        parameter_values=np.array([pt.alpha for pt in out.points]),
        periods=np.array([pt.period for pt in out.points]),
        amplitudes=np.array([c.amplitude for c in cycles]).reshape(-1, n),
        multipliers=mult,
        stable=np.array([c.stable for c in cycles], dtype=bool),
        cycles=cycles,
        special_points=specials,
    )


def switch_period_doubling(
    branch_point: CycleSpecialPoint,
    *,
    model: Model | None = None,
    ds: float = 1e-2,
    collocation: Collocation | None = None,
    backend: str = "numba",
) -> Cycle:
    """The period-doubled cycle next to a period-doubling point.

    The cycle at the PD point, traversed twice (period 2T), plus ``ds`` times the
    eigenfunction of the multiplier -1 (which changes sign after one period, so the sum
    is 2T-periodic) is corrected onto the doubled branch, which crosses the
    twice-traversed cycle there transversally (Doedel, Keller and Kernevez 1991).

    Parameters
    ----------
    branch_point
        A ``"PD"`` point from :attr:`CycleBranch.special_points`.
    model
        The model; default the one the point came from.
    ds
        The step along the eigenfunction (in the L2 norm of the scaled profile).
    collocation
        Settings for the doubled cycle (default: the point's degree, twice its intervals).
    backend
        ``"numba"`` or ``"numpy"`` kernels.

    Returns
    -------
    Cycle
        The doubled cycle (period near 2T) at a parameter value near the PD point's,
        ready for :func:`continue_cycles`; ``message`` says on which side it lies.
        Passing the PD point itself to :func:`continue_cycles` follows the same branch.

    Raises
    ------
    InputError
        Not a PD point, or no model known.
    """
    if not isinstance(branch_point, CycleSpecialPoint) or branch_point.kind != "PD":
        raise InputError(
            f"switch_period_doubling(branch_point={branch_point!r}): expected a 'PD' point "
            "from CycleBranch.special_points"
        )
    model = model if model is not None else branch_point.model
    if model is None:
        raise InputError("switch_period_doubling: pass model=..., the point carries none")
    c = branch_point.cycle
    collocation = collocation or Collocation(num_intervals=2 * (c.mesh.size - 1), degree=c.degree)
    branch = continue_cycles(
        model, branch_point.parameter, branch_point,
        method=PALC(ds=ds, ds_min=1e-6 * ds, ds_max=ds, max_points=2),
        collocation=collocation, detect=False, backend=backend,
    )  # fmt: skip
    if len(branch.cycles) < 2:
        raise ConvergenceError(
            f"switch_period_doubling: no doubled cycle found ({branch.message})", branch
        )
    doubled = branch.cycles[-1]
    side = (
        "above"
        if doubled.params[branch_point.parameter] > branch_point.parameter_value
        else "below"
    )
    return dataclasses.replace(
        doubled,
        message=(
            f"period-doubled cycle {side} the PD point at {branch_point.parameter} = "
            f"{branch_point.parameter_value:.10g} (period {doubled.period:.8g}, "
            f"2T = {2 * c.period:.8g})"
        ),
    )
