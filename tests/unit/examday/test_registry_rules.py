"""Registry rules, table-driven: filings, levels, scope, rooms, staff, conflicts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from examday.errors import Refusal
from examday.registry import rules

D = date.fromisoformat


def codes(violations) -> set[str]:
    return {v.code for v in violations}


# -- R-LEVEL -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("5、4、3", [5, 4, 3]),
        ("5,4,3", [5, 4, 3]),
        ("3，4；5", [5, 4, 3]),
        ("５、４", [5, 4]),  # full-width digits from an input method
        ([5, 4, 3], [5, 4, 3]),
        ([1, "2"], [2, 1]),
        (3, [3]),
        ("1 1 1", [1]),
        ("高级工、技师", [3, 2]),
        ("五级/一级", [5, 1]),
    ],
)
def test_parse_levels_accepts_the_ways_a_scope_writes_them(value, expected):
    assert rules.parse_levels(value) == expected


@pytest.mark.parametrize(
    "value, code",
    [
        ("6", "invalid_level"),
        ([0], "invalid_level"),
        ("5、学徒工", "enterprise_tier_needs_enterprise"),
        ("特级技师", "enterprise_tier_needs_enterprise"),
        (["首席技师"], "enterprise_tier_needs_enterprise"),
        ("-1", "invalid_level"),
        ([6], "invalid_level"),
        ("level5", "invalid_level"),
        ([True], "invalid_level"),
        ("", "levels_required"),
        ([], "levels_required"),
        (None, "levels_required"),
    ],
)
def test_parse_levels_refuses_anything_outside_the_five_levels(value, code):
    # R-LEVEL: only 5..1 outside an enterprise; the tiers are refused with their own reason.
    with pytest.raises(Refusal) as e:
        rules.parse_levels(value)
    assert e.value.code == code and e.value.rule == "R-LEVEL"


# -- R-INST-2 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, today, state",
    [
        ("active", "2026-01-01", "active"),
        ("active", "2025-03-01", "active"),  # first valid day
        ("active", "2028-02-29", "active"),  # last valid day
        ("active", "2028-03-01", "expired"),
        ("active", "2025-02-28", "not_yet_valid"),
        ("suspended", "2026-01-01", "suspended"),
        ("suspended", "2028-03-01", "expired"),  # nothing left to reinstate
        ("revoked", "2026-01-01", "revoked"),
        ("revoked", "2030-01-01", "revoked"),
    ],
)
def test_filing_state(status, today, state):
    assert rules.filing_state(status, D("2025-03-01"), D("2028-02-29"), D(today)) == state


@pytest.mark.parametrize(
    "today, inside, left",
    [
        ("2028-02-29", True, 1),  # last valid day
        ("2027-12-02", True, 90),  # first day of the 90
        ("2027-12-01", False, 91),
        ("2027-01-01", False, 425),
        ("2028-03-01", False, 0),  # expired: too late to renew
    ],
)
def test_renewal_window_is_the_90_days_before_expiry(today, inside, left):
    # R-INST-2: renewal within the 90 days before the filing expires.
    assert rules.in_renewal_window(D("2028-02-29"), D(today)) is inside
    assert rules.days_left(D("2028-02-29"), D(today)) == left


@pytest.mark.parametrize(
    "number, start, end, status, expected",
    [
        ("JL-1", "2025-03-01", "2028-02-29", "active", set()),
        # R-INST-2 (issue #15): valid_until is a valid day, so the anniversary is three years and a day.
        ("JL-1", "2025-03-01", "2028-03-01", "active", {"filing_too_long"}),
        ("JL-1", "2025-03-01", "2028-03-02", "active", {"filing_too_long"}),
        ("JL-1", "2024-02-29", "2027-02-28", "active", set()),  # leap day start
        ("JL-1", "2024-02-29", "2027-03-01", "active", {"filing_too_long"}),
        ("JL-1", "2025-03-01", "2025-02-01", "active", {"filing_period_invalid"}),
        ("", "2025-03-01", "2028-02-29", "active", {"filing_number_required"}),
        ("JL-1", "2025-03-01", "2028-02-29", "expired", {"invalid_filing_status"}),
        ("JL-1", None, "2028-02-29", "active", {"filing_period_required"}),
    ],
)
def test_filing_violations(number, start, end, status, expected):
    # R-INST-2: a filing is valid for 3 years at most.
    got = rules.filing_violations(number, start and D(start), end and D(end), status)
    assert codes(got) == expected
    assert all(v.rule == "R-INST-2" for v in got)


def filing(i, start, end, status="active"):
    return {"id": i, "valid_from": D(start), "valid_until": D(end), "status": status}


def test_standing_warns_inside_the_window_until_renewed_then_the_renewal_governs():
    old = filing(1, "2025-03-01", "2028-02-29")
    new = filing(2, "2028-03-01", "2031-02-28")
    inside = D("2028-01-15")
    st = rules.standing([old], inside)
    assert (st.state, st.renewal_window, st.days_left, st.may_run_exams) == ("active", True, 46, True)
    st = rules.standing([new, old], inside)
    assert st.filing is old and st.next_filing is new and st.renewal_window is False
    st = rules.standing([old, new], D("2028-03-01"))
    assert st.filing is new and st.state == "active"
    st = rules.standing([old], D("2028-03-01"))
    assert (st.state, st.may_run_exams, st.renewal_window) == ("expired", False, False)
    assert rules.standing([], inside).state == "none"
    assert rules.standing([filing(1, "2027-01-01", "2029-12-31")], D("2026-06-01")).state == "not_yet_valid"


@pytest.mark.parametrize(
    "status, today, new_from, new_until, expected",
    [
        ("active", "2028-01-15", "2028-03-01", "2031-02-28", set()),
        ("active", "2028-01-15", "2028-02-01", "2031-01-31", set()),  # overlapping start, no gap
        ("active", "2027-11-01", "2028-03-01", "2031-02-28", {"outside_renewal_window"}),
        ("active", "2028-03-05", "2028-03-01", "2031-02-28", {"outside_renewal_window"}),
        ("active", "2028-01-15", "2028-03-05", "2031-03-04", {"renewal_not_continuous"}),
        ("active", "2028-01-15", "2028-03-01", "2031-03-02", {"filing_too_long"}),
        ("active", "2028-01-15", "2028-03-01", "2028-02-29", {"filing_period_invalid", "renewal_not_continuous"}),
        ("suspended", "2028-01-15", "2028-03-01", "2031-02-28", {"filing_suspended"}),
        ("revoked", "2028-01-15", "2028-03-01", "2031-02-28", {"filing_revoked"}),
    ],
)
def test_renewal_violations(status, today, new_from, new_until, expected):
    # R-INST-2: renew inside the window, continuously, for 3 years at most.
    st = rules.standing([filing(1, "2025-03-01", "2028-02-29", status)], D(today))
    assert codes(rules.renewal_violations(st, D(today), "JL-2", D(new_from), D(new_until))) == expected


def test_renewal_refused_once_renewed_and_without_a_filing():
    today = D("2028-01-15")
    st = rules.standing([filing(1, "2025-03-01", "2028-02-29"), filing(2, "2028-03-01", "2031-02-28")], today)
    assert codes(rules.renewal_violations(st, today, "JL-3", D("2028-03-01"), D("2031-02-28"))) == {"already_renewed"}
    assert codes(rules.renewal_violations(rules.standing([], today), today, "x", today, today)) == {"no_filing"}


# -- R-INST-3 ------------------------------------------------------------------

SCOPE = [
    {"occupation_code": "6-31-01-03", "work_type": None, "levels": "5,4,3,2,1"},
    {"occupation_code": "4-03-02-01", "work_type": "", "levels": [5, 4, 3]},
    {"occupation_code": "6-18-02-04", "work_type": "焊工", "levels": "5、4"},
]


@pytest.mark.parametrize(
    "occupation, work_type, level, covered",
    [
        ("6-31-01-03", None, 1, True),
        ("6-31-01-03", "维修电工", 3, True),  # a row with no work type covers the whole occupation
        ("4-03-02-01", None, 3, True),
        ("4-03-02-01", None, 2, False),  # level not filed
        ("6-18-02-04", "焊工", 4, True),
        ("6-18-02-04", "焊工", 3, False),
        ("6-18-02-04", None, 5, False),  # the filing names one work type only
        ("6-18-02-04", "气割工", 5, False),
        ("2-02-07-04", None, 5, False),  # occupation not filed
    ],
)
def test_scope_covers(occupation, work_type, level, covered):
    # R-INST-3: exams run only inside the filed scope.
    assert rules.scope_covers(SCOPE, occupation, work_type, level) is covered


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([{"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "5,4"}], set()),
        ([], {"scope_required"}),
        ([{"occupation_code": "63101", "occupation_name": "电工", "levels": "5"}], {"invalid_occupation_code"}),
        ([{"occupation_code": "6-31-01-03", "occupation_name": "", "levels": "5"}], {"occupation_name_required"}),
        (
            [{"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "学徒工"}],
            {"enterprise_tier_needs_enterprise"},
        ),
        (
            [
                {"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "5"},
                {"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "4"},
            ],
            {"duplicate_scope_row"},
        ),
        (
            [
                {"occupation_code": "6-31-01-03", "occupation_name": "电工", "work_type": "维修电工", "levels": "5"},
                {"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "4"},
            ],
            set(),
        ),
    ],
)
def test_scope_row_violations(rows, expected):
    assert codes(rules.scope_row_violations(rows)) == expected


# -- R-SITE-1, R-SEAT-1, R-VIDEO-1 -----------------------------------------------

CAMS = [{"code": "T01-C1"}, {"code": "T01-C2"}]


@pytest.mark.parametrize(
    "kind, seats, rows, cols, cameras, expected",
    [
        ("theory", 30, 5, 6, CAMS, set()),
        ("theory", 30, 5, 6, [], {"camera_required"}),
        ("skill", 10, None, None, [], {"camera_required"}),
        ("skill", 10, None, None, CAMS[:1], set()),
        ("waiting", 0, None, None, [], set()),
        ("affairs", 0, None, None, [], set()),
        ("theory", 31, 5, 7, CAMS, {"too_many_seats"}),
        ("theory", 31, 5, 6, CAMS, {"too_many_seats", "seats_exceed_layout"}),
        ("theory", 25, 4, 6, CAMS, {"seats_exceed_layout"}),
        ("theory", 20, None, None, CAMS, {"layout_required"}),
        ("theory", 0, 5, 6, CAMS, {"seats_required"}),
        ("skill", 0, None, None, CAMS, {"seats_required"}),
        ("theory", -1, 5, 6, CAMS, {"invalid_room_size"}),
        ("theory", 30, 0, 6, CAMS, {"invalid_room_size"}),
        ("office", 1, None, None, CAMS, {"invalid_room_kind"}),
        ("theory", 30, 5, 6, [{"code": "C1"}, {"code": "C1"}], {"duplicate_camera"}),
        ("theory", 30, 5, 6, [{"code": "前方"}], {"invalid_camera_code"}),
    ],
)
def test_room_violations(kind, seats, rows, cols, cameras, expected):
    assert codes(rules.room_violations(kind, seats, rows, cols, cameras)) == expected


def test_room_rule_ids_and_max_seats_parameter():
    # R-SITE-1 / R-VIDEO-1: monitored rooms need a camera; R-SEAT-1: 30 seats by default, a parameter.
    (v,) = rules.room_violations("theory", 30, 5, 6, [])
    assert (v.code, v.rule) == ("camera_required", "R-SITE-1")
    (v,) = rules.room_violations("theory", 30, 5, 6, CAMS, max_theory_seats=24)
    assert (v.code, v.rule, v.detail["max"]) == ("too_many_seats", "R-SEAT-1", 24)
    assert rules.room_violations("theory", 40, 5, 8, CAMS, max_theory_seats=40) == []
    assert codes(rules.room_violations("theory", 30, 5, 6, CAMS, code="T 01")) == {"invalid_room_code"}


@pytest.mark.parametrize(
    "rooms, expected",
    [
        ([("theory", 2), ("theory", 1), ("skill", 1), ("affairs", 0), ("waiting", 0)], set()),
        ([("theory", 2), ("theory", 0), ("skill", 1), ("affairs", 0), ("waiting", 0)], {"too_few_theory_rooms"}),
        ([("theory", 2), ("skill", 1), ("affairs", 0), ("waiting", 0)], {"too_few_theory_rooms"}),
        ([("theory", 2), ("theory", 1), ("skill", 0), ("affairs", 0), ("waiting", 0)], {"no_skill_room"}),
        ([("theory", 2), ("theory", 1), ("skill", 1)], {"no_affairs_room", "no_waiting_room"}),
        ([], {"too_few_theory_rooms", "no_skill_room", "no_affairs_room", "no_waiting_room"}),
    ],
)
def test_site_violations(rooms, expected):
    # R-SITE-1: 2+ monitored theory rooms, a monitored skill venue, affairs and waiting rooms.
    got = rules.site_violations([{"kind": k, "cameras": c} for k, c in rooms])
    assert codes(got) == expected and all(v.rule == "R-SITE-1" for v in got)


@pytest.mark.parametrize("n, ok", [(0, False), (4, False), (5, True), (12, True)])
def test_staff_count(n, ok):
    # R-STAFF-1: at least 5 full-time staff.
    got = rules.staff_count_violations(n)
    assert (got == []) is ok and all(v.rule == "R-STAFF-1" for v in got)


# -- R-STAFF-2, R-STAFF-3 --------------------------------------------------------

TODAY = D("2026-11-26")
EXAMINER = {
    "roles": ["examiner"],
    "skill_level": 3,
    "title": "none",
    "examiner_card_valid_until": D("2027-12-31"),
    "occupations": ["6-31-01-03"],
    "is_trainer": False,
}


def person(**kw):
    return {**EXAMINER, **kw}


@pytest.mark.parametrize(
    "staff, expected",
    [
        (person(), set()),
        (person(skill_level=4), {"examiner_not_qualified"}),
        (person(skill_level=None, title="mid"), set()),
        (person(skill_level=None, title="none"), {"examiner_not_qualified"}),
        (person(skill_level=5, title="senior"), set()),
        (person(examiner_card_valid_until=None), {"examiner_card_required"}),
        (person(examiner_card_valid_until=TODAY - timedelta(days=1)), {"examiner_card_expired"}),
        (person(examiner_card_valid_until=TODAY), set()),  # valid through its last day
        (person(occupations=[]), {"examiner_occupations_required"}),
        (person(occupations="6-31-01-03,bad"), {"invalid_occupation_code"}),
        (person(roles=["proctor"], is_trainer=True), {"trainer_cannot_proctor"}),
        (person(roles="proctor,staff", is_trainer=True), {"trainer_cannot_proctor"}),
        (person(roles=["staff"], is_trainer=True), set()),
        (person(roles=["proctor"], is_trainer=False, examiner_card_valid_until=None), set()),
        (person(roles=["supervisor"], examiner_card_valid_until=None), {"examiner_card_required"}),
        (person(roles=[]), {"roles_required"}),
        (person(roles=["cook"]), {"invalid_staff_role"}),
        (person(title="professor"), {"invalid_title"}),
        (person(skill_level=6, title="mid"), {"invalid_skill_level"}),
    ],
)
def test_staff_violations(staff, expected):
    assert codes(rules.staff_violations(staff, TODAY)) == expected


def test_staff_rule_ids():
    # R-STAFF-3: a trainer is never a proctor; R-STAFF-2: examiner qualification and card.
    (v,) = rules.staff_violations(person(roles=["proctor"], is_trainer=True), TODAY)
    assert (v.code, v.rule) == ("trainer_cannot_proctor", "R-STAFF-3")
    (v,) = rules.staff_violations(person(skill_level=4), TODAY)
    assert v.rule == "R-STAFF-2"


@pytest.mark.parametrize(
    "level, title, exam_level, ok",
    [
        (3, "none", 5, True),
        (3, "none", 3, True),
        (3, "none", 2, False),
        (4, "none", 4, False),
        (4, "mid", 4, True),
        (None, "mid", 2, False),
        (1, "none", 1, True),
        (2, "none", 2, False),
        (None, "senior", 1, True),
        (2, "senior", 2, True),
    ],
)
def test_examiner_qualified_for_level(level, title, exam_level, ok):
    # R-STAFF-2: levels 2 and 1 need level 1 or a senior title.
    assert rules.examiner_qualified_for_level(level, title, exam_level) is ok


# -- R-RECUSE-1 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, cid, employer, org, expected",
    [
        ("relative", 7, None, None, set()),
        ("relative", None, "第一机械厂", None, {"conflict_target_mismatch"}),
        ("colleague", None, "第一机械厂", None, set()),
        ("colleague", 7, None, None, set()),
        ("colleague", None, None, "培训学校1", {"conflict_target_mismatch"}),
        ("trained", None, None, "培训学校1", set()),
        ("trained", None, "  ", None, {"conflict_target_required"}),
        ("trained", 7, "第一机械厂", None, {"conflict_target_required"}),
        ("friend", 7, None, None, {"invalid_conflict_kind"}),
    ],
)
def test_conflict_violations(kind, cid, employer, org, expected):
    got = rules.conflict_violations(kind, cid, employer, org)
    assert codes(got) == expected and all(v.rule == "R-RECUSE-1" for v in got)


def test_conflicts_with_matches_candidate_employer_or_training_org():
    # R-RECUSE-1: relative, same employer, or trained by the examiner.
    declared = [
        {"id": 1, "candidate_id": 7},
        {"id": 2, "employer": "第一机械厂"},
        {"id": 3, "training_org": "培训学校1"},
    ]
    hit = lambda *a: [c["id"] for c in rules.conflicts_with(declared, *a)]  # noqa: E731
    assert hit(7, None, None) == [1]
    assert hit(8, "第一机械厂", "培训学校2") == [2]
    assert hit(8, "第二机械厂", "培训学校1") == [3]
    assert hit(8, "第二机械厂", "培训学校2") == []
    assert hit(None, "", "") == []
