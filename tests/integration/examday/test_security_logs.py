"""R-PRIV-1: no ID number in any log line of a whole exam-day run.

A live server (uvicorn, access log on) runs with every logger at DEBUG and every record
captured, while the day goes through the paths that handle ID numbers: a candidate import
with bad rows and then a good one, a staff member added, check-ins accepted and refused
(wrong person's number, a number with a bad check digit, a typed ticket number, the same
candidate twice, a desk search for a typed ID number), the kiosk program's own client
online and then offline with its later sync, and SQLAlchemy's statement log turned on.
Then every captured line, with its traceback if any, is searched for every ID number used
(whole, and as any run of 17 digits and a check character).
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from datetime import date, timedelta

import httpx
import pytest
import uvicorn
from sqlmodel import Session, select

from examday.identity import make_id_number
from examday.plans.models import Candidate
from examday.registry.models import Staff
from kiosk import offline
from kiosk.program import Kiosk
from tests import builders
from tests.e2e.live import free_port
from tests.integration.kiosk.support import checkin_world, nonce

ID_RUN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # with the traceback, when there is one


@pytest.fixture
def everything_logged():
    """Every logger at DEBUG into one handler on the root; put back as it was afterwards."""
    capture = Capture()
    root = logging.getLogger()
    names = [
        "",
        *logging.root.manager.loggerDict,
        "sqlalchemy.engine",
        "uvicorn",
        "uvicorn.access",
        "uvicorn.error",
        "examday",
        "httpx",
    ]
    before = {n: (logging.getLogger(n).level, logging.getLogger(n).propagate) for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.DEBUG)
        if n:
            logging.getLogger(n).propagate = True
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for n, (level, propagate) in before.items():
            logging.getLogger(n).setLevel(level)
            logging.getLogger(n).propagate = propagate


def serve(app):
    """uvicorn with its access log, logging through the root logger (no dictConfig of its own)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, log_level="debug", access_log=True, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


def csv_file(rows: list[tuple[str, str]]) -> dict:
    text = "name,id_number,employer,training_org,phone\n" + "".join(
        f"{name},{idn},第一机械厂,培训学校1,13800000000\n" for name, idn in rows
    )
    return {"file": ("candidates.csv", io.BytesIO(text.encode("utf-8")), "text/csv")}


