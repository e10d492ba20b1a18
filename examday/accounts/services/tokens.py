"""Token lifetimes, and the tokens of an account listed and revoked one by one (令牌, R-STAFF-4).

A bearer token is a password that never has to be typed: one copied off a kiosk or out of a
script would let whoever holds it act as its account for good. So every token expires — a
machine's (a kiosk's) after ``Settings.kiosk_token_days`` (30), a person's (a tablet's, a
script's) after ``Settings.person_token_hours`` (14: one exam day), a browser session after
``SESSION_HOURS`` — and each account's tokens are listed (never the token itself: only its digest
is stored) and revoked by id, by the account itself or its institution's admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_
from sqlmodel import Session, col, select

from examday import audit
from examday.accounts import rules
from examday.accounts.models import AccessToken, Account
from examday.actor import Actor
from examday.errors import Refusal, forbidden, not_found
from storage.types import iso

SESSION_HOURS = 14  # one exam day, early arrival to late scoring
# Accounts that are a machine, not a person: no one signs in again each morning at a kiosk.
MACHINE_ROLES = ("kiosk",)
LIST_LIMIT = 500


@dataclass(frozen=True)
class TokenLifetimes:
    machine: timedelta = timedelta(days=30)
    person: timedelta = timedelta(hours=SESSION_HOURS)

    @classmethod
    def from_settings(cls, settings: Any) -> TokenLifetimes:
        return cls(timedelta(days=settings.kiosk_token_days), timedelta(hours=settings.person_token_hours))

    def bearer(self, role: str) -> timedelta:
        return self.machine if role in MACHINE_ROLES else self.person


DEFAULT_LIFETIMES = TokenLifetimes()


def lifetime_for(kind: str, role: str, lifetimes: TokenLifetimes, asked: timedelta | None = None) -> timedelta:
    """How long a new token of ``kind`` for a ``role`` account lasts: the installation's lifetime,
    or ``asked`` when that is shorter; longer is refused."""
    longest = timedelta(hours=SESSION_HOURS) if kind == "session" else lifetimes.bearer(role)
    if asked is None:
        return longest
    if asked <= timedelta(0) or asked > longest:
        raise Refusal(
            "token_lifetime_too_long",
            f"令牌有效期须大于零且不超过 {_human(longest)}",
            f"A {role} token lasts more than nothing and at most {_human(longest)}.",
            "R-STAFF-4",
            422,
            {"max_hours": longest.total_seconds() / 3600},
        )
    return asked


def _human(d: timedelta) -> str:
    return f"{d.days} days" if d.days and not d.seconds else f"{d.total_seconds() / 3600:g} hours"


class _Lifetime(Protocol):
    """What a token's end is computed from: the ORM row, or the columns the request's lookup reads."""

    kind: str
    created_at: datetime
    expires_at: datetime | None


def expires_at(tok: _Lifetime, role: str) -> datetime:
    """When ``tok`` stops working. A token issued before tokens expired has no ``expires_at``: it
    lasts the default lifetime of its kind from its issue, so none lives for ever."""
    if tok.expires_at is not None:
        return tok.expires_at
    if tok.kind == "session":
        return tok.created_at + timedelta(hours=SESSION_HOURS)
    return tok.created_at + DEFAULT_LIFETIMES.bearer(role)


def state_of(tok: AccessToken, role: str, now: datetime) -> str:
    if tok.revoked_at is not None:
        return "revoked"
    return "expired" if expires_at(tok, role) <= now else "active"


def may_manage(by: Actor, account: Account) -> bool:
    """The account itself, the installation administrator, the operator, and the institution's
    admin for the accounts it could have made itself (examday/accounts/rules.py): not the
    external quality supervisor sent to check it, whom it could otherwise cut off mid-exam."""
    if by.role == "system" or by.is_installation_admin or by.account_id == account.id:
        return True
    own = by.role == "admin" and by.institution_id is not None and by.institution_id == account.institution_id
    return own and rules.grant_refusal(by, account.role, account.institution_id, account.staff_id) is None


def describe(tok: AccessToken, role: str, now: datetime) -> dict[str, Any]:
    """A token as listed: never the token, which is not stored anyway."""
    return {
        "id": tok.id,
        "account_id": tok.account_id,
        "kind": tok.kind,
        "created_at": iso(tok.created_at),
        "expires_at": iso(expires_at(tok, role)),
        "revoked_at": iso(tok.revoked_at),
        "state": state_of(tok, role, now),
    }


def list_tokens(db: Session, by: Actor, account_id: int, now: datetime, all_states: bool = False) -> list[dict]:
    """An account's live tokens, newest first; with ``all_states`` the expired and revoked too."""
    account = db.get(Account, account_id)
    if account is None:
        raise not_found("account")
    if not may_manage(by, account):
        raise forbidden("Only the account itself or its institution's admin sees its tokens.")
    query = select(AccessToken).where(AccessToken.account_id == account_id)
    if not all_states:
        live = or_(col(AccessToken.expires_at).is_(None), col(AccessToken.expires_at) > now)
        query = query.where(col(AccessToken.revoked_at).is_(None), live)
    order = (col(AccessToken.created_at).desc(), col(AccessToken.id).desc())
    rows = db.exec(query.order_by(*order).limit(LIST_LIMIT)).all()
    listed = [describe(t, account.role, now) for t in rows]
    return listed if all_states else [t for t in listed if t["state"] == "active"]


def revoke(db: Session, by: Actor, tok: AccessToken, now: datetime) -> Account:
    """Revokes ``tok`` on the audit chain; revoking it again changes nothing."""
    account = db.get(Account, tok.account_id)
    assert account is not None  # the token's account: a foreign key
    if not may_manage(by, account):
        raise forbidden("Only the account itself or its institution's admin revokes its tokens.")
    if tok.revoked_at is None:
        tok.revoked_at = now
        db.add(tok)
        audit.record(
            db,
            by,
            "token.revoke",
            "access_token",
            tok.id,
            {"account": account.username, "kind": tok.kind},
            now,
            account.institution_id,
        )
    return account


def revoke_by_id(db: Session, by: Actor, token_id: int, now: datetime) -> dict[str, Any]:
    tok = db.get(AccessToken, token_id)
    if tok is None:
        raise not_found("token")
    account = revoke(db, by, tok, now)
    return describe(tok, account.role, now)
