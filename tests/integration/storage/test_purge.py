"""The retention purge on real rows and real files (R-VIDEO-1, R-ARCH-1, R-SCORE-2):
periods by profile, legal holds, permanent key documents, the dry run, a crash
half-way, orphan files and the disk alert."""

from __future__ import annotations

import hashlib
import io
import os
import time as systime
from collections import namedtuple
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from examday import audit
from examday.actor import Actor
from examday.audit import AuditEntry
from examday.clock import CST
from examday.errors import Refusal
from examday.records.archive import archive_document
from examday.records.holds import place_hold
from examday.registry.models import Camera, Institution
from proctor.services import video
from proctor.video_models import Segment
from storage import purge
from storage.blobs import Blob
from storage.holds import LegalHold
from storage.purge import run_purge
from storage.retention_models import PurgeIntent
from tests import builders
from tests.support import assert_refusal, bearer

OLD_DAY = date(2025, 11, 20)  # expired under Jilin (1 year) on 2026-11-26, kept under strict (5 years)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROOT_ADMIN = Actor(None, "root", "admin")


def cst(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), CST)


class Season:
    """Two institutions (Jilin profile and the strict default) with segments on disk."""

    def __init__(self, db: Session, now: datetime, folder: Path) -> None:
        self.db, self.folder = db, folder
        self.jl = builders.institution(db, now)
        self.jl.profile = "jilin"
        self.sc = builders.institution(db, now, uscc="91440101MA5CJQ4N59", province="四川")
        rooms_jl, rooms_sc = builders.rooms(db, self.jl), builders.rooms(db, self.sc)
        people = builders.staff(db, self.jl)
        self.old_batch = builders.batch(db, self.jl, OLD_DAY, rooms_jl[:1], people["proctor"], now=now)
        db.commit()
        self.cams = {(c.room_id, c.code): c.id for c in db.exec(select(Camera)).all()}
        self.cam_jl = self.cams[(rooms_jl[0].id, "T01-C1")]
        self.cam_jl2 = self.cams[(rooms_jl[1].id, "T02-C1")]
        self.cam_sc = self.cams[(rooms_sc[0].id, "T01-C1")]
        db.commit()  # SQLite transactions are BEGIN IMMEDIATE: hold none while the server or purge works

    def segment(self, camera_id: int, iid: int, start: datetime, minutes: int = 10, state: str = "valid") -> Segment:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = os.urandom(256)
        path = self.folder / f"{camera_id}-{start:%Y%m%d%H%M}.mp4"
        path.write_bytes(data)
        end = start + timedelta(minutes=minutes)
        seg = Segment(
            camera_id=camera_id,
            institution_id=iid,
            started_at=start,
            ended_at=end,
            expected_end=end,
            path=str(path),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            state=state,
            received_at=end,
        )
        self.db.add(seg)
        self.db.commit()
        return seg


@pytest.fixture
def season(db, clock, settings):
    return Season(db, clock.now(), settings.data_dir / "video")  # unset EXAMDAY_VIDEO_DIRS: the default


def purge_now(engine, settings, clock, dry_run=False) -> str:
    out = io.StringIO()
    assert run_purge(engine, settings, clock, dry_run=dry_run, out=out) == 0
    return out.getvalue()


def state_of(engine, seg_id: int) -> tuple[str, bool, bool]:
    with Session(engine) as s:
        seg = s.get(Segment, seg_id)
        return seg.state, seg.purged_at is not None, Path(seg.path).exists()


