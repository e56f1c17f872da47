"""Integrator templates appended to every generated kernel module (see CONTRACT.md)."""
