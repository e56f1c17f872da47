"""Template: exact iteration of maps x[n+1] = f(n, x[n], p)."""

import math

import numpy as np

# ---- template body ----


@_jit
def map_member(
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
    # Iterates from n = t0 to n = t1 (integers); out_y[j] holds x[t_eval[j]].
    n_var = y0.shape[0]
    y = y0.copy()
    ynew = np.empty(n_var)
    threshold = cfg[6]
    n0 = int(round(t0))
    n1 = int(round(t1))
    k = t_eval.shape[0]
    j = 0
    while j < k and t_eval[j] < n0 - 0.5:
        j += 1
    saved = 0
    if save_all == 1:
        buf_t[0] = n0
        buf_y[0, :] = y
        saved = 1
    n = n0
    status = 0
    while True:
        while j < k and abs(t_eval[j] - n) < 0.5:
            out_y[j, :] = y
            j += 1
        if n >= n1:
            break
        rhs(float(n), y, p, ynew)
        counters[2] += 1
        bad = False
        big = False
        for i in range(n_var):
            v = ynew[i]
            if not math.isfinite(v):
                bad = True
            elif abs(v) > threshold:
                big = True
        if bad:
            status = 3
            break
        y[:] = ynew
        n += 1
        counters[0] += 1
        if save_all == 1:
            if saved >= buf_t.shape[0]:
                cap = 2 * buf_t.shape[0]
                bt = np.empty(cap)
                by = np.empty((cap, n_var))
                bt[:saved] = buf_t[:saved]
                by[:saved, :] = buf_y[:saved, :]
                buf_t = bt
                buf_y = by
            buf_t[saved] = n
            buf_y[saved, :] = y
            saved += 1
        if big:
            status = 2
            while j < k and abs(t_eval[j] - n) < 0.5:
                out_y[j, :] = y
                j += 1
            break
    counters[6] = status
    counters[8] = saved
    return float(n), y, buf_t, buf_y


@_pjit
def map_ensemble(
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
        tf, _yf, bt, by = map_member(
            y0s[i],
            ps[i],
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
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