def test_only_what_is_past_its_period_is_purged(engine, settings, clock, season):  # R-VIDEO-1
    jl, sc = season.jl.id, season.sc.id
    expired = season.segment(season.cam_jl, jl, cst(OLD_DAY, 9))
    last_day_past = season.segment(season.cam_jl, jl, cst(date(2025, 11, 25), 23, 50))  # expired 2026-11-25
    expiry_day = season.segment(season.cam_jl, jl, cst(date(2025, 11, 26), 0, 10))  # kept through 2026-11-26
    recent = season.segment(season.cam_jl, jl, cst(date(2026, 11, 25), 9))
    strict = season.segment(season.cam_sc, sc, cst(OLD_DAY, 9))  # 5 years under the strict profile
    already_bad = season.segment(season.cam_jl2, jl, cst(OLD_DAY, 9), state="checksum_mismatch")

    out = purge_now(engine, settings, clock)
    assert state_of(engine, expired.id) == ("purged", True, False)
    assert state_of(engine, last_day_past.id) == ("purged", True, False)
    # Issue #14, R-VIDEO-1: a file that did not match its hash is nobody's vouched-for recording:
    # the purge leaves it (and its row) and says so.
    assert state_of(engine, already_bad.id) == ("checksum_mismatch", False, True)
    assert f"NOT purged segment {already_bad.id} T02/T02-C1" in out and "kept_not_verified" in out
    for kept in (expiry_day, recent, strict):
        assert state_of(engine, kept.id) == ("valid", False, True)
    assert f"purged segment {expired.id} T01/T01-C1" in out and f"segment {strict.id} " not in out
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "retention.purged")).one()
        assert entry.institution_id == jl and '"count":2' in entry.diff and '"profile":"jilin"' in entry.diff
        assert audit.verify(s) is None
    assert "segment purged: 0" not in purge_now(engine, settings, clock)  # a second run finds nothing more
    with Session(engine) as s:
        assert len(s.exec(select(AuditEntry).where(AuditEntry.action == "retention.purged")).all()) == 1


def test_a_purged_segment_leaves_a_gap_caused_by_purged(engine, settings, clock, season):  # R-VIDEO-1
    jl = season.jl.id
    s = season.old_batch
    for m in range(0, 100, 10):  # 08:50-10:30 covers the window 08:59-10:31 but for the last minute
        season.segment(season.cam_jl, jl, cst(OLD_DAY, 8, 50) + timedelta(minutes=m))
    purge_now(engine, settings, clock)
    with Session(engine) as db:
        cov = video.batch_coverage(db, ROOT_ADMIN, s.id, clock.now())
    cam = next(c for r in cov["sessions"][0]["rooms"] for c in r["cameras"] if c["code"] == "T01-C1")
    assert [g["cause"] for g in cam["gaps"]] == ["purged", "no_hook_received"]


