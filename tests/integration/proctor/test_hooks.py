"""Recorder hooks through the real endpoint (R-VIDEO-1, R-AUDIT-1): HMAC refusal,
segments and their file checks, replays, camera states and the stale alert."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from examday import audit
from examday.audit import AuditEntry
from examday.registry.models import Camera, Room
from proctor.hooks_sign import SIGNATURE_HEADER, sign
from proctor.services import video
from proctor.video_models import CameraHealth, CameraOffline, HookReceipt, Segment
from tests import builders
from tests.support import assert_refusal

from .video_support import SECRET, at, hook, post_hook, record_segment, video_world, write_file


@pytest.fixture
def vdir(settings):
    """Segment files go in the video folder: unset EXAMDAY_VIDEO_DIRS, the data folder's (R-VIDEO-1)."""
    return settings.data_dir / "video"


@pytest.fixture
def vw(db, world, clock):
    return video_world(db, world, clock.now())


@pytest.fixture
def events(app):
    got: list[dict] = []
    app.state.events.subscribe(lambda batch_id, message: got.append({"batch_id": batch_id, **message}))
    return got


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_bad_or_missing_signature_is_refused_logged_and_changes_nothing(client, vw, engine, caplog):  # R-AUDIT-1
    payload = hook("segment_started", "T01-C1", at(9, 0), started_at=at(9, 0), path="/secret/place/x.mp4")
    caplog.set_level(logging.WARNING, logger="examday.proctor.hooks")
    for r in (
        post_hook(client, payload, secret=None),
        post_hook(client, payload, secret="not-the-secret"),
        post_hook(client, payload, signature="sha256=" + "0" * 64),
    ):
        assert_refusal(r, 401, "bad_signature", "R-AUDIT-1")
    assert count(engine, Segment) == 0 and count(engine, HookReceipt) == 0 and count(engine, CameraHealth) == 0
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 3
    assert all("/secret/place" not in r.getMessage() and "T01-C1" not in r.getMessage() for r in refused)
    # The body signed by the right secret but altered after signing is refused too.
    body = json.dumps(payload).encode()
    r = client.post(
        "/api/v1/hooks/recorder",
        content=body.replace(b"T01-C1", b"T01-C2"),
        headers={SIGNATURE_HEADER: sign(body, SECRET)},
    )
    assert_refusal(r, 401, "bad_signature")
    assert count(engine, Segment) == 0


def test_started_then_finished_stores_a_valid_segment_with_size_and_hash(client, vw, engine, vdir, clock):
    clock.advance(hours=1, minutes=10)
    path, sha, size = write_file(vdir / "video", 5000)
    r = post_hook(
        client, hook("segment_started", "T01-C1", at(9, 0), started_at=at(9, 0), path=path, segment_seconds=10)
    )
    assert r.status_code == 200 and r.json()["segment_state"] == "open"
    r = post_hook(
        client,
        hook(
            "segment_finished",
            "T01-C1",
            at(9, 0, 10.2),
            started_at=at(9, 0),
            ended_at=at(9, 0, 10),
            path=path,
            sha256=sha,
            bytes=size,
        ),
    )
    assert r.status_code == 200 and r.json() == {
        "status": "stored",
        "outcome": "updated",
        "segment_id": r.json()["segment_id"],
        "segment_state": "valid",
    }
    with Session(engine) as s:
        seg = s.exec(select(Segment)).one()
        assert (seg.camera_id, seg.path, seg.sha256, seg.size, seg.state) == (
            vw.camera_ids["T01-C1"],
            path,
            sha,
            size,
            "valid",
        )
        assert seg.started_at == at(9, 0) and seg.ended_at == at(9, 0, 10)
        assert s.get(CameraHealth, seg.camera_id).state == "recording"


