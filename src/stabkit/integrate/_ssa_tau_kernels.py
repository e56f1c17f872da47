"""Template: tau-leaping kernels, appended after :mod:`stabkit.integrate._ssa_kernels`.

Tau-leaping with the step selection of Cao, Gillespie and Petzold (2006): critical
reactions (fewer than ``n_critical`` firings left) fire at most once per leap, the leap
bounds the relative change of every propensity by ``eps``, leaps shorter than
``n_fallback / a0`` give way to ``n_exact`` exact steps, and a leap that would make a
count negative is halved and drawn again. The shared helpers (random numbers, output
rows, firing, exact steps) come from the direct-method template; see its docstring for
the arguments.
"""

import math
from typing import Any

import numpy as np


# stand-ins for linters: the generated module defines these above the body
def _jit(fn: Any) -> Any:
    return fn


_ssa_all: Any = None
_ssa_direct_steps: Any = None
_ssa_exponential: Any = None
_ssa_fire: Any = None
_ssa_poisson: Any = None
_ssa_record: Any = None
_ssa_uniform: Any = None
_ST_MAX = 1
_ST_OK = 0
_ST_PROPENSITY = 2

# ---- template body ----


# ---- tau-leaping with the step selection of Cao, Gillespie and Petzold (2006)
@_jit
def _ssa_g(hor, coef, xi):
    # g_i of CGP (2006), eq. 27: (hor / coef) * (coef + sum_{m<coef} m / (x_i - m))
    g = float(coef)
    for m in range(1, coef):
        g += m / max(xi - m, 1.0)
    return g * hor / coef


@_jit
def ssa_tau_member(
    x0, p, t0, t_grid, max_reactions, s, out_r, fired_r, cnt_r,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
    re_idx, re_ptr, hor, hor_coef, eps, n_critical, n_fallback, n_exact,
):  # fmt: skip
    n_r = ch_ptr.shape[0] - 1
    n_s = x0.shape[0]
    n_t = t_grid.shape[0]
    x = x0.copy()
    x_new = np.empty(n_s)
    a = np.empty(n_r)
    critical = np.zeros(n_r, dtype=np.bool_)
    leaps = np.zeros(n_r)
    mu = np.empty(n_s)
    sigma2 = np.empty(n_s)
    t = t0
    k = _ssa_record(out_r, 0, t_grid, t, x, True)
    count = 0
    status = _ST_OK
    while k < n_t:
        if _ssa_all(x, p, a) >= 0:
            status = _ST_PROPENSITY
            break
        if count >= max_reactions:
            status = _ST_MAX
            break
        a0 = 0.0
        for j in range(n_r):
            a0 += a[j]
        if a0 <= 0.0:
            k = _ssa_record(out_r, k, t_grid, math.inf, x, True)
            break
        # critical reactions: fewer than n_critical firings left before a reactant runs out
        a0c = 0.0
        for i in range(n_s):
            mu[i] = 0.0
            sigma2[i] = 0.0
        for j in range(n_r):
            critical[j] = False
            if a[j] <= 0.0:
                continue
            firings = math.inf
            for q in range(ch_ptr[j], ch_ptr[j + 1]):
                if ch_val[q] < 0.0:
                    firings = min(firings, math.floor(x[ch_idx[q]] / -ch_val[q]))
            if firings < n_critical:
                critical[j] = True
                a0c += a[j]
                continue
            for q in range(ch_ptr[j], ch_ptr[j + 1]):
                i = ch_idx[q]
                mu[i] += ch_val[q] * a[j]
                sigma2[i] += ch_val[q] * ch_val[q] * a[j]
        tau1 = math.inf
        for i in range(n_s):  # I_rs: every reactant species (CGP 2006, eq. 33)
            if hor[i] == 0:
                continue
            bound = max(eps * x[i] / _ssa_g(hor[i], hor_coef[i], x[i]), 1.0)
            if mu[i] != 0.0:
                tau1 = min(tau1, bound / abs(mu[i]))
            if sigma2[i] != 0.0:
                tau1 = min(tau1, bound * bound / sigma2[i])
        if tau1 < n_fallback / a0:
            # leaping would take few reactions per step: exact steps instead
            before = count
            t, k, count, status, done = _ssa_direct_steps(
                x, a, p, t, k, n_exact, count, max_reactions, t_grid, out_r, fired_r,
                ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr, s,
            )  # fmt: skip
            cnt_r[1] += count - before
            if done:
                break
            k = _ssa_record(out_r, k, t_grid, t, x, True)
            continue
        while True:
            tau2 = _ssa_exponential(s) / a0c if a0c > 0.0 else math.inf
            tau = min(tau1, tau2)
            fire_critical = tau2 <= tau1
            on_grid = t + tau >= t_grid[k]
            if on_grid:  # end the leap on the next output time
                tau = t_grid[k] - t
                fire_critical = False
            for i in range(n_s):
                x_new[i] = x[i]
            total = 0.0
            if fire_critical:
                target = _ssa_uniform(s) * a0c
                c = -1
                acc = 0.0
                for j in range(n_r):
                    if critical[j]:
                        c = j
                        acc += a[j]
                        if acc > target:
                            break
                leaps[:] = 0.0
                leaps[c] = 1.0
                _ssa_fire(c, x_new, ch_idx, ch_val, ch_ptr, 1.0)
                total += 1.0
            else:
                leaps[:] = 0.0
            for j in range(n_r):
                if critical[j] or a[j] <= 0.0:
                    continue
                n_j = _ssa_poisson(a[j] * tau, s)
                if n_j > 0.0:
                    leaps[j] += n_j
                    total += n_j
                    _ssa_fire(j, x_new, ch_idx, ch_val, ch_ptr, n_j)
            negative = False
            for i in range(n_s):
                if x_new[i] < 0.0:
                    negative = True
            if not negative:
                break
            tau1 *= 0.5  # CGP step 5: halve the step and draw again
            cnt_r[3] += 1
        for i in range(n_s):
            x[i] = x_new[i]
        for j in range(n_r):
            fired_r[j] += int(leaps[j])
        count += int(total)
        cnt_r[2] += 1
        t = t_grid[k] if on_grid else t + tau
        k = _ssa_record(out_r, k, t_grid, t, x, True)
    cnt_r[0] += count
    return status, t


