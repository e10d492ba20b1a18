"""Bench: the lock of a 2,000-candidate batch, with and without its archive (R-PUB-1, R-ARCH-1).

The lock checks the batch may lock, seals every result and entry (R-SCORE-3), and — when the
database has a blob store, as under the application — archives what it made final: the score
summary (PDF), the seal (JSON), the results export (XLSX) and the signed scoring records
(``scoring.services.lock_archive``). This builds one batch (entries through the entry service,
theory imported and countersigned, publicity started), then locks it several times, each in a
transaction rolled back afterwards, without a blob store and with one, and prints the median
time of each and how many times the batch's results (``scoring.results.batch_results``:
attendance, incidents, every part score) were computed during one lock.

    .venv/bin/python -m bench.lock [--candidates 2000] [--panel 5] [--runs 3] [--postgres URL] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, select

from bench.scoring import NOW, PIN, SECRET, enter_all, fresh_engine, setup
from examday.accounts.services.accounts import Passwords
from examday.clock import CST


class Counter:
    """Counts the computations of a batch's results: each reads who sat which part once
    (``scoring.admission.sat_parts``, called by ``scoring.results``)."""

    def __init__(self) -> None:
        from scoring import admission

        self.calls = 0
        original = admission.sat_parts

        def counted(*args, **kw):
            self.calls += 1
            return original(*args, **kw)

        admission.sat_parts = counted  # type: ignore[assignment]


def prepare(engine, n: int, panel: int, fast: Passwords):
    from scoring.models import PartScore
    from scoring.services import arbitration, publicity
    from scoring.services.theory_versions import countersign
    from scoring.theory_import import import_theory

    bid, _iid, admin, actors, cands, tickets = setup(engine, n, panel, fast)
    rng = random.Random(42)
    t0 = time.perf_counter()
    count, _, _ = enter_all(engine, bid, actors, cands, fast, rng)
    chief = actors[0]
    with Session(engine, expire_on_commit=False) as db:
        waiting = db.exec(select(PartScore).where(PartScore.batch_id == bid, PartScore.status == "arbitration")).all()
        for p in waiting:
            arbitration.arbitrate(db, chief, NOW, bid, p.candidate_id, p.part, "accept", "复核后确认")
        csv_text = "ticket_number,score\n" + "".join(
            f"{t},{rng.choice(['缺考'] + [str(rng.randint(40, 100))] * 30)}\n" for t in tickets
        )
        draft = import_theory(db, admin, NOW, bid, "theory.csv", csv_text.encode())
        countersign(db, fast, SECRET, chief, NOW, bid, draft["import_id"], PIN)
        p = publicity.start_publicity(db, admin, NOW, bid)
        db.commit()
    print(f"   built: {n:,} candidates, {count:,} entries, publicity started ({time.perf_counter() - t0:.1f} s)")
    after = datetime.combine(date.fromisoformat(p["lock_from"]), datetime.min.time(), CST) + timedelta(hours=9)
    return bid, admin, after


def lock_once(engine, bid: int, admin, after: datetime, counter: Counter) -> tuple[float, int, int]:
    """One lock in a transaction rolled back: (seconds, results computed, documents archived)."""
    from scoring.services import lock

    with Session(engine) as db:
        counter.calls = 0
        t0 = time.perf_counter()
        out = lock.lock_batch(db, admin, after, bid)
        elapsed = time.perf_counter() - t0
        from storage.retention_models import ArchivedDocument

        archived = len(db.exec(select(ArchivedDocument.id).where(ArchivedDocument.batch_id == bid)).all())
        assert out["seal"]["results"] > 0
        db.rollback()
    return elapsed, counter.calls, archived


def run(n: int, panel: int, runs: int, url: str | None, profile: bool = False) -> None:
    from examday.providers import register_all
    from examday.records import archive
    from storage.blobs import BlobStore

    register_all()
    engine, db_url = fresh_engine(url)
    fast = Passwords(1, 1024)
    print(f"== lock of {n:,} candidates, panel of {panel} ({engine.dialect.name}), {runs} run(s) each")
    bid, admin, after = prepare(engine, n, panel, fast)
    counter = Counter()
    for label, blobs in (
        ("lock + seal, no archive", None),
        ("lock + seal + archive", BlobStore(Path(tempfile.mkdtemp(prefix="examday-bench-blobs-")))),
    ):
        if blobs is None:
            archive._STORES.pop(engine, None)
        else:
            archive.use_store(engine, blobs)
        times, calls, docs = [], 0, 0
        for _ in range(runs):
            elapsed, calls, docs = lock_once(engine, bid, admin, after, counter)
            times.append(elapsed)
        if profile and blobs is not None:
            prof = cProfile.Profile()
            prof.runcall(lock_once, engine, bid, admin, after, counter)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        print(
            f"   {label:<26} median {statistics.median(times):6.2f} s  (min {min(times):.2f}, max {max(times):.2f});"
            f" results computed {calls}x, {docs} document(s) archived"
        )
    engine.dispose()
    print(f"(database: {db_url.split('?')[0]})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--panel", type=int, default=5)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--postgres", help="a PostgreSQL URL; a schema examday_bench is made there")
    p.add_argument("--profile", action="store_true", help="print where one archiving lock spends its time")
    args = p.parse_args(argv)
    run(args.candidates, args.panel, args.runs, args.postgres, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
