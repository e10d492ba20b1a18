"""Video segments in S3-compatible storage (a real S3 HTTP server, moto's): the recorder
uploads each finished segment and reports the object through the signed hook; the
server checks it by HEAD and the store's SHA-256 (R-VIDEO-1, R-AUDIT-1)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlmodel import Session, func, select

from examday.settings import Settings
from proctor.recorder import RecorderConfig, record
from proctor.recorder_upload import UPLOADS_FILE
from proctor.video_models import HookReceipt, Segment
from tests.support import assert_refusal

from .video_support import SECRET, at, hook, post_hook, video_world

FPS = 10


@pytest.fixture
def settings(settings: Settings, s3) -> Settings:
    """The server's settings connect to the test's store (EXAMDAY_S3_*, as s3.config was read)."""
    settings.s3 = s3.config
    return settings


@pytest.fixture
def vw(db, world, clock):
    return video_world(db, world, clock.now())


@pytest.fixture
def camera_file(tmp_path: Path) -> Path:
    """Three seconds of a moving picture: three one-second segments."""
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (160, 120))
    for i in range(3 * FPS):
        frame = np.full((120, 160, 3), 90, np.uint8)
        frame[30:90, (i * 5) % 150 : (i * 5) % 150 + 10] = (255, 255, 255)
        writer.write(frame)
    writer.release()
    return path


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class Outbox:
    """The recorder's hook posts, kept to be replayed through the real endpoint in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.sent.append((body, headers))
        return 200

    def events(self) -> list[dict]:
        return [json.loads(b) for b, _ in self.sent]

    def replay(self, client) -> list[dict]:
        out = []
        for body, headers in self.sent:
            r = client.post("/api/v1/hooks/recorder", content=body, headers=headers)
            assert r.status_code == 200, r.text
            out.append(r.json())
        return out


def run_recorder(camera_file: Path, out: Path, target: str, outbox: Outbox, s3, flush: float = 10.0, **kw):
    cfg = RecorderConfig(
        str(camera_file),
        "T01",
        "T01-C1",
        "http://examday.invalid",
        SECRET,
        out,
        segment_seconds=1.0,
        hook_backoff=0.01,
        hook_backoff_max=0.05,
        upload=target,
        s3=s3,
        **kw,
    )
    clock = Clock(at(8, 1))  # after the camera was registered (08:00), within the server's skew
    return record(cfg, clock=clock, sleep=clock.sleep, post=outbox, flush_timeout=flush)


def segments(engine) -> list[Segment]:
    with Session(engine) as s:
        return s.exec(select(Segment).order_by(Segment.started_at)).all()


def test_segments_uploaded_by_the_recorder_are_reported_and_checked(
    client, vw, engine, s3, camera_file, tmp_path
):  # R-VIDEO-1, R-AUDIT-1
    outbox, out = Outbox(), tmp_path / "out"
    result = run_recorder(camera_file, out, f"s3://{s3.bucket}/video", outbox, s3.config)
    assert len(result.segments) == 3 and result.unsent_uploads == 0 and result.unsent_hooks == 0
    keys = s3.keys("video/")
    assert len(keys) == 3 and all(k.startswith("video/T01/T01-C1/") for k in keys)
    assert result.uploaded == [s3.url(k) for k in keys]
    assert not any(p.exists() for p in result.segments)  # uploaded and verified: the local copy goes
    assert not list(out.rglob(UPLOADS_FILE))
    finished = [e for e in outbox.events() if e["event"] == "segment_finished"]
    assert [e["path"] for e in finished] == result.uploaded

    answers = outbox.replay(client)
    assert [a["segment_state"] for a in answers if "segment_state" in a][-1] == "valid"
    segs = segments(engine)
    assert [(s.path, s.state) for s in segs] == [(u, "valid") for u in result.uploaded]

    # A re-check finds an object deleted by hand, and (deep) one replaced with other bytes.
    s3.client.delete_object(Bucket=s3.bucket, Key=keys[0])
    s3.client.put_object(Bucket=s3.bucket, Key=keys[1], Body=b"not the recording")
    url = f"/api/v1/batches/{vw.batch_id}/coverage/verify"
    r = client.post(url, json={"deep": False}, headers=vw.h("admin"))
    assert r.status_code == 200 and r.json()["changed"] == {"file_missing": 1}
    r = client.post(url, json={"deep": True}, headers=vw.h("admin"))
    assert r.status_code == 200 and r.json()["changed"] == {"checksum_mismatch": 1}
    assert [s.state for s in segments(engine)] == ["file_missing", "checksum_mismatch", "valid"]


