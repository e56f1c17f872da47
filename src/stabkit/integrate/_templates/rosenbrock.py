"""Template: stiff integrators, Rodas5 and Rosenbrock23 (linearly implicit Rosenbrock).

The body below the marker is appended to every generated kernel module (see
``CONTRACT.md``) and calls the model's ``rhs``, ``jac`` and ``events`` as globals.
It defines the member kernels ``rodas5_member`` / ``ros23_member`` and the parallel
ensemble kernels ``rodas5_ensemble`` / ``ros23_ensemble``, all with the calling
convention of the contract; ``tab`` is ignored (the coefficients are constants here).

Notes
-----
A Rosenbrock step with ``s`` stages solves, with the exact Jacobian ``J = df/dy`` at
the step start and ``f_t = df/dt`` there (central difference in ``t``),

    (I/(h gamma) - J) u_i = f(t + c_i h, y + sum_j a_ij u_j) + sum_j (C_ij/h) u_j
                            + d_i h f_t,                      y_new = y + sum_j m_j u_j,

the W-transformed form of Hairer & Wanner (1996), IV.7 (7.25): one LU factorisation
per attempted step (own LU with partial pivoting, no scipy), ``s`` back-substitutions.

* **Rodas5** (Di Marzo 1993): 8 stages, order 5 with an embedded order-4 solution,
  stiffly accurate, L-stable. The error estimate is the last stage ``u_8``. The dense
  output ``y(theta) = (1-theta) y0 + theta y1 + theta (1-theta) (K1 + theta K2 +
  theta^2 K3)`` with ``K_m = sum_j H_mj u_j`` is of order 4. Its coefficients satisfy
  the order conditions of all trees with up to four vertices,
  ``sum_j b_j(theta) Phi_j(tree) = theta^|tree| / gamma(tree)``, and the stiff
  (Prothero-Robinson limit ``h lambda -> -inf``) conditions
  ``b(theta)^T B^{-1} (c^q + d [q = 1]) = theta^q``, ``q <= 3``, ``B = alpha + Gamma``;
  they were solved for here from the published method coefficients (minimum-norm
  solution; the weight of ``u_8``, an ``O(h^5)`` quantity, is free in those conditions).
  The stiff conditions keep the interpolant of fast, equilibrated components accurate.
* **Rosenbrock23** (Shampine & Reichelt 1997, MATLAB's ode23s): 3 stages, advances
  the L-stable order-2 solution, estimates the error with the order-3 one, FSAL, and
  interpolates with its own quadratic ``y0 + h (s(1-s) k1 + s(s-2d) k2)/(1-2d)``.

Step control: RMS norm of ``err_i / (atol_i + rtol_i max(|y_i|, |y_new_i|))``; new
``h = h * clip(safety * err^(-1/q), min_factor, max_factor)`` (q = 5 for Rodas5, 3 for
Rosenbrock23), combined with Gustafsson's predictive controller as in Hairer's RODAS;
after a rejection the step never grows. The Jacobian (and ``f``, ``f_t``) is reused
across rejected steps. A singular iteration matrix quarters ``h`` (ten times at most:
then ``SOLVER_FAILURE``); a non-finite trial step is rejected with ``h * min_factor``
(``NON_FINITE`` after 50 such rejections in a row or when the step size underflows,
and at once if ``f`` or ``J`` is non-finite at an accepted point). Output at ``t_eval``
and event states come from the dense output; event times are located on it by the
Illinois method to a few ulps.

References
----------
G. Di Marzo, *RODAS5(4) - Methodes de Rosenbrock d'ordre 5(4) adaptees aux problemes
differentiels-algebriques*, MSc thesis, Universite de Geneve (1993).
E. Hairer & G. Wanner, *Solving Ordinary Differential Equations II*, 2nd ed.,
Springer (1996), IV.7 and VI.4.
L. F. Shampine & M. W. Reichelt, The MATLAB ODE Suite, *SIAM J. Sci. Comput.* 18
(1997) 1-22.
"""

import math

