"""Build a realistic exam world straight into the database (real rows, no mocks).

Tests of later parts start from here; tests of the registry and plan services
build the same world through the HTTP API instead.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from examday.clock import CST
from examday.identity import make_id_number
from examday.plans.models import Batch, Candidate, ExamSession, ProctorAssignment, SessionRoom
from examday.registry.models import Camera, Filing, Institution, Room, ScopeEntry, Staff

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]


def institution(
    db: Session,
    now: datetime,
    uscc: str = "91350200776049653A",
    province: str = "吉林",
    occupation: str = "6-31-01-03",
    levels: str = "5,4,3,2,1",
) -> Institution:
    inst = Institution(name="示范职业技能评价中心", uscc=uscc, province=province, created_at=now)
    db.add(inst)
    db.flush()
    db.add(
        Filing(
            institution_id=inst.id,
            number="JL-2025-001",
            valid_from=date(2025, 1, 1),
            valid_until=date(2027, 12, 31),
            status="active",
            created_at=now,
        )
    )
    db.add(ScopeEntry(institution_id=inst.id, occupation_code=occupation, occupation_name="电工", levels=levels))
    db.flush()
    return inst


def rooms(db: Session, inst: Institution, theory: int = 2, rows: int = 5, cols: int = 6) -> list[Room]:
    made = []
    for i in range(1, theory + 1):
        r = Room(
            institution_id=inst.id,
            code=f"T{i:02d}",
            name=f"理论考场{i}",
            kind="theory",
            seats=rows * cols,
            rows=rows,
            cols=cols,
        )
        db.add(r)
        made.append(r)
    skill = Room(institution_id=inst.id, code="S01", name="技能考场1", kind="skill", seats=10, rows=2, cols=5)
    db.add(skill)
    made.append(skill)
    db.flush()
    for r in made:
        db.add(Camera(room_id=r.id, code=f"{r.code}-C1", name="前方"))
        db.add(Camera(room_id=r.id, code=f"{r.code}-C2", name="后方"))
    db.flush()
    return made


def staff(db: Session, inst: Institution, n_proctors: int = 4, n_examiners: int = 5) -> dict[str, list[Staff]]:
    out: dict[str, list[Staff]] = {"proctor": [], "examiner": [], "staff": []}
    seq = 1

    def person(roles: str, **kw) -> Staff:
        nonlocal seq
        s = Staff(
            institution_id=inst.id,
            name=SURNAMES[seq % 20] + GIVEN[seq % 18],
            roles=roles,
            id_number=make_id_number(date(1975, 1, 1) + timedelta(days=seq * 97), seq=seq % 400 + 1),
            full_time=True,
            **kw,
        )
        seq += 1
        db.add(s)
        return s

    for _ in range(n_proctors):
        out["proctor"].append(person("proctor,staff"))
    for _ in range(n_examiners):
        out["examiner"].append(
            person(
                "examiner",
                skill_level=1,
                title="senior",
                examiner_card_valid_until=date(2028, 12, 31),
                occupations="6-31-01-03",
            )
        )
    db.flush()
    return out


def batch(
    db: Session,
    inst: Institution,
    exam_day: date,
    theory_rooms: list[Room],
    proctors: list[Staff],
    level: int = 4,
    status: str = "filed",
    start: time = time(9, 0),
    skill_room: Room | None = None,
    now: datetime | None = None,
) -> Batch:
    parts = ["theory", "skill"] + (["review"] if level <= 2 else [])
    b = Batch(
        institution_id=inst.id,
        occupation_code="6-31-01-03",
        occupation_name="电工",
        level=level,
        exam_date=exam_day,
        parts=",".join(parts),
        status=status,
        config=json.dumps({}),
        created_at=now or datetime.now(CST),
        filed_at=now if status != "draft" else None,
    )
    db.add(b)
    db.flush()
    theory = ExamSession(
        batch_id=b.id,
        part="theory",
        starts_at=datetime.combine(exam_day, start, CST),
        ends_at=datetime.combine(exam_day, start, CST) + timedelta(minutes=90),
    )
    db.add(theory)
    db.flush()
    for i, room in enumerate(theory_rooms):
        db.add(SessionRoom(session_id=theory.id, room_id=room.id))
        for p in proctors[2 * i : 2 * i + 2]:
            db.add(ProctorAssignment(session_id=theory.id, room_id=room.id, staff_id=p.id))
    if skill_room is not None:
        skill = ExamSession(
            batch_id=b.id,
            part="skill",
            starts_at=datetime.combine(exam_day, time(14, 0), CST),
            ends_at=datetime.combine(exam_day, time(16, 0), CST),
        )
        db.add(skill)
        db.flush()
        db.add(SessionRoom(session_id=skill.id, room_id=skill_room.id))
    db.flush()
    return b


def candidates(
    db: Session, b: Batch, n: int, employers: int = 5, now: datetime | None = None, eligible: bool = True
) -> list[Candidate]:
    made = []
    for i in range(n):
        c = Candidate(
            batch_id=b.id,
            name=SURNAMES[i % 20] + GIVEN[(i * 7) % 18],
            id_number=make_id_number(date(1990, 1, 1) + timedelta(days=i * 3), seq=i % 499 + 1, female=bool(i % 2)),
            employer=f"第{i % employers + 1}机械厂",
            training_org=f"培训学校{i % 3 + 1}",
            ticket_number=f"{b.id:04d}{i + 1:05d}",
            eligibility="eligible" if eligible else "pending",
            created_at=now or datetime.now(CST),
        )
        db.add(c)
        made.append(c)
    db.flush()
    return made


def exam_world(db: Session, now: datetime, exam_day: date, n_candidates: int = 20, level: int = 4):
    """An institution with two theory rooms, a skill room, staff, a filed batch and its candidates."""
    inst = institution(db, now)
    rs = rooms(db, inst)
    people = staff(db, inst)
    b = batch(db, inst, exam_day, rs[:2], people["proctor"], level=level, skill_room=rs[2], now=now)
    cs = candidates(db, b, n_candidates, now=now)
    db.commit()
    return {"institution": inst, "rooms": rs, "staff": people, "batch": b, "candidates": cs}


def admit(
    db: Session,
    actor,
    batch_id: int,
    candidate_ids: list[int] | None = None,
    parts: tuple[str, ...] | None = None,
    via: str = "desk",
    reason: str = "入场核验身份证件 (test world)",
) -> None:
    """Admit candidates to their sessions as the door would (R-ID-1, R-DAY-1): an accepted check-in
    and its attendance, through check-in's own writer (``examday.plans.admission``), dated ten
    minutes before each session starts. One sitting per part: the part's first session.
    ``candidate_ids`` None: every candidate of the batch; ``parts`` None: every part."""
    from sqlmodel import col, select

    from examday.plans import admission

    sessions = db.exec(
        select(ExamSession).where(ExamSession.batch_id == batch_id).order_by(col(ExamSession.starts_at))
    ).all()
    first: dict[str, ExamSession] = {}
    for s in sessions:
        if parts is None or s.part in parts:
            first.setdefault(s.part, s)
    if candidate_ids is None:
        candidate_ids = [c.id for c in db.exec(select(Candidate).where(Candidate.batch_id == batch_id)).all()]
    for s in first.values():
        for cid in candidate_ids:
            admission.admit(db, actor, s.starts_at - timedelta(minutes=10), batch_id, s.id, cid, None, reason, via)
    db.commit()
