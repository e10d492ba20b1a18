"""Refusals: the one shape every rejected request takes.

DESIGN.md: a refused request answers with a stable snake_case ``code``, a
message in Chinese and English, and the rule ID it enforces. Raising a
``Refusal`` anywhere below a handler rolls back the transaction, so a refused
command changes nothing.

The type lives at the bottom layer so that storage's own refusals (retention
profiles, holds, the video store) are the very class the web layer catches;
:mod:`examday.errors` re-exports it for everyone above.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request the rules do not allow (拒绝), with its reason."""

    def __init__(
        self,
        code: str,
        message: str,
        message_en: str,
        rule: str | None = None,
        status: int = 422,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message = message
        self.message_en = message_en
        self.rule = rule
        self.status = status
        self.detail = detail or {}

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "rule": self.rule,
            "detail": self.detail,
        }


def forbidden(message_en: str = "This role or institution may not do this.") -> Refusal:
    return Refusal("forbidden", "无权执行此操作", message_en, None, 403)


def not_found(what: str = "object") -> Refusal:
    return Refusal("not_found", "对象不存在", f"No such {what}.", None, 404)


def conflict(code: str, message: str, message_en: str, rule: str | None = None, **detail: Any) -> Refusal:
    return Refusal(code, message, message_en, rule, 409, detail)
