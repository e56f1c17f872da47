"""Guesses that need the solver or the flow: orientation, and the homotopy from a Hopf point.

:func:`guess_from_hopf` follows the cycles born at a Hopf point (x_H, p_H) along the straight
line p_H + alpha (p - p_H), alpha from 0 to 1, by continuation from the small circle of
the critical eigenvector; the branch is then cut at alpha = 1 by linear interpolation
between the two points around it, and the caller's Newton solve finishes the job.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from stabkit.analysis._collocation import interpolate_nodes
from stabkit.analysis._cycle_solve import Collocation, uniform_nodes
from stabkit.analysis._cycle_start import Guess, circle_nodes, hopf_data, hopf_params
from stabkit.analysis._cycle_trace import trace_cycles
from stabkit.analysis._palc import PALC
from stabkit.errors import InputError
from stabkit.model.codegen import CompiledModel
from stabkit.model.model import Model

__all__ = ["guess_from_hopf", "orient"]


def orient(compiled: CompiledModel, guess: Guess, p: np.ndarray) -> Guess:
    """Reverse a guess that runs against the flow (sum of <u', f(u)> over the nodes < 0)."""
    nodes = guess.nodes
    flow = np.empty_like(nodes)
    with np.errstate(all="ignore"):
        for r in range(nodes.shape[0]):
            compiled.rhs(0.0, np.ascontiguousarray(nodes[r]), p, flow[r])
    forward = np.gradient(nodes, axis=0)
    if not np.isfinite(np.sum(forward * flow)) or np.sum(forward * flow) >= 0.0:
        return guess
    mesh = 1.0 - guess.mesh[::-1]
    return dataclasses.replace(guess, mesh=mesh, nodes=nodes[::-1].copy())


def guess_from_hopf(
    model: Model, compiled: CompiledModel, start: Any, p: np.ndarray, method: Collocation
) -> Guess:
    """Follow the cycles from the Hopf point along the straight line to ``p`` (alpha 0 -> 1)."""
    p_h = hopf_params(model, start, None)
    direction = p - p_h
    if float(np.max(np.abs(direction))) <= 1e-12 * (1.0 + float(np.max(np.abs(p)))):
        raise InputError(
            "find_cycle(start=Hopf point): params equal the Hopf point's; at the point itself "
            "the cycle has zero amplitude: pass params beyond it"
        )
    data = hopf_data(compiled, model, start, p_h)
    mesh, tau = uniform_nodes(method.num_intervals, method.degree)
    eps = 1e-3 * (1.0 + float(np.max(np.abs(data.state))))
    nodes = circle_nodes(data, eps, tau)
    wave = circle_nodes(data, 1.0, tau) - data.state[None, :]

    period0 = 2.0 * math.pi / data.omega

    def stop(alpha: float, period: float, nodes_: np.ndarray) -> str | tuple[str, str] | None:
        if alpha >= 1.0:
            return "reached"
        if alpha <= -20.0:  # a subcritical branch may fold back; this one went far away
            return ("not_reached", "the cycles born at the Hopf point lie on the other side")
        if period > 50.0 * period0:
            return ("not_reached", "the period grew 50-fold (a homoclinic orbit on the way)")
        return None

    palc = PALC(ds=eps, ds_max=0.25, ds_min=1e-9, max_points=400)
    out = trace_cycles(
        compiled, p_h, (p_h, direction), mesh, nodes, period0, 0.0, palc,
        method, tangent_nodes=wave, stop=stop, detect=False, parameter_name="the homotopy fraction",
        multipliers=False,
    )  # fmt: skip
    if not out.points or out.points[-1].alpha < 1.0 or len(out.points) < 2:
        why = out.message if out.status != "ok" else "the branch turned back"
        return Guess(
            "not_reached",
            "following the cycles from the Hopf point did not reach params "
            f"(stopped at {out.points[-1].alpha if out.points else 0.0:.3g} of the way: {why}); "
            "the Hopf bifurcation may be subcritical in this direction; try continue_cycles",
        )
    a, b = out.points[-2], out.points[-1]
    a_nodes = interpolate_nodes(a.mesh, a.nodes, method.degree, b.mesh, method.degree)
    s = (1.0 - a.alpha) / (b.alpha - a.alpha)
    nodes_1 = a_nodes + s * (b.nodes - a_nodes)
    return Guess("ok", "", b.mesh, nodes_1, a.period + s * (b.period - a.period))
