"""examday's own recorder (录像机), for institutions without an NVR.

R-VIDEO-1: reads one camera (USB index, RTSP URL or video file), cuts it into
fixed-length segment files and reports each through the signed hooks of
CONTRACT.md ("Video"); the server builds coverage from nothing but these.
A camera that sends frames but shows nothing — frozen picture, covered or
black lens — is reported offline with its reason: such video is not monitoring.
R-AUDIT-1: each segment is reported with its SHA-256 and size, so a file
altered or lost later shows as a gap.

Hooks are signed with ``--secret``: an institution's recorder key's secret with
``--key-id`` (sent as ``X-Examday-Recorder``; the key touches only that
institution's cameras), else the installation's ``EXAMDAY_HOOK_SECRET``.
Segment files go in ``--out``, which must lie in the server's video folders
(``EXAMDAY_VIDEO_DIRS``) when the server shares this disk.

Hooks go out in order from a thread, retried with backoff while the server is
down, and spooled to ``pending-hooks.jsonl`` if the recorder stops first; the
next run sends them. Each carries an ``id`` so the server can drop a repeat.
With ``--upload s3://bucket/prefix`` each finished segment goes to
S3-compatible storage first and its hook names the object
(:mod:`proctor.recorder_upload`).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from examday.settings import recorder_program_env, s3_config

# The sender lived here first; its names stay importable from here.
from proctor.recorder_upload import (  # noqa: F401
    HOOK_PATH,
    PENDING_FILE,
    REJECTED_FILE,
    HookSender,
    Post,
    SegmentUploader,
)
from proctor.recorder_watch import PictureWatch
from storage.blobs_s3 import S3Config, parse_url

log = logging.getLogger("examday.recorder")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RecorderConfig:
    source: str
    room_code: str
    camera_code: str
    server: str
    secret: str
    out_dir: Path
    segment_seconds: float = 10.0
    max_segments: int | None = None
    frozen_seconds: float = 10.0  # camera OSD clocks tick every second, so 10 s still is a frozen picture
    black_seconds: float = 5.0
    black_level: float = 20.0  # mean grey level (0–255) under which the lens counts as covered
    frozen_delta: int = 8  # a pixel moving less than this is compression noise, not a change
    reconnect_seconds: float = 2.0
    hook_backoff: float = 0.5
    hook_backoff_max: float = 30.0
    upload: str | None = None  # s3://bucket/prefix: segments go there, hooks name the objects
    keep_local: bool = False  # keep the local file after a verified upload
    s3: S3Config = field(default_factory=S3Config)  # the store --upload goes to (main(): EXAMDAY_S3_*)
    key_id: str | None = None  # the institution's recorder key ``secret`` is of; None: the installation's


@dataclass
class _Segment:
    path: Path
    writer: cv2.VideoWriter
    started_at: datetime
    size: tuple[int, int]


@dataclass
class RecorderResult:
    segments: list[Path]
    unsent_hooks: int  # spooled to disk for the next run, not lost
    unsent_uploads: int = 0  # listed on disk for the next run, not lost
    uploaded: list[str] = field(default_factory=list)  # s3:// locations reported


class Recorder:
    """One camera, one run: frames in, segment files and hooks out."""

    def __init__(
        self,
        config: RecorderConfig,
        clock: Clock,
        sleep: Callable[[float], None],
        sender: HookSender,
        stop: threading.Event,
        uploader: SegmentUploader | None = None,
    ) -> None:
        self.cfg, self.clock, self.sleep, self.sender, self.stop = config, clock, sleep, sender, stop
        self.uploader = uploader
        self.live = config.source.isdigit() or "://" in config.source
        self.watch = self._new_watch()
        self.segment: _Segment | None = None
        self.finished: list[Path] = []
        self.fourcc: tuple[str, str] | None = None
        self.no_signal = False

    def run(self) -> list[Path]:
        cap = self._open()
        if not cap.isOpened() and not self.live:
            raise FileNotFoundError(f"cannot read video file {self.cfg.source}")
        fps = _fps(cap)
        step = timedelta(seconds=1 / fps)
        start, n, last_at = self.clock(), 0, None
        while not self.stop.is_set() and not self._done():
            if not self.live:
                # A file plays at its own frame rate, as a camera would deliver it.
                wait = (start + n * step - self.clock()).total_seconds()
                if wait > 0:
                    self.sleep(wait)
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            now = self.clock()
            if not ok:
                if not self.live:
                    break
                lost_at = last_at + step if last_at else now
                self._finish(lost_at)
                if not self.no_signal:
                    self.no_signal = True
                    # The outage supersedes a frozen or black picture; the
                    # reconnected stream is judged afresh.
                    self.watch = self._new_watch()
                    self._hook("camera_offline", lost_at, reason="no_signal", detected_at=_iso(now))
                cap.release()
                self.sleep(self.cfg.reconnect_seconds)
                cap = self._open()
                fps = _fps(cap)  # a camera absent at start reports its rate only now
                step = timedelta(seconds=1 / fps)
                continue
            assert frame is not None  # read() gives a frame whenever it succeeds
            n += 1
            if self.no_signal:
                self.no_signal = False
                self._hook("camera_online", now)
            self._write(frame, now, fps)
            change = self.watch.observe(frame, now)
            if change is not None and change.online:
                self._hook("camera_online", change.at)
            elif change is not None:
                self._hook("camera_offline", change.at, reason=change.reason, detected_at=_iso(now))
            last_at = now
        if last_at is not None:
            self._finish(last_at + step)
        cap.release()
        return self.finished

    def _new_watch(self) -> PictureWatch:
        c = self.cfg
        return PictureWatch(c.frozen_seconds, c.black_seconds, c.black_level, c.frozen_delta)

    def _done(self) -> bool:
        return self.cfg.max_segments is not None and len(self.finished) >= self.cfg.max_segments

    def _open(self) -> cv2.VideoCapture:
        src = self.cfg.source
        if src.isdigit():
            return cv2.VideoCapture(int(src))
        if "://" in src:
            # Without timeouts a stalled RTSP stream blocks read() for long
            # enough to hide the outage from the proctors.
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000]
            return cv2.VideoCapture(src, cv2.CAP_FFMPEG, params)
        return cv2.VideoCapture(src)

    def _write(self, frame: np.ndarray, now: datetime, fps: float) -> None:
        size = (frame.shape[1], frame.shape[0])
        seg = self.segment
        # Segments touch end to start: the frame that closes one opens the next.
        full = seg is not None and now - seg.started_at >= timedelta(seconds=self.cfg.segment_seconds)
        if seg is not None and (full or seg.size != size):
            self._finish(now)
            if self._done():
                return
            seg = None
        if seg is None:
            seg = self.segment = self._start(now, size, fps)
        seg.writer.write(frame)

    def _start(self, now: datetime, size: tuple[int, int], fps: float) -> _Segment:
        folder = self.cfg.out_dir / _safe(self.cfg.room_code) / _safe(self.cfg.camera_code) / f"{now:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{now:%H%M%S.%f}Z"
        # mp4v in .mp4 is built into OpenCV's FFmpeg; MJPG in .avi is the
        # fallback every OpenCV build can write.
        for code, ext in [self.fourcc] if self.fourcc else [("mp4v", ".mp4"), ("MJPG", ".avi")]:
            path = (folder / (stem + ext)).resolve()
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*code), fps, size)
            if writer.isOpened():
                self.fourcc = (code, ext)
                break
        else:
            raise RuntimeError("OpenCV cannot write mp4v or MJPG video here")
        self._hook(
            "segment_started",
            now,
            started_at=_iso(now),
            path=self._location(path),
            segment_seconds=self.cfg.segment_seconds,
        )
        return _Segment(path, writer, now, size)

    def _finish(self, ended_at: datetime) -> None:
        seg, self.segment = self.segment, None
        if seg is None:
            return
        seg.writer.release()
        digest, size = _sha256(seg.path)
        self.finished.append(seg.path)
        hook = self._payload(
            "segment_finished",
            self.clock(),
            started_at=_iso(seg.started_at),
            ended_at=_iso(ended_at),
            path=self._location(seg.path),
            sha256=digest,
            bytes=size,
        )
        if self.uploader is not None:
            self.uploader.submit(seg.path, hook)  # reported once the store holds it
        else:
            self.sender.submit(hook)

    def _location(self, path: Path) -> str:
        return self.uploader.location(path) if self.uploader is not None else str(path)

    def _payload(self, event: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "id": uuid.uuid4().hex,
            "event": event,
            "camera": self.cfg.camera_code,
            "room_code": self.cfg.room_code,
            "at": _iso(at),
            **extra,
        }

    def _hook(self, event: str, at: datetime, **extra: Any) -> None:
        self.sender.submit(self._payload(event, at, **extra))


def record(
    config: RecorderConfig,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
    post: Post | None = None,
    flush_timeout: float = 10.0,
) -> RecorderResult:
    """Record until the file ends, ``max_segments`` are done or ``stop`` is set."""
    # Each camera spools its own hooks: two recorders often share one --out.
    spool = config.out_dir / _safe(config.room_code) / _safe(config.camera_code)
    spool.mkdir(parents=True, exist_ok=True)
    sender = HookSender(
        config.server, config.secret, spool, config.hook_backoff, config.hook_backoff_max, post, key_id=config.key_id
    )
    uploader = None
    if config.upload:
        uploader = SegmentUploader(
            config.upload,
            config.out_dir,
            sender,
            spool,
            s3=config.s3,
            keep_local=config.keep_local,
            backoff=config.hook_backoff,
            backoff_max=config.hook_backoff_max,
        )
    unsent_uploads = 0
    try:
        segments = Recorder(config, clock, sleep, sender, stop or threading.Event(), uploader).run()
    finally:
        # Uploads first: each one done hands its hook to the sender.
        unsent_uploads = uploader.close(flush_timeout) if uploader is not None else 0
        unsent = sender.close(flush_timeout)
    return RecorderResult(segments, unsent, unsent_uploads, uploader.uploaded if uploader else [])


def _fps(cap: cv2.VideoCapture) -> float:
    fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
    return fps if 1 <= fps <= 120 else 25.0


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def _safe(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", code) or "_"


def _sha256(path: Path) -> tuple[str, int]:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest(), f.tell()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="examday-recorder", description="Record a camera, report segments to examday.")
    p.add_argument("--camera", required=True, metavar="SOURCE", help='USB index ("0"), RTSP URL or video file')
    p.add_argument("--room", required=True, metavar="CODE")
    p.add_argument("--camera-code", required=True, metavar="CODE")
    p.add_argument("--server", required=True, metavar="URL", help="e.g. http://127.0.0.1:8000")
    env = recorder_program_env()
    p.add_argument(
        "--secret",
        default=env.hook_secret,
        help="hook secret: the recorder key's, or the installation's; prefer env EXAMDAY_HOOK_SECRET "
        "(the command line is visible to ps)",
    )
    p.add_argument(
        "--key-id",
        default=env.key_id,
        metavar="KID",
        help="the institution's recorder key the secret belongs to (env EXAMDAY_RECORDER_KEY_ID); "
        "unset, the secret is the installation's EXAMDAY_HOOK_SECRET",
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="segment files (with --upload: until uploaded) and the hook spool",
    )
    p.add_argument(
        "--upload",
        metavar="s3://BUCKET/PREFIX",
        default=None,
        help="put each finished segment into S3-compatible storage (EXAMDAY_S3_* and AWS_* "
        "variables) and report the object",
    )
    p.add_argument("--keep-local", action="store_true", help="with --upload, keep the local files too")
    p.add_argument("--segment-seconds", type=float, default=10.0)
    p.add_argument("--max-segments", type=int, default=None, metavar="N")
    p.add_argument("--frozen-seconds", type=float, default=10.0)
    p.add_argument("--black-seconds", type=float, default=5.0)
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    # httpx logs a line per request: noise at one hook every few seconds.
    logging.getLogger("httpx").setLevel(logging.INFO if args.verbose else logging.WARNING)
    if not args.secret or args.segment_seconds <= 0:
        log.error("need a hook secret (EXAMDAY_HOOK_SECRET or --secret) and a positive --segment-seconds")
        return 2
    s3 = S3Config()
    if args.upload:
        try:
            parse_url(args.upload)
        except ValueError as exc:
            log.error("--upload: %s (expected s3://bucket/prefix)", exc)
            return 2
        try:
            s3 = s3_config()  # EXAMDAY_S3_*, read by the settings module
        except ValueError as exc:
            log.error("%s", exc)
            return 2
    config = RecorderConfig(
        args.camera,
        args.room,
        args.camera_code,
        args.server,
        args.secret,
        args.out,
        args.segment_seconds,
        args.max_segments,
        args.frozen_seconds,
        args.black_seconds,
        upload=args.upload,
        keep_local=args.keep_local,
        s3=s3,
        key_id=args.key_id or None,
    )
    stop = threading.Event()
    # SIGINT/SIGTERM close the current segment and flush hooks instead of
    # leaving a half-written file and an unreported stretch.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = record(config, stop=stop)
    except FileNotFoundError as exc:
        log.error("%s", exc)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("%d segments recorded in %s", len(result.segments), args.upload or args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
