"""The exam-morning bench's clients (bench/morning.py): the kiosks at the door (kiosk/program.py's own
``Kiosk``), the proctors' screens (WebSocket feed) and the recorders (signed hooks)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from examday.clock import iso
from kiosk import offline
from kiosk.program import Kiosk
from proctor.hooks_sign import SIGNATURE_HEADER, sign

# -- arrivals ---------------------------------------------------------------------------------------


@dataclass
class Arrival:
    at: float  # seconds after the run's start
    person: dict
    wrong_id: str | None = None  # types someone else's ID number first (refused, R-ID-1)
    again: bool = False  # scans the ticket again once in (refused: already checked in)


def arrivals(
    people: list[dict], seconds: float, seed: int = 7, wrong: float = 0.02, again: float = 0.005
) -> list[Arrival]:
    """Arrival times over the 45 minutes from entry opening (30 min before the start) to 15 min
    after it, squeezed into ``seconds``: a Beta(3, 3.5) curve, peaking some 10 minutes before the
    start, with a tail of latecomers."""
    rnd = random.Random(seed)
    out = []
    for p in people:
        out.append(
            Arrival(
                rnd.betavariate(3.0, 3.5) * seconds,
                p,
                rnd.choice(people)["id_number"] if rnd.random() < wrong else None,
                rnd.random() < again,
            )
        )
    for a in out:
        if a.wrong_id == a.person["id_number"]:
            a.wrong_id = None
    return sorted(out, key=lambda a: a.at)


# -- the door ---------------------------------------------------------------------------------------


class _Offline(logging.Handler):
    """Counts the kiosk's own "deciding offline" warnings by cause (a timeout, a refused connection)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.causes: Counter = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("server unreachable"):
            self.causes[str(record.args[0]) if record.args else "?"] += 1


@dataclass
class DoorResult:
    latencies: list[float] = field(default_factory=list)  # every check-in request, seconds
    sent_at: list[float] = field(default_factory=list)  # wall time each of them was sent (the plot)
    waits: list[float] = field(default_factory=list)  # scheduled arrival to the kiosk being free
    accepted_at: dict[int, float] = field(default_factory=dict)  # candidate -> wall time of the answer
    outcomes: Counter = field(default_factory=Counter)  # accepted / refusal codes
    unexpected: Counter = field(default_factory=Counter)  # answers other than the one due
    statuses: Counter = field(default_factory=Counter)
    offline: Counter = field(default_factory=Counter)
    late: int = 0
    seconds: float = 0.0


