"""An offline record cannot be backdated into attendance (issue #14, finding 4).

A kiosk account could send ``POST /api/v1/checkins/sync`` with any past
``scanned_at``: a candidate absent from a batch locked a month ago became
present and on time. Now an offline record counts only for a batch that is
filed (not in publicity or locked), for a session that is not over by more
than the grace (default: the same China-time day), scanned inside the entry
window and not in the server's future; the kiosk's clock offset travels with
the record and the server corrects the scan time by it and records it.
Refused records are kept (``OfflineConflict``), never turned into attendance
(R-DAY-1, R-TIME-1).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from examday.audit import AuditEntry
from examday.clock import iso
from examday.plans.models import Batch
from kiosk.models import Attendance, CheckIn, OfflineConflict
from tests.integration.kiosk.support import EXAM_DAY, OTHER_USCC, body, checkin_world
from tests.support import bearer


@pytest.fixture
def w(db, clock, settings):
    return checkin_world(db, clock.now(), settings.secret_key, n=3)


@pytest.fixture
def kiosk(world, w):
    return bearer(world.token("kiosk1", "kiosk", w.institution_id))


def month_ago(db, clock, settings, world, status):
    """A batch of the same kiosk's kind a month ago, with the given status, and its kiosk."""
    past = checkin_world(
        db, clock.now(), settings.secret_key, n=2, exam_day=EXAM_DAY - timedelta(days=30), uscc=OTHER_USCC
    )
    batch = db.get(Batch, past.batch_id)
    batch.status = status
    db.add(batch)
    db.commit()
    return past, bearer(world.token("kiosk-past", "kiosk", past.institution_id))


