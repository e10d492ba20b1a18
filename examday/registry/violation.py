"""The shape of a broken registry rule and the formats the pure rule modules share.

A check returns a list of ``Violation`` so a caller can show every problem at
once; ``refusal`` turns the list into the one refusal a request gets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from examday.errors import Refusal
from examday.levels import NATIONAL_LEVELS

# R-LEVEL: the five national levels, 5 初级工 … 1 高级技师 (names and enterprise tiers: examday.levels).
LEVELS = NATIONAL_LEVELS
# R-INST-3: 职业分类大典 codes, major group 1-8 then three two-digit groups (6-31-01-03).
OCCUPATION_CODE = re.compile(r"^[1-8]-\d{2}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Violation:
    code: str
    rule: str | None
    message: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)
    status: int = 422  # 409 when the current state, not the input, is the problem

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "message_en": self.message_en,
            "detail": self.detail,
        }


def refusal(violations: Sequence[Violation]) -> Refusal:
    """One refusal for a non-empty list: the first problem names it, ``detail.violations`` lists all."""
    first = violations[0]
    return Refusal(
        first.code,
        first.message,
        first.message_en,
        first.rule,
        first.status,
        {**first.detail, "violations": [v.as_dict() for v in violations]},
    )


def check(violations: Sequence[Violation]) -> None:
    if violations:
        raise refusal(violations)


def get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def as_set(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {v.strip() for v in value.split(",") if v.strip()}
    return {str(v).strip() for v in value if str(v).strip()}
