"""A registry built with tests/builders.py and plans made through the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, func, select

from examday.audit import AuditEntry
from examday.identity import make_id_number
from examday.plans.models import Batch, Candidate
from tests import builders
from tests.support import DEMO_USCC, bearer

EXAM = date(2026, 12, 14)  # a Monday, 12 working days after the clock's 2026-11-26
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "文博",
    "子涵",
    "雨轩",
]


@dataclass
class Office:
    iid: int
    token: str
    rooms: dict[str, int]
    proctors: list[int]
    examiners: list[int]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def office(world, clock, uscc: str = DEMO_USCC, province: str = "吉林", username: str | None = None) -> Office:
    with Session(world.engine, expire_on_commit=False) as db:
        inst = builders.institution(db, clock.now(), uscc=uscc, province=province)
        rooms = builders.rooms(db, inst)
        people = builders.staff(db, inst)
        db.commit()
        out = Office(
            inst.id,
            "",
            {r.code: r.id for r in rooms},
            [p.id for p in people["proctor"]],
            [p.id for p in people["examiner"]],
        )
    out.token = world.token(username or f"office{out.iid}", "admin", out.iid)
    return out


def at(d: date, hhmm: str) -> str:
    return f"{d.isoformat()}T{hhmm}:00+08:00"


def plan_body(o: Office, exam: date = EXAM, level: int = 4, **over: Any) -> dict[str, Any]:
    p, e = o.proctors, o.examiners
    sessions = [
        {
            "part": "theory",
            "rooms": ["T01", "T02"],
            "starts_at": at(exam, "09:00"),
            "ends_at": at(exam, "10:30"),
            "proctors": {"T01": p[0:2], "T02": p[2:4]},
        },
        {
            "part": "skill",
            "rooms": ["S01"],
            "starts_at": at(exam, "13:30"),
            "ends_at": at(exam, "16:00"),
            "proctors": {"S01": e[0:2]},
        },
    ]
    if level <= 2:
        sessions.append(
            {
                "part": "review",
                "rooms": ["S01"],
                "starts_at": at(exam, "16:30"),
                "ends_at": at(exam, "17:30"),
                "proctors": {"S01": e[2:5]},
            }
        )
    body = {
        "institution_id": o.iid,
        "occupation_code": "6-31-01-03",
        "level": level,
        "exam_date": exam.isoformat(),
        "sessions": sessions,
    }
    body.update(over)
    return body


def person(i: int) -> tuple[str, str]:
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7 + i // len(SURNAMES)) % len(GIVEN)]
    # Birth dates over 1965-1997, then the order code: unique for any i below six million.
    return name, make_id_number(
        date(1965, 1, 1) + timedelta(days=i % 12000), region="220102", seq=(i // 12000) % 499 + 1, female=bool(i % 2)
    )


def csv_bytes(
    n: int, start: int = 0, encoding: str = "utf-8-sig", bad: dict[int, str] | None = None, orgs: int = 3
) -> bytes:
    """A candidate list; ``bad`` replaces the ID number of the given data rows (1-based)."""
    lines = ["name,id_number,employer,training_org,phone"]
    for k in range(1, n + 1):
        name, idn = person(start + k)
        if bad and k in bad:
            idn = bad[k]
        lines.append(f"{name},{idn},第{k % 7 + 1}机械厂,培训学校{k % orgs + 1},138{k:08d}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def create(client, o: Office, **over: Any) -> int:
    r = client.post("/api/v1/batches", json=plan_body(o, **over), headers=o.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(client, o: Office, bid: int, content: bytes, filename: str = "名单.csv"):
    return client.post(
        f"/api/v1/batches/{bid}/candidates", files={"file": (filename, content, "text/csv")}, headers=o.headers
    )


def ready(client, o: Office, n: int = 10, review: bool = True, **over: Any) -> int:
    """A draft that passes every check: created, candidates imported and reviewed."""
    bid = create(client, o, **over)
    r = upload(client, o, bid, csv_bytes(n, start=bid * 10000))
    assert r.status_code == 200, r.text
    if review:
        r = client.post(
            f"/api/v1/batches/{bid}/eligibility",
            json={"candidate_ids": "all", "decision": "eligible"},
            headers=o.headers,
        )
        assert r.status_code == 200, r.text
    return bid


def counts(engine) -> dict[str, int]:
    with Session(engine) as db:
        return {
            "batches": db.exec(select(func.count()).select_from(Batch)).one(),
            "candidates": db.exec(select(func.count()).select_from(Candidate)).one(),
            "audit": db.exec(select(func.count()).select_from(AuditEntry)).one(),
        }


def batch_row(engine, bid: int) -> Batch:
    with Session(engine, expire_on_commit=False) as db:
        return db.get(Batch, bid)
