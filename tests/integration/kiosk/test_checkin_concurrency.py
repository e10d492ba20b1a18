"""Two kiosks, one candidate, the same instant: exactly one acceptance, on SQLite and PostgreSQL
(R-DAY-1). Real threads, each with its own database session or HTTP client."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.actor import Actor
from kiosk.models import Attendance, CheckIn
from kiosk.services import checkin as service
from kiosk.services.door import Attempt
from tests.integration.kiosk.support import body, checkin_world, nonce
from tests.support import bearer


@pytest.fixture
def w(db, clock, settings):
    world = checkin_world(db, clock.now(), settings.secret_key, n=8)
    clock.advance(minutes=40)
    return world


def actor_of(engine, username: str) -> Actor:
    with Session(engine) as s:
        a = s.exec(select(Account).where(Account.username == username)).one()
        return Actor(a.id, a.username, a.role, a.institution_id)


def attempt(w, i: int) -> Attempt:
    c = w.candidates[i]
    return Attempt(id_number=c.id_number, kiosk_nonce=nonce(), ticket=w.qr(i))


def test_second_kiosk_waits_for_the_first_and_is_refused(engine, app, clock, settings, world, w):
    world.token("kiosk-a", "kiosk", w.institution_id)
    world.token("kiosk-b", "kiosk", w.institution_id)
    a, b = actor_of(engine, "kiosk-a"), actor_of(engine, "kiosk-b")
    blobs, now = app.state.blobs, clock.now()
    sa = Session(engine, expire_on_commit=False)
    sb = Session(engine, expire_on_commit=False)
    try:
        # Kiosk A has accepted and not yet committed when kiosk B starts on the same candidate.
        out_a = service.check_in(sa, a, now, settings.secret_key, blobs, attempt(w, 0))
        assert out_a.http_status == 200
        got: dict = {}

        def kiosk_b():
            got["out"] = service.check_in(sb, b, now, settings.secret_key, blobs, attempt(w, 0))
            sb.commit()

        t = threading.Thread(target=kiosk_b)
        t.start()
        time.sleep(0.5)
        # R-DAY-1: B cannot decide while A's acceptance is in flight (SQLite: the write lock;
        # PostgreSQL: the unique key of Attendance).
        assert t.is_alive()
        sa.commit()
        t.join(30)
        assert not t.is_alive()
    finally:
        sa.close()
        sb.close()
    out_b = got["out"]
    assert out_b.http_status == 409 and out_b.body["code"] == "already_checked_in"
    assert out_b.body["detail"]["kiosk"] == "kiosk-a"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Attendance)).one() == 1
        rows = s.exec(select(CheckIn).order_by(CheckIn.id)).all()
    assert [(r.status, r.code) for r in rows] == [("accepted", None), ("refused", "already_checked_in")]
    if engine.dialect.name == "postgresql":
        # B's own acceptance was written and rolled back to its savepoint: it used up an id.
        assert rows[1].id == rows[0].id + 2


def test_two_kiosks_racing_over_http_accept_each_candidate_once(app, live_server, clock, world, w):
    tokens = [bearer(world.token(f"kiosk-{k}", "kiosk", w.institution_id)) for k in "ab"]
    rounds = len(w.candidates)
    barrier = threading.Barrier(2)
    answers: dict[int, list[tuple[int, dict]]] = {i: [] for i in range(rounds)}
    lock = threading.Lock()

    def kiosk(headers):
        with httpx.Client(base_url=live_server, timeout=30) as client:
            for i in range(rounds):
                payload = body(w, i)
                barrier.wait(10)
                r = client.post("/api/v1/checkins", json=payload, headers=headers)
                with lock:
                    answers[i].append((r.status_code, r.json()))

    threads = [threading.Thread(target=kiosk, args=(h,)) for h in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for i in range(rounds):
        statuses = sorted(s for s, _ in answers[i])
        assert statuses == [200, 409], answers[i]
        refused = next(b for s, b in answers[i] if s == 409)
        assert refused["code"] == "already_checked_in" and refused["rule"] == "R-DAY-1"
    with Session(app.state.engine) as s:
        per_candidate = s.exec(select(Attendance.candidate_id, func.count()).group_by(Attendance.candidate_id)).all()
        assert sorted(per_candidate) == sorted((c.id, 1) for c in w.candidates)
        assert s.exec(select(func.count()).select_from(CheckIn)).one() == 2 * rounds


def test_same_nonce_racing_itself_stores_one_attempt(app, live_server, clock, world, w):
    # A kiosk that retries on a timeout while the first request is still running (R-DAY-1: one answer per nonce).
    headers = bearer(world.token("kiosk-a", "kiosk", w.institution_id))
    payloads = [body(w, i) for i in range(4)]
    barrier = threading.Barrier(2)
    answers: list[list] = [[], []]

    def kiosk(slot):
        with httpx.Client(base_url=live_server, timeout=30) as client:
            for p in payloads:
                barrier.wait(10)
                r = client.post("/api/v1/checkins", json=p, headers=headers)
                answers[slot].append((r.status_code, r.json()))

    threads = [threading.Thread(target=kiosk, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert answers[0] == answers[1]
    assert all(s == 200 for s, _ in answers[0])
    with Session(app.state.engine) as s:
        assert s.exec(select(func.count()).select_from(CheckIn)).one() == len(payloads)
        assert s.exec(select(func.count()).select_from(Attendance)).one() == len(payloads)
