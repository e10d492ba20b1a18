"""What the exam day does to a part's score (到考与违纪): R-ID-1, R-DISC-1. Pure functions.

A part with sessions counts only for a candidate admitted to one of them; the others are
absent (缺考), whatever a file or an entry says. An incident on the exam-room record applies
its tier on its own: (a) that part's score is void (成绩无效), (b) that part is treated as
cheating (按作弊处理), (c) every part of the sitting is void. Cheating outranks void, void
outranks absent; the reason goes with the part to the results, the export and the public page.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from examday.plans.incidents import IncidentFact

ABSENT = "absent"
VOID = "void"
CHEATING = "cheating"
RANK = {CHEATING: 3, VOID: 2, ABSENT: 1}

TIER_TEXT = {
    "a": ("违纪：该科目成绩无效", "Incident: this part's score is void"),
    "b": ("违纪：该科目按作弊处理", "Incident: this part is treated as cheating"),
    "c": ("违纪：本次考试各科目成绩均无效", "Incident: every part of this sitting is void"),
}


@dataclass(frozen=True)
class Override:
    """A part's status decided by the exam day, and why."""

    status: str  # absent | void | cheating
    reason: dict[str, Any]


def _not_admitted() -> Override:
    return Override(
        ABSENT,
        {
            "code": "not_admitted",
            "rule": "R-ID-1",
            "message": "未入场（缺考）",
            "message_en": "Not admitted to this part's session (absent).",
        },
    )


def _incident(i: IncidentFact, part: str) -> Override:
    zh, en = TIER_TEXT[i.tier]
    status = CHEATING if i.cheating and part == i.part else VOID
    return Override(
        status,
        {
            "code": f"incident_{status}",
            "rule": "R-DISC-1",
            "tier": i.tier,
            "kind": i.kind,
            "incident_id": i.id,
            "message": zh,
            "message_en": en,
        },
    )


def overrides(
    parts: Sequence[str],
    parts_with_sessions: Collection[str],
    sat: Collection[str],
    incidents: Iterable[IncidentFact],
) -> dict[str, Override]:
    """Each part of one candidate the exam day decides, with its reason; parts it leaves alone are absent."""
    out: dict[str, Override] = {}

    def put(part: str, o: Override) -> None:
        if part not in out or RANK[o.status] > RANK[out[part].status]:
            out[part] = o

    for part in parts:
        if part in parts_with_sessions and part not in sat:
            put(part, _not_admitted())
    for i in incidents:
        for part in i.voided_parts:
            if part in parts:
                put(part, _incident(i, part))
    return out
