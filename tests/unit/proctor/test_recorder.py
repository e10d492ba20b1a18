"""examday's own recorder against a local hook server (R-VIDEO-1, R-AUDIT-1)."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from proctor.hooks_sign import SIGNATURE_HEADER, sign, verify
from proctor.recorder import PENDING_FILE, HookSender, RecorderConfig, main, record

SECRET = "s3cret-钥匙"
START = datetime(2025, 6, 14, 0, 59, 0, tzinfo=UTC)
FPS = 10
# The synthetic camera: 4 s moving, 6 s frozen, 4 s black, 3 s moving again.
MOVING, FROZEN, BLACK, AGAIN = 40, 60, 40, 30


class FakeClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class HookServer:
    """A hook endpoint that checks signatures and can fail the first requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.hooks: list[dict] = []
        self.bad_signatures = 0
        self.fail_left = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    if outer.fail_left:
                        outer.fail_left -= 1
                        status = 503
                    elif self.path != "/api/v1/hooks/recorder" or not verify(
                        body, SECRET, self.headers.get(SIGNATURE_HEADER)
                    ):
                        outer.bad_signatures += 1
                        status = 401
                    else:
                        outer.hooks.append(json.loads(body))
                        status = 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def synthetic_video(tmp_path: Path) -> Path:
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (160, 120))
    frame = None
    for i in range(MOVING):
        frame = np.full((120, 160, 3), 90, np.uint8)
        x = (i * 4) % 150
        frame[30:90, x : x + 10] = (255, 255, 255)
        writer.write(frame)
    for _ in range(FROZEN):
        writer.write(frame)  # the picture stops on its last moving frame
    for _ in range(BLACK):
        writer.write(np.zeros((120, 160, 3), np.uint8))
    for i in range(AGAIN):
        frame = np.full((120, 160, 3), 90, np.uint8)
        frame[30:90, i * 4 : i * 4 + 10] = (255, 255, 255)
        writer.write(frame)
    writer.release()
    return path


def config(source: Path | str, out: Path, server: str, **kw) -> RecorderConfig:
    kw = {"segment_seconds": 2.0, "frozen_seconds": 3.0, "black_seconds": 2.0, "hook_backoff": 0.01, **kw}
    return RecorderConfig(str(source), "T101", "CAM-A", server, SECRET, out, **kw)


def secs(iso: str) -> float:
    t = datetime.fromisoformat(iso)
    assert t.tzinfo is not None  # CONTRACT.md: ISO 8601 with offset
    return (t - START).total_seconds()


def test_sign_is_hmac_sha256_of_the_raw_body():  # R-AUDIT-1
    body = b'{"event":"segment_started"}'
    assert sign(body, "k") == "sha256=" + __import__("hmac").new(b"k", body, "sha256").hexdigest()
    assert verify(body, "k", sign(body, "k"))
    assert not verify(body + b" ", "k", sign(body, "k"))
    assert not verify(body, "k", None) and not verify(body, "k", "sha256=zz\u00e9")


def test_records_segments_and_reports_them(synthetic_video, tmp_path):  # R-VIDEO-1, R-AUDIT-1
    server = HookServer(fail_first=2)  # the first hooks meet a server that is still starting
    clock = FakeClock(START)
    try:
        result = record(config(synthetic_video, tmp_path / "out", server.url), clock=clock, sleep=clock.sleep)
    finally:
        server.close()
    assert result.unsent_hooks == 0 and server.bad_signatures == 0
    hooks = server.hooks
    assert {h["camera"] for h in hooks} == {"CAM-A"} and {h["room_code"] for h in hooks} == {"T101"}
    assert len({h["id"] for h in hooks}) == len(hooks)

    started = [h for h in hooks if h["event"] == "segment_started"]
    finished = [h for h in hooks if h["event"] == "segment_finished"]
    total = (MOVING + FROZEN + BLACK + AGAIN) / FPS
    assert len(started) == len(finished) == len(result.segments) == 9  # 17 s in 2-s segments
    for h in finished:
        path = Path(h["path"])
        assert path.is_absolute() and path.exists()
        data = path.read_bytes()
        assert h["sha256"] == hashlib.sha256(data).hexdigest() and h["bytes"] == len(data)
        cap = cv2.VideoCapture(str(path))
        assert cap.read()[0]
        cap.release()
    # Segments touch end to start, from the first frame to the last (R-VIDEO-1).
    assert secs(finished[0]["started_at"]) == 0 and secs(finished[-1]["ended_at"]) == pytest.approx(total)
    for a, b in itertools.pairwise(finished):
        assert a["ended_at"] == b["started_at"]
    # Each segment is announced before it is finished, in order.
    assert [h["path"] for h in started] == [h["path"] for h in finished]
    events = [h["event"] for h in hooks]
    assert events.index("segment_started") < events.index("segment_finished")

    alerts = [(h["event"], h.get("reason"), round(secs(h["at"]), 1)) for h in hooks if h["event"].startswith("camera_")]
    assert alerts == [
        ("camera_offline", "frozen", 3.9),  # since the last moving frame
        ("camera_online", None, 10.0),
        ("camera_offline", "black", 10.0),
        ("camera_online", None, 14.0),
    ]
    frozen = next(h for h in hooks if h.get("reason") == "frozen")
    assert secs(frozen["detected_at"]) == pytest.approx(6.9)


