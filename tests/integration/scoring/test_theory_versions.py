"""Theory scores are versioned (理论成绩版本): R-SCORE-3, R-PANEL-1, R-INST-2.

Issue #15 reproduced it: the exam office imported the theory file (80), then imported again
before publicity (59) and the candidate's result became ``fail`` — no examiner signed either
file and nothing showed the change. Now an import is a draft signed by the office account
that made it; only the chief's countersignature with the signing PIN makes it the scores; a
second version needs a reason and is shown as a correction on the results and in the audit;
from the start of publicity no import is taken.
"""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.audit import AuditEntry
from scoring.entry_chain import verify_signature
from scoring.models import TheoryImport
from scoring.services.entries import examiner_secret
from scoring.services.theory_versions import version_hash
from tests.integration.scoring.scoring_world import PIN
from tests.support import assert_refusal, bearer


def ready_without_theory(sw) -> None:
    assert sw.rubric().status_code == 200
    assert sw.panel().status_code == 201
    sw.score_all_skill()


def audit_of(engine, action: str) -> list[AuditEntry]:
    with Session(engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.seq))).all())


def one(sw, candidate: int) -> dict:
    return next(c for c in sw.scores()["candidates"] if c["id"] == candidate)


def test_an_import_is_a_draft_until_the_chief_countersigns_with_the_pin_R_SCORE_3(sw, engine, app):
    ready_without_theory(sw)
    r = sw.import_theory()
    assert r.status_code == 201, r.text
    draft = r.json()
    assert (draft["version"], draft["state"], draft["reason"]) == (1, "draft", None)
    # Not the scores yet: the theory part is pending and nobody passes.
    first = one(sw, sw.candidates[0])
    assert first["parts"]["theory"]["status"] == "pending" and first["result"] != "pass"

    iid = draft["import_id"]
    assert_refusal(sw.countersign(iid, pin="000000"), 403, "pin_wrong", "R-SCORE-1")
    assert_refusal(sw.countersign(iid, i=1), 403, "forbidden")  # an evaluator of the panel
    r = sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/theory-imports/{iid}/countersign", json={"pin": PIN}, headers=sw.admin
    )
    assert_refusal(r, 403, "forbidden")  # the office never countersigns its own import
    # A chief account, but not the chief of this batch's panel (R-PANEL-1).
    with Session(engine) as db:
        acc = db.exec(select(Account).where(Account.username == "examiner3")).one()
        acc.role = "chief"
        db.add(acc)
        db.commit()
    assert_refusal(sw.countersign(iid, i=3), 403, "forbidden", "R-PANEL-1")
    assert one(sw, sw.candidates[0])["parts"]["theory"]["status"] == "pending"

    r = sw.countersign(iid)
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["state"] == "signed" and signed["countersigned_staff_id"] == sw.examiners[0]
    assert one(sw, sw.candidates[0])["parts"]["theory"] == {
        **one(sw, sw.candidates[0])["parts"]["theory"],
        "status": "final",
        "score": 80.0,
        "corrections": [],
    }
    assert one(sw, sw.candidates[0])["result"] == "pass"
    # Signed by both: the office account that imported, the chief with the PIN over the version.
    with Session(engine) as db:
        t = db.get(TheoryImport, iid)
        secret = examiner_secret(app.state.settings.secret_key, sw.examiners[0])
        assert verify_signature(version_hash(t), t.signature, PIN, secret)
        assert not verify_signature(version_hash(t), t.signature, "135790", secret)
        assert t.account_id is not None and t.countersigned_by is not None and t.account_id != t.countersigned_by
    assert [e.username for e in audit_of(engine, "theory_scores.import")] == ["office"]
    assert [e.username for e in audit_of(engine, "theory_scores.countersign")] == ["examiner0"]
    # Signed once is signed: no second countersignature.
    assert_refusal(sw.countersign(iid), 409, "import_not_draft", "R-SCORE-3")


