"""The accepted check-in's answer (签到成功): where the candidate goes (R-DAY-1, R-SEAT-1).

One shape for the server (``kiosk/services/checkin.py``) and the offline kiosk
(``kiosk/offline.py``). The contract's fields (status, candidate, room_code,
seat, session) stay as written; added: ``room_name``, and for a skill sitting
(技能考核场次, issue #15) the ``sitting`` (its session id, its number among the
batch's sittings, its times) and the ``station`` (工位) drawn — the room is then
the skill room, not the theory room. Both are null for theory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from examday.clock import iso
from kiosk.rules import SITTING_PART, Decision, SessionFacts


def sitting_of(session: SessionFacts, sessions: Sequence[SessionFacts]) -> dict[str, Any] | None:
    """The skill sitting a candidate was admitted to, as the answer names it (R-SEAT-1)."""
    if session.part != SITTING_PART:
        return None
    ordered = sorted((s for s in sessions if s.part == SITTING_PART), key=lambda s: (s.starts_at, s.session_id))
    ids = [s.session_id for s in ordered]
    return {
        "id": session.session_id,
        "no": ids.index(session.session_id) + 1 if session.session_id in ids else None,
        "of": len(ids),
        "starts_at": iso(session.starts_at),
        "ends_at": iso(session.ends_at),
    }


def accepted(d: Decision, batch_id: int, sessions: Sequence[SessionFacts], masked_id: str) -> dict[str, Any]:
    """The body of an accepted decision: its candidate, where they go, the session."""
    cand, s = d.candidate, d.session
    assert d.accepted and cand is not None and s is not None  # an acceptance names both
    sitting = sitting_of(s, sessions)
    return {
        "status": "accepted",
        "candidate": {
            "id": cand.candidate_id,
            "name": cand.name,
            "masked_id": masked_id,
            "ticket_number": cand.ticket_number,
        },
        "room_code": cand.room_code,
        "room_name": cand.room_name,
        "seat": cand.seat_no,
        "sitting": sitting,
        "station": cand.seat_no if sitting is not None else None,
        "session": {"id": s.session_id, "part": s.part, "starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at)},
        "batch_id": batch_id,
        "late": d.late,
    }
