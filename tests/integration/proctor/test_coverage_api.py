"""``GET /api/v1/batches/{bid}/coverage`` over timelines built through the real hooks
(R-VIDEO-1): overlaps, gaps at the edges, a camera offline mid-session, a missing
or altered file, a running session, and who may see which rooms."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from examday.clock import iso
from tests import builders
from tests.support import assert_refusal, bearer

from .video_support import at, hook, post_hook, record_segment, video_world


@pytest.fixture
def vdir(settings):
    """Segment files go in the video folder: unset EXAMDAY_VIDEO_DIRS, the data folder's (R-VIDEO-1)."""
    return settings.data_dir / "video"


@pytest.fixture
def vw(db, world, clock):
    return video_world(db, world, clock.now())


def gaps_of(cam: dict) -> list[tuple[str, str, str]]:
    return [(g["start"], g["end"], g["cause"]) for g in cam["gaps"]]


def camera(body: dict, session_id: int, code: str) -> dict:
    s = next(s for s in body["sessions"] if s["id"] == session_id)
    return next(c for r in s["rooms"] for c in r["cameras"] if c["code"] == code)


def span(a: datetime, b: datetime, cause: str) -> tuple[str, str, str]:
    return iso(a), iso(b), cause


@pytest.fixture
def timeline(client, vw, clock, vdir):
    """The theory session 09:00-10:30 (window 08:59-10:31), judged at 11:00."""
    clock.advance(hours=3)  # 11:00
    v = vdir / "video"
    # T01-C1: overlapping segments, a 1-second jitter, and edges beyond the window: complete.
    for a, b in [
        (at(8, 58), at(9, 20)),
        (at(9, 19), at(9, 40)),
        (at(9, 40), at(10, 0)),
        (at(10, 0, 1), at(10, 20)),
        (at(10, 20), at(10, 32)),
    ]:
        record_segment(client, v, "T01-C1", a, b)
    # T01-C2: starts late, goes offline mid-session while the recorder keeps cutting files
    # of a frozen picture, loses one file, and stops early.
    record_segment(client, v, "T01-C2", at(9, 5), at(9, 30))
    assert post_hook(client, hook("camera_offline", "T01-C2", at(9, 30), reason="frozen")).status_code == 200
    record_segment(client, v, "T01-C2", at(9, 30), at(9, 50))
    assert post_hook(client, hook("camera_online", "T01-C2", at(9, 40))).status_code == 200
    record_segment(client, v, "T01-C2", at(9, 50), at(10, 0), missing=True)
    record_segment(client, v, "T01-C2", at(10, 0), at(10, 20))
    # T02-C1: complete when reported; its second file disappears later.
    record_segment(client, v, "T02-C1", at(8, 58), at(9, 45))
    later = record_segment(client, v, "T02-C1", at(9, 45), at(10, 32))["path"]
    # T02-C2: one file whose bytes are not what the recorder hashed.
    record_segment(client, v, "T02-C2", at(8, 58), at(10, 32), tamper=True)
    return {"deleted_later": later}


