"""Skill workstations drawn by lot (工位抽签), pure: R-SEAT-1 (workstations are drawn
by lot and not swapped; one candidate per station and sitting).

Reproducible like the theory allocation: inputs sorted first, all randomness
from ``random.Random(seed)``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from examday.errors import Refusal
from examday.plans.seating import _quotas


def draw_stations(candidate_ids: Iterable[int], stations: Sequence[str], seed: int) -> dict[int, str]:
    """Skill workstations drawn by lot, one candidate per station (R-SEAT-1).

    A batch with more candidates than stations draws once per round.
    """
    people = sorted(set(candidate_ids))
    places = sorted(set(stations))
    if len(places) != len(stations):
        raise ValueError("a workstation is listed twice")
    if len(people) > len(places):  # R-SEAT-1
        raise Refusal(
            "not_enough_stations",
            "工位数少于考生数",
            "There are fewer workstations than candidates in this round.",
            "R-SEAT-1",
            422,
            {"needed": len(people), "available": len(places)},
        )
    random.Random(seed).shuffle(places)
    return dict(zip(people, places))


def draw_sittings(
    candidate_ids: Iterable[int], sittings: Sequence[Sequence[str]], seed: int
) -> dict[int, tuple[int, str]]:
    """Skill sittings and their workstations drawn by lot (R-SEAT-1): candidate → (sitting index, station).

    Each candidate sits one sitting at one station. The sittings fill in proportion to their
    stations (largest remainders to the earlier), so three sittings of 30 take 90, and 61 go
    21, 20, 20; who sits when and where comes from ``random.Random(seed)`` alone.
    """
    people = sorted(set(candidate_ids))
    places = [sorted(set(s)) for s in sittings]
    if any(len(p) != len(s) for p, s in zip(places, sittings)):
        raise ValueError("a workstation is listed twice in one sitting")
    available = sum(len(p) for p in places)
    if len(people) > available:  # R-SEAT-1
        raise Refusal(
            "not_enough_stations",
            "工位数少于考生数",
            "There are fewer workstations, over all sittings, than candidates.",
            "R-SEAT-1",
            422,
            {"needed": len(people), "available": available},
        )
    sizes = [len(p) for p in places]
    quotas = _quotas(len(people), sizes, sizes) if people else [0] * len(sizes)
    rng = random.Random(seed)
    rng.shuffle(people)
    out: dict[int, tuple[int, str]] = {}
    start = 0
    for i, quota in enumerate(quotas):
        group = sorted(people[start : start + quota])
        start += quota
        stations = list(places[i])
        rng.shuffle(stations)
        out.update((cid, (i, label)) for cid, label in zip(group, stations))
    return dict(sorted(out.items()))
