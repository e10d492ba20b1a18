"""Evaluation panels and recusal: who may score a batch and a candidate (考评组).

Rules enforced here:

- R-PANEL-1 — each occupation of a batch has a panel of 3 or more examiners,
  an odd number, qualified for that occupation and level; the panel alone
  scores the batch.
- R-STAFF-2 — an examiner holds level 3 (高级工) or a mid-level title or above;
  for levels 2 and 1, level 1 (高级技师) or a senior title; and a valid
  examiner card on the exam day. Levels follow R-LEVEL: a lower number is a
  higher level.
- R-RECUSE-1 — an examiner stands aside (回避) from a candidate who is a
  relative, works or worked at the same employer, or was trained by the
  examiner for this assessment.
- R-RATIO-1 — at least one examiner per 5 candidates (the ratio is stored per
  occupation, so it is an argument).

Recusal and odd panels: when recusal leaves a candidate with an even number
of scorers, or fewer than 3, this module reports ``panel_recusal_breaks_odd``
rather than dropping another examiner. Dropping an unconflicted examiner would
be an arbitrary choice the rules do not make, and would change who scores
whom after the fact; the conflict is known when the plan is filed, so the
institution can add or swap an examiner before the exam.

Every check returns all its violations at once, so a plan is fixed in one
pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from examday.levels import ALL_LEVELS, NATIONAL_LEVELS, level_label, level_label_en

MIN_PANEL = 3
VALID_LEVELS = frozenset(NATIONAL_LEVELS)  # what an examiner can hold (R-STAFF-2)
# What a batch can be at: the five levels and an enterprise's tiers (R-LEVEL), each judged as the
# level it is assessed as (学徒工 as 5, 特级技师 and 首席技师 as 1).
BATCH_LEVELS = frozenset(ALL_LEVELS)
EXAMINER_ROLE = "examiner"


@dataclass(frozen=True)
class Violation:
    """One broken rule, in the shape a ``plan_rejected`` refusal lists."""

    code: str
    rule: str | None
    message: str
    message_en: str
    staff_id: Any = None
    candidate_id: Any = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "message_en": self.message_en,
        }
        if self.staff_id is not None:
            body["staff_id"] = self.staff_id
        if self.candidate_id is not None:
            body["candidate_id"] = self.candidate_id
        if self.detail:
            body["detail"] = dict(self.detail)
        return body


@dataclass(frozen=True)
class Examiner:
    """A staff member proposed for a panel, with their qualifications (考评员)."""

    staff_id: Any
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    skill_level: int | None = None
    title: str = "none"
    card_valid_until: date | None = None
    occupations: frozenset[str] = field(default_factory=frozenset)
    is_trainer: bool = False
    employer: str | None = None
    # R-RECUSE-1 says "works or worked": earlier employers count too.
    former_employers: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CandidateTie:
    """What links a candidate to people who might score them."""

    candidate_id: Any
    employer: str | None = None
    # Kept for the record and for proctor checks (R-STAFF-3); recusal uses trained_by.
    training_org: str | None = None
    relatives: frozenset[Any] = field(default_factory=frozenset)
    trained_by: frozenset[Any] = field(default_factory=frozenset)
    former_employers: frozenset[str] = field(default_factory=frozenset)
    # Staff declared as (former) colleagues of this candidate, where the
    # employer names alone would not show it (a conflict entered by hand).
    colleagues: frozenset[Any] = field(default_factory=frozenset)


def _valid_level(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in VALID_LEVELS


def qualified_for_level(examiner: Examiner, batch_level: int) -> bool:
    """R-STAFF-2: the skill level or professional title an examiner needs.

    A skill level outside 1–5 counts as none, so a stray 0 cannot pass as
    "higher than 高级技师".
    """
    skill = examiner.skill_level if _valid_level(examiner.skill_level) else None
    if batch_level <= 2:
        return skill == 1 or examiner.title == "senior"
    return (skill is not None and skill <= 3) or examiner.title in ("mid", "senior")


def card_valid_on(examiner: Examiner, exam_date: date) -> bool:
    """R-STAFF-2: the card must still be valid on the exam day (the last day counts)."""
    return examiner.card_valid_until is not None and examiner.card_valid_until >= exam_date


def _v(code: str, rule: str | None, zh: str, en: str, staff_id: Any = None, candidate_id: Any = None) -> Violation:
    return Violation(code, rule, zh, en, staff_id, candidate_id)


def panel_violations(
    examiners: Sequence[Examiner],
    chief_id: Any,
    batch_level: int,
    occupation_code: str,
    exam_date: date,
    *,
    candidate_count: int | None = None,
    candidates_per_examiner: int = 5,
) -> list[Violation]:
    """Every reason this panel may not score this batch; empty when it may.

    Panel-wide problems come first, then each examiner's in the order given.
    Size and parity are counted over distinct people: a duplicate is reported
    and counted once.
    """
    out: list[Violation] = []
    counts = Counter(e.staff_id for e in examiners)
    for staff_id, n in counts.items():
        if n > 1:
            out.append(
                _v(
                    "duplicate_examiner",
                    "R-PANEL-1",
                    f"考评员重复列入考评组（{n}次）",
                    f"Examiner listed {n} times in the panel.",
                    staff_id,
                )
            )
    size = len(counts)
    # R-PANEL-1: 3 or more, an odd number. A panel of 2 breaks both halves.
    if size < MIN_PANEL:
        out.append(
            _v(
                "panel_too_small",
                "R-PANEL-1",
                f"考评组仅{size}人，须不少于3人",
                f"The panel has {size} examiners; it needs at least 3.",
            )
        )
    if size % 2 == 0:
        out.append(
            _v(
                "panel_even",
                "R-PANEL-1",
                f"考评组为{size}人，须为单数",
                f"The panel has {size} examiners; it needs an odd number.",
            )
        )
    if chief_id is None or chief_id not in counts:
        out.append(
            _v(
                "chief_not_member",
                "R-PANEL-1",
                "主考（考评组长）须为考评组成员",
                "The chief examiner must be a member of the panel.",
                chief_id,
            )
        )
    # R-RATIO-1: at least one examiner per N candidates.
    if candidate_count is not None and size * candidates_per_examiner < candidate_count:
        needed = -(-candidate_count // candidates_per_examiner)
        out.append(
            _v(
                "examiner_ratio",
                "R-RATIO-1",
                f"{candidate_count}名考生至少需要{needed}名考评员（1:{candidates_per_examiner}）",
                f"{candidate_count} candidates need at least {needed} examiners (1 per {candidates_per_examiner}).",
            )
        )
    level_ok = isinstance(batch_level, int) and not isinstance(batch_level, bool) and batch_level in BATCH_LEVELS
    if not level_ok:
        out.append(
            _v(
                "level_invalid",
                "R-LEVEL",
                f"等级{batch_level!r}无效，应为5、4、3、2、1或企业设立的学徒工、特级技师、首席技师",
                f"Level {batch_level!r} is not one of 5, 4, 3, 2, 1 or an enterprise tier.",
            )
        )

    seen: set[Any] = set()
    for e in examiners:
        if e.staff_id in seen:
            continue
        seen.add(e.staff_id)
        who = e.name or str(e.staff_id)
        if EXAMINER_ROLE not in e.roles:
            out.append(
                _v(
                    "not_an_examiner",
                    "R-STAFF-2",
                    f"{who}不是考评员",
                    f"{who} does not hold the examiner role.",
                    e.staff_id,
                )
            )
        # R-STAFF-2: skill level or title fit for the batch level. An invalid
        # batch level is reported above; judging against it would add noise.
        if level_ok and not qualified_for_level(e, batch_level):
            need_zh, need_en = (
                ("一级/高级技师或正高、副高职称", "level 1 (高级技师) or a senior title")
                if batch_level <= 2
                else ("三级/高级工及以上或中级及以上职称", "level 3 (高级工) or above, or a mid-level title or above")
            )
            out.append(
                _v(
                    "examiner_unqualified",
                    "R-STAFF-2",
                    f"{who}不具备{level_label(batch_level)}考评资格，须{need_zh}",
                    f"{who} may not examine {level_label_en(batch_level)}: needs {need_en}.",
                    e.staff_id,
                )
            )
        # R-STAFF-2: 持证上岗 — a card valid on the exam day.
        if not card_valid_on(e, exam_date):
            state_zh, state_en = (
                ("无考评员证", "has no examiner card")
                if e.card_valid_until is None
                else (
                    f"考评员证有效期至{e.card_valid_until.isoformat()}，考试当日已失效",
                    f"examiner card was valid only until {e.card_valid_until.isoformat()}",
                )
            )
            out.append(_v("examiner_card_invalid", "R-STAFF-2", f"{who}{state_zh}", f"{who} {state_en}.", e.staff_id))
        # R-PANEL-1: qualified for this occupation.
        if occupation_code not in e.occupations:
            out.append(
                _v(
                    "examiner_wrong_occupation",
                    "R-PANEL-1",
                    f"{who}无{occupation_code}职业的考评资格",
                    f"{who} is not an examiner for occupation {occupation_code}.",
                    e.staff_id,
                )
            )
    return out


def _norm(name: str | None) -> str:
    # Employer names are typed by hand: ignore case, and ASCII and full-width spaces.
    return "".join((name or "").split()).casefold()


def _employers(primary: str | None, former: Iterable[str]) -> set[str]:
    return {n for n in (_norm(primary), *(_norm(f) for f in former)) if n}


RECUSAL_REASONS = ("relative", "same_employer", "trained_candidate")


def recusal_reason(candidate: CandidateTie, examiner: Examiner) -> str | None:
    """R-RECUSE-1: why this examiner stands aside from this candidate, if they do.

    When several reasons hold, the first of ``RECUSAL_REASONS`` is named; one
    is enough to stand aside.
    """
    if examiner.staff_id in candidate.relatives:
        return "relative"
    if examiner.staff_id in candidate.colleagues or _employers(
        examiner.employer, examiner.former_employers
    ) & _employers(candidate.employer, candidate.former_employers):
        return "same_employer"
    # "Trained by the examiner for this assessment" is a fact about this
    # person, recorded in trained_by; merely teaching at the candidate's
    # training organisation is not the rule's test.
    if examiner.staff_id in candidate.trained_by:
        return "trained_candidate"
    return None


def scorers_for(candidate: CandidateTie, examiners: Sequence[Examiner]) -> tuple[list[Examiner], dict[Any, str]]:
    """The panel members who score this candidate, and those who stand aside with why."""
    scorers: list[Examiner] = []
    excluded: dict[Any, str] = {}
    seen: set[Any] = set()
    for e in examiners:
        if e.staff_id in seen:
            continue
        seen.add(e.staff_id)
        reason = recusal_reason(candidate, e)
        if reason is None:
            scorers.append(e)
        else:
            excluded[e.staff_id] = reason
    return scorers, excluded


def recusal_violations(candidates: Iterable[CandidateTie], examiners: Sequence[Examiner]) -> list[Violation]:
    """Candidates whom recusal would leave without an odd panel of 3 or more.

    R-PANEL-1 / R-RECUSE-1: the scorers of every candidate must themselves be
    an odd number, at least 3; see the module docstring for why this reports
    instead of dropping a scorer.
    """
    out: list[Violation] = []
    for c in candidates:
        scorers, excluded = scorers_for(c, examiners)
        n = len(scorers)
        if n >= MIN_PANEL and n % 2 == 1:
            continue
        shape_zh = "不足3人" if n < MIN_PANEL else "为双数"
        shape_en = "fewer than 3" if n < MIN_PANEL else "an even number"
        # R-PANEL-1 is the rule broken; R-RECUSE-1 is why (named in detail).
        out.append(
            Violation(
                "panel_recusal_breaks_odd",
                "R-PANEL-1",
                f"考生{c.candidate_id}因回避剩余{n}名考评员，{shape_zh}；请调整考评组",
                f"After recusal candidate {c.candidate_id} has {n} scorers, {shape_en}; change the panel.",
                candidate_id=c.candidate_id,
                detail={"scorers": [e.staff_id for e in scorers], "recused": dict(excluded), "because": "R-RECUSE-1"},
            )
        )
    return out
