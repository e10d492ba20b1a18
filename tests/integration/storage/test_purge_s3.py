"""The retention purge with video and blobs in S3-compatible storage (a real S3 HTTP
server, moto's) on real rows (R-VIDEO-1, R-ARCH-1): expired objects deleted
through the S3 API under the allowed prefixes only, held ones kept, the same
crash-safe intents, orphans swept."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from examday import audit
from examday.audit import AuditEntry
from examday.clock import CST
from examday.records.holds import place_hold
from examday.settings import Settings
from proctor.video_models import Segment
from storage import purge, purge_settle, video_files
from storage.blobs import Blob
from storage.purge import run_purge
from storage.retention_models import PurgeIntent

from .s3_support import s3_vars
from .test_purge import OLD_DAY, ROOT_ADMIN, Season, cst


@pytest.fixture
def settings_from(db_url, tmp_path, s3):
    """Settings as examday/settings.py reads them from an installation's variables: the
    blob store in the test's bucket too (EXAMDAY_BLOB_URL=s3://bucket/blobs), plus ``more``."""

    def make(**more: str) -> Settings:
        s = Settings.from_env(
            {
                "EXAMDAY_DATABASE_URL": db_url,
                "EXAMDAY_DATA_DIR": str(tmp_path / "data"),
                "EXAMDAY_HOOK_SECRET": "test-hook-secret",
                "EXAMDAY_SECRET_KEY": "test-secret",
                "EXAMDAY_BLOB_URL": f"s3://{s3.bucket}/blobs",
                **s3_vars(s3.endpoint),
                **more,
            }
        )
        s.password_time_cost, s.password_memory_kib = 1, 1024
        assert s.s3 == s3.config
        return s

    return make


@pytest.fixture
def settings(settings_from) -> Settings:
    """EXAMDAY_VIDEO_S3_PREFIXES unset."""
    return settings_from()


@pytest.fixture
def season(db, clock, tmp_path):
    return Season(db, clock.now(), tmp_path / "video")


def s3_segment(season: Season, s3, camera_id: int, iid: int, start: datetime, folder: str = "video") -> Segment:
    data = os.urandom(256)
    location = s3.put(f"{folder}/{camera_id}/{start:%Y%m%d%H%M}.mp4", data)
    end = start + timedelta(minutes=10)
    seg = Segment(
        camera_id=camera_id,
        institution_id=iid,
        started_at=start,
        ended_at=end,
        expected_end=end,
        path=location,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        state="valid",
        received_at=end,
    )
    season.db.add(seg)
    season.db.commit()
    return seg


def expired_segments(season: Season, s3, n: int) -> list[Segment]:
    """``n`` segments ten minutes apart on a day past Jilin's year."""
    return [
        s3_segment(season, s3, season.cam_jl2, season.jl.id, cst(OLD_DAY, 12) + timedelta(minutes=10 * i))
        for i in range(n)
    ]


def purge_now(engine, settings, clock) -> str:
    out = io.StringIO()
    assert run_purge(engine, settings, clock, out=out) == 0
    return out.getvalue()


def state_of(engine, s3, seg_id: int) -> tuple[str, bool, bool]:
    with Session(engine) as db:
        seg = db.get(Segment, seg_id)
        return seg.state, seg.purged_at is not None, s3.has(seg.path.split("/", 3)[3])


def test_expired_s3_segments_are_deleted_and_held_ones_kept(
    engine, settings_from, clock, season, s3
):  # R-VIDEO-1, R-ARCH-1
    settings = settings_from(EXAMDAY_VIDEO_S3_PREFIXES=f"s3://{s3.bucket}/video, s3://{s3.bucket}/cams")
    assert settings.video_s3_prefixes == ((s3.bucket, "video"), (s3.bucket, "cams"))
    jl = season.jl.id
    expired = expired_segments(season, s3, 3)
    other_prefix = s3_segment(season, s3, season.cam_jl2, jl, cst(OLD_DAY, 14), folder="cams")
    held = s3_segment(season, s3, season.cam_jl2, jl, cst(OLD_DAY, 15))
    recent = s3_segment(season, s3, season.cam_jl, jl, cst(date(2026, 11, 25), 9))
    strict = s3_segment(season, s3, season.cam_sc, season.sc.id, cst(OLD_DAY, 9))  # 5 years
    with Session(engine) as db:
        place_hold(db, ROOT_ADMIN, "segment", held.id, "异议 objection", clock.now())
        db.commit()

    out = purge_now(engine, settings, clock)
    for seg in [*expired, other_prefix]:
        assert state_of(engine, s3, seg.id) == ("purged", True, False)
    for kept in (held, recent, strict):
        assert state_of(engine, s3, kept.id) == ("valid", False, True)
    assert "segment held: 1" in out and "segment purged: 4" in out
    with Session(engine) as db:
        assert db.exec(select(PurgeIntent)).all() == []
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "retention.purged")).one()
        assert '"count":4' in entry.diff and audit.verify(db) is None