@pytest.mark.parametrize("missing, tamper, state", [(True, False, "file_missing"), (False, True, "checksum_mismatch")])
def test_a_missing_or_altered_file_makes_the_segment_invalid(
    client, vw, engine, vdir, clock, missing, tamper, state
):  # R-VIDEO-1
    clock.advance(hours=1, minutes=15)
    out = record_segment(client, vdir, "T01-C1", at(9, 0), at(9, 10), missing=missing, tamper=tamper)
    assert out["segment_state"] == state
    with Session(engine) as s:
        assert s.get(Segment, out["segment_id"]).state == state
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "segment.rejected")).one()
        assert state in entry.diff and entry.role == "recorder"
        assert audit.verify(s) is None


def test_a_size_that_differs_is_a_checksum_mismatch_and_no_hash_is_invalid(client, vw, vdir, clock):  # R-VIDEO-1
    clock.advance(hours=2)
    path, sha, size = write_file(vdir)
    r = post_hook(
        client,
        hook(
            "segment_finished",
            "T01-C1",
            at(9, 1),
            started_at=at(9, 0),
            ended_at=at(9, 1),
            path=path,
            sha256=sha,
            bytes=size + 1,
        ),
    )
    assert r.json()["segment_state"] == "checksum_mismatch"
    r = post_hook(
        client, hook("segment_finished", "T01-C1", at(9, 2), started_at=at(9, 1), ended_at=at(9, 2), path=path)
    )
    assert r.json()["segment_state"] == "invalid"


def test_a_replayed_hook_changes_nothing(client, vw, engine, clock):  # R-AUDIT-1
    clock.advance(hours=2)
    off = hook("camera_offline", "T01-C2", at(9, 20), reason="frozen")
    on = hook("camera_online", "T01-C2", at(9, 25))
    assert post_hook(client, off).json()["status"] == "stored"
    assert post_hook(client, on).json()["status"] == "stored"
    before = (count(engine, CameraOffline), count(engine, HookReceipt), count(engine, AuditEntry))
    r = post_hook(client, off)  # an old hook, replayed byte for byte
    assert r.status_code == 200 and r.json()["status"] == "duplicate"
    assert (count(engine, CameraOffline), count(engine, HookReceipt), count(engine, AuditEntry)) == before
    with Session(engine) as s:
        cam = vw.camera_ids["T01-C2"]
        assert s.get(CameraHealth, cam).state == "recording"
        span = s.exec(select(CameraOffline)).one()
        assert span.ended_at == at(9, 25)


def test_a_hook_without_id_is_deduplicated_by_its_body(client, vw, engine, vdir, clock):  # R-AUDIT-1
    clock.advance(hours=1, minutes=5)
    path, sha, size = write_file(vdir)
    payload = hook(
        "segment_finished",
        "T01-C1",
        at(9, 1),
        started_at=at(9, 0),
        ended_at=at(9, 1),
        path=path,
        sha256=sha,
        bytes=size,
    )
    del payload["id"]
    assert post_hook(client, payload).json()["outcome"] == "created"
    assert post_hook(client, payload).json()["status"] == "duplicate"
    assert count(engine, Segment) == 1 and count(engine, HookReceipt) == 1


def test_a_finished_segment_keeps_its_facts(client, vw, engine, vdir, clock):  # R-AUDIT-1
    clock.advance(hours=1, minutes=5)
    out = record_segment(client, vdir, "T01-C1", at(9, 0), at(9, 1))
    with Session(engine) as s:
        seg = s.get(Segment, out["segment_id"])
        same = hook(
            "segment_finished",
            "T01-C1",
            at(9, 1),
            started_at=at(9, 0),
            ended_at=at(9, 1),
            path=seg.path,
            sha256=seg.sha256,
            bytes=seg.size,
        )
    assert post_hook(client, same).json()["outcome"] == "unchanged"  # a re-send with a new id
    other = {**same, "id": "another", "sha256": hashlib.sha256(b"x").hexdigest()}
    assert_refusal(post_hook(client, other), 409, "segment_already_finished")
    with Session(engine) as s:
        assert s.get(Segment, out["segment_id"]).state == "valid"


