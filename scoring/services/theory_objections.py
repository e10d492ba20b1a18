"""A theory score changed by an upheld objection (异议成立，理论成绩更正): R-PUB-1, R-SCORE-3.

From the start of publicity no theory import is taken (``scores_published``) — except to answer
an upheld objection to a theory score. Theory scores come from the exam system, not a panel: the
office upholds the objection (status ``rescoring``, ``scoring.services.objections``), the exam
system re-marks the paper, and the office imports the re-marked file as a new version. That
version may change only the candidates whose theory objection is upheld and not yet settled; its
reason names those objections (``[异议 objection #7] …``) and each change carries its
``objection_id``. The chief countersigns it like any version (``scoring.services.theory_versions``);
then the objections it names become ``upheld`` (their resolution names the version) and the result
changes, shown as a correction (更正). Until then the objection is open and the batch does not
lock. No migration: the version's reason and changes, the objection's status and resolution, and
the audit chain carry the link.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from examday.errors import Refusal, conflict
from examday.plans.models import Batch
from scoring.models import Objection, TheoryImport

PART = "theory"
REASON_MAX = 500
_NAMED = re.compile(r"^\[异议 objection ((?:#\d+ ?)+)\]")


def upheld_open(db: Session, batch_id: int) -> list[Objection]:
    """The batch's theory objections upheld and awaiting the re-marked score, oldest first."""
    return list(
        db.exec(
            select(Objection)
            .where(Objection.batch_id == batch_id, Objection.part == PART, Objection.status == "rescoring")
            .order_by(col(Objection.id))
        ).all()
    )


def refuse_published(batch: Batch, tickets: Sequence[str] = ()) -> None:
    """R-SCORE-3: from the start of publicity only an upheld objection changes a score."""
    raise conflict(
        "scores_published",
        "成绩已公示，理论成绩不能再导入或更正；只有异议成立的考生的成绩可以更正",
        "Scores are published; theory scores can no longer be imported or corrected "
        "(only an upheld objection changes a score, and only that candidate's).",
        "R-SCORE-3",
        tickets=list(tickets),
    )


def named_reason(objections: Sequence[Objection], note: str) -> str:
    """The version's reason, naming the objections it answers: ``[异议 objection #3 #5] note``."""
    prefix = "[异议 objection " + " ".join(f"#{o.id}" for o in objections) + "] "
    if len(prefix + note) > REASON_MAX:
        raise Refusal(
            "reason_too_long",
            f"原因不超过{REASON_MAX - len(prefix)}字（含所答复的异议编号）",
            f"The reason is at most {REASON_MAX - len(prefix)} characters (with the objections it answers).",
            None,
            422,
        )
    return prefix + note


def named_ids(reason: str | None) -> list[int]:
    """The objection ids a version's reason names (empty for a version made before publicity)."""
    m = _NAMED.match(reason or "")
    return [int(x) for x in re.findall(r"\d+", m.group(1))] if m else []


def answered(db: Session, record: TheoryImport) -> list[Objection]:
    """The upheld, unsettled theory objections this version answers."""
    ids = set(named_ids(record.reason))
    return [o for o in upheld_open(db, record.batch_id) if o.id in ids]


def tag_changes(batch: Batch, changes: list[dict[str, Any]], objections: Sequence[Objection]) -> list[dict[str, Any]]:
    """Each change with the objection it answers; refused whole if one touches anybody else."""
    by_candidate = {o.candidate_id: o.id for o in objections}
    stray = [c["ticket_number"] for c in changes if c["candidate_id"] not in by_candidate]
    if not objections or stray:
        refuse_published(batch, stray)
    return [{**c, "objection_id": by_candidate[c["candidate_id"]]} for c in changes]


def settle(objections: Sequence[Objection], record: TheoryImport) -> list[int]:
    """The countersigned version settles the objections it answers: upheld, naming the version."""
    out = []
    for o in objections:
        o.status = "upheld"
        note = f"（理论成绩第{record.version}版 theory v{record.version}）"
        o.resolution = ((o.resolution or "")[: 2000 - len(note)] + note) if o.resolution is not None else note
        out.append(o.id)
    return [i for i in out if i is not None]
