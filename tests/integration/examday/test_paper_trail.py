"""The paper trail (issue #15, R-DAY-3, R-ARCH-1, R-PRIV-1), through the API.

Reproduced: the sign-in sheet was a blank template, never produced from the check-ins, and
nothing of the day was archived. Now, once a session has ended, each room's sign-in sheet is
produced from the check-ins — time, the photo taken at the door, the kiosk, late marks and the
absentees — as a PDF and archived permanently the first time the batch's archive is read; the
office uploads paper scans against the batch, each kept for its kind's retention class (a photo
of a candidate's work and a signed scoring sheet at least 1 year, R-SCORE-2); the
archive is the office's, the supervisor's and the province's centre's to read, no one else's.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import datetime

from PIL import Image
from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from examday.plans.models import Batch, Candidate, ExamSession, ProctorAssignment, Seat, SessionRoom
from examday.records import paper_trail
from examday.registry.models import Room
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal, bearer

TODAY = datetime(2026, 11, 26, tzinfo=CST).date()  # theory 09:00-10:30 in T01/T02, skill 14:00 in S01
PDF = b"%PDF-1.4\n% a scanned pledge\n%%EOF\n"


def _at(clock, h: int, m: int) -> None:
    clock.at = datetime(2026, 11, 26, h, m, tzinfo=CST)


def _jpeg() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 80), (200, 120, 90)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


def _seat(engine, sw) -> dict[int, str]:
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


def _check_in(client, sw, kiosk, cid: int, photo: str | None = None) -> None:
    with Session(sw.engine) as db:
        c = db.get(Candidate, cid)
        body = {"ticket_number": c.ticket_number, "batch_id": sw.batch_id, "id_number": c.id_number}
    if photo:
        body["photo"] = photo
    r = client.post("/api/v1/checkins", headers=kiosk, json={**body, "kiosk_nonce": uuid.uuid4().hex})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text


def _archive(client, bid: int, headers) -> list[dict]:
    r = client.get(f"/api/v1/batches/{bid}/archive", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["documents"]


def test_the_sign_in_sheet_is_produced_from_the_check_ins_and_archived_R_DAY_3(client, world, engine, clock, app):
    sw = build(client, world, engine, clock, n_candidates=4, exam_day=TODAY, admit=False)
    a, b, c, d = sw.candidates  # a on time with a photo, b late, c and d never came
    room = _seat(engine, sw)
    kiosk = bearer(world.token("kiosk1", "kiosk", sw.institution_id))
    _at(clock, 8, 40)
    _check_in(client, sw, kiosk, a, _jpeg())
    _at(clock, 9, 5)
    _check_in(client, sw, kiosk, b)

    _at(clock, 10, 0)  # the session is on: nothing of it is final
    assert [x for x in _archive(client, sw.batch_id, sw.admin) if x["kind"] == "sign_in_sheet"] == []
    with Session(engine) as db:
        sid = db.exec(
            select(ExamSession.id).where(ExamSession.batch_id == sw.batch_id, ExamSession.part == "theory")
        ).one()
        rows = db.exec(
            select(ProctorAssignment).where(ProctorAssignment.session_id == sid).order_by(ProctorAssignment.id)
        ).all()
        first = rows[0].staff_id
    t01_proctor = bearer(world.token("proctor-t01", "proctor", sw.institution_id, staff_id=first))
    sheet_url = f"/api/v1/batches/{sw.batch_id}/sessions/{sid}/rooms/{{}}/signin-sheet.pdf"
    assert_refusal(client.get(sheet_url.format(room[a]), headers=t01_proctor), 409, "session_not_ended", "R-DAY-3")

    _at(clock, 10, 31)
    # The room's proctor reads their own room's sheet (R-DAY-3), not the other room's.
    mine = client.get(sheet_url.format(room[a]), headers=t01_proctor)
    assert mine.status_code == 200 and mine.content.startswith(b"%PDF-"), mine.text
    assert_refusal(client.get(sheet_url.format(room[b]), headers=t01_proctor), 403, "forbidden")
    sheets = [x for x in _archive(client, sw.batch_id, sw.admin) if x["kind"] == "sign_in_sheet"]
    assert len(sheets) == 2  # T01 and T02 of the theory session; the skill sitting is this afternoon
    assert {(x["retention_class"], x["kept_until"], x["content_type"]) for x in sheets} == {
        ("key_documents", None, "application/pdf")
    }
    assert {x["made_by"] for x in sheets} == {"system"}
    # Archived once: reading again finds them.
    assert len([x for x in _archive(client, sw.batch_id, sw.admin) if x["kind"] == "sign_in_sheet"]) == 2

    with Session(engine) as db:
        batch = db.get(Batch, sw.batch_id)
        theory = db.exec(
            select(ExamSession).where(ExamSession.batch_id == sw.batch_id, ExamSession.part == "theory")
        ).one()
        t01 = db.exec(select(Room).where(Room.code == room[a], Room.institution_id == sw.institution_id)).one()
        rows = {r.ticket_number: r for r in paper_trail.signin_rows(db, app.state.blobs, batch, theory, t01)}
        tickets = {cid: db.get(Candidate, cid).ticket_number for cid in sw.candidates}
        t01_ref = paper_trail.sheet_ref(theory.id, t01.id)
    assert set(rows) == {tickets[a], tickets[c]}  # the room's own candidates
    got = rows[tickets[a]]
    assert (got.at.astimezone(CST).strftime("%H:%M"), got.late, got.kiosk) == ("08:40", False, "kiosk1")
    assert got.photo is not None and got.photo.startswith(b"\xff\xd8")  # the door's photo
    assert "*" in got.masked_id  # R-PRIV-1: masked on paper
    assert rows[tickets[c]].at is None  # absent (缺考)
    sheet = next(x for x in sheets if x["ref"] == t01_ref)
    pdf = client.get(sheet["download"], headers=sw.admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and b"/Subtype /Image" in pdf.content
    assert pdf.content == mine.content  # the proctor's copy is the archived one

    with Session(engine) as db:
        t02 = db.exec(select(Room).where(Room.code == room[b], Room.institution_id == sw.institution_id)).one()
        late = {r.ticket_number: r for r in paper_trail.signin_rows(db, app.state.blobs, batch, theory, t02)}
    assert late[tickets[b]].late is True and late[tickets[d]].at is None


def test_producing_the_exam_room_record_archives_the_ended_sessions_sheets_under_the_proctors_name_R_DAY_3(
    client, world, engine, clock
):
    """Found by the browser journey: the sign-in sheets reached the archive only when someone first
    read it (a week later, dated then), and the exam-room record was listed as made by "system".
    Now the proctor producing the record archives the ended sessions' sheets at that moment, and
    the record's version is theirs (R-DAY-3, R-ARCH-1)."""
    sw = build(client, world, engine, clock, n_candidates=2, exam_day=TODAY, admit=False)
    _seat(engine, sw)
    with Session(engine) as db:
        sid = db.exec(
            select(ExamSession.id).where(ExamSession.batch_id == sw.batch_id, ExamSession.part == "theory")
        ).one()
        first = db.exec(
            select(ProctorAssignment).where(ProctorAssignment.session_id == sid).order_by(ProctorAssignment.id)
        ).first()
        room_code = db.get(Room, first.room_id).code
    proctor = bearer(world.token("proctor-t01", "proctor", sw.institution_id, staff_id=first.staff_id))
    _at(clock, 10, 35)
    r = client.post(f"/api/v1/batches/{sw.batch_id}/sessions/{sid}/rooms/{room_code}/record", headers=proctor, json={})
    assert r.status_code in (200, 201), r.text
    with Session(engine) as db:  # what the archive holds before anyone has read it
        from storage.retention_models import ArchivedDocument

        held = db.exec(select(ArchivedDocument).where(ArchivedDocument.batch_id == sw.batch_id)).all()
    sheets = [d for d in held if d.kind == "sign_in_sheet"]
    assert len(sheets) == 2  # T01 and T02 of the theory session
    assert {d.archived_at.astimezone(CST).strftime("%H:%M") for d in sheets} == {"10:35"}
    _at(clock, 16, 0)
    listed = _archive(client, sw.batch_id, sw.admin)
    record = [x for x in listed if x["kind"] == "room_record"]
    assert [x["made_by"] for x in record] == ["proctor-t01"]


