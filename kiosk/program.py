"""``examday-kiosk``: the check-in kiosk at the door (签到机).

Reads camera frames (a device number, or a video file), finds the admission
ticket's QR code, takes the ID number from the keyboard (ID card readers and
handheld scanners type like keyboards), asks the server, and shows the answer
full screen in Chinese and English with the camera preview (R-DAY-1). When
the server cannot be reached it decides with the cached roster and queues the
record for ``/api/v1/checkins/sync`` (kiosk/offline.py).

The conversation with the server (retries with the same ``kiosk_nonce``, the
server's clock, the offline fallback and the sync) is ``kiosk/client.py``'s
``Kiosk``; this module is the program around it: camera, keyboard, screen.

    examday-kiosk --server http://10.0.0.2:8000 --token T --camera 0
    examday-kiosk --server http://10.0.0.2:8000 --server http://10.0.0.3:8000 --token T --camera 0
    examday-kiosk --server URL --token T --camera tickets.mp4 --headless < ids.txt

R-PRIV-1: ID numbers are never logged; the screen and the log show them masked.
"""

from __future__ import annotations

import argparse
import logging
import queue
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from examday.clock import parse_iso
from examday.identity import mask_id_number
from examday.settings import kiosk_program_env
from kiosk import offline, screen
from kiosk.client import Kiosk
from kiosk.qrdecode import decode

log = logging.getLogger("examday.kiosk")
TICKET_PREFIX = "EX1."
WINDOW = "examday-kiosk"


class Lines:
    """Typed lines: from stdin (headless) or from key presses in the window."""

    def __init__(self, stdin: bool) -> None:
        self.q: queue.Queue[str | None] = queue.Queue()
        self.buffer = ""
        self.closed = False
        if stdin:
            threading.Thread(target=self._read_stdin, daemon=True).start()

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            self.q.put(line.rstrip("\r\n"))
        self.q.put(None)

    def key(self, code: int) -> None:
        if code in (13, 10):
            self.q.put(self.buffer)
            self.buffer = ""
        elif code in (8, 127):
            self.buffer = self.buffer[:-1]
        elif code == 27:
            self.buffer = ""
        elif 32 <= code < 127:
            self.buffer += chr(code)

    def get(self, timeout: float) -> str | None:
        if self.closed:
            return None
        try:
            line = self.q.get(timeout=timeout) if timeout > 0 else self.q.get_nowait()
        except queue.Empty:
            return None
        if line is None:
            self.closed = True
        return line


def open_camera(spec: str) -> tuple[cv2.VideoCapture, bool]:
    is_file = not spec.isdigit()
    cap = cv2.VideoCapture(spec if is_file else int(spec))
    if not cap.isOpened():
        raise SystemExit(f"examday-kiosk: cannot open camera {spec!r}")
    if not is_file:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, 1280)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, 720)
    return cap, is_file


def photo_of(frame: np.ndarray, width: int = 640) -> bytes | None:
    h, w = frame.shape[:2]
    if w > width:
        frame = cv2.resize(frame, (width, int(h * width / w)))
    ok, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return jpg.tobytes() if ok else None


