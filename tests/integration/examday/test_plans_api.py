"""Plans over HTTP on SQLite and PostgreSQL: batches, the candidate import, masked ID
numbers and the eligibility review. Filing and its rules: test_plans_filing.py."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook
from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from examday.identity import mask_id_number
from tests.integration.examday.plans_world import (
    EXAM,
    counts,
    create,
    csv_bytes,
    office,
    person,
    plan_body,
    ready,
    upload,
)
from tests.support import OTHER_USCC, assert_refusal, bearer

# -- batches -------------------------------------------------------------------------


def test_create_a_batch_with_its_config_sessions_and_audit(world, client, clock):
    o = office(world, clock)
    r = client.post("/api/v1/batches", json=plan_body(o, config={"candidates_per_examiner": 15}), headers=o.headers)
    assert r.status_code == 201 and r.json()["status"] == "draft"
    bid = r.json()["id"]
    got = client.get(f"/api/v1/batches/{bid}", headers=o.headers).json()
    assert got["parts"] == ["theory", "skill"]  # R-PLAN-3: the level's parts when none are given
    # R-TIME-1: the strict profile's 15 minutes; R-RATIO-1: the occupation's own skill ratio.
    assert got["config"]["entry_close_minutes"] == 15 and got["config"]["candidates_per_examiner"] == 15
    assert got["config"]["max_per_theory_room"] == 30 and got["config"]["pass_mark"] == 60
    theory = got["sessions"][0]
    assert [x["code"] for x in theory["rooms"]] == ["T01", "T02"]
    assert [p["id"] for p in theory["proctors"]["T01"]] == o.proctors[:2]
    assert theory["starts_at"] == "2026-12-14T09:00:00+08:00"
    assert got["latest_filing_date"] == "2026-11-30" and got["provisional_years"] == []
    with Session(world.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "batch.create")).one()
    assert entry.object_id == str(bid) and json.loads(entry.diff)["config"]["candidates_per_examiner"] == 15


def test_bad_plan_input_lists_every_error_and_creates_nothing(world, client, clock):
    o = office(world, clock)
    other = office(world, clock, uscc=OTHER_USCC)
    body = plan_body(o, level=7)
    body["sessions"][0]["rooms"] = ["T01", "T99"]
    body["sessions"][0]["proctors"] = {"T01": [other.proctors[0]], "S01": [o.proctors[0]]}
    body["sessions"][1]["part"] = "review"
    body["config"] = {"pass_mark": 50}
    before = counts(world.engine)
    r = assert_refusal(client.post("/api/v1/batches", json=body, headers=o.headers), 422, "invalid_batch")
    got = {e["code"] for e in r["detail"]["errors"]}
    assert got == {
        "invalid_level",
        "unknown_room",
        "unknown_staff",
        "proctor_room_not_in_session",
        "session_part_not_in_plan",
        "invalid_config",
    }
    assert counts(world.engine) == before


def test_only_the_institutions_exam_office_creates_batches(world, client, clock):
    o = office(world, clock)
    other = office(world, clock, uscc=OTHER_USCC)
    proctor = world.token("p1", "proctor", o.iid)
    before = counts(world.engine)
    assert_refusal(client.post("/api/v1/batches", json=plan_body(o), headers=bearer(proctor)), 403, "forbidden")
    assert_refusal(client.post("/api/v1/batches", json=plan_body(o), headers=other.headers), 403, "forbidden")
    assert counts(world.engine) == before


def test_list_batches_by_scope_and_date(world, client, clock):
    jl = office(world, clock)
    gd = office(world, clock, uscc=OTHER_USCC, province="广东")
    mine = create(client, jl)
    theirs = create(client, gd, exam=EXAM.replace(day=15))
    root = world.token("root", "admin")
    centre = world.token("centre-jl", "centre", province="吉林")
    kiosk = world.token("k1", "kiosk", jl.iid)

    def ids(headers, q=""):
        r = client.get(f"/api/v1/batches{q}", headers=headers)
        assert r.status_code == 200, r.text
        return sorted(b["id"] for b in r.json())

    assert ids(jl.headers) == [mine] and ids(gd.headers) == [theirs]
    assert ids(bearer(centre)) == [mine] and ids(bearer(kiosk)) == [mine]
    assert ids(bearer(root)) == sorted([mine, theirs])
    assert ids(bearer(root), "?date=2026-12-15") == [theirs]
    one = client.get("/api/v1/batches?date=2026-12-14", headers=jl.headers).json()[0]
    assert {"id", "institution_id", "occupation_code", "level", "exam_date", "status"} <= set(one)
    assert_refusal(client.get(f"/api/v1/batches/{theirs}", headers=jl.headers), 403, "forbidden")


# -- candidates ----------------------------------------------------------------------


def test_import_assigns_tickets_and_audits_only_count_and_digest(world, client, clock):
    o = office(world, clock)
    bid = create(client, o)
    content = csv_bytes(12)
    r = upload(client, o, bid, content)
    assert r.status_code == 200 and r.json()["imported"] == 12
    rows = client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()
    assert [c["ticket_number"] for c in rows] == [f"2026{bid:04d}{k:05d}" for k in range(1, 13)]
    assert rows[0]["id_number"] == person(1)[1]  # the admin sees the number in full
    assert {c["status"] for c in rows} == {"registered"} and {c["eligibility"] for c in rows} == {"pending"}
    with Session(world.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "candidates.import")).one()
    diff = json.loads(entry.diff)
    assert diff["count"] == 12 and len(diff["sha256"]) == 64
    # R-PRIV-1: no ID number on the audit chain.
    assert not any(person(k)[1] in entry.diff for k in range(1, 13))
    # The same people again are all duplicates in the batch.
    before = counts(world.engine)
    body = assert_refusal(upload(client, o, bid, content), 422, "import_rejected")
    assert {e["code"] for e in body["detail"]["errors"]} == {"duplicate_in_batch"}
    assert body["detail"]["rows"] == list(range(2, 14))
    assert counts(world.engine) == before


def test_a_5000_row_file_with_one_bad_row_imports_nothing_then_imports_fixed(world, client, clock):
    # R-ID-1: all or nothing; the answer names the row.
    o = office(world, clock)
    bid = create(client, o)
    _, good = person(3172)
    broken = good[:10] + "13" + good[12:]  # month 13: not a birth date
    before = counts(world.engine)
    r = upload(client, o, bid, csv_bytes(5000, bad={3171: broken}))
    body = assert_refusal(r, 422, "import_rejected", "R-ID-1")
    assert body["detail"]["rows"] == [3172]
    assert body["detail"]["errors"][0]["column"] == "id_number"
    assert body["detail"]["errors"][0]["reason"] == "bad_birth_date"
    assert "3172" in body["message"] and "3172" in body["message_en"]
    assert counts(world.engine) == before
    r = upload(client, o, bid, csv_bytes(5000))
    assert r.status_code == 200 and r.json()["imported"] == 5000
    assert counts(world.engine)["candidates"] == 5000


def test_gbk_csv_and_xlsx_upload(world, client, clock):
    o = office(world, clock)
    bid = create(client, o)
    r = upload(client, o, bid, csv_bytes(3, encoding="gbk"), "名单-gbk.csv")
    assert r.status_code == 200 and r.json()["imported"] == 3
    wb = Workbook()
    wb.active.append(["姓名", "身份证号", "工作单位", "培训机构", "电话"])
    for k in (4, 5):
        name, idn = person(k)
        wb.active.append([name, idn, "第一机械厂", "培训学校1", None])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post(
        f"/api/v1/batches/{bid}/candidates",
        headers=o.headers,
        files={
            "file": ("名单.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        },
    )
    assert r.status_code == 200 and r.json()["imported"] == 2
    names = [c["name"] for c in client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()]
    assert names == [person(k)[0] for k in (1, 2, 3, 4, 5)]
    assert_refusal(
        client.post(f"/api/v1/batches/{bid}/candidates", headers=o.headers, files={"other": ("x", b"")}),
        422,
        "file_required",
    )


def test_id_numbers_are_masked_for_every_role_but_admin(world, client, clock):
    # R-PRIV-1
    o = office(world, clock)
    bid = ready(client, o, n=3)
    full = [c["id_number"] for c in client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()]
    assert all(len(x) == 18 and "*" not in x for x in full)
    # A proctor lists only their own rooms' candidates, masked too (test_access_policy.py).
    for role in ("kiosk", "evaluator", "chief", "supervisor"):
        tok = world.token(f"u-{role}", role, o.iid)
        rows = client.get(f"/api/v1/batches/{bid}/candidates", headers=bearer(tok)).json()
        assert [c["id_number"] for c in rows] == [mask_id_number(x) for x in full]
        assert "phone" not in rows[0]
    centre = world.token("centre", "centre", province="吉林")
    rows = client.get(f"/api/v1/batches/{bid}/candidates", headers=bearer(centre)).json()
    assert [c["id_number"] for c in rows] == [mask_id_number(x) for x in full]


def test_eligibility_records_the_reviewer(world, client, clock):
    # R-PLAN-4
    o = office(world, clock, username="reviewer-li")
    bid = ready(client, o, n=4, review=False)
    rows = client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()
    first = rows[0]["id"]
    before = counts(world.engine)
    assert_refusal(
        client.post(
            f"/api/v1/batches/{bid}/eligibility",
            headers=o.headers,
            json={"candidate_ids": [first], "decision": "ineligible"},
        ),
        422,
        "note_required",
    )
    assert_refusal(
        client.post(
            f"/api/v1/batches/{bid}/eligibility",
            headers=o.headers,
            json={"candidate_ids": [first, 999999], "decision": "eligible"},
        ),
        422,
        "unknown_candidates",
    )
    assert counts(world.engine) == before
    r = client.post(
        f"/api/v1/batches/{bid}/eligibility",
        headers=o.headers,
        json={"candidate_ids": [first], "decision": "ineligible", "note": "工作年限不足"},
    )
    assert r.status_code == 200 and r.json()["reviewed"] == 1
    r = client.post(
        f"/api/v1/batches/{bid}/eligibility", headers=o.headers, json={"candidate_ids": "all", "decision": "eligible"}
    )
    assert r.json()["reviewed"] == 3  # "all" leaves the decision already taken alone
    rows = client.get(f"/api/v1/batches/{bid}/candidates", headers=o.headers).json()
    assert [c["eligibility"] for c in rows] == ["ineligible", "eligible", "eligible", "eligible"]
    assert {c["reviewed_by_username"] for c in rows} == {"reviewer-li"}
    assert {c["reviewed_at"] for c in rows} == {clock.now().astimezone(CST).isoformat()}
    assert rows[0]["eligibility_note"] == "工作年限不足"
    proctor = world.token("p", "proctor", o.iid)
    assert_refusal(
        client.post(
            f"/api/v1/batches/{bid}/eligibility",
            headers=bearer(proctor),
            json={"candidate_ids": "all", "decision": "eligible"},
        ),
        403,
        "forbidden",
    )


def test_a_draft_changes_sessions_and_config_on_the_audit_chain(world, client, clock):
    o = office(world, clock)
    bid = create(client, o)
    body = plan_body(o)
    body["sessions"][0]["rooms"] = ["T02", "T01"]
    body["sessions"][0]["proctors"] = {"T01": o.proctors[2:4], "T02": o.proctors[0:2]}
    before = counts(world.engine)
    bad = client.patch(
        f"/api/v1/batches/{bid}",
        headers=o.headers,
        json={"sessions": body["sessions"], "config": {"aggregation": "max"}},
    )
    assert_refusal(bad, 422, "invalid_batch")
    assert counts(world.engine) == before
    r = client.patch(
        f"/api/v1/batches/{bid}",
        headers=o.headers,
        json={"sessions": body["sessions"], "config": {"entry_close_minutes": 30}},
    )
    assert r.status_code == 200, r.text
    got = client.get(f"/api/v1/batches/{bid}", headers=o.headers).json()
    assert [p["id"] for p in got["sessions"][0]["proctors"]["T01"]] == o.proctors[2:4]
    assert got["config"]["entry_close_minutes"] == 30
    with Session(world.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "batch.update")).one()
    assert set(json.loads(entry.diff)) == {"sessions", "config"}
    proctor = world.token("p", "proctor", o.iid)
    assert_refusal(
        client.patch(f"/api/v1/batches/{bid}", headers=bearer(proctor), json={"config": {}}), 403, "forbidden"
    )
