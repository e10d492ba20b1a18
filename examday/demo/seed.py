"""``examday demo``: a believable exam day on an empty database.

Each part of the system adds its piece of the story here; the seed runs once,
on an empty database, and prints the accounts to sign in with.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TextIO

from sqlmodel import Session, col, select

from examday.accounts.services.accounts import Passwords, actor_of, create_account
from examday.actor import SYSTEM, Actor
from examday.clock import CST, Clock
from examday.identity import make_id_number
from examday.plans.config import BatchConfig
from examday.records import archive as records_archive
from examday.registry.models import Institution
from examday.settings import Settings
from storage.blobs import open_blob_store

DEMO_USCC = "91350200776049653A"
DEMO_PASSWORD = "examday-demo"
DEMO_NAME = "长春示范职业技能评价中心"
# The exam site's address its tickets print (issue #16); a made-up street of a real district.
DEMO_ADDRESS = "吉林省长春市朝阳区示范路 88 号 长春示范职业技能评价中心考点"

DEMO_FILING = {
    "number": "吉人社技评备〔2025〕018号",
    "valid_from": date(2025, 3, 1),
    "valid_until": date(2028, 2, 29),
    "status": "active",
}
DEMO_SCOPE = [
    {"occupation_code": "6-31-01-03", "occupation_name": "电工", "work_type": None, "levels": [5, 4, 3, 2, 1]},
    {"occupation_code": "4-03-02-01", "occupation_name": "中式烹调师", "work_type": None, "levels": [5, 4, 3]},
]
# (code, name, kind, seats, rows, cols, cameras)
DEMO_ROOMS = [
    *[
        (f"T0{i}", f"理论考场{i}", "theory", 30, 5, 6, [(f"T0{i}-C1", "前方"), (f"T0{i}-C2", "后方")])
        for i in (1, 2, 3)
    ],
    # 30 workbenches: a day's 180 electricians take the skill part in six sittings (demo_day.py).
    ("S01", "电工技能实训室", "skill", 30, 5, 6, [("S01-C1", "全景"), ("S01-C2", "工位近景")]),
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
    ("黄国栋", ["proctor", "staff"], None, "none", None, [], ("proctor5", "proctor")),
    ("马丽华", ["proctor", "staff"], None, "none", None, [], ("proctor6", "proctor")),
    ("陈志强", ["examiner"], 1, "senior", CARD, _ELEC, ("evaluator1", "evaluator")),
    ("杨丽", ["examiner"], 2, "senior", CARD, _ELEC, ("evaluator2", "evaluator")),
    ("赵磊", ["examiner"], 1, "senior", CARD, _ELEC, ("evaluator3", "evaluator")),
    ("孙洋", ["examiner"], 1, "senior", CARD, _ELEC + ["4-03-02-01"], ("evaluator4", "evaluator")),
    ("高建军", ["examiner"], 2, "mid", CARD, _ELEC, ("evaluator5", "evaluator")),
    ("何志刚", ["examiner"], 3, "mid", CARD, _ELEC, ("evaluator6", "evaluator")),
    ("周明", ["examiner"], 1, "senior", CARD, _ELEC, ("chief1", "chief")),
    ("吴静", ["supervisor"], 2, "senior", CARD, _ELEC, None),
    ("郑敏", ["staff"], None, "mid", None, [], None),
]
FEMALE_STAFF = {"李秀英", "刘芳", "马丽华", "杨丽", "吴静", "郑敏"}
# The external quality supervisor (质量督导员) is sent by the centre: an account, not institution staff.
OTHER_ACCOUNTS = [("supervisor1", "supervisor")]


class SeedPasswords(Passwords):
    """Full-strength argon2id, but each distinct secret hashed and checked once while seeding.

    Every demo account shares one printed password and the examiners one PIN;
    hashing it again for each account and checking the same PIN for each of a
    hundred score entries would cost the demo most of a minute at start-up."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        super().__init__(time_cost, memory_kib)
        self._hashed: dict[str, str] = {}
        self._checked: dict[tuple[str | None, str], bool] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashed:
            self._hashed[password] = super().hash(password)
        return self._hashed[password]

    def verify(self, hashed: str | None, password: str) -> bool:
        if (hashed, password) not in self._checked:
            self._checked[(hashed, password)] = super().verify(hashed, password)
        return self._checked[(hashed, password)]


def seed_demo(
    engine, settings: Settings, clock: Clock, out: TextIO, base_url: str = "http://127.0.0.1:8000"
) -> dict | None:
    """Seed an empty database and print what there is to see; on a database with data, only print."""
    passwords = SeedPasswords(settings.password_time_cost, settings.password_memory_kib)
    # The seeded lock archives its documents as the server's lock does (R-ARCH-1).
    records_archive.use_store(engine, open_blob_store(settings))
    with Session(engine, expire_on_commit=False) as db:
        if db.exec(select(Institution)).first() is not None:
            out.write("demo: the database already has data; serving it as it is\n")
            print_day(db, clock.now(), out, base_url)
            _print_accounts(out, base_url)
            return None
        now = clock.now()
        root = create_account(db, SYSTEM, now, passwords, "root", "admin", None, None, None, DEMO_PASSWORD)
        inst, staff_ids = seed_registry(db, actor_of(root), now)
        assert inst.id is not None
        accounts = {"root": root}
        for username, role, iid, province in ACCOUNTS(inst.id):
            if username == "root":
                continue
            accounts[username] = create_account(
                db, SYSTEM, now, passwords, username, role, iid, province, staff_ids.get(username), DEMO_PASSWORD
            )
        from examday.demo.day import seed_batches

        made = seed_batches(db, accounts, staff_ids, inst.id, now, passwords, settings.secret_key)
        db.commit()
        print_day(db, now, out, base_url)
    _print_accounts(out, base_url)
    return made


