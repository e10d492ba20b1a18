"""Scoring follows the clock and the door (issue #15): R-SCORE-1, R-ID-1.

Reproduced: at 11:32, with the skill part at 14:00 not begun, six examiners and the chief
signed a candidate's skill scores. A part's score may be entered only once the candidate's
own sitting of it has started, and only for a candidate admitted to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from examday.clock import CST
from scoring.models import PartScore, ScoreEntry
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal

TODAY = datetime(2026, 11, 26, tzinfo=CST).date()  # the clock fixture's Thursday: theory 09:00, skill 14:00


def _entries(engine) -> int:
    with Session(engine) as db:
        return len(db.exec(select(ScoreEntry)).all())


def test_skill_scores_before_the_skill_part_are_refused_R_SCORE_1(client, world, engine, clock):
    sw = build(client, world, engine, clock, exam_day=TODAY, admit=False)
    sw.sit(parts=("theory",))
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    clock.at = datetime(2026, 11, 26, 11, 32, tzinfo=CST)
    for i in range(3):
        body = assert_refusal(sw.enter(i, sw.candidates[0], 80), 409, "part_not_started", "R-SCORE-1")
        assert body["detail"]["starts_at"] == "2026-11-26T14:00:00+08:00"
    assert _entries(engine) == 0
    # Admitted to the skill sitting at the door, and once it has started: scored.
    sw.sit(parts=("skill",))
    clock.at = datetime(2026, 11, 26, 13, 59, tzinfo=CST)
    assert_refusal(sw.enter(0, sw.candidates[0], 80), 409, "part_not_started", "R-SCORE-1")
    clock.at = datetime(2026, 11, 26, 14, 0, tzinfo=CST)
    for i in range(3):
        assert sw.enter(i, sw.candidates[0], 80).status_code == 201
    assert sw.part(sw.candidates[0])["status"] == "final"


def test_a_candidate_never_admitted_is_not_scored_R_ID_1(client, world, engine, clock):
    sw = build(client, world, engine, clock, exam_day=TODAY, admit=False)
    sw.sit(sw.candidates[1:])  # the first candidate never came through the door
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    clock.at = datetime(2026, 11, 26, 15, 0, tzinfo=CST)
    assert_refusal(sw.enter(0, sw.candidates[0], 80), 409, "candidate_not_admitted", "R-ID-1")
    assert sw.enter(0, sw.candidates[1], 80).status_code == 201
    with Session(engine) as db:
        rows = db.exec(select(ScoreEntry.candidate_id)).all()
        assert rows == [sw.candidates[1]]
        assert db.exec(select(PartScore).where(PartScore.candidate_id == sw.candidates[0])).all() == []
