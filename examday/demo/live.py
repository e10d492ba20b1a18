"""`examday demo`'s moving day: candidates at two kiosks, cameras reporting segments.

Started by ``examday demo`` once the seed is in (``--no-simulate`` leaves it
out). Everything goes through the real HTTP API of the server it runs next
to, as the kiosk program and the recorder do: ``POST /api/v1/checkins`` as
``kiosk1`` and ``kiosk2`` with bearer tokens, the ticket's QR text and the ID
number the card reader types (R-DAY-1), and the signed recorder hooks
(demo_cameras.py). So the proctors' dashboard, the attempts list, the
sign-in sheet and the coverage page show what the server really decided.

Who comes when, for every theory sitting whose entry window (R-TIME-1) has
not closed: most candidates arrive over the window before the start, a few
start late, one after the cutoff (refused; since every demo candidate also
holds a later skill sitting, the door answers ``not_open_yet`` with that
sitting's entry time rather than ``too_late``); two show someone else's ID
card first and fix it (``id_mismatch``, then accepted), one never gets past it;
two scan again at the other door (``already_checked_in``); a few never come
and count as absent after the cutoff. ID numbers travel only in the request
bodies: nothing here prints or logs one (R-PRIV-1).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

import httpx
from sqlmodel import Session, col, select

from examday.accounts.services.accounts import find_account, issue_token
from examday.actor import SYSTEM
from examday.clock import CST, Clock
from examday.demo.cameras import Cameras, plan_cameras
from examday.demo.people import stranger_id_number
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, ExamSession, Ticket
from examday.settings import Settings
from kiosk.models import Attendance
from storage.db import make_engine

log = logging.getLogger("examday.demo.seed")
KIOSKS = ("kiosk1", "kiosk2")
SUMMARY_EVERY = timedelta(minutes=1)


@dataclass
class Arrival:
    at: datetime
    kiosk: str
    batch_id: int
    ticket_number: str
    qr: str
    id_number: str = field(repr=False)  # typed by the card reader; never printed
    expect: str = "accepted"  # what the script means to happen; the server decides


@dataclass
class Sitting:
    batch_id: int
    starts_at: datetime
    opens_at: datetime
    cutoff_at: datetime
    expected: int
    stay_away: int = 0
    roles: dict[str, int] = field(default_factory=dict)  # how many play each part of the script


def _spread(rng: random.Random, lo: datetime, hi: datetime, n: int) -> list[datetime]:
    """``n`` arrival times between ``lo`` and ``hi``, thicker early on, as people come to an exam."""
    span = max((hi - lo).total_seconds(), 1.0)
    return sorted(lo + timedelta(seconds=span * rng.betavariate(1.3, 1.8)) for _ in range(n))


def plan_arrivals(db: Session, now: datetime, seed: int = 9) -> tuple[list[Arrival], list[Sitting]]:
    """The arrival script of every theory sitting today whose entry has not closed yet."""
    today = now.astimezone(CST).date()
    rows = db.exec(
        select(Batch, ExamSession)
        .join(ExamSession, col(ExamSession.batch_id) == Batch.id)
        .where(Batch.exam_date == today, Batch.status == "filed", ExamSession.part == "theory")
        .order_by(col(ExamSession.starts_at))
    ).all()
    arrivals: list[Arrival] = []
    sittings: list[Sitting] = []
    for batch, s in rows:
        assert batch.id is not None and s.id is not None
        cfg = BatchConfig.from_json(batch.config)
        opens = s.starts_at - timedelta(minutes=cfg.entry_open_minutes)
        cutoff = s.starts_at + timedelta(minutes=cfg.entry_close_minutes)
        if cutoff <= now:
            continue
        inside = set(db.exec(select(Attendance.candidate_id).where(Attendance.session_id == s.id)).all())
        people = [
            (c, t)
            for c, t in db.exec(
                select(Candidate, Ticket)
                .join(Ticket, col(Ticket.candidate_id) == Candidate.id)
                .where(
                    Candidate.batch_id == batch.id, Candidate.status == "registered", col(Ticket.revoked_at).is_(None)
                )
                .order_by(col(Candidate.id))
            ).all()
            if c.id not in inside
        ]
        rng = random.Random(seed * 1000 + s.id)
        rng.shuffle(people)
        sitting = Sitting(batch.id, s.starts_at, opens, cutoff, len(people))
        sittings.append(sitting)
        arrivals += _script(rng, batch.id, people, max(now, opens) + timedelta(seconds=3), s.starts_at, cutoff, sitting)
    return sorted(arrivals, key=lambda a: a.at), sittings


def _script(
    rng: random.Random,
    batch_id: int,
    people: list,
    first: datetime,
    start: datetime,
    cutoff: datetime,
    sitting: Sitting,
) -> list[Arrival]:
    """Roles for the shuffled candidates of one sitting, and when each comes to which door."""

    def come(
        at: datetime,
        cand: Candidate,
        ticket: Ticket,
        expect: str,
        id_number: str | None = None,
        kiosk: str | None = None,
    ) -> Arrival:
        return Arrival(
            at,
            kiosk or rng.choice(KIOSKS),
            batch_id,
            cand.ticket_number,
            ticket.qr_text,
            id_number or cand.id_number,
            expect,
        )

    def other(kiosk: str) -> str:
        return KIOSKS[1 - KIOSKS.index(kiosk)]

    n = len(people)
    if n == 0:
        return []
    on_time_until = max(start - timedelta(minutes=2), first + timedelta(seconds=30))
    late_from, late_until = max(start + timedelta(minutes=1), first), cutoff - timedelta(minutes=2)
    roles = {
        "absent": max(1, n * 3 // 100),
        "impostor": 1,
        "typo": 2,
        "repeat": 2,
        "late": 3 if late_until > late_from else 0,
        "too_late": 1,
    }
    out: list[Arrival] = []
    sitting.stay_away = min(roles["absent"], n - 1)  # the last of the shuffled never come
    on_time = people[: n - sitting.stay_away]
    specials: dict[str, list] = {}
    for role in ("impostor", "typo", "repeat", "late", "too_late"):
        k = max(0, min(roles[role], len(on_time) - 1))
        specials[role], on_time = on_time[:k], on_time[k:]
    sitting.roles = {role: len(who) for role, who in specials.items()}
    times = _spread(
        rng,
        first,
        on_time_until,
        len(on_time) + len(specials["impostor"]) + len(specials["typo"]) + len(specials["repeat"]),
    )
    for (cand, ticket), at in zip(on_time, times):
        out.append(come(at, cand, ticket, "accepted"))
    rest = times[len(on_time) :]
    for cand, ticket in specials["impostor"]:  # a relative with the ticket and their own card: never admitted
        out.append(come(rest.pop(0), cand, ticket, "id_mismatch", stranger_id_number(rng, cand.id_number)))
        sitting.stay_away += 1
    for cand, ticket in specials["typo"]:  # picked up a family member's card; back with the right one
        at, kiosk = rest.pop(0), rng.choice(KIOSKS)
        out.append(come(at, cand, ticket, "id_mismatch", stranger_id_number(rng, cand.id_number), kiosk))
        out.append(come(at + timedelta(seconds=rng.randint(40, 90)), cand, ticket, "accepted", kiosk=kiosk))
    for cand, ticket in specials["repeat"]:  # not sure the first door took it, so tries the other
        at, kiosk = rest.pop(0), rng.choice(KIOSKS)
        out.append(come(at, cand, ticket, "accepted", kiosk=kiosk))
        out.append(
            come(at + timedelta(seconds=rng.randint(20, 60)), cand, ticket, "already_checked_in", kiosk=other(kiosk))
        )
    for cand, ticket in specials["late"]:
        out.append(come(late_from + (late_until - late_from) * rng.random(), cand, ticket, "accepted"))
    for cand, ticket in specials["too_late"]:
        # Past the theory cutoff (R-TIME-1), never admitted to it. The door names the next entry open to
        # them, their skill sitting's (R-SEAT-1: drawn before the tickets), so it answers not_open_yet.
        out.append(come(cutoff + timedelta(seconds=rng.randint(40, 100)), cand, ticket, "not_open_yet"))
        sitting.stay_away += 1
    return out


class DemoDay:
    """The script and the cameras, played against a server: ``run_due(now)`` does what is due."""

    def __init__(
        self,
        settings: Settings,
        base_url: str,
        engine=None,
        now: datetime | None = None,
        segment_seconds: float | None = None,
        client: httpx.Client | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.engine = engine or make_engine(settings.database_url)
        self.client = client or httpx.Client(base_url=base_url, timeout=15.0)
        self.out = out
        now = now or Clock().now()
        with Session(self.engine, expire_on_commit=False) as db:
            self.arrivals, self.sittings = plan_arrivals(db, now)
            kwargs: dict[str, Any] = {"seconds": segment_seconds} if segment_seconds else {}
            self.cameras: Cameras | None = plan_cameras(
                db, now, settings.data_dir / "video", settings.hook_secret, **kwargs
            )
            # The kiosks' own bearer tokens, as `examday token issue kiosk1` would print them.
            self.tokens = {k: issue_token(db, find_account(db, k), now, by=SYSTEM) for k in KIOSKS}
            db.commit()
        self.results: list[tuple[Arrival, str]] = []  # (arrival, the code the server answered)
        self._next = 0
        self.started = self._told = now

    # -- what is due ---------------------------------------------------------------------------

    def next_at(self) -> datetime | None:
        times = [
            a
            for a in (
                self.arrivals[self._next].at if self._next < len(self.arrivals) else None,
                self.cameras.due() if self.cameras else None,
            )
            if a is not None
        ]
        return min(times) if times else None

    def run_due(self, now: datetime) -> None:
        while (at := self.next_at()) is not None and at <= now:
            if self._next < len(self.arrivals) and self.arrivals[self._next].at == at:
                self._arrive(self.arrivals[self._next])
                self._next += 1
            else:
                self.cameras.tick(self._post)  # type: ignore[union-attr]
        if self.out is not None and now - self._told >= SUMMARY_EVERY:
            self._told = now
            self.out.write(self.summary(now) + "\n")
            self.out.flush()

    def _arrive(self, a: Arrival) -> None:
        body = {"ticket": a.qr, "id_number": a.id_number, "kiosk_nonce": uuid.uuid4().hex}
        try:
            r = self.client.post(
                "/api/v1/checkins", json=body, headers={"Authorization": f"Bearer {self.tokens[a.kiosk]}"}
            )
            answer = r.json()
            code = "accepted" if r.status_code == 200 else str(answer.get("code") or f"http_{r.status_code}")
        except (httpx.HTTPError, ValueError) as exc:
            code = f"unreachable:{type(exc).__name__}"
        self.results.append((a, code))

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            r = self.client.post(path, content=body, headers=headers)
            return r.status_code, r.json()
        except (httpx.HTTPError, ValueError):
            return 0, {"code": "unreachable"}

    # -- telling people ------------------------------------------------------------------------

    def outcomes(self) -> Counter:
        return Counter(code for _, code in self.results)

    def summary(self, now: datetime) -> str:
        """One line for the terminal: counts and codes, never a ticket's owner or ID number."""
        got = self.outcomes()
        refused = ", ".join(f"{k} {v}" for k, v in sorted(got.items()) if k != "accepted") or "none"
        segs = sum(self.cameras.reported.values()) if self.cameras else 0
        return (
            f"demo {now.astimezone(CST):%H:%M:%S}: {got['accepted']} checked in, refused: {refused}; "
            f"{segs} recorder hooks sent"
        )

    def describe(self) -> str:
        lines = ["\nWhat moves (turn it off with --no-simulate):"]
        for s in self.sittings:
            since = max(s.opens_at, self.started)
            every = max((s.starts_at - since).total_seconds() / max(s.expected, 1), 1)
            r = s.roles
            lines.append(
                f"  batch #{s.batch_id}: {s.expected} candidates at kiosk1 and kiosk2 from "
                f"{since.astimezone(CST):%H:%M} until the start at {s.starts_at.astimezone(CST):%H:%M}, "
                f"about one every {every:.0f} s;"
            )
            lines.append(
                f"    {r.get('late', 0)} come late, {r.get('typo', 0) + r.get('impostor', 0)} show someone "
                f"else's ID card ({r.get('typo', 0)} come back with their own), {r.get('repeat', 0)} scan "
                f"again at the other door, {s.stay_away} never get in (absent at the cutoff, "
                f"{s.cutoff_at.astimezone(CST):%H:%M})"
            )
        if self.cameras:
            lines.append(
                f"  {len(self.cameras.runs)} cameras report a {self.cameras.seconds:.0f}-second segment "
                "each through the signed recorder hook"
            )
            q = self.cameras.quiet
            if q is not None and q.quiet:
                lines.append(
                    f"  {q.camera_code} goes quiet {q.quiet[0].astimezone(CST):%H:%M}–"
                    f"{q.quiet[1].astimezone(CST):%H:%M}: the stale-camera alert, and a gap in coverage"
                )
        if not self.sittings:
            lines.append(
                "  today's entry windows have closed: no arrivals to simulate (run the demo on a "
                "fresh database in the morning to see them)"
            )
        return "\n".join(lines) + "\n"

    # -- playing it in real time ---------------------------------------------------------------

    def play(self, clock: Clock, stop: threading.Event, ready_timeout: float = 60.0) -> None:
        """Wait for the server, then do each thing when its time comes, until ``stop`` or the end."""
        deadline = time.monotonic() + ready_timeout
        while not stop.is_set():
            try:
                if self.client.get("/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                log.warning("demo simulation: the server did not answer; nothing simulated")
                return
            stop.wait(0.2)
        while not stop.is_set():
            self.run_due(clock.now())
            at = self.next_at()
            if at is None:
                break
            stop.wait(min(max((at - clock.now()).total_seconds(), 0.0), 1.0))
        if self.out is not None:
            self.out.write(self.summary(clock.now()) + " (simulation over)\n")


def start_simulation(
    settings: Settings, clock: Clock, base_url: str, out: TextIO | None = None
) -> tuple[DemoDay, threading.Thread, threading.Event]:
    """Plan the day from the database and play it in a daemon thread next to the server."""
    # httpx notes every request at INFO: a line per kiosk scan and hook would bury the summaries.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    day = DemoDay(settings, base_url, now=clock.now(), out=out)
    if out is not None:
        out.write(day.describe())
        out.flush()
    stop = threading.Event()
    thread = threading.Thread(target=_play_safely, args=(day, clock, stop), name="examday-demo-day", daemon=True)
    thread.start()
    return day, thread, stop


def _play_safely(day: DemoDay, clock: Clock, stop: threading.Event) -> None:
    try:
        day.play(clock, stop)
    except Exception as exc:  # the demo's server keeps serving; the type only (R-PRIV-1)
        log.error("demo simulation stopped: %s", type(exc).__name__)
