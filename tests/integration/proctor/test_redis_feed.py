"""The live feed across server processes (R-DAY-3, EXAMDAY_REDIS_URL): sequence numbers
stay gapless when two processes publish at once, and an event from one process reaches
a client connected to the other. Skipped when no Redis answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from examday.accounts.services.accounts import Passwords, create_account, issue_token
from examday.actor import SYSTEM
from examday.clock import CST
from examday.events import EventBus
from examday.plans.models import Candidate, ExamSession, Seat
from storage.db import make_engine
from tests import builders

REDIS_URL = os.environ.get("EXAMDAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
ROOT = Path(__file__).resolve().parents[3]


def _redis():
    import redis

    try:
        r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        r.ping()
        return r
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")


def test_two_buses_on_one_redis_number_every_event_once_in_order():
    r = _redis()
    namespace = f"examday-test:{uuid.uuid4().hex[:8]}"
    a, b = EventBus(REDIS_URL, namespace), EventBus(REDIS_URL, namespace)
    pubsub = r.pubsub()
    pubsub.subscribe(a.channel(1))
    while pubsub.get_message(timeout=1) is None:  # the subscription is confirmed
        pass

    def publish(bus: EventBus, k: int) -> None:
        for i in range(40):
            bus.publish(1, "note", "T01", k=k, i=i)

    threads = [threading.Thread(target=publish, args=(bus, k)) for k, bus in enumerate([a, b, a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = []
    while len(got) < 240:
        m = pubsub.get_message(timeout=5)
        assert m is not None, f"only {len(got)} of 240 events arrived"
        got.append(json.loads(m["data"]))
    assert [m["seq"] for m in got] == list(range(1, 241))  # gapless and in order across both publishers
    assert sorted((m["k"], m["i"]) for m in got) == sorted((k, i) for k in range(6) for i in range(40))
    assert a.current_seq(1) == b.current_seq(1) == 240
    r.delete(f"{namespace}:seq:1")
    pubsub.close()


# -- two real server processes ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def servers(db_url: str, data_dir: Path, n: int = 2, redis_url: str | None = REDIS_URL):
    """``n`` uvicorn processes of examday on one database (and one Redis)."""
    env = {
        **os.environ,
        "EXAMDAY_DATABASE_URL": db_url,
        "EXAMDAY_DATA_DIR": str(data_dir),
        "EXAMDAY_HOOK_SECRET": "test-hook-secret",
        "EXAMDAY_SECRET_KEY": "test-secret",
    }
    env.pop("EXAMDAY_REDIS_URL", None)
    if redis_url:
        env["EXAMDAY_REDIS_URL"] = redis_url
    procs, urls = [], []
    try:
        for _ in range(n):
            port = _free_port()
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "--factory",
                        "examday.app:create_app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
            urls.append(f"127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for url, proc in zip(urls, procs):
            while True:
                assert proc.poll() is None, "a server process died on start"
                try:
                    if httpx.get(f"http://{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def live_world(db_url: str, n: int = 10) -> dict:
    """A batch whose theory session started 20 minutes ago (real time), seated, with accounts."""
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    local = now.astimezone(CST)
    start = max(local - timedelta(minutes=20), local.replace(hour=0, minute=0, second=0, microsecond=0))
    with Session(engine, expire_on_commit=False) as db:
        inst = builders.institution(db, now)
        rs = builders.rooms(db, inst)
        people = builders.staff(db, inst)
        batch = builders.batch(db, inst, local.date(), rs[:2], people["proctor"], start=start.time(), now=now)
        cands = builders.candidates(db, batch, n, now=now)
        for i, c in enumerate(cands):
            db.add(Seat(batch_id=batch.id, part="theory", candidate_id=c.id, room_id=rs[i % 2].id, seat_no=i // 2 + 1))
        pw = Passwords(1, 1024)
        tokens = {}
        for name, role, staff in (
            ("admin", "admin", None),
            ("kiosk", "kiosk", None),
            ("p1", "proctor", people["proctor"][0].id),
        ):
            acc = create_account(db, SYSTEM, now, pw, f"{name}-{uuid.uuid4().hex[:6]}", role, inst.id, None, staff)
            tokens[name] = issue_token(db, acc, now, by=SYSTEM)
        db.commit()
        session = db.exec(
            select(ExamSession).where(ExamSession.batch_id == batch.id, ExamSession.part == "theory")
        ).one()
        out = {
            "batch_id": batch.id,
            "session_id": session.id,
            "tokens": tokens,
            "candidates": db.exec(select(Candidate).where(Candidate.batch_id == batch.id).order_by(Candidate.id)).all(),
        }
        db.commit()
    engine.dispose()
    return out


def test_an_event_from_one_process_reaches_a_client_on_the_other(db_url, tmp_path):
    _redis()
    from websockets.sync.client import connect

    w = live_world(db_url)
    auth = lambda who: {"Authorization": f"Bearer {w['tokens'][who]}"}  # noqa: E731
    with servers(db_url, tmp_path / "data") as (a, b):
        with (
            connect(f"ws://{a}/ws/batches/{w['batch_id']}", additional_headers=auth("p1"), open_timeout=10) as on_a,
            connect(f"ws://{b}/ws/batches/{w['batch_id']}", additional_headers=auth("admin"), open_timeout=10) as on_b,
        ):
            snap_a, snap_b = json.loads(on_a.recv(timeout=10)), json.loads(on_b.recv(timeout=10))
            assert [r["room_code"] for r in snap_a["rooms"]] == ["T01"]
            s = snap_b["seq"]
            assert snap_a["seq"] == s
            t01 = [c for i, c in enumerate(w["candidates"]) if i % 2 == 0]
            with httpx.Client(base_url=f"http://{b}", timeout=10) as http:
                for c in t01[:3]:  # served by process B
                    resp = http.post(
                        "/api/v1/checkins",
                        headers=auth("kiosk"),
                        json={
                            "ticket_number": c.ticket_number,
                            "batch_id": w["batch_id"],
                            "id_number": c.id_number,
                            "kiosk_nonce": uuid.uuid4().hex,
                        },
                    )
                    assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
            with httpx.Client(base_url=f"http://{a}", timeout=10) as http:  # and a proctor action on A
                resp = http.post(
                    f"/api/v1/batches/{w['batch_id']}/incidents",
                    headers=auth("p1"),
                    json={"room_code": "T01", "candidate_id": t01[0].id, "kind": "disturbance", "description": "喧哗"},
                )
                assert resp.status_code == 201, resp.text
            got_a = [json.loads(on_a.recv(timeout=10)) for _ in range(4)]
            got_b = [json.loads(on_b.recv(timeout=10)) for _ in range(4)]
            assert [(m["seq"], m["event"]) for m in got_a] == [
                (s + 1, "checkin"),
                (s + 2, "checkin"),
                (s + 3, "checkin"),
                (s + 4, "incident"),
            ]
            assert [m["seq"] for m in got_b] == [s + 1, s + 2, s + 3, s + 4]
            assert [m["candidate_id"] for m in got_a[:3]] == [c.id for c in t01[:3]]
            assert got_a[2]["room"]["present"] == 3 and got_a[3]["seat_state"]["status"] == "incident"
