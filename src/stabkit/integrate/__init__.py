"""How a system moves: ODE and map integration, single trajectories and ensembles."""
