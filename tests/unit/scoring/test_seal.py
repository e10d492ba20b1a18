"""The lock seal (R-SCORE-3, R-AUDIT-1): any change shows; row order does not."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from scoring.seal import seal_digest

CST = timezone(timedelta(hours=8))
RESULTS = [
    {"candidate_id": 1, "theory": D("78.0"), "skill": D("66.5"), "result": "pass"},
    {"candidate_id": 2, "theory": D("59.9"), "skill": D("80.0"), "result": "fail"},
    {"candidate_id": 3, "theory": None, "skill": None, "result": "absent"},
]
ENTRIES = [
    {
        "candidate_id": 1,
        "part": "skill",
        "examiner_id": "E1",
        "items": {"A1": D("40"), "A2": D("26.5")},
        "hash": "a" * 64,
        "at": datetime(2025, 10, 15, 10, 0, tzinfo=CST),
    },
    {
        "candidate_id": 1,
        "part": "skill",
        "examiner_id": "E2",
        "items": {"A1": D("41"), "A2": D("25")},
        "hash": "b" * 64,
        "at": datetime(2025, 10, 15, 10, 5, tzinfo=CST),
    },
    {
        "candidate_id": 2,
        "part": "skill",
        "examiner_id": "E1",
        "items": {"A1": D("50"), "A2": D("30")},
        "hash": "c" * 64,
        "at": datetime(2025, 10, 15, 11, 0, tzinfo=CST),
    },
]
BASE = seal_digest(RESULTS, ENTRIES)


def edited(rows, index, key, value):
    rows = [dict(r) for r in rows]
    rows[index][key] = value
    return rows


def test_seal_is_sha256_hex():
    assert len(BASE) == 64 and int(BASE, 16) >= 0


@pytest.mark.parametrize(
    "results, entries",
    [
        (list(reversed(RESULTS)), ENTRIES),
        (RESULTS, list(reversed(ENTRIES))),
        ([RESULTS[1], RESULTS[2], RESULTS[0]], [ENTRIES[2], ENTRIES[0], ENTRIES[1]]),
        ([{k: r[k] for k in reversed(list(r))} for r in RESULTS], ENTRIES),  # key order
        (edited(RESULTS, 0, "theory", D("78")), ENTRIES),  # 78 and 78.0 seal alike
        (RESULTS, edited(ENTRIES, 0, "items", {"A2": D("26.50"), "A1": D("40.0")})),
    ],
)
def test_seal_ignores_order_and_notation(results, entries):
    assert seal_digest(results, entries) == BASE


@pytest.mark.parametrize(
    "results, entries",
    [
        (edited(RESULTS, 0, "theory", D("78.1")), ENTRIES),
        (edited(RESULTS, 1, "theory", D("60.0")), ENTRIES),
        (edited(RESULTS, 1, "result", "pass"), ENTRIES),
        (edited(RESULTS, 2, "result", "fail"), ENTRIES),
        (edited(RESULTS, 2, "theory", D(0)), ENTRIES),
        (edited(RESULTS, 0, "candidate_id", "1"), ENTRIES),
        (RESULTS, edited(ENTRIES, 0, "items", {"A1": D("40"), "A2": D("26.6")})),
        (RESULTS, edited(ENTRIES, 1, "examiner_id", "E3")),
        (RESULTS, edited(ENTRIES, 2, "at", datetime(2025, 10, 15, 11, 1, tzinfo=CST))),
        (RESULTS, edited(ENTRIES, 2, "hash", "d" * 64)),
        (RESULTS[:2], ENTRIES),  # a row removed
        (RESULTS, ENTRIES[:2]),
        (RESULTS + [RESULTS[0]], ENTRIES),  # a row duplicated
        (RESULTS, ENTRIES + [dict(ENTRIES[0], examiner_id="E9")]),
        (ENTRIES, RESULTS),  # results and entries are not interchangeable
        ([], []),
    ],
)
def test_seal_changes_when_anything_changes(results, entries):
    assert seal_digest(results, entries) != BASE


@pytest.mark.parametrize(
    "rows",
    [
        [{"score": 78.0}],
        [{1: "non-string key"}],
        [{"x": object()}],
        [{"x": D("NaN")}],
        ["not a row"],
    ],
)
def test_seal_refuses_lossy_or_unknown_values(rows):
    with pytest.raises((TypeError, ValueError)):
        seal_digest(rows, [])


def test_seal_reads_dates_sets_and_bytes():
    rows = [{"d": date(2025, 10, 15), "tags": {"b", "a"}, "raw": b"\x01"}]
    assert seal_digest(rows, []) == seal_digest([{"d": date(2025, 10, 15), "tags": {"a", "b"}, "raw": b"\x01"}], [])
