"""The lock computes the batch's results once (issue #15, R-SCORE-3, R-ARCH-1).

Reproduced: archiving at the lock recomputed the results (attendance, incidents, every part
score) for each document — the checks, the seal, the score summary, the results export and the
scoring records: five times, 2.86 s for 2,000 candidates against 1.08 s before archiving
(``bench/lock.py``). Now the lock computes them once and every document reads those, so the
archived summary and export state exactly the results the seal covers.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook

from examday.clock import CST
from scoring import admission

AFTER_END = datetime(2026, 12, 3, 8, 30, tzinfo=CST)


def test_the_lock_and_its_archive_compute_the_results_once_R_ARCH_1(sw, clock, monkeypatch):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    calls: list[int] = []
    real = admission.sat_parts  # read once per computation of the results (scoring.results)

    def counted(db, batch):
        calls.append(batch.id)
        return real(db, batch)

    monkeypatch.setattr(admission, "sat_parts", counted)
    r = sw.lock()
    assert r.status_code == 200, r.text
    assert calls == [sw.batch_id]
    monkeypatch.undo()
    # Every archived document was made: the export states the sealed results and the seal.
    docs = {
        d["kind"]: d
        for d in sw.client.get(f"/api/v1/batches/{sw.batch_id}/archive", headers=sw.admin).json()["documents"]
        if d["ref"] == "lock"
    }
    assert set(docs) == {"score_summary", "seal", "results_export", "scoring_record"}
    xlsx = sw.client.get(docs["results_export"]["download"], headers=sw.admin).content
    cells = [str(c) for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True) for c in row]
    assert r.json()["seal"]["digest"] in cells
    results = {c["ticket_number"]: c["result"] for c in sw.scores()["candidates"]}
    assert sum(1 for c in cells if c == "合格") == list(results.values()).count("pass") > 0
