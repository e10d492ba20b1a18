"""The plan checks (rules.plan_violations) and the batch config, on hand-built facts.

Every check has a case here that breaks exactly its rule and must be named;
the baseline plan breaks none.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from examday.calendar import DEFAULT_CALENDAR, WorkCalendar, YearNotice
from examday.clock import CST
from examday.errors import Refusal
from examday.plans.config import BatchConfig
from examday.plans.rules import (
    Booking,
    FilingFact,
    PlanFacts,
    RoomFact,
    ScopeFact,
    SessionFact,
    StaffFact,
    codes,
    latest_filing_date,
    plan_violations,
    provisional_years,
    required_parts,
)

TODAY = date(2026, 11, 26)
EXAM = date(2026, 12, 14)
T01, T02, S01 = 1, 2, 3


def at(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), CST)


def base(**changes) -> PlanFacts:
    rooms = {
        T01: RoomFact(T01, "T01", "theory", 30, 2),
        T02: RoomFact(T02, "T02", "theory", 30, 2),
        S01: RoomFact(S01, "S01", "skill", 10, 1),
    }
    staff = {i: StaffFact(i, f"监考{i}", frozenset({"proctor", "staff"})) for i in (1, 2, 3, 4)}
    staff |= {i: StaffFact(i, f"考评{i}", frozenset({"examiner"})) for i in (5, 6)}
    sessions = (
        SessionFact(10, "theory", at(EXAM, 9), at(EXAM, 10, 30), (T01, T02), {T01: (1, 2), T02: (3, 4)}),
        SessionFact(11, "skill", at(EXAM, 14), at(EXAM, 16), (S01,), {S01: (5, 6)}),
    )
    facts = PlanFacts(
        batch_id=1,
        occupation_code="6-31-01-03",
        work_type=None,
        level=4,
        exam_date=EXAM,
        parts=("theory", "skill"),
        config=BatchConfig.defaults(),
        filings=(FilingFact("active", date(2025, 1, 1), date(2027, 12, 31)),),
        scope=(ScopeFact("6-31-01-03", None, frozenset({5, 4, 3, 2, 1})),),
        full_time_staff=6,
        rooms=rooms,
        staff=staff,
        sessions=sessions,
        candidates=10,
        pending_review=0,
        ineligible=0,
        training_orgs=frozenset({"长春培训学校"}),
    )
    return replace(facts, **changes)


def check(facts: PlanFacts, today: date = TODAY, cal: WorkCalendar = DEFAULT_CALENDAR) -> list[str]:
    return codes(plan_violations(facts, today, cal))


def with_session(facts: PlanFacts, i: int, **changes) -> PlanFacts:
    sessions = list(facts.sessions)
    sessions[i] = replace(sessions[i], **changes)
    return replace(facts, sessions=tuple(sessions))


def test_the_baseline_plan_breaks_nothing():
    assert check(base()) == []


@pytest.mark.parametrize(
    "level, parts",
    [
        (5, ["theory", "skill"]),
        (4, ["theory", "skill"]),
        (3, ["theory", "skill"]),
        (2, ["theory", "skill", "review"]),
        (1, ["theory", "skill", "review"]),
    ],
)
def test_required_parts_per_level(level, parts):
    # R-PLAN-3: levels 2 and 1 add the comprehensive review.
    assert required_parts(level) == parts


B = base()
CASES = [
    # (what breaks, facts, code, rule)
    (
        "filing suspended",
        replace(B, filings=(FilingFact("suspended", date(2025, 1, 1), date(2027, 12, 31)),)),
        "filing_not_active",
        "R-INST-2",
    ),
    (
        "filing expires before the exam",
        replace(B, filings=(FilingFact("active", date(2024, 1, 1), date(2026, 12, 1)),)),
        "filing_not_active",
        "R-INST-2",
    ),
    (
        "filing revoked",
        replace(B, filings=(FilingFact("revoked", date(2025, 1, 1), date(2027, 12, 31)),)),
        "filing_not_active",
        "R-INST-2",
    ),
    (
        "level outside scope",
        replace(B, scope=(ScopeFact("6-31-01-03", None, frozenset({5})),)),
        "outside_scope",
        "R-INST-3",
    ),
    ("occupation outside scope", replace(B, occupation_code="4-01-02-01"), "outside_scope", "R-INST-3"),
    (
        "other work type",
        replace(B, scope=(ScopeFact("6-31-01-03", "高压电工", frozenset({4})),), work_type="低压电工"),
        "outside_scope",
        "R-INST-3",
    ),
    ("four full-time staff", replace(B, full_time_staff=4), "too_few_full_time_staff", "R-STAFF-1"),
    ("one theory room", with_session(B, 0, room_ids=(T01,), staff={T01: (1, 2)}), "too_few_theory_rooms", "R-SITE-1"),
    (
        "theory room without camera",
        replace(B, rooms={**B.rooms, T02: replace(B.rooms[T02], cameras=0)}),
        "too_few_theory_rooms",
        "R-SITE-1",
    ),
    (
        "room no longer filed",
        replace(B, rooms={**B.rooms, T02: replace(B.rooms[T02], active=False)}),
        "room_not_filed",
        "R-SITE-1",
    ),
    ("theory in the skill room", with_session(B, 0, room_ids=(T01, T02, S01)), "room_kind_mismatch", "R-SITE-1"),
    (
        "skill room without camera",
        replace(B, rooms={**B.rooms, S01: replace(B.rooms[S01], cameras=0)}),
        "skill_room_without_camera",
        "R-SITE-1",
    ),
    (
        "one proctor in a theory room",
        with_session(B, 0, staff={T01: (1,), T02: (3, 4)}),
        "too_few_proctors",
        "R-RATIO-1",
    ),
    (
        "a trainer proctors",
        replace(B, staff={**B.staff, 2: replace(B.staff[2], is_trainer=True)}),
        "trainer_as_proctor",
        "R-STAFF-3",
    ),
    (
        "a proctor from the candidates' training school",
        replace(B, staff={**B.staff, 3: replace(B.staff[3], employer="长春培训学校")}),
        "trainer_as_proctor",
        "R-STAFF-3",
    ),
    ("an examiner proctors theory", with_session(B, 0, staff={T01: (1, 5), T02: (3, 4)}), "not_a_proctor", "R-STAFF-3"),
    ("one examiner for ten candidates", with_session(B, 1, staff={S01: (5,)}), "too_few_examiners", "R-RATIO-1"),
    (
        "a session the day before",
        with_session(B, 0, starts_at=at(EXAM - timedelta(days=1), 9), ends_at=at(EXAM - timedelta(days=1), 10)),
        "session_outside_exam_date",
        "R-PLAN-1",
    ),
    (
        "a session past midnight",
        with_session(B, 1, ends_at=at(EXAM + timedelta(days=1), 0, 30)),
        "session_outside_exam_date",
        "R-PLAN-1",
    ),
    (
        "room taken by another filed plan",
        replace(B, other_bookings=(Booking(9, T01, at(EXAM, 10), at(EXAM, 11)),)),
        "room_double_booked",
        "R-PLAN-1",
    ),
    (
        "proctor busy in another plan",
        replace(B, other_bookings=(Booking(9, 99, at(EXAM, 9), at(EXAM, 10), frozenset({1})),)),
        "staff_double_booked",
        "R-RATIO-1",
    ),
    (
        "more candidates than seats",
        replace(
            B,
            candidates=61,
            rooms={**B.rooms, S01: replace(B.rooms[S01], seats=70)},
            sessions=(B.sessions[0], replace(B.sessions[1], staff={S01: (5, 6)})),
        ),
        "not_enough_seats",
        "R-SEAT-1",
    ),
    ("unreviewed candidates", replace(B, pending_review=3), "eligibility_not_reviewed", "R-PLAN-4"),
    ("ineligible candidates left in", replace(B, ineligible=1), "ineligible_candidates", "R-PLAN-4"),
    ("no candidates", replace(B, candidates=0), "no_candidates", "R-PLAN-1"),
    ("level 2 without review", replace(B, level=2), "wrong_parts", "R-PLAN-3"),
    ("a part without a session", replace(B, sessions=B.sessions[:1]), "part_without_session", "R-PLAN-2"),
    (
        "skill before theory ends",
        with_session(B, 1, starts_at=at(EXAM, 10), ends_at=at(EXAM, 12)),
        "parts_out_of_order",
        "R-PLAN-2",
    ),
]


@pytest.mark.parametrize("what, facts, code, rule", CASES, ids=[c[0] for c in CASES])
def test_each_broken_rule_is_named(what, facts, code, rule):
    violations = plan_violations(facts, TODAY, DEFAULT_CALENDAR)
    found = {v.code: v for v in violations}
    assert code in found, (what, codes(violations))
    v = found[code]
    assert v.rule == rule
    assert v.message and v.message_en and v.message != v.message_en


def test_seats_per_theory_room_are_capped_by_the_config():
    # R-SEAT-1: 40-desk rooms still seat 30 each by default, so 61 candidates do not fit.
    big = {
        **B.rooms,
        T01: replace(B.rooms[T01], seats=40),
        T02: replace(B.rooms[T02], seats=40),
        S01: replace(B.rooms[S01], seats=70),
    }
    facts = replace(
        B,
        rooms=big,
        candidates=61,
        sessions=(B.sessions[0], replace(B.sessions[1], staff={S01: (5, 6)})),
        config=replace(B.config, candidates_per_examiner=100),
    )
    assert "not_enough_seats" in check(facts)
    assert "not_enough_seats" not in check(replace(facts, config=replace(facts.config, max_per_theory_room=40)))


def test_one_proctor_per_fifteen_candidates():
    # R-RATIO-1: 35 in a room need 3 proctors even though the room minimum is 2.
    big = {
        **B.rooms,
        T01: replace(B.rooms[T01], seats=35),
        T02: replace(B.rooms[T02], seats=35),
        S01: replace(B.rooms[S01], seats=70),
    }
    cfg = replace(B.config, max_per_theory_room=40, candidates_per_examiner=100)
    facts = replace(B, rooms=big, candidates=70, config=cfg)
    found = {v.code: v for v in plan_violations(facts, TODAY, DEFAULT_CALENDAR)}
    assert found["too_few_proctors"].detail["rooms"][0]["need"] == 3
    staffed = with_session(facts, 0, staff={T01: (1, 2, 7), T02: (3, 4, 8)})
    staffed = replace(
        staffed,
        staff={
            **staffed.staff,
            7: StaffFact(7, "监考7", frozenset({"proctor"})),
            8: StaffFact(8, "监考8", frozenset({"proctor"})),
        },
    )
    assert "too_few_proctors" not in check(staffed)


def test_skill_examiner_ratio_comes_from_the_batch_config():
    # R-RATIO-1: one examiner per 5 by default; an occupation with 1:15 passes with one.
    facts = with_session(B, 1, staff={S01: (5,)})
    assert "too_few_examiners" in check(facts)
    assert "too_few_examiners" not in check(replace(facts, config=replace(B.config, candidates_per_examiner=15)))


# R-RATIO-1: one examiner per 5 candidates rounds up, so 6 candidates need two and 9 still two.
@pytest.mark.parametrize(
    "candidates, examiners, need",
    [(1, (5,), None), (5, (5,), None), (6, (5,), 2), (9, (5,), 2), (9, (5, 6), None), (4, (), 1)],
)
def test_skill_examiner_ratio_rounds_up_when_candidates_are_not_a_multiple_of_5(candidates, examiners, need):
    facts = with_session(replace(B, candidates=candidates), 1, staff={S01: examiners})
    found = [v for v in plan_violations(facts, TODAY, DEFAULT_CALENDAR) if v.code == "too_few_examiners"]
    if need is None:
        assert found == []
    else:
        assert [(r["have"], r["need"], r["candidates"]) for r in found[0].detail["rooms"]] == [
            (len(examiners), need, candidates)
        ]
        assert found[0].rule == "R-RATIO-1"


def test_inactive_staff_do_not_count():
    facts = replace(B, staff={**B.staff, 2: replace(B.staff[2], active=False)})
    assert {"too_few_proctors", "staff_not_active"} <= set(check(facts))


def test_a_room_used_twice_inside_the_plan_is_double_booked():
    extra = SessionFact(12, "theory", at(EXAM, 10), at(EXAM, 11), (T01,), {T01: (3, 4)})
    assert "room_double_booked" in check(replace(B, sessions=B.sessions + (extra,)))
    later = replace(extra, starts_at=at(EXAM, 10, 30), ends_at=at(EXAM, 11, 30))
    # Back to back is not double booked (the skill part then starts after both theory sittings).
    assert "room_double_booked" not in check(replace(B, sessions=B.sessions + (later,)))


def test_ten_working_days_across_national_day():
    # R-PLAN-1, R-CAL: 2026-09-22 is too late for 2026-10-12 although 14 weekdays lie between.
    exam = date(2026, 10, 12)
    facts = base(
        exam_date=exam,
        sessions=tuple(
            replace(
                s,
                starts_at=datetime.combine(exam, s.starts_at.astimezone(CST).time(), CST),
                ends_at=datetime.combine(exam, s.ends_at.astimezone(CST).time(), CST),
            )
            for s in B.sessions
        ),
    )
    weekdays = sum(1 for i in range(1, 21) if (date(2026, 9, 22) + timedelta(days=i)).weekday() < 5)
    assert weekdays >= 10  # counted Monday to Friday it would pass
    assert "filed_too_late" in check(facts, today=date(2026, 9, 22))
    assert check(facts, today=date(2026, 9, 21)) == []
    assert latest_filing_date(exam, DEFAULT_CALENDAR) == date(2026, 9, 21)
    v = next(v for v in plan_violations(facts, date(2026, 9, 22), DEFAULT_CALENDAR) if v.code == "filed_too_late")
    assert v.detail["latest_filing_date"] == "2026-09-21" and v.detail["provisional_years"] == []


def test_filed_too_late_on_the_clock_day_for_an_exam_a_week_away():
    assert "filed_too_late" in check(B, today=date(2026, 12, 7))
    assert "filed_too_late" not in check(B, today=latest_filing_date(EXAM, DEFAULT_CALENDAR))


def test_provisional_years_are_named():
    # R-CAL: 2027's notice is not in the packages; the deadline says so.
    assert DEFAULT_CALENDAR.is_provisional(2027)
    exam = date(2027, 3, 15)
    facts = base(
        exam_date=exam,
        sessions=tuple(
            replace(
                s,
                starts_at=datetime.combine(exam, s.starts_at.astimezone(CST).time(), CST),
                ends_at=datetime.combine(exam, s.ends_at.astimezone(CST).time(), CST),
            )
            for s in B.sessions
        ),
    )
    assert provisional_years(TODAY, exam, DEFAULT_CALENDAR) == [2027]
    v = next(v for v in plan_violations(facts, date(2027, 3, 10), DEFAULT_CALENDAR) if v.code == "filed_too_late")
    assert v.detail["provisional_years"] == [2027]
    assert "2027" in v.message and "2027" in v.message_en and "provisional" in v.message_en


def test_an_entered_notice_moves_the_deadline():
    # R-CAL: an admin's notice declaring 2027-03-05..09 off pushes the last filing day back.
    exam = date(2027, 3, 15)
    plain = latest_filing_date(exam, DEFAULT_CALENDAR)
    off = frozenset(date(2027, 3, d) for d in (5, 8, 9))
    cal = DEFAULT_CALENDAR.with_notice(YearNotice(2027, holidays=off))
    assert latest_filing_date(exam, cal) < plain
    assert not cal.is_provisional(2027)


def test_five_broken_rules_are_all_named_at_once():
    facts = replace(
        B, level=2, full_time_staff=3, pending_review=2, staff={**B.staff, 1: replace(B.staff[1], is_trainer=True)}
    )
    facts = with_session(facts, 0, room_ids=(T01,), staff={T01: (1, 2)})
    found = plan_violations(facts, date(2026, 12, 10), DEFAULT_CALENDAR)
    rules = {v.rule for v in found}
    assert {"R-PLAN-3", "R-STAFF-1", "R-PLAN-4", "R-STAFF-3", "R-SITE-1", "R-PLAN-1"} <= rules


# -- the batch config ---------------------------------------------------------------


def test_config_defaults_take_the_stricter_value():
    # R-TIME-1: 30 minutes nationally, 15 in some provinces: the strict profile takes 15.
    assert BatchConfig.defaults("strict").entry_close_minutes == 15
    national = BatchConfig.defaults("national")
    assert national.entry_close_minutes == 30
    assert (
        national.proctors_per_theory_room,
        national.candidates_per_proctor,
        national.candidates_per_examiner,
        national.max_per_theory_room,
        national.pass_mark,
    ) == (2, 15, 5, 30, 60)


def test_config_round_trips_and_keeps_filed_values():
    cfg = BatchConfig.defaults().with_overrides({"candidates_per_examiner": 15, "aggregation": "median"})
    again = BatchConfig.from_json(cfg.to_json())
    assert again == cfg and again.candidates_per_examiner == 15
    # A key a later version adds is ignored, not a crash.
    assert BatchConfig.from_json('{"future_key": 1, "max_per_theory_room": 25}').max_per_theory_room == 25
    assert BatchConfig.from_json("") == BatchConfig()


@pytest.mark.parametrize(
    "overrides, key, reason",
    [
        ({"pass_mark": 50}, "pass_mark", "pass_mark_fixed"),  # R-SCORE-3
        ({"proctors_per_theory_room": 0}, "proctors_per_theory_room", "must_be_positive"),
        ({"candidates_per_proctor": True}, "candidates_per_proctor", "not_an_integer"),
        ({"aggregation": "max"}, "aggregation", "not_one_of:mean,median,trimmed_mean"),
        ({"no_such_thing": 1}, "no_such_thing", "unknown_key"),
        ({"entry_close_minutes": -5}, "entry_close_minutes", "must_not_be_negative"),
    ],
)
def test_config_overrides_are_checked(overrides, key, reason):
    with pytest.raises(Refusal) as e:
        BatchConfig.defaults().with_overrides(overrides)
    assert e.value.code == "invalid_config"
    assert e.value.detail["errors"] == [{"key": key, "reason": reason}]
