"""Room state, incident tiers, early hand-in and the supervision deadline, as pure rules
(R-DAY-3, R-DAY-2, R-TIME-1, R-DISC-1, R-SUP-1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from proctor import rules
from proctor.rules import Arrival, IncidentFact, RoomFacts, SeatFact

START = datetime(2026, 11, 26, 9, 0, tzinfo=CST)
END = START + timedelta(minutes=90)
CUTOFF = rules.entry_cutoff(START, 30)


def facts(n: int = 6, **kw) -> RoomFacts:
    seats = [SeatFact(i, i, f"T{i:03d}", f"考生{i}") for i in range(1, n + 1)]
    base = dict(room_code="T01", capacity=30, starts_at=START, ends_at=END, cutoff_at=CUTOFF, seats=seats)
    base.update(kw)
    return RoomFacts(**base)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


# -- seat colours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "present, late, incident, cutoff_passed, expected",
    [
        (False, False, False, False, "expected"),
        (False, False, False, True, "absent"),  # R-TIME-1: not present after the cutoff
        (True, False, False, False, "present"),
        (True, False, False, True, "present"),
        (True, True, False, True, "late"),
        (True, True, True, True, "incident"),  # an incident outranks everything
        (True, False, True, False, "incident"),
        (False, False, True, True, "incident"),
    ],
)
def test_seat_status(present, late, incident, cutoff_passed, expected):
    assert rules.seat_status(present, late, incident, cutoff_passed) == expected


# -- R-DAY-3 counts, R-TIME-1 automatic absence --------------------------------------------


def test_before_the_cutoff_nobody_is_absent_yet():
    f = facts(arrivals={1: Arrival(1, at(-20), False), 2: Arrival(2, at(10), True)})
    s = rules.room_state(f, at(29))
    assert (s["expected"], s["present"], s["late"], s["absent"], s["waiting"]) == (6, 2, 1, 0, 4)
    assert [x["status"] for x in s["seats"]] == ["present", "late", "expected", "expected", "expected", "expected"]


def test_at_the_cutoff_those_not_present_become_absent():
    # R-TIME-1: from start + entry_close_minutes, a registered candidate not present is absent.
    f = facts(arrivals={1: Arrival(1, at(-20), False), 2: Arrival(2, at(10), True)})
    s = rules.room_state(f, CUTOFF)
    assert (s["absent"], s["waiting"], s["cutoff_passed"]) == (4, 0, True)
    assert {x["candidate_id"] for x in s["seats"] if x["status"] == "absent"} == {3, 4, 5, 6}


def test_withdrawn_candidates_are_not_expected_nor_absent():
    s = rules.room_state(facts(withdrawn=frozenset({5, 6})), at(60))
    assert (s["expected"], s["absent"]) == (4, 4)
    assert {x["candidate_id"] for x in s["seats"]} == {1, 2, 3, 4}


def test_incidents_moves_and_hand_ins_show_on_the_seat():
    f = facts(
        arrivals={1: Arrival(1, at(-5), False), 2: Arrival(2, at(-5), False)},
        incidents=[IncidentFact(7, 2, "copying", "b", at(40)), IncidentFact(8, 2, "disturbance", "a", at(50))],
        moved_to={1: 12},
        handed_in={1: at(45)},
    )
    s = rules.room_state(f, at(60))
    one = next(x for x in s["seats"] if x["candidate_id"] == 1)
    two = next(x for x in s["seats"] if x["candidate_id"] == 2)
    assert (one["seat"], one["allocated_seat"], one["moved"], one["handed_in"]) == (12, 1, True, True)
    assert (two["status"], two["incidents"]) == ("incident", 2)
    assert (s["incidents"], s["handed_in"]) == (2, 1)
    assert [i["id"] for i in s["incident_list"]] == [7, 8]


def test_a_candidate_seated_elsewhere_but_checked_in_here_counts_here():
    stranger = SeatFact(99, None, "T099", "外*")
    s = rules.room_state(facts(arrivals={99: Arrival(99, at(-1), False)}, strangers={99: stranger}), at(1))
    assert s["present"] == 1 and any(x["candidate_id"] == 99 and x["status"] == "present" for x in s["seats"])


def test_alerts_camera_down_over_capacity_offline_conflict():
    arrivals = {i: Arrival(i, at(-1), False) for i in range(1, 5)}
    cams = [
        {"code": "C1", "state": "recording"},
        {"code": "C2", "state": "offline"},
        {"code": "C3", "state": "unknown"},
    ]
    s = rules.room_state(facts(n=4, capacity=3, arrivals=arrivals, cameras=cams, conflicts=[2]), at(1))
    kinds = [(a["kind"], a.get("camera") or a.get("candidate_id") or a.get("present")) for a in s["alerts"]]
    # R-DAY-2: 4 present in a room of 3 seats.
    assert kinds == [("camera_down", "C2"), ("over_capacity", 4), ("offline_conflict", 2)]
    assert rules.room_state(facts(n=3, capacity=3, arrivals={1: arrivals[1]}), at(1))["alerts"] == []


def test_seat_taken_frees_an_absent_candidates_seat():
    s = rules.room_state(facts(arrivals={1: Arrival(1, at(-1), False)}), at(40))
    assert rules.seat_taken(1, 2, s)  # seat 1 holds candidate 1, present
    assert not rules.seat_taken(3, 1, s)  # candidate 3 is absent after the cutoff
    assert not rules.seat_taken(20, 1, s)  # nobody there
    before = rules.room_state(facts(arrivals={1: Arrival(1, at(-1), False)}), at(10))
    assert rules.seat_taken(3, 1, before)  # before the cutoff, candidate 3 may still come


# -- R-DISC-1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, tier, voids, cheating",
    [
        ("banned_items_after_warning", "a", "part", False),
        ("wrong_seat", "a", "part", False),
        ("leaving_without_leave", "a", "part", False),
        ("disturbance", "a", "part", False),
        ("whispering_or_signalling", "b", "part", True),
        ("copying", "b", "part", True),
        ("passing_material", "b", "part", True),
        ("false_identity", "b", "part", True),
        ("taking_papers_out", "b", "part", True),
        ("identical_answers", "b", "part", True),
        ("banned_device", "b", "part", True),
        ("using_electronic_device", "c", "sitting", False),
        ("damaging_papers_or_work", "c", "sitting", False),
        ("taking_content_out", "c", "sitting", False),
    ],
)
def test_incident_tiers(kind, tier, voids, cheating):
    e = rules.incident_effect(kind)
    assert (e.tier, e.voids, e.cheating) == (tier, voids, cheating)
    assert kind in rules.INCIDENT_LABELS


def test_unknown_incident_kind_has_no_tier():
    assert rules.incident_effect("chatting") is None


def test_voided_parts_part_or_whole_sitting():
    # R-DISC-1: (a)/(b) void the session's part; (c) every part of this sitting.
    assert rules.voided_parts(rules.TIER_EFFECTS["a"], "theory", ["theory", "skill"]) == ["theory"]
    assert rules.voided_parts(rules.TIER_EFFECTS["b"], "skill", ["theory", "skill"]) == ["skill"]
    assert rules.voided_parts(rules.TIER_EFFECTS["c"], "theory", ["theory", "skill", "review"]) == [
        "theory",
        "skill",
        "review",
    ]


# -- R-TIME-1 early hand-in ------------------------------------------------------------------


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (0, "handin_too_early"),
        (29, "handin_too_early"),
        (30, None),
        (31, None),
        (89, None),
        (90, "session_over"),
        (120, "session_over"),
    ],
)
def test_no_hand_in_during_the_first_30_minutes(minutes, expected):
    assert rules.handin_refusal(START, END, at(minutes)) == expected


def test_hand_in_window_follows_the_filed_value():
    assert rules.handin_refusal(START, END, at(40), no_handin_minutes=45) == "handin_too_early"
    assert rules.handin_refusal(START, END, at(45), no_handin_minutes=45) is None


# -- R-SUP-1 ---------------------------------------------------------------------------------


class MonToFri:
    def add_working_days(self, d: date, n: int) -> date:
        while n:
            d += timedelta(days=1)
            n -= d.weekday() < 5
        return d


@pytest.mark.parametrize(
    "exam, deadline",
    [
        (date(2026, 11, 23), date(2026, 11, 26)),  # Monday -> Thursday
        (date(2026, 11, 26), date(2026, 12, 1)),  # Thursday -> Tuesday, over a weekend
        (date(2026, 11, 28), date(2026, 12, 2)),  # Saturday exam: counting starts Monday
    ],
)
def test_supervision_deadline_is_three_working_days_after(exam, deadline):
    assert rules.supervision_deadline(exam, MonToFri()) == deadline


def test_supervision_deadline_uses_the_china_calendar():
    exam = date(2026, 11, 26)
    deadline = rules.supervision_deadline(exam, DEFAULT_CALENDAR)
    assert DEFAULT_CALENDAR.working_days_between(exam, deadline) == 3
    assert DEFAULT_CALENDAR.is_working_day(deadline)


@pytest.mark.parametrize(
    "filed, today, met",
    [
        (date(2026, 12, 1), date(2026, 12, 1), True),
        (date(2026, 11, 26), date(2026, 11, 26), True),
        (date(2026, 12, 2), date(2026, 12, 2), False),
        (None, date(2026, 12, 1), None),
        (None, date(2026, 12, 2), False),
    ],
)
def test_supervision_met(filed, today, met):
    assert rules.supervision_met(date(2026, 12, 1), filed, today) is met


# -- which session a view shows --------------------------------------------------------------


def test_pick_session_in_progress_else_nearest():
    morning = (1, at(-30), END)
    afternoon = (2, START.replace(hour=13, minute=30), START.replace(hour=16))
    assert rules.pick_session([morning, afternoon], at(10)) == 1
    assert rules.pick_session([morning, afternoon], START.replace(hour=11)) == 1
    assert rules.pick_session([morning, afternoon], START.replace(hour=13)) == 2
    assert rules.pick_session([morning, afternoon], START.replace(hour=7)) == 1
    assert rules.pick_session([], at(0)) is None
