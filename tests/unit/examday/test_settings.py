"""One settings object: examday/settings.py reads every EXAMDAY_* variable and hands the
values down (README "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from examday.settings import (
    KioskEnv,
    RecorderEnv,
    Settings,
    cjk_font_override,
    kiosk_program_env,
    recorder_program_env,
    s3_config,
)
from storage.blobs_s3 import S3Config
from storage.video_files import VideoPlaces


def test_the_video_places_come_from_the_settings(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    settings = Settings.from_env(
        {
            "EXAMDAY_DATA_DIR": str(tmp_path / "data"),
            "EXAMDAY_DATABASE_URL": "sqlite://",
            "EXAMDAY_BLOB_URL": "s3://blobs/examday",
            "EXAMDAY_VIDEO_DIRS": f"{a}{os.pathsep} {os.pathsep}{b}",
            "EXAMDAY_VIDEO_S3_PREFIXES": "s3://video/site1/, s3://video2 s3://video/site2",
            "EXAMDAY_S3_ENDPOINT_URL": "http://minio:9000",
            "EXAMDAY_S3_ADDRESSING": "path",
        }
    )
    assert settings.video_dirs == (a.resolve(), b.resolve())
    assert settings.video_s3_prefixes == (("video", "site1"), ("video2", ""), ("video", "site2"))
    assert settings.s3 == S3Config("http://minio:9000", None, "path")
    places = VideoPlaces.from_settings(settings)
    assert places == VideoPlaces(settings.s3, settings.video_dirs, settings.video_s3_prefixes, "s3://blobs/examday")


def test_unset_means_the_defaults(tmp_path):
    settings = Settings.from_env({"EXAMDAY_DATA_DIR": str(tmp_path / "data")})
    # Unset EXAMDAY_VIDEO_DIRS: the data folder's video, never "anywhere" (issue #14, R-VIDEO-1).
    assert settings.video_dirs == ((tmp_path / "data" / "video").resolve(),)
    assert (settings.video_s3_prefixes, settings.s3) == ((), S3Config())
    assert Settings().s3 == S3Config()  # built in code: nothing is read behind its back
    assert s3_config({}) == S3Config(None, None, "auto")
    with pytest.raises(ValueError, match="EXAMDAY_S3_ADDRESSING must be path, virtual or auto"):
        s3_config({"EXAMDAY_S3_ADDRESSING": "sideways"})
    with pytest.raises(ValueError):
        Settings.from_env({"EXAMDAY_DATA_DIR": str(tmp_path / "data"), "EXAMDAY_VIDEO_S3_PREFIXES": "/srv/video"})


def test_the_programs_around_the_server():
    assert kiosk_program_env({}) == KioskEnv(None, "~/.examday-kiosk")
    assert kiosk_program_env({"EXAMDAY_KIOSK_TOKEN": "t", "EXAMDAY_KIOSK_DIR": "/k"}) == KioskEnv("t", "/k")
    assert recorder_program_env({}) == RecorderEnv(None)
    assert recorder_program_env({"EXAMDAY_HOOK_SECRET": "s"}) == RecorderEnv("s")
    assert recorder_program_env({"EXAMDAY_HOOK_SECRET": "s", "EXAMDAY_RECORDER_KEY_ID": "rk_1"}) == RecorderEnv(
        "s", "rk_1"
    )
    assert cjk_font_override({}) is None and cjk_font_override({"EXAMDAY_CJK_FONT": ""}) is None
    assert cjk_font_override({"EXAMDAY_CJK_FONT": "/f.ttc"}) == "/f.ttc"


def test_the_command_lines_take_their_defaults_from_the_settings(monkeypatch):
    from kiosk.program import parser as kiosk_parser
    from proctor.recorder import _parser as recorder_parser

    monkeypatch.setenv("EXAMDAY_KIOSK_TOKEN", "kiosk-token")
    monkeypatch.setenv("EXAMDAY_KIOSK_DIR", "/var/lib/kiosk")
    monkeypatch.setenv("EXAMDAY_HOOK_SECRET", "hook-secret")
    monkeypatch.setenv("EXAMDAY_RECORDER_KEY_ID", "rk_site1")
    kiosk = kiosk_parser().parse_args(["--server", "http://x"])
    assert (kiosk.token, kiosk.data_dir) == ("kiosk-token", "/var/lib/kiosk")
    recorder = recorder_parser().parse_args(
        ["--camera", "0", "--room", "R", "--camera-code", "C", "--server", "http://x", "--out", "/tmp/o"]
    )
    assert (recorder.secret, recorder.key_id) == ("hook-secret", "rk_site1")
    assert "EXAMDAY_KIOSK_TOKEN" in kiosk_parser().format_help()
    assert "EXAMDAY_HOOK_SECRET" in recorder_parser().format_help()
    assert Path(kiosk_parser().get_default("data_dir")) == Path("/var/lib/kiosk")