_LEVEL_ZH = {5: "五级", 4: "四级", 3: "三级", 2: "二级", 1: "一级"}


def print_day(db: Session, now, out: TextIO, base_url: str) -> None:
    """Today's batches with their timetable, and the batches already closed."""
    from examday.plans.models import Batch, Candidate, ExamSession, Seat

    today = now.astimezone(CST).date()
    for b in db.exec(select(Batch).order_by(col(Batch.id))).all():
        n = len(db.exec(select(Candidate.id).where(Candidate.batch_id == b.id)).all())
        what = f"{b.occupation_name}{_LEVEL_ZH.get(b.level, b.level)} ({b.occupation_code}, level {b.level})"
        if b.exam_date != today:
            out.write(
                f"\nbatch #{b.id} {what}, {b.exam_date}: {n} candidates, {b.status}; public page "
                f"{base_url}/public/batches/{b.id}/publicity.html\n"
            )
            continue
        cfg = BatchConfig.from_json(b.config)
        sessions = db.exec(
            select(ExamSession).where(ExamSession.batch_id == b.id).order_by(col(ExamSession.starts_at))
        ).all()
        out.write(f"\nbatch #{b.id} {what}, today: {n} candidates, seats and tickets issued\n")
        for s in sessions:
            start, end = s.starts_at.astimezone(CST), s.ends_at.astimezone(CST)
            line = f"  {s.part:<6} {start:%H:%M}–{end:%H:%M}"
            opens = start - timedelta(minutes=cfg.entry_open_minutes)
            closes = start + timedelta(minutes=cfg.entry_close_minutes)
            if s.part == "theory":
                line += f" in T01–T03; check-in {opens:%H:%M}–{closes:%H:%M}"
            else:
                # Each skill sitting admits only the candidates drawn to it (R-SEAT-1).
                drawn = len(db.exec(select(Seat.id).where(Seat.batch_id == b.id, Seat.sitting == s.id)).all())
                line += f" in S01, {drawn} drawn to workstations; check-in {opens:%H:%M}–{closes:%H:%M}"
            out.write(line + "\n")


def seed_registry(db: Session, root: Actor, now) -> tuple[Institution, dict[str, int]]:
    """The institution with its filing and scope, rooms with cameras, and staff, through the services."""
    from examday.registry.services import address, institutions, rooms, staff

    inst = institutions.create_institution(db, root, now, DEMO_NAME, DEMO_USCC, "吉林", DEMO_FILING, DEMO_SCOPE)
    assert inst.id is not None
    address.set_address(db, root, now, inst.id, DEMO_ADDRESS)
    for code, name, kind, seats, rows, cols, cams in DEMO_ROOMS:
        rooms.add_room(
            db, root, now, inst.id, code, name, kind, seats, rows, cols, [{"code": c, "name": n} for c, n in cams]
        )
    staff_ids: dict[str, int] = {}
    for i, (name, roles, level, title, card, occupations, account) in enumerate(DEMO_STAFF, start=1):
        number = make_id_number(
            date(1968 + i * 2, i % 12 + 1, 10 + i), region="220102", seq=i, female=name in FEMALE_STAFF
        )
        s = staff.add_staff(
            db, root, now, inst.id, name, number, roles, True, level, title, card, occupations, False, DEMO_NAME
        )
        assert s.id is not None
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


# What each kind of account opens, in the order a visitor would try them.
_WHERE = [
    ("admin", "the exam office: /office, /office/batches (plans, seats, tickets, video coverage)"),
    ("kiosk", "/desk: the check-in desk"),
    ("proctor", "/proctor: live rooms — T01 proctor1/2, T02 proctor3/4, T03 proctor5/6"),
    ("evaluator", "/evaluate: skill scoring on a tablet (PIN of the older batch's scorers: 2468)"),
    ("chief", "/evaluate and the chief's arbitration"),
    ("supervisor", "/proctor read-only, findings, the supervision report"),
    ("centre", "the Jilin evaluation centre: institutions, batches, reporting deadlines"),
]


def _print_accounts(out: TextIO, base_url: str = "http://127.0.0.1:8000") -> None:
    out.write(f"\nexamday demo — sign in at {base_url}/login (every account's password: {DEMO_PASSWORD})\n")
    accounts = ACCOUNTS(1)
    for role, where in _WHERE:
        names = [u for u, r, iid, _ in accounts if r == role and not (role == "admin" and iid is None)]
        who = ", ".join(names) if len(names) < 3 else f"{names[0]} … {names[-1]}"
        out.write(f"  {who:<24} {where}\n")
    out.write(f"  {'root':<24} the installation administrator\n")
    out.flush()
