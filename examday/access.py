"""The access policy (访问控制): who may read, write or watch which institution,
batch, room and candidate. Every controller, page and WebSocket asks here, so
the HTTP routes, the live feed and the pages never disagree (issue #14).

=====================  =======  ===========  ========  ==========  ==========  =========  =========
object \\ role           install  inst. admin  centre    supervisor  proctor     evaluator  kiosk
                       admin                                                   / chief
=====================  =======  ===========  ========  ==========  ==========  =========  =========
institution: read      all      own          province  own         own         own        own
institution: write     all      own          —         —           —           —          —
batch (its plan)       all      own          province  own         own         own        own
live rooms (watch)     all      every room   every     every room  own rooms¹  —          —
                                             room
room-level rows²       all      every room   every     every room  own rooms¹  every row  every row
                                             room
scores: read           all      own          province  own         —           own        —
check in at the door   all      own          —         —           —           —          own
act in a room          —        —            —         —           assigned³   —          —
=====================  =======  ===========  ========  ==========  ==========  =========  =========

¹ the rooms of the batch the proctor is assigned to in any of its sessions;
  a candidate is theirs when seated (any part) in one of those rooms.
² seats, room papers (seating chart, door list, sign-in sheet), check-ins and
  their photos, candidates and their photos, offline conflicts; which roles
  reach each of these routes at all is the route's guard (the centre and the
  scorers reach some of them, the kiosk only the door's).
³ to that room in that session, under the proctor's own account (R-STAFF-4).

"own" is the actor's institution (the external supervisor's account is made for
the institution being supervised); "province" compares province names
normalised (``吉林省`` and ``吉林`` are one province, :func:`same_province`).
Guards on the routes say which role reaches a route; these functions decide
which objects (R-STAFF-4, R-DAY-3, R-PRIV-1).

Plain functions: the ``can_*``/``sees_*`` ones take plain objects and answer a
bool; the ``*_for_*`` ones load, decide and raise a :class:`~examday.errors.Refusal`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.errors import Refusal, forbidden, not_found
from examday.plans.models import Batch, ExamSession, ProctorAssignment, Seat
from examday.registry.models import Institution, Room
from examday.registry.provinces import normalise_province

FULL_VIEW_ROLES = ("admin", "centre", "supervisor")  # every room of a batch they may see
WATCH_ROLES = (*FULL_VIEW_ROLES, "proctor")
SCORE_READ_ROLES = ("admin", "chief", "evaluator", "supervisor", "centre")
CHECKIN_ROLES = ("admin", "kiosk")
OWN_INSTITUTION_ROLES = ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor")


# -- institutions -------------------------------------------------------------------------


def same_province(a: str | None, b: str | None) -> bool:
    """Two spellings of one province ("吉林省", "吉林"); an unknown name matches nothing."""
    na = normalise_province(a)
    return na is not None and na == normalise_province(b)


def can_read_institution(actor: Actor, inst: Institution) -> bool:
    if actor.is_installation_admin:
        return True
    if actor.role == "centre":
        return same_province(actor.province, inst.province)
    if actor.role in OWN_INSTITUTION_ROLES:
        return actor.institution_id is not None and actor.institution_id == inst.id
    return False


def can_write_institution(actor: Actor, inst: Institution) -> bool:
    """Only the institution's own exam office (or the installation administrator) changes its data."""
    return actor.is_installation_admin or (actor.role == "admin" and actor.institution_id == inst.id)


def is_filing_authority(actor: Actor, inst: Institution) -> bool:
    """The centre of the institution's province (or the installation administrator), R-INST-2."""
    return actor.is_installation_admin or (actor.role == "centre" and same_province(actor.province, inst.province))


def can_change_institution_kind(actor: Actor) -> bool:
    """Whether an institution is an enterprise decides whether it may add 学徒工, 特级技师 and 首席技师
    (R-LEVEL): only the installation administrator corrects it, never the institution itself or a centre."""
    return actor.is_installation_admin


