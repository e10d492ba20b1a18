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


def test_a_skill_sitting_sends_the_candidate_to_their_workstation_r_seat_1():
    """Issue #15: the skill room, the sitting and the workstation (工位), not a theory seat."""
    body = {
        **ACCEPTED,
        "room_code": "S01",
        "room_name": "技能考场1",
        "seat": 5,
        "station": 5,
        "sitting": {"id": 9, "no": 2, "of": 3, "starts_at": "2026-11-26T14:00:00+08:00"},
    }
    text = screen.describe(screen.from_response(200, body))
    assert "技能考场1 S01" in text and "第2场（共3场）14:00" in text and "5 号工位" in text
    assert "workstation 5" in text and "sitting 2 of 3" in text
    assert "座位" not in text


def test_wrong_sitting_says_where_and_when_r_seat_1():
    body = {
        "code": "wrong_sitting",
        "message": "您不是本场次的考生：您的技能考核场次为 14:00 开始（13:30 起入场）",
        "message_en": "This is not your sitting: your skill sitting starts at 14:00 (entry from 13:30).",
        "rule": "R-SEAT-1",
        "detail": {"session_id": 9, "room_code": "S01", "station": 5},
    }
    a = screen.from_response(422, body)
    text = screen.describe(a)
    assert a.kind == "warn" and "14:00" in text and "S01" in text and "5 号工位" in text
