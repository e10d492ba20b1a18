"""``examday demo``: a believable exam day on an empty database.

Each part of the system adds its piece of the story here; the seed runs once,
on an empty database, and prints the accounts to sign in with.
"""
from __future__ import annotations

from typing import TextIO

from sqlmodel import Session, select

from examday.accounts.service import Passwords, create_account
from examday.actor import SYSTEM
from examday.clock import Clock
from examday.registry.models import Institution
from examday.settings import Settings

DEMO_USCC = "91350200776049653A"
DEMO_PASSWORD = "examday-demo"


def seed_demo(engine, settings: Settings, clock: Clock, out: TextIO) -> None:
    passwords = Passwords(settings.password_time_cost, settings.password_memory_kib)
    with Session(engine, expire_on_commit=False) as db:
        if db.exec(select(Institution)).first() is not None:
            out.write("demo: the database already has data; serving it as it is\n")
            _print_accounts(out)
            return
        now = clock.now()
        inst = Institution(name="长春示范职业技能评价中心", uscc=DEMO_USCC, province="吉林", created_at=now)
        db.add(inst)
        db.flush()
        from examday import audit

        audit.record(db, SYSTEM, "institution.create", "institution", inst.id,
                     {"name": inst.name, "uscc": inst.uscc}, now, inst.id)
        for username, role, iid, province in ACCOUNTS(inst.id):
            create_account(db, SYSTEM, now, passwords, username, role, iid, province, None, DEMO_PASSWORD)
        db.commit()
    _print_accounts(out)


def ACCOUNTS(iid: int):
    return [
        ("root", "admin", None, None),
        ("office", "admin", iid, None),
        ("kiosk1", "kiosk", iid, None),
        ("kiosk2", "kiosk", iid, None),
        ("centre-jl", "centre", None, "吉林"),
    ]


def _print_accounts(out: TextIO) -> None:
    out.write("\nexamday demo — sign in at http://127.0.0.1:8000/login\n")
    out.write(f"  every demo account's password: {DEMO_PASSWORD}\n")
    for username, role, iid, _ in ACCOUNTS(1):
        who = "installation administrator" if role == "admin" and iid is None else role
        out.write(f"  {username:<12} {who}\n")
    out.flush()