def can_review_batch(actor: Actor, inst: Institution) -> bool:
    """The centre's review (复核) of a locked batch and its receipt of the reported data (R-CERT-1,
    R-PUB-2): the filing authority, never the institution's own office — it cannot approve itself."""
    return is_filing_authority(actor, inst) and actor.institution_id != inst.id


def can_enter_calendar_notice(actor: Actor) -> bool:
    """The working-day calendar counts every institution's deadlines (R-CAL): only the installation
    administrator (or the operator at the command line) enters a holiday notice, never one
    institution's office, which would move its own deadlines and everyone else's."""
    return actor.is_installation_admin or actor.role == "system"


def visible_institution_ids(db: Session, actor: Actor) -> list[int] | None:
    """The institutions ``actor`` may read; None: every one."""
    if actor.is_installation_admin:
        return None
    if actor.role == "centre":
        rows = db.exec(select(Institution.id, Institution.province)).all()
        return sorted(i for i, p in rows if i is not None and same_province(actor.province, p))
    if actor.role in OWN_INSTITUTION_ROLES and actor.institution_id is not None:
        return [actor.institution_id]
    return []


def institution_for_read(db: Session, actor: Actor, institution_id: int) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise not_found("institution")
    if not can_read_institution(actor, inst):
        raise forbidden("This institution is not yours to see.")
    return inst


def institution_for_write(db: Session, actor: Actor, institution_id: int) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise not_found("institution")
    if not can_write_institution(actor, inst):
        raise forbidden("Only this institution's exam office may change it.")
    return inst


# -- batches ------------------------------------------------------------------------------


def batch_for_read(db: Session, actor: Actor, batch_id: int) -> Batch:
    """The batch (its plan, counts, sessions), for anyone who may read its institution."""
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not can_read_institution(actor, inst):
        raise forbidden("This batch belongs to an institution you may not see.")
    return batch


def can_read_scores(actor: Actor, inst: Institution) -> bool:
    """Scores: the scorers and office of the institution, its supervisor and its province's centre."""
    return actor.role in SCORE_READ_ROLES and can_read_institution(actor, inst)


def can_check_in(actor: Actor, inst: Institution) -> bool:
    """The door (kiosk, desk): the institution's kiosks and exam office."""
    return actor.role in CHECKIN_ROLES and (actor.is_installation_admin or actor.institution_id == inst.id)


@dataclass(frozen=True)
class BatchView:
    """What one actor may see of a batch's rooms: ``rooms`` None means every room."""

    batch: Batch
    institution: Institution
    actor: Actor
    rooms: frozenset[str] | None
    room_ids: frozenset[int] | None = None

    @property
    def full(self) -> bool:
        return self.rooms is None

    def sees(self, room_code: str | None) -> bool:
        if self.rooms is None:
            return True
        return room_code is not None and room_code in self.rooms

    def sees_room_id(self, room_id: int | None) -> bool:
        if self.room_ids is None:
            return True
        return room_id is not None and room_id in self.room_ids

    def require_room(self, room_code: str) -> None:
        """Refuse a room outside the view (R-DAY-3: a proctor reads only their own rooms)."""
        if not self.sees(room_code):
            raise forbidden("You are not a proctor of this room.")


def sees_institution(actor: Actor, inst: Institution) -> bool:
    """May ``actor`` watch the institution's batches at all (the live rooms)?"""
    return actor.role in WATCH_ROLES and can_read_institution(actor, inst)


def proctor_room_map(db: Session, batch_id: int, staff_id: int) -> dict[int, str]:
    """The rooms (id → code) a proctor is assigned to in any session of the batch."""
    rows = db.exec(
        select(Room.id, Room.code)
        .join(ProctorAssignment, col(ProctorAssignment.room_id) == Room.id)
        .join(ExamSession, col(ExamSession.id) == ProctorAssignment.session_id)
        .where(ExamSession.batch_id == batch_id, ProctorAssignment.staff_id == staff_id)
    ).all()
    return {rid: code for rid, code in rows if rid is not None}


def proctor_rooms(db: Session, batch_id: int, staff_id: int) -> frozenset[str]:
    return frozenset(proctor_room_map(db, batch_id, staff_id).values())


