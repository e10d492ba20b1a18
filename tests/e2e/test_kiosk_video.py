"""The kiosk program end to end: a video file of rendered admission tickets as the camera, ID
numbers typed on stdin, a live server; candidates end up checked in (R-DAY-1, R-ID-1), and a
kiosk that loses the server keeps checking in and syncs later."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlmodel import Session, select

from examday.clock import iso
from examday.identity import mask_id_number
from examday.plans.ticket_render import TicketView, render_ticket_png
from kiosk.models import Attendance, CheckIn
from tests.e2e.live import free_port
from tests.integration.kiosk.support import checkin_world

ROOT = Path(__file__).resolve().parents[2]
FRAME = (1280, 720)


def ticket_image(c, qr_text: str, room: str, seat: int) -> np.ndarray:
    view = TicketView(
        institution="示范职业技能评价中心",
        ticket_number=c.ticket_number,
        name=c.name,
        masked_id=mask_id_number(c.id_number),
        occupation_name="电工",
        occupation_code="6-31-01-03",
        level=4,
        parts=["theory", "skill"],
        sessions=[],
        room_code=room,
        seat=seat,
        qr_text=qr_text,
    )
    img = Image.open(io.BytesIO(render_ticket_png(view))).convert("RGB")
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def scene(ticket: np.ndarray | None, angle: float, light: float) -> np.ndarray:
    """The ticket held up a little tilted, under uneven light, on a grey desk."""
    w, h = FRAME
    frame = np.full((h, w, 3), 96, np.uint8)
    if ticket is not None:
        th, tw = ticket.shape[:2]
        scale = min(0.8 * w / tw, 0.8 * h / th)
        m = cv2.getRotationMatrix2D((tw / 2, th / 2), angle, scale)
        m[0, 2] += w / 2 - tw / 2
        m[1, 2] += h / 2 - th / 2
        mask = cv2.warpAffine(np.full((th, tw), 255, np.uint8), m, (w, h))
        warped = cv2.warpAffine(ticket, m, (w, h))
        frame[mask > 0] = warped[mask > 0]
    ramp = np.linspace(light, 1.0, w, dtype=np.float32)[None, :, None]
    return np.clip(frame.astype(np.float32) * ramp, 0, 255).astype(np.uint8)


def write_video(path: Path, tickets: list[np.ndarray], hold: int = 6, gap: int = 8) -> None:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, FRAME)
    assert out.isOpened()
    for _ in range(gap):
        out.write(scene(None, 0, 1))
    for k, t in enumerate(tickets):
        for f in range(hold):
            out.write(scene(t, angle=(-1) ** k * (4 + f), light=0.55 + 0.05 * k))
        for _ in range(gap):
            out.write(scene(None, 0, 1))
    out.release()


def run_kiosk(
    server: str, token: str, video: Path, ids: list[str], data_dir: Path, *extra: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "kiosk.program",
        "--server",
        server,
        "--token",
        token,
        "--camera",
        str(video),
        "--headless",
        "--data-dir",
        str(data_dir),
        "--id-timeout",
        "10",
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        cmd, input="".join(i + "\n" for i in ids), capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


@pytest.fixture
def w(db, clock, settings):
    world = checkin_world(db, clock.now(), settings.secret_key, n=4)
    clock.advance(minutes=40)  # 08:40: entry is open (R-TIME-1)
    return world


def frames_for(w, idx: list[int]) -> list[np.ndarray]:
    out = []
    for i in idx:
        c = w.candidates[i]
        out.append(ticket_image(c, w.qr(i), "T01" if i % 2 == 0 else "T02", i // 2 + 1))
    return out


@pytest.mark.slow
def test_video_camera_checks_in_candidates_against_a_live_server(tmp_path, engine, live_server, world, w):
    token = world.token("kiosk1", "kiosk", w.institution_id)
    video = tmp_path / "door.avi"
    write_video(video, frames_for(w, [0, 1, 2]))
    # Candidate 2 types someone else's number: refused, not let in (R-ID-1).
    ids = [w.candidates[0].id_number, w.candidates[1].id_number, w.candidates[3].id_number]
    done = run_kiosk(live_server, token, video, ids, tmp_path / "kiosk")
    assert done.returncode == 0, done.stderr
    screens = [line for line in done.stdout.splitlines() if line.startswith("SCREEN")]
    assert sum("签到成功" in s for s in screens) == 2, done.stdout
    assert any("考场 T01" in s and "Room T01, seat 1" in s for s in screens)
    assert any("身份证号与准考证不符" in s for s in screens)
    for c in w.candidates:  # R-PRIV-1: never an ID number in what the kiosk prints or logs
        assert c.id_number not in done.stdout and c.id_number not in done.stderr
    with Session(engine) as s:
        present = {a.candidate_id for a in s.exec(select(Attendance)).all()}
        attempts = s.exec(select(CheckIn).order_by(CheckIn.id)).all()
    assert present == {w.candidates[0].id, w.candidates[1].id}
    assert [(a.status, a.code) for a in attempts] == [
        ("accepted", None),
        ("accepted", None),
        ("refused", "id_mismatch"),
    ]
    assert all(a.photo_blob_id for a in attempts)  # the kiosk sends the frame it read the ticket from


@pytest.mark.slow
def test_kiosk_keeps_working_offline_and_syncs(tmp_path, engine, clock, live_server, world, w):
    token = world.token("kiosk1", "kiosk", w.institution_id)
    data = tmp_path / "kiosk"
    empty = tmp_path / "empty.avi"
    write_video(empty, [])
    # Online at first: the kiosk caches who it is and the roster.
    first = run_kiosk(live_server, token, empty, [], data)
    assert first.returncode == 0 and list(data.glob("roster-*.json")), first.stderr
    # The network goes: a dead port. The kiosk checks two people in on its own, in its own time.
    video = tmp_path / "offline.avi"
    write_video(video, frames_for(w, [0, 1]))
    dead = f"http://127.0.0.1:{free_port()}"
    kiosk_time = iso(clock.now() + timedelta(minutes=1))
    off = run_kiosk(
        dead, token, video, [w.candidates[0].id_number, w.candidates[1].id_number], data, "--clock", kiosk_time
    )
    assert off.returncode == 0, off.stderr
    assert sum("签到成功" in s and "离线" in s for s in off.stdout.splitlines()) == 2, off.stdout
    assert len((data / "queue.jsonl").read_text().splitlines()) == 2
    with Session(engine) as s:
        assert s.exec(select(Attendance)).all() == []
    # Back online: the queue goes up with the original scan times.
    clock.advance(minutes=30)
    synced = run_kiosk(live_server, token, empty, [], data, "--sync-only")
    assert synced.returncode == 0, synced.stderr
    assert (data / "queue.jsonl").read_text() == ""
    with Session(engine) as s:
        rows = s.exec(select(Attendance)).all()
        attempts = s.exec(select(CheckIn)).all()
    assert {a.candidate_id for a in rows} == {w.candidates[0].id, w.candidates[1].id}
    assert all(a.offline and a.scanned_at is not None for a in attempts)
    assert all(a.at < clock.now() for a in rows)  # judged at the scan, not at the upload
