"""Helpers for tests: make accounts and tokens through the real services."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session

from examday.accounts.services.accounts import create_account, issue_token
from examday.accounts.services.tokens import TokenLifetimes
from examday.actor import SYSTEM
from examday.identity import make_id_number
from examday.registry.models import Institution, Staff
from examday.settings import Settings

DEMO_USCC = "91350200776049653A"
OTHER_USCC = "91440101MA5CJQ4N59"
# A password the policy accepts (examday/accounts/password_policy.py, R-STAFF-4).
STRONG_PASSWORD = "teal-harbour-lantern-42"
# The test world's tokens outlive the days a test moves its clock through (filing weeks ahead,
# locking after publicity); the tests of expiry pass the installation's lifetimes themselves.
TEST_LIFETIMES = TokenLifetimes(machine=timedelta(days=400), person=timedelta(days=400))


class World:
    def __init__(self, app, engine, clock) -> None:
        self.app, self.engine, self.clock = app, engine, clock
        self._examiners = 0

    def institution(self, uscc: str = DEMO_USCC, name: str = "示范职业技能评价中心", province: str = "吉林") -> int:
        with Session(self.engine) as db:
            inst = Institution(name=name, uscc=uscc, province=province, created_at=self.clock.now())
            db.add(inst)
            db.commit()
            return inst.id

    def token(
        self,
        username: str,
        role: str,
        institution_id: int | None = None,
        province: str | None = None,
        staff_id: int | None = None,
        password: str | None = None,
        lifetimes: TokenLifetimes = TEST_LIFETIMES,
    ) -> str:
        with Session(self.engine, expire_on_commit=False) as db:
            if role in ("evaluator", "chief") and staff_id is None and institution_id is not None:
                # R-SCORE-1: a scoring account acts only as one of its institution's examiners.
                staff_id = self._examiner(db, institution_id, username)
            acc = create_account(
                db,
                SYSTEM,
                self.clock.now(),
                self.app.state.passwords,
                username,
                role,
                institution_id,
                province,
                staff_id,
                password,
            )
            tok = issue_token(db, acc, self.clock.now(), by=SYSTEM, lifetimes=lifetimes)
            db.commit()
            return tok

    def _examiner(self, db: Session, institution_id: int, username: str) -> int:
        self._examiners += 1
        born = date(1970, 1, 1) + timedelta(days=self._examiners * 131)
        person = Staff(
            institution_id=institution_id,
            name=f"考评员{self._examiners}",
            roles="examiner",
            id_number=make_id_number(born, seq=self._examiners % 900 + 100),
            full_time=True,
            skill_level=1,
            title="senior",
            examiner_card_valid_until=date(2030, 12, 31),
            occupations="6-31-01-03",
        )
        db.add(person)
        db.flush()
        assert person.id is not None
        return person.id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def page_refusal(resp) -> dict:
    """The refusal an HTML error page shows (examday/templates/error.html, issue #16), as the API's
    body: pages answer refusals with a page; the API (``/api/``) never does."""
    import html
    import re

    assert not resp.request.url.path.startswith("/api/"), f"the API answered with a page: {resp.text[:200]}"
    text = resp.text
    message = re.search(r'<h1 class="refusal">(.*?)</h1>', text, re.S)
    message_en = re.search(r'<p lang="en"><small>(.*?)</small></p>', text, re.S)
    rule = re.search(r'<span class="rule">.*?<code class="code">(.*?)</code>', text, re.S)
    return {
        "code": resp.headers.get("x-refusal-code"),
        "message": html.unescape(message.group(1).strip()) if message else "",
        "message_en": html.unescape(message_en.group(1).strip()) if message_en else "",
        "rule": rule.group(1) if rule else None,
        "detail": {},
    }


def assert_refusal(resp, status: int, code: str, rule: str | None = ...) -> dict:
    assert resp.status_code == status, resp.text
    body = page_refusal(resp) if resp.headers.get("content-type", "").startswith("text/html") else resp.json()
    assert body["code"] == code, body
    assert body["message"] and body["message_en"], body
    assert set(body) >= {"code", "message", "message_en", "rule", "detail"}
    if rule is not ...:
        assert body["rule"] == rule, body
    return body


def run_coroutine(coro) -> None:
    """``asyncio.run`` in a thread of its own: a pytest-xdist worker that ran a browser test keeps
    Playwright's event loop running in its main thread, where ``asyncio.run`` is refused."""
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        import asyncio

        try:
            asyncio.run(coro)
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def fast_settings(url: str, data_dir: Path) -> Settings:
    """An installation's settings for tests: fixed secrets and a cheap password hash."""
    return Settings(
        database_url=url,
        data_dir=data_dir,
        hook_secret="test-hook-secret",
        secret_key="test-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
