"""Set a part's evaluation panel (考评组): R-PANEL-1, R-STAFF-2, R-RECUSE-1, R-RATIO-1.

A panel that breaks a rule is refused with every violation at once
(``panel_rejected``, ``detail.violations``), so the exam office fixes it in
one pass. The examiner ratio of R-RATIO-1 counts the candidates assessed at
the same time: the stations of the part's rooms in its largest sitting,
capped by the batch's candidates (a panel of five assesses a day of many
sittings, never 2,000 people at once). A panel can be replaced until its
part's first entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal, conflict
from examday.plans.models import Batch, ExamSession, ProctorAssignment, SessionRoom
from examday.registry.models import Room, Staff
from examday.rows import row_id
from scoring import access
from scoring.models import Panel, PanelMember, ScoreEntry
from scoring.panel_data import candidate_ties, conflicts_of, examiner_from, load_panel
from scoring.panel_rules import Violation, panel_violations, recusal_violations


def concurrent_candidates(db: Session, batch: Batch, part: str, total: int) -> int | None:
    """How many candidates one sitting of the part assesses at once (R-RATIO-1); None for theory."""
    if part == "theory":
        return None  # theory rooms are watched by proctors (R-RATIO-1's first half), not examiners
    largest = 0
    sessions = db.exec(select(ExamSession).where(ExamSession.batch_id == batch.id, ExamSession.part == part)).all()
    for session in sessions:
        seats = db.exec(
            select(Room.seats)
            .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
            .where(SessionRoom.session_id == session.id)
        ).all()
        largest = max(largest, sum(seats))
    return min(total, largest) if largest else total


def plan_violations(db: Session, batch: Batch, ids: list[int], staff: dict[int, Staff]) -> list[Violation]:
    """R-PLAN-1: the filed plan names its staff, so a panel set after filing is drawn from the
    examiners it names (posted in its sessions); anyone else needs an amended plan filed first.

    A plan that names no examiner at all (theory only, or stored before R-RATIO-1 was checked
    at filing) leaves the panel to R-PANEL-1 alone."""
    if batch.status != "filed":
        return []
    posted = set(
        db.exec(
            select(ProctorAssignment.staff_id)
            .join(ExamSession, col(ExamSession.id) == ProctorAssignment.session_id)
            .where(ExamSession.batch_id == batch.id)
        ).all()
    )
    roles = dict(db.exec(select(Staff.id, Staff.roles).where(col(Staff.id).in_(posted or [-1]))).all())
    if not any("examiner" in (r or "").split(",") for r in roles.values()):
        return []
    return [
        Violation(
            "examiner_not_in_plan",
            "R-PLAN-1",
            f"考评员{staff[i].name}不在已备案认定计划的人员名单中，须先备案变更后的计划",
            f"Examiner {i} is not among the staff of the filed plan; file the amended plan first.",
            staff_id=i,
        )
        for i in dict.fromkeys(ids)
        if i in staff and i not in posted
    ]


def _ids(raw: object) -> list[int] | None:
    if not isinstance(raw, list):
        return None
    out = []
    for x in raw:
        if isinstance(x, bool) or not isinstance(x, int):
            return None
        out.append(x)
    return out


def panel_body(db: Session, batch: Batch, part: str) -> dict[str, Any] | None:
    assert batch.id is not None
    candidates = access.scored_candidates(db, batch.id)
    view = load_panel(db, batch.id, part, candidates)
    if view is None:
        return None
    recusals = {}
    for cand in candidates:
        assert cand.id is not None
        _, recused = view.scorers(cand.id)
        if recused:
            recusals[str(cand.id)] = {str(k): v for k, v in recused.items()}
    return {
        "id": view.panel.id,
        "batch_id": batch.id,
        "part": part,
        "chief_id": view.panel.chief_staff_id,
        "examiner_ids": list(view.member_ids),
        "recusals": recusals,
    }


def set_panel(
    db: Session, actor: Actor, now: datetime, batch_id: int, part: str, examiner_ids: object, chief_id: object
) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_if_locked(batch)
    access.refuse_unknown_part(batch, part)
    if batch.status not in ("draft", "filed"):
        raise conflict(
            "scores_published",
            "成绩已公示，考评组不能再改",
            "Scores are published; the panel can no longer change.",
            "R-PANEL-1",
        )
    ids = _ids(examiner_ids)
    if ids is None:
        raise Refusal("invalid_input", "examiner_ids 须为考评员编号列表", "examiner_ids must be a list of staff ids.")
    cfg = access.scoring_config(batch)
    staff = {
        row_id(s): s
        for s in db.exec(select(Staff).where(col(Staff.id).in_(ids or [-1]))).all()
        if s.institution_id == batch.institution_id
    }
    violations: list[Violation] = [
        Violation(
            "examiner_not_found",
            "R-PANEL-1",
            f"考评员{i}不是本机构人员",
            f"Staff {i} is not a member of this institution.",
            staff_id=i,
        )
        for i in dict.fromkeys(ids)
        if i not in staff
    ]
    violations += plan_violations(db, batch, ids, staff)
    conflicts = conflicts_of(db, staff)
    examiners = [examiner_from(staff[i], conflicts) for i in ids if i in staff]
    candidates = access.scored_candidates(db, batch.id)
    # R-PANEL-1, R-STAFF-2, R-RATIO-1: size, parity, chief, level, card, occupation, ratio.
    violations += panel_violations(
        examiners,
        chief_id,
        batch.level,
        batch.occupation_code,
        batch.exam_date,
        candidate_count=concurrent_candidates(db, batch, part, len(candidates)),
        candidates_per_examiner=cfg.candidates_per_examiner,
    )
    # R-RECUSE-1 + R-PANEL-1: each candidate keeps an odd panel of 3 or more after recusal
    # (checked on a panel of the right shape: otherwise every candidate would repeat its fault).
    if examiners and not any(v.code in ("panel_too_small", "panel_even") for v in violations):
        violations += recusal_violations(candidate_ties(candidates, conflicts).values(), examiners)
    if violations:
        raise Refusal(
            "panel_rejected",
            f"考评组不符合要求（{len(violations)}项）",
            f"The panel breaks {len(violations)} rule(s).",
            "R-PANEL-1",
            detail={"violations": [v.as_dict() for v in violations]},
        )
    assert isinstance(chief_id, int)  # panel_violations refuses a chief who is not a member
    existing = db.exec(select(Panel).where(Panel.batch_id == batch.id, Panel.part == part)).first()
    before = None
    if existing is not None:
        if db.exec(select(ScoreEntry.id).where(ScoreEntry.batch_id == batch.id, ScoreEntry.part == part)).first():
            raise conflict(
                "panel_in_use",
                "该科目已开始评分，考评组不能再改",
                "Scoring of this part has started; the panel can no longer change.",
                "R-PANEL-1",
            )
        before = panel_body(db, batch, part)
        db.exec(delete(PanelMember).where(col(PanelMember.panel_id) == existing.id))
        existing.chief_staff_id = chief_id
        existing.created_at, existing.created_by = now, actor.account_id
        panel = existing
    else:
        panel = Panel(
            batch_id=batch.id, part=part, chief_staff_id=chief_id, created_at=now, created_by=actor.account_id
        )
    db.add(panel)
    db.flush()
    assert panel.id is not None  # flushed: the database gave it an id
    for staff_id in dict.fromkeys(ids):
        db.add(PanelMember(panel_id=panel.id, batch_id=batch.id, staff_id=staff_id))
    db.flush()
    body = panel_body(db, batch, part)
    assert body is not None  # the panel was just written
    audit.record(
        db,
        actor,
        "panel.set",
        "panel",
        panel.id,
        {
            "batch_id": batch.id,
            "part": part,
            "before": before and before["examiner_ids"],
            "examiner_ids": body["examiner_ids"],
            "chief_id": chief_id,
            "recusals": body["recusals"],
        },
        now,
        batch.institution_id,
    )
    return body
