"""Batches (认定批次): making a draft plan, changing it while it is a draft, reading it.

R-PLAN-1 (the plan names occupation, level, time, rooms, staff), R-PLAN-3
(parts default to those the level requires), R-LEVEL, R-RATIO-1 / R-TIME-1 /
R-SEAT-1 (the batch's config, copied from the defaults when it is made).
Candidates, eligibility and filing live in ``candidates.py`` and ``filing.py``;
their operations are re-exported here so callers have one service to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from examday import audit
from examday.access import institution_for_write, visible_institution_ids
from examday.actor import Actor
from examday.clock import iso, parse_iso
from examday.errors import Refusal
from examday.plans.access import batch_for_read, batch_for_write, ensure_draft, invalid, today_of, work_calendar
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, ExamSession, ProctorAssignment, SessionRoom
from examday.plans.rules import PARTS, latest_filing_date, level_violation, provisional_years, required_parts
from examday.registry.models import Room, ScopeEntry, Staff
from examday.rows import row_id


@dataclass
class SessionSpec:
    part: str
    rooms: list[str]
    starts_at: str
    ends_at: str
    proctors: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class BatchSpec:
    institution_id: int
    occupation_code: str
    level: int
    exam_date: date
    parts: list[str] | None = None
    sessions: list[SessionSpec] = field(default_factory=list)
    work_type: str | None = None
    occupation_name: str | None = None
    config: dict[str, Any] | None = None


@dataclass
class BatchPatch:
    """Changes to a draft; a field left out stays as it is. ``sessions`` replaces them all."""

    exam_date: date | None = None
    work_type: str | None = None
    occupation_name: str | None = None
    parts: list[str] | None = None
    sessions: list[SessionSpec] | None = None
    config: dict[str, Any] | None = None


def _err(where: str, code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"field": where, "code": code, "message": zh, "message_en": en, **extra}


def _config_errors(r: Refusal) -> list[dict[str, Any]]:
    return [
        _err(
            f"config.{p['key']}",
            "invalid_config",
            f"考务参数 {p['key']} 无效（{p['reason']}）",
            f"The setting {p['key']} is invalid ({p['reason']}).",
            reason=p["reason"],
        )
        for p in r.detail.get("errors", [])
    ]


def _check_parts(parts: list[str], errors: list[dict]) -> None:
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        errors.append(
            _err(
                "parts",
                "unknown_part",
                "考核环节只能是 theory、skill、review",
                f"Parts are theory, skill and review; unknown: {', '.join(map(str, unknown))}.",
            )
        )
    if len(set(parts)) != len(parts):
        errors.append(_err("parts", "duplicate_part", "考核环节重复", "A part is listed twice."))
    if not parts:
        errors.append(_err("parts", "no_parts", "至少需要一个考核环节", "A plan has at least one part."))


def _sessions(db: Session, iid: int, parts: list[str], specs: list[SessionSpec], errors: list[dict]) -> list:
    """Parsed sessions, checked against the institution's own rooms and staff."""
    rooms = {r.code: r for r in db.exec(select(Room).where(Room.institution_id == iid)).all()}
    staff = set(db.exec(select(Staff.id).where(Staff.institution_id == iid)).all())
    out = []
    for i, s in enumerate(specs):
        at = f"sessions[{i}]"
        if s.part not in parts:
            errors.append(
                _err(
                    f"{at}.part",
                    "session_part_not_in_plan",
                    "场次的考核环节不在本批次的考核环节中",
                    f"The session's part {s.part!r} is not one of the batch's parts.",
                )
            )
        try:
            starts, ends = parse_iso(s.starts_at), parse_iso(s.ends_at)
        except (TypeError, ValueError):
            errors.append(_err(at, "invalid_time", "时间格式应为 ISO 8601", "Times are ISO 8601."))
            continue
        if ends <= starts:
            errors.append(_err(at, "ends_before_start", "结束时间须晚于开始时间", "A session ends after it starts."))
        unknown = [c for c in s.rooms if c not in rooms]
        if unknown:
            errors.append(
                _err(
                    f"{at}.rooms",
                    "unknown_room",
                    "本机构没有以下考场：" + "、".join(unknown),
                    f"No such rooms in this institution: {', '.join(unknown)}.",
                    rooms=unknown,
                )
            )
        if not s.rooms or len(set(s.rooms)) != len(s.rooms):
            errors.append(
                _err(
                    f"{at}.rooms",
                    "rooms_required",
                    "每个场次列出考场，且不重复",
                    "Each session lists its rooms, each once.",
                )
            )
        assigned: dict[int, list[int]] = {}
        for code, ids in (s.proctors or {}).items():
            if code not in s.rooms:
                errors.append(
                    _err(
                        f"{at}.proctors",
                        "proctor_room_not_in_session",
                        f"考场 {code} 不在该场次中",
                        f"Room {code} is not one of the session's rooms.",
                        room=code,
                    )
                )
                continue
            strangers = [x for x in ids if x not in staff]
            if strangers:
                errors.append(
                    _err(
                        f"{at}.proctors.{code}",
                        "unknown_staff",
                        "以下人员不是本机构工作人员",
                        "These staff are not the institution's.",
                        staff_ids=strangers,
                    )
                )
            if code in rooms:
                assigned[row_id(rooms[code])] = list(dict.fromkeys(ids))
        out.append((s.part, starts, ends, [rooms[c] for c in dict.fromkeys(s.rooms) if c in rooms], assigned))
    return out


