"""Account operations: create, passwords (argon2id, memory-hard), tokens, sessions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam
from sqlalchemy import select as sa_select  # eleven columns: sqlmodel's select() types at most four
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from examday import audit
from examday.accounts import rules, throttle
from examday.accounts.models import AccessToken, Account
from examday.accounts.password_policy import password_refusal
from examday.accounts.services import tokens
from examday.accounts.services.tokens import SESSION_HOURS as SESSION_HOURS
from examday.accounts.services.tokens import TokenLifetimes
from examday.actor import ROLES, Actor
from examday.errors import Refusal, conflict, not_found
from examday.registry.models import Institution, Staff


class Passwords:
    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._nobody: str | None = None

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, hashed: str | None, password: str) -> bool:
        if not hashed:
            return False
        try:
            return self._ph.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_nobody(self, password: str) -> bool:
        """As long as a real check, so that the answer's timing does not tell which usernames exist."""
        if self._nobody is None:
            self._nobody = self.hash(secrets.token_urlsafe(16))
        self.verify(self._nobody, password)
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(account: Account) -> Actor:
    return Actor(account.id, account.username, account.role, account.institution_id, account.province, account.staff_id)


def create_account(
    db: Session,
    by: Actor,
    now: datetime,
    passwords: Passwords,
    username: str,
    role: str,
    institution_id: int | None = None,
    province: str | None = None,
    staff_id: int | None = None,
    password: str | None = None,
) -> Account:
    if role not in ROLES:
        raise Refusal("invalid_role", "角色无效", f"Unknown role {role!r}; one of {', '.join(ROLES)}.")
    if not username or len(username) > 80:
        raise Refusal("invalid_username", "用户名无效", "A username of 1 to 80 characters is needed.")
    # Separation of duties: the office cannot mint those who check it (examday/accounts/rules.py).
    if refusal := rules.grant_refusal(by, role, institution_id, staff_id):
        raise refusal
    if role == "centre" and not province:
        raise Refusal("province_required", "省级中心账号须指定省份", "A centre account belongs to a province.")
    if role not in ("admin", "centre") and institution_id is None:
        raise Refusal("institution_required", "该角色须属于一个机构", "This role belongs to an institution.")
    if institution_id is not None and db.get(Institution, institution_id) is None:
        raise not_found("institution")
    if db.exec(select(Account).where(Account.username == username)).first():
        raise conflict("username_taken", "用户名已存在", f"The username {username!r} is taken.")
    # No password is allowed: a kiosk account signs in with its token only.
    if password is not None and (refusal := password_refusal(password, username)):
        raise refusal
    check_staff_binding(db, role, institution_id, staff_id)
    acc = Account(
        username=username,
        role=role,
        institution_id=institution_id,
        province=province,
        staff_id=staff_id,
        password_hash=passwords.hash(password) if password else None,
        created_at=now,
    )
    db.add(acc)
    db.flush()
    audit.record(
        db,
        by,
        "account.create",
        "account",
        acc.id,
        {
            "username": username,
            "role": role,
            "institution_id": institution_id,
            "province": province,
            "staff_id": staff_id,
        },
        now,
        institution_id,
    )
    return acc


def check_staff_binding(db: Session, role: str, institution_id: int | None, staff_id: int | None) -> None:
    """For every caller, the operator's command line included: whom the new account acts as
    (R-STAFF-2, R-STAFF-3, R-STAFF-4, R-SCORE-1)."""
    staff = db.get(Staff, staff_id) if staff_id is not None else None
    bound = (
        db.exec(select(Account.username).where(Account.staff_id == staff_id, col(Account.active).is_(True))).first()
        if staff_id is not None
        else None
    )
    refusal = rules.binding_refusal(
        role,
        institution_id,
        staff_id,
        staff.institution_id if staff else None,
        frozenset(staff.role_set()) if staff else None,
        bool(staff and staff.active),
        bound,
    )
    if refusal:
        raise refusal


def find_account(db: Session, username: str) -> Account:
    acc = db.exec(select(Account).where(Account.username == username)).first()
    if acc is None:
        raise not_found("account")
    return acc


def new_token() -> str:
    """A bearer token that a command line takes as a value: one beginning with ``-`` would be read as an
    option (``examday-kiosk --token "$T"`` failed so, one token in 64)."""
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):
        token = secrets.token_urlsafe(32)
    return token


