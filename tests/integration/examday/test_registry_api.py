"""The registry through HTTP on SQLite and PostgreSQL: institutions, filings,
scope, rooms, staff and conflicts. The holiday calendar is in
test_calendar_notices.py."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from examday.audit import AuditEntry
from examday.calendar_notices import CalendarNotice
from examday.identity import make_id_number, mask_id_number
from examday.registry.models import Camera, Filing, Institution, Room, ScopeEntry, Staff, StaffConflict
from examday.registry.services.staff import full_time_staff_count
from tests.support import DEMO_USCC, OTHER_USCC, assert_refusal, bearer

TODAY = date(2026, 11, 26)  # the clock fixture's day
BAD_CHECK_USCC = "91350200776049653B"  # DEMO_USCC with a wrong check character


def body(
    uscc=DEMO_USCC,
    province="吉林",
    name="示范职业技能评价中心",
    valid_from="2025-03-01",
    valid_until="2028-02-29",
    status="active",
    **extra,
):
    return {
        "name": name,
        "uscc": uscc,
        "province": province,
        "filing": {
            "number": "吉人社技评备〔2025〕018号",
            "valid_from": valid_from,
            "valid_until": valid_until,
            "status": status,
        },
        "scope": [
            {"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": [5, 4, 3, 2, 1]},
            {"occupation_code": "4-03-02-01", "occupation_name": "中式烹调师", "work_type": None, "levels": "5、4、3"},
        ],
        **extra,
    }


def counts(engine) -> tuple[int, ...]:
    with Session(engine) as db:
        return tuple(
            db.exec(select(func.count()).select_from(t)).one()
            for t in (Institution, Filing, ScopeEntry, Room, Camera, Staff, StaffConflict, CalendarNotice, AuditEntry)
        )


def audit_actions(engine) -> list[tuple[str, dict]]:
    with Session(engine) as db:
        return [(e.action, json.loads(e.diff)) for e in db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()]


@pytest.fixture
def root(world):
    return bearer(world.token("root", "admin"))


def make(client, root, **kw) -> int:
    r = client.post("/api/v1/institutions", headers=root, json=body(**kw))
    assert r.status_code == 201, r.text
    return r.json()["id"]


THEORY = {
    "code": "T01",
    "name": "理论考场1",
    "kind": "theory",
    "seats": 30,
    "rows": 5,
    "cols": 6,
    "cameras": [{"code": "T01-C1", "name": "前方"}, {"code": "T01-C2", "name": "后方"}],
}


def examiner(n=1, **kw):
    return {
        "name": "陈志强",
        "id_number": make_id_number(date(1975, 3, n), seq=n),
        "roles": ["examiner"],
        "full_time": True,
        "skill_level": 1,
        "title": "senior",
        "examiner_card_valid_until": "2028-12-31",
        "occupations": ["6-31-01-03"],
        "is_trainer": False,
        "employer": "示范中心",
        **kw,
    }


# -- institutions (R-INST-1..3) ------------------------------------------------------


def test_installation_admin_creates_institution_with_filing_and_scope(world, client, root):
    r = client.post("/api/v1/institutions", headers=root, json=body(province="吉林省"))
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["name"], b["uscc"], b["province"], b["filing_state"]) == (
        "示范职业技能评价中心",
        DEMO_USCC,
        "吉林",
        "active",
    )
    assert [(s["occupation_code"], s["levels"]) for s in b["scope"]] == [
        ("6-31-01-03", [5, 4, 3, 2, 1]),
        ("4-03-02-01", [5, 4, 3]),
    ]
    assert b["filing"]["valid_until"] == "2028-02-29" and b["renewal"] == {"renewal_window": False, "days_left": 461}
    got = client.get(f"/api/v1/institutions/{b['id']}", headers=root).json()
    assert got["scope"] == b["scope"] and got["filing"] == b["filing"]
    listed = client.get("/api/v1/institutions", headers=root).json()
    assert [(i["id"], i["uscc"], i["province"]) for i in listed] == [(b["id"], DEMO_USCC, "吉林")]
    assert [a for a, _ in audit_actions(world.engine)][-1] == "institution.create"
    # R-SITE-1 / R-STAFF-1: an empty site is flagged, not hidden.
    assert {"too_few_theory_rooms", "too_few_full_time_staff"} <= {w["code"] for w in got["warnings"]}


@pytest.mark.parametrize(
    "uscc, reason",
    [
        (BAD_CHECK_USCC, "bad_check_character"),
        ("9135020077604965", "wrong_length"),
        ("91350200776049653I", "bad_characters"),
    ],
)
def test_wrong_uscc_is_refused_with_the_reason_and_changes_nothing(world, client, root, uscc, reason):
    # R-INST-1: a code whose check character is wrong is refused.
    before = counts(world.engine)
    r = client.post("/api/v1/institutions", headers=root, json=body(uscc=uscc))
    b = assert_refusal(r, 422, "invalid_uscc", "R-INST-1")
    assert b["detail"]["reason"] == reason
    assert counts(world.engine) == before


def test_uscc_override_only_by_installation_admin_with_reason_and_audited(world, client, root):
    # R-FMT-USCC: an admin may record an override with a reason, which is audited.
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))
    before = counts(world.engine)
    r = client.post(
        "/api/v1/institutions", headers=centre, json=body(uscc=BAD_CHECK_USCC, uscc_override_reason="营业执照原件如此")
    )
    assert_refusal(r, 403, "forbidden", "R-FMT-USCC")
    r = client.post("/api/v1/institutions", headers=root, json=body(uscc=BAD_CHECK_USCC, uscc_override_reason="  "))
    assert_refusal(r, 422, "invalid_uscc", "R-INST-1")
    # A wrong length is never overridable.
    r = client.post(
        "/api/v1/institutions",
        headers=root,
        json=body(uscc="9135020077604965", uscc_override_reason="营业执照原件如此"),
    )
    assert_refusal(r, 422, "invalid_uscc", "R-INST-1")
    assert counts(world.engine) == before
    r = client.post(
        "/api/v1/institutions",
        headers=root,
        json=body(uscc=BAD_CHECK_USCC, uscc_override_reason="营业执照原件如此，已电话核实"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["uscc_override"] is True and r.json()["uscc"] == BAD_CHECK_USCC
    override = [d for a, d in audit_actions(world.engine) if a == "institution.uscc_override"]
    assert override == [{"uscc": BAD_CHECK_USCC, "reason": "营业执照原件如此，已电话核实"}]


def test_only_installation_admin_or_centre_of_that_province_creates(world, client, root):
    iid = make(client, root)
    office = bearer(world.token("office", "admin", iid))
    centre_jl = bearer(world.token("centre-jl", "centre", province="吉林"))
    kiosk = bearer(world.token("k", "kiosk", iid))
    before = counts(world.engine)
    assert_refusal(client.post("/api/v1/institutions", headers=office, json=body(uscc=OTHER_USCC)), 403, "forbidden")
    assert_refusal(
        client.post("/api/v1/institutions", headers=centre_jl, json=body(uscc=OTHER_USCC, province="广东")),
        403,
        "forbidden",
    )
    assert_refusal(client.post("/api/v1/institutions", headers=kiosk, json=body(uscc=OTHER_USCC)), 403, "forbidden")
    assert counts(world.engine) == before
    r = client.post("/api/v1/institutions", headers=centre_jl, json=body(uscc=OTHER_USCC, name="吉林第二机构"))
    assert r.status_code == 201 and r.json()["province"] == "吉林"
    assert_refusal(client.post("/api/v1/institutions", headers=root, json=body()), 409, "uscc_taken", "R-INST-1")
    assert_refusal(
        client.post("/api/v1/institutions", headers=root, json=body(uscc="91110000100000000H", province="火星")),
        422,
        "invalid_province",
    )


def test_centre_sees_only_its_province_others_only_their_own(world, client, root):
    jl = make(client, root)
    gd = make(client, root, uscc=OTHER_USCC, province="广东", name="广州评价中心")
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))
    assert [i["id"] for i in client.get("/api/v1/institutions", headers=centre).json()] == [jl]
    assert client.get(f"/api/v1/institutions/{jl}", headers=centre).status_code == 200
    assert_refusal(client.get(f"/api/v1/institutions/{gd}", headers=centre), 403, "forbidden")
    assert sorted(i["id"] for i in client.get("/api/v1/institutions", headers=root).json()) == [jl, gd]
    for role in ("admin", "proctor", "kiosk"):
        tok = bearer(world.token(f"gd-{role}", role, gd))
        assert [i["id"] for i in client.get("/api/v1/institutions", headers=tok).json()] == [gd]
        assert_refusal(client.get(f"/api/v1/institutions/{jl}", headers=tok), 403, "forbidden")
    assert_refusal(client.get("/api/v1/institutions"), 401, "unauthenticated")


def test_bad_filing_and_scope_are_all_listed_and_change_nothing(world, client, root):
    before = counts(world.engine)
    b = body(valid_until="2028-03-05")
    b["scope"] = [{"occupation_code": "63101", "occupation_name": "电工", "levels": "5、学徒工"}]
    r = client.post("/api/v1/institutions", headers=root, json=b)
    got = assert_refusal(r, 422, "filing_too_long", "R-INST-2")
    assert {(v["code"], v["rule"]) for v in got["detail"]["violations"]} == {
        ("filing_too_long", "R-INST-2"),
        ("invalid_occupation_code", "R-INST-3"),
        ("enterprise_tier_needs_enterprise", "R-LEVEL"),
    }
    b = body()
    b["scope"] = []
    assert_refusal(client.post("/api/v1/institutions", headers=root, json=b), 422, "scope_required", "R-INST-3")
    assert_refusal(
        client.post("/api/v1/institutions", headers=root, json=body(valid_from="2025-02-30")), 422, "invalid_input"
    )
    assert counts(world.engine) == before


# -- filing states and renewal (R-INST-2) ---------------------------------------------


def test_expired_filing_state(client, root):
    iid = make(client, root, valid_from="2023-01-01", valid_until="2025-12-31")
    b = client.get(f"/api/v1/institutions/{iid}", headers=root).json()
    assert (b["filing_state"], b["may_run_exams"], b["renewal"]) == (
        "expired",
        False,
        {"renewal_window": False, "days_left": 0},
    )


def test_suspend_reinstate_revoke_by_the_filing_authority_only(world, client, root):
    iid = make(client, root)
    office = bearer(world.token("office", "admin", iid))
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))
    centre_gd = bearer(world.token("centre-gd", "centre", province="广东"))
    url = f"/api/v1/institutions/{iid}/filing"
    before = counts(world.engine)
    assert_refusal(client.post(url, headers=office, json={"action": "suspend", "reason": "x"}), 403, "forbidden")
    assert_refusal(client.post(url, headers=centre_gd, json={"action": "suspend", "reason": "x"}), 403, "forbidden")
    assert_refusal(client.post(url, headers=centre, json={"action": "suspend"}), 422, "reason_required", "R-INST-2")
    assert_refusal(client.post(url, headers=centre, json={"action": "reinstate"}), 409, "filing_not_suspended")
    assert counts(world.engine) == before
    r = client.post(url, headers=centre, json={"action": "suspend", "reason": "监考安排不规范，整改"})
    assert r.status_code == 200 and (r.json()["filing_state"], r.json()["may_run_exams"]) == ("suspended", False)
    # A suspended institution keeps its data and is still readable.
    assert client.get(f"/api/v1/institutions/{iid}", headers=office).json()["filing_state"] == "suspended"
    assert client.post(url, headers=centre, json={"action": "reinstate"}).json()["filing_state"] == "active"
    r = client.post(url, headers=root, json={"action": "revoke", "reason": "弄虚作假"})
    assert r.json()["filing_state"] == "revoked"
    assert_refusal(client.post(url, headers=root, json={"action": "reinstate"}), 409, "filing_revoked", "R-INST-2")
    assert [a for a, _ in audit_actions(world.engine) if a.startswith("filing.")] == [
        "filing.suspend",
        "filing.reinstate",
        "filing.revoke",
    ]


@pytest.mark.parametrize("until_offset, inside, days_left", [(89, True, 90), (0, True, 1), (90, False, 91)])
def test_renewal_warning_inside_the_90_days(client, root, until_offset, inside, days_left):
    # R-INST-2: the system warns the admin inside the 90 days before expiry.
    until = TODAY + timedelta(days=until_offset)
    iid = make(client, root, valid_from=(until - timedelta(days=3 * 365)).isoformat(), valid_until=until.isoformat())
    b = client.get(f"/api/v1/institutions/{iid}", headers=root).json()
    assert b["renewal"] == {"renewal_window": inside, "days_left": days_left}
    assert ("renewal_window" in {w["code"] for w in b["warnings"]}) is inside


def test_admin_renews_inside_the_window_only(world, client, root):
    until = TODAY + timedelta(days=30)
    iid = make(client, root, valid_from=(until - timedelta(days=1000)).isoformat(), valid_until=until.isoformat())
    office = bearer(world.token("office", "admin", iid))
    url = f"/api/v1/institutions/{iid}/filing"
    new = {
        "action": "renew",
        "number": "吉人社技评备〔2027〕003号",
        "valid_from": (until + timedelta(days=1)).isoformat(),
        "valid_until": "2029-12-26",
    }
    before = counts(world.engine)
    assert_refusal(
        client.post(url, headers=office, json={**new, "valid_until": "2030-12-31"}), 422, "filing_too_long", "R-INST-2"
    )
    assert counts(world.engine) == before
    r = client.post(url, headers=office, json=new)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["renewal"]["renewal_window"] is False and b["next_filing"]["number"] == new["number"]
    assert_refusal(client.post(url, headers=office, json=new), 409, "already_renewed", "R-INST-2")
    other = make(client, root, uscc=OTHER_USCC)
    assert_refusal(
        client.post(
            f"/api/v1/institutions/{other}/filing",
            headers=root,
            json={**new, "valid_from": "2028-03-01", "valid_until": "2031-02-28"},
        ),
        409,
        "outside_renewal_window",
        "R-INST-2",
    )


# -- rooms (R-SITE-1, R-SEAT-1, R-VIDEO-1) ----------------------------------------------


def test_rooms_are_added_with_cameras_and_listed(world, client, root):
    iid = make(client, root)
    office = bearer(world.token("office", "admin", iid))
    r = client.post(f"/api/v1/institutions/{iid}/rooms", headers=office, json=THEORY)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "T01" and [c["code"] for c in r.json()["cameras"]] == ["T01-C1", "T01-C2"]
    r = client.post(
        f"/api/v1/institutions/{iid}/rooms", headers=office, json={"code": "W01", "name": "候考室", "kind": "waiting"}
    )
    assert r.status_code == 201 and r.json()["cameras"] == []
    listed = client.get(f"/api/v1/institutions/{iid}/rooms", headers=office).json()
    assert [(x["code"], x["kind"], x["seats"], len(x["cameras"])) for x in listed] == [
        ("T01", "theory", 30, 2),
        ("W01", "waiting", 0, 0),
    ]
    assert "room.create" in [a for a, _ in audit_actions(world.engine)]


@pytest.mark.parametrize(
    "change, status, code, rule",
    [
        ({"cameras": []}, 422, "camera_required", "R-SITE-1"),
        ({"kind": "skill", "cameras": []}, 422, "camera_required", "R-SITE-1"),
        ({"seats": 36, "rows": 6, "cols": 6}, 422, "too_many_seats", "R-SEAT-1"),
        ({"seats": 30, "rows": 4}, 422, "seats_exceed_layout", "R-SEAT-1"),
        ({"code": "T01"}, 409, "room_code_taken", "R-SITE-1"),
        ({"code": "T09", "cameras": [{"code": "T01-C1", "name": "x"}]}, 409, "camera_code_taken", "R-VIDEO-1"),
    ],
)
def test_bad_rooms_are_refused_and_change_nothing(world, client, root, change, status, code, rule):
    iid = make(client, root)
    assert client.post(f"/api/v1/institutions/{iid}/rooms", headers=root, json=THEORY).status_code == 201
    before = counts(world.engine)
    r = client.post(f"/api/v1/institutions/{iid}/rooms", headers=root, json={**THEORY, "code": "T02", **change})
    assert_refusal(r, status, code, rule)
    assert counts(world.engine) == before


def test_another_institutions_admin_gets_403_on_rooms_and_staff(world, client, root):
    mine = make(client, root)
    other = make(client, root, uscc=OTHER_USCC, name="另一机构")
    intruder = bearer(world.token("other-office", "admin", other))
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))
    before = counts(world.engine)
    for tok in (intruder, centre):
        assert_refusal(client.post(f"/api/v1/institutions/{mine}/rooms", headers=tok, json=THEORY), 403, "forbidden")
        assert_refusal(
            client.post(f"/api/v1/institutions/{mine}/staff", headers=tok, json=examiner()), 403, "forbidden"
        )
    assert_refusal(client.get(f"/api/v1/institutions/{mine}/rooms", headers=intruder), 403, "forbidden")
    assert_refusal(client.get(f"/api/v1/institutions/{mine}/staff", headers=intruder), 403, "forbidden")
    assert counts(world.engine) == before
    # The centre of the province reads (R-INST: centre reads all institutions of its province).
    assert client.get(f"/api/v1/institutions/{mine}/rooms", headers=centre).status_code == 200


# -- staff (R-STAFF-1..3, R-ID-1, R-PRIV-1) ----------------------------------------------


def test_staff_added_and_listed_with_id_masked_except_for_admin(world, client, root):
    iid = make(client, root)
    office = bearer(world.token("office", "admin", iid))
    person = examiner()
    r = client.post(f"/api/v1/institutions/{iid}/staff", headers=office, json=person)
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == person["id_number"] and r.json()["flags"] == []
    proctor = {
        **examiner(2),
        "name": "王建国",
        "roles": ["proctor", "staff"],
        "skill_level": None,
        "title": "none",
        "examiner_card_valid_until": None,
        "occupations": [],
    }
    assert client.post(f"/api/v1/institutions/{iid}/staff", headers=office, json=proctor).status_code == 201
    assert [s["id_number"] for s in client.get(f"/api/v1/institutions/{iid}/staff", headers=office).json()] == [
        person["id_number"],
        proctor["id_number"],
    ]
    for tok in (bearer(world.token("centre-jl", "centre", province="吉林")), bearer(world.token("p1", "proctor", iid))):
        listed = client.get(f"/api/v1/institutions/{iid}/staff", headers=tok).json()
        assert [s["id_number"] for s in listed] == [
            mask_id_number(person["id_number"]),
            mask_id_number(proctor["id_number"]),
        ]
    # R-PRIV-1: the audit trail holds the masked number only.
    assert person["id_number"] not in json.dumps(audit_actions(world.engine), ensure_ascii=False)
    with Session(world.engine) as db:
        assert full_time_staff_count(db, iid) == 2  # R-STAFF-1


@pytest.mark.parametrize(
    "change, code, rule",
    [
        ({"roles": ["proctor"], "is_trainer": True}, "trainer_cannot_proctor", "R-STAFF-3"),
        ({"skill_level": 4, "title": "none"}, "examiner_not_qualified", "R-STAFF-2"),
        ({"examiner_card_valid_until": "2026-11-25"}, "examiner_card_expired", "R-STAFF-2"),
        ({"examiner_card_valid_until": None}, "examiner_card_required", "R-STAFF-2"),
        ({"id_number": "11010519491231002Y"}, "invalid_id_number", "R-ID-1"),
        ({"roles": []}, "roles_required", None),
    ],
)
def test_bad_staff_refused_and_change_nothing(world, client, root, change, code, rule):
    iid = make(client, root)
    before = counts(world.engine)
    r = client.post(f"/api/v1/institutions/{iid}/staff", headers=root, json=examiner(**change))
    assert_refusal(r, 422, code, rule)
    assert counts(world.engine) == before


def test_duplicate_staff_refused_and_an_expired_card_is_flagged_later(world, client, root, clock):
    iid = make(client, root)
    url = f"/api/v1/institutions/{iid}/staff"
    assert client.post(url, headers=root, json=examiner(examiner_card_valid_until="2026-12-31")).status_code == 201
    assert_refusal(client.post(url, headers=root, json=examiner()), 409, "staff_exists")
    clock.advance(days=40)
    (s,) = client.get(url, headers=root).json()
    assert [(f["code"], f["rule"]) for f in s["flags"]] == [("examiner_card_expired", "R-STAFF-2")]


# -- conflicts of interest (R-RECUSE-1) -------------------------------------------------


def test_conflicts_declared_per_candidate_or_employer(world, client, db, clock):
    from tests.builders import exam_world

    w = exam_world(db, clock.now(), TODAY + timedelta(days=20))
    iid, sid = w["institution"].id, w["staff"]["examiner"][0].id
    cand = w["candidates"][0]
    office = bearer(world.token("office", "admin", iid))
    me = bearer(world.token("evaluator1", "evaluator", iid, staff_id=sid))
    someone = bearer(world.token("evaluator2", "evaluator", iid, staff_id=w["staff"]["examiner"][1].id))
    url = f"/api/v1/staff/{sid}/conflicts"
    r = client.post(url, headers=me, json={"kind": "relative", "candidate_id": cand.id, "note": "表兄弟"})
    assert r.status_code == 201 and r.json()["candidate_id"] == cand.id
    r = client.post(url, headers=office, json={"kind": "colleague", "employer": cand.employer})
    assert r.status_code == 201 and r.json()["employer"] == cand.employer
    before = counts(world.engine)
    assert_refusal(
        client.post(url, headers=someone, json={"kind": "trained", "training_org": "培训学校1"}), 403, "forbidden"
    )
    assert_refusal(client.get(url, headers=someone), 403, "forbidden")  # R-PRIV-1: not a colleague's to read
    assert_refusal(
        client.post(url, headers=office, json={"kind": "relative", "employer": "第1机械厂"}),
        422,
        "conflict_target_mismatch",
        "R-RECUSE-1",
    )
    assert_refusal(
        client.post(url, headers=office, json={"kind": "colleague", "employer": cand.employer}),
        409,
        "conflict_already_declared",
        "R-RECUSE-1",
    )
    assert_refusal(
        client.post(url, headers=office, json={"kind": "relative", "candidate_id": 999999}), 404, "not_found"
    )
    assert counts(world.engine) == before
    assert client.get(url, headers=me).json() == client.get(url, headers=office).json()
    listed = client.get(url, headers=office).json()
    assert [(c["kind"], c["candidate_id"], c["employer"]) for c in listed] == [
        ("relative", cand.id, None),
        ("colleague", None, cand.employer),
    ]
    assert [a for a, _ in audit_actions(world.engine)].count("staff.conflict_declare") == 2