def _write_sessions(db: Session, batch_id: int, parsed: list) -> None:
    for part, starts, ends, rooms, assigned in parsed:
        sess = ExamSession(batch_id=batch_id, part=part, starts_at=starts, ends_at=ends)
        db.add(sess)
        db.flush()
        assert sess.id is not None  # flushed: the database gave it an id
        for room in rooms:
            db.add(SessionRoom(session_id=sess.id, room_id=room.id))
            for sid in assigned.get(room.id, []):
                db.add(ProctorAssignment(session_id=sess.id, room_id=room.id, staff_id=sid))
    db.flush()


def _occupation_name(db: Session, iid: int, code: str) -> str:
    entry = db.exec(
        select(ScopeEntry).where(ScopeEntry.institution_id == iid, ScopeEntry.occupation_code == code)
    ).first()
    return entry.occupation_name if entry else ""


def create_batch(db: Session, actor: Actor, now: datetime, spec: BatchSpec) -> dict[str, Any]:
    inst = institution_for_write(db, actor, spec.institution_id)
    assert inst.id is not None
    errors: list[dict] = []
    bad_level = level_violation(spec.level, inst.kind)  # R-LEVEL: 5..1, tiers for an enterprise only
    if bad_level is not None:
        errors.append(_err("level", bad_level.code, bad_level.message, bad_level.message_en, rule=bad_level.rule))
    code = (spec.occupation_code or "").strip()
    if not code or len(code) > 20:
        errors.append(_err("occupation_code", "invalid_occupation", "职业编码无效", "Invalid occupation code."))
    parts = list(spec.parts) if spec.parts is not None else required_parts(spec.level)  # R-PLAN-3
    _check_parts(parts, errors)
    parsed = _sessions(db, inst.id, parts, spec.sessions, errors)
    config = BatchConfig.defaults(inst.profile)
    try:
        config = config.with_overrides(spec.config)
    except Refusal as r:  # fold the bad keys into the one answer
        errors.extend(_config_errors(r))
    if errors:
        raise invalid(errors)
    batch = Batch(
        institution_id=inst.id,
        occupation_code=code,
        occupation_name=spec.occupation_name or _occupation_name(db, inst.id, code),
        work_type=(spec.work_type or "").strip() or None,
        level=spec.level,
        exam_date=spec.exam_date,
        parts=",".join(parts),
        status="draft",
        config=config.to_json(),
        created_at=now,
    )
    db.add(batch)
    db.flush()
    assert batch.id is not None  # flushed: the database gave it an id
    _write_sessions(db, batch.id, parsed)
    audit.record(
        db,
        actor,
        "batch.create",
        "batch",
        batch.id,
        {**summary(batch), "sessions": _session_sig(db, batch.id), "config": config.as_dict()},
        now,
        inst.id,
    )
    return {"id": batch.id, "status": batch.status}


