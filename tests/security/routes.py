"""Every operation of the OpenAPI document, classified for the route-by-role test (issue #14).

A row says how to call the operation with another institution's ids, or why it is public:

- ``public``: anyone may call it; the reason is written down (sent anyway, never judged a leak);
- ``foreign``: the call names B's objects (path or body): a 2xx to anyone but the installation
  administrator is a leak;
- ``own``: the call names nothing of B (lists, the caller's own things): a 2xx is fine, but the
  answer must not carry B's data.

``room``: the A proctor (who watches T01) also calls it with A's batch and room T02, its
candidates and check-in; ``examiner``: A's evaluator and chief also call it with another
examiner of A. A body is derived from the request schema (required properties, ids taken from
the same table as the path) and completed by the row's overrides, so that the call gets past
validation to the authorization decision.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from examday.identity import make_id_number
from tests.security.world import NEW_IN_B_PROVINCE, PIN, RUBRIC, Ids, fresh_uscc

Body = Callable[[Ids], Any]


@dataclass(frozen=True)
class Route:
    kind: str  # public | foreign | own
    body: Body | None = None  # overrides on the derived body (a dict), or the whole body (a list)
    files: Callable[[Ids], dict[str, Any]] | None = None  # multipart
    query: Callable[[Ids], dict[str, Any]] = lambda _: {}
    scored: bool = False  # {bid}, {candidate_id} name the batch in publicity, not today's
    room: bool = False
    examiner: bool = False
    readers: tuple[str, ...] = ()  # roles that may read the other examiner's answer
    why: str = ""  # for public rows: why anyone may call it
    sync: bool = False  # POST /checkins/sync answers 200 with one result per record
    signed: bool = False  # also sent signed with A's recorder key (issue #14)
    pending: bool = False  # being added by another change: not served yet is not a stale row


def csv_file(name: str, text: str) -> dict[str, Any]:
    return {"file": (name, io.BytesIO(text.encode()), "text/csv")}


def _jpeg(_: Ids) -> dict[str, Any]:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 200, 200)).save(buf, "JPEG")
    return {"file": ("photo.jpg", io.BytesIO(buf.getvalue()), "image/jpeg")}


def _candidates_csv(_: Ids) -> dict[str, Any]:
    number = make_id_number(date(1992, 3, 4), seq=77)
    return csv_file("c.csv", f"name,id_number,employer,training_org,phone\n插入者,{number},某厂,某校,13800000000\n")


def _theory_csv(_: Ids) -> dict[str, Any]:
    return csv_file("theory.csv", "ticket_number,score\n000100001,99\n")


def _incident(i: Ids) -> dict[str, Any]:
    return {"room_code": i.room_code, "candidate_id": i.cid, "kind": "disturbance", "description": "大声喧哗"}


def _hook(i: Ids) -> dict[str, Any]:
    room = i.camera.split("-")[0]
    return {"event": "camera_offline", "camera": i.camera, "room_code": room, "at": "2026-11-26T08:40:00+08:00"}


def _scan(_: Ids) -> dict[str, Any]:
    return {"kind": (None, "pledge"), "file": ("pledge.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "application/pdf")}


RECORD = "/api/v1/batches/{bid}/sessions/{sid}/rooms/{room_code}/record"
ROOT_IS_NOT_THE_ROLE = "the operation is for one role the installation administrator does not hold"

ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/health"): Route("public", why="the liveness probe of load balancers; names no institution"),
    ("GET", "/api/v1/me"): Route("own"),
    ("POST", "/api/v1/accounts"): Route(
        "foreign", body=lambda i: {"username": f"leak-{uuid.uuid4().hex[:8]}", "role": "kiosk", "institution_id": i.iid}
    ),
    ("POST", "/api/v1/tokens/revoke"): Route("foreign", body=lambda i: {"token": i.spare_token}),
    ("POST", "/api/v1/me/pin"): Route("own", body=lambda _: {"pin": "135790"}),
    ("POST", "/api/v1/accounts/{aid}/pin-reset"): Route("foreign", examiner=True),
    ("GET", "/api/v1/me/tokens"): Route("own"),
    ("GET", "/api/v1/accounts/{aid}/tokens"): Route("foreign", examiner=True),
    ("POST", "/api/v1/tokens/{tid}/revoke"): Route("foreign", examiner=True),
    ("GET", "/api/v1/institutions"): Route("own"),
    ("GET", "/api/v1/centre/blocked-batches"): Route("own"),
    ("GET", "/api/v1/centre/notices"): Route("own"),
    ("GET", "/api/v1/institutions/{iid}/recorder-keys"): Route("foreign"),
    ("POST", "/api/v1/institutions/{iid}/recorder-keys"): Route("foreign", body=lambda _: {"label": "冒领"}),
    ("POST", "/api/v1/institutions/{iid}/recorder-keys/{kid}/rotate"): Route("foreign"),
    ("DELETE", "/api/v1/institutions/{iid}/recorder-keys/{kid}"): Route("foreign"),
    ("POST", "/api/v1/institutions"): Route(
        "foreign",
        body=lambda _: {
            "name": NEW_IN_B_PROVINCE,
            "uscc": fresh_uscc(),
            "province": "四川",
            "filing": {"number": "SC-2026-009", "valid_from": "2026-01-01", "valid_until": "2028-12-31"},
            "scope": [{"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": [5, 4]}],
        },
    ),
    ("GET", "/api/v1/institutions/{iid}"): Route("foreign"),
    ("PUT", "/api/v1/institutions/{iid}/kind"): Route("foreign", body=lambda _: {"kind": "enterprise"}),
    ("POST", "/api/v1/institutions/{iid}/filing"): Route(
        "foreign", body=lambda _: {"action": "suspend", "reason": "整改"}
    ),
    ("GET", "/api/v1/institutions/{iid}/rooms"): Route("foreign"),
    ("POST", "/api/v1/institutions/{iid}/rooms"): Route(
        "foreign",
        body=lambda _: {
            "code": "T09",
            "name": "理论考场9",
            "kind": "theory",
            "seats": 30,
            "rows": 5,
            "cols": 6,
            "cameras": [{"code": "T09-C1", "name": "前方"}],
        },
    ),
    ("GET", "/api/v1/institutions/{iid}/staff"): Route("foreign"),
    ("POST", "/api/v1/institutions/{iid}/staff"): Route(
        "foreign",
        body=lambda _: {
            "name": "新来的人",
            "id_number": make_id_number(date(1980, 5, 6), seq=55),
            "roles": ["staff"],
            "full_time": True,
            "title": "none",
            "occupations": [],
        },
    ),
    # R-PRIV-1: the chief examiner reads the panel's declarations (CONFLICT_READERS); colleagues do not.
    ("GET", "/api/v1/staff/{sid}/conflicts"): Route("foreign", examiner=True, readers=("chief",)),
    ("POST", "/api/v1/staff/{sid}/conflicts"): Route(
        "foreign", body=lambda _: {"kind": "colleague", "employer": "第九机械厂", "note": "代为声明"}, examiner=True
    ),
    ("POST", "/api/v1/calendar/notices"): Route("own", body=lambda _: {"year": 2031, "holidays": ["2031-01-01"]}),
    ("GET", "/api/v1/calendar/{year}"): Route("own"),
    ("GET", "/api/v1/batches"): Route("own", query=lambda _: {"date": "2026-11-26"}),
    ("POST", "/api/v1/batches"): Route(
        "foreign",
        body=lambda i: {
            "institution_id": i.iid,
            "occupation_code": "6-31-01-03",
            "level": 4,
            "exam_date": "2027-03-18",
            "parts": ["theory", "skill"],
            "sessions": [],
        },
    ),
    ("GET", "/api/v1/batches/{bid}"): Route("foreign", room=True),
    ("PATCH", "/api/v1/batches/{bid}"): Route("foreign", body=lambda _: {"occupation_name": "电工"}),
    ("GET", "/api/v1/batches/{bid}/candidates"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/candidates"): Route("foreign", files=_candidates_csv),
    ("POST", "/api/v1/batches/{bid}/eligibility"): Route(
        "foreign", body=lambda i: {"candidate_ids": [i.cid], "decision": "eligible"}
    ),
    ("GET", "/api/v1/batches/{bid}/check"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/file"): Route("foreign"),
    ("POST", "/api/v1/batches/{bid}/withdraw"): Route("foreign", body=lambda _: {"reason": "改期"}),
    ("POST", "/api/v1/batches/{bid}/candidates/{cid}/withdraw"): Route("foreign", body=lambda _: {"reason": "弃考"}),
    ("GET", "/api/v1/batches/{bid}/seating"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/seating"): Route("foreign", body=lambda _: {"seed": 3}),
    ("GET", "/api/v1/batches/{bid}/seating/check"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/seating/moves"): Route(
        "foreign",
        body=lambda i: {"ticket_number": i.ticket_number, "room_code": i.room_code, "seat": 29, "reason": "桌椅损坏"},
        room=True,
    ),
    ("POST", "/api/v1/batches/{bid}/rooms/{room_code}/drop"): Route(
        "foreign", body=lambda _: {"reason": "空调故障"}, room=True
    ),
    ("POST", "/api/v1/batches/{bid}/stations"): Route("foreign", body=lambda _: {"seed": 3}),
    ("GET", "/api/v1/batches/{bid}/rooms/{room_code}/chart.png"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/rooms/{room_code}/door-list.png"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/rooms/{room_code}/signin-sheet.png"): Route("foreign", room=True),
    ("GET", "/api/v1/candidates/{cid}/ticket.png"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/tickets.pdf"): Route("foreign", room=True),
    ("POST", "/api/v1/candidates/{cid}/ticket/reissue"): Route("foreign"),
    ("GET", "/api/v1/candidates/{cid}/photo"): Route("foreign", room=True),
    ("POST", "/api/v1/candidates/{cid}/photo"): Route("foreign", files=_jpeg),
    ("GET", "/api/v1/institutions/{iid}/ticket-keys"): Route("foreign"),
    ("POST", "/api/v1/institutions/{iid}/ticket-keys/rotate"): Route("foreign"),
    ("POST", "/api/v1/institutions/{iid}/ticket-keys/{kid}/revoke"): Route(
        "foreign", body=lambda _: {"reissue": False}
    ),
    ("GET", "/api/v1/holds"): Route("own"),
    ("POST", "/api/v1/holds"): Route(
        "foreign", body=lambda i: {"object_type": "batch", "object_id": i.bid, "reason": "投诉待查"}
    ),
    ("POST", "/api/v1/holds/{hid}/release"): Route("foreign", body=lambda _: {"reason": "已查清"}),
    ("GET", "/api/v1/retention"): Route("own"),
    # A batch's archive (R-ARCH-1): its office, supervisor and province's centre read it, its office adds scans.
    ("GET", "/api/v1/batches/{bid}/archive"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/archive"): Route("foreign", files=_scan),
    ("GET", "/api/v1/batches/{bid}/archive/{did}"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/sessions/{sid}/rooms/{room_code}/signin-sheet.pdf"): Route("foreign", room=True),
    # R-VIDEO-1: the installation administrator or the province's centre, never the office itself.
    ("PUT", "/api/v1/institutions/{iid}/retention-profile"): Route("foreign", body=lambda _: {"profile": "strict"}),
    ("POST", "/api/v1/checkins"): Route(
        "foreign", body=lambda i: {"ticket": i.ticket, "id_number": i.ticket_id_number, "kiosk_nonce": uuid.uuid4().hex}
    ),
    ("POST", "/api/v1/checkins/sync"): Route(
        "foreign",
        body=lambda i: [
            {
                "ticket": i.ticket,
                "id_number": i.ticket_id_number,
                "kiosk_nonce": uuid.uuid4().hex,
                "scanned_at": "2026-11-26T08:39:00+08:00",
            }
        ],
        sync=True,
    ),
    ("GET", "/api/v1/batches/{bid}/roster"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/checkins"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/offline-conflicts"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/candidates/search"): Route("foreign", query=lambda _: {"q": "欧阳"}, room=True),
    ("GET", "/api/v1/checkin-batches"): Route("own"),
    ("GET", "/api/v1/checkins/{ciid}/photo"): Route("foreign", room=True),
    ("GET", "/api/v1/batches/{bid}/rooms"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/incidents"): Route("foreign", body=_incident, room=True),
    ("POST", "/api/v1/batches/{bid}/admissions"): Route(
        "foreign",
        body=lambda i: {"room_code": i.room_code, "candidate_id": i.cid, "reason": "身份证遗失，核验户籍证明"},
        room=True,
    ),
    ("POST", "/api/v1/batches/{bid}/seat-moves"): Route(
        "foreign",
        body=lambda i: {"room_code": i.room_code, "candidate_id": i.cid, "to_seat": 29, "reason": "桌椅损坏"},
        room=True,
    ),
    ("POST", "/api/v1/batches/{bid}/hand-ins"): Route(
        "foreign", body=lambda i: {"room_code": i.room_code, "candidate_id": i.cid}, room=True
    ),
    ("GET", RECORD): Route("foreign", room=True),
    ("POST", RECORD): Route("foreign", body=lambda _: {"remarks": "考场秩序良好"}, room=True),
    ("POST", RECORD + "/confirm"): Route("foreign", body=lambda _: {}, room=True),
    ("POST", RECORD + "/amend"): Route("foreign", body=lambda _: {"text": "补记", "reason": "漏记"}, room=True),
    ("GET", RECORD + ".png"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/supervision/findings"): Route(
        "foreign", body=lambda _: {"area": "organisation", "text": "考务有序"}
    ),
    ("POST", "/api/v1/batches/{bid}/supervision/report"): Route(
        "foreign",
        body=lambda _: {
            "organisation": "良好",
            "eligibility": "良好",
            "questions_examiners": "良好",
            "rooms_equipment": "良好",
            "fees": "良好",
            "opinion": "valid",
        },
    ),
    ("GET", "/api/v1/batches/{bid}/supervision"): Route("foreign", room=True),
    # Signed with a recorder key or the hook secret, not a bearer token: no caller holds one, and
    # A's recorder, which holds A's key, may not report on B's camera.
    ("POST", "/api/v1/hooks/recorder"): Route("foreign", body=_hook, signed=True),
    ("GET", "/api/v1/batches/{bid}/coverage"): Route("foreign", room=True),
    ("POST", "/api/v1/batches/{bid}/coverage/verify"): Route("foreign", body=lambda _: {"deep": False}),
    ("GET", "/api/v1/batches/{bid}/rubrics/{part}"): Route("foreign", scored=True),
    ("PUT", "/api/v1/batches/{bid}/rubrics/{part}"): Route("foreign", body=lambda _: {"items": RUBRIC}, scored=True),
    ("GET", "/api/v1/batches/{bid}/panels"): Route("foreign", scored=True),
    ("POST", "/api/v1/batches/{bid}/panels"): Route(
        "foreign", body=lambda i: {"part": "skill", "examiner_ids": [i.staff_id], "chief_id": i.staff_id}, scored=True
    ),
    ("POST", "/api/v1/score-entries"): Route(
        "foreign",
        body=lambda i: {
            "batch_id": i.scored_bid,
            "candidate_id": i.scored_cid,
            "part": "skill",
            "items": {"A1": 40, "A2": 35, "A3": 25},
            "pin": PIN,
        },
        scored=True,
    ),
    # The contract: admin and chief read every entry, an evaluator only their own (R-SCORE-1).
    ("GET", "/api/v1/batches/{bid}/scores"): Route("foreign", scored=True, examiner=True, readers=("chief",)),
    ("POST", "/api/v1/batches/{bid}/theory-scores"): Route("foreign", files=_theory_csv, scored=True),
    # The chief of B's panel countersigns B's theory versions (R-SCORE-3, R-PANEL-1); all may read them who read scores.
    ("GET", "/api/v1/batches/{bid}/theory-imports"): Route("foreign", scored=True),
    ("POST", "/api/v1/batches/{bid}/theory-imports/{import_id}/countersign"): Route(
        "foreign", body=lambda _: {"pin": PIN}, scored=True
    ),
    ("POST", "/api/v1/batches/{bid}/absences"): Route(
        "foreign", body=lambda i: {"candidate_id": i.scored_cid, "part": "skill"}, scored=True
    ),
    ("POST", "/api/v1/batches/{bid}/arbitrations/{candidate_id}/{part}"): Route(
        "foreign", body=lambda _: {"action": "accept", "reason": "复核"}, scored=True
    ),
    ("GET", "/api/v1/batches/{bid}/arbitrations"): Route("foreign", scored=True),
    ("POST", "/api/v1/batches/{bid}/publicity"): Route("foreign", scored=True),
    ("GET", "/public/batches/{bid}/publicity"): Route(
        "public", scored=True, why="the publicity (公示) is public by law (R-PUB-1): names and ID numbers masked"
    ),
    ("GET", "/api/v1/batches/{bid}/objections"): Route("foreign", scored=True),
    ("POST", "/api/v1/batches/{bid}/objections"): Route(
        "foreign",
        body=lambda i: {"candidate_id": i.scored_cid, "part": "skill", "reason": "有异议", "raised_by": "考生本人"},
        scored=True,
    ),
    ("POST", "/api/v1/objections/{oid}/resolve"): Route(
        "foreign", body=lambda _: {"decision": "rejected", "reason": "评分有据"}, scored=True
    ),
    ("POST", "/api/v1/batches/{bid}/lock"): Route("foreign", scored=True),
    ("GET", "/api/v1/batches/{bid}/seal"): Route("foreign", scored=True),
    ("GET", "/api/v1/batches/{bid}/results.csv"): Route("foreign", scored=True),
    ("GET", "/api/v1/batches/{bid}/results.xlsx"): Route("foreign", scored=True),
    ("GET", "/api/v1/batches/{bid}/certificates"): Route("foreign", scored=True),
    ("POST", "/api/v1/batches/{bid}/certificates"): Route(
        "foreign", body=lambda _: {"kind": "Y", "institution_code": "0000", "site_serial": "000001"}, scored=True
    ),
    ("GET", "/api/v1/batches/{bid}/certificates.csv"): Route("foreign", scored=True),
    # The centre's review (复核, R-CERT-1) and its receipt of the data (R-PUB-2): the centre of B's province
    # or the installation administrator, never B's own office; B's office, supervisor and centre read it.
    ("POST", "/api/v1/batches/{bid}/review"): Route(
        "foreign", body=lambda _: {"decision": "return", "reasons": ["签到表缺页"]}, scored=True
    ),
    ("GET", "/api/v1/batches/{bid}/review"): Route("foreign", scored=True),
    ("POST", "/api/v1/batches/{bid}/report-received"): Route("foreign", scored=True),
    ("GET", "/api/v1/centre/reviews"): Route("own"),
    # The report to the centre (数据上报, R-PUB-2, issue #17): B's package (full ID numbers) goes to B's
    # office, B's province's centre and the installation administrator only (R-PRIV-1).
    ("GET", "/api/v1/batches/{bid}/report.zip"): Route("foreign", scored=True),
    ("GET", "/api/v1/batches/{bid}/report-push"): Route("foreign", scored=True),
    # Hashes of the installation's chain only, no entry's content (R-AUDIT-1, R-PRIV-1).
    ("GET", "/api/v1/audit/proof"): Route("foreign", query=lambda i: {"since": 1, "institution": i.iid}),
    # A centre's side: an unreadable body is refused before anything names an institution.
    ("POST", "/api/v1/centre/reports"): Route("own"),
    ("POST", "/api/v1/centre/institution-keys"): Route(
        "own", body=lambda _: {"uscc": "91350200776049653A", "province": "四川", "keys": []}
    ),
    ("GET", "/api/v1/centre/institution-keys"): Route("own", query=lambda _: {"uscc": "91350200776049653A"}),
    ("POST", "/api/v1/centre/report-tokens"): Route("own", body=lambda _: {"uscc": "91350200776049653A"}),
    ("GET", "/api/v1/centre/checkpoints"): Route("own", query=lambda _: {"uscc": "91350200776049653A"}),
    ("GET", "/api/v1/centre/received-reports"): Route("own"),
}

# Operations the installation administrator's call cannot get past validation or the role guard
# with, and why (the check that the table's bodies reach the decision skips them for root).
ROOT_CANNOT_REACH: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/me/pin"): ROOT_IS_NOT_THE_ROLE,
}


@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    files: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def fill(path: str, ids: Ids, route: Route) -> str:
    """The path with its parameters taken from ``ids`` (the session for /sessions/{sid}, the staff
    member for /staff/{sid})."""
    values: dict[str, Any] = {
        "iid": ids.iid,
        "bid": ids.scored_bid if route.scored else ids.bid,
        "cid": ids.cid,
        "candidate_id": ids.scored_cid if route.scored else ids.cid,
        "ciid": ids.ciid,
        "room_code": ids.room_code,
        "kid": ids.rkid if "/recorder-keys/" in path else ids.kid,
        "tid": ids.tid,
        "hid": ids.hid,
        "oid": ids.oid,
        "import_id": ids.import_id,
        "aid": ids.aid,
        "did": 1,  # an archived document: the batch decides who may read it, before the document
        "sid": ids.staff_id if path.startswith("/api/v1/staff/") else ids.sid,
        "part": "skill",
        "year": 2026,
    }
    return path.format(**values)


_ID_PROPERTIES = {
    "institution_id": "iid",
    "batch_id": "bid",
    "candidate_id": "cid",
    "session_id": "sid",
    "staff_id": "staff_id",
    "object_id": "bid",
}


def derived_body(schema: dict[str, Any], components: dict[str, Any], ids: Ids) -> Any:
    """A minimal instance of a request schema: its required properties, ids from ``ids``."""
    if "$ref" in schema:
        return derived_body(components[schema["$ref"].split("/")[-1]], components, ids)
    if "oneOf" in schema:
        return derived_body(schema["oneOf"][0], components, ids)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        out = {}
        for name in schema.get("required", []):
            if name in _ID_PROPERTIES:
                out[name] = getattr(ids, _ID_PROPERTIES[name])
            else:
                out[name] = derived_body(props.get(name, {}), components, ids)
        return out
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in schema:
        return schema["enum"][0]
    return {"array": [], "integer": 1, "number": 1, "boolean": False, "string": "示例"}.get(kind or "string", "示例")


def call_for(method: str, path: str, op: dict[str, Any], components: dict[str, Any], ids: Ids, route: Route) -> Call:
    call = Call(method, fill(path, ids, route), params=route.query(ids))
    if route.files is not None:
        call.files = route.files(ids)
        return call
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content or route.body is not None:
        schema = content.get("application/json", {}).get("schema", {})
        derived = derived_body(schema, components, ids) if schema else {}
        extra = route.body(ids) if route.body is not None else {}
        call.json = {**derived, **extra} if isinstance(derived, dict) and isinstance(extra, dict) else extra
    return call
