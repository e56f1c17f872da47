"""Pseudo-arclength continuation (PALC) of a curve R(x) = 0, R: R^{N+1} -> R^N.

The unknowns ``x`` hold the state (and any extra unknowns) with the free parameter(s)
appended last. From a point x_k with unit tangent t_k (J(x_k) t_k = 0) one step is

    predictor   x^0 = x_k + ds t_k
    corrector   Newton on  [R(x); t_k . (x - x^0)] = 0,  Jacobian [J(x); t_k^T]
    tangent     [J(x_{k+1}); t_k^T] v = e_{N+1},  t_{k+1} = v / ||v||

so consecutive tangents keep their orientation (t_k . t_{k+1} > 0) through folds, and
the bordered matrix is regular at regular points and at simple folds (Keller 1977;
Allgower and Georg, *Introduction to Numerical Continuation Methods*, SIAM 2003, ch. 2;
Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., ch. 10). The step ``ds``
adapts to the number of Newton iterations the corrector needed and to the turn of the
tangent; a failed corrector halves it, and the points already traced are never lost.

:func:`locate_zero` finds where a test function changes sign between two consecutive
points, by Brent's method on the secant parameter with every trial point corrected
back onto the curve.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from stabkit.errors import InputError

__all__ = ["PALC", "CurveTrace", "StopFn", "correct", "locate_zero", "tangent_at", "trace_curve"]

ResidualFn = Callable[[np.ndarray], np.ndarray]
JacobianFn = Callable[[np.ndarray], np.ndarray]
TestFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
StopFn = Callable[[np.ndarray], "str | tuple[str, str] | None"]
CorrectorFn = Callable[
    [np.ndarray, np.ndarray, float], "tuple[np.ndarray | None, np.ndarray | None]"
]


def _check_number(owner: str, name: str, value: object, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{owner}({name}={value!r}): expected a number")
    val = float(value)
    if not math.isfinite(val) or (positive and val <= 0):
        raise InputError(f"{owner}({name}={value!r}): expected a finite number > 0")
    return val


def _check_int(owner: str, name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{owner}({name}={value!r}): expected an integer >= {minimum}")


@dataclasses.dataclass(frozen=True)
class PALC:
    """Pseudo-arclength continuation with step adaptation.

    Parameters
    ----------
    ds
        Initial step in arclength (in the units of the unknowns and the parameter).
    ds_min, ds_max
        Smallest and largest step. A step that must shrink below ``ds_min`` ends the
        curve with status ``"step_collapsed"``.
    max_points
        Most points traced (the start included); reaching it ends with ``"max_points"``.
    newton_tol
        Newton's tolerance on the residual, ``||R||_inf <= newton_tol (1 + ||x||_inf)``,
        and on the last Newton step, ``||dx||_inf <= sqrt(newton_tol) (1 + ||x||_inf)``
        (the residual then is of order newton_tol by quadratic convergence).
    max_newton_iterations
        Corrector iterations before a step counts as failed.
    direction
        +1 or -1: initial direction of the ``direction_component`` of the tangent.
    direction_component
        Which unknown ``direction`` refers to; default -1, the (last) free parameter.
    target_newton_iterations
        The step grows by ``grow`` when the corrector needed fewer iterations than this,
        and shrinks by ``shrink`` when it needed more.
    grow, shrink
        Step factors (``grow > 1 > shrink > 0``); a failed step is cut by ``shrink``.
    max_turn
        Largest angle (radians) between consecutive tangents; a sharper turn is
        rejected and the step retried shorter (keeps the trace from jumping branches).

    Examples
    --------
    >>> PALC(ds=0.05, ds_max=0.2).direction
    1
    """

    ds: float = 1e-2
    ds_min: float = 1e-8
    ds_max: float = 0.1
    max_points: int = 2000
    newton_tol: float = 1e-10
    max_newton_iterations: int = 8
    direction: int = 1
    direction_component: int = -1
    target_newton_iterations: int = 3
    grow: float = 1.6
    shrink: float = 0.5
    max_turn: float = 0.5

    def __post_init__(self) -> None:
        for name in ("ds", "ds_min", "ds_max", "newton_tol", "grow", "shrink", "max_turn"):
            _check_number("PALC", name, getattr(self, name))
        if not self.ds_min <= self.ds <= self.ds_max:
            raise InputError(
                f"PALC(ds={self.ds}, ds_min={self.ds_min}, ds_max={self.ds_max}): "
                "need ds_min <= ds <= ds_max"
            )
        _check_int("PALC", "max_points", self.max_points, 2)
        _check_int("PALC", "max_newton_iterations", self.max_newton_iterations, 1)
        _check_int("PALC", "target_newton_iterations", self.target_newton_iterations, 1)
        if self.direction not in (1, -1) or isinstance(self.direction, bool):
            raise InputError(f"PALC(direction={self.direction!r}): expected +1 or -1")
        if isinstance(self.direction_component, bool) or not isinstance(
            self.direction_component, (int, np.integer)
        ):
            raise InputError(
                f"PALC(direction_component={self.direction_component!r}): expected an index"
            )
        if not (self.grow > 1.0 and 0.0 < self.shrink < 1.0):
            raise InputError(
                f"PALC(grow={self.grow}, shrink={self.shrink}): need grow > 1 > shrink > 0"
            )
        if self.max_turn >= math.pi:
            raise InputError(f"PALC(max_turn={self.max_turn}): expected an angle below pi")


@dataclasses.dataclass(frozen=True)
class CurveTrace:
    """The points of a traced curve and why the trace ended.

    Attributes
    ----------
    points
        Converged points in order, shape ``(m, N + 1)``.
    tangents
        Unit tangents, consistently oriented, shape ``(m, N + 1)``.
    test_values
        Test functions at each point, shape ``(m, k)`` (``k = 0`` without tests).
    steps
        Arclength step that led to each point, shape ``(m,)`` (0 for the first).
    status
        ``"ok"`` (a stop condition was met), ``"step_collapsed"``, ``"left_bounds"``,
        ``"max_points"``, ``"newton_failed"`` (the start did not converge),
        ``"non_finite"`` (R or J not finite at the start) or ``"closed_loop"``.
    message
        Why the trace ended, in words.
    num_newton_iterations, num_jacobians
        Work counters.
    """

    points: np.ndarray
    tangents: np.ndarray
    test_values: np.ndarray
    steps: np.ndarray
    status: str
    message: str
    num_newton_iterations: int
    num_jacobians: int


class _Counter:
    def __init__(self, residual: ResidualFn, jacobian: JacobianFn) -> None:
        self.residual = residual
        self.jacobian = jacobian
        self.newton = 0
        self.jacobians = 0

    def jac(self, x: np.ndarray) -> np.ndarray:
        self.jacobians += 1
        return np.asarray(self.jacobian(x), dtype=np.float64)


def _inf_norm(v: np.ndarray) -> float:
    return float(np.max(np.abs(v), initial=0.0))


def correct(
    residual: ResidualFn,
    jacobian: JacobianFn,
    x_pred: np.ndarray,
    normal: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iterations: int = 8,
    counter: _Counter | None = None,
) -> tuple[np.ndarray | None, int, np.ndarray | None]:
    """Newton onto R(x) = 0 within the hyperplane normal . (x - x_pred) = 0.

    Returns ``(x, iterations, J(x))``, or ``(None, iterations, None)`` when Newton
    failed (no convergence, divergence, a singular bordered matrix, non-finite values).
    """
    x = np.array(x_pred, dtype=np.float64)
    size = x.size
    border = np.zeros(size)
    matrix = np.empty((size, size))
    matrix[-1] = normal
    last_res = math.inf
    step_norm = math.inf
    for k in range(max_iterations + 1):
        res = np.asarray(residual(x), dtype=np.float64)
        if not np.all(np.isfinite(res)):
            return None, k, None
        res_norm = _inf_norm(res)
        scale = 1.0 + _inf_norm(x)
        converged = res_norm <= tol * scale and (
            step_norm <= math.sqrt(tol) * scale or res_norm <= 1e-2 * tol * scale
        )
        if k == max_iterations and not converged:
            break
        jac = counter.jac(x) if counter is not None else np.asarray(jacobian(x), dtype=float)
        if not np.all(np.isfinite(jac)):
            return None, k, None
        if converged:
            return x, k, jac
        if res_norm > 1e3 * last_res and k > 1:
            return None, k, None  # diverging
        last_res = res_norm
        if counter is not None:
            counter.newton += 1
        matrix[:-1] = jac
        border[:-1] = -res
        border[-1] = -float(normal @ (x - x_pred))
        try:
            dx = np.linalg.solve(matrix, border)
        except np.linalg.LinAlgError:  # exactly singular (a branch point): least squares
            dx = np.linalg.lstsq(matrix, border, rcond=None)[0]
        if not np.all(np.isfinite(dx)):
            return None, k, None
        x = x + dx
        step_norm = _inf_norm(dx)
    return None, max_iterations, None


def tangent_at(jac: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Unit null vector of the ``(N, N + 1)`` Jacobian ``jac``.

    With a ``reference`` direction it solves [J; reference^T] v = e_{N+1} (so that
    v . reference > 0); without one, or if that matrix is singular, it takes the last
    right singular vector (oriented along ``reference`` when given).
    """
    size = jac.shape[1]
    if reference is not None:
        matrix = np.vstack([jac, reference[None, :]])
        rhs = np.zeros(size)
        rhs[-1] = 1.0
        try:
            v = np.linalg.solve(matrix, rhs)
            if np.all(np.isfinite(v)) and np.linalg.norm(v) > 0:
                return v / np.linalg.norm(v)
        except np.linalg.LinAlgError:
            pass
    v = np.linalg.svd(jac)[2][-1]
    if reference is not None and float(v @ reference) < 0:
        v = -v
    return v / np.linalg.norm(v)