def room_view(actor: Actor, batch: Batch, inst: Institution, rooms: dict[int, str] | None) -> BatchView:
    """The view for an actor who may watch: every room, or the ``rooms`` given (id → code)."""
    if rooms is None:
        return BatchView(batch, inst, actor, None, None)
    return BatchView(batch, inst, actor, frozenset(rooms.values()), frozenset(rooms))


def batch_view(db: Session, actor: Actor, batch_id: int) -> BatchView:
    """What ``actor`` may watch of the batch's rooms, or a refusal (R-DAY-3, R-STAFF-4).

    The institution's admin, the province's centre and the quality supervisor
    see every room; a proctor only the rooms assigned to them in this batch.
    """
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    assert batch.id is not None
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not sees_institution(actor, inst):
        raise forbidden("This batch is not yours to watch.")
    if actor.role in FULL_VIEW_ROLES:
        return room_view(actor, batch, inst, None)
    rooms = proctor_room_map(db, batch.id, actor.staff_id) if actor.staff_id else {}
    if not rooms:
        raise forbidden("You proctor no room of this batch.")
    return room_view(actor, batch, inst, rooms)


def reader_view(db: Session, actor: Actor, batch_id: int) -> BatchView:
    """The room-level rows of a batch (seats, room papers, check-ins, candidates, photos):
    for anyone who may read its institution, all of them, but a proctor only those of
    their own rooms (issue #14 finding 9). Which roles reach each route is the route's guard."""
    batch = batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    inst = db.get(Institution, batch.institution_id)
    assert inst is not None  # batch_for_read found it
    if actor.role != "proctor":
        return room_view(actor, batch, inst, None)
    rooms = proctor_room_map(db, batch.id, actor.staff_id) if actor.staff_id else {}
    if not rooms:
        raise forbidden("You proctor no room of this batch.")
    return room_view(actor, batch, inst, rooms)


# -- candidates ---------------------------------------------------------------------------


def seated_candidate_ids(db: Session, view: BatchView, candidate_ids: Iterable[int] | None = None) -> set[int] | None:
    """The candidates of the batch seated (any part) in a room of the view; None: every one."""
    if view.room_ids is None:
        return None
    if not view.room_ids:
        return set()
    q = select(Seat.candidate_id).where(Seat.batch_id == view.batch.id, col(Seat.room_id).in_(view.room_ids))
    if candidate_ids is not None:
        ids = list(candidate_ids)
        if not ids:
            return set()
        q = q.where(col(Seat.candidate_id).in_(ids))
    return set(db.exec(q).all())


def sees_candidate(db: Session, view: BatchView, candidate_id: int | None) -> bool:
    """A proctor sees a candidate only if seated in one of their rooms (issue #14 finding 9)."""
    if view.room_ids is None:
        return True
    if candidate_id is None:
        return False
    return candidate_id in (seated_candidate_ids(db, view, [candidate_id]) or set())


def sees_checkin(db: Session, view: BatchView, room_id: int | None, candidate_id: int | None) -> bool:
    """A check-in attempt: made for a room of the view, or by a candidate seated in one."""
    return view.sees_room_id(room_id) or sees_candidate(db, view, candidate_id)


# -- acting in a room ---------------------------------------------------------------------


def assigned_proctor(db: Session, actor: Actor, session: ExamSession, room: Room) -> int:
    """The acting proctor's staff id, if assigned to this room in this session (R-STAFF-4)."""
    if actor.role != "proctor" or not actor.staff_id:
        raise forbidden("Only a proctor of this room in this session may do this.")
    found = db.exec(
        select(ProctorAssignment.id).where(
            ProctorAssignment.session_id == session.id,
            ProctorAssignment.room_id == room.id,
            ProctorAssignment.staff_id == actor.staff_id,
        )
    ).first()
    if found is None:
        raise forbidden("You are not a proctor of this room in this session.")
    return actor.staff_id


def supervisor_of(db: Session, actor: Actor, batch_id: int) -> BatchView:
    """The batch, for its quality supervisor (R-SUP-1)."""
    view = batch_view(db, actor, batch_id)
    if actor.role != "supervisor":
        raise forbidden("Only the quality supervisor may do this.")
    return view