def test_the_archive_is_read_by_the_office_the_supervisor_and_the_centre_only_R_ARCH_1(client, world, engine, clock):
    sw = build(client, world, engine, clock, n_candidates=2, exam_day=TODAY, admit=False)
    url = f"/api/v1/batches/{sw.batch_id}/archive"
    _at(clock, 11, 0)
    for who in (
        bearer(world.token("centre-jl", "centre", province="吉林")),
        bearer(world.token("sup", "supervisor", sw.institution_id)),
    ):
        assert client.get(url, headers=who).status_code == 200
    other = world.institution(uscc="91220101MA0000001X", name="另一机构", province="四川")
    for who in (
        bearer(world.token("centre-sc", "centre", province="四川")),
        bearer(world.token("office-b", "admin", other)),
        bearer(world.token("kiosk1", "kiosk", sw.institution_id)),
        bearer(world.token("proctor1", "proctor", sw.institution_id)),
        bearer(world.token("examiner-x", "evaluator", sw.institution_id)),
    ):
        assert client.get(url, headers=who).status_code == 403
    doc = _archive(client, sw.batch_id, sw.admin)[0]
    assert (
        client.get(doc["download"], headers=bearer(world.token("centre-sc2", "centre", province="四川"))).status_code
        == 403
    )


def test_the_office_uploads_scans_with_their_retention_class_R_ARCH_1(client, world, engine, clock):
    sw = build(client, world, engine, clock, n_candidates=2, exam_day=TODAY, admit=False)
    url = f"/api/v1/batches/{sw.batch_id}/archive"
    _at(clock, 8, 0)

    def send(kind: str, data: bytes, name: str = "scan.pdf", headers=None):
        return client.post(
            url, data={"kind": kind}, files={"file": (name, data, "application/pdf")}, headers=headers or sw.admin
        )

    r = send("pledge", PDF, "承诺书 张三.pdf")
    assert r.status_code == 201, r.text
    assert (r.json()["retention_class"], r.json()["kept_until"], r.json()["made_by"]) == (
        "key_documents",
        None,
        "office",
    )
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    r = send("other", png, "notice.png")
    assert r.status_code == 201, r.text
    assert (r.json()["retention_class"], r.json()["kept_until"], r.json()["content_type"]) == (
        "paper_scans",
        "2029-11-26",
        "image/png",
    )
    # R-SCORE-2: a photo of a candidate's work, and an examiner's signed scoring sheet, at least 1 year.
    jpeg = base64.b64decode(_jpeg())
    r = client.post(
        url, data={"kind": "work_photo"}, files={"file": ("work.jpg", jpeg, "image/jpeg")}, headers=sw.admin
    )
    assert r.status_code == 201, r.text
    assert (r.json()["retention_class"], r.json()["kept_until"]) == ("candidate_answers", "2027-11-26")
    r = send("scoring_sheet", PDF)
    assert (r.status_code, r.json()["retention_class"]) == (201, "scoring_records")
    assert_refusal(send("pledge", b"GIF89a......"), 422, "invalid_document_file", "R-ARCH-1")
    assert_refusal(send("sign_in_sheet", PDF), 422, "invalid_upload_kind", "R-ARCH-1")
    assert_refusal(
        send("pledge", PDF, headers=bearer(world.token("centre-jl", "centre", province="吉林"))), 403, "forbidden"
    )
    other = world.institution(uscc="91220101MA0000001X", name="另一机构", province="吉林")
    assert_refusal(send("pledge", PDF, headers=bearer(world.token("office-b", "admin", other))), 403, "forbidden")
    docs = _archive(client, sw.batch_id, sw.admin)
    assert [x["kind"] for x in docs] == ["pledge", "other", "work_photo", "scoring_sheet"]
    assert client.get(docs[0]["download"], headers=sw.admin).content == PDF
    with Session(engine) as db:
        logged = [json.loads(e.diff) for e in db.exec(select(AuditEntry)).all() if e.action == "document.archived"]
    assert [x["kind"] for x in logged] == ["pledge", "other", "work_photo", "scoring_sheet"]

    # The office's page lists them and takes an upload through a form.
    page = client.get(f"/office/batches/{sw.batch_id}/archive", headers=sw.admin)
    assert page.status_code == 200 and "诚信承诺书" in page.text and "永久保存" in page.text
    r = client.post(
        f"/office/batches/{sw.batch_id}/archive",
        data={"kind": "signed_sheet"},
        files={"file": ("signed.pdf", PDF, "application/pdf")},
        headers=sw.admin,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    refused = client.post(
        f"/office/batches/{sw.batch_id}/archive",
        data={"kind": "signed_sheet"},
        files={"file": ("x.gif", b"GIF89a", "image/gif")},
        headers=sw.admin,
    )
    assert refused.status_code == 422 and "PDF" in refused.text


def test_the_purge_keeps_each_archived_document_for_its_class_R_ARCH_1_R_SCORE_2(
    client, world, engine, clock, settings
):
    from storage.purge import run_purge

    sw = build(client, world, engine, clock, n_candidates=2, exam_day=TODAY, admit=False)
    url = f"/api/v1/batches/{sw.batch_id}/archive"
    _at(clock, 8, 0)
    jpeg = base64.b64decode(_jpeg())
    sent = {}
    for kind, name, data, ctype in (
        ("pledge", "p.pdf", PDF, "application/pdf"),
        ("other", "o.pdf", PDF + b"other", "application/pdf"),
        ("work_photo", "w.jpg", jpeg, "image/jpeg"),
    ):
        r = client.post(url, data={"kind": kind}, files={"file": (name, data, ctype)}, headers=sw.admin)
        assert r.status_code == 201, r.text
        sent[kind] = r.json()

    clock.at = datetime(2028, 1, 10, 9, 0, tzinfo=CST)  # the work photo's year is over, the scan's 3 are not
    assert run_purge(engine, settings, clock, out=io.StringIO()) == 0
    office = bearer(world.token("office-2028", "admin", sw.institution_id))
    docs = {d["kind"]: d for d in _archive(client, sw.batch_id, office)}
    assert (docs["pledge"]["purged"], docs["other"]["purged"], docs["work_photo"]["purged"]) == (False, False, True)
    assert_refusal(client.get(sent["work_photo"]["download"], headers=office), 404, "not_found")

    clock.at = datetime(2029, 11, 27, 9, 0, tzinfo=CST)  # the day after the paper scan's 3 years
    assert run_purge(engine, settings, clock, out=io.StringIO()) == 0
    office = bearer(world.token("office-2029", "admin", sw.institution_id))
    docs = {d["kind"]: d for d in _archive(client, sw.batch_id, office)}
    assert (docs["pledge"]["purged"], docs["other"]["purged"]) == (False, True)
    assert client.get(sent["pledge"]["download"], headers=office).content == PDF  # permanent
    assert all(not d["purged"] for d in docs.values() if d["kind"] == "sign_in_sheet")
