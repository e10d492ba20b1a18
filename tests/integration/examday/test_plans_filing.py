"""Filing a plan over HTTP on SQLite and PostgreSQL (R-PLAN-1): one test per rule the
check enforces, five broken rules in one answer, the freeze, and withdrawal.

Each rule test starts from a plan that files, breaks one rule, and must see
that rule named while nothing changes.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from examday.registry.models import Camera, Filing, Staff
from tests.integration.examday.plans_world import batch_row, counts, create, csv_bytes, office, plan_body, ready, upload
from tests.support import assert_refusal, bearer


def file(client, o, bid):
    return client.post(f"/api/v1/batches/{bid}/file", headers=o.headers)


def rejected(client, o, bid, engine) -> dict[str, dict]:
    """File the plan, expect the refusal, and check that nothing changed; the violations by code."""
    before = counts(engine)
    body = assert_refusal(file(client, o, bid), 422, "plan_rejected", "R-PLAN-1")
    assert counts(engine) == before and batch_row(engine, bid).status == "draft"
    for v in body["detail"]["violations"]:
        assert set(v) >= {"code", "rule", "message", "message_en"} and v["message"] != v["message_en"]
    return {v["code"]: v for v in body["detail"]["violations"]}


def edit(engine, fn) -> None:
    with Session(engine, expire_on_commit=False) as db:
        fn(db)
        db.commit()


def test_a_valid_plan_files_and_records_who_and_when(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)
    check = client.get(f"/api/v1/batches/{bid}/check", headers=o.headers).json()
    assert check["ok"] and check["violations"] == [] and check["provisional_years"] == []
    r = file(client, o, bid)
    assert r.status_code == 200 and r.json()["status"] == "filed"
    b = batch_row(world.engine, bid)
    assert b.status == "filed" and b.filed_at == clock.now() and b.filed_by is not None
    with Session(world.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "batch.file")).one()
    assert json.loads(entry.diff)["config"]["proctors_per_theory_room"] == 2  # the filed values, on the chain


def test_r_inst_2_filing_suspended(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)

    def suspend(db):
        f = db.exec(select(Filing).where(Filing.institution_id == o.iid)).one()
        f.status = "suspended"
        db.add(f)

    edit(world.engine, suspend)
    got = rejected(client, o, bid, world.engine)
    assert got["filing_not_active"]["rule"] == "R-INST-2"


def test_r_inst_3_occupation_outside_scope(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o, occupation_code="4-01-02-01")
    assert rejected(client, o, bid, world.engine)["outside_scope"]["rule"] == "R-INST-3"


def test_r_staff_1_four_full_time_staff(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)

    def part_time(db):
        for s in db.exec(select(Staff).where(Staff.institution_id == o.iid).order_by(Staff.id)).all()[4:]:
            s.full_time = False
            db.add(s)

    edit(world.engine, part_time)
    got = rejected(client, o, bid, world.engine)
    assert got["too_few_full_time_staff"]["rule"] == "R-STAFF-1"
    assert got["too_few_full_time_staff"]["detail"]["have"] == 4


def test_r_site_1_a_theory_room_without_camera(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)

    def unplug(db):
        for cam in db.exec(select(Camera).where(Camera.room_id == o.rooms["T02"])).all():
            db.delete(cam)

    edit(world.engine, unplug)
    assert rejected(client, o, bid, world.engine)["too_few_theory_rooms"]["rule"] == "R-SITE-1"


def test_r_site_1_only_one_theory_room(world, client, clock):
    o = office(world, clock)
    body = plan_body(o)
    body["sessions"][0]["rooms"] = ["T01"]
    body["sessions"][0]["proctors"] = {"T01": o.proctors[:2]}
    bid = ready(client, o, sessions=body["sessions"])
    assert rejected(client, o, bid, world.engine)["too_few_theory_rooms"]["detail"]["have"] == 1


def test_r_ratio_1_one_proctor_in_a_theory_room(world, client, clock):
    o = office(world, clock)
    body = plan_body(o)
    body["sessions"][0]["proctors"] = {"T01": o.proctors[:1], "T02": o.proctors[2:4]}
    bid = ready(client, o, sessions=body["sessions"])
    v = rejected(client, o, bid, world.engine)["too_few_proctors"]
    assert v["rule"] == "R-RATIO-1" and v["detail"]["rooms"][0]["room"] == "T01"


def test_r_ratio_1_skill_examiners_per_five_candidates(world, client, clock):
    o = office(world, clock)
    body = plan_body(o)
    body["sessions"][1]["proctors"] = {"S01": o.examiners[:1]}
    bid = ready(client, o, sessions=body["sessions"])  # 10 candidates, one examiner
    assert rejected(client, o, bid, world.engine)["too_few_examiners"]["rule"] == "R-RATIO-1"


def test_r_staff_3_a_trainer_proctors(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)

    def trainer(db):
        s = db.get(Staff, o.proctors[1])
        s.is_trainer = True
        db.add(s)

    edit(world.engine, trainer)
    v = rejected(client, o, bid, world.engine)["trainer_as_proctor"]
    assert v["rule"] == "R-STAFF-3" and v["detail"]["staff_ids"] == [o.proctors[1]]


def test_r_plan_1_filed_too_late(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)
    clock.advance(days=5)  # 2026-12-01: past the last filing day, 2026-11-30
    v = rejected(client, o, bid, world.engine)["filed_too_late"]
    assert v["rule"] == "R-PLAN-1" and v["detail"]["latest_filing_date"] == "2026-11-30"


def test_r_plan_1_ten_working_days_across_national_day(world, client, clock):
    # R-PLAN-1, R-CAL: for 2026-10-12 the last day is 2026-09-21, though 14 weekdays follow the 22nd.
    clock.at = datetime(2026, 9, 22, 9, 0, tzinfo=CST)
    o = office(world, clock)
    bid = ready(client, o, exam=date(2026, 10, 12))
    v = rejected(client, o, bid, world.engine)["filed_too_late"]
    assert v["detail"]["latest_filing_date"] == "2026-09-21"
    clock.at = datetime(2026, 9, 21, 17, 0, tzinfo=CST)
    assert file(client, o, bid).status_code == 200


def test_r_plan_1_sessions_outside_the_exam_date_and_a_room_booked_twice(world, client, clock):
    o = office(world, clock)
    first = ready(client, o)
    assert file(client, o, first).status_code == 200
    body = plan_body(o)
    body["sessions"][1]["ends_at"] = "2026-12-15T01:00:00+08:00"
    second = ready(client, o, sessions=body["sessions"])  # same rooms, same morning as the filed plan
    got = rejected(client, o, second, world.engine)
    assert got["session_outside_exam_date"]["rule"] == "R-PLAN-1"
    assert got["room_double_booked"]["detail"]["rooms"] == ["S01", "T01", "T02"]
    assert "staff_double_booked" in got


def test_r_plan_2_skill_before_theory_ends(world, client, clock):
    o = office(world, clock)
    body = plan_body(o)
    body["sessions"][1]["starts_at"] = "2026-12-14T10:00:00+08:00"
    bid = ready(client, o, sessions=body["sessions"])
    assert rejected(client, o, bid, world.engine)["parts_out_of_order"]["rule"] == "R-PLAN-2"


def test_r_plan_3_level_2_needs_the_review(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o, level=2, parts=["theory", "skill"], sessions=plan_body(o, level=4)["sessions"])
    v = rejected(client, o, bid, world.engine)["wrong_parts"]
    assert v["rule"] == "R-PLAN-3" and v["detail"]["required"] == ["theory", "skill", "review"]
    full = ready(client, o, level=2, exam=date(2026, 12, 15))
    assert file(client, o, full).status_code == 200


def test_r_plan_4_every_candidate_reviewed(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o, review=False)
    v = rejected(client, o, bid, world.engine)["eligibility_not_reviewed"]
    assert v["rule"] == "R-PLAN-4" and v["detail"]["count"] == 10


def test_r_seat_1_more_candidates_than_seats(world, client, clock):
    o = office(world, clock)
    bid = create(client, o, config={"candidates_per_examiner": 100})
    assert upload(client, o, bid, csv_bytes(61)).status_code == 200
    client.post(
        f"/api/v1/batches/{bid}/eligibility", json={"candidate_ids": "all", "decision": "eligible"}, headers=o.headers
    )
    body = assert_refusal(file(client, o, bid), 422, "plan_rejected")
    seats = {v["detail"]["part"]: v for v in body["detail"]["violations"] if v["code"] == "not_enough_seats"}
    # Two theory rooms of 30 desks; one skill room of 10 stations in one sitting.
    assert seats["theory"]["rule"] == "R-SEAT-1" and seats["theory"]["detail"]["seats"] == 60
    assert seats["skill"]["detail"]["seats"] == 10 and batch_row(world.engine, bid).status == "draft"


def test_a_plan_breaking_five_rules_gets_all_five_in_one_answer(world, client, clock):
    o = office(world, clock)
    body = plan_body(o, level=3)
    body["sessions"][0]["rooms"] = ["T01"]  # R-SITE-1
    body["sessions"][0]["proctors"] = {"T01": o.proctors[:1]}  # R-RATIO-1
    bid = ready(client, o, review=False, occupation_code="4-01-02-01", sessions=body["sessions"])  # R-INST-3, R-PLAN-4
    clock.advance(days=10)  # R-PLAN-1
    got = rejected(client, o, bid, world.engine)
    assert {v["rule"] for v in got.values()} >= {"R-SITE-1", "R-RATIO-1", "R-INST-3", "R-PLAN-4", "R-PLAN-1"}
    check = client.get(f"/api/v1/batches/{bid}/check", headers=o.headers).json()
    assert {v["code"] for v in check["violations"]} == set(got)


def test_a_filed_plan_is_frozen_until_withdrawn(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)
    assert file(client, o, bid).status_code == 200
    before = counts(world.engine)
    h = o.headers
    assert_refusal(
        client.patch(f"/api/v1/batches/{bid}", json={"config": {"max_per_theory_room": 25}}, headers=h),
        409,
        "plan_frozen",
        "R-PLAN-1",
    )
    assert_refusal(upload(client, o, bid, csv_bytes(2, start=900)), 409, "plan_frozen")
    assert_refusal(
        client.post(
            f"/api/v1/batches/{bid}/eligibility", headers=h, json={"candidate_ids": "all", "decision": "eligible"}
        ),
        409,
        "plan_frozen",
    )
    assert_refusal(file(client, o, bid), 409, "plan_frozen")
    assert counts(world.engine) == before
    r = client.post(f"/api/v1/batches/{bid}/withdraw", json={"reason": "换考场"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "draft"
    r = client.patch(f"/api/v1/batches/{bid}", json={"config": {"max_per_theory_room": 25}}, headers=h)
    assert r.status_code == 200
    assert client.get(f"/api/v1/batches/{bid}", headers=h).json()["config"]["max_per_theory_room"] == 25
    assert file(client, o, bid).status_code == 200
    with Session(world.engine) as db:
        actions = [
            e.action
            for e in db.exec(select(AuditEntry).where(AuditEntry.object_id == str(bid)).order_by(AuditEntry.seq)).all()
        ]
    assert actions[-4:] == ["batch.file", "batch.withdraw", "batch.update", "batch.file"]


def test_no_withdrawal_on_exam_day_and_only_by_the_office(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)
    assert file(client, o, bid).status_code == 200
    proctor = world.token("p", "proctor", o.iid)
    assert_refusal(client.post(f"/api/v1/batches/{bid}/withdraw", headers=bearer(proctor)), 403, "forbidden")
    clock.at = datetime(2026, 12, 14, 7, 0, tzinfo=CST)
    before = counts(world.engine)
    assert_refusal(client.post(f"/api/v1/batches/{bid}/withdraw", headers=o.headers), 409, "exam_day_reached")
    assert counts(world.engine) == before and batch_row(world.engine, bid).status == "filed"


def test_a_candidate_withdraws_from_a_filed_plan(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o, n=3)
    assert file(client, o, bid).status_code == 200
    cid = client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()[1]["id"]
    r = client.post(f"/api/v1/batches/{bid}/candidates/{cid}/withdraw", json={"reason": "生病"}, headers=o.headers)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    rows = client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()
    assert [c["status"] for c in rows] == ["registered", "withdrawn", "registered"]
    assert_refusal(
        client.post(f"/api/v1/batches/{bid}/candidates/{cid}/withdraw", headers=o.headers), 409, "already_withdrawn"
    )


def test_check_names_provisional_years(world, client, clock):
    # R-CAL: 2027's holiday notice is not known; the answer says the deadline is provisional.
    o = office(world, clock)
    bid = create(client, o, exam=date(2027, 1, 20))
    check = client.get(f"/api/v1/batches/{bid}/check", headers=o.headers).json()
    assert check["provisional_years"] == [2027] and not check["ok"]
    assert client.get(f"/api/v1/batches/{bid}", headers=o.headers).json()["provisional_years"] == [2027]
    body = assert_refusal(file(client, o, bid), 422, "plan_rejected")
    assert body["detail"]["provisional_years"] == [2027]
