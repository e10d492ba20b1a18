"""The exam-morning bench's world (bench/morning.py): its own PostgreSQL schema, the seeded batch,
the two ``examday serve`` processes, the CPU they and the database spend, and the final count of
what reached the database."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, text, update
from sqlmodel import Session, select

from bench.checkin import cpu_seconds  # user + system CPU of a process, from /proc
from examday.clock import CST

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-morning-secret"
HOOK_SECRET = "bench-morning-hooks"


@dataclass
class World:
    batch_id: int
    session_id: int
    people: list[dict]  # {"id", "ticket", "id_number", "room"}
    kiosk_tokens: list[str]
    watchers: list[tuple[str, str | None]]  # (token, the room a proctor watches | None: the whole batch)
    cameras: list[tuple[str, str]]  # (room code, camera code)


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    app_name: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The process and, with ``serve --workers N``, its workers (uvicorn's children)."""
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            kids = []
        return [self.proc.pid, *map(int, kids)]


# -- the schema -------------------------------------------------------------------------------------


def psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://") :] if url.startswith("postgresql://") else url


def make_schema(base: str) -> tuple[str, str, callable]:
    """A schema of our own, built from the models and stamped at the newest migration, so that
    ``examday serve`` (which migrates first) finds nothing to do."""
    from alembic import command

    from examday.app import package_routers
    from examday.models import install_extras, metadata
    from storage.db import alembic_config, make_engine

    base = psycopg_url(base)
    schema = f"examday_morning_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    package_routers()  # every package's tables on the metadata
    engine = make_engine(url)
    metadata.create_all(engine)
    install_extras(engine)
    engine.dispose()
    command.stamp(alembic_config(url), "head")

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, schema, drop


# -- the batch --------------------------------------------------------------------------------------


def seed(url: str, n: int, kiosks: int, watchers: int, offices: int, cameras: int) -> World:
    """n seated, ticketed candidates, 30 to a room, in today's batch; the accounts of the door
    (kiosks), of the exam office (whole batch) and of the proctors (two per room, as assigned)."""
    from storage.db import make_engine

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        world = seed_institution(db, datetime.now(CST), n, kiosks, watchers, offices, cameras)
    engine.dispose()
    return world


