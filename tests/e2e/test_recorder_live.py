"""Whole journeys of video (R-VIDEO-1, R-ARCH-1): examday's recorder over a generated
video file against a live server, and ``examday retention purge`` as an operator runs it."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import cv2
import httpx
import numpy as np
import pytest
from sqlmodel import Session, select

from examday.clock import CST, Clock, iso
from examday.plans.models import ExamSession
from examday.registry.models import Camera
from proctor.recorder import RecorderConfig, record
from proctor.video_models import HookReceipt, Segment
from tests import builders
from tests.support import World, bearer

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(settings):
    """The app under uvicorn in a thread, on a free loopback port, with the real clock."""
    import uvicorn

    from examday.app import create_app

    app = create_app(settings, Clock())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the live server did not start"
        time.sleep(0.05)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", app=app)
    server.should_exit = True
    thread.join(20)


def generated_video(path: Path, seconds: float, fps: int = 10) -> Path:
    """A camera's picture: noise over a moving bar, never still and never dark."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (96, 72))
    assert writer.isOpened()
    rng = np.random.default_rng(7)
    for i in range(int(seconds * fps)):
        frame = rng.integers(90, 200, (72, 96, 3), dtype=np.uint8)
        frame[:, (i * 4) % 96 : (i * 4) % 96 + 8] = 255
        writer.write(frame)
    writer.release()
    return path


def test_the_recorder_fills_coverage_on_a_live_server(live_server, settings, tmp_path):  # R-VIDEO-1
    app = live_server.app
    engine = app.state.engine
    clock = Clock()
    with Session(engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, clock.now(), clock.today(), n_candidates=2)
        batch_id, iid = w["batch"].id, w["institution"].id
    token = World(app, engine, clock).token("office", "admin", iid)

    # The institution's own recorder key (issue #14, R-AUDIT-1), as its office issues it.
    key = httpx.post(
        f"{live_server.url}/api/v1/institutions/{iid}/recorder-keys",
        json={"label": "T01"},
        headers=bearer(token),
        timeout=10,
    ).json()
    video = generated_video(tmp_path / "camera.avi", seconds=4.5)
    config = RecorderConfig(
        source=str(video),
        room_code="T01",
        camera_code="T01-C1",
        server=live_server.url,
        secret=key["secret"],
        out_dir=settings.data_dir / "video",  # the server's video folder (EXAMDAY_VIDEO_DIRS unset)
        segment_seconds=1.5,
        key_id=key["kid"],
    )
    result = record(config)
    assert result.unsent_hooks == 0 and len(result.segments) == 3

    with Session(engine) as db:
        cam = db.exec(select(Camera).where(Camera.code == "T01-C1")).one()
        segs = db.exec(select(Segment).where(Segment.camera_id == cam.id).order_by(Segment.started_at)).all()
        receipts = db.exec(select(HookReceipt.event)).all()
        assert sorted(Path(s.path) for s in segs) == sorted(result.segments)
        assert [s.state for s in segs] == ["valid"] * 3
        for s in segs:
            data = Path(s.path).read_bytes()
            assert s.size == len(data) and s.sha256 == hashlib.sha256(data).hexdigest()
        assert sorted(receipts) == ["segment_finished"] * 3 + ["segment_started"] * 3
        first, last = segs[0].started_at, segs[-1].ended_at
        # The theory session becomes the recorded span: coverage must be complete over it.
        session = db.exec(
            select(ExamSession).where(ExamSession.batch_id == batch_id, ExamSession.part == "theory")
        ).one()
        session.starts_at, session.ends_at = first, last
        db.add(session)
        db.commit()

    r = httpx.get(
        f"{live_server.url}/api/v1/batches/{batch_id}/coverage", params={"margin": 0}, headers=bearer(token), timeout=10
    )
    assert r.status_code == 200, r.text
    theory = next(s for s in r.json()["sessions"] if s["part"] == "theory")
    cam = next(c for room in theory["rooms"] for c in room["cameras"] if c["code"] == "T01-C1")
    assert cam["complete"] is True and cam["gaps"] == []
    assert cam["covered"] == [{"start": iso(first), "end": iso(last)}]
    other = next(c for room in theory["rooms"] for c in room["cameras"] if c["code"] == "T01-C2")
    assert other["complete"] is False and other["gaps"][0]["cause"] == "no_hook_received"

    # A hook without the secret is refused by the live server too.
    bad = httpx.post(
        f"{live_server.url}/api/v1/hooks/recorder",
        content=b"{}",
        headers={"X-Examday-Signature": "sha256=00"},
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["code"] == "bad_signature"


def cli(args: list[str], db_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXAMDAY_DATABASE_URL": db_url, "EXAMDAY_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "examday.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def test_retention_purge_from_the_command_line(tmp_path):  # R-VIDEO-1, R-ARCH-1
    from alembic import command

    from examday.models import metadata
    from storage.db import alembic_config, make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    # The schema from the models, marked current so that the command's own migration step is a no-op.
    metadata.create_all(engine)
    command.stamp(alembic_config(url), "head")
    now = datetime.now(CST)
    with Session(engine, expire_on_commit=False) as db:
        inst = builders.institution(db, now)
        inst.profile = "jilin"
        rooms = builders.rooms(db, inst)
        cam = db.exec(select(Camera).where(Camera.room_id == rooms[0].id)).first()
        files, ids = [], []
        for years in (3, 0):  # one segment long past its year, one from this morning
            start = now - timedelta(days=365 * years, hours=1)
            path = tmp_path / "data" / "video" / f"{years}.mp4"  # the default video folder
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"video bytes %d" % years)
            seg = Segment(
                camera_id=cam.id,
                institution_id=inst.id,
                started_at=start,
                ended_at=start + timedelta(seconds=10),
                expected_end=start + timedelta(seconds=10),
                path=str(path),
                size=path.stat().st_size,
                sha256="0" * 64,
                state="valid",
                received_at=start,
            )
            db.add(seg)
            db.flush()
            files.append(path)
            ids.append(seg.id)
        db.commit()
    engine.dispose()

    dry = cli(["retention", "purge", "--dry-run"], url, tmp_path / "data")
    assert dry.returncode == 0, dry.stderr
    assert f"would purge segment {ids[0]} T01/{cam.code}" in dry.stdout and f"segment {ids[1]} " not in dry.stdout
    assert files[0].exists() and files[1].exists()
    real = cli(["retention", "purge"], url, tmp_path / "data")
    assert real.returncode == 0, real.stderr
    assert f"purged segment {ids[0]} " in real.stdout and "segment purged: 1" in real.stdout
    assert not files[0].exists() and files[1].exists()
    ok = cli(["audit", "verify"], url, tmp_path / "data")
    assert ok.returncode == 0 and "holds" in ok.stdout
