"""One seeded exam world behind a live server for the whole fuzz run, and a bearer token for
every role: the fuzzer attacks the API as each of them in turn.

SQLite by default; with EXAMDAY_FUZZ_POSTGRES=1 (and EXAMDAY_TEST_POSTGRES_URL) the same run goes
against a fresh PostgreSQL schema instead, which finds what only PostgreSQL refuses (text with a
NUL, a value longer than its column).

The world is the morning of an exam: a filed batch with candidates and seats, check-in open,
a skill rubric and panel, examiners with signing PINs. Fuzzed writes change it as the run goes
on (that is the point: later cases meet the state earlier ones left); each case is sent as
every role in a fixed order, and nothing here asserts on the data itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime

import httpx
import pytest
from sqlmodel import Session

from examday.accounts.models import Account
from examday.accounts.services.accounts import create_account, issue_token, set_pin
from examday.actor import SYSTEM
from examday.clock import CST, FixedClock
from examday.settings import Settings
from tests import builders
from tests.e2e.live import live

EXAM_DAY = date(2026, 11, 26)
PIN = "135790"


@dataclass
class FuzzWorld:
    url: str
    tokens: dict[str, str | None]
    known: dict[str, list] = field(default_factory=dict)  # real values for path parameters


def _account(db, app, clock, username, role, iid=None, province=None, staff_id=None, pin=False) -> str:
    acc = create_account(db, SYSTEM, clock.now(), app.state.passwords, username, role, iid, province, staff_id)
    if pin:
        set_pin(db, app.state.passwords, db.get(Account, acc.id), PIN, clock.now())
    return issue_token(db, acc, clock.now(), by=SYSTEM)


@pytest.fixture(scope="module")
def fuzz_world(request, tmp_path_factory):
    from examday.app import create_app

    root = tmp_path_factory.mktemp("fuzz")
    url = _database(request, root)
    settings = Settings(
        database_url=url,
        data_dir=root / "data",
        hook_secret="fuzz-hook-secret",
        secret_key="fuzz-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    clock = FixedClock(datetime(2026, 11, 26, 8, 40, tzinfo=CST))  # check-in opened ten minutes ago
    app = create_app(settings, clock)
    with Session(app.state.engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, clock.now(), EXAM_DAY, n_candidates=12)
        iid, bid = w["institution"].id, w["batch"].id
        examiners = [s.id for s in w["staff"]["examiner"]]
        proctor = w["staff"]["proctor"][0].id
        tokens = {
            "admin": _account(db, app, clock, "office", "admin", iid),
            "kiosk": _account(db, app, clock, "kiosk1", "kiosk", iid),
            "proctor": _account(db, app, clock, "proctor1", "proctor", iid, staff_id=proctor),
            "evaluator": _account(db, app, clock, "examiner2", "evaluator", iid, staff_id=examiners[1], pin=True),
            "chief": _account(db, app, clock, "examiner1", "chief", iid, staff_id=examiners[0], pin=True),
            "supervisor": _account(db, app, clock, "supervisor1", "supervisor", iid),
            "centre": _account(db, app, clock, "centre-jl", "centre", province="吉林"),
            "anonymous": None,
        }
        db.commit()
        sessions = [s.id for s in db.exec(_sessions(bid))]
        known = {
            "bid": [bid],
            "iid": [iid],
            "cid": [c.id for c in w["candidates"][:3]],
            "candidate_id": [w["candidates"][0].id],
            "sid": [*sessions, examiners[0]],
            "room_code": ["T01", "T02", "S01"],
            "part": ["theory", "skill", "review"],
            "year": [2026],
        }
    with live(app) as base:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        with httpx.Client(base_url=base, headers=admin, timeout=60) as c:
            # Seats and tickets, a skill rubric and a panel: so the fuzzer reaches past "not ready yet".
            c.post(f"/api/v1/batches/{bid}/seating", json={"seed": 7}).raise_for_status()
            c.put(
                f"/api/v1/batches/{bid}/rubrics/skill",
                json={
                    "items": [
                        {"code": "A1", "title": "安全操作", "max_points": 40},
                        {"code": "A2", "title": "接线工艺", "max_points": 35},
                        {"code": "A3", "title": "通电试验", "max_points": 25},
                    ]
                },
            ).raise_for_status()
            c.post(
                f"/api/v1/batches/{bid}/panels",
                json={"part": "skill", "examiner_ids": examiners[:3], "chief_id": examiners[0]},
            ).raise_for_status()
        yield FuzzWorld(base, tokens, known)


def _database(request, root) -> str:
    from tests.conftest import empty_database

    on_pg = bool(os.environ.get("EXAMDAY_TEST_POSTGRES_URL")) and os.environ.get("EXAMDAY_FUZZ_POSTGRES") == "1"
    return empty_database(
        "postgres" if on_pg else "sqlite", root, request.getfixturevalue("pg_schema_url") if on_pg else None
    )


def _sessions(bid: int):
    from sqlmodel import select

    from examday.plans.models import ExamSession

    return select(ExamSession).where(ExamSession.batch_id == bid).order_by(ExamSession.id)