def issue_token(
    db: Session,
    account: Account,
    now: datetime,
    kind: str = "bearer",
    by: Actor | None = None,
    lifetimes: TokenLifetimes | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """A new token for ``account``: it expires after the installation's ``lifetimes`` for its
    kind and role (services/tokens.py), or after ``lifetime`` if that is shorter (R-STAFF-4)."""
    assert account.id is not None
    expires = now + tokens.lifetime_for(kind, account.role, lifetimes or tokens.DEFAULT_LIFETIMES, lifetime)
    token = new_token()
    tok = AccessToken(
        account_id=account.id, token_hash=token_digest(token), kind=kind, created_at=now, expires_at=expires
    )
    db.add(tok)
    db.flush()
    audit.record(
        db,
        by or actor_of(account),
        "token.issue",
        "access_token",
        tok.id,
        {"account": account.username, "kind": kind, "expires_at": expires.isoformat()},
        now,
        account.institution_id,
    )
    return token


EXPIRED = "expired"


# Built once, run through Core on every authenticated request: the ORM's unit of work and two
# entities cost several times what the indexed read does (issue #18).
_TOKEN_AND_ACCOUNT: Select[*tuple[Any, ...]] = sa_select(
    col(AccessToken.kind),
    col(AccessToken.created_at),
    col(AccessToken.expires_at),
    col(AccessToken.revoked_at),
    col(Account.id).label("account_id"),
    col(Account.username),
    col(Account.role),
    col(Account.institution_id),
    col(Account.province),
    col(Account.staff_id),
    col(Account.active),
).join_from(AccessToken, Account, col(Account.id) == AccessToken.account_id)
_BY_DIGEST = _TOKEN_AND_ACCOUNT.where(col(AccessToken.token_hash) == bindparam("digest"))


def check_token(db: Session | Connection, token: str, now: datetime) -> Actor | str | None:
    """The actor ``token`` stands for; ``EXPIRED`` for a token past its time (the client should
    sign in again, or be given a new token); None for anything else. Read afresh on every call:
    a revoked token or a deactivated account is refused on the very next request (R-STAFF-4)."""
    conn = db.connection() if isinstance(db, Session) else db
    return _judge_token(conn.execute(_BY_DIGEST, {"digest": token_digest(token)}).first(), now)


def _judge_token(row: Any, now: datetime) -> Actor | str | None:
    if row is None:
        return None
    if row.revoked_at is not None or not row.active:
        return None
    if tokens.expires_at(row, row.role) <= now:
        return EXPIRED
    return Actor(row.account_id, row.username, row.role, row.institution_id, row.province, row.staff_id)


_AMONG_DIGESTS = _TOKEN_AND_ACCOUNT.add_columns(col(AccessToken.token_hash)).where(
    col(AccessToken.token_hash).in_(bindparam("digests", expanding=True))
)


def standing_among(db: Session | Connection, digests: Collection[str], now: datetime) -> dict[str, int]:
    """Of these token digests, the ones that still stand (the test of ``check_token``), each
    with its account: one read for many open sockets instead of one each (issue #18)."""
    if not digests:
        return {}
    conn = db.connection() if isinstance(db, Session) else db
    standing: dict[str, int] = {}
    for row in conn.execute(_AMONG_DIGESTS, {"digests": sorted(digests)}):
        actor = _judge_token(row, now)
        if isinstance(actor, Actor) and actor.account_id is not None:
            standing[row.token_hash] = actor.account_id
    return standing


def authenticate(db: Session, token: str, now: datetime) -> Actor | None:
    found = check_token(db, token, now)
    return found if isinstance(found, Actor) else None


def revoke_token(db: Session, token: str, by: Actor, now: datetime) -> None:
    tok = db.exec(select(AccessToken).where(AccessToken.token_hash == token_digest(token))).first()
    if tok is None:
        raise not_found("token")
    tokens.revoke(db, by, tok, now)


def login(
    db: Session, passwords: Passwords, username: str, password: str, now: datetime, address: str | None = None
) -> str:
    """A browser session for a username and password, within the sign-in limits (R-STAFF-4).

    A wrong answer is counted (examday/accounts/throttle.py) before the refusal is raised: the
    caller commits that record even though it refuses, since it is all that was written."""
    throttle.refuse_if_locked(db, throttle.PASSWORD, username, address, now)
    acc = db.exec(select(Account).where(Account.username == username)).first()
    ok = passwords.verify(acc.password_hash, password) if acc is not None else passwords.verify_nobody(password)
    if acc is None or not acc.active or not ok:
        lockout = throttle.record_failure(db, throttle.PASSWORD, username, address, now)
        raise lockout or Refusal("bad_credentials", "用户名或密码错误", "Wrong username or password.", "R-STAFF-4", 401)
    throttle.clear(db, throttle.PASSWORD, username, now)
    return issue_token(db, acc, now, kind="session")


def set_pin(
    db: Session, passwords: Passwords, account: Account, pin: str, now: datetime, old_pin: str | None = None
) -> None:
    """The examiner sets their signing PIN (R-SCORE-1). Replacing one takes the old PIN, so that
    whoever else holds the account's password (the office that made it) cannot re-key the
    examiner's signature; the office can only clear it, in the open (services/pins.py)."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise Refusal("invalid_pin", "PIN 须为 4 到 8 位数字", "A PIN is 4 to 8 digits.", "R-SCORE-1")
    replacing = account.pin_hash is not None
    if replacing:
        if not old_pin:
            raise Refusal(
                "old_pin_required",
                "更改签名密码须输入原签名密码",
                "Changing the signing PIN takes the old one (old_pin).",
                "R-SCORE-1",
            )
        holder = actor_of(account)
        throttle.refuse_if_locked(db, throttle.PIN, holder.username, None, now)
        if not passwords.verify(account.pin_hash, old_pin):
            # Guessing the old PIN here counts with guesses at signing: one bound for both. The
            # refusal rolls the request back, so the count is committed on its own first.
            db.rollback()
            lockout = throttle.record_failure(db, throttle.PIN, holder.username, None, now, holder)
            db.commit()
            raise lockout or Refusal("old_pin_wrong", "原签名密码错误", "Wrong old signing PIN.", "R-SCORE-1", 403)
        throttle.clear(db, throttle.PIN, account.username, now)
    account.pin_hash = passwords.hash(pin)
    db.add(account)
    audit.record(
        db,
        actor_of(account),
        "account.set_pin",
        "account",
        account.id,
        {"replaced": replacing},
        now,
        account.institution_id,
    )
