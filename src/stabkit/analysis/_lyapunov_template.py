"""Template: Benettin's algorithm on the exact variational equations (flows and maps).

Everything after the marker line is appended to each generated Lyapunov kernel module
(see :mod:`stabkit.analysis._lyapunov_kernels`), after the model's ``rhs(t, y, p, out)``
and ``jac(t, y, p, out)``, and runs under numba or, unchanged, as plain Python (the
reference backend). The names above the marker only serve linters.

Flows (``ly_flow``): the state ``y`` (n,), the ``k`` tangent vectors ``Q`` (columns) and
the integral of ``trace J`` are advanced together, ``y' = f(t, y)``, ``Q' = J(t, y) Q``,
``s' = tr J(t, y)``, by Dormand & Prince 5(4) with an RMS error norm over all
components and Hairer's PI step control; steps are shortened to land on every
renormalisation time, where ``Q`` is re-orthonormalised (modified Gram-Schmidt, applied
twice) and ``log R_ii`` recorded. Maps (``ly_map``): ``Q <- J(x_n) Q``, ``x <- f(x_n)``,
with ``log|det J(x_n)|`` accumulated (LU with partial pivoting) and the same
re-orthonormalisation every ``every`` iterations.

References: Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15 (1980) 9-30;
Dormand & Prince, J. Comput. Appl. Math. 6 (1980) 19-26; Hairer, Norsett & Wanner,
Solving ODEs I (1993), II.4-II.5.
"""
# mypy: ignore-errors

import math

import numpy as np


def _jit(fn):  # stand-ins for the generated module's globals
    return fn


def rhs(t, y, p, out):
    raise NotImplementedError


def jac(t, y, p, out):
    raise NotImplementedError


# ---- template body ----

# counters: 0 accepted, 1 rejected, 2 rhs evaluations, 3 jacobian evaluations,
# 4 records written, 5 status (0 ok, 2 diverged, 3 non-finite, 4 max steps, 5 step too
# small), 6 renormalisations
# cfg: 0 first step (0 = choose), 1 max step, 2 safety, 3 min factor, 4 max factor,
# 5 beta, 6 divergence threshold, 7 max steps (this call), 8 compute log|det| (maps)

_LY_C2 = 1.0 / 5.0
_LY_C3 = 3.0 / 10.0
_LY_C4 = 4.0 / 5.0
_LY_C5 = 8.0 / 9.0
_LY_A21 = 1.0 / 5.0
_LY_A31 = 3.0 / 40.0
_LY_A32 = 9.0 / 40.0
_LY_A41 = 44.0 / 45.0
_LY_A42 = -56.0 / 15.0
_LY_A43 = 32.0 / 9.0
_LY_A51 = 19372.0 / 6561.0
_LY_A52 = -25360.0 / 2187.0
_LY_A53 = 64448.0 / 6561.0
_LY_A54 = -212.0 / 729.0
_LY_A61 = 9017.0 / 3168.0
_LY_A62 = -355.0 / 33.0
_LY_A63 = 46732.0 / 5247.0
_LY_A64 = 49.0 / 176.0
_LY_A65 = -5103.0 / 18656.0
_LY_B1 = 35.0 / 384.0
_LY_B3 = 500.0 / 1113.0
_LY_B4 = 125.0 / 192.0
_LY_B5 = -2187.0 / 6784.0
_LY_B6 = 11.0 / 84.0
_LY_E1 = 71.0 / 57600.0
_LY_E3 = -71.0 / 16695.0
_LY_E4 = 71.0 / 1920.0
_LY_E5 = -17253.0 / 339200.0
_LY_E6 = 22.0 / 525.0
_LY_E7 = -1.0 / 40.0