def test_max_segments_stops_the_recorder(synthetic_video, tmp_path):
    server = HookServer()
    clock = FakeClock(START)
    try:
        cfg = config(synthetic_video, tmp_path / "out", server.url, max_segments=3)
        result = record(cfg, clock=clock, sleep=clock.sleep)
    finally:
        server.close()
    assert len(result.segments) == 3
    assert [h["event"] for h in server.hooks].count("segment_finished") == 3
    assert clock.t - START == timedelta(seconds=6)  # a file plays at its own frame rate


def test_hooks_survive_a_server_that_is_down(tmp_path):  # R-VIDEO-1: no hook is lost
    def down(url, body, headers):
        raise httpx.ConnectError("refused")

    sender = HookSender("http://127.0.0.1:9", SECRET, tmp_path, backoff=0.01, post=down)
    for n in range(5):
        sender.submit({"event": "segment_started", "n": n})
    assert sender.close(timeout=0.2) == 5
    assert len((tmp_path / PENDING_FILE).read_bytes().splitlines()) == 5

    received = []

    def up(url, body, headers):
        assert verify(body, SECRET, headers[SIGNATURE_HEADER])
        received.append(json.loads(body)["n"])
        return 204

    sender = HookSender("http://127.0.0.1:9", SECRET, tmp_path, backoff=0.01, post=up)
    sender.submit({"event": "segment_started", "n": 5})
    assert sender.close(timeout=5) == 0
    assert received == [0, 1, 2, 3, 4, 5]  # the spooled ones first, in order
    assert not (tmp_path / PENDING_FILE).exists()


def test_a_refused_hook_does_not_block_the_rest(tmp_path):
    statuses = iter([401, 204, 204])
    sender = HookSender("http://x", SECRET, tmp_path, backoff=0.01, post=lambda *a: next(statuses))
    for n in range(3):
        sender.submit({"n": n})
    assert sender.close(timeout=5) == 0 and sender.delivered == 2
    assert json.loads((tmp_path / "rejected-hooks.jsonl").read_text())["n"] == 0


def test_command_line_needs_a_secret(tmp_path, monkeypatch, synthetic_video):
    monkeypatch.delenv("EXAMDAY_HOOK_SECRET", raising=False)
    argv = [
        "--camera",
        str(synthetic_video),
        "--room",
        "T101",
        "--camera-code",
        "A",
        "--server",
        "http://127.0.0.1:9",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 2
    assert main([*argv[:1], str(tmp_path / "nope.avi"), *argv[2:], "--secret", "x"]) == 2


def test_a_camera_that_cannot_be_reached_is_reported_once(tmp_path):  # R-VIDEO-1
    server = HookServer()
    clock = FakeClock(START)
    stop = threading.Event()
    attempts = []

    def sleep(seconds):
        clock.sleep(seconds)
        attempts.append(seconds)
        if len(attempts) == 3:
            stop.set()

    try:
        cfg = config("rtsp://127.0.0.1:9/none", tmp_path / "out", server.url)
        result = record(cfg, clock=clock, sleep=sleep, stop=stop)
    finally:
        server.close()
    assert result.segments == []
    assert [(h["event"], h["reason"]) for h in server.hooks] == [("camera_offline", "no_signal")]