import numpy as np

# ---- template body ----

# Rodas5 in W-transformed form (Hairer & Wanner IV.7 (7.25)), Di Marzo's coefficients.
_ROS5_GAMMA = 0.19
_ROS5_A = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.040894194418781, 1.041747909077569, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [2.576417536461461, 1.622083060776640, -0.9089668560264532, 0.0, 0.0, 0.0, 0.0, 0.0],
        [
            2.760842080225597,
            1.446624659844071,
            -0.3036980084553738,
            0.2877498600325443,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
        [
            -14.09640773051259,
            6.925207756232704,
            -41.47510893210728,
            2.343771018586405,
            24.13215229196062,
            0.0,
            0.0,
            0.0,
        ],
        [
            -14.09640773051259,
            6.925207756232704,
            -41.47510893210728,
            2.343771018586405,
            24.13215229196062,
            1.0,
            0.0,
            0.0,
        ],
        [
            -14.09640773051259,
            6.925207756232704,
            -41.47510893210728,
            2.343771018586405,
            24.13215229196062,
            1.0,
            1.0,
            0.0,
        ],
    ]
)
_ROS5_C = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [-10.31323885133993, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [-21.04823117650003, -7.234992135176716, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [32.22751541853323, -4.943732386540191, 19.44922031041879, 0.0, 0.0, 0.0, 0.0, 0.0],
        [
            -20.69865579590063,
            -8.816374604402768,
            1.260436877740897,
            -0.7495647613787146,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
        [
            -46.22004352711257,
            -17.49534862857472,
            -289.6389582892057,
            93.60855400400906,
            318.3822534212147,
            0.0,
            0.0,
            0.0,
        ],
        [
            34.20013733472935,
            -14.15535402717690,
            57.82335640988400,
            25.83362985412365,
            1.408950972071624,
            -6.551835421242162,
            0.0,
            0.0,
        ],
        [
            42.57076742291101,
            -13.80770672017997,
            93.98938432427124,
            18.77919633714503,
            -31.58359187223370,
            -6.685968952921985,
            -5.810979938412932,
            0.0,
        ],
    ]
)
# weights of the solution: y1 = y0 + sum_j m_j u_j (stiffly accurate: the row of stage 8 plus u_8)
_ROS5_M = np.array(
    [
        -14.09640773051259,
        6.925207756232704,
        -41.47510893210728,
        2.343771018586405,
        24.13215229196062,
        1.0,
        1.0,
        1.0,
    ]
)
# stage times c_i and d_i = sum_j gamma_ij (multiplies h f_t)
_ROS5_CT = np.array(
    [0.0, 0.38, 0.3878509998321533, 0.4839718937873840, 0.4570477008819580, 1.0, 1.0, 1.0]
)
_ROS5_D = np.array(
    [
        0.19,
        -0.1823079225333714636,
        -0.319231832186874912,
        0.3449828624725343,
        -0.377417564392089818,
        0.0,
        0.0,
        0.0,
    ]
)
# dense output K_m = sum_j H[m, j] u_j (derived for this template, see the module notes)
_ROS5_H = np.array(
    [
        [
            27.354592673333567,
            -6.925207756232702,
            26.400377332588423,
            0.5635230501053774,
            -4.699151156849167,
            -1.6008677469422372,
            -1.5306074446747646,
            -0.7720811005120283,
        ],
        [
            44.19024239501693,
            0.0,
            202.93261852171804,
            -35.56693397891573,
            -181.9109515216083,
            3.4116351403664664,
            2.5793540257307623,
            1.2677751177022274,
        ],
        [
            -44.098815002173836,
            0.0,
            -181.26175034586836,
            56.993021948117196,
            183.2118274142757,
            -7.480257918273512,
            -5.792426076169545,
            -2.8554869723011067,
        ],
    ]
)

# Rosenbrock23 (ode23s): d = 1/(2 + sqrt(2)), e32 = 6 + sqrt(2)
_ROS23_D = 1.0 / (2.0 + math.sqrt(2.0))
_ROS23_E32 = 6.0 + math.sqrt(2.0)

_ROS_EPS = 2.220446049250313e-16


@_jit
def _ros_lu(a, piv):
    # In-place LU with partial pivoting (row swaps recorded in piv); False if singular.
    n = a.shape[0]
    for k in range(n):
        r = k
        amax = abs(a[k, k])
        for i in range(k + 1, n):
            v = abs(a[i, k])
            if v > amax:
                amax = v
                r = i
        if not (amax > 0.0) or not math.isfinite(amax):
            return False
        piv[k] = r
        if r != k:
            for j in range(n):
                tmp = a[k, j]
                a[k, j] = a[r, j]
                a[r, j] = tmp
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            lik = a[i, k] * inv
            a[i, k] = lik
            if lik != 0.0:
                for j in range(k + 1, n):
                    a[i, j] -= lik * a[k, j]
    return True


@_jit
def _ros_lu_solve(a, piv, b):
    # Solves (LU) x = P b in place of b.
    n = a.shape[0]
    for k in range(n):
        r = piv[k]
        if r != k:
            tmp = b[k]
            b[k] = b[r]
            b[r] = tmp
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= a[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= a[i, j] * b[j]
        b[i] = s / a[i, i]


@_jit
def _ros_error_norm(err, y, ynew, rtol, atol):
    # RMS of err_i / (atol_i + rtol_i * max(|y_i|, |ynew_i|)); NaN stays NaN.
    n = err.shape[0]
    s = 0.0
    for i in range(n):
        sc = atol[i] + rtol[i] * max(abs(y[i]), abs(ynew[i]))
        e = err[i] / sc
        s += e * e
    return math.sqrt(s / n)


@_jit
def _ros_all_finite(v):
    for i in range(v.shape[0]):  # noqa: SIM110 - a plain loop compiles under numba
        if not math.isfinite(v[i]):
            return False
    return True


@_jit
def _ros_dfdt(t, y, p, h, f0, dfdt, ftmp, counters):
    # df/dt by a central difference in t (exact for f linear in t); where f is not
    # finite before t (sqrt(t) at t = 0, say) a forward difference, else 0.
    delta = max(6.0554544523933395e-06 * abs(h), 1.4901161193847656e-08 * abs(t), 1e-290)
    tp = t + delta
    tm = t - delta
    rhs(tp, y, p, dfdt)
    rhs(tm, y, p, ftmp)
    counters[2] += 2
    inv = 1.0 / (tp - tm)
    inv_fwd = 1.0 / (tp - t)
    for i in range(y.shape[0]):
        v = (dfdt[i] - ftmp[i]) * inv
        if not math.isfinite(v):
            v = (dfdt[i] - f0[i]) * inv_fwd
            if not math.isfinite(v):
                v = 0.0
        dfdt[i] = v


@_jit
def _ros_initial_step(t0, t1, y0, f0, p, rtol, atol, q, hmax, ytmp, ftmp, counters):
    # Hairer, Norsett & Wanner I, II.4: h ~ (0.01 / max(|f|, |f'|))^(1/q), one rhs call.
    n = y0.shape[0]
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol[i] + rtol[i] * abs(y0[i])
        d0 += (y0[i] / sc) ** 2
        d1 += (f0[i] / sc) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, hmax, t1 - t0)
    for i in range(n):
        ytmp[i] = y0[i] + h0 * f0[i]
    rhs(t0 + h0, ytmp, p, ftmp)
    counters[2] += 1
    d2 = 0.0
    for i in range(n):
        sc = atol[i] + rtol[i] * abs(y0[i])
        d2 += ((ftmp[i] - f0[i]) / sc) ** 2
    d2 = math.sqrt(d2 / n) / h0
    dm = max(d1, d2)
    if not math.isfinite(dm):
        h1 = h0 * 1e-3
    elif dm <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / dm) ** (1.0 / q)
    return min(100.0 * h0, h1, hmax, t1 - t0)


