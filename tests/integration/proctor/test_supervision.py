"""The external quality supervisor (R-SUP-1): read-only watching, findings during the day,
the supervision report within 3 working days after the exam; the admin and the centre
see the deadline and whether it was met."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select

from examday.audit import AuditEntry
from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from proctor.models import SupervisionReport
from storage.blobs import Blob
from tests.integration.proctor.support import EXAM_DAY, room_world
from tests.support import assert_refusal

REPORT = {
    "organisation": "考务组织规范，流程完整",
    "eligibility": "抽查20名考生资格，均符合申报条件",
    "questions_examiners": "试题从题库抽取，考评员持证上岗",
    "rooms_equipment": "考场监控正常",
    "fees": "按标准收费，无违规收费",
    "opinion": "valid",
    "opinion_text": "本批次认定有效",
}


def path(rw, suffix=""):
    return f"/api/v1/batches/{rw.batch_id}/supervision{suffix}"


def status(client, rw, who="admin"):
    resp = client.get(path(rw), headers=rw.h(who))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_findings_during_the_day(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(hours=1)
    resp = client.post(
        path(rw, "/findings"),
        headers=rw.h("supervisor"),
        json={"area": "rooms_equipment", "text": "T02 后方摄像头画面模糊"},
    )
    assert resp.status_code == 201, resp.text
    for who in ("p1", "admin", "centre"):
        assert_refusal(
            client.post(path(rw, "/findings"), headers=rw.h(who), json={"area": "fees", "text": "x"}), 403, "forbidden"
        )
    assert_refusal(
        client.post(path(rw, "/findings"), headers=rw.h("supervisor"), json={"area": "weather", "text": "x"}),
        422,
        "invalid_area",
        "R-SUP-1",
    )
    got = status(client, rw, "centre")
    assert [(f["area"], f["by"]) for f in got["findings"]] == [("rooms_equipment", "supervisor")]
    # The supervisor watches read-only: no proctor action.
    assert_refusal(
        client.post(
            f"/api/v1/batches/{rw.batch_id}/hand-ins",
            headers=rw.h("supervisor"),
            json={"room_code": "T01", "candidate_id": rw.candidates[0].id},
        ),
        403,
        "forbidden",
    )


def test_report_on_time_with_deadline_three_working_days_after(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    deadline = DEFAULT_CALENDAR.add_working_days(EXAM_DAY, 3)  # R-SUP-1
    assert DEFAULT_CALENDAR.working_days_between(EXAM_DAY, deadline) == 3
    before = status(client, rw)
    assert (before["deadline"], before["filed"], before["met"]) == (deadline.isoformat(), False, None)
    assert_refusal(
        client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=REPORT), 409, "exam_not_over", "R-SUP-1"
    )
    clock.at = datetime(2026, 11, 26, 17, 0, tzinfo=CST)  # after the skill session
    incomplete = {**REPORT, "fees": " "}
    resp = client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=incomplete)
    assert_refusal(resp, 422, "report_incomplete", "R-SUP-1")
    assert resp.json()["detail"]["missing"] == ["fees"]
    assert_refusal(
        client.post(path(rw, "/report"), headers=rw.h("supervisor"), json={**REPORT, "opinion": "fine"}),
        422,
        "report_incomplete",
    )
    assert_refusal(client.post(path(rw, "/report"), headers=rw.h("admin"), json=REPORT), 403, "forbidden")
    assert db.exec(select(SupervisionReport)).all() == []
    db.commit()

    clock.at = datetime(deadline.year, deadline.month, deadline.day, 18, 0, tzinfo=CST)  # the last day
    resp = client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=REPORT)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["deadline"], resp.json()["met"]) == (deadline.isoformat(), True)
    assert_refusal(
        client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=REPORT), 409, "report_already_filed"
    )
    for who in ("admin", "centre", "supervisor"):
        got = status(client, rw, who)
        assert (got["filed"], got["met"], got["report"]["opinion"]) == (True, True, "valid")
    for who in ("p1", "centre_other", "evaluator"):
        assert_refusal(client.get(path(rw), headers=rw.h(who)), 403, "forbidden")
    blob = db.get(Blob, resp.json()["document_blob_id"])
    assert blob.retention_class == "key_documents"  # R-ARCH-1: quality-supervision forms kept permanently
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "supervision.report")).one()
    db.commit()


def test_report_late_or_missing_is_shown_as_not_met(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    deadline = DEFAULT_CALENDAR.add_working_days(EXAM_DAY, 3)
    day_after = DEFAULT_CALENDAR.add_working_days(deadline, 1)
    clock.at = datetime(day_after.year, day_after.month, day_after.day, 9, 0, tzinfo=CST)
    got = status(client, rw)
    assert (got["filed"], got["met"]) == (False, False)  # overdue, not filed
    resp = client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=REPORT)
    assert resp.status_code == 201 and resp.json()["met"] is False  # filed late: recorded, and shown as missed
    assert status(client, rw, "centre")["met"] is False
    assert date.fromisoformat(status(client, rw)["deadline"]) == deadline
