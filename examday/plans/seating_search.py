"""The exhaustive search behind seat allocation (座位编排) for small rooms.

R-SEAT-1 / R-DAY-2: a heuristic can miss a layout with no same-group
neighbours in a small, crowded room where one exists; this search settles it
within a node budget, so its running time is bounded and reproducible (it
stops on a count of nodes, never on elapsed time). ``examday.plans.seating`` calls
it only when the heuristic left pairs and the rooms are small.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

MAX_POSITIONS = 48
MAX_NODES = 200_000


class Layout(Protocol):
    """What the search reads of ``seating._Grid``: free seats as positions with neighbours."""

    place: list[tuple[str, int]]  # (room code, seat number): seating.Place
    room_of: list[int]
    room_positions: list[list[int]]
    nbr: list[list[int]]


def exact_layout(
    grid: Layout,
    quotas: Sequence[int],
    chosen: Sequence[Sequence[int]],
    masks: Sequence[int],
    rng: random.Random,
    max_nodes: int = MAX_NODES,
) -> list[int] | None:
    """Occupant per position (-1 empty) with no same-group neighbours, or None if none was found.

    ``quotas`` is how many sit in each room (so a room's cap, R-SEAT-1, holds);
    ``chosen`` the seats the spread pattern picked, tried first so the result stays roomy.
    """
    by_mask: dict[int, list[int]] = {}
    for s, m in enumerate(masks):
        by_mask.setdefault(m, []).append(s)
    kinds = sorted(by_mask)
    rng.shuffle(kinds)
    left = [len(by_mask[k]) for k in kinds]
    need = list(quotas)
    blanks = [len(ids) - q for ids, q in zip(grid.room_positions, quotas)]
    preferred = {p for seats in chosen for p in seats}
    earlier = [[q for q in ns if q < p] for p, ns in enumerate(grid.nbr)]
    put: list[int] = [-1] * len(grid.place)  # kind index, -1 for an empty seat
    nodes = 0

    def fits(p: int, k: int) -> bool:
        m = kinds[k]
        return not any(put[q] >= 0 and kinds[put[q]] & m for q in earlier[p])

    def search(p: int) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > max_nodes:
            return False
        if p == len(put):
            return True
        ri = grid.room_of[p]
        options = [k for k in range(len(kinds)) if left[k] and need[ri] and fits(p, k)]
        if blanks[ri]:
            options.insert(len(options) if p in preferred else 0, -1)
        for k in options:
            if k < 0:
                blanks[ri] -= 1
            else:
                left[k] -= 1
                need[ri] -= 1
            put[p] = k
            if search(p + 1):
                return True
            put[p] = -1
            if k < 0:
                blanks[ri] += 1
            else:
                left[k] += 1
                need[ri] += 1
        return False

    if not search(0):
        return None
    pools = {k: list(by_mask[kinds[k]]) for k in range(len(kinds))}
    for pool in pools.values():
        rng.shuffle(pool)
    return [pools[k].pop() if k >= 0 else -1 for k in put]
