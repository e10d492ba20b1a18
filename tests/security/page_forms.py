"""The form posts of the pages (not in the OpenAPI document), for test_pages_by_role.py (issue #14).

Each form post calls the same service as its API twin; these rows check that the page's own
wrapping (a refused action shows the page again, with the reason) lets nothing of B through.
One form carries every field any of these pages reads, ids taken from B; the pages read the
fields they know and ignore the rest.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from examday.identity import make_id_number
from tests.security.world import OTHER_USCC, PIN, Ids

PUBLIC_POSTS = {"/login": "signing in", "/logout": "signing out (the caller's own session)"}
OWN_POSTS = {"/evaluate/pin/set"}  # the caller's own PIN: no id of anyone
# The centre's review of B's batch (R-CERT-1): only B's province's centre may act on it, and the
# centre of the callers' province (吉林) is refused before anything else is looked at (forbidden,
# never batch_not_locked), as are the institution's own office and everyone else.
CENTRE_POSTS = {
    "/centre/reviews/{bid}/review": "approve or return (decision, reasons)",
    "/centre/reviews/{bid}/report-received": "the reported data received",
}
# The centre's forms on its dashboard (issue #17, R-PUB-2): the keys form names B (四川), so the
# centre of 吉林 is refused (forbidden) and the installation administrator gets past the access
# decision to the keys file's own fault; the package form's file is no package (package_unreadable).
CENTRE_FORMS = {
    "/centre/reports/keys": ("register B's public keys (uscc, province, the ticket-keys JSON)", 403, 422),
    "/centre/reports/package": ("a package brought on a USB stick", 422, 422),
}
# Pages about a batch's scores name the batch in publicity and its candidate.
SCORED_PREFIXES = ("/evaluate/", "/office/batches/{bid}/scores")


def page_form(i: Ids) -> dict[str, Any]:
    return {
        "institution_id": i.iid,
        "iid": i.iid,
        "occupation_code": "6-31-01-03",
        "level": "4",
        "exam_date": "2027-03-18",
        "room_code": i.room_code,
        "session_id": str(i.sid),  # the exam-room record's forms (issue #16)
        "reason": "检查",
        "seed": "3",
        "confirm": "1",
        "ticket_number": i.ticket_number,
        "seat": "29",
        "code": "T09",
        "name": "新来的人",
        "kind": "theory",
        "seats": "30",
        "id_number": make_id_number(date(1980, 5, 6), seq=56),
        "role_staff": "on",
        "decision": "rejected",  # an objection's; the centre's review reads approve/return
        "reasons": "签到表缺页\n督导报告未附",
        "candidate_id": str(i.scored_cid),
        "part": "skill",
        "raised_by": "考生本人",
        "institution_code": "0000",  # the certificates' form (R-FMT-CERT)
        "site_serial": "000012",
        "pin": PIN,
        "pin_again": PIN,
        "chief": str(i.staff_id),
        "examiners": str(i.staff_id),
        "action": "accept",
        "A1": "40",
        "A2": "35",
        "A3": "25",
        "uscc": OTHER_USCC,  # the centre's keys form names B (四川): only B's province's centre may register
        "province": "四川",
    }


def page_files(path: str) -> dict[str, Any] | None:
    if path.endswith("/candidates"):
        number = make_id_number(date(1992, 3, 4), seq=78)
        text = f"name,id_number,employer,training_org,phone\n插入者,{number},某厂,某校,13800000000\n"
        return {"file": ("c.csv", io.BytesIO(text.encode()), "text/csv")}
    if path.endswith("/photo"):  # the office's candidate page (issue #16): a real JPEG
        from PIL import Image

        out = io.BytesIO()
        Image.new("RGB", (60, 80), (200, 180, 160)).save(out, "JPEG")
        return {"file": ("p.jpg", io.BytesIO(out.getvalue()), "image/jpeg")}
    if path == "/centre/reports/keys":  # a key not matching its id: past the access decision, still refused
        return {
            "file": ("keys.json", io.BytesIO(b'{"keys": [{"kid": "00000000", "public_key": "AAAA"}]}'), "text/json")
        }
    if path == "/centre/reports/package":  # no package at all: refused as unreadable, nothing received
        return {"file": ("report.zip", io.BytesIO(b"PK not a package"), "application/zip")}
    if path.endswith("/theory"):
        return {"file": ("t.csv", io.BytesIO(b"ticket_number,score\n000100001,99\n"), "text/csv")}
    return None


def page_url(path: str, i: Ids) -> str:
    scored = path.startswith(SCORED_PREFIXES)
    return path.format(
        bid=i.scored_bid if scored else i.bid,
        cid=i.scored_cid if scored else i.cid,
        part="skill",
        oid=i.oid,
        iid=i.iid,  # the installation administrator's institution pages (issue #16)
    )
