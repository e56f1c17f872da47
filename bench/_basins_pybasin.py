"""pybasin on the driven Duffing oscillator, run by bench/basins.py in pybasin's own Python.

pybasin needs Python >= 3.12 (stabkit's environment may be 3.11), so bench/basins.py runs
this file with another interpreter (``--pybasin-python``) and reads one JSON line from its
standard output: ``{"n", "seconds", "cpu_seconds", "fractions", "version", ...}``.

The system and settings follow pybasin's Duffing case study: x'' + delta x' + k3 x^3 =
A cos(t) with delta = 0.08, k3 = 1, A = 0.2; states uniform in [-1, 1] x [-0.5, 1];
torchdiffeq dopri5 over t in (0, 1000), steady-state window (900, 1000); default features
and clustering.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time


def main(n: int, t_end: float, seed: int) -> None:
    import logging

    import torch
    from pybasin import BasinStabilityEstimator, set_seed
    from pybasin.sampler import UniformRandomSampler
    from pybasin.solvers.torch_ode_system import ODESystem
    from pybasin.solvers.torchdiffeq_solver import TorchDiffEqSolver

    logging.getLogger("pybasin").setLevel(logging.WARNING)

    class Duffing(ODESystem):  # type: ignore[type-arg,misc]
        def ode(self, t: torch.Tensor, y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
            delta, k3, amp = p[..., 0], p[..., 1], p[..., 2]
            x, v = y[..., 0], y[..., 1]
            return torch.stack([v, -delta * v - k3 * x**3 + amp * torch.cos(t)], dim=-1)

    set_seed(seed)
    system = Duffing({"delta": 0.08, "k3": 1.0, "amplitude": 0.2})
    sampler = UniformRandomSampler([-1.0, -0.5], [1.0, 1.0], device="cpu")
    solver = TorchDiffEqSolver(
        t_span=(0.0, t_end), t_steps=1000, device="cpu", t_eval=(0.9 * t_end, t_end),
        cache_dir=None,
    )  # fmt: skip
    estimator = BasinStabilityEstimator(ode_system=system, sampler=sampler, n=n, solver=solver)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = estimator.run()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    out = {
        "n": int(result["n_samples"]),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "fractions": {str(k): float(v) for k, v in result["basin_stability"].items()},
        "version": importlib.metadata.version("pybasin"),
        "python": sys.version.split()[0],
        "torch_threads": torch.get_num_threads(),
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
