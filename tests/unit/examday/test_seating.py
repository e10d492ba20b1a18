"""Seat allocation: R-DAY-2 (capacity), R-SEAT-1 (one per desk, stations by lot), R-SITE-1."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from examday.errors import Refusal
from examday.plans.seating import (
    RoomSpec,
    Sitter,
    allocate,
    count_adjacent_pairs,
    relocate,
)
from examday.plans.seating_draw import draw_sittings, draw_stations

ROOT = Path(__file__).resolve().parents[3]


def _neighbours(room: RoomSpec, seat: int) -> set[int]:
    # Written out independently of the module: grid cells, not seat arithmetic.
    r, c = divmod(seat - 1, room.cols)
    out = set()
    for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        rr, cc = r + dr, c + dc
        if 0 <= rr < room.rows and 0 <= cc < room.cols:
            s = rr * room.cols + cc + 1
            if s <= room.seats:
                out.add(s)
    return out


def _same_group_pairs(alloc, sitters, rooms) -> int:
    groups = {s.candidate_id: s.groups for s in sitters}
    where = {place: cid for cid, place in alloc.seats.items()}
    by_code = {r.code: r for r in rooms}
    pairs = 0
    for (code, seat), cid in where.items():
        for other in _neighbours(by_code[code], seat):
            mate = where.get((code, other))
            if mate is not None and other > seat and groups[cid] & groups[mate]:
                pairs += 1
    return pairs


def _random_sitters(rng: random.Random, n: int, names: int) -> list[Sitter]:
    return [
        Sitter(i, frozenset({f"E{rng.randrange(names)}", f"O{rng.randrange(names)}"}))
        for i in rng.sample(range(1, 10 * n + 10), n)
    ]


def test_capacity_never_exceeded_and_blocked_seats_never_used():  # R-DAY-2, R-SEAT-1
    rng = random.Random(7)
    for _ in range(60):
        rooms = []
        for k in range(rng.randint(2, 4)):
            rows, cols = rng.randint(1, 6), rng.randint(1, 6)
            seats = rng.randint(1, rows * cols)
            blocked = frozenset(rng.sample(range(1, seats + 1), rng.randint(0, seats // 3)))
            rooms.append(RoomSpec(f"R{k}", seats, rows, cols, blocked))
        free = sum(r.seats - len(r.blocked) for r in rooms)
        sitters = _random_sitters(rng, rng.randint(0, free), 4)
        alloc = allocate(sitters, rooms, rng.randrange(1 << 30))
        assert set(alloc.seats) == {s.candidate_id for s in sitters}
        assert len(set(alloc.seats.values())) == len(sitters)  # one candidate per desk
        per_room = Counter(code for code, _ in alloc.seats.values())
        for room in rooms:
            assert per_room[room.code] <= room.seats - len(room.blocked)
        by_code = {r.code: r for r in rooms}
        for code, seat in alloc.seats.values():
            assert 1 <= seat <= by_code[code].seats
            assert seat not in by_code[code].blocked
        assert alloc.adjacent_pairs == _same_group_pairs(alloc, sitters, rooms)


def test_more_candidates_than_seats_is_refused():  # R-DAY-2
    rooms = [RoomSpec("A", 4, 2, 2, frozenset({1})), RoomSpec("B", 4, 2, 2)]
    sitters = [Sitter(i, frozenset()) for i in range(8)]
    with pytest.raises(Refusal) as err:
        allocate(sitters, rooms, 1)
    assert err.value.code == "not_enough_seats"
    assert err.value.rule == "R-DAY-2"
    assert err.value.detail == {"needed": 8, "available": 7}


def test_one_room_is_refused():  # R-SITE-1
    with pytest.raises(Refusal) as err:
        allocate([Sitter(1, frozenset())], [RoomSpec("A", 30, 5, 6)], 1)
    assert err.value.code == "too_few_rooms"
    assert err.value.rule == "R-SITE-1"


def test_room_whose_seats_do_not_fit_its_grid_is_refused():  # R-SEAT-1
    with pytest.raises(Refusal) as err:
        allocate([], [RoomSpec("A", 30, 5, 5), RoomSpec("B", 4, 2, 2)], 1)
    assert err.value.code == "invalid_room_layout"


def test_same_seed_same_allocation_and_different_seed_differs():
    rng = random.Random(3)
    sitters = _random_sitters(rng, 50, 10)
    rooms = [RoomSpec("A", 30, 5, 6), RoomSpec("B", 30, 5, 6)]
    first = allocate(sitters, rooms, 42)
    # Input order must not matter: the module sorts before it draws.
    again = allocate(list(reversed(sitters)), list(reversed(rooms)), 42)
    assert first.seats == again.seats and first.seed == 42
    assert allocate(sitters, rooms, 43).seats != first.seats


def test_reproducible_across_processes_with_different_hash_seeds():
    script = (
        "import json,random,sys\n"
        "from examday.plans.seating import RoomSpec, Sitter, allocate\n"
        "rng = random.Random(5)\n"
        "s = [Sitter(i, frozenset({f'企业{rng.randrange(9)}', f'机构{rng.randrange(9)}'})) for i in range(90)]\n"
        "r = [RoomSpec(c, 50, 5, 10, frozenset({3})) for c in ('T2', 'T1')]\n"
        "print(json.dumps(sorted(allocate(s, r, 99).seats.items())))\n"
    )
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=ROOT
        )
        outputs.add(hashlib.sha256(run.stdout.encode()).hexdigest())
    assert len(outputs) == 1


def test_balanced_over_all_rooms_not_room_by_room():  # R-DAY-2
    rooms = [RoomSpec(c, 30, 5, 6) for c in ("A", "B", "C")]
    sitters = [Sitter(i, frozenset()) for i in range(45)]
    per_room = Counter(code for code, _ in allocate(sitters, rooms, 1).seats.values())
    assert per_room == {"A": 15, "B": 15, "C": 15}
    # Unequal rooms fill in proportion to their free seats.
    rooms = [
        RoomSpec("A", 30, 5, 6),
        RoomSpec("B", 10, 2, 5),
        RoomSpec("C", 20, 4, 5, frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})),
    ]
    per_room = Counter(code for code, _ in allocate(sitters[:25], rooms, 1).seats.values())
    assert per_room == {"A": 15, "B": 5, "C": 5}
    # Fewer candidates than seats in one room still use every room.
    per_room = Counter(
        code for code, _ in allocate(sitters[:3], [RoomSpec("A", 2, 1, 2), RoomSpec("B", 90, 9, 10)], 1).seats.values()
    )
    assert per_room["A"] >= 1 and per_room["B"] >= 1


def test_half_full_room_keeps_even_one_employer_apart():
    rooms = [RoomSpec("A", 30, 5, 6), RoomSpec("B", 30, 5, 6)]
    sitters = [Sitter(i, frozenset({"同一企业"})) for i in range(30)]
    assert allocate(sitters, rooms, 8).adjacent_pairs == 0


def test_group_names_are_compared_after_normalising_spelling():
    rooms = [RoomSpec("A", 2, 1, 2), RoomSpec("B", 2, 1, 2)]
    sitters = [
        Sitter(1, frozenset({"ＡＢＣ 机床厂"})),
        Sitter(2, frozenset({"abc机床厂"})),
        Sitter(3, frozenset({"某培训学校"})),
        Sitter(4, frozenset({" 某培训学校 "})),
    ]
    for seed in range(20):
        alloc = allocate(sitters, rooms, seed)
        assert alloc.adjacent_pairs == 0
        assert alloc.seats[1][0] != alloc.seats[2][0]


@cache
def _room_can_hold(cols: int, seats: int, blocked: frozenset[int], groups: tuple[frozenset[str], ...]) -> bool:
    room = RoomSpec("x", seats, (seats + cols - 1) // cols, cols, blocked)
    free = [s for s in range(1, seats + 1) if s not in blocked]
    for chosen in itertools.combinations(free, len(groups)):
        for order in itertools.permutations(groups):
            at = dict(zip(chosen, order))
            if all(not (at[s] & at[o]) for s in chosen for o in _neighbours(room, s) if o in at):
                return True
    return False


def _zero_possible(sitters, rooms, counts) -> bool:
    a, b = rooms
    everyone = list(range(len(sitters)))
    for left in itertools.combinations(everyone, counts[a.code]):
        right = [i for i in everyone if i not in left]
        ga = tuple(sorted((sitters[i].groups for i in left), key=sorted))
        gb = tuple(sorted((sitters[i].groups for i in right), key=sorted))
        if _room_can_hold(a.cols, a.seats, a.blocked, ga) and _room_can_hold(b.cols, b.seats, b.blocked, gb):
            return True
    return False


def test_small_cases_have_no_same_group_neighbours_whenever_that_is_possible():
    # Exhaustive check: for every instance, enumerate all splits between the two
    # rooms (with the balanced counts), all seat subsets and all orders.
    rng = random.Random(2024)
    checked = possible = 0
    for _ in range(300):
        names = ["甲厂", "乙厂", "丙校", "丁校"][: rng.randint(1, 3)]
        rooms = [
            RoomSpec("A", 6, 2, 3, frozenset(rng.sample(range(1, 7), rng.choice((0, 0, 1, 2))))),
            RoomSpec("B", 6, 2, 3, frozenset(rng.sample(range(1, 7), rng.choice((0, 0, 1, 2))))),
        ]
        n = rng.randint(5, min(10, 12 - len(rooms[0].blocked) - len(rooms[1].blocked)))
        sitters = [
            Sitter(i, frozenset(rng.sample(names, min(len(names), rng.choice((0, 1, 1, 1, 2, 2))))))
            for i in range(1, n + 1)
        ]
        seed = rng.randrange(1 << 20)
        alloc = allocate(sitters, rooms, seed)
        counts = Counter(code for code, _ in alloc.seats.values())
        assert abs(counts["A"] - counts["B"]) <= 1 + abs(len(rooms[0].blocked) - len(rooms[1].blocked))
        assert alloc.adjacent_pairs == _same_group_pairs(alloc, sitters, rooms)
        if _zero_possible(sitters, rooms, counts):
            possible += 1
            assert alloc.adjacent_pairs == 0, (sitters, rooms, seed)
        else:
            assert alloc.adjacent_pairs > 0
        checked += 1
    # Both kinds of instance must actually occur, or the check proves little.
    assert 40 < possible < checked - 40, (possible, checked)


def test_ten_thousand_candidates_nearly_apart():  # R-DAY-2 (speed: bench/tickets.py)
    rng = random.Random(11)
    sitters = _random_sitters(rng, 10_000, 150)
    rooms = [RoomSpec(f"T{k:02d}", 500, 20, 25) for k in range(20)]
    alloc = allocate(sitters, rooms, 2026)
    assert len(alloc.seats) == 10_000
    assert alloc.adjacent_pairs <= 5
    assert count_adjacent_pairs(alloc.seats, alloc.groups, rooms) == alloc.adjacent_pairs


def test_relocate_moves_everyone_out_and_records_each_move():  # R-DAY-2, R-SEAT-1
    rng = random.Random(4)
    rooms = [
        RoomSpec("A", 30, 5, 6),
        RoomSpec("B", 30, 5, 6, frozenset({7, 8})),
        RoomSpec("C", 30, 5, 6, frozenset(range(1, 13))),
    ]
    sitters = _random_sitters(rng, 40, 6)
    before = allocate(sitters, rooms, 5)
    after, moves = relocate(before, rooms, "B", 9)
    leaving = {cid for cid, (code, _) in before.seats.items() if code == "B"}
    assert leaving and {m[0] for m in moves} == leaving
    assert all(code != "B" for code, _ in after.seats.values())
    assert set(after.seats) == set(before.seats)
    assert len(set(after.seats.values())) == len(after.seats)
    for cid, origin, target in moves:
        assert origin == before.seats[cid] and target == after.seats[cid]
        assert not (target[0] == "C" and target[1] <= 12)  # blocked seats stay free
    for cid in set(before.seats) - leaving:
        assert after.seats[cid] == before.seats[cid]  # nobody else moves
    assert after.adjacent_pairs == _same_group_pairs(after, sitters, rooms)
    assert relocate(before, rooms, "B", 9) == (after, moves)


def test_relocate_refuses_when_other_rooms_are_full():  # R-DAY-2
    rooms = [RoomSpec("A", 4, 2, 2), RoomSpec("B", 4, 2, 2, frozenset({4}))]
    before = allocate([Sitter(i, frozenset()) for i in range(6)], rooms, 1)
    with pytest.raises(Refusal) as err:
        relocate(before, rooms, "A", 1)
    assert err.value.code == "not_enough_seats"
    assert err.value.detail == {"needed": 3, "available": 0}
    with pytest.raises(Refusal) as err:
        relocate(before, rooms, "Z", 1)
    assert err.value.code == "unknown_room"


def test_stations_drawn_by_lot_one_each_and_reproducible():  # R-SEAT-1
    stations = [f"工位{k:02d}" for k in range(1, 13)]
    drawn = draw_stations(range(100, 110), stations, 3)
    assert sorted(drawn) == list(range(100, 110))
    assert len(set(drawn.values())) == 10 and set(drawn.values()) <= set(stations)
    assert draw_stations(reversed(range(100, 110)), list(reversed(stations)), 3) == drawn
    assert any(draw_stations(range(100, 110), stations, s) != drawn for s in range(4, 8))
    with pytest.raises(Refusal) as err:
        draw_stations(range(13), stations, 1)
    assert err.value.code == "not_enough_stations" and err.value.rule == "R-SEAT-1"


def test_allocation_is_json_ready():
    alloc = allocate([Sitter(1, frozenset({"x"}))], [RoomSpec("A", 1, 1, 1), RoomSpec("B", 1, 1, 1)], 0)
    json.dumps({str(k): v for k, v in alloc.seats.items()})


def test_a_rooms_limit_caps_it_below_its_free_seats():  # R-SEAT-1, R-DAY-2
    rng = random.Random(17)
    for _ in range(40):
        rooms = [
            RoomSpec(
                f"R{k}",
                40,
                5,
                8,
                frozenset(rng.sample(range(1, 41), rng.randint(0, 6))),
                limit=rng.choice((None, 10, 20, 30)),
            )
            for k in range(rng.randint(2, 4))
        ]
        cap = sum(min(40 - len(r.blocked), r.limit or 40) for r in rooms)
        sitters = _random_sitters(rng, rng.randint(0, cap), 5)
        per_room = Counter(code for code, _ in allocate(sitters, rooms, rng.randrange(99)).seats.values())
        for r in rooms:
            assert per_room[r.code] <= min(40 - len(r.blocked), r.limit or 40)
    # A big room with a cap of 30 leaves the rest to the small room.
    rooms = [RoomSpec("A", 60, 6, 10, limit=30), RoomSpec("B", 30, 5, 6, limit=30)]
    per_room = Counter(
        code for code, _ in allocate([Sitter(i, frozenset()) for i in range(55)], rooms, 1).seats.values()
    )
    assert per_room == {"A": 30, "B": 25}
    with pytest.raises(Refusal) as err:
        allocate([Sitter(i, frozenset()) for i in range(61)], rooms, 1)
    assert err.value.code == "not_enough_seats" and err.value.detail == {"needed": 61, "available": 60}


def test_relocation_respects_the_limit_of_the_rooms_that_take_people_in():  # R-SEAT-1, R-DAY-2
    rooms = [RoomSpec("A", 30, 5, 6, limit=12), RoomSpec("B", 30, 5, 6, limit=12), RoomSpec("C", 30, 5, 6, limit=12)]
    before = allocate([Sitter(i, frozenset()) for i in range(22)], rooms, 3)
    assert Counter(code for code, _ in before.seats.values()) == {"A": 8, "B": 7, "C": 7}
    after, moves = relocate(before, rooms, "C", 4)
    filled = Counter(code for code, _ in after.seats.values())
    assert len(moves) == 7 and filled["A"] + filled["B"] == 22 and max(filled.values()) <= 12
    with pytest.raises(Refusal) as err:
        relocate(allocate([Sitter(i, frozenset()) for i in range(33)], rooms, 3), rooms, "C", 4)
    assert err.value.code == "not_enough_seats" and err.value.detail == {"needed": 11, "available": 2}


def test_skill_sittings_draw_each_candidate_one_sitting_and_one_station():  # R-SEAT-1, issue #15
    sittings = [[f"S01-{n:02d}" for n in range(1, 31)] for _ in range(3)]
    drawn = draw_sittings(range(1, 91), sittings, 5)
    assert sorted(drawn) == list(range(1, 91))
    for i in range(3):  # three sittings of 30 take 90, each station once per sitting
        assert sorted(label for k, label in drawn.values() if k == i) == sittings[i]
    assert draw_sittings(reversed(range(1, 91)), sittings, 5) == drawn
    assert draw_sittings(range(1, 91), sittings, 6) != drawn
    counts = [sum(1 for k, _ in draw_sittings(range(61), sittings, 1).values() if k == i) for i in range(3)]
    assert counts == [21, 20, 20]
    with pytest.raises(Refusal) as e:
        draw_sittings(range(91), sittings, 1)
    assert e.value.code == "not_enough_stations" and e.value.detail == {"needed": 91, "available": 90}
