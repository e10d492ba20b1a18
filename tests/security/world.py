"""Two institutions on one installation, for the route-by-role test (issue #14).

A (吉林) is the callers' own institution; B (四川) is the one they must not reach. Each has rooms
with cameras, staff, a filed batch for today with its sessions, seats, tickets, a check-in and
incidents, and a batch sat yesterday and scored. B's is in publicity with an open objection; B
also has a hold, ticket and recorder keys, accounts with tokens and a room whose camera code is
its own, so that every path parameter of the API has a real id in B. In A the proctor account
watches room T01 only, while T02 has its own candidates, check-in and incident; another examiner
of A has declared a conflict and scored a candidate: what a proctor or an examiner of A must not
see of a colleague's room, declarations or entries.

Rows come from tests/builders.py and accounts from the services, as in tests/fuzz; everything
after that goes through the HTTP API as the institution's own people.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from examday.accounts.models import AccessToken, Account
from examday.accounts.services.accounts import actor_of
from examday.identity import _uscc_check_char
from examday.plans.models import Batch, Candidate, ExamSession, Seat, TicketKey
from examday.plans.tickets import current_ticket
from examday.registry.models import Room
from kiosk.models import CheckIn
from tests import builders
from tests.support import DEMO_USCC, OTHER_USCC, World, bearer

EXAM_DAY = date(2026, 11, 26)  # theory 09:00-10:30 in T01 and T02; the clock stands at 08:40
PIN = "246810"
RUBRIC = [
    {"code": "A1", "title": "安全操作", "max_points": 40},
    {"code": "A2", "title": "接线工艺", "max_points": 35},
    {"code": "A3", "title": "通电试验", "max_points": 25},
]
B_NAME = "蜀南乙号职业技能鉴定所"
B_PEOPLE = ["欧阳乙甲", "欧阳乙乙", "欧阳乙丙", "欧阳乙丁", "司马丙甲", "司马丙乙", "司马丙丙"]
NEW_IN_B_PROVINCE = "蜀北新设评价站"  # made by the installation administrator during the walk
A_PEOPLE = ["上官甲一", "上官甲二", "上官甲三", "上官甲四", "上官甲五", "上官甲六"]
A_OTHER_EXAMINER_NOTE = "甲方另一考评员的亲属回避声明"


def fresh_uscc(body17: str = "91510100MA6CJQ4N5") -> str:
    """A valid Unified Social Credit Code nobody holds yet (R-FMT-USCC)."""
    return body17 + _uscc_check_char(body17)


@dataclass
class Ids:
    """The ids a route's parameters are filled from."""

    iid: int
    bid: int  # today's batch
    scored_bid: int  # B: the batch in publicity; A: today's batch
    sid: int  # the theory session of today's batch
    room_code: str
    cid: int  # a candidate of today's batch (in room_code)
    ticket_number: str  # theirs
    scored_cid: int  # a candidate of the scored batch
    ciid: int  # a check-in of today's batch (in room_code)
    staff_id: int  # an examiner
    aid: int  # an examiner's account
    kid: str = ""
    hid: int = 0
    oid: int = 0
    ticket: str = ""  # a ticket's QR text, of a candidate not checked in yet
    ticket_id_number: str = ""
    spare_token: str = ""  # a bearer token of another account, for /tokens/revoke
    tid: int = 0  # that token's id
    rkid: str = ""  # a recorder key (when the installation has them)
    camera: str = ""  # a camera whose code no other institution uses
    import_id: int = 0  # a theory import (version) of the scored batch


@dataclass
class RouteWorld:
    client: Any
    tokens: dict[str, str | None]  # actor -> bearer token (None: anonymous)
    b: Ids  # institution B, the foreign one
    a_room: Ids  # institution A, but room T02 that the A proctor does not watch
    a_examiner: Ids  # institution A, but another examiner than the caller
    b_markers: list[str]  # text that only B's data contains
    room_markers: list[str]  # text that only A's room T02 contains (its candidates)
    examiner_markers: list[str]  # text only the other examiner's declarations contain
    recorder: tuple[str, str]  # A's recorder key and its secret (("none", "") without keys)

    def headers(self, actor: str) -> dict[str, str]:
        tok = self.tokens[actor]
        return bearer(tok) if tok else {}


