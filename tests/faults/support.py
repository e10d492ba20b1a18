"""What the fault tests share: server processes on a common running clock, a TCP proxy that can cut
the database off, kiosk accounts, and the count of what reached the database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from examday.accounts.services.accounts import Passwords, create_account, issue_token
from examday.actor import SYSTEM
from kiosk.models import Attendance, CheckIn, OfflineConflict
from tests.e2e.live import free_port

ROOT = Path(__file__).resolve().parents[2]
HOOK_SECRET = "faults-hook-secret"
SECRET_KEY = "faults-secret"


# -- server processes ---------------------------------------------------------------------------


class ServerProcess:
    """``examday``'s app under uvicorn in its own process, on a clock that reads ``at`` when the wall
    clock read ``epoch`` and runs on from there: every process (and a restarted one) agrees on the time."""

    def __init__(
        self,
        db_url: str,
        data_dir: Path,
        at: datetime,
        epoch: float,
        port: int | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.db_url, self.data_dir, self.at, self.epoch = db_url, data_dir, at, epoch
        self.port = port or free_port()
        self.redis_url = redis_url
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [
            sys.executable,
            "-m",
            "tests.faults.server",
            self.db_url,
            str(self.data_dir),
            str(self.port),
            self.at.isoformat(),
            repr(self.epoch),
        ]
        if self.redis_url:
            cmd.append(self.redis_url)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        return self

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server on port {self.port} exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server on port {self.port} did not start")

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, connections reset mid-request."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


# -- a proxy in front of the database -----------------------------------------------------------


class CuttableProxy:
    """A TCP proxy (threads) between the server and PostgreSQL. ``cut()`` resets every open connection
    and leaves new ones connected but unanswered, as a database behind a dead link; ``restore()``
    lets them through again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        self._closed = False
        self.connections = 0
        threading.Thread(target=self._accept, name="db-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                with self._lock:
                    self._held.append(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(src, dst)

    def _drop(self, *socks: socket.socket) -> None:
        for s in socks:
            with self._lock:
                self._open.discard(s)
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)  # wakes the other pump blocked in recv
            s.close()

    def cut(self) -> None:
        self.down.set()
        with self._lock:
            live = list(self._open)
        self._drop(*live)

    def restore(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        self._drop(*held)  # those gave up long ago; the server connects afresh
        self.down.clear()

    def close(self) -> None:
        self._closed = True
        self.restore()
        self.listener.close()
        with self._lock:
            live = list(self._open)
        self._drop(*live)


# -- accounts and what the database holds -------------------------------------------------------


def kiosk_tokens(db: Session, institution_id: int, n: int, now: datetime, prefix: str = "kiosk") -> list[str]:
    pw = Passwords(1, 1024)
    out = []
    for k in range(n):
        acc = create_account(db, SYSTEM, now, pw, f"{prefix}{k + 1}", "kiosk", institution_id, None, None, None)
        out.append(issue_token(db, acc, now, by=SYSTEM))
    db.commit()
    return out


def attendance_by_candidate(db: Session, batch_id: int) -> dict[int, int]:
    rows = db.exec(
        select(Attendance.candidate_id, func.count())
        .where(Attendance.batch_id == batch_id)
        .group_by(Attendance.candidate_id)
    ).all()
    return dict(rows)


def checkins(db: Session) -> list[CheckIn]:
    return list(db.exec(select(CheckIn).order_by(CheckIn.id)).all())


def conflicts(db: Session) -> list[OfflineConflict]:
    return list(db.exec(select(OfflineConflict)).all())


def lost_and_doubled(present: dict[int, int], expected: Iterable[int]) -> tuple[set[int], set[int]]:
    """Candidates who went through the door but are not on record, and those on record twice."""
    expected = set(expected)
    return expected - set(present), {c for c, n in present.items() if n > 1}
