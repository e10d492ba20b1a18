"""Seat allocation (座位编排) for theory rooms, and drawing skill workstations by lot.

Rules: R-DAY-2 (a room never holds more candidates than its seats), R-SEAT-1
(one candidate per desk; workstations drawn by lot), R-SITE-1 (at least two
theory rooms). Candidates who share an employer or training organisation are
kept apart (left, right, front, back) so that they cannot help each other.

Everything is reproducible from the seed: inputs are sorted first, all
randomness comes from ``random.Random(seed)``, and every search stops on a
count of steps, never on elapsed time. The exhaustive search that settles
small rooms is in ``examday.plans.seating_search``.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from examday.errors import Refusal
from examday.plans.seating_search import MAX_POSITIONS, exact_layout

Place = tuple[str, int]
Move = tuple[int, Place, Place]

# A same-group neighbour costs more than any amount of crowding, so crowding
# only ever breaks ties between layouts with the same number of such pairs.
_CONFLICT = 1 << 10
_LOOKAHEAD = 24
_TRIES_PER_SPOT = 16
_STALL_PASSES = 3
_SPOTS_PER_PASS = 2000


@dataclass(frozen=True)
class RoomSpec:
    code: str
    seats: int
    rows: int
    cols: int
    blocked: frozenset[int] = frozenset()
    # At most this many sitters (R-SEAT-1: 30 per theory room by default), on top of the free seats.
    limit: int | None = None


@dataclass(frozen=True)
class Sitter:
    candidate_id: int
    groups: frozenset[str]


@dataclass(frozen=True)
class Allocation:
    seats: dict[int, Place]
    adjacent_pairs: int
    seed: int
    # Kept so that relocate() can keep groups apart too; a caller rebuilding
    # an allocation from storage passes the candidates' groups back in.
    groups: Mapping[int, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)


class _Grid:
    """Free (not blocked) seats of all rooms as positions 0..P-1 with neighbours."""

    def __init__(self, rooms: Sequence[RoomSpec]) -> None:
        self.rooms = list(rooms)
        self.place: list[Place] = []
        self.room_of: list[int] = []
        self.cell: list[tuple[int, int]] = []
        self.room_positions: list[list[int]] = []
        self.index: dict[Place, int] = {}
        for ri, room in enumerate(self.rooms):
            _check_room(room)
            ids = []
            for seat in range(1, room.seats + 1):
                if seat in room.blocked:
                    continue
                self.index[(room.code, seat)] = len(self.place)
                ids.append(len(self.place))
                self.place.append((room.code, seat))
                self.room_of.append(ri)
                self.cell.append(divmod(seat - 1, room.cols))
            self.room_positions.append(ids)
        self.nbr: list[list[int]] = []
        for (code, seat), ri in zip(self.place, self.room_of):
            near = (self.index.get((code, s)) for s in _neighbour_seats(self.rooms[ri], seat))
            self.nbr.append([p for p in near if p is not None])


def allocate(sitters: Iterable[Sitter], rooms: Iterable[RoomSpec], seed: int) -> Allocation:
    """Seat every sitter in the given theory rooms (R-DAY-2, R-SEAT-1, R-SITE-1)."""
    people = sorted(sitters, key=lambda s: s.candidate_id)
    ids = [s.candidate_id for s in people]
    if len(set(ids)) != len(ids):
        raise ValueError("a candidate appears twice")
    room_list = _sorted_rooms(rooms)
    if len(room_list) < 2:  # R-SITE-1
        raise Refusal(
            "too_few_rooms",
            "至少需要两个理论考场",
            "Seating needs at least two theory rooms.",
            "R-SITE-1",
            422,
            {"rooms": len(room_list)},
        )
    grid = _Grid(room_list)
    free = [len(p) for p in grid.room_positions]
    cap = [_cap(r, f) for r, f in zip(room_list, free)]
    if len(people) > sum(cap):  # R-DAY-2, R-SEAT-1
        raise _not_enough(len(people), sum(cap))
    groups = {s.candidate_id: frozenset(s.groups) for s in people}
    masks = _masks([groups[i] for i in ids])
    rng = random.Random(seed)
    quotas = _quotas(len(people), free, cap)
    chosen = [_spread(grid, ri, q) for ri, q in enumerate(quotas)]
    occ = _greedy(grid, chosen, masks, rng)
    _improve(grid, occ, masks, rng)
    if _pairs(grid, occ, masks) and len(grid.place) <= MAX_POSITIONS:
        # Small rooms are where a heuristic can miss a perfect layout that
        # exists; a bounded exhaustive search settles them.
        exact = exact_layout(grid, quotas, chosen, masks, rng)
        if exact is not None:
            occ = exact
    seats = {ids[s]: grid.place[p] for p, s in enumerate(occ) if s >= 0}
    return Allocation(dict(sorted(seats.items())), _pairs(grid, occ, masks), seed, groups)


def relocate(
    allocation: Allocation, rooms: Iterable[RoomSpec], dropped_room: str, seed: int
) -> tuple[Allocation, list[Move]]:
    """Move everyone out of ``dropped_room`` into free seats of the other rooms.

    Nobody else moves: their tickets already name their seats (R-SEAT-1).
    """
    room_list = _sorted_rooms(rooms)
    if dropped_room not in {r.code for r in room_list}:
        raise Refusal(
            "unknown_room",
            "考场不存在",
            f"No theory room {dropped_room!r} in this batch.",
            "R-DAY-2",
            422,
            {"room_code": dropped_room},
        )
    grid = _Grid(room_list)
    ids = sorted(allocation.seats)
    masks = _masks([allocation.groups.get(i, frozenset()) for i in ids])
    occ = [-1] * len(grid.place)
    displaced = []
    for s, cid in enumerate(ids):
        place = allocation.seats[cid]
        if place[0] == dropped_room:
            displaced.append(s)
            continue
        p = grid.index.get(place)
        if p is None or occ[p] >= 0:
            raise ValueError(f"candidate {cid} holds {place}, which is not a free seat")
        occ[p] = s
    targets = [ri for ri, r in enumerate(room_list) if r.code != dropped_room]
    open_seats = {ri: [p for p in grid.room_positions[ri] if occ[p] < 0] for ri in targets}
    # R-SEAT-1: a room's cap holds on the day too; only its headroom takes newcomers.
    room_at = {ri: len(grid.room_positions[ri]) - len(open_seats[ri]) for ri in targets}
    headroom = {ri: _cap(room_list[ri], len(grid.room_positions[ri])) - room_at[ri] for ri in targets}
    available = sum(max(0, min(len(open_seats[ri]), headroom[ri])) for ri in targets)
    if len(displaced) > available:  # R-DAY-2, R-SEAT-1
        raise _not_enough(len(displaced), available)
    rng = random.Random(seed)
    rank = [rng.random() for _ in grid.place]
    rng.shuffle(displaced)
    size = {ri: len(grid.room_positions[ri]) for ri in targets}
    moves: list[Move] = []
    for s in displaced:
        # Fill the emptiest room first; leave it only to avoid a same-group neighbour.
        order = sorted(
            (ri for ri in targets if open_seats[ri] and headroom[ri] > 0),
            key=lambda ri: (-len(open_seats[ri]) / size[ri], room_list[ri].code),
        )
        best = None
        for ri in order:
            cost, p = min((_seat_cost(grid, occ, masks, s, p), rank[p], p) for p in open_seats[ri])[0::2]
            if best is None or cost < best[0]:
                best = (cost, p, ri)
            if cost < _CONFLICT:
                break
        assert best is not None  # the free seats cover everyone displaced (checked above)
        _, p, ri = best
        occ[p] = s
        open_seats[ri].remove(p)
        headroom[ri] -= 1
        moves.append((ids[s], allocation.seats[ids[s]], grid.place[p]))
    seats = {ids[s]: grid.place[p] for p, s in enumerate(occ) if s >= 0}
    moved = Allocation(dict(sorted(seats.items())), _pairs(grid, occ, masks), seed, dict(allocation.groups))
    return moved, sorted(moves)


def count_adjacent_pairs(
    seats: Mapping[int, Place], groups: Mapping[int, frozenset[str]], rooms: Iterable[RoomSpec]
) -> int:
    """Same-group neighbours in a seating, counted independently of how it was made."""
    room_list = _sorted_rooms(rooms)
    grid = _Grid(room_list)
    ids = sorted(seats)
    masks = _masks([groups.get(i, frozenset()) for i in ids])
    occ = [-1] * len(grid.place)
    for s, cid in enumerate(ids):
        occ[grid.index[seats[cid]]] = s
    return _pairs(grid, occ, masks)


def _sorted_rooms(rooms: Iterable[RoomSpec]) -> list[RoomSpec]:
    room_list = sorted(rooms, key=lambda r: r.code)
    codes = [r.code for r in room_list]
    if len(set(codes)) != len(codes):
        raise ValueError("a room code appears twice")
    return room_list


def _check_room(room: RoomSpec) -> None:
    bad_blocked = [s for s in room.blocked if not 1 <= s <= room.seats]
    if room.rows < 1 or room.cols < 1 or not 0 <= room.seats <= room.rows * room.cols or bad_blocked:
        raise Refusal(
            "invalid_room_layout",
            "考场座位布局有误",
            f"Room {room.code}: {room.seats} seats do not fit a {room.rows}x{room.cols} grid.",
            "R-SEAT-1",
            422,
            {
                "room_code": room.code,
                "seats": room.seats,
                "rows": room.rows,
                "cols": room.cols,
                "blocked_out_of_range": sorted(bad_blocked),
            },
        )


def _neighbour_seats(room: RoomSpec, seat: int) -> list[int]:
    r, c = divmod(seat - 1, room.cols)
    out = []
    if c > 0:
        out.append(seat - 1)
    if c < room.cols - 1 and seat < room.seats:
        out.append(seat + 1)
    if r > 0:
        out.append(seat - room.cols)
    if seat + room.cols <= room.seats:
        out.append(seat + room.cols)
    return out


def _not_enough(needed: int, available: int) -> Refusal:
    return Refusal(
        "not_enough_seats",
        "考场座位不足",
        f"{needed} candidates need seats but only {available} are free.",
        "R-DAY-2",
        422,
        {"needed": needed, "available": available},
    )


def _normalize(name: str) -> str:
    # Imported spreadsheets spell one employer with stray spaces or full-width
    # letters; treating those as one group only makes seating more careful.
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _masks(group_sets: Sequence[frozenset[str]]) -> list[int]:
    names = sorted({n for gs in group_sets for n in map(_normalize, gs) if n})
    bit = {n: 1 << i for i, n in enumerate(names)}
    out = []
    for gs in group_sets:
        m = 0
        for n in map(_normalize, gs):
            m |= bit.get(n, 0)
        out.append(m)
    return out


def _cap(room: RoomSpec, free: int) -> int:
    return free if room.limit is None else max(0, min(free, room.limit))


def _split(n: int, weights: Sequence[int]) -> list[int]:
    """``n`` in proportion to the weights, largest remainders first, ties to the earlier."""
    total = sum(weights)
    if total == 0:
        return [0] * len(weights)
    base = [n * w // total for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(n * weights[i] % total), i))
    for i in by_remainder[: n - sum(base)]:
        base[i] += 1
    return base


def _quotas(n: int, free: list[int], cap: list[int]) -> list[int]:
    """Balanced fill (R-DAY-2): each room in proportion to its free seats, never above its cap (R-SEAT-1)."""
    quota = [0] * len(free)
    open_rooms = [i for i in range(len(free)) if cap[i] > 0]
    while open_rooms:
        share = _split(n - sum(quota), [free[i] for i in open_rooms])
        over = [i for i, q in zip(open_rooms, share) if q > cap[i]]
        if not over:
            for i, q in zip(open_rooms, share):
                quota[i] = q
            break
        # A capped room takes its cap; the rest is shared again among the others.
        for i in over:
            quota[i] = cap[i]
        open_rooms = [i for i in open_rooms if i not in over]
    # Proctors are posted to every room anyway, so no room is left empty.
    for i in range(len(free)):
        if quota[i] == 0 and cap[i] > 0:
            donor = max(range(len(free)), key=lambda j: (quota[j], -j))
            if quota[donor] < 2:
                break
            quota[donor] -= 1
            quota[i] += 1
    return quota


def _spread(grid: _Grid, ri: int, quota: int) -> list[int]:
    """Which seats of a partly filled room to use: a checkerboard first, evenly spaced."""
    ids = grid.room_positions[ri]
    even = [p for p in ids if sum(grid.cell[p]) % 2 == 0]
    odd = [p for p in ids if sum(grid.cell[p]) % 2 == 1]
    if quota <= len(even):
        picked = [even[i * len(even) // quota] for i in range(quota)]
    else:
        extra = quota - len(even)
        picked = even + [odd[i * len(odd) // extra] for i in range(extra)]
    return sorted(picked)


def _greedy(grid: _Grid, chosen: list[list[int]], masks: list[int], rng: random.Random) -> list[int]:
    order = list(range(len(masks)))
    rng.shuffle(order)
    occ = [-1] * len(grid.place)
    start = 0
    for seats in chosen:
        pool = order[start : start + len(seats)]
        start += len(seats)
        for p in seats:
            placed = [masks[occ[q]] for q in grid.nbr[p] if occ[q] >= 0]
            pick = 0
            for i in range(min(_LOOKAHEAD, len(pool))):
                m = masks[pool[i]]
                if not any(m & o for o in placed):
                    pick = i
                    break
            occ[p] = pool.pop(pick)
    return occ


def _improve(grid: _Grid, occ: list[int], masks: list[int], rng: random.Random) -> None:
    """Swap sitters (any room) or a sitter with an empty seat (same room) while it helps."""
    nbr, room_of = grid.nbr, grid.room_of
    pm = [masks[s] if s >= 0 else 0 for s in occ]
    size = len(occ)
    budget = 20 * size + 20_000

    def clash(p: int) -> bool:
        m = pm[p]
        return bool(m) and any(pm[q] & m for q in nbr[p])

    def cost(m: int, here: bool, p: int, skip: int) -> int:
        if not here:
            return 0
        return sum(_CONFLICT if pm[q] & m else 1 for q in nbr[p] if q != skip and occ[q] >= 0)

    stalls = tries = 0
    while tries < budget and stalls < _STALL_PASSES:
        spots = [p for p in range(size) if clash(p)]
        if not spots:
            return
        rng.shuffle(spots)
        progress = False
        # A hopeless instance (one employer filling every room) has a clash at
        # every seat; sampling bounds each pass instead of visiting them all.
        for p in spots[:_SPOTS_PER_PASS]:
            if not clash(p):
                continue
            for _ in range(_TRIES_PER_SPOT):
                tries += 1
                q = rng.randrange(size)
                a, b = occ[p], occ[q]
                if q == p or (b < 0 and room_of[p] != room_of[q]):
                    continue
                ma, mb = pm[p], pm[q]
                delta = cost(mb, b >= 0, p, q) + cost(ma, True, q, p) - cost(ma, True, p, q) - cost(mb, b >= 0, q, p)
                # Sideways swaps between two sitters let the search leave a
                # plateau without disturbing which seats are used.
                if delta < 0 or (delta == 0 and b >= 0 and rng.random() < 0.1):
                    occ[p], occ[q], pm[p], pm[q] = b, a, mb, ma
                    if delta < 0:
                        progress = True
                    break
        stalls = 0 if progress else stalls + 1


def _seat_cost(grid: _Grid, occ: list[int], masks: list[int], s: int, p: int) -> int:
    m = masks[s]
    return sum(_CONFLICT if masks[occ[q]] & m else 1 for q in grid.nbr[p] if occ[q] >= 0)


def _pairs(grid: _Grid, occ: list[int], masks: list[int]) -> int:
    total = 0
    for p, s in enumerate(occ):
        if s >= 0 and masks[s]:
            m = masks[s]
            total += sum(1 for q in grid.nbr[p] if q > p and occ[q] >= 0 and masks[occ[q]] & m)
    return total
