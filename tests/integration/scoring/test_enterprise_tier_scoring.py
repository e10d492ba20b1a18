"""An enterprise's tier batch through scoring (R-LEVEL, R-STAFF-2, R-FMT-CERT; issue #15).

Found after tiers landed in the plans: the panel refused a 首席技师 batch as `level_invalid`
(scoring knew levels 1–5 only), and certificates for a tier fell through to a number whose
level digit must be 1–5. Now the panel judges a tier as the level it is assessed as, and a
tier gets no unified certificate number, with its own reason."""

from __future__ import annotations

from sqlmodel import Session

from examday.plans.models import Batch
from examday.registry.models import Institution
from tests.integration.scoring.scoring_world import build
from tests.integration.scoring.test_exports import AFTER_END, CERT
from tests.support import assert_refusal

APPRENTICE = 6  # 学徒工: theory and skill, judged as level 5


def _enterprise(sw) -> None:
    with Session(sw.engine) as db:
        inst = db.get(Institution, db.get(Batch, sw.batch_id).institution_id)
        inst.kind = "enterprise"
        db.add(inst)
        db.commit()


def test_r_level_an_apprentice_batch_is_scored_locked_and_gets_no_unified_certificate(client, world, engine, clock):
    sw = build(client, world, engine, clock, level=APPRENTICE)
    _enterprise(sw)
    sw.ready_for_publicity()  # the panel is accepted for 学徒工 (was: level_invalid)
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.approve()
    r = client.post(f"/api/v1/batches/{sw.batch_id}/certificates", headers=sw.admin, json=CERT)
    refusal = assert_refusal(r, 409, "tier_has_no_unified_certificate", "R-FMT-CERT")
    assert "学徒工" in refusal["message"] and refusal["detail"]["level"] == APPRENTICE
