"""Record an incident (记录违纪) against a candidate, with its tier (R-DISC-1)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal
from examday.records.holds import place_hold
from examday.registry import standing
from proctor import rules
from proctor.models import Incident
from proctor.services.common import (
    Outcome,
    archive,
    decode_photo,
    proctor_place,
    require_in_progress,
    require_no_record,
    seat_in_room,
    text_field,
)
from storage.blobs import BlobStore


def record_incident(
    db: Session,
    actor: Actor,
    now: datetime,
    blobs: BlobStore,
    batch_id: int,
    room_code: str,
    candidate_id: int,
    kind: str,
    description: str,
    session_id: int | None = None,
    photo: str | None = None,
) -> Outcome:
    assert actor.account_id is not None
    place = proctor_place(db, actor, batch_id, session_id, room_code, now)
    assert place.batch.id is not None
    assert place.session.id is not None
    assert place.room.id is not None
    # R-INST-2: an institution out of standing records no new incident; those recorded stay.
    standing.refuse_unless_in_standing(db, place.batch.institution_id, now, "incident")
    effect = rules.incident_effect(kind)  # R-DISC-1
    if effect is None:
        raise Refusal(
            "unknown_incident_kind",
            "违纪类型无效",
            f"Unknown incident kind {kind!r}.",
            "R-DISC-1",
            422,
            {"kinds": sorted(rules.INCIDENT_TIERS)},
        )
    description = text_field(
        description,
        "invalid_description",
        "请填写违纪情况说明（1000字以内）",
        "Describe the incident (up to 1000 characters).",
        1000,
    )
    require_in_progress(place, now)
    require_no_record(db, place)
    seat_in_room(db, place, candidate_id, now)
    photo_blob = None
    if photo:
        data, content_type = decode_photo(photo)
        photo_blob = archive(
            db,
            blobs,
            data,
            content_type,
            "." + content_type.split("/")[-1],
            f"违纪照片 incident {place.room.code}",
            "electronic_records",
            place.batch.institution_id,
            now,
        )
    inc = Incident(
        batch_id=place.batch.id,
        session_id=place.session.id,
        room_id=place.room.id,
        candidate_id=candidate_id,
        kind=kind,
        tier=effect.tier,
        voids=effect.voids,
        cheating=effect.cheating,
        description=description,
        photo_blob_id=photo_blob.id if photo_blob else None,
        account_id=actor.account_id,
        staff_id=place.staff_id,
        at=now,
    )
    db.add(inc)
    db.flush()
    voids = rules.voided_parts(effect, place.session.part, place.batch.part_list())
    audit.record(
        db,
        actor,
        "incident.record",
        "incident",
        inc.id,
        {
            "candidate_id": candidate_id,
            "session_id": place.session.id,
            "room": place.room.code,
            "kind": kind,
            "tier": effect.tier,
            "voids": voids,
            "cheating": effect.cheating,
            "photo_blob_id": inc.photo_blob_id,
        },
        now,
        place.batch.institution_id,
    )
    # R-VIDEO-1, R-ARCH-1: an incident keeps its session's video from the purge until released by hand.
    place_hold(
        db,
        actor,
        "session",
        place.session.id,
        f"考场记录事件 incident #{inc.id}: {kind}",
        now,
        source=f"incident:{inc.id}",
    )
    body = {
        "id": inc.id,
        "batch_id": place.batch.id,
        "session_id": place.session.id,
        "room_code": place.room.code,
        "candidate_id": candidate_id,
        "kind": kind,
        "label": rules.INCIDENT_LABELS[kind],
        "tier": effect.tier,
        "voids": effect.voids,
        "voided_parts": voids,
        "cheating": effect.cheating,
        "effect": effect.zh,
        "effect_en": effect.en,
        "description": description,
        "photo_blob_id": inc.photo_blob_id,
        "at": iso(now),
    }
    event_incident = {k: body[k] for k in ("id", "kind", "label", "tier", "voided_parts", "cheating", "at")}
    return Outcome(
        body,
        place.batch.id,
        "incident",
        place.room.code,
        {"session_id": place.session.id, "candidate_id": candidate_id, "incident": event_incident},
    )
