"""The proctor's and the supervisor's pages of issue #16: the exam-room record (考场记录表,
R-DAY-3, R-STAFF-4, R-AUDIT-1) produced, confirmed by each proctor of the room and amended with a
reason; the supervisor's findings and report with its deadline (督导, R-SUP-1); the coverage page
that says 未开始 before a session starts and never counts a camera nobody has heard from as
complete (R-VIDEO-1). Each form posts to the same service as the API; a refusal shows the page
again with its reason and changes nothing."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import select

from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from proctor.models import RoomRecord, RoomRecordAmendment, RoomRecordConfirmation, SupervisionReport
from tests.integration.proctor.support import EXAM_DAY, room_world
from tests.integration.proctor.test_room_record import happened

HTML = {"Accept": "text/html"}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def records(rw, suffix=""):
    return f"/proctor/batches/{rw.batch_id}/records{suffix}"


def page(client, rw, who, url):
    resp = client.get(url, headers={**rw.h(who), **HTML})
    return resp


def post(client, rw, who, url, form):
    return client.post(url, data=form, headers={**rw.h(who), **HTML}, follow_redirects=False)


def rows(db, query) -> list:
    """Read, and end the transaction: SQLite's are BEGIN IMMEDIATE, and the server writes next."""
    db.expire_all()
    out = list(db.exec(query).all())
    db.rollback()
    return out


