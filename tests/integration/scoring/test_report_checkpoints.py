"""A rewrite before a checkpoint the centre holds is detected (issue #17, R-AUDIT-1).

Whoever operates the institution's database can change a score behind the triggers, recompute
the seal and sign it with the institution's own key, rewrite the lock's audit entry and
recompute every later hash: ``examday audit verify`` passes, as it must on its own (the chain
and the seals are consistent again). ``audit verify --checkpoints`` with the checkpoints the
centre received in the report package fails, naming the first checkpoint broken; so does the
proof a checkpoint holder reads from ``GET /api/v1/audit/proof``.
"""

from __future__ import annotations

import json
from argparse import Namespace

from sqlalchemy import text
from sqlmodel import Session, col, select

from examday import audit, checkpoints, keys
from examday.plans.models import Batch
from scoring.models import BatchSeal, PartScore
from scoring.seal import seal_digest
from scoring.services.lock import _id_key, seal_payload, seal_rows
from tests.integration.scoring.test_exports import AFTER_END
from tests.integration.scoring.test_report_package import fetch, members, register, send, uscc_of
from tests.integration.scoring.test_triggers import _behind_the_triggers, first_id


def _verify(settings, monkeypatch, capsys, checkpoints_file=None) -> tuple[int, str]:
    from examday import cli
    from storage.db import make_engine

    monkeypatch.setattr(cli, "_engine", lambda s: make_engine(s.database_url))
    code = cli.cmd_audit_verify(Namespace(checkpoints=checkpoints_file), settings)
    return code, capsys.readouterr().out


def _rewrite_history(engine, batch_id: int) -> int:
    """The operator's full rewrite: a score, the seal (re-signed), the lock's entry, every later hash."""
    _behind_the_triggers(
        engine, "UPDATE part_score SET score_tenths = 990 WHERE id = :i", i=first_id(engine, PartScore)
    )
    with Session(engine) as db:
        seal = db.exec(select(BatchSeal).where(BatchSeal.batch_id == batch_id)).one()
        batch = db.get(Batch, batch_id)
        results, entries = seal_rows(db, batch, seal.version, _id_key(db, seal.kid))
        digest = seal_digest(results, entries, seal.version)
        kid, signature = keys.sign(
            db, batch.institution_id, seal_payload(batch_id, digest, seal.locked_at), seal.locked_at
        )
        assert kid == seal.kid
        lock = db.exec(
            select(audit.AuditEntry).where(
                audit.AuditEntry.action == "batch.lock", audit.AuditEntry.object_id == str(batch_id)
            )
        ).one()
        lock_chain, lock_seq = lock.chain, lock.chain_seq  # issue #18: the institution's own chain
        diff = json.loads(lock.diff)
        diff["seal"]["digest"], diff["seal"]["signature"] = digest, signature
        new_lock_diff = audit.canonical(diff)
    statements = [
        "UPDATE batch_seal SET digest = :d, signature = :s WHERE batch_id = :b",
    ]
    _behind_the_triggers(engine, statements, d=digest, s=signature, b=batch_id)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE auditentry SET diff = :d WHERE chain = :c AND chain_seq = :q"),
            {"d": new_lock_diff, "c": lock_chain, "q": lock_seq},
        )
    _recompute_from(engine, lock_chain, lock_seq)
    return lock_seq


def _recompute_from(engine, chain: int, seq: int) -> None:
    """Every hash of the chain from ``seq`` on recomputed, and its head: the rewrite covered up."""
    with Session(engine) as db:
        prev = audit.entry_at(db, chain, seq - 1).hash if seq > 1 else audit.GENESIS
        for e in db.exec(
            select(audit.AuditEntry)
            .where(audit.AuditEntry.chain == chain, audit.AuditEntry.chain_seq >= seq)
            .order_by(col(audit.AuditEntry.chain_seq))
        ).all():
            e.prev_hash = prev
            e.hash = audit.entry_hash(e)
            prev = e.hash
            db.add(e)
        head = db.get(audit.AuditHead, chain)
        head.hash = prev
        db.add(head)
        db.commit()


