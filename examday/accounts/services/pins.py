"""The office clears an examiner's signing PIN (签名密码重置), in the open (R-SCORE-1).

An examiner who forgot their PIN cannot change it (that takes the old one), so the office
clears it and the examiner sets a new one. The office also knows the password it gave the
account, so a reset is exactly the moment it could sign in as the examiner and set a PIN of its
own: every reset is on the audit chain and is shown to the examiner (their scoring page) and to
the chief of each panel they sit on (the chief's results page), who can ask why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from examday import audit
from examday.accounts.models import Account
from examday.actor import Actor
from examday.audit import AuditEntry
from examday.clock import CST
from examday.errors import Refusal, forbidden, not_found

RESET = "account.pin_reset"


def reset_pin(db: Session, by: Actor, now: datetime, account_id: int) -> Account:
    account = db.get(Account, account_id)
    if account is None:
        raise not_found("account")
    if not (by.is_installation_admin or (by.role == "admin" and by.institution_id == account.institution_id)):
        raise forbidden("Only the account's own institution's admin resets its PIN.")
    if account.role not in ("evaluator", "chief"):
        raise Refusal(
            "no_pin_to_reset",
            "只有考评员和主考账号有签名密码",
            "Only evaluator and chief accounts have a signing PIN.",
            "R-SCORE-1",
            422,
        )
    had_pin = account.pin_hash is not None
    account.pin_hash = None
    db.add(account)
    audit.record(
        db,
        by,
        RESET,
        "account",
        account.id,
        {"username": account.username, "staff_id": account.staff_id, "had_pin": had_pin},
        now,
        account.institution_id,
    )
    return account


@dataclass(frozen=True)
class PinReset:
    username: str  # whose PIN
    staff_id: int | None
    by: str  # who reset it
    at: datetime

    @property
    def shown_at(self) -> str:
        return self.at.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def pin_resets(db: Session, account_ids: list[int]) -> list[PinReset]:
    """Every reset of these accounts' PINs, oldest first, read from the audit chain itself."""
    if not account_ids:
        return []
    rows = db.exec(
        select(AuditEntry)
        .where(AuditEntry.action == RESET, col(AuditEntry.object_id).in_([str(a) for a in account_ids]))
        .order_by(col(AuditEntry.seq))
    ).all()
    out = []
    for e in rows:
        diff = json.loads(e.diff)
        out.append(PinReset(diff.get("username", ""), diff.get("staff_id"), e.username, e.at))
    return out


def pin_resets_of_staff(db: Session, institution_id: int, staff_ids: list[int]) -> list[PinReset]:
    """The resets of the scoring accounts that act as these staff members (a panel's examiners)."""
    if not staff_ids:
        return []
    ids = db.exec(
        select(Account.id).where(
            Account.institution_id == institution_id,
            col(Account.staff_id).in_(staff_ids),
            col(Account.role).in_(("evaluator", "chief")),
        )
    ).all()
    return pin_resets(db, [i for i in ids if i is not None])