def update_batch(db: Session, actor: Actor, now: datetime, batch_id: int, patch: BatchPatch) -> dict[str, Any]:
    batch = batch_for_write(db, actor, batch_id)
    assert batch.id is not None
    ensure_draft(batch)  # R-PLAN-1
    before = {**summary(batch), "sessions": _session_sig(db, batch.id), "config": batch.config}
    errors: list[dict] = []
    parts = list(patch.parts) if patch.parts is not None else batch.part_list()
    _check_parts(parts, errors)
    parsed = None
    if patch.sessions is not None:
        parsed = _sessions(db, batch.institution_id, parts, patch.sessions, errors)
    elif patch.parts is not None:
        stray = set(db.exec(select(ExamSession.part).where(ExamSession.batch_id == batch.id)).all())
        if stray - set(parts):
            errors.append(
                _err(
                    "parts",
                    "session_part_not_in_plan",
                    "已有场次的考核环节不在新的考核环节中",
                    "Existing sessions belong to parts no longer listed; send sessions too.",
                )
            )
    config = BatchConfig.from_json(batch.config)
    try:
        config = config.with_overrides(patch.config)
    except Refusal as r:
        errors.extend(_config_errors(r))
    if errors:
        raise invalid(errors)
    if patch.exam_date is not None:
        batch.exam_date = patch.exam_date
    if patch.work_type is not None:
        batch.work_type = patch.work_type.strip() or None
    if patch.occupation_name is not None:
        batch.occupation_name = patch.occupation_name
    batch.parts = ",".join(parts)
    batch.config = config.to_json()
    assert batch.id is not None
    db.add(batch)
    if parsed is not None:
        _drop_sessions(db, batch.id)
        _write_sessions(db, batch.id, parsed)
    after = {**summary(batch), "sessions": _session_sig(db, batch.id), "config": batch.config}
    audit.record(db, actor, "batch.update", "batch", batch.id, audit.diff_of(before, after), now, batch.institution_id)
    return {"id": batch.id, "status": batch.status}


def _drop_sessions(db: Session, batch_id: int) -> None:
    ids = list(db.exec(select(ExamSession.id).where(ExamSession.batch_id == batch_id)).all())
    if ids:
        db.execute(delete(ProctorAssignment).where(col(ProctorAssignment.session_id).in_(ids)))
        db.execute(delete(SessionRoom).where(col(SessionRoom.session_id).in_(ids)))
        db.execute(delete(ExamSession).where(col(ExamSession.id).in_(ids)))
        db.expire_all()


def _session_sig(db: Session, batch_id: int) -> list[dict[str, Any]]:
    """Sessions as the audit entry records them: part, times, room codes, staff ids."""
    return [
        {
            "part": s["part"],
            "starts_at": s["starts_at"],
            "ends_at": s["ends_at"],
            "rooms": [r["code"] for r in s["rooms"]],
            "proctors": {k: [p["id"] for p in v] for k, v in s["proctors"].items()},
        }
        for s in sessions_of(db, batch_id)
    ]


# -- reading -----------------------------------------------------------------------