def _institution(db: Session, now, uscc: str, province: str, name: str | None, n: int, names: list[str] | None):
    inst = builders.institution(db, now, uscc=uscc, province=province)
    if name:
        inst.name = name
        db.add(inst)
    rooms = builders.rooms(db, inst)
    people = builders.staff(db, inst)
    today = builders.batch(db, inst, EXAM_DAY, rooms[:2], people["proctor"], skill_room=rooms[2], now=now)
    cands = builders.candidates(db, today, n, now=now)
    if names:
        for c, nm in zip(cands, names, strict=False):
            c.name = nm
            db.add(c)
    db.commit()
    return inst, rooms, people, today, cands


def _ok(resp, *codes: int) -> Any:
    assert resp.status_code in (codes or (200, 201)), f"{resp.request.method} {resp.request.url}: {resp.text[:300]}"
    return resp.json() if "json" in resp.headers.get("content-type", "") else None


def _seat(db: Session, bid: int, cid: int) -> str:
    seat = db.exec(select(Seat).where(Seat.batch_id == bid, Seat.candidate_id == cid, Seat.part == "theory")).one()
    room = db.get(Room, seat.room_id)
    assert room is not None
    return room.code


def _session(db: Session, bid: int, part: str = "theory") -> int:
    s = db.exec(select(ExamSession).where(ExamSession.batch_id == bid, ExamSession.part == part)).one()
    assert s.id is not None
    return s.id


def _check_in(client, engine, kiosk: dict, cand: Candidate, texts: dict[int, str]) -> int:
    body = {"ticket": texts[cand.id], "id_number": cand.id_number, "kiosk_nonce": uuid.uuid4().hex}
    _ok(client.post("/api/v1/checkins", json=body, headers=kiosk), 200)
    with Session(engine) as db:
        ciid = db.exec(
            select(CheckIn.id).where(CheckIn.candidate_id == cand.id).order_by(col(CheckIn.id).desc())
        ).first()
        db.commit()
    assert ciid is not None
    return ciid


def _incident(client, proctor: dict, bid: int, room: str, cid: int, kind: str = "disturbance") -> None:
    body = {"room_code": room, "candidate_id": cid, "kind": kind, "description": "考场事件"}
    _ok(client.post(f"/api/v1/batches/{bid}/incidents", json=body, headers=proctor), 201)


def _pin(client, token: str) -> None:
    _ok(client.post("/api/v1/me/pin", json={"pin": PIN}, headers=bearer(token)), 200)


def _account_id(db: Session, username: str) -> int:
    aid = db.exec(select(Account.id).where(Account.username == username)).one()
    assert aid is not None
    return aid


def _token_id(db: Session, username: str) -> int:
    tid = db.exec(select(AccessToken.id).where(AccessToken.account_id == _account_id(db, username))).first()
    assert tid is not None
    return tid


def _sit(engine, office: str, batch_id: int) -> None:
    """Admit every candidate to their sessions, as the door would, where the installation asks it
    before scoring (tests/builders.py ``admit``; R-ID-1)."""
    admit = getattr(builders, "admit", None)
    if admit is None:
        return
    with Session(engine, expire_on_commit=False) as db:
        account = db.exec(select(Account).where(Account.username == office)).one()
        admit(db, actor_of(account), batch_id)


def _recorder_key(client, admin: dict, iid: int) -> tuple[str, str]:
    """A recorder key of the institution and its secret, if this installation issues them (issue #14)."""
    resp = client.post(f"/api/v1/institutions/{iid}/recorder-keys", json={"label": "录像机1"}, headers=admin)
    return (resp.json()["kid"], resp.json()["secret"]) if resp.status_code == 201 else ("none", "")


