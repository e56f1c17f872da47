"""Template: the PALC loop of :func:`stabkit.analysis._palc.trace_curve`, compiled with a model.

The text after the marker line is appended to a small module that binds ``rhs`` and ``jac``
of a model's *augmented* kernel module (the continued parameter as the last variable, see
:mod:`stabkit.analysis._branch_system`) and compiled by numba (cached on disk), so that a
whole branch is traced without returning to Python. The algorithm is the one of
``trace_curve`` (same predictor, corrector, tangent, step control and stop rules); only the
stop rule is fixed: the parameter bounds, the state box, and a closed loop. Small dense
systems are solved by Gaussian elimination with partial pivoting (a singular matrix is a
failed step, never an exception).

Above the marker: stand-ins so that the file imports, lints and type-checks on its own.
"""

import math

import numpy as np


def _jit(fn):  # stand-in for numba.njit
    return fn


def rhs(t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:  # stand-in
    out[:] = 0.0


def jac(t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:  # stand-in
    out[:, :] = 0.0


# ---- template body ----

# cfg slots
_PALC_DS = 0
_PALC_DS_MIN = 1
_PALC_DS_MAX = 2
_PALC_TOL = 3
_PALC_MAX_NEWTON = 4
_PALC_TARGET = 5
_PALC_GROW = 6
_PALC_SHRINK = 7
_PALC_COS_TURN = 8
_PALC_MAX_POINTS = 9
# counters slots
_PALC_STATUS = 0
_PALC_NEWTON = 1
_PALC_JACOBIANS = 2
_PALC_COUNT = 3
_PALC_DETAIL = 4
# status codes
PALC_REACHED_HI = 0
PALC_REACHED_LO = 1
PALC_LEFT_BOUNDS = 2
PALC_STEP_COLLAPSED = 3
PALC_MAX_POINTS = 4
PALC_CLOSED_LOOP = 5
PALC_NEWTON_FAILED = 6
PALC_NON_FINITE = 7


@_jit
def _palc_solve(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> bool:
    """x = a^-1 b by Gaussian elimination with partial pivoting (a, b copied)."""
    size = b.shape[0]
    m = a.copy()
    r = b.copy()
    scale = 0.0
    for i in range(size):
        for j in range(size):
            scale = max(scale, abs(m[i, j]))
    if not scale > 0.0 or not math.isfinite(scale):
        return False
    for k in range(size):
        piv = k
        big = abs(m[k, k])
        for i in range(k + 1, size):
            if abs(m[i, k]) > big:
                big = abs(m[i, k])
                piv = i
        if not big > 0.0:  # exactly singular only, as LAPACK (badly scaled is fine)
            return False
        if piv != k:
            for j in range(size):
                tmp = m[k, j]
                m[k, j] = m[piv, j]
                m[piv, j] = tmp
            tmp = r[k]
            r[k] = r[piv]
            r[piv] = tmp
        for i in range(k + 1, size):
            f = m[i, k] / m[k, k]
            if f != 0.0:
                for j in range(k, size):
                    m[i, j] -= f * m[k, j]
                r[i] -= f * r[k]
    for i in range(size - 1, -1, -1):
        s = r[i]
        for j in range(i + 1, size):
            s -= m[i, j] * x[j]
        x[i] = s / m[i, i]
    for i in range(size):  # noqa: SIM110 - a plain loop for numba
        if not math.isfinite(x[i]):
            return False
    return True


@_jit
def _palc_eval(
    z: np.ndarray,
    p: np.ndarray,
    period: int,
    is_map: bool,
    res: np.ndarray,
    dr: np.ndarray,
    counters: np.ndarray,
) -> bool:
    """R(z) into res (n,) and DR(z) = [R_x, R_p] into dr (n, n + 1); False if not finite."""
    size = z.shape[0]
    n = size - 1
    f = np.empty(size)
    j = np.empty((size, size))
    counters[_PALC_JACOBIANS] += 1
    if not is_map:
        rhs(0.0, z, p, f)
        jac(0.0, z, p, j)
        for i in range(n):
            res[i] = f[i]
            for k in range(size):
                dr[i, k] = j[i, k]
    else:
        y = z.copy()
        total = np.zeros((size, size))
        product = np.empty((size, size))
        for i in range(size):
            total[i, i] = 1.0
        for _ in range(period):
            jac(0.0, y, p, j)
            for i in range(size):  # product = j @ total (loops: no BLAS to compile)
                for k in range(size):
                    acc = 0.0
                    for m in range(size):
                        acc += j[i, m] * total[m, k]
                    product[i, k] = acc
            for i in range(size):
                for k in range(size):
                    total[i, k] = product[i, k]
            rhs(0.0, y, p, f)
            for i in range(n):
                y[i] = f[i]
        for i in range(n):
            res[i] = y[i] - z[i]
            for k in range(size):
                dr[i, k] = total[i, k] - (1.0 if i == k else 0.0)
    for i in range(n):
        if not math.isfinite(res[i]):
            return False
        for k in range(size):
            if not math.isfinite(dr[i, k]):
                return False
    return True


@_jit
def _palc_correct(
    z_pred: np.ndarray,
    normal: np.ndarray,
    p: np.ndarray,
    period: int,
    is_map: bool,
    tol: float,
    max_iterations: int,
    z: np.ndarray,
    dr: np.ndarray,
    counters: np.ndarray,
) -> int:
    """Newton onto R = 0 in normal . (z - z_pred) = 0; iterations, or -1 on failure."""
    size = z_pred.shape[0]
    n = size - 1
    res = np.empty(n)
    matrix = np.empty((size, size))
    border = np.empty(size)
    dz = np.empty(size)
    for i in range(size):
        z[i] = z_pred[i]
    last_res = math.inf
    step_norm = math.inf
    for k in range(max_iterations + 1):
        if not _palc_eval(z, p, period, is_map, res, dr, counters):
            return -1
        res_norm = 0.0
        scale = 0.0
        for i in range(n):
            res_norm = max(res_norm, abs(res[i]))
        for i in range(size):
            scale = max(scale, abs(z[i]))
        scale += 1.0
        converged = res_norm <= tol * scale and (
            step_norm <= math.sqrt(tol) * scale or res_norm <= 1e-2 * tol * scale
        )
        if converged:
            return k
        if k == max_iterations:
            return -1
        if res_norm > 1e3 * last_res and k > 1:
            return -1
        last_res = res_norm
        counters[_PALC_NEWTON] += 1
        offset = 0.0
        for i in range(size):
            offset += normal[i] * (z[i] - z_pred[i])
        for i in range(n):
            for c in range(size):
                matrix[i, c] = dr[i, c]
            border[i] = -res[i]
        for c in range(size):
            matrix[n, c] = normal[c]
        border[n] = -offset
        if not _palc_solve(matrix, border, dz):
            return -1
        step_norm = 0.0
        for i in range(size):
            z[i] += dz[i]
            step_norm = max(step_norm, abs(dz[i]))
    return -1


@_jit
def _palc_tangent(dr: np.ndarray, reference: np.ndarray, t: np.ndarray) -> bool:
    """Unit solution of [DR; reference^T] v = e_last into t."""
    size = reference.shape[0]
    n = size - 1
    matrix = np.empty((size, size))
    e = np.zeros(size)
    e[n] = 1.0
    for i in range(n):
        for c in range(size):
            matrix[i, c] = dr[i, c]
    for c in range(size):
        matrix[n, c] = reference[c]
    if not _palc_solve(matrix, e, t):
        return False
    norm = 0.0
    for i in range(size):
        norm += t[i] * t[i]
    norm = math.sqrt(norm)
    if not norm > 0.0:
        return False
    for i in range(size):
        t[i] /= norm
    return True


@_jit
def _palc_store(out: np.ndarray, row: int, dr: np.ndarray) -> None:
    for i in range(dr.shape[0]):
        for k in range(dr.shape[1]):
            out[row, i, k] = dr[i, k]


@_jit
def _palc_stop(z: np.ndarray, lo: float, hi: float, box_lo: np.ndarray, box_hi: np.ndarray) -> int:
    """A status code when z is beyond the parameter bounds or the box, else -1."""
    n = z.shape[0] - 1
    if z[n] >= hi:
        return PALC_REACHED_HI
    if z[n] <= lo:
        return PALC_REACHED_LO
    for i in range(n):
        if z[i] < box_lo[i] or z[i] > box_hi[i]:
            return PALC_LEFT_BOUNDS
    return -1


@_jit
def _palc_closes(x0: np.ndarray, a: np.ndarray, b: np.ndarray, ds: float) -> bool:
    size = a.shape[0]
    length2 = 0.0
    proj = 0.0
    for i in range(size):
        d = b[i] - a[i]
        length2 += d * d
        proj += (x0[i] - a[i]) * d
    if length2 == 0.0:
        return False
    s = min(max(proj / length2, 0.0), 1.0)
    dist2 = 0.0
    for i in range(size):
        d = a[i] + s * (b[i] - a[i]) - x0[i]
        dist2 += d * d
    return math.sqrt(dist2) <= 0.25 * max(ds, math.sqrt(length2))


@_jit
def palc_trace(
    z0: np.ndarray,
    t0: np.ndarray,
    p: np.ndarray,
    period: int,
    is_map: bool,
    cfg: np.ndarray,
    lo: float,
    hi: float,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    out_z: np.ndarray,
    out_t: np.ndarray,
    out_s: np.ndarray,
    out_dr: np.ndarray,
    counters: np.ndarray,
) -> int:
    """Trace a branch from z0 along t0 into out_* (rows); returns the number of points.

    counters[0] gets the status code, [1] Newton iterations, [2] Jacobians, [3] the count,
    [4] for a collapsed step 0 (corrector failed) or 1 (tangent turned too sharply).
    """
    size = z0.shape[0]
    n = size - 1
    tol = cfg[_PALC_TOL]
    max_newton = int(cfg[_PALC_MAX_NEWTON])
    max_points = min(int(cfg[_PALC_MAX_POINTS]), out_z.shape[0])
    z = np.empty(size)
    z_new = np.empty(size)
    z_pred = np.empty(size)
    t = np.empty(size)
    t_new = np.empty(size)
    dr = np.empty((n, size))
    res = np.empty(n)
    if not _palc_eval(z0, p, period, is_map, res, dr, counters):
        counters[_PALC_STATUS] = PALC_NON_FINITE
        return 0
    norm = 0.0
    for i in range(size):
        norm += t0[i] * t0[i]
    norm = math.sqrt(norm)
    for i in range(size):
        t[i] = t0[i] / norm
    if _palc_correct(z0, t, p, period, is_map, tol, max(max_newton, 20), z, dr, counters) < 0:
        counters[_PALC_STATUS] = PALC_NEWTON_FAILED
        return 0
    if _palc_tangent(dr, t, t_new):
        for i in range(size):
            t[i] = t_new[i]
    count = 0
    for i in range(size):
        out_z[0, i] = z[i]
        out_t[0, i] = t[i]
    out_s[0] = 0.0
    _palc_store(out_dr, 0, dr)
    count = 1
    counters[_PALC_COUNT] = count
    code = _palc_stop(z, lo, hi, box_lo, box_hi)
    if code >= 0:
        counters[_PALC_STATUS] = code
        return count
    ds = cfg[_PALC_DS]
    ds_min = cfg[_PALC_DS_MIN]
    while True:
        if count >= max_points:
            counters[_PALC_STATUS] = PALC_MAX_POINTS
            return count
        for i in range(size):
            z_pred[i] = z[i] + ds * t[i]
        iterations = _palc_correct(
            z_pred, t, p, period, is_map, tol, max_newton, z_new, dr, counters
        )
        good = iterations >= 0
        detail = 0
        if good:
            good = _palc_tangent(dr, t, t_new)
            if good:
                cos = 0.0
                for i in range(size):
                    cos += t_new[i] * t[i]
                if cos < cfg[_PALC_COS_TURN]:
                    good = False
                    detail = 1
        if not good:
            if ds <= ds_min * (1.0 + 1e-12):
                counters[_PALC_STATUS] = PALC_STEP_COLLAPSED
                counters[_PALC_DETAIL] = detail
                return count
            ds = max(ds * cfg[_PALC_SHRINK], ds_min)
            continue
        for i in range(size):
            out_z[count, i] = z_new[i]
            out_t[count, i] = t_new[i]
        out_s[count] = ds
        _palc_store(out_dr, count, dr)
        count += 1
        counters[_PALC_COUNT] = count
        code = _palc_stop(z_new, lo, hi, box_lo, box_hi)
        if code >= 0:
            counters[_PALC_STATUS] = code
            return count
        if count > 3 and _palc_closes(out_z[0], z, z_new, ds):
            counters[_PALC_STATUS] = PALC_CLOSED_LOOP
            return count
        if iterations < cfg[_PALC_TARGET]:
            ds = min(ds * cfg[_PALC_GROW], cfg[_PALC_DS_MAX])
        elif iterations > cfg[_PALC_TARGET]:
            ds = max(ds * cfg[_PALC_SHRINK], ds_min)
        for i in range(size):
            z[i] = z_new[i]
            t[i] = t_new[i]
