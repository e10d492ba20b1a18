"""Score summary exports (R-PUB-2, R-PRIV-1) and certificate data (R-CERT-1, R-FMT-CERT, R-PUB-2)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from examday.identity import mask_id_number
from examday.plans.models import Candidate
from examday.registry.models import Institution, Room, Staff
from scoring.certificates import parse_certificate_number
from tests import builders
from tests.integration.scoring.scoring_world import EXAM_DAY
from tests.support import assert_refusal, bearer

AFTER_END = datetime(2026, 12, 3, 8, 30, tzinfo=CST)
CERT = {"kind": "Y", "institution_code": "0000", "site_serial": "000012", "issue_date": "2026-12-10"}


@pytest.fixture
def locked(sw, clock):
    return lock_with_results(sw, clock)


def lock_with_results(sw, clock):
    sw.ready_for_publicity()
    # One candidate fails the theory, one is absent from it.
    assert sw.theory([(t, {0: "55", 1: "缺考"}.get(i, "90")) for i, t in enumerate(sw.tickets)]).status_code == 201
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.approve()  # the centre's review (R-CERT-1): certificates may follow
    return sw


def people(engine, ids) -> list[Candidate]:
    with Session(engine) as db:
        return [db.get(Candidate, i) for i in ids]


def test_csv_is_utf8_with_bom_and_lists_every_candidate(locked, engine):
    r = locked.client.get(f"/api/v1/batches/{locked.batch_id}/results.csv", headers=locked.admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "准考证号", "姓名", "身份证号"]
    cands = people(engine, locked.candidates)
    body = rows[1 : 1 + len(cands)]
    assert [(x[1], x[2], x[3]) for x in body] == [(c.ticket_number, c.name, c.id_number) for c in cands]
    assert [x[4:] for x in body] == [
        ["55.0", "82.0", "不合格", ""],  # the last column: the exam day's reason (R-ID-1, R-DISC-1), none here
        ["缺考", "82.0", "缺考", ""],
        ["90.0", "82.0", "合格", ""],
        ["90.0", "82.0", "合格", ""],
    ]


def test_xlsx_has_the_summary_and_the_seal(locked, engine):
    r = locked.client.get(f"/api/v1/batches/{locked.batch_id}/results.xlsx", headers=locked.admin)
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    assert values[1][1] == "准考证号"
    assert values[2][1] == people(engine, locked.candidates[:1])[0].ticket_number and values[2][4] == 55.0
    seal = locked.client.get(f"/api/v1/batches/{locked.batch_id}/seal", headers=locked.admin).json()["seal"]
    flat = [v for row in values for v in row if v is not None]
    assert seal["digest"] in flat and seal["signature"] in flat


# R-PRIV-1: the centre gets masked ID numbers; an evaluator gets no export at all.
def test_centre_sees_masked_ids_and_evaluators_cannot_export(locked, world, engine):
    centre = bearer(world.token("centre-jl", "centre", None, province="吉林"))
    text = locked.client.get(f"/api/v1/batches/{locked.batch_id}/results.csv", headers=centre).content.decode()
    for c in people(engine, locked.candidates):
        assert c.id_number not in text and mask_id_number(c.id_number) in text
    assert_refusal(
        locked.client.get(f"/api/v1/batches/{locked.batch_id}/results.csv", headers=locked.scorer(1)), 403, "forbidden"
    )


# R-CERT-1 + R-FMT-CERT: numbers only for those who passed, 22 characters.
def test_certificates_for_those_who_passed(locked, engine):
    r = locked.client.post(f"/api/v1/batches/{locked.batch_id}/certificates", headers=locked.admin, json=CERT)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [c["candidate_id"] for c in body["certificates"]] == locked.candidates[2:]
    for n, c in enumerate(body["certificates"], start=1):
        assert re.fullmatch(r"[YS]\d{21}", c["number"])
        parts = parse_certificate_number(c["number"])
        assert (
            parts.kind,
            parts.institution_code,
            parts.province_code,
            parts.site_serial,
            parts.year,
            parts.level,
            parts.serial,
        ) == ("Y", "0000", "22", "000012", 2026, 4, n)  # 吉林 is 22
    # R-PUB-2: reported within 30 working days of the issue date.
    issue, deadline = date.fromisoformat(body["issue_date"]), date.fromisoformat(body["reporting_deadline"])
    assert DEFAULT_CALENDAR.working_days_between(issue, deadline) == 30
    assert DEFAULT_CALENDAR.is_working_day(deadline)
    csv_text = locked.client.get(
        f"/api/v1/batches/{locked.batch_id}/certificates.csv", headers=locked.admin
    ).content.decode("utf-8-sig")
    assert body["certificates"][0]["number"] in csv_text and body["reporting_deadline"] in csv_text
    assert_refusal(
        locked.client.post(f"/api/v1/batches/{locked.batch_id}/certificates", headers=locked.admin, json=CERT),
        409,
        "certificates_issued",
        "R-CERT-1",
    )


def test_reporting_deadline_is_shown_to_the_centre(locked, world):
    locked.client.post(f"/api/v1/batches/{locked.batch_id}/certificates", headers=locked.admin, json=CERT)
    centre = bearer(world.token("centre-jl", "centre", None, province="吉林"))
    body = locked.client.get(f"/api/v1/batches/{locked.batch_id}/certificates", headers=centre).json()
    assert body["reporting_deadline"] and body["issue_date"] == "2026-12-10"
    assert all("*" in c["id_number"] for c in body["certificates"])


def test_no_certificates_before_the_lock(sw):
    sw.ready_for_publicity()
    r = sw.client.post(f"/api/v1/batches/{sw.batch_id}/certificates", headers=sw.admin, json=CERT)
    assert_refusal(r, 409, "batch_not_locked", "R-CERT-1")


def test_serials_continue_across_batches(locked, client, world, engine, clock):
    first = locked.client.post(
        f"/api/v1/batches/{locked.batch_id}/certificates", headers=locked.admin, json=CERT
    ).json()
    clock.at = datetime(2026, 11, 26, 8, 0, tzinfo=CST)
    with Session(engine, expire_on_commit=False) as db:
        inst = db.get(Institution, locked.institution_id)
        rooms = db.exec(select(Room).where(Room.institution_id == inst.id).order_by(Room.id)).all()
        proctors = [s for s in db.exec(select(Staff)).all() if "proctor" in s.roles]
        b2 = builders.batch(db, inst, EXAM_DAY, rooms[:2], proctors, skill_room=rooms[2], now=clock.now())
        cands = builders.candidates(db, b2, 2, now=clock.now())
        db.commit()
        bid2, c2 = b2.id, [c.id for c in cands]
    locked.batch_id = bid2
    locked.candidates, locked.tickets = c2, [f"{bid2:04d}{i + 1:05d}" for i in range(2)]
    locked.sit()
    locked.ready_for_publicity()
    locked.publish()
    clock.at = AFTER_END
    assert locked.lock().status_code == 200
    locked.approve()
    second = locked.client.post(f"/api/v1/batches/{bid2}/certificates", headers=locked.admin, json=CERT).json()
    serials = [parse_certificate_number(c["number"]).serial for c in first["certificates"] + second["certificates"]]
    assert serials == [1, 2, 3, 4]


# Finding 7 of issue #14: names a spreadsheet would run as formulas (CSV injection).
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1,2)"]


@pytest.fixture
def hostile(sw, clock, engine):
    with Session(engine) as db:
        for cid, name in zip(sw.candidates, HOSTILE, strict=True):
            db.get(Candidate, cid).name = name
        db.commit()
    return lock_with_results(sw, clock)


def test_formula_like_names_are_text_in_results_xlsx(hostile):
    r = hostile.client.get(f"/api/v1/batches/{hostile.batch_id}/results.xlsx", headers=hostile.admin)
    ws = load_workbook(io.BytesIO(r.content)).active
    names = [ws.cell(row=3 + i, column=3) for i in range(len(HOSTILE))]
    assert [c.value for c in names] == HOSTILE
    assert [c.data_type for c in names] == ["s"] * len(HOSTILE)  # a string, never a formula
    assert all(c.quotePrefix for c in names)
    assert ws.cell(row=3, column=5).value == 55 and ws.cell(row=3, column=5).data_type == "n"  # scores stay numbers


def test_formula_like_names_start_with_an_apostrophe_in_results_csv(hostile):
    r = hostile.client.get(f"/api/v1/batches/{hostile.batch_id}/results.csv", headers=hostile.admin)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[2] for row in rows[1 : 1 + len(HOSTILE)]] == ["'" + n for n in HOSTILE]
    assert [row[4] for row in rows[1 : 1 + len(HOSTILE)]] == ["55.0", "缺考", "90.0", "90.0"]


def test_formula_like_names_start_with_an_apostrophe_in_certificates_csv(hostile):
    assert (
        hostile.client.post(
            f"/api/v1/batches/{hostile.batch_id}/certificates", headers=hostile.admin, json=CERT
        ).status_code
        == 201
    )
    r = hostile.client.get(f"/api/v1/batches/{hostile.batch_id}/certificates.csv", headers=hostile.admin)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[2] for row in rows[1:3]] == ["'" + n for n in HOSTILE[2:]]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