def test_an_s3_location_is_checked_like_a_file(client, vw, s3, clock):  # R-VIDEO-1, R-AUDIT-1
    clock.advance(hours=2)
    data = os.urandom(3000)
    sha = hashlib.sha256(data).hexdigest()
    cases = [
        ("missing", None, data, "file_missing"),
        ("other-bytes", s3.put("v/a.mp4", b"other bytes"), data, "checksum_mismatch"),
        ("other-size", s3.put("v/b.mp4", data), data + b"x", "checksum_mismatch"),
        # A plain uploader keeps no checksum: the server reads the object and hashes it.
        ("no-checksum", s3.put("v/c.mp4", data, checksum=False), data, "valid"),
        ("checksum", s3.put("v/d.mp4", data), data, "valid"),
        ("bad-url", "s3://Not_A_Bucket/x.mp4", data, "file_missing"),
    ]
    for i, (name, location, claimed, state) in enumerate(cases):
        location = location or s3.url("v/never-written.mp4")
        r = post_hook(
            client,
            hook(
                "segment_finished",
                "T01-C1",
                at(9, i, 10),
                started_at=at(9, i),
                ended_at=at(9, i, 10),
                path=location,
                sha256=sha,
                bytes=len(claimed),
            ),
        )
        assert r.status_code == 200 and r.json()["segment_state"] == state, name


def _dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens there once closed


def test_an_unreachable_store_answers_503_and_the_hook_is_sent_again(
    client, vw, engine, s3, settings, clock, monkeypatch
):  # R-VIDEO-1
    clock.advance(hours=2)
    data = os.urandom(1000)
    location = s3.put("v/seg.mp4", data)
    payload = hook(
        "segment_finished",
        "T01-C1",
        at(9, 0, 10),
        started_at=at(9, 0),
        ended_at=at(9, 0, 10),
        path=location,
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
    )
    settings.s3 = replace(s3.config, endpoint_url=_dead_endpoint())  # the server's settings, as it runs
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert_refusal(post_hook(client, payload), 503, "video_store_unavailable", "R-VIDEO-1")
    with Session(engine) as s:  # nothing kept: the recorder's retry is not a duplicate
        assert s.exec(select(func.count()).select_from(HookReceipt)).one() == 0
    settings.s3 = s3.config
    r = post_hook(client, payload)
    assert r.status_code == 200 and r.json()["segment_state"] == "valid"


def test_segments_wait_on_disk_while_the_store_is_down_and_go_next_run(
    client, vw, engine, s3, camera_file, tmp_path, monkeypatch
):  # R-VIDEO-1
    out, first = tmp_path / "out", Outbox()
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    dead = replace(s3.config, endpoint_url=_dead_endpoint())
    result = run_recorder(camera_file, out, f"s3://{s3.bucket}/video", first, dead, flush=0.5)
    assert result.unsent_uploads == 3 and result.uploaded == []
    assert all(p.exists() for p in result.segments)  # nothing lost, nothing reported finished
    assert [e["event"] for e in first.events()].count("segment_finished") == 0
    journal = out / "T01" / "T01-C1" / UPLOADS_FILE
    assert len(journal.read_bytes().splitlines()) == 3

    second = Outbox()
    again = run_recorder(camera_file, out, f"s3://{s3.bucket}/video", second, s3.config, max_segments=0)
    assert again.segments == [] and again.unsent_uploads == 0 and len(again.uploaded) == 3
    assert not journal.exists() and not any(p.exists() for p in result.segments)
    first.replay(client)
    second.replay(client)
    assert [s.state for s in segments(engine)] == ["valid"] * 3
    assert [s.path for s in segments(engine)] == again.uploaded


def test_the_recorder_refuses_an_upload_target_that_is_no_bucket(tmp_path, camera_file, monkeypatch):
    from proctor.recorder import main

    args = [
        "--camera",
        str(camera_file),
        "--room",
        "T01",
        "--camera-code",
        "T01-C1",
        "--server",
        "http://x",
        "--secret",
        "s",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main([*args, "--upload", "s3://Not_A_Bucket/video"]) == 2
    assert main([*args, "--upload", "/srv/video"]) == 2
    monkeypatch.setenv("EXAMDAY_S3_ADDRESSING", "sideways")  # read by the settings module for --upload
    assert main([*args, "--upload", "s3://examday-video/site1"]) == 2
    assert not (tmp_path / "out").exists()  # refused before recording anything
