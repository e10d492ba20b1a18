"""Standing gates the exam day (备案状态): R-INST-2.

An institution whose filing is suspended (暂停评价活动), revoked (撤销备案) or expired runs no
exam: check-in, incidents, score entry, publicity, the lock and certificates all ask
:func:`exam_day_refusal` — the one decision — through :func:`refuse_unless_in_standing`.
What was recorded before stays; reading and exporting are never gated here (a suspended
institution keeps its data and can still export).

A filing that has not started yet, or none at all, is plan filing's concern (no plan is
filed without an active filing), not the exam day's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from examday.clock import CST
from examday.errors import Refusal
from examday.registry.models import Filing
from examday.registry.rules import standing

BLOCKING_STATES = ("suspended", "revoked", "expired")

_WHY = {
    "suspended": ("备案已暂停评价活动", "its filing is suspended"),
    "revoked": ("备案已撤销", "its filing is revoked"),
    "expired": ("备案已过期", "its filing has expired"),
}


def exam_day_refusal(filings: Sequence[Any], today: date, action: str) -> Refusal | None:
    """R-INST-2: the refusal for an exam-day ``action`` of an institution with these filings, or None.

    Pure: the filings (rows or mappings with ``status``, ``valid_from``, ``valid_until``)
    and the China-time date are arguments."""
    st = standing(filings, today)
    if st.state not in BLOCKING_STATES:
        return None
    zh, en = _WHY[st.state]
    return Refusal(
        "institution_not_in_standing",
        f"机构{zh}，不能组织认定考核（{action}）",
        f"The institution may not run exams: {en} ({action}).",
        "R-INST-2",
        409,
        {"filing_state": st.state, "action": action},
    )


def _filings(db: Session, institution_ids: Iterable[int]) -> dict[int, list[Filing]]:
    ids = sorted(set(institution_ids))
    out: dict[int, list[Filing]] = {i: [] for i in ids}
    if ids:
        for f in db.exec(select(Filing).where(col(Filing.institution_id).in_(ids))).all():
            out[f.institution_id].append(f)
    return out


# Four columns through Core: every check-in asks this, and the rule reads no more (issue #18).
_FILINGS_OF = select(col(Filing.id), col(Filing.status), col(Filing.valid_from), col(Filing.valid_until)).where(
    Filing.institution_id == bindparam("institution_id")
)


def refusal_for(db: Session, institution_id: int, now: datetime, action: str) -> Refusal | None:
    filings = db.connection().execute(_FILINGS_OF, {"institution_id": institution_id}).all()
    return refusal_among(filings, now, action)


def refusal_among(filings: Sequence[Any], now: datetime, action: str) -> Refusal | None:
    """``refusal_for`` on filings already read (id, status, valid_from, valid_until): the check-in
    reads them with its other facts, in one round trip (issue #18)."""
    return exam_day_refusal(filings, now.astimezone(CST).date(), action)


def refuse_unless_in_standing(db: Session, institution_id: int, now: datetime, action: str) -> None:
    """Raise the R-INST-2 refusal when the institution may not run this exam-day action."""
    refusal = refusal_for(db, institution_id, now, action)
    if refusal is not None:
        raise refusal


def blocked_states(db: Session, institution_ids: Iterable[int], now: datetime) -> dict[int, str]:
    """The institutions among these whose exam day is blocked, with their filing state."""
    today = now.astimezone(CST).date()
    out: dict[int, str] = {}
    for iid, filings in _filings(db, institution_ids).items():
        refusal = exam_day_refusal(filings, today, "")
        if refusal is not None:
            out[iid] = str(refusal.detail["filing_state"])
    return out