def test_a_second_import_before_publicity_is_a_correction_with_a_reason_shown_R_SCORE_3(sw, engine):
    # The finding: 80 imported, then 59 imported again — the result silently became fail.
    sw.ready_for_publicity()
    victim, ticket = sw.candidates[0], sw.tickets[0]
    assert one(sw, victim)["result"] == "pass"
    rows = [(t, "59" if t == ticket else "80") for t in sw.tickets]

    assert_refusal(sw.import_theory(rows), 422, "reason_required", "R-SCORE-3")
    assert_refusal(sw.import_theory(rows, reason="   "), 422, "reason_required", "R-SCORE-3")
    r = sw.import_theory(rows, reason="考试系统阅卷复核，第3题漏判")
    assert r.status_code == 201, r.text
    draft = r.json()
    assert (draft["version"], draft["state"]) == (2, "draft")
    assert draft["changes"] == [
        {"candidate_id": victim, "ticket_number": ticket, "before": ["final", "80.0"], "after": ["final", "59.0"]}
    ]
    # Until the chief countersigns, the signed version stands.
    assert one(sw, victim)["parts"]["theory"]["score"] == 80.0 and one(sw, victim)["result"] == "pass"

    assert sw.countersign(draft["import_id"]).status_code == 200
    got = one(sw, victim)
    assert got["result"] == "fail" and got["parts"]["theory"]["score"] == 59.0
    (c,) = got["parts"]["theory"]["corrections"]
    assert (c["version"], c["before"], c["after"], c["reason"]) == (
        2,
        ["final", "80.0"],
        ["final", "59.0"],
        "考试系统阅卷复核，第3题漏判",
    )
    assert all(x["parts"]["theory"]["corrections"] == [] for x in sw.scores()["candidates"] if x["id"] != victim)
    # In the audit: who imported, why, who countersigned, and the score before and after.
    entry = audit_of(engine, "theory_scores.countersign")[-1]
    diff = json.loads(entry.diff)
    assert entry.username == "examiner0" and diff["version"] == 2 and diff["reason"] == "考试系统阅卷复核，第3题漏判"
    assert diff["changes"] == [
        {"candidate_id": victim, "ticket_number": ticket, "before": ["final", "80.0"], "after": ["final", "59.0"]}
    ]
    versions = sw.client.get(f"/api/v1/batches/{sw.batch_id}/theory-imports", headers=sw.scorer(0)).json()
    assert [(v["version"], v["state"]) for v in versions["imports"]] == [(1, "signed"), (2, "signed")]


def test_a_draft_overtaken_by_a_later_import_is_never_countersigned_R_SCORE_3(sw):
    ready_without_theory(sw)
    first = sw.import_theory([(t, "50") for t in sw.tickets]).json()
    second = sw.import_theory([(t, "65") for t in sw.tickets]).json()  # no reason: nothing was signed yet
    assert (first["version"], second["version"]) == (1, 2)
    assert_refusal(sw.countersign(first["import_id"]), 409, "import_not_draft", "R-SCORE-3")
    assert sw.countersign(second["import_id"]).status_code == 200
    assert {c["parts"]["theory"]["score"] for c in sw.scores()["candidates"]} == {65.0}


def test_after_publicity_starts_no_import_changes_a_score_R_SCORE_3(sw):
    sw.ready_for_publicity()
    sw.publish()
    r = sw.import_theory([(t, "59") for t in sw.tickets], reason="公示后更正")
    assert_refusal(r, 409, "scores_published", "R-SCORE-3")
    # A draft left before publicity would be refused too: publicity waits for it (theory_draft_pending,
    # tests/integration/scoring/test_theory_objections.py); only an upheld objection opens a version.
    assert {c["parts"]["theory"]["score"] for c in sw.scores()["candidates"]} == {80.0}


def test_a_suspended_institution_imports_and_countersigns_nothing_R_INST_2(sw):
    ready_without_theory(sw)
    draft = sw.import_theory().json()
    centre = bearer(sw.world.token("centre-jl", "centre", province="吉林"))
    r = sw.client.post(
        f"/api/v1/institutions/{sw.institution_id}/filing",
        headers=centre,
        json={"action": "suspend", "reason": "评价活动不规范，暂停整改"},
    )
    assert r.status_code == 200, r.text
    assert_refusal(sw.import_theory(), 409, "institution_not_in_standing", "R-INST-2")
    assert_refusal(sw.countersign(draft["import_id"]), 409, "institution_not_in_standing", "R-INST-2")
    assert one(sw, sw.candidates[0])["parts"]["theory"]["status"] == "pending"


def test_the_results_export_lists_each_correction_R_SCORE_3(sw):
    sw.ready_for_publicity()
    rows = [(t, "59" if i == 0 else "80") for i, t in enumerate(sw.tickets)]
    assert sw.theory(rows, reason="阅卷复核更正").status_code == 201
    text = sw.client.get(f"/api/v1/batches/{sw.batch_id}/results.csv", headers=sw.admin).content.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if line.startswith("更正 correction")]
    assert lines == [f"更正 correction,{sw.tickets[0]},理论知识 v2,80.0 → 59.0,阅卷复核更正"]


def test_the_versions_are_read_by_the_office_and_the_chief_not_by_an_evaluator_R_SCORE_1(sw):
    ready_without_theory(sw)
    assert sw.theory().status_code == 201
    url = f"/api/v1/batches/{sw.batch_id}/theory-imports"
    assert [v["version"] for v in sw.client.get(url, headers=sw.admin).json()["imports"]] == [1]
    assert sw.client.get(url, headers=sw.scorer(0)).status_code == 200
    assert_refusal(sw.client.get(url, headers=sw.scorer(1)), 403, "forbidden", "R-SCORE-1")