def test_s3_video_is_deleted_only_under_the_named_prefixes(
    engine, settings, settings_from, clock, season, s3
):  # R-VIDEO-1
    jl = season.jl.id
    seg = s3_segment(season, s3, season.cam_jl2, jl, cst(OLD_DAY, 12))
    out = purge_now(engine, settings, clock)  # EXAMDAY_VIDEO_S3_PREFIXES unset: no S3 video is deleted
    assert f"NOT purged segment {seg.id} " in out and "no_video_s3_prefixes" in out
    assert state_of(engine, s3, seg.id) == ("valid", False, True)

    settings = settings_from(EXAMDAY_VIDEO_S3_PREFIXES=f"s3://{s3.bucket}/elsewhere")
    # A hook that named a blob (a permanent key document's object) as its file.
    doc = s3.put("blobs/ab/cd/abcd-key-document.png", b"permanent")
    with Session(engine) as db:
        wrong = Segment(
            camera_id=season.cam_jl2,
            institution_id=jl,
            started_at=cst(OLD_DAY, 13),
            ended_at=cst(OLD_DAY, 13, 10),
            expected_end=cst(OLD_DAY, 13, 10),
            path=doc,
            size=9,
            sha256="0" * 64,
            state="valid",
            received_at=cst(OLD_DAY, 13, 10),
        )
        db.add(wrong)
        db.commit()
        wrong_id = wrong.id
    out = purge_now(engine, settings, clock)
    assert f"NOT purged segment {seg.id} " in out and "outside_video_dirs" in out
    assert f"NOT purged segment {wrong_id} " in out and "inside_blob_store" in out
    assert s3.has("blobs/ab/cd/abcd-key-document.png") and state_of(engine, s3, seg.id)[2]

    places = video_files.VideoPlaces(s3.config, (), ((s3.bucket, "video"),), f"s3://{s3.bucket}/blobs")
    assert video_files.s3_refusal(f"s3://{s3.bucket}/videox/1.mp4", places) == "outside_video_dirs"
    assert video_files.s3_refusal(f"s3://{s3.bucket}/video/../blobs/x", places) == "absent"
    assert video_files.s3_refusal(f"s3://{s3.bucket}/video/1/a.mp4", places) is None


def test_a_crash_after_the_intents_is_settled_by_the_next_purge(
    engine, settings_from, clock, season, s3, monkeypatch
):  # R-VIDEO-1, R-ARCH-1
    settings = settings_from(EXAMDAY_VIDEO_S3_PREFIXES=f"s3://{s3.bucket}/video")
    segs = expired_segments(season, s3, 4)
    real = video_files.delete_objects

    def power_cut(locations, places):
        real(locations[:2], places)  # two objects gone, then the machine stops
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(video_files, "delete_objects", power_cut)
    with pytest.raises(KeyboardInterrupt):
        run_purge(engine, settings, clock, out=io.StringIO())
    monkeypatch.setattr(video_files, "delete_objects", real)
    assert [state_of(engine, s3, s.id) for s in segs] == [("valid", False, False)] * 2 + [("valid", False, True)] * 2
    with Session(engine) as db:
        assert len(db.exec(select(PurgeIntent)).all()) == 4
        for s in (segs[1], segs[3]):  # a hold comes for a deleted and an untouched segment
            place_hold(db, ROOT_ADMIN, "segment", s.id, "inquiry 调查", clock.now())
        db.commit()

    out = purge_now(engine, settings, clock)
    assert state_of(engine, s3, segs[0].id) == ("purged", True, False)
    assert state_of(engine, s3, segs[1].id) == ("purged", True, False)  # held, but its object was gone
    assert state_of(engine, s3, segs[2].id) == ("purged", True, False)
    assert state_of(engine, s3, segs[3].id) == ("valid", False, True)  # the hold came in time
    assert f"settled segment {segs[0].id}" in out and f"kept segment {segs[3].id}" in out
    with Session(engine) as db:
        assert db.exec(select(PurgeIntent)).all() == []
        assert "retention.purge_settled" in db.exec(select(AuditEntry.action)).all()


def test_expired_blobs_and_orphans_in_the_bucket(engine, settings, clock, season, s3, app, monkeypatch):  # R-ARCH-1
    blobs = app.state.blobs
    old = blobs.put(b"an electronic record")
    key_doc = blobs.put(b"a sign-in sheet, kept for ever")
    orphan = blobs.put(b"a file whose row was never committed")
    with Session(engine) as db:
        long_ago = datetime(2015, 3, 1, tzinfo=CST)
        rows = [
            Blob(
                key=old.key,
                sha256=old.sha256,
                size=old.size,
                retention_class="electronic_records",
                institution_id=season.jl.id,
                created_at=long_ago,
            ),
            Blob(
                key=key_doc.key,
                sha256=key_doc.sha256,
                size=key_doc.size,
                retention_class="key_documents",
                institution_id=season.jl.id,
                created_at=long_ago,
            ),
        ]
        db.add_all(rows)
        db.commit()
        ids = [r.id for r in rows]
    monkeypatch.setattr(purge_settle, "ORPHAN_GRACE", timedelta(seconds=-60))  # the objects count as old
    out = purge_now(engine, settings, clock)
    assert not blobs.exists(old.key) and blobs.exists(key_doc.key) and not blobs.exists(orphan.key)
    assert f"removed orphan file {orphan.key}" in out
    with Session(engine) as db:
        assert db.get(Blob, ids[0]).purged_at is not None and db.get(Blob, ids[1]).purged_at is None
    assert purge.disk_alerts(settings) == []