@_jit
def _ly_deriv(t, z, p, n, k, J, fy, dz):
    """dz = (f(t, y), J Q (column blocks), tr J) for z = (y, Q columns, s)."""
    y = z[:n]
    rhs(t, y, p, fy)
    jac(t, y, p, J)
    for i in range(n):
        dz[i] = fy[i]
    for c in range(k):
        base = n + c * n
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += J[i, j] * z[base + j]
            dz[base + i] = acc
    tr = 0.0
    for i in range(n):
        tr += J[i, i]
    dz[n + n * k] = tr


@_jit
def _ly_orthonormalise(z, n, k, offset, logs_row):
    """Modified Gram-Schmidt (twice) on the k column blocks of z; log norms into logs_row.

    Returns False when a column vanished or is not finite.
    """
    ok = True
    for c in range(k):
        base = offset + c * n
        norm0 = 1.0
        for _rep in range(2):
            for j in range(c):
                other = offset + j * n
                r = 0.0
                for i in range(n):
                    r += z[other + i] * z[base + i]
                for i in range(n):
                    z[base + i] -= r * z[other + i]
            if _rep == 0:
                norm0 = 0.0
                for i in range(n):
                    norm0 += z[base + i] * z[base + i]
                norm0 = math.sqrt(norm0)
                if not (norm0 > 0.0) or not math.isfinite(norm0):
                    return False
                for i in range(n):
                    z[base + i] /= norm0
        norm1 = 0.0
        for i in range(n):
            norm1 += z[base + i] * z[base + i]
        norm1 = math.sqrt(norm1)
        if not (norm1 > 0.0) or not math.isfinite(norm1):
            return False
        for i in range(n):
            z[base + i] /= norm1
        logs_row[c] = math.log(norm0) + math.log(norm1)
    return ok


@_jit
def _ly_initial_step(t, z, p, n, k, f0, rtol, atol, J, fy, work, dwork):
    """Hairer's starting step for a 5th-order method."""
    m = z.shape[0]
    d0 = 0.0
    d1 = 0.0
    for i in range(m):
        sc = atol + rtol * abs(z[i])
        d0 += (z[i] / sc) ** 2
        d1 += (f0[i] / sc) ** 2
    d0 = math.sqrt(d0 / m)
    d1 = math.sqrt(d1 / m)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    for i in range(m):
        work[i] = z[i] + h0 * f0[i]
    _ly_deriv(t + h0, work, p, n, k, J, fy, dwork)
    d2 = 0.0
    for i in range(m):
        sc = atol + rtol * abs(z[i])
        d2 += ((dwork[i] - f0[i]) / sc) ** 2
    d2 = math.sqrt(d2 / m) / h0
    dmax = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if dmax <= 1e-15 else (0.01 / dmax) ** 0.2
    return min(100.0 * h0, h1)