def test_held_records_are_kept_until_released_by_hand(client, world, engine, settings, clock, season):  # R-ARCH-1
    jl = season.jl.id
    in_batch = season.segment(season.cam_jl, jl, cst(OLD_DAY, 9, 30))  # in the old batch's session
    incident = season.segment(season.cam_jl2, jl, cst(OLD_DAY, 11))
    free = season.segment(season.cam_jl2, jl, cst(OLD_DAY, 12))
    admin = bearer(world.token("office", "admin", jl))
    r = client.post(
        "/api/v1/holds",
        json={"object_type": "batch", "object_id": season.old_batch.id, "reason": "考生提出异议 / objection pending"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    batch_hold = r.json()
    assert batch_hold["source"] == "manual" and batch_hold["active"] is True
    # The incident service places its hold itself, under its own caller, in its own transaction.
    proctor = Actor(7, "proctor-a", "proctor", jl, staff_id=1)
    with Session(engine) as db:
        h = place_hold(
            db, proctor, "segment", incident.id, "违纪取证 / incident evidence", clock.now(), source="incident:12"
        )
        assert place_hold(db, proctor, "segment", incident.id, "again", clock.now(), source="incident:12").id == h.id
        db.commit()
        incident_hold = h.id

    out = purge_now(engine, settings, clock)
    assert state_of(engine, in_batch.id) == ("valid", False, True)
    assert state_of(engine, incident.id) == ("valid", False, True)
    assert state_of(engine, free.id) == ("purged", True, False)
    assert "segment held: 2" in out

    url = f"/api/v1/holds/{incident_hold}/release"
    assert_refusal(client.post(url, json={"reason": " "}, headers=admin), 422, "release_reason_required", "R-ARCH-1")
    p_token = bearer(world.token("p1", "proctor", jl, staff_id=1))
    assert_refusal(client.post(url, json={"reason": "done"}, headers=p_token), 403, "forbidden")
    other = bearer(world.token("other", "admin", season.sc.id))
    assert_refusal(client.post(url, json={"reason": "done"}, headers=other), 403, "forbidden")
    assert state_of(engine, incident.id) == ("valid", False, True)  # refusals changed nothing
    r = client.post(url, json={"reason": "处分决定已生效 / decision final"}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["release_reason"]
    assert_refusal(client.post(url, json={"reason": "again"}, headers=admin), 409, "hold_already_released")
    listed = client.get("/api/v1/holds", headers=admin).json()
    assert [h["id"] for h in listed] == [batch_hold["id"]]

    purge_now(engine, settings, clock)
    assert state_of(engine, incident.id) == ("purged", True, False)
    assert state_of(engine, in_batch.id) == ("valid", False, True)  # the batch hold still stands
    with Session(engine) as db:
        actions = [a for a in db.exec(select(AuditEntry.action)).all() if a.startswith("hold.")]
        assert actions == ["hold.placed", "hold.placed", "hold.released"]


def test_a_hold_by_hand_needs_the_institutions_admin_and_a_reason(client, world, season):  # R-ARCH-1
    admin = bearer(world.token("office", "admin", season.jl.id))
    r = client.post(
        "/api/v1/holds", json={"object_type": "camera", "object_id": season.cam_jl, "reason": ""}, headers=admin
    )
    assert_refusal(r, 422, "hold_reason_required", "R-ARCH-1")
    r = client.post("/api/v1/holds", json={"object_type": "planet", "object_id": 1, "reason": "x y"}, headers=admin)
    assert_refusal(r, 422, "invalid_hold_object")
    r = client.post(
        "/api/v1/holds", json={"object_type": "camera", "object_id": season.cam_sc, "reason": "x y"}, headers=admin
    )
    assert_refusal(r, 403, "forbidden")
    r = client.post(
        "/api/v1/holds", json={"object_type": "segment", "object_id": 424242, "reason": "x y"}, headers=admin
    )
    assert_refusal(r, 404, "not_found")
    with Session(season.db.get_bind()) as s:
        assert s.exec(select(LegalHold)).all() == []


def test_permanent_key_documents_are_never_purged(engine, settings, clock, season, app):  # R-ARCH-1, R-SCORE-2
    blobs = app.state.blobs
    long_ago = datetime(2015, 3, 1, tzinfo=CST)
    with Session(engine) as db:
        doc = archive_document(
            db,
            blobs,
            ROOT_ADMIN,
            "sign_in_sheet",
            season.jl.id,
            season.old_batch.id,
            "签到表.png",
            PNG,
            "image/png",
            long_ago,
        )
        with pytest.raises(Refusal) as refused:
            archive_document(
                db,
                blobs,
                ROOT_ADMIN,
                "sign_in_sheet",
                season.jl.id,
                None,
                "x.pdf",
                b"GIF89a",
                "application/pdf",
                long_ago,
            )
        assert refused.value.code == "invalid_document_file"
        # An answer sheet stored under the same bytes shares the file; an old electronic record does not.
        shared = Blob(
            key=doc.key,
            sha256=doc.sha256,
            size=doc.size,
            retention_class="candidate_answers",
            institution_id=season.jl.id,
            created_at=long_ago,
        )
        stored = blobs.put(b"an electronic record")
        electronic = Blob(
            key=stored.key,
            sha256=stored.sha256,
            size=stored.size,
            retention_class="electronic_records",
            institution_id=season.jl.id,
            created_at=long_ago,
        )
        recent = blobs.put(b"this year's scoring record")
        scoring = Blob(
            key=recent.key,
            sha256=recent.sha256,
            size=recent.size,
            retention_class="scoring_records",
            institution_id=season.jl.id,
            created_at=clock.now() - timedelta(days=200),
        )
        db.add_all([shared, electronic, scoring])
        db.commit()
        ids = doc.id, shared.id, electronic.id, scoring.id
        assert doc.retention_class == "key_documents" and doc.sha256 == hashlib.sha256(PNG).hexdigest()

    out = purge_now(engine, settings, clock)
    with Session(engine) as db:
        doc, shared, electronic, scoring = (db.get(Blob, i) for i in ids)
        assert doc.purged_at is None and blobs.exists(doc.key)  # permanent, and its file stays
        assert shared.purged_at is not None  # the answer sheet's period is over…
        assert electronic.purged_at is not None and not blobs.exists(electronic.key)
        assert scoring.purged_at is None and blobs.exists(scoring.key)
        assert "document.archived" in db.exec(select(AuditEntry.action)).all()
    assert f"blob {doc.id} " not in out and f"purged blob {electronic.id} " in out


def snapshot(engine, folder: Path, blobs_root: Path):
    with Session(engine) as s:
        rows = sorted((x.id, x.state, x.purged_at) for x in s.exec(select(Segment)).all())
        blob_rows = sorted((b.id, b.purged_at) for b in s.exec(select(Blob)).all())
        n_audit = len(s.exec(select(AuditEntry.seq)).all())
        n_intents = len(s.exec(select(PurgeIntent.id)).all())
    files = sorted(str(p) for root in (folder, blobs_root) if root.exists() for p in root.rglob("*"))
    return rows, blob_rows, n_audit, n_intents, files


def test_a_dry_run_changes_nothing(engine, settings, clock, season, app):  # R-VIDEO-1, R-ARCH-1
    jl = season.jl.id
    due = [season.segment(season.cam_jl, jl, cst(OLD_DAY, 9) + timedelta(minutes=10 * i)) for i in range(5)]
    season.segment(season.cam_jl, jl, cst(date(2026, 11, 1), 9))
    stored = app.state.blobs.put(b"old record")
    orphan = app.state.blobs.put(b"a file whose row was never committed")
    old = systime.time() - 7200
    os.utime(app.state.blobs.path(orphan.key), (old, old))
    with Session(engine) as db:
        db.add(
            Blob(
                key=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                retention_class="paper_scans",
                institution_id=jl,
                created_at=datetime(2020, 1, 1, tzinfo=CST),
            )
        )
        db.add(PurgeIntent(kind="segment", object_id=due[0].id, run_at=clock.now()))  # an interrupted run
        db.commit()
    before = snapshot(engine, season.folder, app.state.blobs.root)
    out = purge_now(engine, settings, clock, dry_run=True)
    assert snapshot(engine, season.folder, app.state.blobs.root) == before
    assert all(f"would purge segment {s.id} " in out for s in due)
    assert "would purge blob" in out and f"would remove orphan file {orphan.key}" in out
    assert "1 deletions of an interrupted run would be settled first" in out
    assert "(dry run)" in out.splitlines()[-1]


def test_a_crash_half_way_is_settled_by_the_next_purge(
    engine, settings, clock, season, monkeypatch, app
):  # R-VIDEO-1, R-ARCH-1
    jl = season.jl.id
    segs = [season.segment(season.cam_jl2, jl, cst(OLD_DAY, 12) + timedelta(minutes=10 * i)) for i in range(6)]
    real_unlink, calls = purge._unlink, []

    def crashing_unlink(path, roots):
        if len(calls) == 3:
            raise KeyboardInterrupt("power cut")
        calls.append(path)
        return real_unlink(path, roots)

    monkeypatch.setattr(purge, "_unlink", crashing_unlink)
    monkeypatch.setattr(purge, "UNLINK_THREADS", 1)  # so that the power fails after exactly three files
    with pytest.raises(KeyboardInterrupt):
        run_purge(engine, settings, clock, out=io.StringIO())
    monkeypatch.setattr(purge, "_unlink", real_unlink)
    states = [state_of(engine, s.id) for s in segs]
    assert states[:3] == [("valid", False, False)] * 3  # files gone, rows not yet marked…
    assert states[3:] == [("valid", False, True)] * 3
    with Session(engine) as db:
        assert len(db.exec(select(PurgeIntent)).all()) == 6  # …but the intent says why
        # Meanwhile a hold comes for one deleted and one untouched segment.
        for s in (segs[1], segs[4]):
            place_hold(db, ROOT_ADMIN, "segment", s.id, "inquiry 调查", clock.now())
        db.commit()
    # A writer crashed between a blob file and its row; another file is being written right now.
    orphan = app.state.blobs.put(b"orphan bytes")
    fresh = app.state.blobs.put(b"a write in progress")
    old = systime.time() - 7200
    os.utime(app.state.blobs.path(orphan.key), (old, old))
    tmp = app.state.blobs.root / "ab" / ".tmp-crashed"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(b"half")
    os.utime(tmp, (old, old))

    out = purge_now(engine, settings, clock)
    assert state_of(engine, segs[0].id) == ("purged", True, False)
    assert state_of(engine, segs[1].id) == ("purged", True, False)  # held, but its file was already gone
    assert state_of(engine, segs[2].id) == ("purged", True, False)
    assert state_of(engine, segs[3].id) == ("purged", True, False)
    assert state_of(engine, segs[4].id) == ("valid", False, True)  # the hold came in time: kept
    assert state_of(engine, segs[5].id) == ("purged", True, False)
    assert f"settled segment {segs[0].id}" in out and f"kept segment {segs[4].id}" in out
    assert not app.state.blobs.exists(orphan.key) and app.state.blobs.exists(fresh.key) and not tmp.exists()
    with Session(engine) as db:
        assert db.exec(select(PurgeIntent)).all() == []
        # No row claims a missing file, no segment file lacks its row.
        for seg in db.exec(select(Segment)).all():
            assert (seg.purged_at is None) == Path(seg.path).exists()
        paths = {seg.path for seg in db.exec(select(Segment)).all()}
        assert all(str(p) in paths for p in season.folder.rglob("*.mp4"))
        assert {"retention.purge_settled", "retention.orphans_removed"} <= set(db.exec(select(AuditEntry.action)))
        assert audit.verify(db) is None


def test_a_full_disk_raises_an_alert_and_purges_nothing_early(
    client, world, engine, settings, clock, season, monkeypatch
):  # R-VIDEO-1, R-ARCH-1
    jl = season.jl.id
    due = season.segment(season.cam_jl, jl, cst(OLD_DAY, 9))
    young = [season.segment(season.cam_jl, jl, cst(date(2026, 3, 1), 9) + timedelta(minutes=10 * i)) for i in range(3)]
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(purge.shutil, "disk_usage", lambda _: usage(1000, 995, 5))
    out = purge_now(engine, settings, clock)
    assert out.startswith("ALERT disk_low")
    assert state_of(engine, due.id)[1] is True
    assert all(state_of(engine, s.id) == ("valid", False, True) for s in young)
    r = client.get("/api/v1/retention", headers=bearer(world.token("office", "admin", jl)))
    assert r.status_code == 200 and r.json()["alerts"][0]["code"] == "disk_low"


def test_the_retention_preview_says_what_would_go(client, world, engine, clock, season):  # R-ARCH-1
    jl = season.jl.id
    due = [season.segment(season.cam_jl2, jl, cst(OLD_DAY, 14) + timedelta(minutes=10 * i)) for i in range(3)]
    season.segment(season.cam_sc, season.sc.id, cst(OLD_DAY, 9))
    admin = bearer(world.token("office", "admin", jl))
    client.post(
        "/api/v1/holds", json={"object_type": "segment", "object_id": due[0].id, "reason": "异议 hold"}, headers=admin
    )
    body = client.get("/api/v1/retention", headers=admin).json()
    assert body["due"] == {"segment": 2} and body["held"] == {"segment": 1}
    assert [i["id"] for i in body["items"]] == [due[1].id, due[2].id]
    assert [h["object_id"] for h in body["holds"]] == [due[0].id]
    assert_refusal(
        client.get("/api/v1/retention", headers=bearer(world.token("p", "proctor", jl, staff_id=1))), 403, "forbidden"
    )
    with Session(engine) as db:
        assert db.exec(select(Segment).where(Segment.purged_at.is_not(None))).all() == []


def test_an_unknown_profile_stops_the_purge(engine, settings, clock, season):  # R-ARCH-1
    season.segment(season.cam_jl, season.jl.id, cst(OLD_DAY, 9))
    with Session(engine) as db:
        inst = db.get(Institution, season.jl.id)
        inst.profile = "atlantis"
        db.add(inst)
        db.commit()
    out = io.StringIO()
    assert run_purge(engine, settings, clock, out=out) == 2
    assert "unknown_retention_profile" in out.getvalue()
    with Session(engine) as db:
        assert db.exec(select(Segment).where(Segment.purged_at.is_not(None))).all() == []