@_jit
def ssa_tau_batch(
    lo, hi, x0, p, t0, t_grid, max_reactions, seeds, out, fired, status, t_stop, counters,
    ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
    re_idx, re_ptr, hor, hor_coef, eps, n_critical, n_fallback, n_exact,
):  # fmt: skip
    x0 = x0.copy()
    p = p.copy()
    t_grid = t_grid.copy()
    ch_idx = ch_idx.copy()
    ch_val = ch_val.copy()
    ch_ptr = ch_ptr.copy()
    dep_idx = dep_idx.copy()
    dep_ptr = dep_ptr.copy()
    re_idx = re_idx.copy()
    re_ptr = re_ptr.copy()
    hor = hor.copy()
    hor_coef = hor_coef.copy()
    out_r = np.empty((t_grid.shape[0], x0.shape[0]))
    fired_r = np.empty(ch_ptr.shape[0] - 1, dtype=np.int64)
    cnt_r = np.empty(4, dtype=np.int64)
    for r in range(lo, hi):
        s = seeds[r].copy()
        out_r[:, :] = np.nan
        fired_r[:] = 0
        cnt_r[:] = 0
        st, ts = ssa_tau_member(
            x0, p, t0, t_grid, max_reactions, s, out_r, fired_r, cnt_r,
            ch_idx, ch_val, ch_ptr, dep_idx, dep_ptr,
            re_idx, re_ptr, hor, hor_coef, eps, n_critical, n_fallback, n_exact,
        )  # fmt: skip
        out[r] = out_r
        fired[r] = fired_r
        counters[r] = cnt_r
        status[r] = st
        t_stop[r] = ts