class Door:
    """The kiosks of one batch, or (``batch_id`` a list, one per kiosk: bench/province.py) of many
    batches, each kiosk taking the people of its own batch (their ``"batch"``)."""

    def __init__(self, servers: list[str], tokens: list[str], batch_id: int | list[int], folder: Path) -> None:
        self.batches: list[int | None] = [None] * len(tokens) if isinstance(batch_id, int) else list(batch_id)
        self.kiosks = [
            Kiosk(servers[k % len(servers)], t, offline.Store(folder / f"kiosk{k + 1}"), [b or batch_id])
            for k, (t, b) in enumerate(zip(tokens, self.batches, strict=True))
        ]
        self.result = DoorResult()
        self._lock = threading.Lock()
        for k in self.kiosks:
            k.http.event_hooks = {"response": [self._status]}
        self._offline = _Offline()
        logging.getLogger("examday.kiosk").addHandler(self._offline)

    def _status(self, r: httpx.Response) -> None:
        if r.request.url.path == "/api/v1/checkins":
            with self._lock:
                self.result.statuses[r.status_code] += 1

    def prepare(self) -> None:
        threads = [threading.Thread(target=k.prepare) for k in self.kiosks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def run(self, queue: list[Arrival]) -> DoorResult:
        """Each kiosk takes the next person in the queue once free, at the earliest at their arrival."""
        todo: dict[int | None, list[Arrival]] = {b: [] for b in self.batches}
        for a in queue:
            todo[a.person.get("batch") if None not in todo else None].append(a)
        t0 = time.monotonic()
        r = self.result

        def ask(k: Kiosk, ticket: str, id_number: str, due: str) -> str:
            t, wall = time.perf_counter(), time.time()
            answer = k.check_in(ticket, id_number, None)
            took = time.perf_counter() - t
            got = "accepted" if answer.kind == "accepted" else (answer.code or answer.kind)
            with self._lock:
                r.latencies.append(took)
                r.sent_at.append(wall)
                r.outcomes[got] += 1
                if got != due:
                    r.unexpected[got] += 1
            return got

        def kiosk(k: Kiosk, mine: list[Arrival]) -> None:
            while True:
                with self._lock:
                    if not mine:
                        return
                    a = mine.pop(0)
                delay = t0 + a.at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                with self._lock:
                    r.waits.append(max(0.0, -delay))
                p = a.person
                if a.wrong_id:
                    ask(k, p["ticket"], a.wrong_id, "id_mismatch")
                if ask(k, p["ticket"], p["id_number"], "accepted") == "accepted":
                    with self._lock:
                        r.accepted_at[p["id"]] = time.time()
                if a.again:
                    ask(k, p["ticket"], p["id_number"], "already_checked_in")

        threads = [threading.Thread(target=kiosk, args=(k, todo[b])) for k, b in zip(self.kiosks, self.batches)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r.seconds = time.monotonic() - t0
        r.offline = self._offline.causes
        return r

    def leftovers(self) -> int:
        """Sync what any kiosk queued offline (nothing, when all went well); returns how many."""
        n = sum(len(k.store.pending()) for k in self.kiosks)
        for k in self.kiosks:
            k.sync()
        return n


# -- the proctors' screens --------------------------------------------------------------------------


@dataclass
class Screen:
    url: str
    token: str
    room: str | None
    batch_id: int
    received: dict[int, float] = field(default_factory=dict)  # candidate -> wall time of the event
    gaps: int = 0
    resyncs: int = 0
    dropped: int = 0
    ready: bool = False


class Screens:
    """WebSocket clients of ``/ws/batches/{bid}``, all on one event loop in a thread; ``batch_id``
    a list: each watcher's own batch (bench/province.py)."""

    def __init__(self, servers: list[str], watchers: list[tuple[str, str | None]], batch_id: int | list[int]) -> None:
        bids = [batch_id] * len(watchers) if isinstance(batch_id, int) else batch_id
        self.screens = [
            Screen(servers[i % len(servers)].replace("http://", "ws://"), tok, room, bid)
            for i, ((tok, room), bid) in enumerate(zip(watchers, bids, strict=True))
        ]
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _watch(self, s: Screen, delay: float = 0.0) -> None:
        from websockets.asyncio.client import connect

        await asyncio.sleep(delay)
        try:
            async with connect(
                f"{s.url}/ws/batches/{s.batch_id}",
                max_queue=None,
                additional_headers={"Authorization": f"Bearer {s.token}"},
            ) as ws:
                seq = None
                async for raw in ws:
                    now = time.time()
                    msg = json.loads(raw)
                    if msg.get("type") == "snapshot":
                        s.resyncs += s.ready
                        s.ready, seq = True, msg["seq"]
                        continue
                    if seq is not None and msg.get("seq") != seq + 1:
                        s.gaps += 1
                    seq = msg.get("seq", seq)
                    if msg.get("event") == "checkin":
                        s.received.setdefault(msg["candidate_id"], now)
        except Exception:
            if not self.stop.is_set():
                s.dropped += 1

    def start(self, timeout: float = 60, stagger: float = 0.0) -> None:
        """Connect every screen, ``stagger`` s apart (screens are switched on over minutes, not in
        one instant), and wait for all their snapshots."""
        self.thread.start()
        self.tasks = [
            asyncio.run_coroutine_threadsafe(self._watch(s, i * stagger), self.loop) for i, s in enumerate(self.screens)
        ]
        deadline = time.monotonic() + timeout
        while not all(s.ready for s in self.screens):
            if time.monotonic() > deadline:
                raise SystemExit("the proctors' screens did not all get their snapshot")
            time.sleep(0.1)

    async def _shutdown(self) -> None:
        self.stop.set()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# -- the recorders ----------------------------------------------------------------------------------


@dataclass
class HookResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    started: int = 0
    finished: int = 0


class Recorders:
    """Each camera finishes a segment and starts the next every ``every`` seconds (real time), as
    examday's recorder does, with the file's SHA-256 and size; cameras are out of step."""

    def __init__(
        self,
        servers: list[str],
        cameras: list[tuple[str, str]],
        secret: str,
        every: float,
        folder: Path,
        segment_kb: int,
    ) -> None:
        self.servers, self.cameras, self.secret, self.every = servers, cameras, secret, every
        self.folder, self.blob = folder, bytes(segment_kb * 1024)
        self.result = HookResult()
        self.pool = ThreadPoolExecutor(max_workers=8)
        self.local = threading.local()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _post(self, server: str, hook: dict) -> None:
        http = getattr(self.local, "http", None)
        if http is None:
            http = self.local.http = httpx.Client(timeout=10)
        body = json.dumps(hook).encode()
        t = time.perf_counter()
        try:
            r = http.post(
                server + "/api/v1/hooks/recorder",
                content=body,
                headers={SIGNATURE_HEADER: sign(body, self.secret), "Content-Type": "application/json"},
            )
        except httpx.HTTPError as e:
            with self._lock:
                self.result.errors[type(e).__name__] += 1
            return
        with self._lock:
            self.result.latencies.append(time.perf_counter() - t)
            self.result.statuses[r.status_code] += 1
            if r.status_code == 200:
                if hook["event"] == "segment_started":
                    self.result.started += 1
                else:
                    self.result.finished += 1

    def _hook(self, cam: int, event: str, at: datetime, **extra) -> None:
        room, code = self.cameras[cam]
        hook = {"id": uuid.uuid4().hex, "event": event, "camera": code, "room_code": room, "at": iso(at), **extra}
        self.pool.submit(self._post, self.servers[cam % len(self.servers)], hook)

    def _run(self) -> None:
        n = len(self.cameras)
        open_: dict[int, tuple[datetime, Path]] = {}
        t0 = time.monotonic()
        ticks = [t0 + self.every * i / n for i in range(n)]
        seq = 0
        while not self.stopping.is_set():
            cam = min(range(n), key=ticks.__getitem__)
            delay = ticks[cam] - time.monotonic()
            if delay > 0 and self.stopping.wait(delay):
                break
            now = datetime.now(UTC)
            if cam in open_:
                started, path = open_.pop(cam)
                data = f"{cam}:{seq}:".encode() + self.blob  # written when it is finished, as a recorder does
                path.write_bytes(data)
                self._hook(
                    cam,
                    "segment_finished",
                    now,
                    started_at=iso(started),
                    ended_at=iso(now),
                    path=str(path),
                    sha256=hashlib.sha256(data).hexdigest(),
                    bytes=len(data),
                )
            seq += 1
            path = self.folder / f"cam{cam:03d}-{seq:06d}.mp4"
            self._hook(cam, "segment_started", now, started_at=iso(now), path=str(path), segment_seconds=self.every)
            open_[cam] = (now, path)
            ticks[cam] += self.every

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.thread.start()

    def close(self) -> HookResult:
        self.stopping.set()
        self.thread.join()
        self.pool.shutdown(wait=True)
        return self.result


def after(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
