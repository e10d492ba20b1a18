"""The kiosk's answer screen: Chinese first, English beside it, the masked ID only (R-DAY-1, R-PRIV-1)."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk import screen

ACCEPTED = {
    "status": "accepted",
    "candidate": {"name": "王伟", "masked_id": "110105********0010"},
    "room_code": "T01",
    "seat": 3,
    "late": False,
}


def test_accepted_says_room_and_seat_in_both_languages():
    a = screen.from_response(200, ACCEPTED)
    assert a.kind == "accepted"
    text = screen.describe(a)
    assert "考场 T01" in text and "3 号座位" in text and "Room T01, seat 3" in text
    assert "110105********0010" in text


def test_late_and_no_seat():
    a = screen.from_response(200, {**ACCEPTED, "late": True, "room_code": None, "seat": None})
    text = screen.describe(a)
    assert "考务室" in text and "exam office" in text and "please go in now" in text


@pytest.mark.parametrize(
    "code,kind",
    [("id_mismatch", "refused"), ("too_late", "refused"), ("not_open_yet", "warn"), ("already_checked_in", "warn")],
)
def test_refusal_shows_the_servers_reason(code, kind):
    body = {
        "code": code,
        "message": "原因",
        "message_en": "Reason",
        "rule": "R-DAY-1",
        "detail": {"at": "2026-11-26T08:40:00+08:00", "kiosk": "kiosk2", "room_code": "T02", "seat": 4},
    }
    a = screen.from_response(409 if code == "already_checked_in" else 422, body)
    assert (a.kind, a.code) == (kind, code)
    assert "原因 / Reason" in screen.describe(a)
    if code == "already_checked_in":
        assert "考场 T02 · 4 号" in screen.describe(a)


def test_offline_answer_says_so():
    assert "离线" in screen.describe(screen.from_response(200, ACCEPTED, offline=True))


def test_render_draws_a_full_screen_frame_with_the_preview():
    camera = np.full((480, 640, 3), 255, np.uint8)
    img = screen.render(camera, screen.from_response(200, ACCEPTED))
    assert img.shape == (720, 1280, 3)
    assert tuple(img[5, 1270]) == screen.COLOURS["accepted"][::-1]  # BGR panel colour
    assert (img[360, 100] == 255).all()  # the preview
    # Text was drawn on the panel: not every pixel there is the panel colour.
    panel = img[:, 600:]
    assert (panel != np.array(screen.COLOURS["accepted"][::-1], np.uint8)).any()
