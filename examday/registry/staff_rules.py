"""Staff rules, pure: roles and qualifications of the people who work an exam
(工作人员), and their declared conflicts of interest (回避事由).

Rules: R-STAFF-2 (examiners hold level 3 or a mid title, level 1 or a senior
title for levels 2 and 1; examiners and internal quality supervisors carry a
valid examiner card), R-STAFF-3 (trainers are never proctors), R-RECUSE-1
(an examiner stands aside from relatives, colleagues and trainees).

Decision: creating a staff record refuses every violation found on that day.
A card that runs out later is not a reason to lose the record; the staff list
shows it as a flag (the same check on a later day), and the panel check in
scoring re-checks each examiner against the batch's level and date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from examday.levels import assessed_as
from examday.registry.violation import LEVELS, OCCUPATION_CODE, Violation, as_set, get

STAFF_ROLES = ("examiner", "proctor", "supervisor", "staff")
TITLES = ("none", "mid", "senior")
CONFLICT_KINDS = ("relative", "colleague", "trained")


def examiner_qualified_for_level(skill_level: int | None, title: str | None, level: int) -> bool:
    """R-STAFF-2: level 3 or a mid title examines levels 5-3; levels 2 and 1 need level 1 or a senior title.

    An enterprise tier (R-LEVEL) takes the examiners of the level it is assessed as:
    学徒工 those of level 5, 特级技师 and 首席技师 those of level 1. ``skill_level`` is the
    national level the examiner holds (1-5): a tier is not a qualification here.
    """
    if assessed_as(level) <= 2:
        return skill_level == 1 or title == "senior"
    return (skill_level is not None and skill_level <= 3) or title in ("mid", "senior")


def staff_violations(staff: Any, today: date) -> list[Violation]:
    """Problems with a staff record on ``today``.

    Creation refuses any of them. Later, a card that has run out shows up as
    a flag on the staff list (the same check on a later day); panels
    re-check the examiner per batch level.
    """
    out: list[Violation] = []
    roles = as_set(get(staff, "roles"))
    level = get(staff, "skill_level")
    title = get(staff, "title") or "none"
    card = get(staff, "examiner_card_valid_until")
    if not roles:
        out.append(Violation("roles_required", None, "须至少选择一个岗位", "At least one role is needed."))
    unknown = sorted(roles - set(STAFF_ROLES))
    if unknown:
        out.append(
            Violation(
                "invalid_staff_role",
                None,
                "岗位须为考评员、监考员、督导员或工作人员",
                "A staff role is examiner, proctor, supervisor or staff.",
                {"roles": unknown},
            )
        )
    if title not in TITLES:
        out.append(
            Violation(
                "invalid_title",
                "R-STAFF-2",
                "职称须为无、中级或高级",
                "A title is none, mid or senior.",
                {"title": title},
            )
        )
    if level is not None and (isinstance(level, bool) or level not in LEVELS):
        out.append(
            Violation(
                "invalid_skill_level",
                "R-LEVEL",
                "技能等级须为1至5级",
                "A skill level is 1 to 5.",
                {"skill_level": level},
            )
        )
        level = None
    # R-STAFF-3: trainers (培训师资) are never proctors.
    if "proctor" in roles and get(staff, "is_trainer"):
        out.append(
            Violation(
                "trainer_cannot_proctor", "R-STAFF-3", "培训师资不得担任监考人员", "A trainer may never be a proctor."
            )
        )
    if "examiner" in roles:
        # R-STAFF-2: level 3 (高级工) or a mid-level title or above.
        if not examiner_qualified_for_level(level, title, 3):
            out.append(
                Violation(
                    "examiner_not_qualified",
                    "R-STAFF-2",
                    "考评员须具有高级工（三级）及以上技能等级或中级及以上专业技术职称",
                    "An examiner holds level 3 or above, or a mid-level professional title or above.",
                )
            )
        if not as_set(get(staff, "occupations")):
            out.append(
                Violation(
                    "examiner_occupations_required",
                    "R-STAFF-2",
                    "考评员须填写可考评的职业",
                    "An examiner lists the occupations they examine.",
                )
            )
    if roles & {"examiner", "supervisor"}:
        # R-STAFF-2: examiners and internal quality supervisors work with a valid card (持证上岗).
        if card is None:
            out.append(
                Violation(
                    "examiner_card_required",
                    "R-STAFF-2",
                    "考评员和内部质量督导员须持有效考评员证",
                    "Examiners and quality supervisors need a valid examiner card.",
                )
            )
        elif card < today:
            out.append(
                Violation(
                    "examiner_card_expired",
                    "R-STAFF-2",
                    f"考评员证已于{card.isoformat()}过期",
                    f"The examiner card expired on {card.isoformat()}.",
                    {"valid_until": card.isoformat()},
                )
            )
    for code in sorted(as_set(get(staff, "occupations"))):
        if not OCCUPATION_CODE.match(code):
            out.append(
                Violation(
                    "invalid_occupation_code",
                    "R-INST-3",
                    "职业编码格式应如 6-31-01-03",
                    "An occupation code looks like 6-31-01-03.",
                    {"occupation_code": code},
                )
            )
    return out


# -- conflicts of interest (R-RECUSE-1) ----------------------------------------


def conflict_violations(
    kind: str, candidate_id: int | None, employer: str | None, training_org: str | None
) -> list[Violation]:
    """A declaration names one candidate, or one employer, or one training organisation."""
    if kind not in CONFLICT_KINDS:
        return [
            Violation(
                "invalid_conflict_kind",
                "R-RECUSE-1",
                "回避事由须为亲属、同单位或培训关系",
                "A conflict is relative, colleague or trained.",
                {"kind": kind},
            )
        ]
    targets = [t for t in (candidate_id, (employer or "").strip(), (training_org or "").strip()) if t]
    if len(targets) != 1:
        return [
            Violation(
                "conflict_target_required",
                "R-RECUSE-1",
                "须且只能填写一名考生、一个单位或一个培训机构",
                "Name exactly one candidate, or one employer, or one training organisation.",
            )
        ]
    allowed = {
        "relative": ("candidate",),
        "colleague": ("candidate", "employer"),
        "trained": ("candidate", "training_org"),
    }[kind]
    given = "candidate" if candidate_id else ("employer" if (employer or "").strip() else "training_org")
    if given not in allowed:
        return [
            Violation(
                "conflict_target_mismatch",
                "R-RECUSE-1",
                "亲属关系须指明考生；同单位可指明考生或单位；培训关系可指明考生或培训机构",
                "A relative is one candidate; a colleague a candidate or an employer; "
                "trained a candidate or a training organisation.",
                {"kind": kind, "target": given},
            )
        ]
    return []


def conflicts_with(
    conflicts: Sequence[Any], candidate_id: int | None, employer: str | None, training_org: str | None
) -> list[Any]:
    """R-RECUSE-1: the declared conflicts that make an examiner stand aside from this candidate."""
    emp, org = (employer or "").strip(), (training_org or "").strip()
    hits = []
    for c in conflicts:
        if (
            (get(c, "candidate_id") is not None and get(c, "candidate_id") == candidate_id)
            or (emp and (get(c, "employer") or "").strip() == emp)
            or (org and (get(c, "training_org") or "").strip() == org)
        ):
            hits.append(c)
    return hits