def test_coverage_and_causes_of_each_camera(client, vw, timeline):  # R-VIDEO-1
    r = client.get(f"/api/v1/batches/{vw.batch_id}/coverage", headers=vw.h("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    theory = next(s for s in body["sessions"] if s["id"] == vw.session_id)
    assert theory["window_start"] == iso(at(8, 59)) and theory["window_end"] == iso(at(10, 31))
    assert theory["final"] is True and [room["code"] for room in theory["rooms"]] == ["T01", "T02"]

    c1 = camera(body, vw.session_id, "T01-C1")
    assert c1["complete"] is True and c1["gaps"] == []
    assert [(x["start"], x["end"]) for x in c1["covered"]] == [(iso(at(8, 59)), iso(at(10, 31)))]

    c2 = camera(body, vw.session_id, "T01-C2")
    assert c2["complete"] is False
    assert gaps_of(c2) == [
        span(at(8, 59), at(9, 5), "no_hook_received"),  # the gap at the start edge
        span(at(9, 30), at(9, 40), "camera_offline"),  # frozen picture: its file does not count
        span(at(9, 50), at(10, 0), "file_missing"),
        span(at(10, 20), at(10, 31), "no_hook_received"),  # the gap at the end edge
    ]
    assert c2["gaps"][0]["seconds"] == 360

    assert camera(body, vw.session_id, "T02-C1")["complete"] is True
    assert gaps_of(camera(body, vw.session_id, "T02-C2")) == [span(at(8, 59), at(10, 31), "checksum_mismatch")]
    room_t01 = next(room for room in theory["rooms"] if room["code"] == "T01")
    assert room_t01["complete"] is False and theory["complete"] is False and body["complete"] is False


def test_tolerance_and_margin_are_parameters(client, vw, timeline):  # R-VIDEO-1
    url = f"/api/v1/batches/{vw.batch_id}/coverage"
    strict = client.get(url, params={"tolerance": 0}, headers=vw.h("admin")).json()
    # The one-second jitter between two segments is a gap once no tolerance is allowed.
    assert gaps_of(camera(strict, vw.session_id, "T01-C1")) == [span(at(10, 0), at(10, 0, 1), "no_hook_received")]
    wide = client.get(url, params={"margin": 300}, headers=vw.h("admin")).json()
    assert gaps_of(camera(wide, vw.session_id, "T01-C1"))[0] == span(at(8, 55), at(8, 58), "no_hook_received")
    assert_refusal(client.get(url, params={"tolerance": -1}, headers=vw.h("admin")), 422, "invalid_input")


def test_a_file_lost_after_the_hook_shows_once_verified(client, vw, timeline, engine):  # R-VIDEO-1
    Path(timeline["deleted_later"]).unlink()
    url = f"/api/v1/batches/{vw.batch_id}/coverage"
    assert camera(client.get(url, headers=vw.h("admin")).json(), vw.session_id, "T02-C1")["complete"]
    assert_refusal(client.post(f"{url}/verify", json={}, headers=vw.h("p1")), 403, "forbidden")
    r = client.post(f"{url}/verify", json={}, headers=vw.h("admin"))
    assert r.status_code == 200 and r.json()["changed"] == {"file_missing": 1}
    assert gaps_of(camera(client.get(url, headers=vw.h("admin")).json(), vw.session_id, "T02-C1")) == [
        span(at(9, 45), at(10, 31), "file_missing")
    ]
    # Deep: the altered file of T02-C2 stays a mismatch; nothing else changes.
    r = client.post(f"{url}/verify", json={"deep": True}, headers=vw.h("admin"))
    assert r.status_code == 200 and r.json()["changed"] == {}


def test_a_running_session_is_judged_up_to_now(client, vw, clock, vdir):  # R-VIDEO-1
    clock.advance(hours=1, minutes=30)  # 09:30
    record_segment(client, vdir, "T01-C1", at(8, 58), at(9, 25))
    r = post_hook(
        client,
        hook(
            "segment_started", "T01-C1", at(9, 25), started_at=at(9, 25), path=str(vdir / "x.mp4"), segment_seconds=600
        ),
    )
    assert r.status_code == 200
    body = client.get(f"/api/v1/batches/{vw.batch_id}/coverage", headers=vw.h("admin")).json()
    theory = next(s for s in body["sessions"] if s["id"] == vw.session_id)
    assert theory["final"] is False and theory["judged_until"] == iso(at(9, 30))
    c1 = camera(body, vw.session_id, "T01-C1")
    assert c1["complete"] is True and c1["state"] == "recording"  # the open segment is trusted until due
    assert gaps_of(camera(body, vw.session_id, "T01-C2")) == [span(at(8, 59), at(9, 30), "no_hook_received")]
    assert camera(body, vw.session_id, "T01-C2")["state"] == "stale"
    # Ten minutes and the grace after its start the open segment is overdue: its finish hook
    # never came, so nothing proves that stretch was recorded.
    clock.advance(minutes=6)
    c1 = camera(
        client.get(f"/api/v1/batches/{vw.batch_id}/coverage", headers=vw.h("admin")).json(), vw.session_id, "T01-C1"
    )
    assert gaps_of(c1) == [span(at(9, 25), at(9, 36), "no_hook_received")]


def test_who_sees_which_rooms(client, vw, world, db, clock):  # R-VIDEO-1, R-DAY-3
    url = f"/api/v1/batches/{vw.batch_id}/coverage"
    for who in ("admin", "supervisor", "centre"):
        body = client.get(url, headers=vw.h(who)).json()
        assert [r["code"] for s in body["sessions"] for r in s["rooms"]] == ["T01", "T02", "S01"], who
    body = client.get(url, headers=vw.h("p1")).json()
    assert [(s["id"], [r["code"] for r in s["rooms"]]) for s in body["sessions"]] == [(vw.session_id, ["T01"])]
    assert_refusal(client.get(url, headers=vw.h("kiosk")), 403, "forbidden")
    assert client.get(url).status_code == 401
    other = builders.institution(db, clock.now(), uscc="91440101MA5CJQ4N59", province="四川")
    db.commit()
    stranger = world.token("other-office", "admin", other.id)
    assert_refusal(client.get(url, headers=bearer(stranger)), 403, "forbidden")
    assert_refusal(client.get("/api/v1/batches/999/coverage", headers=vw.h("admin")), 404, "not_found")


def test_the_exam_office_page_shows_coverage(client, vw, timeline):  # R-VIDEO-1
    r = client.get(f"/office/batches/{vw.batch_id}/coverage", headers={**vw.h("admin"), "Accept": "text/html"})
    assert r.status_code == 200
    html = r.text
    assert "T01-C2" in html and "摄像头掉线" in html and "录像文件缺失" in html and "录像不完整" in html