def test_unknown_and_ambiguous_cameras(client, vw, db, clock):  # R-VIDEO-1
    clock.advance(hours=1)
    assert_refusal(post_hook(client, hook("camera_online", "T09-C1", at(9, 0))), 404, "unknown_camera")
    other = builders.institution(db, clock.now(), uscc="91440101MA5CJQ4N59", province="四川")
    builders.rooms(db, other)
    db.commit()
    r = post_hook(client, hook("camera_offline", "T01-C1", at(9, 0), reason="black"))
    assert_refusal(r, 409, "ambiguous_camera")
    r = post_hook(client, hook("camera_offline", "T01-C1", at(9, 0), reason="black", institution="91440101MA5CJQ4N59"))
    assert r.status_code == 200 and r.json()["outcome"] == "created"
    with Session(db.get_bind()) as s:
        span = s.exec(select(CameraOffline)).one()
        cam = s.get(Camera, span.camera_id)
        assert s.get(Room, cam.room_id).institution_id == other.id


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "segment_deleted", "camera": "T01-C1", "room_code": "T01", "at": "2026-11-26T09:00:00+08:00"},
        {"event": "camera_online", "camera": "T01-C1", "room_code": "T01", "at": "yesterday"},
        {"event": "camera_online", "camera": "", "room_code": "T01", "at": "2026-11-26T09:00:00+08:00"},
        {
            "event": "segment_finished",
            "camera": "T01-C1",
            "room_code": "T01",
            "at": "2026-11-26T14:20:00+08:00",
            "started_at": "2026-11-26T08:10:00+08:00",
            "ended_at": "2026-11-26T14:20:00+08:00",
            "sha256": "ab",
        },
        {"event": "segment_finished", "camera": "T01-C1", "room_code": "T01", "at": "2026-11-26T09:00:00+08:00"},
    ],
)
def test_invalid_hooks_are_refused_and_change_nothing(client, vw, engine, clock, payload):
    clock.advance(hours=7)  # 15:00: every time in the payloads is past
    assert_refusal(post_hook(client, payload), 422, "invalid_hook", "R-VIDEO-1")
    assert count(engine, HookReceipt) == 0 and count(engine, Segment) == 0
    r = client.post(
        "/api/v1/hooks/recorder", content=b"not json", headers={SIGNATURE_HEADER: sign(b"not json", SECRET)}
    )
    assert_refusal(r, 422, "invalid_hook")


