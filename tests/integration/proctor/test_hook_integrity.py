"""Issue #14, finding 3 (R-VIDEO-1, R-AUDIT-1): what a signed hook can no longer make the server do.

Each test reproduces one part of the finding as it was — a hook's ``path`` anywhere the server
can write with EXAMDAY_VIDEO_DIRS unset, a symlink out of the video folder, a segment dated
1990 or next year, the purge deleting whatever a segment names — and shows it refused now.
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from examday.actor import Actor
from examday.audit import AuditEntry
from examday.clock import CST, parse_iso
from examday.registry.models import Institution, Room
from examday.registry.services import rooms as room_service
from proctor.video_models import HookReceipt, Segment
from storage.purge import run_purge
from tests.support import assert_refusal

from .video_support import at, hook, post_hook, video_world, write_file

ROOT_ADMIN = Actor(None, "root", "admin")
OLD_DAY = date(2019, 11, 26)  # past every retention period on the clock fixture's day


@pytest.fixture
def vw(db, world, clock):
    w = video_world(db, world, clock.now())
    clock.advance(hours=1, minutes=15)  # 09:15, the theory session is running
    return w


@pytest.fixture
def vdir(settings) -> Path:
    return settings.data_dir / "video"


def victim(folder: Path, name: str = "passwd") -> tuple[Path, str, int]:
    """A file outside the video folder that the server can write, as /etc/passwd would be."""
    folder.mkdir(parents=True, exist_ok=True)
    data = b"root:x:0:0:root:/root:/bin/bash\n" * 8
    p = folder / name
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest(), len(data)


def finished(camera: str, path: str, sha: str, size: int, start: datetime, end: datetime) -> dict:
    return hook("segment_finished", camera, end, started_at=start, ended_at=end, path=path, sha256=sha, bytes=size)


def purge(engine, settings, clock, dry_run: bool = False) -> str:
    out = io.StringIO()
    assert run_purge(engine, settings, clock, dry_run=dry_run, out=out) == 0
    return out.getvalue()


def segments(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Segment)).one()


def old_segment(
    engine, vw, path: str, state: str = "valid", sha: str = "0" * 64, size: int = 1, minute: int = 0
) -> int:
    """A segment row as a hook stored it, dated far enough back to be due for the purge."""
    start = datetime.combine(OLD_DAY, time(9, minute), CST)
    with Session(engine) as s:
        seg = Segment(
            camera_id=vw.camera_ids["T01-C1"],
            institution_id=vw.institution_id,
            started_at=start,
            ended_at=None if state == "open" else start + timedelta(minutes=10),
            expected_end=start + timedelta(minutes=10),
            path=path,
            sha256=sha,
            size=size,
            state=state,
            received_at=start,
        )
        s.add(seg)
        s.commit()
        assert seg.id is not None
        return seg.id


# -- where a segment's file may be --------------------------------------------------------------


def test_a_hook_path_outside_the_video_folder_is_refused_with_the_variable_unset(
    client, vw, engine, settings, tmp_path
):  # R-VIDEO-1
    """Before: with EXAMDAY_VIDEO_DIRS unset any path was taken, and valid once its hash matched."""
    assert settings.video_dirs == ((settings.data_dir / "video").resolve(),)
    target, sha, size = victim(tmp_path / "etc")
    r = post_hook(client, finished("T01-C1", str(target), sha, size, at(9, 0), at(9, 10)))
    assert_refusal(r, 422, "path_outside_video_dirs", "R-VIDEO-1")
    r = post_hook(client, hook("segment_started", "T01-C1", at(9, 10), started_at=at(9, 10), path=str(target)))
    assert_refusal(r, 422, "path_outside_video_dirs")
    r = post_hook(client, finished("T01-C1", "relative/x.mp4", sha, size, at(9, 0), at(9, 10)))
    assert_refusal(r, 422, "path_outside_video_dirs")
    assert segments(engine) == 0 and target.exists()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(HookReceipt)).one() == 0


def test_a_symlink_out_of_the_video_folder_is_refused(client, vw, engine, vdir, tmp_path):  # R-VIDEO-1
    target, sha, size = victim(tmp_path / "etc")
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "T01").symlink_to(tmp_path / "etc", target_is_directory=True)  # a folder link
    (vdir / "x.mp4").symlink_to(target)  # a file link
    for path in (vdir / "T01" / "passwd", vdir / "x.mp4", vdir / ".." / ".." / "etc" / "passwd"):
        r = post_hook(client, finished("T01-C1", str(path), sha, size, at(9, 0), at(9, 10)))
        assert_refusal(r, 422, "path_outside_video_dirs")
    assert segments(engine) == 0 and target.exists()
    # A file in the folder, a link to another in the folder: both are video's.
    inside, sha2, size2 = write_file(vdir / "T01-C1")
    (vdir / "y.mp4").symlink_to(inside)
    assert (
        post_hook(client, finished("T01-C1", str(vdir / "y.mp4"), sha2, size2, at(9, 0), at(9, 10))).json()[
            "segment_state"
        ]
        == "valid"
    )


def test_the_video_folders_set_are_the_only_ones(client, app, vw, engine, tmp_path):  # R-VIDEO-1
    app.state.settings.video_dirs = ((tmp_path / "srv-video").resolve(),)
    path, sha, size = write_file(tmp_path / "srv-video" / "T01-C1")
    assert post_hook(client, finished("T01-C1", path, sha, size, at(9, 0), at(9, 10))).status_code == 200
    elsewhere, sha, size = write_file(app.state.settings.data_dir / "video")  # the default, not named
    r = post_hook(client, finished("T01-C1", elsewhere, sha, size, at(9, 10), at(9, 12)))
    assert_refusal(r, 422, "path_outside_video_dirs")


# -- when -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, code",
    [
        (datetime(1990, 1, 1, 9, tzinfo=CST), datetime(1990, 1, 1, 9, 10, tzinfo=CST), "hook_time_before_camera"),
        (at(9, 0) + timedelta(days=365), at(9, 10) + timedelta(days=365), "hook_time_in_future"),
        (at(9, 21), at(9, 31), "hook_time_in_future"),  # six minutes after the server's 09:15
    ],
)
def test_a_segment_outside_the_cameras_life_is_refused(client, vw, engine, vdir, start, end, code):  # R-VIDEO-1
    """Before: a segment dated 1990 was stored valid — past every retention period, purged at once —
    and one dated next year (finish time unchecked) claimed coverage ahead of time."""
    path, sha, size = write_file(vdir / "T01-C1")
    r = post_hook(client, finished("T01-C1", path, sha, size, start, end))
    assert_refusal(r, 422, code, "R-VIDEO-1")
    r = post_hook(client, hook("segment_started", "T01-C1", start, started_at=start, path=path))
    assert r.status_code == 422
    assert segments(engine) == 0
    # The finish time alone is checked too: it used to be believed up to six hours ahead.
    r = post_hook(client, finished("T01-C1", path, sha, size, at(9, 0), at(9, 21)))
    assert_refusal(r, 422, "hook_time_in_future")


def test_offline_reports_and_the_skew_are_bounded_too(client, vw, vdir):  # R-VIDEO-1
    late = at(9, 15) + timedelta(minutes=6)
    assert_refusal(
        post_hook(client, hook("camera_offline", "T01-C1", late, reason="black")), 422, "hook_time_in_future"
    )
    assert_refusal(
        post_hook(client, hook("camera_online", "T01-C1", datetime(2001, 1, 1, tzinfo=CST))),
        422,
        "hook_time_before_camera",
    )
    # A recorder clock a few minutes ahead is a clock, not a forgery.
    path, sha, size = write_file(vdir / "T01-C1")
    r = post_hook(client, finished("T01-C1", path, sha, size, at(9, 10), at(9, 19)))
    assert r.status_code == 200 and r.json()["segment_state"] == "valid"


def test_no_time_before_the_room_and_its_cameras_were_filed(client, db, vw, clock, vdir):  # R-VIDEO-1, R-AUDIT-1
    """The camera's registration is its room's ``room.create`` on the audit chain."""
    inst = db.get(Institution, vw.institution_id)
    clock.advance(minutes=5)  # 09:20
    room = room_service.add_room(
        db, ROOT_ADMIN, clock.now(), inst.id, "T09", "新考场", "theory", 30, 5, 6, [{"code": "T09-C1", "name": "前方"}]
    )
    db.commit()
    with Session(db.get_bind()) as s:
        filed = s.exec(select(AuditEntry.at).where(AuditEntry.action == "room.create")).one()
        assert filed == clock.now() and s.get(Room, room.id).code == "T09"
    path, sha, size = write_file(vdir / "T09-C1")
    r = post_hook(client, finished("T09-C1", path, sha, size, at(9, 10), at(9, 19)))
    assert_refusal(r, 422, "hook_time_before_camera")
    assert parse_iso(r.json()["detail"]["registered_at"]) == clock.now()
    r = post_hook(client, finished("T09-C1", path, sha, size, at(9, 20), at(9, 21)))
    assert r.status_code == 200 and r.json()["segment_state"] == "valid"


# -- the purge --------------------------------------------------------------------------------------


def test_the_purge_never_deletes_outside_the_video_folder(engine, settings, clock, vw, tmp_path):  # R-VIDEO-1
    """Before: a row naming /etc/passwd-like file, dated past retention, had the purge delete it
    (EXAMDAY_VIDEO_DIRS unset meant anywhere). A row from before the hook checks still could."""
    target, sha, size = victim(tmp_path / "etc")
    sid = old_segment(engine, vw, str(target), sha=sha, size=size)
    out = purge(engine, settings, clock)
    assert target.exists()
    assert f"NOT purged segment {sid} " in out and "outside_video_dirs" in out
    with Session(engine) as s:
        assert s.get(Segment, sid).purged_at is None


def test_a_symlink_swapped_in_after_the_hook_does_not_lead_the_purge_out(
    client, engine, settings, clock, vw, vdir, tmp_path
):  # R-VIDEO-1
    target, _, _ = victim(tmp_path / "etc")
    path, sha, size = write_file(vdir / "T01-C1")
    file_swap = old_segment(engine, vw, path, sha=sha, size=size)
    os.unlink(path)
    os.symlink(target, path)  # the checked file replaced by a link out
    folder = vdir / "T01-C2"
    path2, sha2, size2 = write_file(folder)
    dir_swap = old_segment(engine, vw, path2, sha=sha2, size=size2, minute=30)
    os.unlink(path2)
    folder.rmdir()
    folder.symlink_to(tmp_path / "etc", target_is_directory=True)  # the folder replaced by a link out
    os.rename(tmp_path / "etc" / "passwd", tmp_path / "etc" / Path(path2).name)
    out = purge(engine, settings, clock)
    assert (tmp_path / "etc" / Path(path2).name).exists()
    assert f"NOT purged segment {file_swap} " in out and f"NOT purged segment {dir_swap} " in out
    assert out.count("outside_video_dirs") >= 2


def test_the_purge_keeps_open_and_unverified_segments_and_says_so(engine, settings, clock, vw, vdir):  # R-VIDEO-1
    """Before: every segment past its period was deleted whatever its state — an open one still
    being written, or one whose file never matched its hash."""
    open_path, _, _ = write_file(vdir / "T01-C1")
    bad_path, _, _ = write_file(vdir / "T01-C1")
    good_path, sha, size = write_file(vdir / "T01-C1")
    open_id = old_segment(engine, vw, open_path, state="open")
    bad_id = old_segment(engine, vw, bad_path, state="checksum_mismatch", minute=10)
    good_id = old_segment(engine, vw, good_path, sha=sha, size=size, minute=20)
    dry = purge(engine, settings, clock, dry_run=True)
    assert f"would purge segment {good_id} " in dry and f"would purge segment {open_id} " not in dry
    assert "kept_open" in dry and "kept_not_verified" in dry
    out = purge(engine, settings, clock)
    assert Path(open_path).exists() and Path(bad_path).exists() and not Path(good_path).exists()
    assert f"NOT purged segment {open_id} " in out and "kept_open (state open" in out
    assert f"NOT purged segment {bad_id} " in out and "kept_not_verified (state checksum_mismatch" in out
    with Session(engine) as s:
        assert s.get(Segment, open_id).purged_at is None and s.get(Segment, bad_id).purged_at is None
        assert s.get(Segment, good_id).state == "purged"
