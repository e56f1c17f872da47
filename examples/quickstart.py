"""A first tour of stabkit's Python API.

Run it from the repository root after ``make demo`` (which creates .venv)::

    .venv/bin/python examples/quickstart.py

The first run compiles the model kernels (a few seconds each); they are cached on
disk, so the second run starts at once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import stabkit
from stabkit import Dopri5, Rodas5
from stabkit.report import new_figure, plot_ensemble_final_states, plot_phase_portrait, save_figure

HERE = Path(__file__).resolve().parent
OUT = Path(tempfile.mkdtemp(prefix="stabkit-quickstart-"))

# 1. A model from a file: the Brusselator, whose equilibrium (a, b/a) loses stability
#    at b = 1 + a^2. At b = 3 the trajectory settles on a limit cycle.
model = stabkit.load_model(HERE / "brusselator.toml")
print(model)

t_eval = np.linspace(0.0, 40.0, 401)
traj = stabkit.solve(model, t_span=(0.0, 40.0), method=Dopri5(rtol=1e-8), t_eval=t_eval)
late = traj["x"][t_eval > 20]  # after the transient
print(
    f"b = 3:   status {traj.status}; x keeps oscillating in [{late.min():.3f}, {late.max():.3f}]; "
    f"compile {traj.stats.compile_time:.2f} s, run {1e3 * traj.stats.wall_time:.1f} ms"
)

# 2. Other parameter values without editing the file: below the Hopf point the
#    equilibrium is stable and the trajectory ends there.
calm = stabkit.solve(model, t_span=(0.0, 40.0), params={"b": 1.5}, t_eval=t_eval)
print(f"b = 1.5: ends at {np.round(calm.y_final, 4)} = (a, b/a) = (1, 1.5)")

# 3. Methods are objects: a stiff problem from the model library with Rodas5.
robertson = stabkit.library.robertson()
stiff = stabkit.solve(robertson, t_span=(0.0, 1e5), method=Rodas5(rtol=1e-6, atol=1e-10))
print(f"Robertson with Rodas5: {stiff.status} in {stiff.stats.num_steps} steps")

# 4. An ensemble: 1000 Lorenz states near the default one, integrated in parallel.
lorenz = stabkit.library.lorenz()
rng = np.random.default_rng(seed=0)
y0s = lorenz.state_vector() + 0.01 * rng.standard_normal((1000, lorenz.num_variables))
ens = stabkit.solve_ensemble(
    lorenz, y0s, (0.0, 20.0), method=Dopri5(), t_eval=np.linspace(0.0, 20.0, 201)
)
print(f"Lorenz ensemble: {ens.status_counts()}, y has shape {ens.y.shape}")
print("saved", ens.save(OUT / "lorenz.parquet"))

# 5. Figures (matplotlib, from the [report] extra).
fig, (left, right) = new_figure(1, 2, figsize=(11, 4.5))
plot_phase_portrait(traj, "x", "y", ax=left)
plot_ensemble_final_states(ens, "x", "z", ax=right, show_initial=True)
print("saved", save_figure(fig, OUT / "quickstart.png"))
