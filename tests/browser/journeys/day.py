"""Who is who on the journey's exam day, and what each one's results must say.

Eight candidates on the office's list. The seats they draw decide who does what: the four of T01
(the room proctor1 watches) are the ones the desk checks in and the proctor records, each with an
incident of another tier or none; one of T02 never comes (R-ID-1). What the exam day does to a
part follows ``scoring/outcome.py`` (R-DISC-1): tier (a) voids that part (无效), tier (b) treats it
as cheating (作弊), tier (c) voids every part of the sitting; a part not sat is absent (缺考).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from examday.clock import CST
from tests.browser.journeys.conftest import sign_in
from tests.integration.examday.plans_world import person as candidate_person

# The list the office imports: name and ID number.
PEOPLE = [candidate_person(k) for k in range(1, 9)]
SCORERS = [("evaluator1", "1357"), ("evaluator2", "2468"), ("chief1", "3690")]


@dataclass(frozen=True)
class Profile:
    theory: str  # what the exam system's file says
    skill: tuple[int, int, int] | None  # each examiner's total; None: not at the skill part
    theory_cell: str  # what the results say of each part
    skill_cell: str
    result: str
    incident: str | None = None  # the incident kind the proctor records in the theory session


PROFILES = {
    # T01, in seat order: the desk checks all four in; the proctor records three of them.
    "a": Profile("85", (80, 82, 78), "85.0", "80.0", "pass"),
    "b": Profile("0", (70, 71, 69), "作弊", "70.0", "cheating", "copying"),  # (b); the system voids the paper: 0
    "v": Profile("76", (65, 66, 64), "无效", "65.0", "void", "leaving_without_leave"),  # (a): theory void
    "c": Profile("88", None, "无效", "无效", "void", "using_electronic_device"),  # (c): the sitting void, sent home
    # T02: one never comes; the others come through the door.
    "x": Profile("缺考", None, "缺考", "缺考", "absent"),  # no-show: absent from both parts
    "f": Profile("72.5", (55, 58, 57), "72.5", "56.7", "fail"),
    "s": Profile("90", (60, 75, 68), "90.0", "67.7", "pass"),  # spreads 15 > 10: the chief settles it
    "p": Profile("63", (61, 62, 63), "63.0", "62.0", "pass"),
}
T01_ROLES = ("a", "b", "v", "c")
T02_ROLES = ("x", "f", "s", "p")
INCIDENT_WORDS = {
    "copying": ("抄袭他人答案", "b", "违纪：该科目按作弊处理"),
    "leaving_without_leave": ("未经许可擅自离开考场", "a", "违纪：该科目成绩无效"),
    "using_electronic_device": ("使用电子设备作弊", "c", "违纪：本次考试各科目成绩均无效"),
}
ABSENT_WORDS = "未入场（缺考）"


def cast(seats: list[tuple[str, object]]) -> dict[str, int]:
    """Role → candidate index, from the seats drawn: T01's four and T02's four in seat order."""
    t01 = [i for _, i in sorted((seat, i) for i, (room, seat) in enumerate(seats) if room == "T01")]
    t02 = [i for _, i in sorted((seat, i) for i, (room, seat) in enumerate(seats) if room == "T02")]
    assert len(t01) == len(t02) == 4, seats  # R-DAY-2: a balanced fill of two rooms of 30
    return {**dict(zip(T01_ROLES, t01)), **dict(zip(T02_ROLES, t02))}


def profiles(facts: dict) -> list[Profile]:
    """Each candidate's profile, in the office's list order."""
    role_of = {i: r for r, i in facts["role"].items()}
    return [PROFILES[role_of[i]] for i in range(len(PEOPLE))]


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=CST)


def items_of(total: int) -> list[str]:
    """A total split over the rubric A1 (20) / A2 (50) / A3 (30)."""
    a1, a2 = total // 5, total // 2
    return [str(a1), str(a2), str(total - a1 - a2)]


def scores_page(page, story) -> None:
    page.goto(story.at(f"/office/batches/{story.facts['bid']}"))
    if "/login" in page.url:
        sign_in(page, story, "office")
    page.click("#scores-link")
    page.wait_for_url(re.compile(r"/scores$"))


def cell(page, cid: int, part: str) -> str:
    return page.inner_text(f"#scores tr[data-candidate='{cid}'] td[data-part='{part}']").split()[0]
