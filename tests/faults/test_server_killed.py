"""Fault: a server process killed (kill -9) in the middle of the morning's check-in (R-DAY-1).

Two server processes share the database; four kiosks (kiosk/program.py's ``Kiosk``, headless) check
candidates in at a steady pace, two with both servers configured, two with one. Process A is frozen
with requests in flight, then killed, then started again. Kiosks whose connection drops retry with
the same nonce (on the other server when they know one), or decide offline and sync once A is back.

What was lost: nothing. Every candidate who went through the door has exactly one attendance, every
attempt a kiosk made is one check-in row on the server, and no kiosk has anything left in its queue.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import pytest
from sqlmodel import Session

from examday.clock import CST
from kiosk import offline
from kiosk.program import Kiosk
from storage.db import make_engine
from tests.faults.support import (
    SECRET_KEY,
    ServerProcess,
    attendance_by_candidate,
    checkins,
    conflicts,
    kiosk_tokens,
    lost_and_doubled,
)
from tests.integration.kiosk.support import EXAM_DAY, checkin_world

AT = datetime.combine(EXAM_DAY, datetime.min.time(), CST).replace(hour=8, minute=40)  # entry is open
PER_KIOSK = 15
BEFORE, DURING = 4, 7  # check-ins per kiosk before the kill, and while A is down (the rest after)
PACE = 0.15


@pytest.mark.slow
def test_a_server_killed_mid_morning_loses_and_doubles_nothing(db_url, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="examday.kiosk")
    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as db:
        w = checkin_world(db, AT.replace(hour=7), SECRET_KEY, n=4 * PER_KIOSK)
        tokens = kiosk_tokens(db, w.institution_id, 4, AT.replace(hour=7))
    epoch = time.time()
    a = ServerProcess(db_url, tmp_path / "data", AT, epoch).start()
    b = ServerProcess(db_url, tmp_path / "data", AT, epoch).start()
    try:
        a.wait_up()
        b.wait_up()
        routes = [[a.url], [a.url, b.url], [b.url], [b.url, a.url]]
        kiosks = [
            Kiosk(r, t, offline.Store(tmp_path / f"kiosk{k}"), [w.batch_id])
            for k, (r, t) in enumerate(zip(routes, tokens))
        ]
        statuses: list[int] = []
        for k in kiosks:
            k.http.event_hooks = {"response": [lambda r: statuses.append(r.status_code)]}
            k.prepare()
        answers: list[list[str]] = [[] for _ in kiosks]
        done = [0] * len(kiosks)
        go_on, a_back = threading.Event(), threading.Event()

        def door(k: int) -> None:
            for i, cand in enumerate(w.candidates[k :: len(kiosks)]):
                if i == BEFORE:
                    go_on.wait(60)
                elif i == BEFORE + DURING:
                    a_back.wait(60)
                answers[k].append(kiosks[k].check_in(w.tickets[cand.id], cand.id_number, None).kind)
                done[k] += 1
                time.sleep(PACE)

        threads = [threading.Thread(target=door, args=(k,)) for k in range(len(kiosks))]
        for t in threads:
            t.start()
        _wait(lambda: sum(done) == BEFORE * len(kiosks))
        a.pause()  # A stops answering: the next requests to it hang in its socket buffers
        go_on.set()
        time.sleep(0.6)
        a.kill()  # ... and die with it: connections reset under the waiting kiosks
        a.start()
        a.wait_up()
        a_back.set()
        for t in threads:
            t.join(60)
        for k in kiosks:
            k.sync()  # what the program does every 15 s and on exit
    finally:
        a.stop()
        b.stop()

    assert all(kind == "accepted" for per in answers for kind in per), answers
    assert not [s for s in statuses if s >= 500]
    assert any("retrying with the same nonce" in r.getMessage() for r in caplog.records)
    assert all(k.store.pending() == [] for k in kiosks)
    with Session(engine) as db:
        present = attendance_by_candidate(db, w.batch_id)
        rows = checkins(db)
        flagged = conflicts(db)
    engine.dispose()
    lost, doubled = lost_and_doubled(present, (c.id for c in w.candidates))
    assert (lost, doubled) == (set(), set())
    assert len(rows) == len(w.candidates)  # one row per attempt: no retry stored twice
    assert all(r.status == "accepted" for r in rows)
    assert any(r.offline for r in rows)  # the kiosk that knew only A went offline and synced
    assert flagged == []


def _wait(cond, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
