"""Fault: a storm of recorder hooks (R-VIDEO-1, R-AUDIT-1).

Twelve cameras' segments for a whole 90-minute session, reported all at once from many threads,
shuffled (a segment's finish before its start, the last segment before the first), with exact
duplicates sent alongside and replayed later, hooks without an ``id`` repeated byte for byte, and
finishes re-sent under a new ``id``. Planted in the storm: a segment never reported, a segment
whose file is gone, and a camera offline for two minutes.

What was lost: nothing. Every distinct hook is stored exactly once and every repeat is answered
``duplicate``, no answer is a 5xx, each segment is one row, and coverage shows exactly the three
planted gaps with their causes and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import threading
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import func, select

from examday.clock import CST, iso
from proctor.hooks_sign import SIGNATURE_HEADER, sign
from proctor.video_models import CameraHealth, HookReceipt, Segment
from tests import builders
from tests.e2e.live import live
from tests.integration.kiosk.support import EXAM_DAY
from tests.support import bearer

START = datetime.combine(EXAM_DAY, datetime.min.time(), CST).replace(hour=9)
SEG = timedelta(minutes=10)
N_SEG = 9  # 09:00-10:30
MISSING = ("T03-C2", 6)  # never reported
NO_FILE = ("T04-C1", 2)  # reported, but its file is gone
OFFLINE = ("T05-C1", START + timedelta(minutes=50), START + timedelta(minutes=52))
NO_ID = "T06-C2"  # an NVR adapter that sends no ids: repeats are known by their bytes
NEW_IDS = "T01-C1"  # finishes re-sent after an adapter restart, under new ids
THREADS = 12


def _hooks(tmp_path, cameras: list[tuple[str, str]]) -> list[dict]:
    out = []
    for room, cam in cameras:
        for k in range(N_SEG):
            if (cam, k) == MISSING:
                continue
            start, end = START + k * SEG, START + (k + 1) * SEG
            path = tmp_path / "video" / cam / f"{k:02d}.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
            data = f"{cam} {k} ".encode() * 200
            path.write_bytes(data)
            base = {"camera": cam, "room_code": room, "path": str(path)}
            out.append(
                {
                    **base,
                    "id": f"s-{cam}-{k}",
                    "event": "segment_started",
                    "at": iso(start),
                    "started_at": iso(start),
                    "segment_seconds": SEG.total_seconds(),
                }
            )
            out.append(
                {
                    **base,
                    "id": f"f-{cam}-{k}",
                    "event": "segment_finished",
                    "at": iso(end),
                    "started_at": iso(start),
                    "ended_at": iso(end),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data),
                }
            )
            if cam == NEW_IDS:
                out.append({**out[-1], "id": f"again-{cam}-{k}"})
    for h in out:
        if h["camera"] == NO_ID:
            del h["id"]
    (tmp_path / "video" / NO_FILE[0] / f"{NO_FILE[1]:02d}.mp4").unlink()
    return out


@pytest.fixture
def storm_world(db, clock):
    inst = builders.institution(db, clock.now())
    rooms = builders.rooms(db, inst, theory=6)
    theory = [r for r in rooms if r.kind == "theory"]
    people = builders.staff(db, inst, n_proctors=12)
    batch = builders.batch(db, inst, EXAM_DAY, theory, people["proctor"], now=clock.now())
    db.commit()
    cameras = [(r.code, f"{r.code}-C{n}") for r in theory for n in (1, 2)]
    return inst.id, batch.id, cameras


@pytest.mark.slow
def test_hook_storm_loses_nothing_and_stores_nothing_twice(app, world, db, clock, settings, storm_world):
    inst_id, batch_id, cameras = storm_world
    clock.advance(hours=2, minutes=45)  # 10:45, after the session
    admin = world.token("office", "admin", inst_id)
    hooks = _hooks(settings.data_dir, cameras)  # files in <data_dir>/video, the default video folder
    rnd = random.Random(9)
    bodies = [json.dumps(h, ensure_ascii=False).encode() for h in hooks]
    sends = bodies + [b for i, b in enumerate(bodies) if i % 3 == 0]  # a third of them twice
    rnd.shuffle(sends)
    sends += rnd.sample(bodies, 40)  # replays once the storm has passed
    distinct = {(h.get("id") or hashlib.sha256(b).hexdigest()) for h, b in zip(hooks, bodies)}
    secret = app.state.settings.hook_secret
    answers: list[tuple[int, dict]] = []
    work: queue.Queue = queue.Queue()
    for b in sends:
        work.put(b)

    def post(http: httpx.Client, body: bytes) -> None:
        r = http.post(
            "/api/v1/hooks/recorder",
            content=body,
            headers={SIGNATURE_HEADER: sign(body, secret), "Content-Type": "application/json"},
        )
        answers.append((r.status_code, r.json()))

    def sender(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                post(http, body)

    def outage(base: str) -> None:  # one recorder reports its camera down and back, in order
        cam, down, up = OFFLINE
        with httpx.Client(base_url=base, timeout=30) as http:
            for event, at in (("camera_offline", down), ("camera_online", up)):
                post(
                    http,
                    json.dumps(
                        {
                            "id": uuid.uuid4().hex,
                            "event": event,
                            "camera": cam,
                            "room_code": "T05",
                            "at": iso(at),
                            "reason": "no_signal",
                        }
                    ).encode(),
                )

    with live(app) as base:
        threads = [threading.Thread(target=sender, args=(base,)) for _ in range(THREADS)]
        threads.append(threading.Thread(target=outage, args=(base,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        # A finish contradicting one on record is refused and changes nothing (R-AUDIT-1).
        first = next(h for h in hooks if h["event"] == "segment_finished" and h["camera"] == NEW_IDS)
        liar = json.dumps({**first, "id": "liar", "sha256": "0" * 64}).encode()
        refused = httpx.post(
            base + "/api/v1/hooks/recorder", content=liar, headers={SIGNATURE_HEADER: sign(liar, secret)}
        )
        cov = httpx.get(
            f"{base}/api/v1/batches/{batch_id}/coverage", params={"margin": 0}, headers=bearer(admin), timeout=30
        ).json()

    assert len(answers) == len(sends) + 2
    assert sorted({s for s, _ in answers}) == [200], [a for a in answers if a[0] != 200][:5]
    stored = [b for _, b in answers if b["status"] == "stored"]
    assert len(stored) == len(distinct) + 2  # each distinct hook once (+ the outage's two)
    assert len(answers) - len(stored) == sum(1 for _, b in answers if b["status"] == "duplicate")
    assert refused.status_code == 409 and refused.json()["code"] == "segment_already_finished"

    segs = db.exec(select(Segment.camera_id, Segment.started_at, Segment.state)).all()
    assert db.exec(select(func.count()).select_from(HookReceipt)).one() == len(distinct) + 2
    db.commit()
    assert len(segs) == len({(c, s) for c, s, _ in segs}) == len(cameras) * N_SEG - 1
    assert sorted(st for *_, st in segs).count("valid") == len(segs) - 1

    gaps = {
        c["code"]: [(g["start"], g["end"], g["cause"]) for g in c["gaps"]]
        for s in cov["sessions"]
        for r in s["rooms"]
        for c in r["cameras"]
    }
    at = lambda m: iso(START + timedelta(minutes=m))  # noqa: E731
    assert gaps == {cam: [] for _, cam in cameras} | {
        MISSING[0]: [(at(60), at(70), "no_hook_received")],
        NO_FILE[0]: [(at(20), at(30), "file_missing")],
        OFFLINE[0]: [(at(50), at(52), "camera_offline")],
    }
    health = db.exec(select(CameraHealth)).all()
    db.commit()
    assert len(health) == len(cameras) and {h.state for h in health} == {"recording"}