@_jit
def _ros5_step(t, y, h, p, J, f0, dfdt, W, piv, U, ytmp, ftmp, ynew, err, counters):
    # One Rodas5 attempt: fills U (8, n), ynew and err; False if W is singular.
    n = y.shape[0]
    inv_hg = 1.0 / (h * _ROS5_GAMMA)
    for i in range(n):
        for j in range(n):
            W[i, j] = -J[i, j]
        W[i, i] += inv_hg
    counters[4] += 1
    if not _ros_lu(W, piv):
        return False
    inv_h = 1.0 / h
    for i in range(n):
        U[0, i] = f0[i] + h * _ROS5_D[0] * dfdt[i]
    _ros_lu_solve(W, piv, U[0])
    for s in range(1, 8):
        for i in range(n):
            v = y[i]
            for j in range(s):
                v += _ROS5_A[s, j] * U[j, i]
            ytmp[i] = v
        rhs(t + _ROS5_CT[s] * h, ytmp, p, ftmp)
        counters[2] += 1
        ds = _ROS5_D[s] * h
        for i in range(n):
            v = ftmp[i] + ds * dfdt[i]
            for j in range(s):
                v += _ROS5_C[s, j] * inv_h * U[j, i]
            U[s, i] = v
        _ros_lu_solve(W, piv, U[s])
    # stiffly accurate: y1 = (argument of stage 8) + u_8, and u_8 is the error estimate
    for i in range(n):
        ynew[i] = ytmp[i] + U[7, i]
        err[i] = U[7, i]
    return True


