"""Attendance and incidents feed results (issue #15): R-ID-1, R-DISC-1, through the API.

Reproduced: a tier (c) incident (an electronic device) left the candidate's result ``pass``,
and a candidate who never checked in was scored and passed. Now a part counts only for a
candidate admitted to its session — at the door, or by a proctor by hand with a reason —
and an incident applies its tier: (a) that part void, (b) that part treated as cheating,
(c) every part of the sitting void; the reason shows on the scores, the export and the
public page, and the centre lists the (b) and (c) incidents.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime

from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from examday.plans.models import Candidate, ExamSession, Seat, SessionRoom
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal, bearer

TODAY = datetime(2026, 11, 26, tzinfo=CST).date()  # theory 09:00-10:30 in T01/T02, skill 14:00 in S01


def _at(clock, h: int, m: int) -> None:
    clock.at = datetime(2026, 11, 26, h, m, tzinfo=CST)


def _seat(engine, sw) -> dict[int, str]:
    """Round-robin over T01 and T02, straight into the table (seating is another part)."""
    with Session(engine) as db:
        theory = db.exec(
            select(ExamSession).where(ExamSession.batch_id == sw.batch_id, ExamSession.part == "theory")
        ).one()
        rooms = db.exec(
            select(SessionRoom.room_id).where(SessionRoom.session_id == theory.id).order_by(SessionRoom.room_id)
        ).all()
        out = {}
        for i, cid in enumerate(sw.candidates):
            db.add(
                Seat(batch_id=sw.batch_id, part="theory", candidate_id=cid, room_id=rooms[i % 2], seat_no=i // 2 + 1)
            )
            out[cid] = "T01" if i % 2 == 0 else "T02"
        db.commit()
        return out


def _proctors(engine, world, sw) -> dict[str, dict[str, str]]:
    from examday.plans.models import ProctorAssignment

    with Session(engine) as db:
        rows = db.exec(select(ProctorAssignment).order_by(ProctorAssignment.id)).all()
        t01, t02 = rows[0].staff_id, rows[2].staff_id
    return {
        "T01": bearer(world.token("proctor-t01", "proctor", sw.institution_id, staff_id=t01)),
        "T02": bearer(world.token("proctor-t02", "proctor", sw.institution_id, staff_id=t02)),
    }


def _desk(client, sw, kiosk, cid: int):
    with Session(sw.engine) as db:
        c = db.get(Candidate, cid)
        body = {"ticket_number": c.ticket_number, "batch_id": sw.batch_id, "id_number": c.id_number}
    r = client.post("/api/v1/checkins", headers=kiosk, json={**body, "kiosk_nonce": uuid.uuid4().hex})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    return r


def test_the_exam_day_decides_the_results_R_ID_1_R_DISC_1(client, world, engine, clock):
    sw = build(client, world, engine, clock, n_candidates=5, exam_day=TODAY, admit=False)
    a, b, c, d, e = sw.candidates  # a: tier (a), b: tier (b), c: tier (c), d: admitted by hand, e: never came
    room = _seat(engine, sw)
    proctor = _proctors(engine, world, sw)
    kiosk = bearer(world.token("kiosk1", "kiosk", sw.institution_id))
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))

    _at(clock, 8, 40)
    for cid in (a, b, c):
        _desk(client, sw, kiosk, cid)
    _at(clock, 9, 5)
    url = f"/api/v1/batches/{sw.batch_id}"
    manual = {"room_code": room[d], "candidate_id": d, "reason": ""}
    assert_refusal(client.post(f"{url}/admissions", json=manual, headers=proctor[room[d]]), 422, "reason_required")
    other = "T02" if room[d] == "T01" else "T01"
    assert_refusal(
        client.post(f"{url}/admissions", json={**manual, "reason": "x"}, headers=proctor[other]), 403, "forbidden"
    )
    manual["reason"] = "身份证读卡失败，核对临时身份证明后放行"
    r = client.post(f"{url}/admissions", json=manual, headers=proctor[room[d]])
    assert r.status_code == 201 and r.json()["via"] == "proctor", r.text
    assert_refusal(client.post(f"{url}/admissions", json=manual, headers=proctor[room[d]]), 409, "already_checked_in")
    with Session(engine) as db:
        admitted = [x for x in db.exec(select(AuditEntry)).all() if x.action == "checkin.admit"]
        assert len(admitted) == 1 and json.loads(admitted[0].diff)["reason"] == manual["reason"]

    _at(clock, 9, 30)
    for cid, kind in ((a, "disturbance"), (b, "copying"), (c, "using_electronic_device")):
        body = {"room_code": room[cid], "candidate_id": cid, "kind": kind, "description": "监考记录"}
        r = client.post(f"{url}/incidents", json=body, headers=proctor[room[cid]])
        assert r.status_code == 201, r.text

    sw.sit([a, b, c, d], parts=("skill",))  # through the skill sitting's door
    _at(clock, 14, 30)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    for cid in (a, b, c, d):
        for i in range(3):
            assert sw.enter(i, cid, 80).status_code == 201
    # e never came through any door: no skill score can be entered, and the theory file's 80 does not count.
    assert_refusal(sw.enter(0, e, 80), 409, "candidate_not_admitted", "R-ID-1")
    assert sw.theory().status_code == 201

    got = {x["id"]: x for x in sw.scores()["candidates"]}
    assert {cid: got[cid]["result"] for cid in sw.candidates} == {
        a: "void",
        b: "cheating",
        c: "void",
        d: "pass",
        e: "absent",
    }
    assert (got[a]["parts"]["theory"]["status"], got[a]["parts"]["skill"]["status"]) == ("void", "final")
    assert got[a]["parts"]["theory"]["reason"]["tier"] == "a" and got[a]["parts"]["theory"]["score"] is None
    assert (got[b]["parts"]["theory"]["status"], got[b]["reason"]["rule"]) == ("cheating", "R-DISC-1")
    assert [got[c]["parts"][p]["status"] for p in ("theory", "skill")] == ["void", "void"]
    assert got[c]["reason"]["tier"] == "c"
    assert [got[e]["parts"][p]["status"] for p in ("theory", "skill")] == ["absent", "absent"]
    assert (got[e]["reason"]["code"], got[e]["reason"]["rule"]) == ("not_admitted", "R-ID-1")
    assert got[d]["reason"] is None

    # Every part is settled: publicity starts, and shows the reasons.
    _at(clock, 17, 0)
    sw.publish()
    public = {
        x["ticket_number"]: x for x in client.get(f"/public/batches/{sw.batch_id}/publicity").json()["candidates"]
    }
    tickets = dict(zip(sw.candidates, sw.tickets, strict=True))
    assert public[tickets[c]]["result"] == "void" and public[tickets[c]]["reason"]["rule"] == "R-DISC-1"
    assert public[tickets[c]]["parts"] == {"theory": "void", "skill": "void"}
    assert "incident_id" not in public[tickets[c]]["reason"]
    assert public[tickets[e]]["parts"] == {"theory": "absent", "skill": "absent"}
    page = client.get(f"/public/batches/{sw.batch_id}/publicity.html")
    assert page.status_code == 200 and "本次考试各科目成绩均无效" in page.text and "作弊" in page.text

    rows = list(csv.reader(io.StringIO(client.get(f"{url}/results.csv", headers=sw.admin).content.decode("utf-8-sig"))))
    assert rows[0][-1] == "原因 reason"
    by_ticket = {row[1]: row for row in rows[1:6]}
    assert by_ticket[tickets[b]][4:] == [
        "作弊",
        "80.0",
        "按作弊处理",
        "违纪：该科目按作弊处理 Incident: this part is treated as cheating",
    ]
    assert by_ticket[tickets[e]][4:7] == ["缺考", "缺考", "缺考"]

    # The centre is told of (b) and (c), not of (a).
    notices = client.get("/api/v1/centre/notices", headers=centre).json()
    assert [(n["candidate_id"], n["tier"], n["rule"]) for n in notices] == [(c, "c", "R-DISC-1"), (b, "b", "R-DISC-1")]
    assert (
        client.get("/api/v1/centre/notices", headers=bearer(world.token("centre-sc", "centre", province="四川"))).json()
        == []
    )

    # Certificates go to the one who passed.
    clock.at = datetime(2026, 12, 4, 9, 0, tzinfo=CST)
    assert sw.lock().status_code == 200
    sw.approve()  # the centre's review (R-CERT-1)
    cert = {"kind": "Y", "institution_code": "0000", "site_serial": "000012", "issue_date": "2026-12-10"}
    issued = client.post(f"{url}/certificates", headers=sw.admin, json=cert).json()
    assert [x["candidate_id"] for x in issued["certificates"]] == [d]
    xlsx = client.get(f"{url}/results.xlsx", headers=sw.admin)
    assert xlsx.status_code == 200, xlsx.text
