"""Bench: coverage and the purge on the real database (R-VIDEO-1, R-ARCH-1).

bench/coverage.py times the pure rules; this times the services over real
rows: a SQLite file, or PostgreSQL when ``EXAMDAY_BENCH_POSTGRES_URL`` is set
(a schema made for the run and dropped after).

* The table: one batch's day — 10 rooms x 2 cameras, 8 hours of 10-second
  segments (57,600 rows) — plus ``--other`` rows of the rest of the season
  (other cameras, other days), so the indexes are those of a real table.
* Coverage of that batch through the service (best of 5) and once through
  the HTTP endpoint (JSON included).
* The purge, dry and real, on an expired slice of the season with a real file
  per segment: first ``--slice-days`` days, then four times as many. Peak RSS
  is read after each (and the purge's Python heap peak under tracemalloc):
  the purge streams chunks by keyset pagination, so the larger slice must
  not raise it. Deleting files dominates the real purge: it waits on the
  disk's journal, so files go 8 at a time.

    .venv/bin/python bench/coverage_db.py [--other 2000000] [--slice-days 1] [--chunk 2000]
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlmodel import Session

from examday.actor import Actor
from examday.clock import CST, FixedClock
from examday.models import metadata
from examday.plans.models import Batch, ExamSession, SessionRoom
from examday.registry.models import Camera, Institution, Room
from examday.settings import Settings
from storage.db import make_engine

SEG = timedelta(seconds=10)
PER_DAY = 8 * 3600 // 10
BATCH_DAY = date(2026, 11, 20)  # a week before "today": not expired under any profile
TODAY = FixedClock(datetime(2026, 11, 26, 20, 0, tzinfo=CST))
SLICE_START = date(2025, 3, 1)  # Saturdays of spring 2025: past Jilin's one year on TODAY
COLUMNS = (
    "camera_id",
    "institution_id",
    "started_at",
    "ended_at",
    "expected_end",
    "path",
    "bytes",
    "sha256",
    "state",
    "received_at",
)


class Sink(io.TextIOBase):
    """Counts the purge's lines instead of printing millions of them."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, s: str) -> int:
        self.lines += s.count("\n")
        return len(s)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mib() -> float:
    """Resident memory now (Linux); the peak (ru_maxrss) also holds the loader's buffers."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return rss_mib()


# -- the database --------------------------------------------------------------------------


def open_database(workdir: Path):
    pg = os.environ.get("EXAMDAY_BENCH_POSTGRES_URL")
    if not pg:
        url = f"sqlite:///{workdir / 'bench.db'}"
        return url, make_engine(url), lambda: None
    base = "postgresql+psycopg://" + pg.split("://", 1)[1]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, make_engine(url), drop


def build_world(engine, n_rooms: int, profile: str = "jilin") -> dict:
    now = TODAY.now()
    with Session(engine, expire_on_commit=False) as db:
        inst = Institution(
            name="基准测试中心", uscc="91350200776049653A", province="吉林", profile=profile, created_at=now
        )
        db.add(inst)
        db.flush()
        rooms = [
            Room(institution_id=inst.id, code=f"T{i:03d}", name=f"考场{i}", kind="theory", seats=30)
            for i in range(1, n_rooms + 1)
        ]
        db.add_all(rooms)
        db.flush()
        cams = [Camera(room_id=r.id, code=f"{r.code}-C{k}", name="前后"[k - 1]) for r in rooms for k in (1, 2)]
        db.add_all(cams)
        batch = Batch(
            institution_id=inst.id,
            occupation_code="6-31-01-03",
            level=4,
            exam_date=BATCH_DAY,
            parts="theory",
            status="filed",
            created_at=now,
        )
        db.add(batch)
        db.flush()
        start = datetime(2026, 11, 20, 8, 30, tzinfo=CST)
        session = ExamSession(batch_id=batch.id, part="theory", starts_at=start, ends_at=start + timedelta(hours=8))
        db.add(session)
        db.flush()
        db.add_all(SessionRoom(session_id=session.id, room_id=r.id) for r in rooms[:10])
        db.commit()
        return {
            "institution": inst.id,
            "batch": batch.id,
            "cameras": [c.id for c in cams],
            "batch_cameras": [c.id for c in cams[:20]],
            "start": start,
        }


def day_rows(
    cameras: list[int], iid: int, day_start: datetime, folder: Path | None = None, seed: int = 7
) -> Iterator[tuple]:
    """Every segment of one 8-hour day of ``cameras``; about 1 in 500 is not valid."""
    rng = random.Random(seed)
    for cam in cameras:
        bad = {rng.randrange(PER_DAY): rng.choice(("file_missing", "checksum_mismatch")) for _ in range(5)}
        for i in range(PER_DAY):
            s = day_start + i * SEG
            # The recorder's layout: one folder per camera and day.
            path = f"/srv/video/{cam}/{s:%Y%m%d/%H%M%S}.mp4" if folder is None else str(folder / f"{cam}/{i}.mp4")
            yield (cam, iid, s, s + SEG, s + SEG, path, 1_800_000, "ab" * 32, bad.get(i, "valid"), s + SEG)


def insert(engine, rows: Iterator[tuple], batch: int = 50_000) -> int:
    """Bulk load: executemany on SQLite (times in SQLAlchemy's stored form), COPY on PostgreSQL."""
    n = 0
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        if engine.dialect.name == "sqlite":
            sql = f"INSERT INTO segment ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            buf = []
            for r in rows:
                buf.append(
                    (
                        *r[:2],
                        *(t.astimezone(UTC).strftime(fmt) for t in r[2:5]),
                        *r[5:9],
                        r[9].astimezone(UTC).strftime(fmt),
                    )
                )
                if len(buf) >= batch:
                    cur.execute("BEGIN")
                    cur.executemany(sql, buf)
                    cur.execute("COMMIT")
                    n += len(buf)
                    buf.clear()
            if buf:
                cur.execute("BEGIN")
                cur.executemany(sql, buf)
                cur.execute("COMMIT")
                n += len(buf)
        else:
            with cur.copy(f"COPY segment ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
                    n += 1
            conn.commit()
    finally:
        conn.close()
    return n


def other_rows(world: dict, n: int) -> Iterator[tuple]:
    """The rest of the season: the other cameras, on exam days since last December."""
    others = world["cameras"][20:]
    per_day = len(others) * PER_DAY
    days = max(1, -(-n // per_day))
    made = 0
    for d in range(days):
        day = datetime(2025, 12, 6, 8, 30, tzinfo=CST) + timedelta(weeks=d % 48, days=d // 48)
        for row in day_rows(others, world["institution"], day, seed=d):
            if made >= n:
                return
            made += 1
            yield row


def analyze(engine) -> None:
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "sqlite":
        # A bulk load leaves a long WAL that every read would search: fold it in, as time would.
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


# -- the benches ---------------------------------------------------------------------------


def bench_coverage(engine, url: str, world: dict, workdir: Path) -> None:
    from litestar.testing import TestClient

    from examday.accounts.services.accounts import Passwords, create_account, issue_token
    from examday.actor import SYSTEM
    from examday.app import create_app
    from proctor.services.video import batch_coverage

    admin = Actor(None, "bench", "admin")
    now = TODAY.now()
    with Session(engine) as db:
        batch_coverage(db, admin, world["batch"], now)  # warm the caches
    best = float("inf")
    for _ in range(5):
        with Session(engine) as db:
            t = time.perf_counter()
            result = batch_coverage(db, admin, world["batch"], now)
            best = min(best, time.perf_counter() - t)
    session = result["sessions"][0]
    cams = [c for r in session["rooms"] for c in r["cameras"]]
    causes: dict[str, int] = {}
    for c in cams:
        for g in c["gaps"]:
            causes[g["cause"]] = causes.get(g["cause"], 0) + 1
    print("== coverage of one batch (R-VIDEO-1), service over the database")
    print(f"   segments read        {session['segments']:,} ({len(cams)} cameras, 8 h)")
    print(f"   time (best of 5)     {best * 1000:.0f} ms")
    print(f"   complete cameras     {sum(c['complete'] for c in cams)}/{len(cams)}; gaps by cause {causes}")

    settings = Settings(
        database_url=url,
        data_dir=workdir / "data",
        hook_secret="bench",
        secret_key="bench",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    app = create_app(settings, TODAY)
    with Session(engine, expire_on_commit=False) as db:
        acc = create_account(
            db,
            SYSTEM,
            now,
            Passwords(1, 1024),
            "bench-admin",
            "admin",
            world["institution"],
            None,
            None,
            "a long bench password",
        )
        token = issue_token(db, acc, now, by=SYSTEM)
        db.commit()
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        client.get(f"/api/v1/batches/{world['batch']}/coverage", headers=headers)
        t = time.perf_counter()
        r = client.get(f"/api/v1/batches/{world['batch']}/coverage", headers=headers)
        took = time.perf_counter() - t
    assert r.status_code == 200, r.text
    print(f"   HTTP endpoint        {took * 1000:.0f} ms ({len(r.content) / 1024:.0f} KiB of JSON)")


def _with_files(rows: Iterator[tuple]) -> Iterator[tuple]:
    for r in rows:
        with open(r[5], "wb") as f:
            f.write(b"segment")
        yield r


def purge_slice(engine, url: str, world: dict, workdir: Path, days: int, offset: int, chunk: int) -> None:
    from examday.providers import register_all
    from storage.purge import run_purge

    register_all()  # the purge reads segments through proctor's provider; no app is built here
    folder = workdir / "video" / f"slice{offset}"
    cams = world["batch_cameras"]
    t = time.perf_counter()
    n = 0
    for d in range(days):
        day = datetime.combine(SLICE_START + timedelta(weeks=offset + d), datetime.min.time(), CST) + timedelta(
            hours=8, minutes=30
        )
        for cam in cams:
            (folder / str(d) / str(cam)).mkdir(parents=True)
        n += insert(engine, _with_files(day_rows(cams, world["institution"], day, folder / str(d), seed=offset + d)))
    # Season-old video has long been on disk; files written a second ago would make every
    # journal commit of the purge flush them first.
    os.sync()
    made = time.perf_counter() - t
    analyze(engine)
    settings = Settings(database_url=url, data_dir=workdir / "data", hook_secret="b", secret_key="b").resolved()
    print(
        f"   slice: {days} day(s) x {len(cams)} cameras = {n:,} expired segments with files (made in {made:.0f} s;"
        f" RSS now {rss_now_mib():.0f} MiB)"
    )
    for dry in (True, False):
        gc.collect()
        sink = Sink()
        t = time.perf_counter()
        assert run_purge(engine, settings, TODAY, dry_run=dry, out=sink, chunk=chunk) == 0
        took, rss = time.perf_counter() - t, rss_now_mib()  # before counting files, which costs memory too
        left = sum(1 for _ in folder.rglob("*.mp4"))
        print(
            f"     {'dry run' if dry else 'purge  '}  {took:6.1f} s  ({n / took:,.0f} segments/s)  "
            f"{sink.lines:,} lines  files left {left:,}  RSS after {rss:.0f} MiB"
        )
        if dry:
            # Once more under tracemalloc (slower, so not timed): the purge's own Python heap.
            tracemalloc.start()
            run_purge(engine, settings, TODAY, dry_run=True, out=Sink(), chunk=chunk)
            print(f"     dry run heap peak (tracemalloc) {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")
            tracemalloc.stop()
    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--other", type=int, default=None, help="other rows (default 2M SQLite, 4M PostgreSQL)")
    p.add_argument("--slice-days", type=int, default=1)
    p.add_argument("--chunk", type=int, default=2000)
    args = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="examday-bench-"))
    url, engine, drop = open_database(workdir)
    try:
        metadata.create_all(engine)
        world = build_world(engine, n_rooms=100)
        print(f"== database: {engine.dialect.name}; peak RSS at start {rss_mib():.0f} MiB")
        t = time.perf_counter()
        n_batch = insert(engine, day_rows(world["batch_cameras"], world["institution"], world["start"]))
        other = args.other if args.other is not None else (4_000_000 if engine.dialect.name != "sqlite" else 2_000_000)
        n_other = insert(engine, other_rows(world, other))
        analyze(engine)
        print(
            f"   segment table        {n_batch + n_other:,} rows ({n_batch:,} of the batch) loaded in "
            f"{time.perf_counter() - t:.0f} s"
        )
        # The purge first, so that the coverage's lists do not raise the RSS peak it is judged by.
        print(f"== purge (R-VIDEO-1, R-ARCH-1): profile 'jilin', today {TODAY.today()}, chunks of {args.chunk:,}")
        purge_slice(engine, url, world, workdir, args.slice_days, 0, args.chunk)
        purge_slice(engine, url, world, workdir, args.slice_days * 4, 10, args.chunk)
        bench_coverage(engine, url, world, workdir)
    finally:
        engine.dispose()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
