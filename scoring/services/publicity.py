"""Start the score publicity (成绩公示): R-PUB-1, R-CAL.

Publicity starts only when every score of the batch is final (or the
candidate is marked absent) and no theory version awaits the chief's
countersignature (``theory_draft_pending``, R-SCORE-3). It runs for 5 working days (``scoring.publicity``)
counted from the first full day: scores put up by 09:00 China time count that
day, later ones from the next day — a part of a day is not a day of publicity.
A year without an official holiday notice makes the dates provisional (R-CAL).

The window is derived on read (``window_of``): from the moment the scores went
up and the installation's calendar as it is now, so a holiday notice entered
after the window opened moves its end, the objection deadline and the lock
(R-CAL). The stored ``starts_on``/``ends_on`` are what was announced at the
start, shown beside the end when a notice has moved it; nothing enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import conflict
from examday.plans.models import Batch
from examday.registry import standing
from scoring import access
from scoring.models import Publicity, TheoryImport
from scoring.publicity import lock_allowed_from, publicity_window
from scoring.results import batch_results

FULL_DAY_CUTOFF = time(9, 0)
SETTLED = ("final", "absent", "void", "cheating")


def first_full_day(now: datetime) -> date:
    local = now.astimezone(CST)
    return local.date() if local.time() <= FULL_DAY_CUTOFF else local.date() + timedelta(days=1)


def unsettled_parts(db: Session, batch: Batch) -> list[dict[str, Any]]:
    """Every candidate part without a final score, an absence, or an incident's verdict (R-ID-1, R-DISC-1)."""
    assert batch.id is not None
    out = []
    for r in batch_results(db, batch):
        for part in batch.part_list():
            status = r.status(part) if (part in r.overrides or r.parts.get(part)) else "missing"
            if status not in SETTLED:
                c = r.candidate
                out.append({"candidate_id": c.id, "ticket_number": c.ticket_number, "part": part, "status": status})
    return out


def refuse_theory_draft_pending(db: Session, batch_id: int) -> None:
    """R-SCORE-3: a theory version awaiting the chief's countersignature (主考签认) is settled first.

    Publicity puts the scores up; a correction left as a draft could never be countersigned after
    that (``scores_published``), so the scores shown would not be the ones the office meant."""
    drafts = db.exec(
        select(TheoryImport.version)
        .where(TheoryImport.batch_id == batch_id, TheoryImport.state == "draft")
        .order_by(col(TheoryImport.version))
    ).all()
    if drafts:
        raise conflict(
            "theory_draft_pending",
            f"理论成绩第{'、'.join(str(v) for v in drafts)}版尚待主考签认，不能公示",
            f"Theory version(s) {', '.join(str(v) for v in drafts)} await the chief's countersignature; "
            "publicity cannot start.",
            "R-SCORE-3",
            versions=list(drafts),
        )


def publicity_of(db: Session, batch_id: int) -> Publicity | None:
    return db.exec(select(Publicity).where(Publicity.batch_id == batch_id)).first()


@dataclass(frozen=True)
class Window:
    """The publicity's days on the current calendar (R-PUB-1, R-CAL)."""

    starts_on: date
    ends_on: date
    provisional: bool

    @property
    def lock_from(self) -> date:
        return lock_allowed_from(self.ends_on)


def _window(published_at: datetime, calendar: Any) -> Window:
    starts_on, ends_on = publicity_window(first_full_day(published_at), calendar)  # R-PUB-1: 5 working days
    provisional = (
        bool(calendar.provisional_years_in(starts_on, ends_on)) if hasattr(calendar, "provisional_years_in") else False
    )
    return Window(starts_on, ends_on, provisional)


def window_of(db: Session, p: Publicity) -> Window:
    """R-CAL: the window as the calendar (packages and entered notices) says today, never as stored."""
    return _window(p.published_at, access.working_calendar(db))


def publicity_body(db: Session, p: Publicity) -> dict[str, Any]:
    w = window_of(db, p)
    return {
        "batch_id": p.batch_id,
        "starts_on": w.starts_on.isoformat(),
        "ends_on": w.ends_on.isoformat(),
        "lock_from": w.lock_from.isoformat(),
        "provisional": w.provisional,
        "published_at": iso(p.published_at),
        # What was announced when the scores went up, before any notice entered since (R-CAL).
        "announced_ends_on": p.ends_on.isoformat(),
    }


def start_publicity(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_unless_filed(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "publicity")  # R-INST-2
    if publicity_of(db, batch.id) is not None or batch.status != "filed":
        raise conflict(
            "publicity_started", "该批次成绩已公示", "The scores of this batch are already published.", "R-PUB-1"
        )
    if not access.scored_candidates(db, batch.id):
        raise conflict("no_candidates", "该批次没有考生", "The batch has no candidates to publish.", "R-PUB-1")
    refuse_theory_draft_pending(db, batch.id)
    pending = unsettled_parts(db, batch)
    if pending:
        raise conflict(
            "scores_not_final",
            f"尚有{len(pending)}项成绩未确定，不能公示",
            f"{len(pending)} part score(s) are not final; publicity cannot start.",
            "R-PUB-1",
            pending=len(pending),
            examples=pending[:20],
        )
    w = _window(now, access.working_calendar(db))
    p = Publicity(
        batch_id=batch.id,
        published_at=now,
        starts_on=w.starts_on,
        ends_on=w.ends_on,
        provisional=w.provisional,
        account_id=actor.account_id,
    )
    db.add(p)
    batch.status = "publicity"
    db.add(batch)
    db.flush()
    body = publicity_body(db, p)
    audit.record(
        db,
        actor,
        "publicity.start",
        "batch",
        batch.id,
        {"status": ["filed", "publicity"], **body},
        now,
        batch.institution_id,
    )
    return body
