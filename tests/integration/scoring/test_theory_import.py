"""Theory scores from the exam system: all-or-nothing, a row report, absent is not zero (R-SCORE-3)."""

from __future__ import annotations

import io

from sqlmodel import Session, func, select

from scoring.models import PartScore, TheoryImport
from tests.support import assert_refusal


def theory_rows(engine) -> dict[int, tuple[str, int | None]]:
    with Session(engine) as db:
        return {
            ps.candidate_id: (ps.status, ps.score_tenths)
            for ps in db.exec(select(PartScore).where(PartScore.part == "theory")).all()
        }


def test_import_reports_every_row_and_marks_absence(sw, engine):
    t = sw.tickets
    r = sw.theory([(t[0], "88.5"), (t[1], "缺考"), (t[2], ""), (t[3], "59")])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["imported"], body["scored"], body["absent"]) == (4, 2, 2)
    assert [(x["row"], x["ticket_number"], x["status"], x["score"]) for x in body["report"]] == [
        (2, t[0], "scored", 88.5),
        (3, t[1], "absent", None),
        (4, t[2], "absent", None),
        (5, t[3], "scored", 59.0),
    ]
    # R-SCORE-3: an absent candidate is absent, not zero.
    assert theory_rows(engine) == {
        sw.candidates[0]: ("final", 885),
        sw.candidates[1]: ("absent", None),
        sw.candidates[2]: ("absent", None),
        sw.candidates[3]: ("final", 590),
    }
    with Session(engine) as db:
        record = db.exec(select(TheoryImport)).one()
        assert record.rows == 4 and t[0] in record.content and len(record.sha256) == 64


def test_a_bad_row_imports_nothing_and_every_problem_is_listed(sw, engine):
    t = sw.tickets
    text = f"ticket_number,score\n{t[0]},101\n{t[1]},abc\n{t[1]},70\n999999999,80\n{t[2]},70.55\n"
    body = assert_refusal(sw.theory(text=text), 422, "import_rejected")
    found = [(e["row"], e["column"], e["code"]) for e in body["detail"]["errors"]]
    assert found == [
        (2, "score", "out_of_range"),
        (3, "score", "not_a_number"),
        (4, "ticket_number", "duplicate_ticket"),
        (5, "ticket_number", "unknown_ticket"),
        (6, "score", "too_precise"),
        (None, "ticket_number", "ticket_missing"),
    ]
    assert body["detail"]["errors"][-1]["ticket_number"] == t[3]
    assert theory_rows(engine) == {}
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(TheoryImport)).one() == 0


def test_gb18030_file_from_the_exam_system(sw, engine):
    text = "准考证号,成绩\n" + "".join(f"{t},缺考\n" if i == 0 else f"{t},75\n" for i, t in enumerate(sw.tickets))
    r = sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/theory-scores",
        headers=sw.admin,
        files={"file": ("t.csv", io.BytesIO(text.encode("gb18030")), "text/csv")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["report"][0]["status"] == "absent"


def test_absent_theory_makes_the_result_absent(sw):
    sw.ready_for_publicity()
    assert sw.theory([(t, "缺考" if i == 0 else "90") for i, t in enumerate(sw.tickets)]).status_code == 201
    results = {c["id"]: c["result"] for c in sw.scores()["candidates"]}
    assert results[sw.candidates[0]] == "absent" and results[sw.candidates[1]] == "pass"


def test_only_the_exam_office_imports(sw):
    r = sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/theory-scores",
        headers=sw.scorer(0),
        files={"file": ("t.csv", io.BytesIO(b"x,1\n"), "text/csv")},
    )
    assert_refusal(r, 403, "forbidden")