def sync(client, headers, records):
    r = client.post("/api/v1/checkins/sync", json=records, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def kept_not_admitted(db, code):
    """R-DAY-1: the refused record is on file with its conflict, and nobody is present."""
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 0
    flag = db.exec(select(OfflineConflict)).one()
    row = db.get(CheckIn, flag.other_checkin_id)
    db.commit()
    assert (flag.reason, flag.code, row.status, row.code, row.offline) == (
        "server_refused",
        code,
        "refused",
        code,
        True,
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [("locked", "offline_batch_closed"), ("publicity", "offline_batch_closed"), ("filed", "offline_sync_too_late")],
)
def test_a_month_old_record_makes_nobody_present_R_DAY_1(client, db, clock, settings, world, status, code):
    past, kiosk = month_ago(db, clock, settings, world, status)
    scanned = clock.now() - timedelta(days=30) + timedelta(minutes=40)  # 08:40 that day: on time, then
    res = sync(client, kiosk, [{**body(past, 0), "scanned_at": iso(scanned), "offline_status": "accepted"}])
    assert (res[0]["status"], res[0]["code"], res[0]["rule"]) == ("refused", code, "R-DAY-1")
    assert res[0]["detail"]["offline_conflict"] is True
    kept_not_admitted(db, code)


def test_the_grace_after_the_session_is_a_setting_R_DAY_1(client, db, clock, settings, w, kiosk):
    settings.offline_sync_grace_minutes = 60  # the session ends at 10:30
    clock.advance(hours=3, minutes=40)  # 11:40
    res = sync(client, kiosk, [{**body(w, 0), "scanned_at": iso(clock.now().replace(hour=1, minute=10))}])
    assert (res[0]["code"], res[0]["rule"]) == ("offline_sync_too_late", "R-DAY-1")
    clock.advance(minutes=-20)  # 11:20: inside the grace
    assert sync(client, kiosk, [{**body(w, 1), "scanned_at": iso(clock.now().replace(hour=1, minute=10))}])[0][
        "status"
    ] == ("accepted")


def test_a_scan_before_the_entry_window_is_refused_R_TIME_1(client, db, clock, w, kiosk):
    clock.advance(minutes=40)  # 08:40
    records = [
        {**body(w, 0), "scanned_at": iso(clock.now() - timedelta(minutes=30)), "offline_status": "accepted"},
        {**body(w, 1), "scanned_at": iso(clock.now() - timedelta(days=1)), "offline_status": "accepted"},
    ]
    res = sync(client, kiosk, records)
    assert [(r["code"], r["rule"]) for r in res] == [("scanned_before_entry", "R-TIME-1")] * 2
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 0
    assert db.exec(select(func.count()).select_from(OfflineConflict)).one() == 2
    db.commit()


def test_a_scan_in_the_servers_future_is_refused_beyond_a_small_skew_R_TIME_1(client, db, clock, w, kiosk):
    clock.advance(minutes=40)  # 08:40 on the server
    res = sync(
        client,
        kiosk,
        [
            {**body(w, 0), "scanned_at": iso(clock.now() + timedelta(minutes=40))},
            {**body(w, 1), "scanned_at": iso(clock.now() + timedelta(seconds=30))},  # clocks disagree a little
        ],
    )
    assert (res[0]["code"], res[0]["rule"]) == ("scanned_in_future", "R-TIME-1")
    assert res[1]["status"] == "accepted" and res[1]["clamped"] is True
    att = db.exec(select(Attendance)).one()
    db.commit()
    assert att.at == clock.now()


def test_the_kiosks_clock_offset_corrects_the_scan_time_and_is_recorded_R_TIME_1(client, db, clock, w, kiosk):
    # The kiosk's clock runs 40 minutes slow: its 09:05 was the server's 09:45, after entry closed (09:30).
    clock.advance(hours=2)  # 10:00
    kiosk_says = clock.now().replace(hour=1, minute=5)
    offset = 40 * 60 * 1000
    res = sync(client, kiosk, [{**body(w, 0), "scanned_at": iso(kiosk_says), "clock_offset_ms": offset}])
    assert (res[0]["code"], res[0]["rule"]) == ("too_late", "R-TIME-1")
    row = db.exec(select(CheckIn)).one()
    entry = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "checkin.refuse")).one()
    db.commit()
    assert row.scanned_at == kiosk_says + timedelta(minutes=40)  # the server's time of the scan
    diff = json.loads(entry.diff)
    assert diff["clock_offset_ms"] == offset and diff["kiosk_scanned_at"] == iso(kiosk_says)
    # The same record without the offset is judged at the kiosk's own time.
    assert sync(client, kiosk, [{**body(w, 1), "scanned_at": iso(kiosk_says)}])[0]["status"] == "accepted"
    # A kiosk whose clock battery died years ago still knows its offset from the server's answers.
    years = timedelta(days=3650)
    stale = {**body(w, 2), "scanned_at": iso(kiosk_says - years), "clock_offset_ms": years // timedelta(milliseconds=1)}
    assert sync(client, kiosk, [stale])[0]["status"] == "accepted"


def test_a_record_for_a_part_already_scored_admits_nobody_R_DAY_1(client, db, clock, w, kiosk):
    """Scores rest on who sat the part: once one is settled (here, imported theory), a late
    offline record for that part is kept and refused; a pending score or another part's does not count."""
    from scoring.models import PartScore

    for i, part, status in [(0, "theory", "final"), (1, "theory", "pending"), (2, "skill", "final")]:
        db.add(
            PartScore(
                batch_id=w.batch_id,
                candidate_id=w.candidates[i].id,
                part=part,
                status=status,
                score_tenths=800,
                source="import",
                updated_at=clock.now(),
            )
        )
    db.commit()
    clock.advance(minutes=40)  # 08:40, theory entry open
    scanned = iso(clock.now() - timedelta(minutes=5))
    res = sync(client, kiosk, [{**body(w, i), "scanned_at": scanned, "offline_status": "accepted"} for i in range(3)])
    assert [(r["status"], r.get("code")) for r in res] == [
        ("refused", "offline_candidate_scored"),
        ("accepted", None),
        ("accepted", None),
    ]
    assert (res[0]["rule"], res[0]["detail"]["part"]) == ("R-DAY-1", "theory")
    present = set(db.exec(select(Attendance.candidate_id)).all())
    db.commit()
    assert present == {w.candidates[1].id, w.candidates[2].id}
