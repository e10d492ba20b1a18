"""The lock archives what it makes final (issue #15, R-ARCH-1, R-SCORE-3).

Reproduced: after the lock nothing was archived — ``archive_document`` had no caller. Now the
lock (by command, or automatically on the first request after the publicity) archives the
score summary (PDF) and the seal (JSON), kept permanently, the results export (XLSX), an
electronic record kept 5 years, and the examiners' signed scoring records (JSON), kept for their
own class (R-SCORE-2); each once, each on the audit chain.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from storage.retention_models import ArchivedDocument

AFTER_END = datetime(2026, 12, 3, 8, 30, tzinfo=CST)


def _archive(sw, headers=None) -> list[dict]:
    r = sw.client.get(f"/api/v1/batches/{sw.batch_id}/archive", headers=headers or sw.admin)
    assert r.status_code == 200, r.text
    return r.json()["documents"]


def _lock_docs(docs: list[dict]) -> dict[str, dict]:
    return {d["kind"]: d for d in docs if d["ref"] == "lock"}


def test_the_lock_archives_the_summary_the_seal_and_the_export_R_ARCH_1(sw, clock, engine):
    sw.ready_for_publicity()
    sw.publish()
    assert _lock_docs(_archive(sw)) == {}  # nothing is final before the lock
    clock.at = AFTER_END
    r = sw.lock()
    assert r.status_code == 200, r.text
    seal = r.json()["seal"]
    docs = _lock_docs(_archive(sw))
    assert set(docs) == {"score_summary", "seal", "results_export", "scoring_record"}
    assert (docs["score_summary"]["retention_class"], docs["score_summary"]["kept_until"]) == ("key_documents", None)
    assert (docs["seal"]["retention_class"], docs["seal"]["kept_until"]) == ("key_documents", None)
    # The export is an electronic record: 5 years under the strict profile (R-ARCH-1).
    assert (docs["results_export"]["retention_class"], docs["results_export"]["kept_until"]) == (
        "electronic_records",
        "2031-12-03",
    )
    # R-SCORE-2: the signed scoring records are kept at least 1 year.
    assert (docs["scoring_record"]["retention_class"], docs["scoring_record"]["kept_until"]) == (
        "scoring_records",
        "2027-12-03",
    )
    assert {d["made_by"] for d in docs.values()} == {"office"}
    pdf = sw.client.get(docs["score_summary"]["download"], headers=sw.admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert hashlib.sha256(pdf.content).hexdigest() == docs["score_summary"]["sha256"]
    assert pdf.headers["cache-control"] == "private, no-store"
    sealed = json.loads(sw.client.get(docs["seal"]["download"], headers=sw.admin).content)
    assert (sealed["digest"], sealed["signature"], sealed["batch_id"]) == (
        seal["digest"],
        seal["signature"],
        sw.batch_id,
    )
    xlsx = sw.client.get(docs["results_export"]["download"], headers=sw.admin).content
    assert xlsx.startswith(b"PK")
    signed = json.loads(sw.client.get(docs["scoring_record"]["download"], headers=sw.admin).content)
    assert len(signed["entries"]) == seal["entries"] and all(e["signature"] for e in signed["entries"])
    with Session(engine) as db:
        assert len(db.exec(select(ArchivedDocument).where(ArchivedDocument.ref == "lock")).all()) == 4
        logged = [e for e in db.exec(select(AuditEntry)).all() if e.action == "document.archived"]
        kinds = sorted(json.loads(e.diff)["kind"] for e in logged if json.loads(e.diff)["ref"] == "lock")
        assert kinds == ["results_export", "score_summary", "scoring_record", "seal"]


def test_the_autolock_archives_too_as_the_system_R_ARCH_1(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    sw.scores()  # the first request after the publicity locks the batch (R-PUB-1)
    assert sw.batch_status() == "locked"
    docs = _lock_docs(_archive(sw))
    assert set(docs) == {"score_summary", "seal", "results_export", "scoring_record"}
    assert {d["made_by"] for d in docs.values()} == {"system"}


def test_the_lock_archives_the_sign_in_sheets_nobody_asked_for_R_DAY_3(sw, clock, engine):
    """Found by the browser journey: a batch whose archive nobody opened had no sign-in sheets.
    The lock produces every ended session's sheets, in its own transaction."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    with Session(engine) as db:
        assert db.exec(select(ArchivedDocument).where(ArchivedDocument.kind == "sign_in_sheet")).all() == []
    assert sw.lock().status_code == 200
    with Session(engine) as db:  # read before anyone lists the archive, which would produce them too
        sheets = db.exec(select(ArchivedDocument).where(ArchivedDocument.kind == "sign_in_sheet")).all()
    assert sheets and {s.batch_id for s in sheets} == {sw.batch_id}
    assert {s.archived_at.astimezone(CST) for s in sheets} == {AFTER_END}
