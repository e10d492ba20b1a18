"""The pure rules of a recorder hook and of deleting a segment file (R-VIDEO-1, issue #14 finding 3)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from examday.errors import Refusal
from proctor.rules_hooks import FUTURE_SKEW, check_location, check_span, check_times
from proctor.services.recorder_keys import secret_for
from storage.video_files import VideoPlaces, inside, local_refusal, location_refusal, unlink_local

NOW = datetime(2026, 11, 26, 1, 15, tzinfo=UTC)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def code(fn, *args) -> str | None:
    try:
        fn(*args)
    except Refusal as r:
        return r.code
    return None


@pytest.mark.parametrize(
    "name, t, want",
    [
        ("started_at", datetime(1990, 1, 1, tzinfo=UTC), "hook_time_before_camera"),
        ("at", SINCE - timedelta(seconds=1), "hook_time_before_camera"),
        ("ended_at", NOW + timedelta(days=365), "hook_time_in_future"),
        ("detected_at", NOW + FUTURE_SKEW + timedelta(seconds=1), "hook_time_in_future"),
        ("ended_at", NOW + FUTURE_SKEW, None),
        ("at", SINCE, None),
    ],
)
def test_every_time_of_a_hook_lies_in_the_cameras_life(name, t, want):  # R-VIDEO-1
    assert code(check_times, {"at": NOW, name: t}, NOW, SINCE) == want


def test_a_segment_ends_after_it_starts_within_six_hours():  # R-VIDEO-1
    assert code(check_span, NOW, NOW) == "invalid_hook"
    assert code(check_span, NOW, NOW + timedelta(hours=6, seconds=1)) == "invalid_hook"
    assert code(check_span, NOW, NOW + timedelta(seconds=10)) is None


def test_a_location_resolves_inside_the_video_folders(tmp_path):  # R-VIDEO-1
    root = (tmp_path / "video").resolve()
    root.mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("x")
    (root / "out").symlink_to(tmp_path / "etc" / "passwd")
    places = VideoPlaces(dirs=(root,))
    assert local_refusal(str(root / "T01" / "a.mp4"), (root,)) is None  # not written yet: fine
    assert local_refusal(str(root / "out"), (root,)) == "outside_video_dirs"
    assert local_refusal(str(root / ".." / "etc" / "passwd"), (root,)) == "outside_video_dirs"
    assert local_refusal(str(root), (root,)) == "outside_video_dirs"  # the folder itself is no file
    assert local_refusal("a.mp4", (root,)) == "not_absolute"
    assert local_refusal(str(root / "a.mp4"), ()) == "no_video_dirs"
    assert code(check_location, str(root / "out"), places) == "path_outside_video_dirs"
    assert code(check_location, str(root / "T01" / "a.mp4"), places) is None
    assert not inside(str(tmp_path / "videox" / "a"), (root,))  # a sibling that shares the prefix


def test_s3_locations_follow_the_prefixes_and_never_the_blob_store():  # R-VIDEO-1
    unset = VideoPlaces(blob_url="s3://examday-blobs/blobs")
    assert location_refusal("s3://examday-video/any/key.mp4", unset) is None  # accepted; never deleted
    assert location_refusal("s3://examday-blobs/blobs/ab/cd", unset) == "inside_blob_store"
    named = VideoPlaces(s3_prefixes=(("examday-video", "video"),))
    assert location_refusal("s3://examday-video/video/T01/a.mp4", named) is None
    assert location_refusal("s3://examday-video/other/a.mp4", named) == "outside_video_dirs"


def test_the_purge_resolves_the_path_again_when_it_deletes(tmp_path):  # R-VIDEO-1
    root = (tmp_path / "video").resolve()
    (root / "T01").mkdir(parents=True)
    victim = tmp_path / "passwd"
    victim.write_text("root")
    seg = root / "T01" / "a.mp4"
    seg.write_bytes(b"video")
    assert unlink_local(str(seg), []) == "no_video_dirs" and seg.exists()  # no folders, nothing deleted
    os.unlink(seg)
    seg.symlink_to(victim)  # swapped after the hook checked it
    assert unlink_local(str(seg), [root]) == "outside_video_dirs" and victim.exists()
    os.unlink(seg)
    (root / "T01").rmdir()
    (root / "T01").symlink_to(tmp_path, target_is_directory=True)
    assert unlink_local(str(root / "T01" / "passwd"), [root]) == "outside_video_dirs" and victim.exists()
    (root / "T02").mkdir()
    assert unlink_local(str(root / "T02"), [root]) == "not_a_file"
    (root / "T02" / "b.mp4").write_bytes(b"v")
    assert unlink_local(str(root / "T02" / "b.mp4"), [root]) == "deleted"
    assert unlink_local(str(root / "T02" / "b.mp4"), [root]) == "absent"
    assert Path(victim).read_text() == "root"


def test_a_recorder_keys_secret_is_derived_never_stored():  # R-AUDIT-1
    a, b = secret_for("installation-key", "rk_1"), secret_for("installation-key", "rk_2")
    assert a != b and a == secret_for("installation-key", "rk_1") and a != secret_for("other-key", "rk_1")
    assert len(a) == 43