def _institution(engine, batch_id: int) -> int:
    with Session(engine) as db:
        return db.get(Batch, batch_id).institution_id


def test_r_audit_1_a_rewrite_before_a_held_checkpoint_is_detected(
    approved, world, engine, settings, monkeypatch, capsys, tmp_path
):
    centre = register(approved, world)
    assert send(approved, fetch(approved).content, centre).status_code == 201
    held = approved.client.get("/api/v1/centre/checkpoints", params={"uscc": uscc_of(approved)}, headers=centre).json()
    path = tmp_path / "checkpoints.json"
    path.write_text(json.dumps(held))
    assert _verify(settings, monkeypatch, capsys, str(path))[0] == 0

    lock_seq = _rewrite_history(engine, approved.batch_id)

    code, out = _verify(settings, monkeypatch, capsys)
    assert (code, out) == (0, "audit chain holds\n")  # the chain and the seal, recomputed, hold alone
    code, out = _verify(settings, monkeypatch, capsys, str(path))
    assert code == 1
    first = min(int(c["seq"]) for c in held if int(c["seq"]) >= lock_seq)
    assert out.startswith(f"checkpoint broken: entry {first} ") and "rewritten" in out

    # The holder's own check of the proof: the chain no longer passes through its checkpoint.
    cp = next(c for c in held if int(c["seq"]) == first)
    params = {"since": first, "institution": _institution(engine, approved.batch_id)}
    proof = approved.client.get("/api/v1/audit/proof", params=params, headers=centre).json()
    assert proof["chain_holds"] is True and proof["chain"] == uscc_of(approved)
    assert not checkpoints.links_pass_through(proof["links"], first, cp["hash"])


def test_r_audit_1_a_rewrite_earlier_than_the_first_held_checkpoint_is_detected(
    approved, world, engine, settings, monkeypatch, capsys, tmp_path
):
    """Issue #17, R-AUDIT-1: an entry strictly before the first checkpoint the centre holds (not a
    checkpoint's own entry) rewritten — a score entry's recorded total — and every later hash and
    the head recomputed: ``audit verify`` alone passes, ``audit verify --checkpoints`` with the
    centre's checkpoints fails and names the first checkpoint held as the one broken."""
    centre = register(approved, world)
    assert send(approved, fetch(approved).content, centre).status_code == 201
    held = approved.client.get("/api/v1/centre/checkpoints", params={"uscc": uscc_of(approved)}, headers=centre).json()
    path = tmp_path / "checkpoints.json"
    path.write_text(json.dumps(held))
    first = min(int(c["seq"]) for c in held)
    chain = _institution(engine, approved.batch_id)
    with Session(engine) as db:
        entry = db.exec(
            select(audit.AuditEntry)
            .where(audit.AuditEntry.chain == chain, audit.AuditEntry.action == "score_entry.create")
            .order_by(col(audit.AuditEntry.chain_seq))
        ).first()
        seq, diff = entry.chain_seq, json.loads(entry.diff)
    assert 1 < seq < first
    diff["total"] = "99.0"
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE auditentry SET diff = :d WHERE chain = :c AND chain_seq = :q"),
            {"d": audit.canonical(diff), "c": chain, "q": seq},
        )
    _recompute_from(engine, chain, seq)

    assert _verify(settings, monkeypatch, capsys) == (0, "audit chain holds\n")
    code, out = _verify(settings, monkeypatch, capsys, str(path))
    assert code == 1
    assert out.startswith(f"checkpoint broken: entry {first} ") and "rewritten" in out, out