def visible(html: str) -> str:
    """The page's text without its tags, scripts and styles: what a person reads."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_proctor_produces_confirms_and_amends_the_record_on_the_page(client, db, world, clock):
    """R-DAY-3, R-STAFF-4, R-AUDIT-1: produced after the session, each proctor confirms what they
    read, an amendment needs its reason; every refusal shows the page and changes nothing."""
    rw, _ = happened(client, db, world, clock)
    one = records(rw, f"?session_id={rw.session_id}&room=T01")
    form = {"session_id": str(rw.session_id), "room_code": "T01"}

    # During the session: the draft, and no way to produce it yet.
    before = page(client, rw, "p1", one)
    assert before.status_code == 200 and 'id="f-produce"' not in before.text
    assert "未生成" in before.text and "场次" in before.text and "结束后可生成" in before.text
    refused = post(client, rw, "p1", records(rw, "/produce"), form)
    assert refused.status_code == 409 and 'id="refusal"' in refused.text
    assert '<code class="code">session_not_ended</code>' in refused.text and "R-DAY-3" in refused.text
    assert rows(db, select(RoomRecord)) == []

    # T02's proctor does not see T01 on their list, nor produce it.
    clock.advance(minutes=41)  # 10:31, the session is over
    other = page(client, rw, "p3", records(rw))
    assert 'data-room="T01"' not in other.text and 'data-room="T02"' in other.text
    assert post(client, rw, "p3", records(rw, "/produce"), form).status_code == 403
    assert rows(db, select(RoomRecord)) == []

    done = post(client, rw, "p1", records(rw, "/produce"), {**form, "remarks": "考场秩序良好"})
    assert done.status_code == 303 and "done=produced" in done.headers["location"]
    shown = client.get(done.headers["location"], headers={**rw.h("p1"), **HTML})
    text = visible(shown.text)
    assert "考场记录表已生成" in text and "未按指定座位就座" in text and "该科目成绩无效" in text
    assert "坐错座位，经提醒后更正" in text and "考场秩序良好" in text and "wrong_seat" not in text
    assert not ISO.search(text), ISO.search(text)
    assert 'id="f-confirm"' in shown.text

    # A confirmation binds what the proctor read: a stale hash is refused (R-AUDIT-1).
    stale = post(client, rw, "p1", records(rw, "/confirm"), {**form, "content_hash": "0" * 64})
    assert stale.status_code == 409 and '<code class="code">record_changed</code>' in stale.text
    assert rows(db, select(RoomRecordConfirmation)) == []
    (content_hash,) = rows(db, select(RoomRecord.content_hash))
    for who in ("p1", "p2"):
        ok = post(client, rw, who, records(rw, "/confirm"), {**form, "content_hash": content_hash})
        assert ok.status_code == 303, ok.text
    assert len(rows(db, select(RoomRecordConfirmation))) == 2
    after = page(client, rw, "p1", one)
    assert "已确认" in after.text and 'id="f-confirm"' not in after.text and 'id="f-produce"' not in after.text

    # Confirmed: changed only by an amendment, and only with its reason.
    no_reason = post(client, rw, "p2", records(rw, "/amend"), {**form, "text": "补记：9:40 断电2分钟"})
    assert no_reason.status_code == 422 and '<code class="code">reason_required</code>' in no_reason.text
    assert "补记：9:40 断电2分钟" in no_reason.text  # what was typed is kept
    amended = post(client, rw, "p2", records(rw, "/amend"), {**form, "text": "补记：9:40 断电2分钟", "reason": "漏记"})
    assert amended.status_code == 303
    assert rows(db, select(RoomRecordAmendment.text, RoomRecordAmendment.reason)) == [("补记：9:40 断电2分钟", "漏记")]
    assert "漏记" in page(client, rw, "p1", one).text

    # The exam office reads every room's record; an evaluator reads none.
    office = page(client, rw, "admin", records(rw))
    assert 'data-room="T01"' in office.text and 'data-room="T02"' in office.text
    assert page(client, rw, "evaluator", records(rw)).status_code == 403
    # Linked from the proctor's home and the live page.
    assert f'href="/proctor/batches/{rw.batch_id}/records"' in page(client, rw, "p1", "/proctor").text
    assert (
        f'href="/proctor/batches/{rw.batch_id}/records"'
        in page(client, rw, "p1", f"/proctor/batches/{rw.batch_id}").text
    )


def test_the_supervisor_notes_findings_and_files_the_report_on_the_page(client, db, world, clock):
    """R-SUP-1: findings listed with their area in words; the deadline, 3 working days after the
    exam on the calendar, shown; the report filed through the page once the exam is over."""
    rw = room_world(db, world, clock.now())
    url = f"/proctor/batches/{rw.batch_id}/supervision"
    deadline = DEFAULT_CALENDAR.add_working_days(EXAM_DAY, 3)
    assert f'href="{url}"' in page(client, rw, "supervisor", "/proctor").text  # linked from their home
    first = page(client, rw, "supervisor", url)
    assert first.status_code == 200 and deadline.isoformat() in first.text
    assert 'id="f-report"' not in first.text and "考试结束后" in first.text

    no_area = post(client, rw, "supervisor", url + "/findings", {"area": "", "text": "x"})
    assert no_area.status_code == 422 and '<code class="code">invalid_area</code>' in no_area.text
    noted = post(
        client, rw, "supervisor", url + "/findings", {"area": "rooms_equipment", "text": "T02 后方摄像头角度偏"}
    )
    assert noted.status_code == 303
    listed = visible(page(client, rw, "supervisor", url).text)
    assert "考场与设备" in listed and "T02 后方摄像头角度偏" in listed and "rooms_equipment" not in listed
    assert not ISO.search(listed)

    clock.at = datetime(2026, 11, 26, 17, 0, tzinfo=CST)  # after the skill session
    assert 'id="f-report"' in page(client, rw, "supervisor", url).text
    report = {
        "organisation": "考务组织规范",
        "eligibility": "资格符合",
        "questions_examiners": "考评员持证",
        "rooms_equipment": "监控正常",
        "fees": "",
        "opinion": "valid",
    }
    incomplete = post(client, rw, "supervisor", url + "/report", report)
    assert incomplete.status_code == 422 and '<code class="code">report_incomplete</code>' in incomplete.text
    assert "考务组织规范" in incomplete.text  # the sections typed stay in the form
    assert rows(db, select(SupervisionReport)) == []
    filed = post(client, rw, "supervisor", url + "/report", {**report, "fees": "按标准收费"})
    assert filed.status_code == 303
    for who in ("supervisor", "admin", "centre"):
        text = visible(page(client, rw, who, url).text)
        assert "已按时提交" in text and "本批次有效" in text, who
    assert 'id="f-report"' not in page(client, rw, "supervisor", url).text
    assert page(client, rw, "p1", url).status_code == 403  # proctors do not read the supervision


def test_coverage_says_not_started_and_words_its_causes(client, db, world, clock):
    """R-VIDEO-1 on the page: before a session starts it is 未开始, never a green 完整 over
    0.0 / 0.0 min; once it is over, a camera no recorder spoke for has gaps, worded."""
    from tests.integration.proctor.video_support import video_world

    vw = video_world(db, world, clock.now())  # 08:00; theory 09:00-10:30
    headers = {"Authorization": f"Bearer {vw.tokens['admin']}", **HTML}
    url = f"/office/batches/{vw.batch_id}/coverage"
    early = client.get(url, headers=headers)
    text = visible(early.text)
    assert early.status_code == 200 and "未开始" in text and "尚无已开始的场次" in text
    # The page's own name, 监控视频完整性 (one glossary term, issue #16), is not a verdict.
    verdicts = text.replace("监控视频完整性", "").replace("不完整", "")
    assert "完整" not in verdicts and "0.0 / 0.0" not in text and "进行中" not in text
    assert 'data-verdict="complete"' not in early.text and 'data-verdict="so_far"' not in early.text
    assert not ISO.search(text)

    clock.advance(hours=3)  # 11:00: the theory session is over, no recorder ever reported
    late = client.get(url, headers=headers)
    text = visible(late.text)
    assert "有缺口" in text and "录像机未报告录像" in text and "no_hook_received" not in text
    assert not ISO.search(text)


def test_a_camera_nobody_has_heard_from_is_not_complete():
    """R-VIDEO-1: while a session runs, a camera in state 未知 is 未确认, not 完整."""
    from proctor.video_controllers import verdict

    cam = {"window_seconds": 600.0, "complete": True, "state": "unknown"}
    assert verdict(cam, final=False) == "unconfirmed"
    assert verdict({**cam, "state": "recording"}, final=False) == "so_far"
    assert verdict({**cam, "window_seconds": 0.0}, final=False) == "not_started"
    assert verdict({**cam, "complete": False}, final=True) == "gaps"
