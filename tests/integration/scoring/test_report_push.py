"""The institution pushes its package once the centre approves, and retries until answered
(issue #17, R-PUB-2). The centre here is the same installation, reached through the test client;
tests/e2e/test_report_two_servers.py runs two real server processes."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.checkpoints import AuditCheckpoint
from examday.plans.models import Batch
from scoring import report_push
from scoring.models import ReportReceipt
from tests.integration.scoring.test_exports import AFTER_END
from tests.integration.scoring.test_report_package import register, uscc_of

URL = "http://centre.test"


def through(client):
    def post(url: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        assert url == f"{URL}/api/v1/centre/reports"
        return client.post("/api/v1/centre/reports", content=data, headers=headers)

    return post


def down(url, data, headers):
    raise httpx.ConnectError("connection refused")


def test_r_pub_2_pushed_when_approved_and_acknowledged(approved, world, engine, clock):
    centre = register(approved, world)
    token = approved.client.post("/api/v1/centre/report-tokens", json={"uscc": uscc_of(approved)}, headers=centre)
    token = token.json()["report_token"]
    now = clock.now()
    with Session(engine) as db:
        assert report_push.due(db, now) == [approved.batch_id]
    state = report_push.push_batch(engine, None, URL, token, approved.batch_id, now, post=through(approved.client))
    assert state == "acknowledged"
    with Session(engine) as db:
        assert report_push.due(db, now) == []  # done: not sent again
        assert db.exec(select(ReportReceipt).where(ReportReceipt.batch_id == approved.batch_id)).first()
        assert db.exec(select(AuditEntry).where(AuditEntry.action == "batch.report_acknowledged")).first()
    shown = approved.client.get(f"/api/v1/batches/{approved.batch_id}/report-push", headers=approved.admin).json()
    assert shown["state"] == "acknowledged" and shown["rule"] == "R-PUB-2"


def test_r_pub_2_a_refusal_is_shown_with_its_reason_and_not_retried(approved, world, engine, clock):
    centre = register(approved, world)
    token = approved.client.post("/api/v1/centre/report-tokens", json={"uscc": uscc_of(approved)}, headers=centre)
    token = token.json()["report_token"]
    with Session(engine) as db:  # the institution rotated its key and the centre was not told
        from examday import keys

        batch = db.get(Batch, approved.batch_id)
        keys.rotate(db, batch.institution_id, clock.now())
        db.commit()
    now = clock.now()
    state = report_push.push_batch(engine, None, URL, token, approved.batch_id, now, post=through(approved.client))
    assert state == "refused"
    shown = approved.client.get(f"/api/v1/batches/{approved.batch_id}/report-push", headers=approved.admin).json()
    assert shown["state"] == "refused" and shown["code"] == "unknown_institution_key"
    with Session(engine) as db:
        assert report_push.due(db, now + timedelta(days=1)) == []


def test_r_pub_2_retries_with_backoff_until_the_centre_answers(approved, engine, clock):
    now = clock.now()
    assert report_push.push_batch(engine, None, URL, "rpt_x", approved.batch_id, now, post=down) == "sent"
    with Session(engine) as db:
        push = report_push.push_of(db, approved.batch_id)
        assert push.attempts == 1 and "ConnectError" in push.last_error
        assert report_push.due(db, now + timedelta(seconds=29)) == []
        assert report_push.due(db, now + timedelta(seconds=30)) == [approved.batch_id]
    later = now + timedelta(seconds=30)
    assert report_push.push_batch(engine, None, URL, "rpt_x", approved.batch_id, later, post=down) == "sent"
    with Session(engine) as db:
        assert report_push.push_of(db, approved.batch_id).attempts == 2
        assert report_push.due(db, later + timedelta(seconds=59)) == []
    assert report_push.backoff(20) == timedelta(hours=1)
    shown = approved.client.get(f"/api/v1/batches/{approved.batch_id}/report-push", headers=approved.admin).json()
    assert shown["state"] == "sent" and shown["attempts"] == 2 and shown["next_at"]


def test_r_pub_2_nothing_is_pushed_before_approval_nor_unconfigured(sw, engine, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    with Session(engine) as db:
        assert report_push.due(db, clock.now()) == []  # locked, not approved (R-CERT-1)
    sw.approve()
    assert report_push.run_once(engine, None, "", "", clock.now()) == {}  # no centre configured


def test_r_audit_1_the_hourly_checkpoint_only_with_activity(sw, engine, clock):
    now = clock.now()
    report_push.run_once(engine, None, "", "", now)
    with Session(engine) as db:
        first = db.exec(select(AuditCheckpoint).where(AuditCheckpoint.reason == "hourly")).all()
    assert len(first) == 1
    report_push.run_once(engine, None, "", "", now + timedelta(hours=2))  # no new entry: none
    with Session(engine) as db:
        assert len(db.exec(select(AuditCheckpoint)).all()) == 1
    sw.rubric()  # activity
    report_push.run_once(engine, None, "", "", now + timedelta(minutes=30))  # within the hour: none
    report_push.run_once(engine, None, "", "", now + timedelta(hours=2))
    with Session(engine) as db:
        assert len(db.exec(select(AuditCheckpoint).where(AuditCheckpoint.reason == "hourly")).all()) == 2


def test_the_state_renders_beside_the_deadline(approved):
    """On the office's scores page, through the glossary, with the package's link."""
    page = approved.client.get(
        f"/office/batches/{approved.batch_id}/scores", headers={**approved.admin, "Accept": "text/html"}
    )
    assert page.status_code == 200
    assert 'data-state="not_sent"' in page.text and "未上报" in page.text
    assert f"/api/v1/batches/{approved.batch_id}/report.zip" in page.text