def build(client, app, engine, clock) -> RouteWorld:
    world = World(app, engine, clock)
    now = clock.now()
    with Session(engine, expire_on_commit=False) as db:
        inst_b, rooms_b, staff_b, today_b, cands_b = _institution(db, now, OTHER_USCC, "四川", B_NAME, 4, B_PEOPLE)
        scored_b = builders.batch(
            db, inst_b, EXAM_DAY - timedelta(days=1), rooms_b[:2], staff_b["proctor"], skill_room=rooms_b[2], now=now
        )
        scored_cands = builders.candidates(db, scored_b, 3, now=now)
        for c, nm in zip(scored_cands, B_PEOPLE[4:], strict=True):
            c.name = nm
            db.add(c)
        inst_a, rooms_a, staff_a, today_a, cands_a = _institution(db, now, DEMO_USCC, "吉林", None, 6, A_PEOPLE)
        scored_a = builders.batch(
            db, inst_a, EXAM_DAY - timedelta(days=1), rooms_a[:2], staff_a["proctor"], skill_room=rooms_a[2], now=now
        )
        scored_a_cands = builders.candidates(db, scored_a, 2, now=now)
        db.commit()
    bi, ai = inst_b.id, inst_a.id
    bx, ax = staff_b["examiner"], staff_a["examiner"]
    b_tok = {
        "admin": world.token("b-office", "admin", bi),
        "kiosk": world.token("b-kiosk", "kiosk", bi),
        "proctor": world.token("b-proctor", "proctor", bi, staff_id=staff_b["proctor"][0].id),
        "spare": world.token("b-spare", "supervisor", bi),
    }
    for i, s in enumerate(bx[:3]):
        b_tok[f"x{i}"] = world.token(f"b-examiner{i}", "chief" if i == 0 else "evaluator", bi, staff_id=s.id)
        _pin(client, b_tok[f"x{i}"])
    tokens: dict[str, str | None] = {
        "admin": world.token("a-office", "admin", ai),
        "kiosk": world.token("a-kiosk", "kiosk", ai),
        "proctor": world.token("a-proctor-t01", "proctor", ai, staff_id=staff_a["proctor"][0].id),
        "evaluator": world.token("a-examiner1", "evaluator", ai, staff_id=ax[1].id),
        "chief": world.token("a-examiner0", "chief", ai, staff_id=ax[0].id),
        "supervisor": world.token("a-supervisor", "supervisor", ai),
        "centre": world.token("centre-jl", "centre", None, province="吉林"),
        "installation_admin": world.token("root", "admin", None),
        "anonymous": None,
    }
    a_other = world.token("a-examiner2", "evaluator", ai, staff_id=ax[2].id)
    a_t02 = world.token("a-proctor-t02", "proctor", ai, staff_id=staff_a["proctor"][2].id)
    b_admin, a_admin = bearer(b_tok["admin"]), bearer(tokens["admin"])  # type: ignore[arg-type]

    # A room of B's own, its camera's code used nowhere else: a hook naming it names B.
    room = {"code": "B01", "name": "乙方理论考场", "kind": "theory", "seats": 30, "rows": 5, "cols": 6}
    room["cameras"] = [{"code": "B01-C1", "name": "前方"}]
    _ok(client.post(f"/api/v1/institutions/{bi}/rooms", json=room, headers=b_admin), 201)
    # Seats and tickets, a rubric and a panel, in both institutions.
    for h, bid in ((b_admin, today_b.id), (a_admin, today_a.id)):
        _ok(client.post(f"/api/v1/batches/{bid}/seating", json={"seed": 7}, headers=h), 200)
    rubric_panels = (
        (b_admin, today_b.id, bx),
        (b_admin, scored_b.id, bx),
        (a_admin, today_a.id, ax),
        (a_admin, scored_a.id, ax),
    )
    for h, bid, xs in rubric_panels:
        _ok(client.put(f"/api/v1/batches/{bid}/rubrics/skill", json={"items": RUBRIC}, headers=h), 200)
        panel = {"part": "skill", "examiner_ids": [x.id for x in xs[:3]], "chief_id": xs[0].id}
        _ok(client.post(f"/api/v1/batches/{bid}/panels", json=panel, headers=h), 201)

    # Read first, then call: a SQLite transaction held open here would block the server.
    with Session(engine, expire_on_commit=False) as db:
        b_room = _seat(db, today_b.id, cands_b[0].id)
        b_in_t01 = [c for c in cands_b if _seat(db, today_b.id, c.id) == "T01"]
        in_t02 = [c for c in cands_a if _seat(db, today_a.id, c.id) == "T02"]
        texts = {c.id: current_ticket(db, c.id).qr_text for c in (*cands_b, *cands_a)}
        b_kid = db.exec(select(TicketKey.kid).where(TicketKey.institution_id == bi)).first()
        a_kid = db.exec(select(TicketKey.kid).where(TicketKey.institution_id == ai)).first()
        b_sid, a_sid = _session(db, today_b.id), _session(db, today_a.id)
        numbers = {
            cid: (t or "", bid)
            for cid, t, bid in db.exec(select(Candidate.id, Candidate.ticket_number, Candidate.batch_id))
        }
        b_tickets = [t for t, bid in numbers.values() if bid in (today_b.id, scored_b.id) and t]
        db.commit()
    assert b_kid and a_kid and len(in_t02) >= 3
    # B: a check-in and an incident in T01 today; A: in T02, by T02's proctor.
    b_ciid = _check_in(client, engine, bearer(b_tok["kiosk"]), cands_b[0], texts)
    _incident(client, bearer(b_tok["proctor"]), today_b.id, "T01", b_in_t01[0].id)
    # Tier (b), treated as cheating: what the centre's notices list (R-DISC-1).
    _incident(client, bearer(b_tok["proctor"]), today_b.id, "T01", b_in_t01[1].id, "copying")
    a_ciid = _check_in(client, engine, bearer(tokens["kiosk"]), in_t02[0], texts)  # type: ignore[arg-type]
    _incident(client, bearer(a_t02), today_a.id, "T02", in_t02[1].id)
    spare = cands_b[1]
    b_ticket, b_ticket_id = texts[spare.id], spare.id_number

    # B's older batch: sat yesterday, scored by its panel, theory imported, in publicity, one
    # objection open.
    _sit(engine, "b-office", scored_b.id)
    for c in scored_cands:
        for i in range(3):
            entry = {"batch_id": scored_b.id, "candidate_id": c.id, "part": "skill", "pin": PIN}
            entry["items"] = {"A1": 40.0, "A2": 30.0, "A3": 10.0 + i}
            _ok(client.post("/api/v1/score-entries", json=entry, headers=bearer(b_tok[f"x{i}"])), 201)
    csv = "ticket_number,score\n" + "".join(f"{c.ticket_number},80\n" for c in scored_cands)
    files = {"file": ("theory.csv", io.BytesIO(csv.encode()), "text/csv")}
    b_import = _ok(client.post(f"/api/v1/batches/{scored_b.id}/theory-scores", files=files, headers=b_admin), 201)
    # The chief of B's panel countersigns the theory version: only then is it the scores (R-SCORE-3).
    sign = {"pin": PIN}
    url = f"/api/v1/batches/{scored_b.id}/theory-imports/{b_import['import_id']}/countersign"
    _ok(client.post(url, json=sign, headers=bearer(b_tok["x0"])), 200)
    _ok(client.post(f"/api/v1/batches/{scored_b.id}/publicity", headers=b_admin), 201)
    objection = {
        "candidate_id": scored_cands[0].id,
        "part": "skill",
        "reason": "对技能成绩有异议",
        "raised_by": "考生本人",
    }
    oid = _ok(client.post(f"/api/v1/batches/{scored_b.id}/objections", json=objection, headers=b_admin), 201)["id"]
    hold = {"object_type": "batch", "object_id": today_b.id, "reason": "投诉待查"}
    hid = _ok(client.post("/api/v1/holds", json=hold, headers=b_admin), 201)["id"]
    # A: yesterday's batch, one candidate scored by the whole panel: the chief reads every entry,
    # the evaluator only their own (R-SCORE-1).
    _sit(engine, "a-office", scored_a.id)
    for i, tok in enumerate((tokens["chief"], tokens["evaluator"], a_other)):
        assert tok is not None
        _pin(client, tok)
        entry = {"batch_id": scored_a.id, "candidate_id": scored_a_cands[0].id, "part": "skill", "pin": PIN}
        entry["items"] = {"A1": 30.0, "A2": 30.0, "A3": 10.0 + i}
        _ok(client.post("/api/v1/score-entries", json=entry, headers=bearer(tok)), 201)
    # A: the other examiner's declaration, which a colleague must not read (R-PRIV-1).
    conflict = {"kind": "colleague", "employer": "第一机械厂", "note": A_OTHER_EXAMINER_NOTE}
    _ok(client.post(f"/api/v1/staff/{ax[2].id}/conflicts", json=conflict, headers=bearer(a_other)), 201)

    with Session(engine) as db:
        b_aid, a_aid = _account_id(db, "b-examiner1"), _account_id(db, "a-examiner2")
        b_tid, a_tid = _token_id(db, "b-spare"), _token_id(db, "a-examiner2")
        batch_b = db.get(Batch, today_b.id)
        assert batch_b is not None and batch_b.status == "filed"
        db.commit()
    b = Ids(
        iid=bi,
        bid=today_b.id,
        scored_bid=scored_b.id,
        sid=b_sid,
        room_code=b_room,
        cid=cands_b[0].id,
        ticket_number=numbers[cands_b[0].id][0],
        scored_cid=scored_cands[0].id,
        ciid=b_ciid,
        staff_id=bx[1].id,
        aid=b_aid,
        kid=b_kid,
        hid=hid,
        oid=oid,
        import_id=b_import["import_id"],
        ticket=b_ticket,
        ticket_id_number=b_ticket_id,
        spare_token=b_tok["spare"],
        tid=b_tid,
        rkid=_recorder_key(client, b_admin, bi)[0],
        camera="B01-C1",
    )
    a_recorder = _recorder_key(client, a_admin, ai)
    spare_a = in_t02[2]
    a_ticket = texts[spare_a.id]
    a_room = Ids(
        iid=ai,
        bid=today_a.id,
        scored_bid=today_a.id,
        sid=a_sid,
        room_code="T02",
        cid=in_t02[0].id,
        ticket_number=numbers[in_t02[0].id][0],
        scored_cid=in_t02[0].id,
        ciid=a_ciid,
        staff_id=ax[2].id,
        aid=a_aid,
        kid=a_kid,
        ticket=a_ticket,
        ticket_id_number=spare_a.id_number,
        spare_token=a_other,
        tid=a_tid,
        rkid=a_recorder[0],
        camera="T02-C1",
    )
    a_examiner = Ids(
        **{**a_room.__dict__, "room_code": "T01", "scored_bid": scored_a.id, "scored_cid": scored_a_cands[0].id}
    )
    return RouteWorld(
        client=client,
        tokens=tokens,
        b=b,
        a_room=a_room,
        a_examiner=a_examiner,
        b_markers=[B_NAME, OTHER_USCC, NEW_IN_B_PROVINCE, *B_PEOPLE, *b_tickets],
        room_markers=[m for c in in_t02 for m in (c.name, numbers[c.id][0]) if m],
        recorder=a_recorder,
        examiner_markers=[A_OTHER_EXAMINER_NOTE, f'"examiner_id":{ax[2].id},'],
    )
