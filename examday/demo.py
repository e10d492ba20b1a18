"""``examday demo``: a believable exam day on an empty database.

Each part of the system adds its piece of the story here; the seed runs once,
on an empty database, and prints the accounts to sign in with.
"""
from __future__ import annotations

from datetime import date
from typing import TextIO

from sqlmodel import Session, select

from examday.accounts.service import Passwords, actor_of, create_account
from examday.actor import SYSTEM, Actor
from examday.clock import Clock
from examday.identity import make_id_number
from examday.registry.models import Institution
from examday.settings import Settings

DEMO_USCC = "91350200776049653A"
DEMO_PASSWORD = "examday-demo"
DEMO_NAME = "长春示范职业技能评价中心"

DEMO_FILING = {"number": "吉人社技评备〔2025〕018号", "valid_from": date(2025, 3, 1),
               "valid_until": date(2028, 2, 29), "status": "active"}
DEMO_SCOPE = [
    {"occupation_code": "6-31-01-03", "occupation_name": "电工", "work_type": None, "levels": [5, 4, 3, 2, 1]},
    {"occupation_code": "4-03-02-01", "occupation_name": "中式烹调师", "work_type": None, "levels": [5, 4, 3]},
]
# (code, name, kind, seats, rows, cols, cameras)
DEMO_ROOMS = [
    *[(f"T0{i}", f"理论考场{i}", "theory", 30, 5, 6, [(f"T0{i}-C1", "前方"), (f"T0{i}-C2", "后方")]) for i in (1, 2, 3)],
    ("S01", "电工技能实训室", "skill", 10, 2, 5, [("S01-C1", "全景"), ("S01-C2", "工位近景")]),
    ("W01", "候考室", "waiting", 0, None, None, []),
    ("A01", "考务室", "affairs", 0, None, None, [("A01-C1", "试卷保密柜")]),
]
CARD = date(2029, 12, 31)
_ELEC = ["6-31-01-03"]
# (name, roles, skill_level, title, card, occupations, account username and role or None)
DEMO_STAFF = [
    ("王建国", ["proctor", "staff"], None, "none", None, [], ("proctor1", "proctor")),
    ("李秀英", ["proctor", "staff"], None, "none", None, [], ("proctor2", "proctor")),
    ("张伟", ["proctor", "staff"], None, "mid", None, [], ("proctor3", "proctor")),
    ("刘芳", ["proctor", "staff"], None, "none", None, [], ("proctor4", "proctor")),
    ("陈志强", ["examiner"], 1, "senior", CARD, _ELEC, ("evaluator1", "evaluator")),
    ("杨丽", ["examiner"], 2, "senior", CARD, _ELEC, ("evaluator2", "evaluator")),
    ("赵磊", ["examiner"], 1, "senior", CARD, _ELEC, ("evaluator3", "evaluator")),
    ("孙洋", ["examiner"], 1, "senior", CARD, _ELEC + ["4-03-02-01"], ("evaluator4", "evaluator")),
    ("周明", ["examiner"], 1, "senior", CARD, _ELEC, ("chief1", "chief")),
    ("吴静", ["supervisor"], 2, "senior", CARD, _ELEC, None),
    ("郑敏", ["staff"], None, "mid", None, [], None),
]
# The external quality supervisor (质量督导员) is sent by the centre: an account, not institution staff.
OTHER_ACCOUNTS = [("supervisor1", "supervisor")]


def seed_demo(engine, settings: Settings, clock: Clock, out: TextIO) -> None:
    passwords = Passwords(settings.password_time_cost, settings.password_memory_kib)
    with Session(engine, expire_on_commit=False) as db:
        if db.exec(select(Institution)).first() is not None:
            out.write("demo: the database already has data; serving it as it is\n")
            _print_accounts(out)
            return
        now = clock.now()
        root = create_account(db, SYSTEM, now, passwords, "root", "admin", None, None, None, DEMO_PASSWORD)
        inst, staff_ids = seed_registry(db, actor_of(root), now)
        accounts = {"root": root}
        for username, role, iid, province in ACCOUNTS(inst.id):
            if username == "root":
                continue
            accounts[username] = create_account(db, SYSTEM, now, passwords, username, role, iid, province,
                                                staff_ids.get(username), DEMO_PASSWORD)
        from examday.demo_day import seed_batches

        made = seed_batches(db, accounts, staff_ids, inst.id, now, passwords, settings.secret_key)
        db.commit()
    out.write(f"\ntoday's batch #{made['today']}: theory starts {made['start']:%H:%M} (check-in is open 30 minutes before)\n")
    out.write(f"older batch #{made['older']}: scored, published and locked; public page "
              f"http://127.0.0.1:8000/public/batches/{made['older']}/publicity.html\n")
    _print_accounts(out)


def seed_registry(db: Session, root: Actor, now) -> tuple[Institution, dict[str, int]]:
    """The institution with its filing and scope, rooms with cameras, and staff, through the services."""
    from examday.registry import institutions, rooms, staff

    inst = institutions.create_institution(db, root, now, DEMO_NAME, DEMO_USCC, "吉林", DEMO_FILING, DEMO_SCOPE)
    for code, name, kind, seats, rows, cols, cams in DEMO_ROOMS:
        rooms.add_room(db, root, now, inst.id, code, name, kind, seats, rows, cols,
                       [{"code": c, "name": n} for c, n in cams])
    staff_ids: dict[str, int] = {}
    for i, (name, roles, level, title, card, occupations, account) in enumerate(DEMO_STAFF, start=1):
        number = make_id_number(date(1968 + i * 2, i % 12 + 1, 10 + i), region="220102", seq=i, female=i % 3 == 0)
        s = staff.add_staff(db, root, now, inst.id, name, number, roles, True, level, title, card, occupations,
                            False, DEMO_NAME)
        if account is not None:
            staff_ids[account[0]] = s.id
    return inst, staff_ids


def ACCOUNTS(iid: int):
    return [
        ("root", "admin", None, None),
        ("office", "admin", iid, None),
        ("kiosk1", "kiosk", iid, None),
        ("kiosk2", "kiosk", iid, None),
        ("centre-jl", "centre", None, "吉林"),
        *[(acc[0], acc[1], iid, None) for *_, acc in DEMO_STAFF if acc is not None],
        *[(username, role, iid, None) for username, role in OTHER_ACCOUNTS],
    ]


def _print_accounts(out: TextIO) -> None:
    out.write("\nexamday demo — sign in at http://127.0.0.1:8000/login\n")
    out.write(f"  every demo account's password: {DEMO_PASSWORD}\n")
    for username, role, iid, _ in ACCOUNTS(1):
        who = "installation administrator" if role == "admin" and iid is None else role
        out.write(f"  {username:<12} {who}\n")
    out.flush()