def summary(b: Batch) -> dict[str, Any]:
    return {
        "id": b.id,
        "institution_id": b.institution_id,
        "occupation_code": b.occupation_code,
        "occupation_name": b.occupation_name,
        "work_type": b.work_type,
        "level": b.level,
        "exam_date": b.exam_date.isoformat(),
        "parts": b.part_list(),
        "status": b.status,
        "filed_at": iso(b.filed_at),
        "filed_by": b.filed_by,
    }


def sessions_of(db: Session, batch_id: int) -> list[dict[str, Any]]:
    sessions = db.exec(
        select(ExamSession)
        .where(ExamSession.batch_id == batch_id)
        .order_by(col(ExamSession.starts_at), col(ExamSession.id))
    ).all()
    ids = [s.id for s in sessions]
    rooms = (
        db.exec(
            select(SessionRoom.session_id, Room)
            .join(Room, col(Room.id) == SessionRoom.room_id)
            .where(col(SessionRoom.session_id).in_(ids))
            .order_by(Room.code)
        ).all()
        if ids
        else []
    )
    people = (
        db.exec(
            select(ProctorAssignment, Staff)
            .join(Staff, col(Staff.id) == ProctorAssignment.staff_id)
            .where(col(ProctorAssignment.session_id).in_(ids))
            .order_by(col(Staff.id))
        ).all()
        if ids
        else []
    )
    code_of = {r.id: r.code for _, r in rooms}
    out = []
    for s in sessions:
        mine = [r for sid, r in rooms if sid == s.id]
        staff: dict[str, list[dict[str, Any]]] = {r.code: [] for r in mine}
        for pa, person in people:
            if pa.session_id == s.id and pa.room_id in code_of:
                staff.setdefault(code_of[pa.room_id], []).append(
                    {"id": person.id, "name": person.name, "roles": sorted(person.role_set())}
                )
        out.append(
            {
                "id": s.id,
                "part": s.part,
                "starts_at": iso(s.starts_at),
                "ends_at": iso(s.ends_at),
                "rooms": [{"id": r.id, "code": r.code, "name": r.name, "kind": r.kind, "seats": r.seats} for r in mine],
                "proctors": staff,
            }
        )
    return out


def _counts(db: Session, batch_ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {
        b: {"registered": 0, "withdrawn": 0, "pending": 0, "eligible": 0, "ineligible": 0} for b in batch_ids
    }
    if not batch_ids:
        return out
    rows = db.exec(
        select(Candidate.batch_id, Candidate.status, Candidate.eligibility, func.count())
        .where(col(Candidate.batch_id).in_(batch_ids))
        .group_by(col(Candidate.batch_id), Candidate.status, Candidate.eligibility)
    ).all()
    for bid, status, eligibility, n in rows:
        c = out[bid]
        c[status] = c.get(status, 0) + n
        if status == "registered":
            c[eligibility] = c.get(eligibility, 0) + n
    return out


def list_batches(db: Session, actor: Actor, on: date | None = None) -> list[dict[str, Any]]:
    """The batches the caller may see: the installation admin all, a centre its province, others their own."""
    q = select(Batch)
    ids = visible_institution_ids(db, actor)
    if ids is not None:
        if not ids:
            return []
        q = q.where(col(Batch.institution_id).in_(ids))
    if on is not None:
        q = q.where(Batch.exam_date == on)
    batches = db.exec(q.order_by(col(Batch.exam_date).desc(), col(Batch.id).desc())).all()
    counts = _counts(db, [row_id(b) for b in batches])
    return [{**summary(b), "candidates": counts[row_id(b)]["registered"]} for b in batches]


def get_batch(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    batch = batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    cal = work_calendar(db)
    return {
        **summary(batch),
        "config": BatchConfig.from_json(batch.config).as_dict(),
        "sessions": sessions_of(db, batch.id),
        "candidates": _counts(db, [batch.id])[batch.id],
        "latest_filing_date": latest_filing_date(batch.exam_date, cal).isoformat(),
        "provisional_years": provisional_years(today_of(now), batch.exam_date, cal),
    }