def test_offline_and_online_set_the_camera_state_and_reach_the_live_feed(
    client, vw, engine, clock, events, vdir
):  # R-VIDEO-1
    clock.advance(hours=1, minutes=20)  # 09:20, the theory session is running
    record_segment(client, vdir, "T01-C2", at(9, 19, 40), at(9, 19, 50))
    assert (
        post_hook(
            client, hook("camera_offline", "T01-C2", at(9, 19, 55), reason="frozen", detected_at=at(9, 20, 5))
        ).status_code
        == 200
    )
    cams = [e for e in events if e["event"] == "camera"]
    assert cams[-1]["batch_id"] == vw.batch_id and cams[-1]["room_code"] == "T01"
    assert (cams[-1]["camera"], cams[-1]["state"], cams[-1]["reason"]) == ("T01-C2", "offline", "frozen")
    with Session(engine) as s:
        states = video.camera_state_map(s, vw.batch_id, clock.now())
    assert {"code": "T01-C2", "state": "offline", "reason": "frozen"} in states["T01"]
    assert next(c for c in states["T01"] if c["code"] == "T01-C1")["state"] == "stale"  # never reported
    assert next(c for c in states["S01"] if c["code"] == "S01-C1")["state"] == "unknown"  # no session now
    clock.advance(seconds=40)
    assert post_hook(client, hook("camera_online", "T01-C2", at(9, 20, 30))).status_code == 200
    assert (events[-1]["camera"], events[-1]["state"]) == ("T01-C2", "recording")
    with Session(engine) as s:
        span = s.exec(select(CameraOffline)).one()
        assert (span.started_at, span.ended_at, span.reason) == (at(9, 19, 55), at(9, 20, 30), "frozen")
        actions = s.exec(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert "camera.offline" in actions and "camera.online" in actions


def test_a_silent_camera_during_a_session_goes_stale_once(client, app, vw, engine, clock, events, vdir):  # R-VIDEO-1
    clock.advance(hours=1)  # 09:00
    record_segment(client, vdir, "T01-C1", at(8, 59, 50), at(9, 0))
    assert post_hook(client, hook("camera_offline", "T02-C2", at(8, 59), reason="no_signal")).status_code == 200
    clock.advance(seconds=20)
    marked = video.check_stale(app.state, clock.now())
    # Every camera of the running session's rooms that never reported; T01-C1 spoke 20 s ago;
    # T02-C2 is reported offline, which is its state; S01 has no session now.
    assert sorted(marked) == [("T01", "T01-C2"), ("T02", "T02-C1")]
    clock.advance(seconds=15)  # T01-C1 silent for 35 s > 30 s
    assert video.check_stale(app.state, clock.now()) == [("T01", "T01-C1")]
    assert video.check_stale(app.state, clock.now()) == []  # once, not every tick
    stale = [(e["room_code"], e["camera"], e["reason"]) for e in events if e.get("state") == "stale"]
    assert sorted(stale) == [
        ("T01", "T01-C1", "no_segment"),
        ("T01", "T01-C2", "never_reported"),
        ("T02", "T02-C1", "never_reported"),
    ]
    with Session(engine) as s:
        assert (
            s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "camera.stale")).one() == 3
        )
    # A new segment brings it back, on the feed too.
    record_segment(client, vdir, "T01-C1", at(9, 0, 30), at(9, 0, 34))
    assert (events[-1]["camera"], events[-1]["state"]) == ("T01-C1", "recording")
    with Session(engine) as s:
        assert s.get(CameraHealth, vw.camera_ids["T01-C1"]).state == "recording"


def test_the_stale_limit_widens_to_the_segment_length(client, app, vw, clock, vdir):  # R-VIDEO-1
    clock.advance(hours=1, minutes=4)  # 09:04
    record_segment(client, vdir, "T01-C1", at(9, 3), at(9, 4))  # 60-s segments: silent 70 s is normal
    record_segment(client, vdir, "T01-C2", at(9, 3, 50), at(9, 4))  # 10-s segments: the 30-s limit
    clock.advance(seconds=50)
    marked = video.check_stale(app.state, clock.now())
    assert ("T01", "T01-C2") in marked and ("T01", "T01-C1") not in marked
    clock.advance(seconds=30)
    assert ("T01", "T01-C1") in video.check_stale(app.state, clock.now())


def test_the_stale_limit_is_configurable_per_batch(client, app, vw, db, clock, vdir):  # R-VIDEO-1
    from examday.plans.models import Batch

    b = db.get(Batch, vw.batch_id)
    b.config = '{"camera_stale_seconds": 120}'
    db.add(b)
    db.commit()
    assert video.stale_after(b) == timedelta(seconds=120)
    clock.advance(hours=1, minutes=4)
    record_segment(client, vdir, "T01-C1", at(9, 3, 50), at(9, 4))
    clock.advance(seconds=100)
    assert ("T01", "T01-C1") not in video.check_stale(app.state, clock.now())
    clock.advance(seconds=30)
    assert ("T01", "T01-C1") in video.check_stale(app.state, clock.now())


def test_the_live_view_overlays_camera_states(client, vw, engine, clock, vdir, world):
    """proctor.rooms reads camera_state_map: the proctors' room view shows the states."""
    from proctor import rooms as roomstate

    clock.advance(hours=1, minutes=10)
    record_segment(client, vdir, "T01-C1", at(9, 9, 50), at(9, 10))
    with Session(engine) as s:
        states = roomstate.camera_states(s, vw.batch_id, clock.now())
    assert {c["code"]: c["state"] for c in states["T01"]} == {"T01-C1": "recording", "T01-C2": "stale"}
