"""Helpers for tests: make accounts and tokens through the real services."""

from __future__ import annotations

from sqlmodel import Session

from examday.accounts.services.accounts import create_account, issue_token
from examday.actor import SYSTEM
from examday.registry.models import Institution

DEMO_USCC = "91350200776049653A"
OTHER_USCC = "91440101MA5CJQ4N59"


class World:
    def __init__(self, app, engine, clock) -> None:
        self.app, self.engine, self.clock = app, engine, clock

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
    ) -> str:
        with Session(self.engine, expire_on_commit=False) as db:
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
            tok = issue_token(db, acc, self.clock.now(), by=SYSTEM)
            db.commit()
            return tok


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refusal(resp, status: int, code: str, rule: str | None = ...) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert body["message"] and body["message_en"], body
    assert set(body) >= {"code", "message", "message_en", "rule", "detail"}
    if rule is not ...:
        assert body["rule"] == rule, body
    return body
