"""Accounts (账号) and their tokens. Every person acts under their own account (R-STAFF-4)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    role: str = Field(max_length=20)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    province: str | None = Field(default=None, max_length=40)
    staff_id: int | None = Field(default=None, index=True)
    password_hash: str | None = Field(default=None, max_length=200)
    # The evaluator's signing PIN (R-SCORE-1), hashed like a password.
    pin_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class AccessToken(SQLModel, table=True):
    """A bearer token or a browser session; only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(default="bearer", max_length=10)  # bearer | session
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in or signing-PIN attempt, or the lockout that failures caused (R-STAFF-4, R-SCORE-1).

    In the database, not in memory, so that the limit holds across several server processes.
    ``kind`` is ``password`` or ``pin``; ``outcome`` is ``failed``, ``cleared`` (a success after
    failures), ``lock_user`` or ``lock_address`` (a lockout row holds ``until``). Rows older than a
    day are pruned on write.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    username: str = Field(max_length=80, index=True)
    address: str | None = Field(default=None, max_length=64, index=True)
    outcome: str = Field(max_length=12)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
