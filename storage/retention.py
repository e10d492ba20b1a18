"""Retention classes and the purge decision (档案保存期限).

R-VIDEO-1: whole-process exam video is kept at least 1 year (Jilin, 004 art.
11) or at least 5 years (Sichuan, 002 §3(三)).
R-SCORE-2: candidates' answers, examiners' signed scoring records and the
candidates' work or photos of it are kept at least 1 year (004 arts. 21–22).
R-ARCH-1: paper records at least 3 years, electronic records at least 5 years
(001 art. 11; 002 §3(三)); the key documents — registration forms, pledges,
sign-in sheets, exam-room records, score summaries, quality-supervision forms
— are scanned and kept permanently (002 §3(三)).

Only R-VIDEO-1 varies by province, so a profile differs from another only in
its video period; every other class follows the common rules. The default
profile, ``strict``, is computed as the longest period of every class over
the provinces, so it can never fall behind any of them.

A record is kept through its expiry date and may be purged from the next day:
"at least N years" is honoured to the day, and a day late is the safe side.
Purging is only ever decided by these periods, never by disk space: a full
disk raises an alert (:func:`disk_alert`) for a person to act on.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from storage.errors import Refusal


class RetentionClass(StrEnum):
    """What kind of record a thing is, for how long it must be kept."""

    EXAM_VIDEO = "exam_video"  # 考试全过程视频
    CANDIDATE_ANSWERS = "candidate_answers"  # 考生答题信息、考件实物及图片
    SCORING_RECORDS = "scoring_records"  # 考评人员签字的评分材料
    ELECTRONIC_RECORDS = "electronic_records"  # 电子资料
    PAPER_SCANS = "paper_scans"  # 纸质资料 (and their scans)
    KEY_DOCUMENTS = "key_documents"  # 关键节点材料, kept permanently


@dataclass(frozen=True, slots=True)
class Period:
    """A whole number of calendar years.

    Works like ``relativedelta(years=n)``: ``date + Period(1)``. 29 February
    lands on 28 February in a common year, as relativedelta does, so the
    expiry stays in the month the record was made.
    """

    years: int

    def after(self, start: date) -> date:
        year = start.year + self.years
        day = min(start.day, calendar.monthrange(year, start.month)[1])
        return start.replace(year=year, day=day)

    def __radd__(self, other: date) -> date:
        if isinstance(other, date):
            return self.after(other)
        return NotImplemented


PERMANENT = None  # in a profile table: never purged

_COMMON: dict[RetentionClass, int | None] = {
    RetentionClass.CANDIDATE_ANSWERS: 1,  # R-SCORE-2
    RetentionClass.SCORING_RECORDS: 1,  # R-SCORE-2
    RetentionClass.ELECTRONIC_RECORDS: 5,  # R-ARCH-1
    RetentionClass.PAPER_SCANS: 3,  # R-ARCH-1
    RetentionClass.KEY_DOCUMENTS: PERMANENT,  # R-ARCH-1
}

# R-VIDEO-1. Fujian names no video period of its own; its video is electronic
# process material, which 001 art. 11 keeps at least 5 years.
_PROVINCE_VIDEO_YEARS = {"jilin": 1, "sichuan": 5, "fujian": 5}


def _longest(values: Iterable[int | None]) -> int | None:
    values = list(values)
    return PERMANENT if PERMANENT in values else max(values)  # type: ignore[type-var]


def _build_profiles() -> Mapping[str, Mapping[RetentionClass, int | None]]:
    provinces = {name: {RetentionClass.EXAM_VIDEO: video, **_COMMON} for name, video in _PROVINCE_VIDEO_YEARS.items()}
    strict = {cls: _longest(p[cls] for p in provinces.values()) for cls in RetentionClass}
    table = {"strict": strict, **provinces}
    return MappingProxyType({name: MappingProxyType(dict(p)) for name, p in table.items()})


# Years kept per class and profile; None means permanent.
PROFILES = _build_profiles()
DEFAULT_PROFILE = "strict"


def period(cls: RetentionClass | str, profile: str = DEFAULT_PROFILE) -> Period | None:
    """How long a record of ``cls`` is kept under ``profile``; None = permanent."""
    years = _profile(profile)[_class(cls)]
    return None if years is PERMANENT else Period(years)


def expires_on(cls: RetentionClass | str, profile: str, created: date) -> date | None:
    """The last day a record created on ``created`` must be kept; None = never expires."""
    p = period(cls, profile)
    return None if p is None else p.after(created)


# The purge walks millions of these: named tuples are immutable like frozen
# dataclasses and several times cheaper to build.
class PurgeCandidate(NamedTuple):
    """Something the purge may delete: a segment, a blob, a scan."""

    kind: str
    id: str
    cls: RetentionClass | str
    created: date
    held: bool = False  # legal hold (e.g. an objection or an inquiry): kept whatever its age


# Reason codes are stable: the purge command prints them and the audit log keeps them.
REASON_PERMANENT = "permanent"
REASON_HELD = "legal_hold"
REASON_NOT_EXPIRED = "not_expired"
REASON_EXPIRED = "expired"


class PurgeDecision(NamedTuple):
    id: str
    purge: bool
    reason: str
    kind: str = ""
    expires_on: date | None = None


def iter_purge_decisions(items: Iterable[PurgeCandidate], profile: str, today: date) -> Iterator[PurgeDecision]:
    """One decision per item, lazily, so a season of segments needs no list.

    Never purges a permanent, held or unexpired item (R-VIDEO-1, R-SCORE-2,
    R-ARCH-1); an item is purged only from the day after its expiry date.
    """
    table = _profile(profile)
    # Items arrive by the million but share a few classes and creation days:
    # each (class, day) expiry is computed once.
    expiry: dict[tuple[str, date], date | None] = {}
    for item in items:
        key = (item.cls, item.created)
        try:
            end = expiry[key]
        except KeyError:
            years = table[_class(item.cls)]
            end = expiry[key] = None if years is PERMANENT else Period(years).after(item.created)
        if end is None:
            yield PurgeDecision(item.id, False, REASON_PERMANENT, item.kind, None)
        elif item.held:
            yield PurgeDecision(item.id, False, REASON_HELD, item.kind, end)
        elif today <= end:
            yield PurgeDecision(item.id, False, REASON_NOT_EXPIRED, item.kind, end)
        else:
            yield PurgeDecision(item.id, True, REASON_EXPIRED, item.kind, end)


def decide_purge(items: Iterable[PurgeCandidate], profile: str, today: date) -> list[PurgeDecision]:
    """The purge decisions for ``items`` (see :func:`iter_purge_decisions`)."""
    return list(iter_purge_decisions(items, profile, today))


def disk_alert(free_bytes: int, total_bytes: int, threshold: float = 0.1) -> bool:
    """True when free space is below ``threshold`` of the disk.

    Only an alert: deleting records early to make room would break R-VIDEO-1
    and R-ARCH-1, so a full disk is for a person to fix (more storage), never
    a reason to purge. A disk whose size cannot be read raises the alert too.
    """
    if total_bytes <= 0:
        return True
    return free_bytes < threshold * total_bytes


def _profile(name: str) -> Mapping[RetentionClass, int | None]:
    try:
        return PROFILES[name]
    except KeyError:
        raise Refusal(
            "unknown_retention_profile",
            f"未知的保存期限配置：{name}",
            f"Unknown retention profile {name!r}; known: {', '.join(PROFILES)}.",
            "R-ARCH-1",
            detail={"profile": name, "known": list(PROFILES)},
        ) from None


def _class(cls: RetentionClass | str) -> RetentionClass:
    try:
        return RetentionClass(cls)
    except ValueError:
        raise Refusal(
            "unknown_retention_class",
            f"未知的保存类别：{cls}",
            f"Unknown retention class {cls!r}.",
            "R-ARCH-1",
            detail={"class": str(cls)},
        ) from None