@_jit
def _ros5_dense(y, ynew, U, P):
    # y(theta) = y + theta (P0 + theta (P1 + theta (P2 + theta P3)))
    n = y.shape[0]
    for i in range(n):
        k1 = 0.0
        k2 = 0.0
        k3 = 0.0
        for j in range(8):
            u = U[j, i]
            k1 += _ROS5_H[0, j] * u
            k2 += _ROS5_H[1, j] * u
            k3 += _ROS5_H[2, j] * u
        P[0, i] = ynew[i] - y[i] + k1
        P[1, i] = k2 - k1
        P[2, i] = k3 - k2
        P[3, i] = -k3


@_jit
def _ros23_step(t, y, h, p, J, f0, dfdt, W, piv, U, ytmp, ftmp, ynew, err, counters):
    # One ode23s attempt: k1, k2, k3 in U[0:3]; f(t + h, ynew) left in ftmp (FSAL).
    n = y.shape[0]
    hd = h * _ROS23_D
    for i in range(n):
        for j in range(n):
            W[i, j] = -hd * J[i, j]
        W[i, i] += 1.0
    counters[4] += 1
    if not _ros_lu(W, piv):
        return False
    for i in range(n):
        U[0, i] = f0[i] + hd * dfdt[i]
    _ros_lu_solve(W, piv, U[0])
    for i in range(n):
        ytmp[i] = y[i] + 0.5 * h * U[0, i]
    rhs(t + 0.5 * h, ytmp, p, ftmp)  # F1
    counters[2] += 1
    for i in range(n):
        U[1, i] = ftmp[i] - U[0, i]
    _ros_lu_solve(W, piv, U[1])
    for i in range(n):
        U[1, i] += U[0, i]
        ynew[i] = y[i] + h * U[1, i]
        U[2, i] = ftmp[i]  # keep F1
    rhs(t + h, ynew, p, ftmp)  # F2
    counters[2] += 1
    for i in range(n):
        U[2, i] = (
            ftmp[i] - _ROS23_E32 * (U[1, i] - U[2, i]) - 2.0 * (U[0, i] - f0[i]) + hd * dfdt[i]
        )
    _ros_lu_solve(W, piv, U[2])
    for i in range(n):
        err[i] = h / 6.0 * (U[0, i] - 2.0 * U[1, i] + U[2, i])
    return True


