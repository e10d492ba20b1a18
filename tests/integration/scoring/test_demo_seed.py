"""The demo's older batch: scored, published and locked through the services (R-PUB-1, R-SCORE-3)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import actor_of
from examday.demo.scores import score_publish_lock
from scoring.services.lock import verify_seals
from tests.integration.scoring.scoring_world import build
from tests.support import bearer


def test_demo_batch_ends_locked_and_sealed(client, world, engine, clock, app, settings):
    sw = build(client, world, engine, clock, exam_day=date(2026, 11, 2), pins=False, admit=False)
    with Session(engine, expire_on_commit=False) as db:
        accounts = {a.staff_id: a for a in db.exec(select(Account)).all() if a.staff_id}
        admin = actor_of(db.exec(select(Account).where(Account.role == "admin")).one())
        scorers = [actor_of(accounts[s]) for s in sw.examiners[:3]]
        body = score_publish_lock(
            db,
            batch_id=sw.batch_id,
            admin=admin,
            scorers=scorers,
            chief_staff_id=sw.examiners[0],
            passwords=app.state.passwords,
            secret_key=settings.secret_key,
            pin="2468",
            now=clock.now(),
        )
        db.commit()
        assert body["seal"]["results"] == len(sw.candidates) and body["seal"]["entries"] == 3 * len(sw.candidates)
        assert verify_seals(db) == []
    public = client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert public["status"] == "locked" and public["candidates"][-1]["result"] == "absent"
    # R-CERT-1: the demo leaves its locked batch awaiting the centre's review: centre-jl approves it in the demo.
    centre = bearer(world.token("centre-demo", "centre", province="吉林"))
    listed = client.get("/api/v1/centre/reviews", headers=centre).json()
    assert [(b["batch_id"], b["state"]) for b in listed] == [(sw.batch_id, "awaiting")]