@pytest.mark.slow
def test_no_id_number_in_any_log_line_of_an_exam_day(app, world, clock, engine, settings, tmp_path, everything_logged):
    with Session(engine, expire_on_commit=False) as db:
        w = checkin_world(db, clock.now(), settings.secret_key, n=6)
        inst = db.get(builders.Institution, w.institution_id)
        draft = builders.batch(db, inst, date(2026, 12, 24), w.rooms, [], status="draft", now=clock.now())
        db.commit()
        draft_id = draft.id
    office = {"Authorization": "Bearer " + world.token("office", "admin", w.institution_id)}
    kiosk_token = world.token("kiosk1", "kiosk", w.institution_id)
    door = {"Authorization": "Bearer " + kiosk_token}
    clock.advance(minutes=40)  # 08:40: entry is open (R-TIME-1)

    new_ids = [make_id_number(date(1992, 3, 4) + timedelta(days=i), region="220102", seq=i + 11) for i in range(3)]
    bad_check = new_ids[0][:-1] + ("0" if new_ids[0][-1] != "0" else "1")
    bad_date = "22010219921340" + new_ids[0][14:]
    cand = w.candidates
    wrong_person = cand[1].id_number
    typed = [new_ids[0], bad_check, bad_date, wrong_person]

    url, server, thread = serve(app)
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            # A candidate import with bad rows is refused whole; then a good one goes in.
            r = c.post(
                f"/api/v1/batches/{draft_id}/candidates",
                headers=office,
                files=csv_file([("王伟", new_ids[0]), ("李娜", bad_check), ("张敏", bad_date), ("刘强", new_ids[0])]),
            )
            assert r.status_code == 422 and r.json()["code"] == "import_rejected", r.text
            r = c.post(
                f"/api/v1/batches/{draft_id}/candidates",
                headers=office,
                files=csv_file([("王伟", new_ids[0]), ("李娜", new_ids[1])]),
            )
            assert r.status_code == 200, r.text
            assert c.get(f"/api/v1/batches/{draft_id}/candidates", headers=office).status_code == 200
            # A staff member, once with a bad number.
            staff = {
                "name": "赵静",
                "roles": ["proctor"],
                "full_time": True,
                "skill_level": None,
                "title": "none",
                "occupations": [],
                "is_trainer": False,
            }
            r = c.post(
                f"/api/v1/institutions/{w.institution_id}/staff", headers=office, json={**staff, "id_number": bad_check}
            )
            assert r.status_code == 422, r.text
            r = c.post(
                f"/api/v1/institutions/{w.institution_id}/staff",
                headers=office,
                json={**staff, "id_number": new_ids[2]},
            )
            assert r.status_code == 201, r.text

            # Check-ins: accepted, the wrong person's number, a bad check digit, a typed ticket, twice.
            def check_in(**body):
                return c.post("/api/v1/checkins", headers=door, json={"kiosk_nonce": nonce(), **body})

            assert check_in(ticket=w.qr(0), id_number=cand[0].id_number).json()["status"] == "accepted"
            assert check_in(ticket=w.qr(2), id_number=wrong_person).json()["code"] == "id_mismatch"
            assert check_in(ticket=w.qr(2), id_number=bad_check).json()["code"] == "invalid_id_number"
            assert check_in(ticket=w.qr(0), id_number=cand[0].id_number).json()["code"] == "already_checked_in"
            r = check_in(ticket_number=cand[3].ticket_number, batch_id=w.batch_id, id_number=cand[3].id_number)
            assert r.status_code == 200, r.text
            # Someone types an ID number into the desk's search box: it goes into the URL. This
            # client stands for the desk page's browser, whose own log of URLs is not ours: it is
            # silenced for this one request, while the server's access log must blank the number.
            logging.getLogger("httpx").disabled = True
            try:
                r = c.get(
                    f"/api/v1/batches/{w.batch_id}/candidates/search", headers=door, params={"q": cand[4].id_number}
                )
            finally:
                logging.getLogger("httpx").disabled = False
            assert r.status_code == 200
            assert c.get(f"/api/v1/batches/{w.batch_id}/checkins", headers=office).status_code == 200
            assert c.get(f"/api/v1/batches/{w.batch_id}/roster", headers=door).status_code == 200

        # The kiosk program's client: online, then with the server gone, then back and syncing.
        store = offline.Store(tmp_path / "kiosk")
        kiosk = Kiosk(url, kiosk_token, store)
        kiosk.prepare()
        assert kiosk.check_in(w.qr(4), cand[4].id_number, None).kind == "accepted"
        assert kiosk.check_in(w.qr(5), wrong_person, None).kind != "accepted"
        dead = Kiosk(f"http://127.0.0.1:{free_port()}", kiosk_token, store, timeout=1)
        dead.check_in(w.qr(5), cand[5].id_number, None)
        dead.check_in(w.qr(1), bad_check, None)
        assert store.pending()
        Kiosk(url, kiosk_token, store).sync()
    finally:
        server.should_exit = True
        thread.join(15)

    with Session(engine) as db:
        numbers = {c.id_number for c in db.exec(select(Candidate)).all()}
        numbers |= {s.id_number for s in db.exec(select(Staff)).all() if s.id_number}
    numbers |= set(typed)
    lines = everything_logged.lines
    assert len(lines) > 50 and any("uvicorn.access" in ln and "/api/v1/checkins" in ln for ln in lines)
    assert any("sqlalchemy.engine" in ln for ln in lines)  # the statement log was on
    leaks = [ln for ln in lines if ID_RUN.search(ln) or any(n in ln or n.lower() in ln for n in numbers)]
    assert not leaks, "ID numbers in the logs:\n" + "\n".join(ln[:300] for ln in leaks[:20])
    assert any("uvicorn.access" in ln and "search?q=<id-number>" in ln for ln in lines)