def test_r_audit_1_the_chain_passes_through_untouched_checkpoints(approved, world, engine):
    centre = register(approved, world)
    assert send(approved, fetch(approved).content, centre).status_code == 201
    held = approved.client.get("/api/v1/centre/checkpoints", params={"uscc": uscc_of(approved)}, headers=centre).json()
    assert {c["reason"] for c in held} >= {"lock", "report"}
    inst = _institution(engine, approved.batch_id)
    for c in held:
        assert c["version"] == checkpoints.CHECKPOINT_V2 and c["chain"] == uscc_of(approved)  # issue #18
        params = {"since": c["seq"], "institution": inst}
        proof = approved.client.get("/api/v1/audit/proof", params=params, headers=centre).json()
        assert checkpoints.links_pass_through(proof["links"], int(c["seq"]), c["hash"])
    with Session(engine) as db:
        assert checkpoints.verify_through(db, held) is None
        # A checkpoint beyond the head of the institution's chain: entries were removed since.
        beyond = {**held[-1], "seq": checkpoints.head(db, inst)[0] + 5}
        broken = checkpoints.verify_through(db, [beyond])
        assert broken is not None and "shorter" in str(broken)


def test_r_audit_1_a_checkpoint_conflicting_with_one_held_refuses_the_package(approved, world, engine):
    """The operator also replaces the institution's own checkpoints: the new package signs the
    rewritten chain, and its checkpoints contradict the ones the centre holds."""
    centre = register(approved, world)
    assert send(approved, fetch(approved).content, centre).status_code == 201
    _rewrite_history(engine, approved.batch_id)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoint"))
    r = send(approved, fetch(approved).content, centre)
    assert r.status_code == 422 and r.json()["code"] == "audit_checkpoint_conflict"
    assert r.json()["rule"] == "R-AUDIT-1"


def test_r_audit_1_the_lock_signs_its_checkpoint_in_its_own_transaction(sw, clock, engine):
    """Issue #17: "every lock … the institution signs a checkpoint". Signed with the lock, at the
    lock's own audit entry, before any package is built; the package carries that same one."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    with Session(engine) as db:
        lock_entry = db.exec(select(audit.AuditEntry).where(audit.AuditEntry.action == "batch.lock")).one()
        held = db.exec(select(checkpoints.AuditCheckpoint).where(checkpoints.AuditCheckpoint.reason == "lock")).all()
    assert [(c.chain, c.seq, c.hash) for c in held] == [(lock_entry.chain, lock_entry.chain_seq, lock_entry.hash)]
    sw.approve()
    r = fetch(sw)
    assert r.status_code == 200, r.text
    manifest = json.loads(members(r.content)["manifest.json"])
    assert (manifest["checkpoint"]["seq"], manifest["checkpoint"]["hash"]) == (lock_entry.chain_seq, lock_entry.hash)
    with Session(engine) as db:
        assert (
            len(db.exec(select(checkpoints.AuditCheckpoint).where(checkpoints.AuditCheckpoint.reason == "lock")).all())
            == 1
        )


def test_r_audit_1_the_public_page_prints_the_seal_and_the_lock_checkpoint(sw, clock, engine):
    """Issue #17: candidates hold a copy of the checkpoint too — the public page (and its JSON)
    prints the seal digest and the checkpoint signed at the lock."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    with Session(engine) as db:
        cp = db.exec(select(checkpoints.AuditCheckpoint).where(checkpoints.AuditCheckpoint.reason == "lock")).one()
    public = sw.client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert (public["checkpoint"]["seq"], public["checkpoint"]["hash"]) == (cp.seq, cp.hash)
    assert public["checkpoint"]["signature"] == cp.signature
    page = sw.client.get(f"/public/batches/{sw.batch_id}/publicity.html")
    assert page.status_code == 200 and cp.hash in page.text and public["seal"]["digest"] in page.text


def test_r_pub_2_the_scores_page_shows_the_push_state_beside_the_deadline(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    page = sw.client.get(f"/office/batches/{sw.batch_id}/scores", headers={**sw.admin, "Accept": "text/html"})
    assert page.status_code == 200
    assert 'id="report-push" data-state="not_sent"' in page.text and "未上报" in page.text
