"""Site rules, pure: filed rooms (考场) and their cameras, and the site as a whole.

Rules: R-SITE-1 (2+ standard theory rooms with video monitoring, monitored
skill venues, an exam-affairs room and a waiting room), R-VIDEO-1 (theory
rooms and skill venues are video monitored), R-SEAT-1 (one candidate per
desk, at most 30 per theory room by default), R-STAFF-1 (5+ full-time staff).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from examday.registry.violation import Violation, get

ROOM_KINDS = ("theory", "skill", "waiting", "affairs")
MONITORED_KINDS = ("theory", "skill")
MAX_THEORY_SEATS = 30
MIN_FULL_TIME_STAFF = 5
MIN_THEORY_ROOMS = 2
# Room and camera codes travel in URLs and recorder hooks, so keep them plain.
ROOM_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
CAMERA_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def room_violations(
    kind: str,
    seats: int | None,
    rows: int | None,
    cols: int | None,
    cameras: Sequence[Any],
    max_theory_seats: int = MAX_THEORY_SEATS,
    code: str | None = None,
) -> list[Violation]:
    out: list[Violation] = []
    if code is not None and not ROOM_CODE.match(code):
        out.append(
            Violation(
                "invalid_room_code",
                "R-SITE-1",
                "考场编号只能由字母、数字、-、_组成，最长20位",
                "A room code is 1-20 letters, digits, '-' or '_'.",
                {"code": code},
            )
        )
    if kind not in ROOM_KINDS:
        return out + [
            Violation(
                "invalid_room_kind",
                "R-SITE-1",
                "考场类型须为理论、技能、候考或考务",
                "A room's kind is theory, skill, waiting or affairs.",
                {"kind": kind},
            )
        ]
    seats = seats or 0
    if seats < 0 or (rows is not None and rows < 1) or (cols is not None and cols < 1):
        out.append(
            Violation(
                "invalid_room_size",
                "R-SEAT-1",
                "座位数、行数、列数不能为负或零",
                "Seats, rows and columns cannot be negative (rows and columns at least 1).",
            )
        )
        return out
    if kind in MONITORED_KINDS and seats < 1:
        out.append(
            Violation(
                "seats_required",
                "R-SEAT-1",
                "理论考场须有座位，技能考场须有工位",
                "A theory room needs seats and a skill room stations.",
            )
        )
    if kind == "theory" and (rows is None or cols is None):
        out.append(
            Violation(
                "layout_required",
                "R-SEAT-1",
                "理论考场须填写座位布局（行×列）",
                "A theory room needs its desk layout (rows x cols).",
            )
        )
    # R-SEAT-1: one candidate per desk, so the layout must hold every seat.
    if rows is not None and cols is not None and seats > rows * cols:
        out.append(
            Violation(
                "seats_exceed_layout",
                "R-SEAT-1",
                f"座位数{seats}超过布局{rows}×{cols}",
                f"{seats} seats do not fit a {rows}x{cols} layout.",
                {"seats": seats, "rows": rows, "cols": cols},
            )
        )
    # R-SEAT-1: at most 30 candidates per theory room by default.
    if kind == "theory" and seats > max_theory_seats:
        out.append(
            Violation(
                "too_many_seats",
                "R-SEAT-1",
                f"理论考场最多{max_theory_seats}个座位",
                f"A theory room has at most {max_theory_seats} seats.",
                {"seats": seats, "max": max_theory_seats},
            )
        )
    # R-SITE-1, R-VIDEO-1: theory rooms and skill venues are video monitored.
    if kind in MONITORED_KINDS and not cameras:
        out.append(
            Violation(
                "camera_required",
                "R-SITE-1",
                "理论考场和技能考场须配备视频监控（至少一个摄像头）",
                "Theory and skill rooms are video monitored: list at least one camera.",
            )
        )
    seen: set[str] = set()
    for cam in cameras:
        cc = (get(cam, "code") or "").strip()
        if not CAMERA_CODE.match(cc):
            out.append(
                Violation(
                    "invalid_camera_code",
                    "R-VIDEO-1",
                    "摄像头编号只能由字母、数字、-、_、.组成",
                    "A camera code is 1-40 letters, digits, '-', '_' or '.'.",
                    {"camera": cc},
                )
            )
        elif cc in seen:
            out.append(
                Violation(
                    "duplicate_camera",
                    "R-VIDEO-1",
                    f"摄像头编号{cc}重复",
                    f"Camera code {cc} appears twice.",
                    {"camera": cc},
                )
            )
        seen.add(cc)
    return out


def site_violations(rooms: Sequence[Any]) -> list[Violation]:
    """R-SITE-1 for the whole site: 2+ monitored theory rooms, a monitored skill venue, affairs and waiting rooms.

    Each room is ``{kind, cameras: int, active}``.
    """
    live = [r for r in rooms if get(r, "active", True)]
    theory = [r for r in live if get(r, "kind") == "theory" and get(r, "cameras", 0) > 0]
    skill = [r for r in live if get(r, "kind") == "skill" and get(r, "cameras", 0) > 0]
    out: list[Violation] = []
    if len(theory) < MIN_THEORY_ROOMS:
        out.append(
            Violation(
                "too_few_theory_rooms",
                "R-SITE-1",
                "须至少有2个配备视频监控的理论考场",
                "At least 2 video-monitored theory rooms are needed.",
                {"found": len(theory)},
            )
        )
    if not skill:
        out.append(
            Violation(
                "no_skill_room",
                "R-SITE-1",
                "须有配备视频监控的技能考核场地",
                "A video-monitored skill venue is needed.",
            )
        )
    for kind, zh, en in (("affairs", "考务室", "an exam-affairs room"), ("waiting", "候考室", "a waiting room")):
        if not any(get(r, "kind") == kind for r in live):
            out.append(Violation(f"no_{kind}_room", "R-SITE-1", f"须设有{zh}", f"The site needs {en}."))
    return out


def staff_count_violations(full_time: int) -> list[Violation]:
    # R-STAFF-1: at least 5 full-time staff work on evaluation.
    if full_time < MIN_FULL_TIME_STAFF:
        return [
            Violation(
                "too_few_full_time_staff",
                "R-STAFF-1",
                f"专职工作人员不少于5人（现有{full_time}人）",
                f"At least 5 full-time staff are needed ({full_time} now).",
                {"found": full_time},
            )
        ]
    return []