@_jit
def ly_flow(y, Q, p, t, h, interval, num_records, rtol, atol, cfg, out_logs, out_trace, counters):
    """Advance y, Q through num_records renormalisation intervals of length ``interval``.

    y (n,) and Q (n, k) are updated in place. Row r of out_logs (num_records, k) gets
    log R_ii of interval r, out_trace[r] the integral of tr J over it; counters[4] says
    how many rows are valid. Returns (t, h): the final time and the next step size.
    """
    n = y.shape[0]
    k = Q.shape[1]
    m = n + n * k + 1
    z = np.empty(m)
    for i in range(n):
        z[i] = y[i]
    for c in range(k):
        for i in range(n):
            z[n + c * n + i] = Q[i, c]
    z[m - 1] = 0.0
    J = np.empty((n, n))
    fy = np.empty(n)
    k1 = np.empty(m)
    k2 = np.empty(m)
    k3 = np.empty(m)
    k4 = np.empty(m)
    k5 = np.empty(m)
    k6 = np.empty(m)
    k7 = np.empty(m)
    zs = np.empty(m)
    znew = np.empty(m)
    max_step = cfg[1]
    safety = cfg[2]
    min_factor = cfg[3]
    max_factor = cfg[4]
    beta = cfg[5]
    threshold = cfg[6]
    max_steps = cfg[7]
    expo = 0.2 - 0.75 * beta
    err_old = 1e-4
    steps = 0
    status = 0
    _ly_deriv(t, z, p, n, k, J, fy, k1)
    counters[2] += 1
    counters[3] += 1
    if h <= 0.0:
        h = _ly_initial_step(t, z, p, n, k, k1, rtol, atol, J, fy, zs, k2)
        counters[2] += 1
        counters[3] += 1
    h = min(h, max_step)
    rec = 0
    while rec < num_records and status == 0:
        t_end = t + interval
        z[m - 1] = 0.0
        rejected_last = False
        while status == 0:
            last = False
            hs = h
            if t + hs >= t_end - 1e-12 * abs(t_end):
                hs = t_end - t
                last = True
            if steps >= max_steps:
                status = 4
                break
            if hs <= 1e-14 * max(1.0, abs(t)):
                status = 5
                break
            for i in range(m):
                zs[i] = z[i] + hs * _LY_A21 * k1[i]
            _ly_deriv(t + _LY_C2 * hs, zs, p, n, k, J, fy, k2)
            for i in range(m):
                zs[i] = z[i] + hs * (_LY_A31 * k1[i] + _LY_A32 * k2[i])
            _ly_deriv(t + _LY_C3 * hs, zs, p, n, k, J, fy, k3)
            for i in range(m):
                zs[i] = z[i] + hs * (_LY_A41 * k1[i] + _LY_A42 * k2[i] + _LY_A43 * k3[i])
            _ly_deriv(t + _LY_C4 * hs, zs, p, n, k, J, fy, k4)
            for i in range(m):
                zs[i] = z[i] + hs * (
                    _LY_A51 * k1[i] + _LY_A52 * k2[i] + _LY_A53 * k3[i] + _LY_A54 * k4[i]
                )
            _ly_deriv(t + _LY_C5 * hs, zs, p, n, k, J, fy, k5)
            for i in range(m):
                zs[i] = z[i] + hs * (
                    _LY_A61 * k1[i]
                    + _LY_A62 * k2[i]
                    + _LY_A63 * k3[i]
                    + _LY_A64 * k4[i]
                    + _LY_A65 * k5[i]
                )
            _ly_deriv(t + hs, zs, p, n, k, J, fy, k6)
            for i in range(m):
                znew[i] = z[i] + hs * (
                    _LY_B1 * k1[i]
                    + _LY_B3 * k3[i]
                    + _LY_B4 * k4[i]
                    + _LY_B5 * k5[i]
                    + _LY_B6 * k6[i]
                )
            _ly_deriv(t + hs, znew, p, n, k, J, fy, k7)
            counters[2] += 6
            counters[3] += 6
            steps += 1
            err = 0.0
            for i in range(m - 1):
                e = hs * (
                    _LY_E1 * k1[i]
                    + _LY_E3 * k3[i]
                    + _LY_E4 * k4[i]
                    + _LY_E5 * k5[i]
                    + _LY_E6 * k6[i]
                    + _LY_E7 * k7[i]
                )
                sc = atol + rtol * max(abs(z[i]), abs(znew[i]))
                err += (e / sc) ** 2
            err = math.sqrt(err / (m - 1))
            if not math.isfinite(err):
                counters[1] += 1
                h = hs * min_factor
                rejected_last = True
                if h <= 1e-14 * max(1.0, abs(t)):
                    status = 3
                continue
            if err <= 1.0:
                counters[0] += 1
                t = t_end if last else t + hs
                for i in range(m):
                    z[i] = znew[i]
                    k1[i] = k7[i]
                big = 0.0
                for i in range(n):
                    big = max(big, abs(z[i]))
                if not math.isfinite(big):
                    status = 3
                    break
                if big > threshold:
                    status = 2
                    break
                fac = safety * max(err, 1e-10) ** (-expo) * max(err_old, 1e-4) ** beta
                fac = min(max_factor, max(min_factor, fac))
                if rejected_last:
                    fac = min(fac, 1.0)
                hnew = hs * fac
                if not last or hnew < h:
                    h = min(hnew, max_step)
                err_old = err
                rejected_last = False
                if last:
                    break
            else:
                counters[1] += 1
                fac = max(min_factor, safety * err ** (-0.2))
                h = hs * fac
                rejected_last = True
        if status != 0:
            break
        if not _ly_orthonormalise(z, n, k, n, out_logs[rec]):
            status = 3
            break
        out_trace[rec] = z[m - 1]
        rec += 1
        counters[4] = rec
        counters[6] += 1
        _ly_deriv(t, z, p, n, k, J, fy, k1)  # Q changed: FSAL derivative is stale
        counters[2] += 1
        counters[3] += 1
    counters[5] = status
    for i in range(n):
        y[i] = z[i]
    for c in range(k):
        for i in range(n):
            Q[i, c] = z[n + c * n + i]
    return t, h


