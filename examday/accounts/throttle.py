"""Sign-in and signing-PIN rate limits (登录限制): guessing a password or an examiner's PIN
must take longer than an exam day.

R-STAFF-4 (every action is the account holder's own) and R-SCORE-1 (only the examiner signs
their score) mean an account may not be opened by trying passwords, nor a score signed by
trying PINs. After ``failures`` wrong answers for one username within ``window``, that
username is locked for ``lock``; after ``address_failures`` from one client address (many
usernames tried from one machine), the address is locked too. While locked, nothing is
checked, so a guess while locked teaches nothing. Successes are not counted, and a
success clears that username's failures (someone who mistyped four times and then got in
starts again from zero); it never clears an address's: those failures still count there.

Everything lives in ``LoginAttempt`` rows, so every server process sees the same counts.
Two processes racing on the last allowed failure may both let it through: a bound that is
off by one under a race is still a bound. The caller commits the rows even though it then
refuses (``record_failure`` is meant to run after the refused command rolled back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from examday import audit
from examday.accounts.models import LoginAttempt
from examday.actor import SYSTEM, Actor
from examday.clock import iso
from examday.errors import Refusal

KEEP = timedelta(days=1)  # nothing older matters to any window; longer-lived facts are in the audit log


@dataclass(frozen=True)
class Limits:
    kind: str
    failures: int
    window: timedelta
    lock: timedelta
    address_failures: int | None  # None: only per username (the caller is already signed in)
    rule: str


PASSWORD = Limits("password", 5, timedelta(minutes=15), timedelta(minutes=15), 30, "R-STAFF-4")
PIN = Limits("pin", 5, timedelta(minutes=15), timedelta(minutes=15), None, "R-SCORE-1")


def _key(username: str) -> str:
    return (username or "")[:80]


def locked(limits: Limits, outcome: str, column, value: str | None, until: datetime):
    return (
        (LoginAttempt.kind == limits.kind)
        & (LoginAttempt.outcome == outcome)
        & (column == value)
        & (col(LoginAttempt.until) > until)
    )


def lock_refusal(limits: Limits, until: datetime, now: datetime) -> Refusal:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    if limits.kind == "pin":
        return Refusal(
            "pin_locked",
            f"签名密码错误次数过多，请 {minutes} 分钟后再试",
            f"Too many wrong signing PINs; try again in {minutes} min.",
            limits.rule,
            429,
            {"retry_after": minutes * 60, "until": iso(until)},
        )
    return Refusal(
        "login_locked",
        f"登录失败次数过多，请 {minutes} 分钟后再试",
        f"Too many failed sign-ins; try again in {minutes} min.",
        limits.rule,
        429,
        {"retry_after": minutes * 60, "until": iso(until)},
    )


def refuse_if_locked(db: Session, limits: Limits, username: str, address: str | None, now: datetime) -> None:
    """Raise 429 while the username (or the address) is locked; read only."""
    clauses = [locked(limits, "lock_user", LoginAttempt.username, _key(username), now)]
    if limits.address_failures is not None and address:
        clauses.append(locked(limits, "lock_address", LoginAttempt.address, address, now))
    until = db.exec(select(func.max(LoginAttempt.until)).where(or_(*clauses))).one()
    if until is not None:
        raise lock_refusal(limits, until, now)


def _failures_since(db: Session, limits: Limits, resets: tuple[str, ...], column, value: str, now: datetime) -> int:
    # Failures before the last lockout (or, for a username, the last success) no longer count.
    last_reset = db.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.kind == limits.kind, col(LoginAttempt.outcome).in_(resets), column == value
        )
    ).one()
    since = max(now - limits.window, last_reset) if last_reset else now - limits.window
    return db.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.kind == limits.kind, LoginAttempt.outcome == "failed", column == value, LoginAttempt.at > since
        )
    ).one()


def record_failure(
    db: Session, limits: Limits, username: str, address: str | None, now: datetime, actor: Actor | None = None
) -> Refusal | None:
    """Count one wrong answer; lock and audit when a bound is reached (by ``actor``, or the system for
    someone not signed in). Returns the lockout's refusal, or None while under the bounds."""
    _prune(db, now)
    name = _key(username)
    db.add(LoginAttempt(kind=limits.kind, username=name, address=address, outcome="failed", at=now))
    db.flush()
    refusal = None
    # (outcome, the outcomes that reset the count, column, value, bound)
    checks: list[tuple[str, tuple[str, ...], Any, str, int]] = [
        ("lock_user", ("lock_user", "cleared"), LoginAttempt.username, name, limits.failures)
    ]
    if limits.address_failures is not None and address:
        checks.append(("lock_address", ("lock_address",), LoginAttempt.address, address, limits.address_failures))
    for outcome, resets, column, value, bound in checks:
        count = _failures_since(db, limits, resets, column, value, now)
        if count < bound:
            continue
        until = now + limits.lock
        db.add(LoginAttempt(kind=limits.kind, username=name, address=address, outcome=outcome, at=now, until=until))
        audit.record(
            db,
            actor or SYSTEM,
            f"{limits.kind}.locked",
            "username" if outcome == "lock_user" else "address",
            value,
            {"username": name, "address": address, "scope": outcome[5:], "failures": count, "until": iso(until)},
            now,
        )
        refusal = lock_refusal(limits, until, now)
    db.flush()
    return refusal


def clear(db: Session, limits: Limits, username: str, now: datetime) -> None:
    """A success: the username's earlier failures no longer count against it. They are marked, not
    deleted, so that they still count against the address they came from."""
    name = _key(username)
    pending = db.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.kind == limits.kind,
            LoginAttempt.outcome == "failed",
            LoginAttempt.username == name,
            LoginAttempt.at > now - limits.window,
        )
    ).one()
    if pending:  # most successes follow no failure: nothing to write then
        db.add(LoginAttempt(kind=limits.kind, username=name, outcome="cleared", at=now))


def _prune(db: Session, now: datetime) -> None:
    db.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.at) < now - KEEP, or_(col(LoginAttempt.until).is_(None), col(LoginAttempt.until) < now)
        )
    )
