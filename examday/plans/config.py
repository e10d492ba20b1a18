"""A batch's exam-affairs values (考务参数): R-RATIO-1, R-TIME-1, R-SEAT-1 and the
scoring settings every later part reads.

RULES.md: these are defaults an institution may change while its plan is a
draft; the filed plan keeps the values it was filed with. So they are copied
into ``Batch.config`` when the batch is made and frozen with it when it is
filed — a later change of defaults never reaches an already filed plan.

Where provinces differ the stricter value is the default (profile
``strict``); an institution that picked its own province's profile gets the
national value for anything that province does not tighten.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from typing import Any

from examday.errors import Refusal

AGGREGATIONS = ("mean", "median", "trimmed_mean")
# R-SCORE-3: the pass mark is part of the record but nobody may move it.
PASS_MARK = 60

# R-TIME-1: "no entry later than 30 minutes after the start (some provinces: 15)".
PROFILE_OVERRIDES: dict[str, dict[str, Any]] = {
    "strict": {"entry_close_minutes": 15},
}


@dataclass(frozen=True)
class BatchConfig:
    # R-RATIO-1: theory rooms.
    proctors_per_theory_room: int = 2
    candidates_per_proctor: int = 15
    # R-RATIO-1: skill assessment (some occupational standards say 15).
    candidates_per_examiner: int = 5
    panel_min_examiners: int = 3
    # R-SEAT-1
    max_per_theory_room: int = 30
    # R-TIME-1, minutes relative to a session's start.
    entry_open_minutes: int = 30
    entry_close_minutes: int = 30
    no_handin_minutes: int = 30
    # R-SCORE-3 and the panel's aggregation (scoring reads these).
    pass_mark: int = PASS_MARK
    aggregation: str = "mean"
    spread_tolerance: int = 10
    # Which profile the defaults were taken from, kept for the record.
    profile: str = "national"

    # -- construction ---------------------------------------------------------

    @classmethod
    def defaults(cls, profile: str = "strict") -> BatchConfig:
        base = cls(profile=profile or "strict")
        return replace(base, **PROFILE_OVERRIDES.get(base.profile, {}))

    @classmethod
    def from_json(cls, text: str | dict | None) -> BatchConfig:
        """Read a stored config; keys a newer or older version wrote are tolerated.

        A stored plan without a value gets the national default, not today's
        institution default: the filed values are what they were.
        """
        if isinstance(text, str) and cls is BatchConfig:
            return _stored(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str | dict | None) -> BatchConfig:
        data = json.loads(text) if isinstance(text, str) and text.strip() else (text or {})
        if not isinstance(data, dict):
            data = {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, overrides: dict[str, Any] | None) -> BatchConfig:
        """This config with an institution's changes, or a Refusal naming every bad key."""
        if not overrides:
            return self
        if not isinstance(overrides, dict):
            raise _invalid([{"key": None, "reason": "not_an_object"}])
        problems = []
        types = {f.name: f.type for f in fields(self)}
        for key, value in overrides.items():
            reason = _problem(key, value, types)
            if reason:
                problems.append({"key": key, "reason": reason})
        if problems:
            raise _invalid(problems)
        return replace(self, **{k: v for k, v in overrides.items() if k != "profile"})


_POSITIVE = {
    "proctors_per_theory_room",
    "candidates_per_proctor",
    "candidates_per_examiner",
    "panel_min_examiners",
    "max_per_theory_room",
}
_NON_NEGATIVE = {"entry_open_minutes", "entry_close_minutes", "no_handin_minutes", "spread_tolerance"}


def _problem(key: str, value: Any, types: dict[str, Any]) -> str | None:
    if key not in types:
        return "unknown_key"
    if key == "profile":
        return "read_only"
    if key == "aggregation":
        return None if value in AGGREGATIONS else "not_one_of:" + ",".join(AGGREGATIONS)
    # bool is an int in Python; a checkbox's true must not become 1 proctor.
    if isinstance(value, bool) or not isinstance(value, int):
        return "not_an_integer"
    if key == "pass_mark" and value != PASS_MARK:
        return "pass_mark_fixed"  # R-SCORE-3
    if key in _POSITIVE and value < 1:
        return "must_be_positive"
    if key in _NON_NEGATIVE and value < 0:
        return "must_not_be_negative"
    if key in ("entry_open_minutes", "entry_close_minutes", "no_handin_minutes") and value > 240:
        return "too_large"
    return None


def _invalid(problems: list[dict[str, Any]]) -> Refusal:
    keys = "、".join(str(p["key"]) for p in problems)
    return Refusal(
        "invalid_config",
        f"考务参数无效：{keys}",
        f"Invalid exam-affairs settings: {', '.join(str(p['key']) for p in problems)}.",
        "R-RATIO-1",
        422,
        {"errors": problems},
    )


@lru_cache(maxsize=256)
def _stored(text: str) -> BatchConfig:
    # Read for every live event and check-in: parsed once per stored text (frozen, so shared), and
    # a changed plan is another key, so nothing stale is ever read.
    return BatchConfig._parse(text)
