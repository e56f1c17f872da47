"""Equilibria on a parameter grid: coarse global search, then flood-fill Newton continuation.

At a coarse subgrid every equilibrium in the state box is found by
:func:`stabkit.find_equilibria`; from every cell that knows an equilibrium, Newton's
method at each of the four neighbouring cells' parameters starts from it, and any new,
distinct equilibrium found there is propagated further. So every equilibrium branch seen
at one coarse cell is followed through the whole connected region where it exists.
Links between cells (which equilibrium continued into which) are kept for finding seeds
of fold and Hopf curves.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import numpy as np

__all__ = ["GridEquilibria", "flood_fill"]

Cell = tuple[int, int]
NewtonFn = Callable[[np.ndarray, np.ndarray], np.ndarray | None]


class GridEquilibria:
    """Equilibria per cell, and links ``(cell, k) -> (neighbour, k')``."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.states: dict[Cell, list[np.ndarray]] = collections.defaultdict(list)
        self.links: list[tuple[Cell, int, Cell, int]] = []
        self.num_newton = 0

    def add(self, cell: Cell, state: np.ndarray) -> tuple[int, bool]:
        """Index of ``state`` among the cell's equilibria, and whether it is new."""
        known = self.states[cell]
        for k, s in enumerate(known):
            if np.max(np.abs(s - state)) <= 1e-7 * (1.0 + float(np.max(np.abs(state)))):
                return k, False
        known.append(state)
        return len(known) - 1, True


def flood_fill(
    grid: GridEquilibria,
    seeds: dict[Cell, list[np.ndarray]],
    params_at: Callable[[Cell], np.ndarray],
    newton: NewtonFn,
) -> None:
    """Propagate the seed equilibria to every cell their branches reach (in place)."""
    queue: collections.deque[Cell] = collections.deque()
    done: dict[Cell, int] = collections.defaultdict(int)
    for cell, states in seeds.items():
        for s in states:
            grid.add(cell, s)
        queue.append(cell)
    nx, ny = grid.shape
    while queue:
        cell = queue.popleft()
        states = grid.states[cell]
        start = done[cell]
        if start >= len(states):
            continue
        done[cell] = len(states)
        i, j = cell
        for nb in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
            if not (0 <= nb[0] < nx and 0 <= nb[1] < ny):
                continue
            p_nb = params_at(nb)
            grew = False
            for k in range(start, len(states)):
                grid.num_newton += 1
                found = newton(states[k], p_nb)
                if found is None:
                    continue
                k_nb, new = grid.add(nb, found)
                grid.links.append((cell, k, nb, k_nb))
                grew |= new
            if grew:
                queue.append(nb)
