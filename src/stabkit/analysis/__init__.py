"""What stability a system has (equilibria, continuation, Lyapunov spectra, basins, ...)."""
