"""Room services: the filed rooms (考场) of an institution and their cameras.

Rules: R-SITE-1 (exams only in filed rooms; theory rooms and skill venues
monitored; an affairs and a waiting room), R-VIDEO-1, R-SEAT-1 (one candidate
per desk, 30 per theory room by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.access import institution_for_read, institution_for_write
from examday.actor import Actor
from examday.errors import conflict
from examday.glossary import TERMS
from examday.registry import rules
from examday.registry.models import Camera, Room
from examday.rows import row_id

KIND_ZH = {code: words[0] for code, words in TERMS["room_kind"].items()}  # the one glossary (issue #16)


def room_view(room: Room, cameras: list[Camera]) -> dict[str, Any]:
    return {
        "id": room.id,
        "institution_id": room.institution_id,
        "code": room.code,
        "name": room.name,
        "kind": room.kind,
        "kind_zh": KIND_ZH.get(room.kind, room.kind),
        "seats": room.seats,
        "rows": room.rows,
        "cols": room.cols,
        "active": room.active,
        "cameras": [{"id": c.id, "code": c.code, "name": c.name} for c in cameras],
    }


def _cameras_by_room(db: Session, room_ids: list[int]) -> dict[int, list[Camera]]:
    out: dict[int, list[Camera]] = {rid: [] for rid in room_ids}
    if room_ids:
        for cam in db.exec(select(Camera).where(col(Camera.room_id).in_(room_ids)).order_by(Camera.code)).all():
            out[cam.room_id].append(cam)
    return out


def rooms_of(db: Session, iid: int) -> list[tuple[Room, list[Camera]]]:
    order = {k: i for i, k in enumerate(rules.ROOM_KINDS)}
    rooms = sorted(
        db.exec(select(Room).where(Room.institution_id == iid)).all(), key=lambda r: (order.get(r.kind, 9), r.code)
    )
    cams = _cameras_by_room(db, [row_id(r) for r in rooms])
    return [(r, cams[row_id(r)]) for r in rooms]


def list_rooms(db: Session, actor: Actor, iid: int) -> list[dict[str, Any]]:
    institution_for_read(db, actor, iid)
    return [room_view(r, cams) for r, cams in rooms_of(db, iid)]


def site_readiness(db: Session, iid: int) -> list[rules.Violation]:
    """R-SITE-1 for the whole site, from the filed rooms."""
    return rules.site_violations(
        [{"kind": r.kind, "cameras": len(c), "active": r.active} for r, c in rooms_of(db, iid)]
    )


def add_room(
    db: Session,
    actor: Actor,
    now: datetime,
    iid: int,
    code: str,
    name: str,
    kind: str,
    seats: int | None,
    rows: int | None,
    cols: int | None,
    cameras: list[dict[str, Any]],
    max_theory_seats: int = rules.MAX_THEORY_SEATS,
) -> Room:
    """File a room with its cameras; the caller commits."""
    institution_for_write(db, actor, iid)
    code, name = (code or "").strip(), (name or "").strip()
    cams = [{"code": (c.get("code") or "").strip(), "name": (c.get("name") or "").strip()} for c in cameras]
    problems = rules.room_violations(kind, seats, rows, cols, cams, max_theory_seats, code=code)
    if not name or len(name) > 100:
        problems.append(
            rules.Violation(
                "room_name_required",
                "R-SITE-1",
                "须填写考场名称（不超过100字）",
                "A room needs a name (at most 100 characters).",
            )
        )
    rules.check(problems)
    if db.exec(select(Room).where(Room.institution_id == iid, Room.code == code)).first() is not None:
        raise conflict(
            "room_code_taken",
            f"考场编号{code}已存在",
            f"Room code {code} is already filed.",
            "R-SITE-1",
            room_code=code,
        )
    # Recorder hooks and the live view name a camera by its code: keep it unique within the institution.
    taken = db.exec(
        select(Camera.code)
        .join(Room, col(Room.id) == Camera.room_id)
        .where(Room.institution_id == iid, col(Camera.code).in_([c["code"] for c in cams]))
    ).all()
    if taken:
        raise conflict(
            "camera_code_taken",
            f"摄像头编号已被使用：{'、'.join(taken)}",
            f"Camera codes already in use: {', '.join(taken)}.",
            "R-VIDEO-1",
            cameras=list(taken),
        )
    room = Room(institution_id=iid, code=code, name=name, kind=kind, seats=seats or 0, rows=rows, cols=cols)
    db.add(room)
    db.flush()
    assert room.id is not None  # flushed: the database gave it an id
    made = []
    for c in cams:
        cam = Camera(room_id=room.id, code=c["code"], name=c["name"] or c["code"])
        db.add(cam)
        made.append(cam)
    db.flush()
    audit.record(
        db,
        actor,
        "room.create",
        "room",
        room.id,
        {
            "code": code,
            "name": name,
            "kind": kind,
            "seats": room.seats,
            "rows": rows,
            "cols": cols,
            "cameras": [c.code for c in made],
        },
        now,
        iid,
    )
    return room


def get_room_view(db: Session, room: Room) -> dict[str, Any]:
    assert room.id is not None
    return room_view(room, _cameras_by_room(db, [room.id])[room.id])


def parse_cameras(text: str) -> list[dict[str, str]]:
    """The page's camera box: one camera a line, ``CODE name`` (name optional)."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        code, _, name = line.partition(" ")
        out.append({"code": code.strip(), "name": name.strip()})
    return out
