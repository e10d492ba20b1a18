"""Fault: a kiosk whose clock is 10 minutes off, ahead or behind (R-TIME-1: the server's time decides).

Online the kiosk sends no time at all, so the server's clock alone opens and closes the door and
stamps the records. Offline the kiosk judges by its own clock, corrected by what it learned from
the server's answers (the roster's ``generated_at``, an acceptance's ``at``); the scan time it
queues is the corrected one, and the server judges the synced record at that time, never later
than its own now.

What was lost: nothing, and nothing got in that should not have: an arrival before entry opens
or after it closes is refused offline and on the server whichever way the kiosk's clock is off;
one inside the window is accepted once, stamped with the server's time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from examday.clock import parse_iso
from kiosk import offline
from kiosk.models import Attendance, CheckIn
from kiosk.program import Kiosk
from tests.e2e.live import free_port, live
from tests.integration.kiosk.support import checkin_world

SKEWS = [timedelta(minutes=10), timedelta(minutes=-10)]
IDS = ["ahead", "behind"]
CLOSE = 2  # seconds: how far a corrected kiosk time may be from the server's


@pytest.fixture
def w(db, clock, settings):
    return checkin_world(db, clock.now(), settings.secret_key, n=6)  # the clock stands at 08:00


@pytest.fixture
def base(app):
    with live(app) as url:
        yield url


def kiosk(base, world, w, tmp_path, name, clock, skew) -> Kiosk:
    token = world.token(name, "kiosk", w.institution_id)
    return Kiosk(base, token, offline.Store(tmp_path / name), [w.batch_id], start=clock.now() + skew)


def unplug(k: Kiosk) -> None:
    k.servers = [f"http://127.0.0.1:{free_port()}"]
    k.http.base_url = k.servers[0]


@pytest.mark.parametrize("skew", SKEWS, ids=IDS)
def test_online_the_servers_clock_decides(base, world, w, db, clock, tmp_path, skew):
    k = kiosk(base, world, w, tmp_path, "k1", clock, skew)
    k.prepare()
    clock.advance(minutes=25)  # 08:25: entry opens at 08:30, whatever the kiosk's clock says
    assert k.check_in(w.qr(0), w.candidates[0].id_number, None).code == "not_open_yet"
    clock.advance(minutes=15)  # 08:40
    assert k.check_in(w.qr(1), w.candidates[1].id_number, None).kind == "accepted"
    clock.advance(minutes=51)  # 09:31: entry closed at 09:30
    assert k.check_in(w.qr(2), w.candidates[2].id_number, None).code == "too_late"
    att = db.exec(select(Attendance)).one()
    rows = db.exec(select(CheckIn).order_by(CheckIn.id)).all()
    db.commit()
    assert att.candidate_id == w.candidates[1].id
    assert att.at == clock.now() - timedelta(minutes=51)  # the server's 08:40, not the kiosk's
    assert [r.scanned_at for r in rows] == [None, None, None] and not any(r.offline for r in rows)


@pytest.mark.parametrize("skew", SKEWS, ids=IDS)
def test_offline_a_skewed_kiosk_lets_nobody_in_outside_the_window(base, world, w, db, clock, tmp_path, skew):
    """Three kiosks lose the network, at 08:25 (before entry), 08:40 and 09:35 (after it closed);
    each had learned the server's time from its roster just before."""
    scans = {}
    for name, minutes, i in (("early", 25, 0), ("ontime", 40, 1), ("late", 95, 2)):
        clock.at = clock.at.replace(hour=8, minute=0) + timedelta(minutes=minutes)
        k = kiosk(base, world, w, tmp_path, name, clock, skew)
        k.prepare()
        assert abs(k.now() - clock.now()) < timedelta(seconds=CLOSE)
        unplug(k)
        answer = k.check_in(w.qr(i), w.candidates[i].id_number, None)
        scans[name] = (k, answer, clock.now())
    # By its own clock the early one would be in (08:35 >= 08:30) when ahead, the late one (09:25) when behind.
    assert scans["early"][1].code == "not_open_yet"
    assert scans["ontime"][1].kind == "accepted"
    assert scans["late"][1].code == "too_late"
    clock.at = clock.at.replace(hour=10, minute=0)  # the network is back long after
    for k, _, server_time in scans.values():
        (queued,) = k.store.pending()
        # Queued on the kiosk's own clock with the offset it had learned; together they are the server's time.
        corrected = parse_iso(queued["scanned_at"]) + timedelta(milliseconds=queued["clock_offset_ms"])
        assert abs(corrected - server_time) < timedelta(seconds=CLOSE)
        k.servers = [base]
        k.http.base_url = base
        k.sync()
        assert k.store.pending() == []
    rows = {r.kiosk_nonce: r for r in db.exec(select(CheckIn)).all()}
    att = db.exec(select(Attendance)).all()
    db.commit()
    assert [a.candidate_id for a in att] == [w.candidates[1].id]
    assert abs(att[0].at - scans["ontime"][2]) < timedelta(seconds=CLOSE)  # stamped in the server's time
    assert len(rows) == 3 and all(r.offline for r in rows.values())
    # The early scan, synced, is refused as one before the entry window (R-TIME-1), on the server's time.
    assert sorted(r.code or "" for r in rows.values()) == ["", "scanned_before_entry", "too_late"]


def test_a_fast_kiosk_that_never_reached_the_server_is_clamped(base, world, w, db, clock, tmp_path):
    """No answer to learn from (it started offline): a scan time in the server's future is refused, not believed."""
    clock.advance(minutes=25)  # 08:25 on the server
    k = kiosk(base, world, w, tmp_path, "k1", clock, timedelta(minutes=10))
    k.prepare()
    k.clock_offset = timedelta(0)  # as if the roster had come from another run, with no answer since
    unplug(k)
    assert k.check_in(w.qr(0), w.candidates[0].id_number, None).kind == "accepted"  # 08:35 by its clock
    k.servers = [base]
    k.http.base_url = base
    k.sync()
    row = db.exec(select(CheckIn)).one()
    assert db.exec(select(Attendance)).all() == []
    db.commit()
    assert row.code == "scanned_in_future" and row.scanned_at > clock.now()  # R-TIME-1
    assert row.at == clock.now()
