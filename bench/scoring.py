"""Bench: scoring a 2,000-candidate batch with a five-person panel.

R-SCORE-1/2 make every score entry a signed, hash-chained row written in its
own transaction, after the examiner's PIN is checked; R-PANEL-1 combines the
panel as the last entry comes in; the lock seals every result and entry. This
measures, on a fresh database:

* entries per second through the entry service, one transaction per entry
  as a request would do it (PIN check, rubric check, chain, signature,
  combination), with the KDF at test cost so the database path shows;
* the same for a sample with the production argon2 cost (the PIN check
  dominates: an examiner signs one score a minute, so this is latency, not a
  bottleneck) and a sample through HTTP (Litestar's in-process test client);
* the whole-batch reads and steps: the scores view (aggregation of every
  part and result), theory import, publicity, lock with the seal, seal
  verification, CSV and XLSX exports, the public page.

    .venv/bin/python bench/scoring.py [--candidates 2000] [--panel 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import Passwords, actor_of, create_account, issue_token
from examday.actor import SYSTEM
from examday.clock import CST
from examday.models import install_extras, metadata
from storage.db import make_engine

PIN = "246810"
SECRET = "bench-secret-key"
RUBRIC = [{"code": f"A{i}", "title": f"评分项{i}", "max_points": m} for i, m in enumerate((30, 25, 25, 20), 1)]
EXAM_DAY = date(2026, 11, 25)  # sat yesterday, scored this morning (R-SCORE-1)
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=CST)


def items_for(total: float) -> dict[str, float]:
    left, out = round(total, 1), {}
    for item in RUBRIC:
        give = min(float(item["max_points"]), left)
        out[item["code"]] = round(give, 1)
        left = round(left - give, 1)
    return out


def timed(label: str, fn, *args, **kw):
    t0 = time.perf_counter()
    result = fn(*args, **kw)
    elapsed = time.perf_counter() - t0
    print(f"   {label:<34} {elapsed * 1000:9.1f} ms")
    return result, elapsed


def fresh_engine(url: str | None):
    if url:
        engine = make_engine(url)
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS examday_bench CASCADE"))
            c.execute(text("CREATE SCHEMA examday_bench"))
        engine.dispose()
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}options=-csearch_path%3Dexamday_bench"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='examday-bench-')}/bench.db"
    engine = make_engine(url)
    metadata.create_all(engine)
    install_extras(engine)
    return engine, url


def setup(engine, n: int, panel_size: int, passwords: Passwords):
    from scoring.services import panels as panels_service
    from scoring.services import rubrics as rubrics_service
    from tests import builders

    with Session(engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, NOW, EXAM_DAY, n_candidates=n)
        bid, iid = w["batch"].id, w["institution"].id
        examiners = [s.id for s in w["staff"]["examiner"]][:panel_size]
        cands = [c.id for c in w["candidates"]]
        tickets = [c.ticket_number for c in w["candidates"]]
        admin = actor_of(create_account(db, SYSTEM, NOW, passwords, "office", "admin", iid))
        actors = []
        for i, sid in enumerate(examiners):
            acc = create_account(
                db, SYSTEM, NOW, passwords, f"ex{i}", "chief" if i == 0 else "evaluator", iid, staff_id=sid
            )
            acc.pin_hash = passwords.hash(PIN)
            db.add(acc)
            actors.append(actor_of(acc))
        builders.admit(db, admin, bid)  # everyone came through the door (R-ID-1)
        rubrics_service.set_rubric(db, admin, NOW, bid, "skill", RUBRIC)
        panels_service.set_panel(db, admin, NOW, bid, "skill", examiners, examiners[0])
        db.commit()
    return bid, iid, admin, actors, cands, tickets


def enter_all(engine, bid, actors, cands, passwords, rng) -> tuple[int, float, list[float]]:
    from scoring.services.entries import submit_entry

    latencies = []
    count = 0
    t0 = time.perf_counter()
    for c in cands:
        base = rng.uniform(45, 95)
        spread = 14 if rng.random() < 0.03 else 4  # about 3% disagree enough for arbitration
        for actor in actors:
            total = round(min(100, max(0, base + rng.uniform(-spread / 2, spread / 2))), 1)
            s = time.perf_counter()
            with Session(engine, expire_on_commit=False) as db:
                submit_entry(db, actor, NOW, passwords, SECRET, bid, c, "skill", items_for(total), PIN)
                db.commit()
            latencies.append(time.perf_counter() - s)
            count += 1
    return count, time.perf_counter() - t0, latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def production_sample(url: str, n: int) -> None:
    """A few entries with argon2 at production cost (time 3, 64 MiB)."""
    from scoring.services.entries import submit_entry

    engine, _ = fresh_engine(url if url.startswith("postgresql") else None)
    prod = Passwords()
    bid, _, _, actors, cands, _ = setup(engine, max(n, 10), 5, prod)
    rng = random.Random(3)
    lat = []
    for c in cands[: n // 5 + 1]:
        for actor in actors:
            s = time.perf_counter()
            with Session(engine, expire_on_commit=False) as db:
                submit_entry(db, actor, NOW, prod, SECRET, bid, c, "skill", items_for(rng.uniform(60, 80)), PIN)
                db.commit()
            lat.append(time.perf_counter() - s)
    print(
        f"   production argon2 PIN check: {len(lat)} entries, median {pct(lat, 0.5) * 1000:.0f} ms, "
        f"p95 {pct(lat, 0.95) * 1000:.0f} ms per entry ({1 / pct(lat, 0.5):.1f} entries/s serial)"
    )
    engine.dispose()


def http_sample(url: str, n: int) -> None:
    """Entries through the HTTP API (in-process test client): request parsing, auth, JSON."""
    from litestar.testing import TestClient

    from examday.app import create_app
    from examday.clock import FixedClock
    from examday.settings import Settings

    engine, db_url = fresh_engine(url if url.startswith("postgresql") else None)
    fast = Passwords(1, 1024)
    bid, _, _, actors, cands, _ = setup(engine, max(n, 10), 5, fast)
    with Session(engine) as db:
        tokens = [issue_token(db, db.get(Account, a.account_id), NOW) for a in actors]
        db.commit()
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tempfile.mkdtemp()),
        secret_key=SECRET,
        hook_secret="h",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    app = create_app(settings, FixedClock(NOW))
    rng = random.Random(5)
    lat = []
    with TestClient(app) as client:
        for c in cands[: n // 5 + 1]:
            for tok in tokens:
                body = {
                    "batch_id": bid,
                    "candidate_id": c,
                    "part": "skill",
                    "items": items_for(rng.uniform(60, 80)),
                    "pin": PIN,
                }
                s = time.perf_counter()
                r = client.post("/api/v1/score-entries", json=body, headers={"Authorization": f"Bearer {tok}"})
                lat.append(time.perf_counter() - s)
                assert r.status_code == 201, r.text
    print(
        f"   HTTP POST /api/v1/score-entries: {len(lat)} entries, median {pct(lat, 0.5) * 1000:.1f} ms, "
        f"p95 {pct(lat, 0.95) * 1000:.1f} ms ({len(lat) / sum(lat):.0f} entries/s serial)"
    )
    engine.dispose()


def run(n: int, panel_size: int, url: str | None, samples: bool) -> None:
    from examday import audit
    from examday.providers import register_all
    from scoring import exports, public, results
    from scoring.models import PartScore
    from scoring.services import arbitration as arbitration_service
    from scoring.services import certificates as certificates_service
    from scoring.services import lock as lock_service
    from scoring.services import publicity as publicity_service
    from scoring.services import review as review_service

    register_all()  # scoring reads who was admitted through kiosk's port (R-ID-1)
    from scoring.theory_import import import_theory

    engine, db_url = fresh_engine(url)
    fast = Passwords(1, 1024)
    print(f"== scoring {n:,} candidates, panel of {panel_size} ({engine.dialect.name})")
    (bid, _iid, admin, actors, cands, tickets), _ = timed(
        "build world, rubric, panel", setup, engine, n, panel_size, fast
    )
    rng = random.Random(42)
    count, elapsed, lat = enter_all(engine, bid, actors, cands, fast, rng)
    print(
        f"   {count:,} entries in {elapsed:.1f} s: {count / elapsed:,.0f} entries/s "
        f"(median {pct(lat, 0.5) * 1000:.2f} ms, p95 {pct(lat, 0.95) * 1000:.2f} ms, "
        f"max {max(lat) * 1000:.1f} ms; KDF at test cost)"
    )
    with Session(engine) as db:
        waiting = db.exec(select(PartScore).where(PartScore.batch_id == bid, PartScore.status == "arbitration")).all()
        waiting = [(p.candidate_id, p.part) for p in waiting]
    chief = actors[0]

    def settle():
        for cid, part in waiting:
            with Session(engine, expire_on_commit=False) as db:
                arbitration_service.arbitrate(db, chief, NOW, bid, cid, part, "accept", "复核后确认")
                db.commit()

    timed(f"chief accepts {len(waiting)} arbitrations", settle)

    def view():
        with Session(engine) as db:
            return results.scores_view(db, admin, bid)

    v, _ = timed("scores view (admin: all parts+entries)", view)
    print(
        f"      {len(v['candidates']):,} candidates, {sum(len(c['parts']['skill']['entries']) for c in v['candidates']):,} entries, "
        f"JSON {len(json.dumps(v)) / 2**20:.1f} MiB"
    )

    def batch_results():
        with Session(engine) as db:
            from examday.plans.models import Batch

            return results.batch_results(db, db.get(Batch, bid))

    timed("results (every part, pass/fail)", batch_results)
    csv_text = "ticket_number,score\n" + "".join(
        f"{t},{rng.choice(['缺考'] + [str(rng.randint(40, 100))] * 30)}\n" for t in tickets
    )

    def theory():
        with Session(engine) as db:
            out = import_theory(db, admin, NOW, bid, "theory.csv", csv_text.encode())
            db.commit()
            return out

    drafted, _ = timed(f"theory import ({n:,} rows)", theory)

    def countersign():
        from scoring.services.theory_versions import countersign as sign

        with Session(engine) as db:
            out = sign(db, fast, SECRET, chief, NOW, bid, drafted["import_id"], PIN)
            db.commit()
            return out

    timed("chief countersigns theory", countersign)  # R-SCORE-3

    def publish():
        with Session(engine) as db:
            out = publicity_service.start_publicity(db, admin, NOW, bid)
            db.commit()
            return out

    p, _ = timed("start publicity (all final?)", publish)
    after = datetime.combine(date.fromisoformat(p["lock_from"]), datetime.min.time(), CST) + timedelta(hours=9)

    def lock():
        with Session(engine) as db:
            out = lock_service.lock_batch(db, admin, after, bid)
            db.commit()
            return out

    sealed, _ = timed("lock + seal (digest, Ed25519)", lock)
    print(f"      sealed {sealed['seal']['results']:,} results and {sealed['seal']['entries']:,} entries")

    def verify():
        with Session(engine) as db:
            return lock_service.verify_seals(db)

    problems, _ = timed("verify seals + entry chains", verify)
    assert problems == [], problems

    def export(kind):
        with Session(engine) as db:
            return exports.results_csv(db, admin, bid) if kind == "csv" else exports.results_xlsx(db, admin, bid)

    data, _ = timed("export results.csv", export, "csv")
    print(f"      {len(data) / 1024:.0f} KiB")
    data, _ = timed("export results.xlsx", export, "xlsx")
    print(f"      {len(data) / 1024:.0f} KiB")

    def public_page():
        with Session(engine) as db:
            return public.public_view(db, bid)

    timed("public publicity view", public_page)

    def review_and_certify():
        # R-CERT-1: the province's centre approves the locked batch, then the numbers are issued.
        with Session(engine, expire_on_commit=False) as db:
            centre = actor_of(create_account(db, SYSTEM, after, fast, "centre-bench", "centre", None, "吉林"))
            review_service.review_batch(db, centre, after, bid, "approve", [])
            out = certificates_service.issue_certificates(
                db, admin, after, bid, kind="Y", institution_code="0000", site_serial="000001"
            )
            db.commit()
            return out

    issued, _ = timed("centre approves, certificates issued", review_and_certify)
    print(f"      {len(issued['certificates']):,} certificate numbers")

    def chain():
        with Session(engine) as db:
            return audit.verify(db)

    timed("audit chain verify", chain)
    engine.dispose()
    if samples:
        print("== samples")
        production_sample(url or "", 10)
        http_sample(url or "", 200)
    print(f"(database: {db_url.split('?')[0]})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--panel", type=int, default=5)
    p.add_argument("--postgres", help="a PostgreSQL URL; a schema examday_bench is made there")
    p.add_argument("--no-samples", action="store_true", help="skip the production-KDF and HTTP samples")
    args = p.parse_args(argv)
    run(args.candidates, args.panel, args.postgres, not args.no_samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