@_jit
def _ros23_dense(y, h, U, P):
    # y(s) = y + h (s (1 - s) k1 + s (s - 2d) k2) / (1 - 2d)
    n = y.shape[0]
    c = h / (1.0 - 2.0 * _ROS23_D)
    for i in range(n):
        P[0, i] = c * (U[0, i] - 2.0 * _ROS23_D * U[1, i])
        P[1, i] = c * (U[1, i] - U[0, i])
        P[2, i] = 0.0
        P[3, i] = 0.0


@_jit
def _ros_dense_eval(y, P, theta, out):
    for i in range(y.shape[0]):
        out[i] = y[i] + theta * (P[0, i] + theta * (P[1, i] + theta * (P[2, i] + theta * P[3, i])))


@_jit
def _ros_event_at(t, h, y, P, p, tq, k, ytmp, gtmp):
    # Event function k on the dense output at time tq.
    _ros_dense_eval(y, P, (tq - t) / h, ytmp)
    events(tq, ytmp, p, gtmp)
    return gtmp[k]


@_jit
def _ros_locate(t, h, y, P, p, k, ga, gb, tb, ytmp, gtmp):
    # Illinois (modified regula falsi) on [t, tb] where g_k changes sign; returns the
    # end of the final bracket on the far side of the crossing.
    a = t
    b = tb
    side = 0
    for _it in range(200):
        if b - a <= 4.0 * _ROS_EPS * max(abs(a), abs(b)) or gb == 0.0:
            break
        tm = b - gb * (b - a) / (gb - ga)
        if not (a < tm < b):
            tm = 0.5 * (a + b)
        gm = _ros_event_at(t, h, y, P, p, tm, k, ytmp, gtmp)
        if gm == 0.0:
            return tm
        if (gm > 0.0) == (gb > 0.0):
            b = tm
            gb = gm
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            a = tm
            ga = gm
            if side == 1:
                gb *= 0.5
            side = 1
    return b


@_jit
def _ros_grow(buf_t, buf_y, saved):
    if saved < buf_t.shape[0]:
        return buf_t, buf_y
    cap = max(2 * buf_t.shape[0], 16)
    bt = np.empty(cap)
    by = np.empty((cap, buf_y.shape[1]))
    bt[:saved] = buf_t[:saved]
    by[:saved, :] = buf_y[:saved, :]
    return bt, by