def _stop_reason(stop: StopFn | None, x: np.ndarray) -> tuple[str, str] | None:
    if stop is None:
        return None
    reason = stop(x)
    if reason is None:
        return None
    if isinstance(reason, tuple):
        return str(reason[0]), str(reason[1])
    return "ok", str(reason)


def _closes(x0: np.ndarray, a: np.ndarray, b: np.ndarray, ds: float) -> bool:
    """Does the segment a -> b pass within a fraction of a step of the start x0?"""
    d = b - a
    length2 = float(d @ d)
    if length2 == 0.0:
        return False
    s = float(np.clip((x0 - a) @ d / length2, 0.0, 1.0))
    return float(np.linalg.norm(a + s * d - x0)) <= 0.25 * max(ds, math.sqrt(length2))


def trace_curve(
    residual: ResidualFn,
    jacobian: JacobianFn,
    x0: np.ndarray,
    method: PALC,
    *,
    tangent0: np.ndarray | None = None,
    stop: StopFn | None = None,
    test_functions: TestFn | None = None,
) -> CurveTrace:
    """Trace the curve R(x) = 0 through ``x0`` by pseudo-arclength continuation.

    Parameters
    ----------
    residual
        R: ``(N + 1,) -> (N,)``.
    jacobian
        DR: ``(N + 1,) -> (N, N + 1)``.
    x0
        A point on (or near) the curve, shape ``(N + 1,)``; it is first corrected onto
        the curve (Newton orthogonal to the initial tangent).
    method
        :class:`PALC` settings.
    tangent0
        Initial direction; default the null vector of J(x0) with its
        ``method.direction_component`` of the sign of ``method.direction``.
    stop
        ``stop(x)`` returns ``None`` to go on, or a reason to stop after ``x``: a string
        (status ``"ok"``) or a ``(status, message)`` pair (e.g. ``"left_bounds"``).
    test_functions
        ``(x, tangent) -> (k,)`` values recorded at every point (for zero detection).

    Returns
    -------
    CurveTrace
        Every converged point, whatever ended the trace.

    Examples
    --------
    >>> import numpy as np
    >>> tr = trace_curve(lambda x: np.array([x @ x - 1.0]), lambda x: 2.0 * x[None, :],
    ...                  np.array([1.0, 0.0]), PALC(ds=0.1, ds_max=0.2))
    >>> tr.status, bool(np.allclose(np.hypot(*tr.points.T), 1.0))
    ('closed_loop', True)
    """
    if not isinstance(method, PALC):
        raise InputError(f"method={method!r}: expected PALC(...)")
    counter = _Counter(residual, jacobian)
    x_start = np.array(x0, dtype=np.float64).ravel()
    size = x_start.size
    empty = np.empty((0, size))

    def finish(
        points: list[np.ndarray],
        tangents: list[np.ndarray],
        tests: list[np.ndarray],
        steps: list[float],
        status: str,
        message: str,
    ) -> CurveTrace:
        num_tests = tests[0].size if tests else 0
        return CurveTrace(
            points=np.array(points) if points else empty,
            tangents=np.array(tangents) if tangents else empty,
            test_values=np.array(tests) if tests else np.empty((len(points), num_tests)),
            steps=np.array(steps, dtype=np.float64),
            status=status,
            message=message,
            num_newton_iterations=counter.newton,
            num_jacobians=counter.jacobians,
        )

    res0 = np.asarray(residual(x_start), dtype=np.float64)
    jac0 = counter.jac(x_start)
    if jac0.shape != (size - 1, size):
        raise InputError(
            f"trace_curve: jacobian(x0) has shape {jac0.shape}, expected {(size - 1, size)}"
        )
    if not (np.all(np.isfinite(res0)) and np.all(np.isfinite(jac0))):
        return finish([], [], [], [], "non_finite", "R or its Jacobian is not finite at x0")
    if tangent0 is None:
        t = tangent_at(jac0)
        if t[method.direction_component] * method.direction < 0:
            t = -t
    else:
        t = np.asarray(tangent0, dtype=np.float64).ravel()
        t = t / np.linalg.norm(t)
    x, _, jac = correct(
        residual, jacobian, x_start, t, tol=method.newton_tol,
        max_iterations=max(method.max_newton_iterations, 20), counter=counter,
    )  # fmt: skip
    if x is None or jac is None:
        return finish(
            [], [], [], [], "newton_failed",
            f"Newton did not converge onto the curve from x0 (|R(x0)| = {_inf_norm(res0):.3g})",
        )  # fmt: skip
    t = tangent_at(jac, t)
    points, tangents, steps = [x], [t], [0.0]
    tests = [np.atleast_1d(test_functions(x, t)).astype(float)] if test_functions else []
    reason = _stop_reason(stop, x)
    if reason is not None:
        return finish(points, tangents, tests, steps, *reason)
    ds = method.ds
    cos_turn = math.cos(method.max_turn)
    last_failure = ""
    while True:
        if len(points) >= method.max_points:
            return finish(
                points, tangents, tests, steps, "max_points",
                f"stopped after PALC(max_points={method.max_points}) points",
            )  # fmt: skip
        x_pred = x + ds * t
        x_new, iterations, jac_new = correct(
            residual, jacobian, x_pred, t, tol=method.newton_tol,
            max_iterations=method.max_newton_iterations, counter=counter,
        )  # fmt: skip
        t_new = tangent_at(jac_new, t) if jac_new is not None else None
        if x_new is None or t_new is None or float(t_new @ t) < cos_turn:
            last_failure = (
                "the corrector did not converge"
                if x_new is None
                else "the tangent turned too sharply"
            )
            if ds <= method.ds_min * (1 + 1e-12):
                return finish(
                    points, tangents, tests, steps, "step_collapsed",
                    f"the step fell below PALC(ds_min={method.ds_min:g}) at x = "
                    f"{np.array2string(x, precision=8)}: {last_failure}",
                )  # fmt: skip
            ds = max(ds * method.shrink, method.ds_min)
            continue
        points.append(x_new)
        tangents.append(t_new)
        steps.append(ds)
        if test_functions is not None:
            tests.append(np.atleast_1d(test_functions(x_new, t_new)).astype(float))
        reason = _stop_reason(stop, x_new)
        if reason is not None:
            return finish(points, tangents, tests, steps, *reason)
        if len(points) > 3 and _closes(points[0], x, x_new, ds):
            return finish(
                points, tangents, tests, steps, "closed_loop",
                f"the curve closed on itself after {len(points)} points",
            )  # fmt: skip
        if iterations < method.target_newton_iterations:
            ds = min(ds * method.grow, method.ds_max)
        elif iterations > method.target_newton_iterations:
            ds = max(ds * method.shrink, method.ds_min)
        x, t = x_new, t_new


# re-exported: the contract names locate_zero in this module
from stabkit.analysis._palc_locate import locate_zero  # noqa: E402
