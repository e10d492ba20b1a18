"""Staff services: the people who work an exam (工作人员) and their declared
conflicts of interest (回避事由).

Rules: R-STAFF-1 (5+ full-time staff, counted here for plan filing),
R-STAFF-2 and R-STAFF-3 (checked by ``staff_rules`` and refused at creation),
R-RECUSE-1 (conflicts), R-PRIV-1 (ID numbers in full for admins only, masked
in the audit trail).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from examday import audit
from examday.access import institution_for_read, institution_for_write
from examday.actor import Actor
from examday.errors import Refusal, conflict, forbidden, not_found
from examday.glossary import TERMS
from examday.identity import mask_id_number, validate_id_number
from examday.registry import rules
from examday.registry.models import Staff, StaffConflict
from examday.registry.services.institutions import today_of

ROLE_ZH = {code: words[0] for code, words in TERMS["staff_role"].items()}  # the one glossary (issue #16)
TITLE_ZH = {code: words[0] for code, words in TERMS["title"].items()}  # the one glossary (issue #16)
CONFLICT_READERS = ("admin", "centre", "chief", "supervisor")


def full_time_staff_count(db: Session, iid: int) -> int:
    """R-STAFF-1: active full-time staff of the institution."""
    return db.exec(
        select(func.count())
        .select_from(Staff)
        .where(Staff.institution_id == iid, col(Staff.full_time).is_(True), col(Staff.active).is_(True))
    ).one()


def staff_view(s: Staff, reveal_id: bool, today: date) -> dict[str, Any]:
    roles = sorted(s.role_set())
    return {
        "id": s.id,
        "institution_id": s.institution_id,
        "name": s.name,
        # R-PRIV-1: the full number for admins only.
        "id_number": s.id_number if reveal_id else mask_id_number(s.id_number),
        "roles": roles,
        "roles_zh": [ROLE_ZH.get(r, r) for r in roles],
        "full_time": s.full_time,
        "skill_level": s.skill_level,
        "title": s.title,
        "title_zh": TITLE_ZH.get(s.title, s.title),
        "examiner_card_valid_until": s.examiner_card_valid_until.isoformat() if s.examiner_card_valid_until else None,
        "occupations": sorted(s.occupation_set()),
        "is_trainer": s.is_trainer,
        "employer": s.employer,
        "active": s.active,
        # A card that ran out after registration is flagged, not hidden (see staff_rules).
        "flags": [v.as_dict() for v in rules.staff_violations(s, today)],
    }


def list_staff(db: Session, actor: Actor, iid: int, today: date) -> list[dict[str, Any]]:
    institution_for_read(db, actor, iid)
    rows = db.exec(select(Staff).where(Staff.institution_id == iid).order_by(col(Staff.id))).all()
    return [staff_view(s, actor.role == "admin", today) for s in rows]


def add_staff(
    db: Session,
    actor: Actor,
    now: datetime,
    iid: int,
    name: str,
    id_number: str,
    roles: list[str],
    full_time: bool = False,
    skill_level: int | None = None,
    title: str = "none",
    examiner_card_valid_until: date | None = None,
    occupations: list[str] | None = None,
    is_trainer: bool = False,
    employer: str | None = None,
) -> Staff:
    """Register a staff member; every R-STAFF-2/3 problem on this day refuses it. The caller commits."""
    institution_for_write(db, actor, iid)
    today = today_of(now)
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise Refusal("invalid_name", "姓名须为1至50字", "A name is 1-50 characters.")
    number = validate_id_number(id_number, today)  # R-ID-1
    role_list = sorted({(r or "").strip() for r in roles if (r or "").strip()})
    occ = sorted({(o or "").strip() for o in (occupations or []) if (o or "").strip()})
    s = Staff(
        institution_id=iid,
        name=name,
        id_number=number,
        roles=",".join(role_list),
        full_time=bool(full_time),
        skill_level=skill_level,
        title=(title or "none").strip(),
        examiner_card_valid_until=examiner_card_valid_until,
        occupations=",".join(occ),
        is_trainer=bool(is_trainer),
        employer=(employer or "").strip() or None,
    )
    rules.check(rules.staff_violations(s, today))
    if len(s.occupations) > 400 or (s.employer and len(s.employer) > 200):
        raise Refusal("field_too_long", "职业或单位填写过长", "Occupations or employer too long.")
    if db.exec(select(Staff.id).where(Staff.institution_id == iid, Staff.id_number == number)).first() is not None:
        raise conflict(
            "staff_exists", "该身份证号的工作人员已登记", "A staff member with this ID number exists.", "R-STAFF-4"
        )
    db.add(s)
    db.flush()
    audit.record(
        db,
        actor,
        "staff.create",
        "staff",
        s.id,
        {
            "name": name,
            "id_number": mask_id_number(number),
            "roles": role_list,
            "full_time": s.full_time,
            "skill_level": skill_level,
            "title": s.title,
            "examiner_card_valid_until": examiner_card_valid_until,
            "occupations": occ,
            "is_trainer": s.is_trainer,
            "employer": s.employer,
        },
        now,
        iid,
    )
    return s


# -- conflicts of interest (R-RECUSE-1) -----------------------------------------


def conflict_view(c: StaffConflict) -> dict[str, Any]:
    return {
        "id": c.id,
        "staff_id": c.staff_id,
        "kind": c.kind,
        "candidate_id": c.candidate_id,
        "employer": c.employer,
        "training_org": c.training_org,
        "note": c.note,
    }


def _staff_for_conflicts(db: Session, actor: Actor, sid: int, write: bool) -> Staff:
    s = db.get(Staff, sid)
    if s is None:
        raise not_found("staff member")
    itself = actor.staff_id == sid and actor.institution_id == s.institution_id
    if itself:
        return s
    if write:
        institution_for_write(db, actor, s.institution_id)
    elif actor.role in CONFLICT_READERS:
        institution_for_read(db, actor, s.institution_id)
    else:
        # R-PRIV-1: a declaration names relatives and employers; colleagues at large do not read it.
        raise forbidden("Only the exam office, the chief examiner, the supervisor or the person may read this.")
    return s


def declare_conflict(
    db: Session,
    actor: Actor,
    now: datetime,
    sid: int,
    kind: str,
    candidate_id: int | None = None,
    employer: str | None = None,
    training_org: str | None = None,
    note: str = "",
) -> StaffConflict:
    """The person (or the exam office for them) declares a reason to stand aside. The caller commits."""
    from examday.plans.models import Batch, Candidate

    s = _staff_for_conflicts(db, actor, sid, write=True)
    employer, training_org = (employer or "").strip() or None, (training_org or "").strip() or None
    rules.check(rules.conflict_violations(kind, candidate_id, employer, training_org))
    if candidate_id is not None:
        row = db.exec(
            select(Candidate.id)
            .join(Batch, col(Batch.id) == Candidate.batch_id)
            .where(Candidate.id == candidate_id, Batch.institution_id == s.institution_id)
        ).first()
        if row is None:
            raise not_found("candidate")
    if len(note or "") > 500 or len(employer or "") > 200 or len(training_org or "") > 200:
        raise Refusal("field_too_long", "填写内容过长", "A field is too long.", "R-RECUSE-1")
    dup = select(StaffConflict.id).where(
        StaffConflict.staff_id == sid,
        StaffConflict.kind == kind,
        StaffConflict.candidate_id == candidate_id
        if candidate_id is not None
        else col(StaffConflict.candidate_id).is_(None),
        StaffConflict.employer == employer if employer is not None else col(StaffConflict.employer).is_(None),
        StaffConflict.training_org == training_org
        if training_org is not None
        else col(StaffConflict.training_org).is_(None),
    )
    if db.exec(dup).first() is not None:
        raise conflict(
            "conflict_already_declared", "该回避事由已申报", "This conflict is already declared.", "R-RECUSE-1"
        )
    c = StaffConflict(
        staff_id=sid,
        kind=kind,
        candidate_id=candidate_id,
        employer=employer,
        training_org=training_org,
        note=(note or "").strip(),
        created_at=now,
    )
    db.add(c)
    db.flush()
    audit.record(
        db,
        actor,
        "staff.conflict_declare",
        "staff_conflict",
        c.id,
        {
            "staff_id": sid,
            "kind": kind,
            "candidate_id": candidate_id,
            "employer": employer,
            "training_org": training_org,
        },
        now,
        s.institution_id,
    )
    return c


def list_conflicts(db: Session, actor: Actor, sid: int) -> list[dict[str, Any]]:
    _staff_for_conflicts(db, actor, sid, write=False)
    rows = db.exec(select(StaffConflict).where(StaffConflict.staff_id == sid).order_by(col(StaffConflict.id))).all()
    return [conflict_view(c) for c in rows]