def can_read_theory_versions(actor: Actor, inst: Institution) -> bool:
    """The theory versions with their before and after: who reads scores, but not an evaluator,
    who sees only their own entries (R-SCORE-1; the contract)."""
    return actor.role != "evaluator" and can_read_scores(actor, inst)


def can_countersign_theory(actor: Actor, inst: Institution, chief_staff_ids: Iterable[int]) -> bool:
    """A theory import becomes the scores only with the countersignature of a chief (考评组长) of one
    of the batch's panels, signing as themself (R-SCORE-3, R-PANEL-1): never the office that imported it."""
    return (
        actor.role == "chief"
        and actor.institution_id == inst.id
        and actor.staff_id is not None
        and actor.staff_id in set(chief_staff_ids)
    )


# -- the archive and retention ------------------------------------------------------------

ARCHIVE_READ_ROLES = ("admin", "centre", "supervisor")


def can_read_archive(actor: Actor, inst: Institution) -> bool:
    """A batch's archive (存档, R-ARCH-1): its exam office, its supervisor and its province's centre."""
    return actor.role in ARCHIVE_READ_ROLES and can_read_institution(actor, inst)


def can_add_to_archive(actor: Actor, inst: Institution) -> bool:
    """Scans are uploaded against a batch by the institution's own exam office (R-ARCH-1)."""
    return actor.role == "admin" and can_write_institution(actor, inst)


def can_set_retention_profile(actor: Actor, inst: Institution) -> bool:
    """The retention profile (R-VIDEO-1: Jilin keeps video 1 year, Sichuan 5) is chosen by the
    installation administrator or the province's centre, never by the institution's own
    office, which would shorten the keeping of its own video."""
    return is_filing_authority(actor, inst)


# -- the report to the centre (issue #17) -------------------------------------------------


def can_fetch_report_package(actor: Actor, inst: Institution) -> bool:
    """A batch's signed report package (上报数据包, R-PUB-2) carries full ID numbers for the centre's
    certificate data: the institution's own exam office, its province's centre and the installation
    administrator fetch it; never the supervisor, a scorer, a proctor or a kiosk (R-PRIV-1)."""
    return actor.role in ("admin", "centre") and can_read_institution(actor, inst)


def can_act_as_centre_for(actor: Actor, province: str | None) -> bool:
    """On a centre's installation: registering an institution's public keys, issuing its report
    token, receiving its packages and reading what was received (R-PUB-2) — the centre of the
    institution's province, or the installation administrator."""
    if actor.is_installation_admin or actor.role == "system":
        return True
    return actor.role == "centre" and same_province(actor.province, province)


def audit_chain_for(db: Session, actor: Actor, institution_id: int | None, installation: bool) -> int:
    """Issue #18, R-AUDIT-1: whose audit chain's hashes (``GET /api/v1/audit/proof``) the actor
    reads — an institution's own chain for those who may read the institution (its office, its
    province's centre, the installation administrator). The installation's chain (0) holds the
    checkpoints signed before issue #18: the installation administrator, or a reader of the
    institution named beside it. Without a name: the office's own institution, the administrator's
    installation chain, or the one institution of the centre's province hosted here."""
    if institution_id is None and not actor.is_installation_admin:
        if actor.institution_id is not None:
            institution_id = actor.institution_id
        elif actor.role == "centre":
            ids = [i.id for i in db.exec(select(Institution)).all() if same_province(actor.province, i.province)]
            if len(ids) != 1:
                raise Refusal(
                    "institution_required",
                    "请指明机构：本系统承载本省多个机构，每个机构有自己的审计链",
                    "Name the institution: each institution hosted here has an audit chain of its own.",
                    "R-AUDIT-1",
                    400,
                )
            institution_id = ids[0]
    if institution_id is None:
        if actor.is_installation_admin:
            return 0
        raise forbidden()
    inst = db.get(Institution, institution_id)
    if inst is None or not can_read_institution(actor, inst):
        raise forbidden("Only the institution's office, its province's centre or the administrator read its chain.")
    assert inst.id is not None
    return 0 if installation else inst.id