@_jit
def _ly_log_abs_det(A, n):
    """log|det A| by Gaussian elimination with partial pivoting (A is overwritten)."""
    total = 0.0
    for col in range(n):
        piv = col
        for r in range(col + 1, n):
            if abs(A[r, col]) > abs(A[piv, col]):
                piv = r
        if A[piv, col] == 0.0:
            return -math.inf
        if piv != col:
            for j in range(n):
                tmp = A[col, j]
                A[col, j] = A[piv, j]
                A[piv, j] = tmp
        total += math.log(abs(A[col, col]))
        for r in range(col + 1, n):
            f = A[r, col] / A[col, col]
            for j in range(col, n):
                A[r, j] -= f * A[col, j]
    return total


@_jit
def ly_map(y, Q, p, t, every, num_records, cfg, out_logs, out_trace, counters):
    """Iterate y and the tangent map through num_records blocks of ``every`` iterations.

    After each block Q is re-orthonormalised and log R_ii written to out_logs; out_trace
    gets the block's sum of log|det J| (when cfg[8] == 1). Returns the final iteration
    number (as a float).
    """
    n = y.shape[0]
    k = Q.shape[1]
    z = np.empty(n * k)
    for c in range(k):
        for i in range(n):
            z[c * n + i] = Q[i, c]
    J = np.empty((n, n))
    A = np.empty((n, n))
    ynew = np.empty(n)
    col = np.empty(n)
    threshold = cfg[6]
    want_det = cfg[8] > 0.5
    status = 0
    rec = 0
    while rec < num_records and status == 0:
        logdet = 0.0
        for _s in range(every):
            jac(t, y, p, J)
            rhs(t, y, p, ynew)
            counters[2] += 1
            counters[3] += 1
            counters[0] += 1
            if want_det:
                for i in range(n):
                    for j in range(n):
                        A[i, j] = J[i, j]
                logdet += _ly_log_abs_det(A, n)
            for c in range(k):
                base = c * n
                for i in range(n):
                    acc = 0.0
                    for j in range(n):
                        acc += J[i, j] * z[base + j]
                    col[i] = acc
                for i in range(n):
                    z[base + i] = col[i]
            big = 0.0
            for i in range(n):
                y[i] = ynew[i]
                big = max(big, abs(ynew[i]))
            t += 1.0
            if not math.isfinite(big):
                status = 3
                break
            if big > threshold:
                status = 2
                break
        if status != 0:
            break
        if not _ly_orthonormalise(z, n, k, 0, out_logs[rec]):
            status = 3
            break
        out_trace[rec] = logdet
        rec += 1
        counters[4] = rec
        counters[6] += 1
    counters[5] = status
    for c in range(k):
        for i in range(n):
            Q[i, c] = z[c * n + i]
    return t