@_jit
def _ros_integrate(
    scheme,
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    # Shared driver of rodas5_member (scheme 5) and ros23_member (scheme 23).
    n = y0.shape[0]
    y = y0.copy()
    if IS_MAP:  # maps are iterated by map_member, never by a stiff scheme
        counters[6] = 6
        return t0, y, buf_t, buf_y
    q = 5.0 if scheme == 5 else 3.0
    safety = cfg[2]
    fmin = cfg[3]
    fmax = cfg[4]
    threshold = cfg[6]
    max_steps = cfg[7]
    hmax = cfg[1] if cfg[1] > 0.0 else math.inf

    J = np.empty((n, n))
    W = np.empty((n, n))
    piv = np.zeros(n, dtype=np.int64)
    U = np.empty((8, n))
    P = np.zeros((4, n))
    f0 = np.empty(n)
    dfdt = np.empty(n)
    ynew = np.empty(n)
    err = np.empty(n)
    ytmp = np.empty(n)
    ftmp = np.empty(n)
    yev = np.empty(n)
    ne = min(NUM_EVENTS, ev_dir.shape[0])
    g_old = np.empty(NUM_EVENTS)
    g_new = np.empty(NUM_EVENTS)
    g_tmp = np.empty(NUM_EVENTS)
    cross_t = np.empty(NUM_EVENTS)
    cross_k = np.empty(NUM_EVENTS, dtype=np.int64)
    emax = out_ev_t.shape[0]

    # rows of t_eval at or before t0 (a previous scheme may have filled the earlier ones)
    k_eval = t_eval.shape[0]
    j_eval = 0
    while j_eval < k_eval and t_eval[j_eval] < t0:
        j_eval += 1
    while j_eval < k_eval and t_eval[j_eval] == t0:
        out_y[j_eval, :] = y
        j_eval += 1

    saved = 0
    if save_all == 1:
        saved = counters[8]
        if saved < 0 or saved > buf_t.shape[0]:
            saved = 0
        if saved == 0 or buf_t[saved - 1] != t0:
            buf_t, buf_y = _ros_grow(buf_t, buf_y, saved)
            buf_t[saved] = t0
            buf_y[saved, :] = y
            saved += 1

    t = t0
    status = 0
    rhs(t, y, p, f0)
    counters[2] += 1
    if NUM_EVENTS > 0:
        events(t, y, p, g_old)
    if not _ros_all_finite(f0):
        status = 3
    h = 0.0
    if status != 0 or not t0 < t1:
        pass
    elif cfg[0] > 0.0:
        h = min(cfg[0], hmax, t1 - t0)
    else:
        h = _ros_initial_step(t0, t1, y, f0, p, rtol, atol, q, hmax, ytmp, ftmp, counters)
    have_jac = False
    fresh_f0 = True
    rejected = False
    num_steps = 0
    num_singular = 0
    num_nonfinite = 0
    h_acc = 0.0
    err_acc = 0.0
    num_acc = 0
    while status == 0 and t < t1:
        if num_steps >= max_steps:
            status = 4
            break
        if not fresh_f0:
            rhs(t, y, p, f0)
            counters[2] += 1
            fresh_f0 = True
            if not _ros_all_finite(f0):
                status = 3
                break
        if not have_jac:
            jac(t, y, p, J)
            counters[3] += 1
            ok = True
            for i in range(n):
                for j in range(n):
                    if not math.isfinite(J[i, j]):
                        ok = False
            if not ok:
                status = 3
                break
            _ros_dfdt(t, y, p, h, f0, dfdt, ftmp, counters)
            have_jac = True
        h = min(h, hmax)
        last = False
        if t + 1.01 * h >= t1:
            h = t1 - t
            last = True
        if h < 10.0 * _ROS_EPS * abs(t) or not (h > 0.0):
            status = 3 if num_nonfinite > 0 else 5
            break
        num_steps += 1
        if scheme == 5:
            ok = _ros5_step(t, y, h, p, J, f0, dfdt, W, piv, U, ytmp, ftmp, ynew, err, counters)
        else:
            ok = _ros23_step(t, y, h, p, J, f0, dfdt, W, piv, U, ytmp, ftmp, ynew, err, counters)
        if not ok:
            counters[1] += 1
            num_singular += 1
            if num_singular > 10:
                status = 6
                break
            h *= 0.25
            rejected = True
            continue
        num_singular = 0
        e = _ros_error_norm(err, y, ynew, rtol, atol)
        if not math.isfinite(e) or not _ros_all_finite(ynew):
            counters[1] += 1
            num_nonfinite += 1
            if num_nonfinite > 50:  # h shrank by min_factor^50 and still no finite step
                status = 3
                break
            h *= fmin
            rejected = True
            continue
        if e > 1.0:
            counters[1] += 1
            h *= max(fmin, safety * e ** (-1.0 / q))
            rejected = True
            continue
        # ---- accepted
        num_nonfinite = 0
        counters[0] += 1
        t_new = t1 if last else t + h
        if scheme == 5:
            _ros5_dense(y, ynew, U, P)
        else:
            _ros23_dense(y, h, U, P)
        t_stop = t_new
        terminal = False
        if NUM_EVENTS > 0:
            events(t_new, ynew, p, g_new)
            num_cross = 0
            for k in range(ne):
                ga = g_old[k]
                gb = g_new[k]
                d = ev_dir[k]
                up = ga < 0.0 and gb >= 0.0
                down = ga > 0.0 and gb <= 0.0
                if (up and d >= 0) or (down and d <= 0):
                    tk = _ros_locate(t, h, y, P, p, k, ga, gb, t_new, yev, g_tmp)
                    pos = num_cross  # insertion sort by time
                    while pos > 0 and cross_t[pos - 1] > tk:
                        cross_t[pos] = cross_t[pos - 1]
                        cross_k[pos] = cross_k[pos - 1]
                        pos -= 1
                    cross_t[pos] = tk
                    cross_k[pos] = k
                    num_cross += 1
            for c in range(num_cross):
                tk = cross_t[c]
                k = cross_k[c]
                _ros_dense_eval(y, P, (tk - t) / h, yev)
                counters[7] += 1
                slot = counters[5]
                if slot < emax:
                    out_ev_t[slot] = tk
                    out_ev_y[slot, :] = yev
                    out_ev_i[slot] = k
                    counters[5] += 1
                if ev_term[k] == 1:
                    terminal = True
                    t_stop = tk
                    break
            for k in range(NUM_EVENTS):
                g_old[k] = g_new[k]
        # outputs at t_eval by the dense output
        while j_eval < k_eval and t_eval[j_eval] <= t_stop:
            if t_eval[j_eval] == t_new:
                out_y[j_eval, :] = ynew
            else:
                _ros_dense_eval(y, P, (t_eval[j_eval] - t) / h, ytmp)
                out_y[j_eval, :] = ytmp
            j_eval += 1
        if terminal:
            _ros_dense_eval(y, P, (t_stop - t) / h, yev)
            y[:] = yev
            t = t_stop
        else:
            y[:] = ynew
            t = t_new
        if save_all == 1:
            buf_t, buf_y = _ros_grow(buf_t, buf_y, saved)
            buf_t[saved] = t
            buf_y[saved, :] = y
            saved += 1
        if terminal:
            status = 1
            break
        big = False
        for i in range(n):
            if abs(y[i]) > threshold:
                big = True
        if big:
            status = 2
            break
        # step-size controller with Gustafsson's prediction (Hairer's RODAS)
        e = max(e, 1e-10)
        fac = safety * e ** (-1.0 / q)
        if num_acc > 0:
            fac_g = safety * (h / h_acc) * (err_acc / (e * e)) ** (1.0 / q)
            fac_g = min(fmax, max(fmin, fac_g))
            fac = min(fac, fac_g)
        fac = min(fmax, max(fmin, fac))
        h_acc = h
        err_acc = max(1e-2, e)
        num_acc += 1
        h_next = h * fac
        if rejected:
            h_next = min(h_next, h)
        h = h_next
        rejected = False
        have_jac = False
        if scheme == 5:
            fresh_f0 = False
        else:
            for i in range(n):
                f0[i] = ftmp[i]  # FSAL: f(t_new, y_new) of the last attempt
    counters[6] = status
    if save_all == 1:
        counters[8] = saved
    return t, y, buf_t, buf_y


@_jit
def rodas5_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    # Rodas5 (Di Marzo 1993): stiffly accurate Rosenbrock 5(4), L-stable; tab is unused.
    return _ros_integrate(
        5,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def ros23_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    # Rosenbrock 2(3) of Shampine & Reichelt (ode23s), L-stable; tab is unused.
    return _ros_integrate(
        23,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_pjit
def rodas5_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    m = y0s.shape[0]
    n_var = y0s.shape[1]
    for i in prange(m):
        bt = np.empty(1)
        by = np.empty((1, n_var))
        tf, _yf, bt, by = _ros_integrate(
            5,
            y0s[i],
            ps[i],
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            ev_dir,
            ev_term,
            out_y[i],
            out_ev_t[i],
            out_ev_y[i],
            out_ev_i[i],
            counters[i],
            0,
            bt,
            by,
        )
        t_final[i] = tf


@_pjit
def ros23_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    m = y0s.shape[0]
    n_var = y0s.shape[1]
    for i in prange(m):
        bt = np.empty(1)
        by = np.empty((1, n_var))
        tf, _yf, bt, by = _ros_integrate(
            23,
            y0s[i],
            ps[i],
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            ev_dir,
            ev_term,
            out_y[i],
            out_ev_t[i],
            out_ev_y[i],
            out_ev_i[i],
            counters[i],
            0,
            bt,
            by,
        )
        t_final[i] = tf