def seed_institution(
    db: Session, now: datetime, n: int, kiosks: int, watchers: int, offices: int, cameras: int, k: int | None = None
) -> World:
    """One institution's morning (see ``seed``); ``k`` numbers it among several on one installation
    (bench/province.py): its USCC, account names and camera codes then carry the number, since
    those are unique across the installation."""
    from examday.accounts.services.accounts import Passwords, create_account, issue_token
    from examday.actor import SYSTEM
    from examday.plans.models import ExamSession, Seat, Ticket
    from examday.plans.tickets import issue_batch_tickets
    from examday.registry.models import Camera
    from tests import builders

    pw = Passwords(1, 1024)
    tag = "" if k is None else f"i{k:02d}-"
    inst = builders.institution(db, now) if k is None else builders.institution(db, now, uscc=f"91350200{k:09d}A")
    n_rooms = max(math.ceil(n / 30), math.ceil(cameras / 2), math.ceil(watchers / 2))
    theory = [r for r in builders.rooms(db, inst, theory=n_rooms) if r.kind == "theory"]
    if k is not None:
        for cam in db.exec(select(Camera).where(Camera.room_id.in_([r.id for r in theory]))).all():
            cam.code = tag + cam.code
        db.flush()
    staff = builders.staff(db, inst, n_proctors=2 * n_rooms, n_examiners=0)["proctor"]
    start = (now + timedelta(minutes=20)).time()  # moved to the run's own start by set_start()
    batch = builders.batch(db, inst, now.date(), theory, staff, start=start, now=now)
    cands = builders.candidates(db, batch, n, now=now)
    db.add_all(
        Seat(batch_id=batch.id, part="theory", candidate_id=c.id, room_id=theory[i // 30].id, seat_no=i % 30 + 1)
        for i, c in enumerate(cands)
    )
    issue_batch_tickets(db, SYSTEM, batch, SECRET_KEY, now)
    db.commit()
    qr = dict(
        db.exec(
            select(Ticket.candidate_id, Ticket.qr_text).where(
                Ticket.candidate_id.in_([c.id for c in cands]), Ticket.revoked_at.is_(None)
            )
        ).all()
    )
    people = [
        {"id": c.id, "ticket": qr[c.id], "id_number": c.id_number, "room": theory[i // 30].code, "batch": batch.id}
        for i, c in enumerate(cands)
    ]

    def token(name: str, role: str, staff_id: int | None = None) -> str:
        acc = create_account(db, SYSTEM, now, pw, tag + name, role, inst.id, None, staff_id, None)
        return issue_token(db, acc, now, by=SYSTEM)

    kiosk_tokens = [token(f"kiosk{j + 1}", "kiosk") for j in range(kiosks)]
    office = token("office", "admin")
    seen: list[tuple[str, str | None]] = [(office, None)] * min(offices, watchers)
    # builders.batch assigns proctors 2i and 2i+1 to room i.
    seen += [
        (token(f"proctor{j + 1}", "proctor", staff[j].id), theory[j // 2].code) for j in range(watchers - len(seen))
    ]
    cams = [(r.code, f"{tag}{r.code}-C{j}") for r in theory for j in (1, 2)][:cameras]
    session = db.exec(select(ExamSession).where(ExamSession.batch_id == batch.id)).one()
    db.commit()
    return World(batch.id, session.id, people, kiosk_tokens, seen, cams)


def set_start(url: str, world: World, starts_at: datetime) -> None:
    """The session starts at the compressed morning's start: those arriving after it are late.
    The batch's exam day follows it (a run across midnight China time is refused ``wrong_day``)."""
    from examday.plans.models import Batch, ExamSession
    from storage.db import make_engine

    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            update(Batch.__table__)
            .where(Batch.__table__.c.id == world.batch_id)
            .values(exam_date=starts_at.astimezone(CST).date())
        )
        c.execute(
            update(ExamSession.__table__)
            .where(ExamSession.__table__.c.id == world.session_id)
            .values(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=90))
        )
    engine.dispose()


# -- the servers ------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(
    url: str, redis_url: str, data_dir: Path, tag: str, n: int = 2, workers: int = 1, env_extra: dict | None = None
) -> list[Server]:
    """``examday serve`` n times, one port each (each ``--workers`` processes on its port), sharing
    the database, the data folder and Redis."""
    exe = Path(sys.executable).with_name("examday")
    cmd = (
        [str(exe)]
        if exe.exists()
        else [sys.executable, "-c", "import sys; from examday.cli import main; sys.exit(main())"]
    )
    servers = []
    for k in range(n):
        # Marks its database backends (CPU). In the environment, not the URL: the processes' shared
        # live feed is named after the database URL, which must then be the same for all.
        name = f"morning-{tag}-{'AB'[k] if k < 2 else k}"
        env = {
            **os.environ,
            "EXAMDAY_DATABASE_URL": url,
            "PGAPPNAME": name,
            "EXAMDAY_REDIS_URL": redis_url,
            "EXAMDAY_DATA_DIR": str(data_dir),
            "EXAMDAY_HOOK_SECRET": HOOK_SECRET,
            "EXAMDAY_SECRET_KEY": SECRET_KEY,
            "PYTHONPATH": str(ROOT),
            **(env_extra or {}),
        }
        port = _free_port()
        argv = [*cmd, "serve", "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])]
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        servers.append(Server(proc, port, name))
    return servers


def wait_up(servers: list[Server], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for s in servers:
        while True:
            if s.proc.poll() is not None:
                raise SystemExit(f"server {s.app_name} exited with {s.proc.returncode}")
            try:
                if httpx.get(s.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server {s.app_name} did not start")
            time.sleep(0.2)


def stop_servers(servers: list[Server]) -> None:
    for s in servers:
        s.proc.terminate()
    for s in servers:
        try:
            s.proc.wait(10)
        except subprocess.TimeoutExpired:
            s.proc.kill()


# -- CPU --------------------------------------------------------------------------------------------


def pg_backends(url: str, servers: list[Server]) -> dict[int, float]:
    """CPU so far of the PostgreSQL backends serving our servers (when PostgreSQL runs on this machine)."""
    engine = create_engine(url)
    names = [s.app_name for s in servers]
    with engine.connect() as c:
        pids = (
            c.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = ANY(:n)"), {"n": names})
            .scalars()
            .all()
        )
    engine.dispose()
    return {pid: cpu_seconds(pid) for pid in pids}


def redis_cpu(redis_url: str) -> float:
    import redis

    r = redis.Redis.from_url(redis_url)
    info = r.info("cpu")
    r.close()
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


@dataclass
class Cpu:
    servers: list[float]
    pg: dict[int, float]
    redis: float
    at: float = field(default_factory=time.monotonic)


def cpu_now(url: str, redis_url: str, servers: list[Server]) -> Cpu:
    return Cpu([cpu_seconds(s.proc.pid) for s in servers], pg_backends(url, servers), redis_cpu(redis_url))


# -- what reached the database ----------------------------------------------------------------------


def count(url: str, world: World) -> dict:
    from kiosk.models import Attendance, CheckIn, OfflineConflict
    from proctor.video_models import Segment
    from storage.db import make_engine

    ids = world.batch_id if isinstance(world.batch_id, list) else [world.batch_id]  # bench/province: many
    engine = make_engine(url)
    with Session(engine) as db:
        per = dict(
            db.exec(
                select(Attendance.candidate_id, func.count())
                .where(Attendance.batch_id.in_(ids))
                .group_by(Attendance.candidate_id)
            ).all()
        )
        by_status = dict(db.exec(select(CheckIn.status, func.count()).group_by(CheckIn.status)).all())
        offline = db.exec(select(func.count()).select_from(CheckIn).where(CheckIn.offline.is_(True))).one()
        late = db.exec(
            select(func.count()).select_from(Attendance).where(Attendance.batch_id.in_(ids), Attendance.late.is_(True))
        ).one()
        conflicts = db.exec(select(func.count()).select_from(OfflineConflict)).one()
        segs = dict(db.exec(select(Segment.state, func.count()).group_by(Segment.state)).all())
    engine.dispose()
    return {
        "attendance": per,
        "checkins": by_status,
        "offline": offline,
        "late": late,
        "conflicts": conflicts,
        "segments": segs,
    }