def run(args: argparse.Namespace) -> int:
    store = offline.Store(Path(args.data_dir).expanduser())
    kiosk = Kiosk(
        args.server, args.token, store, args.batch or None, start=parse_iso(args.clock) if args.clock else None
    )
    kiosk.prepare()
    kiosk.sync()
    if args.sync_only:
        return 0 if not store.pending() else 1
    cap, is_file = open_camera(args.camera)
    lines = Lines(stdin=args.headless)
    if not args.headless:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
        if args.fullscreen:
            cv2.setWindowProperty(WINDOW, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
    answer, shown_at, last_shown = screen.ready(), time.monotonic(), ""
    pending: tuple[str, bytes | None] | None = None  # (ticket, photo) waiting for the ID number
    held_id: tuple[str, float] | None = None  # an ID card swiped before the ticket was shown
    done_ticket, absent = None, 0  # the ticket just answered is ignored until it leaves the frame
    next_sync = time.monotonic() + args.sync_every
    next_roster = time.monotonic() + args.roster_every

    def show(a: screen.Answer, frame: np.ndarray | None) -> None:
        nonlocal last_shown
        text = screen.describe(a)
        if args.headless:
            if text != last_shown:
                print(f"SCREEN {text}", flush=True)
        else:
            cv2.imshow(WINDOW, screen.render(frame, a))
        last_shown = text

    def answer_for(ticket: str, id_number: str, photo: bytes | None) -> screen.Answer:
        nonlocal done_ticket, absent, pending
        a = kiosk.check_in(ticket, id_number, photo)
        log.info("answer: %s", a.code or a.kind)  # no ID number in the log, not even masked (R-PRIV-1)
        done_ticket, absent, pending = ticket, 0, None
        return a

    while True:
        ok, frame = cap.read()
        if not ok:
            if is_file:
                break
            time.sleep(0.05)
            continue
        texts = [t for t in decode(frame) if t.startswith(TICKET_PREFIX)]
        if done_ticket is not None:
            absent = 0 if done_ticket in texts else absent + 1
            if absent >= args.absent_frames:
                done_ticket = None
        fresh = [t for t in texts if t != done_ticket]
        if pending is None and fresh:
            pending = (fresh[0], photo_of(frame))
            answer, shown_at = screen.prompt(), time.monotonic()
            log.info("ticket read; waiting for the ID number")
        if held_id is not None and time.monotonic() - held_id[1] > args.id_timeout:
            held_id = None
        if pending is not None and held_id is not None:
            answer, shown_at, held_id = answer_for(pending[0], held_id[0], pending[1]), time.monotonic(), None
        # Headless reads the next ID number only when a ticket waits for one (stdin is a list, in order).
        if pending is not None:
            line = lines.get(args.id_timeout if args.headless else 0)
        else:
            line = None if args.headless else lines.get(0)
        if line is not None:
            line = line.strip()
            if line.startswith(TICKET_PREFIX):  # a handheld scanner typed the code
                pending = (line, photo_of(frame))
                answer, shown_at = screen.prompt(), time.monotonic()
            elif line and pending is not None:
                answer, shown_at = answer_for(pending[0], line, pending[1]), time.monotonic()
            elif line:
                held_id = (line, time.monotonic())
        elif pending is not None and args.headless:  # stdin ran dry or nobody typed in time
            log.warning("no ID number given for a ticket; skipped")
            done_ticket, absent, pending = pending[0], 0, None
            answer, shown_at = screen.ready(), time.monotonic()
        if answer.kind != "ready" and pending is None and time.monotonic() - shown_at > args.result_seconds:
            answer = screen.ready()
        show(answer, frame)
        if not args.headless:
            key = cv2.waitKey(1) & 0xFF
            if key != 255:
                if key == 27 and pending is None and not lines.buffer:
                    break
                lines.key(key)
                if pending is not None:
                    typed = lines.buffer
                    answer = screen.prompt(mask_id_number(typed) if len(typed) == 18 else "*" * len(typed))
        if time.monotonic() >= next_sync:
            kiosk.sync()
            next_sync = time.monotonic() + args.sync_every
        if pending is None and time.monotonic() >= next_roster:
            kiosk.prepare()  # withdrawals, reissued tickets, who is already in
            next_roster = time.monotonic() + args.roster_every
    next_roster = time.monotonic() + args.roster_every
    cap.release()
    if not args.headless:
        cv2.destroyAllWindows()
    kiosk.sync()
    return 0


def parser() -> argparse.ArgumentParser:
    env = kiosk_program_env()  # EXAMDAY_KIOSK_TOKEN, EXAMDAY_KIOSK_DIR
    p = argparse.ArgumentParser(prog="examday-kiosk", description="Check-in kiosk: QR ticket + ID number.")
    p.add_argument(
        "--server",
        required=True,
        action="append",
        help="examday server URL, e.g. http://127.0.0.1:8000; more than once: the next is tried "
        "when one does not answer",
    )
    p.add_argument(
        "--token",
        default=env.token,
        help="the kiosk account's bearer token (or EXAMDAY_KIOSK_TOKEN)",
    )
    p.add_argument("--camera", default="0", help="camera device number, or a video file")
    p.add_argument(
        "--headless",
        action="store_true",
        help="no window: log what the screen would show; ID numbers are read from stdin",
    )
    p.add_argument("--fullscreen", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--batch", type=int, action="append", help="batch id to cache the roster of (default: today's)")
    p.add_argument(
        "--data-dir",
        default=env.data_dir,
        help="roster cache and offline queue",
    )
    p.add_argument("--sync-only", action="store_true", help="upload the offline queue and exit")
    p.add_argument("--sync-every", type=float, default=15.0, help="seconds between sync attempts")
    p.add_argument("--roster-every", type=float, default=300.0, help="seconds between roster refreshes")
    p.add_argument("--result-seconds", type=float, default=6.0, help="how long an answer stays on screen")
    p.add_argument("--id-timeout", type=float, default=30.0, help="headless: seconds to wait for an ID number")
    p.add_argument("--clock", help=argparse.SUPPRESS)  # tests: the kiosk's clock starts at this ISO time
    p.add_argument(
        "--absent-frames", type=int, default=5, help="frames without a ticket before the same ticket is read again"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.token:
        parser().error("--token (or EXAMDAY_KIOSK_TOKEN) is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
