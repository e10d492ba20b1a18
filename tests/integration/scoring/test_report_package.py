"""The signed report package and the centre's verification of it (issue #17, R-PUB-2, R-CERT-1, R-AUDIT-1).

One installation plays both parts here (an installation may be an institution and a centre);
tests/e2e/test_report_two_servers.py runs them as two real server processes.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, select

from examday import keys
from examday.registry.models import Institution
from scoring.report_models import ReceivedReport
from tests.integration.scoring.test_exports import AFTER_END
from tests.support import assert_refusal, bearer

PROVINCE = "吉林"


def fetch(sw, headers=None):
    return sw.client.get(f"/api/v1/batches/{sw.batch_id}/report.zip", headers=headers or sw.admin)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files.items():
            z.writestr(n, d)
    return buf.getvalue()


def uscc_of(sw) -> str:
    with Session(sw.engine) as db:
        return db.get(Institution, sw.institution_id).uscc


def register(sw, world, centre: dict[str, str] | None = None) -> dict[str, str]:
    """The centre of 吉林 registers the institution's public keys, as its ticket-keys lists them
    (again, with ``centre``'s headers, after a rotation)."""
    centre = centre or bearer(world.token("centre-reports", "centre", None, province=PROVINCE))
    listed = sw.client.get(f"/api/v1/institutions/{sw.institution_id}/ticket-keys", headers=sw.admin).json()
    r = sw.client.post(
        "/api/v1/centre/institution-keys",
        headers=centre,
        json={
            "uscc": uscc_of(sw),
            "province": PROVINCE,
            "name": "机构",
            "keys": listed["keys"],
            "revoked_kids": listed["revoked_kids"],
        },
    )
    assert r.status_code == 201, r.text
    return centre


def send(sw, data: bytes, headers):
    return sw.client.post(
        "/api/v1/centre/reports", content=data, headers={**headers, "Content-Type": "application/zip"}
    )


def test_r_pub_2_no_package_before_the_centre_approves(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    assert_refusal(fetch(sw), 409, "batch_not_locked", "R-PUB-2")
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    assert_refusal(fetch(sw), 409, "review_pending", "R-CERT-1")


def test_r_pub_2_the_package_is_signed_and_lists_every_file(approved):
    r = fetch(approved)
    assert r.status_code == 200, r.text
    files = members(r.content)
    manifest, sig = json.loads(files["manifest.json"]), json.loads(files["manifest.sig"])
    assert {"results.csv", "results.xlsx", "certificates.csv"} <= set(files)
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json", "manifest.sig"}
    import hashlib

    assert all(hashlib.sha256(files[p]).hexdigest() == h for p, h in listed.items())
    assert manifest["institution"]["uscc"] == uscc_of(approved)
    assert manifest["counts"]["candidates"] == 4 and manifest["counts"]["sealed_results"] == 4
    assert manifest["seal"]["digest"] in files["results.csv"].decode("utf-8-sig")
    assert manifest["checkpoint"]["reason"] == "lock" and manifest["checkpoint"]["seq"] > 0
    # Verified with nothing but the public key the institution publishes (docs/report-format.md).
    published = approved.client.get(
        f"/api/v1/institutions/{approved.institution_id}/ticket-keys", headers=approved.admin
    ).json()
    public = next(k["public_key"] for k in published["keys"] if k["kid"] == sig["kid"])
    s = sig["signature"]
    Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(
        base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), files["manifest.json"]
    )


def test_r_priv_1_who_may_fetch_the_package(approved, world):
    assert fetch(approved, approved.centre).status_code == 200  # the province's centre
    other = bearer(world.token("centre-sc", "centre", None, province="四川"))
    assert_refusal(fetch(approved, other), 403, "forbidden")
    assert_refusal(fetch(approved, approved.scorer(0)), 403, "forbidden")
    supervisor = bearer(world.token("sup", "supervisor", approved.institution_id))
    assert_refusal(fetch(approved, supervisor), 403, "forbidden")


def test_r_pub_2_the_centre_accepts_a_sound_package_once(approved, world):
    centre = register(approved, world)
    data = fetch(approved).content
    r = send(approved, data, centre)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted" and r.json()["batch_ref"] == approved.batch_id
    again = send(approved, data, centre)
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    held = approved.client.get("/api/v1/centre/checkpoints", params={"uscc": uscc_of(approved)}, headers=centre).json()
    assert any(c["reason"] == "lock" for c in held)


def test_r_pub_2_a_report_token_sends_its_own_institution_only(approved, world):
    centre = register(approved, world)
    token = approved.client.post(
        "/api/v1/centre/report-tokens", json={"uscc": uscc_of(approved)}, headers=centre
    ).json()["report_token"]
    assert send(approved, fetch(approved).content, bearer(token)).status_code == 201
    assert_refusal(send(approved, fetch(approved).content, bearer("rpt_nonsense")), 401, "unauthenticated")


def test_r_pub_2_one_byte_changed_is_refused(approved, world):
    centre = register(approved, world)
    files = members(fetch(approved).content)
    files["results.csv"] = files["results.csv"].replace("合格".encode(), "不合格".encode(), 1)
    assert_refusal(send(approved, rezip(files), centre), 422, "package_file_mismatch", "R-PUB-2")
    raw = bytearray(fetch(approved).content)
    raw[len(raw) // 2] ^= 0x01  # a byte flipped inside the ZIP itself
    r = send(approved, bytes(raw), centre)
    assert r.status_code == 422 and r.json()["code"] in (
        "package_file_mismatch",
        "package_signature_invalid",
        "package_unreadable",
    )
    with Session(approved.engine) as db:  # the refusals are kept for the centre's dashboard
        refused = db.exec(select(ReceivedReport).where(ReceivedReport.status == "refused")).all()
    assert {r.code for r in refused} >= {"package_file_mismatch"}


def test_r_pub_2_a_byte_flipped_anywhere_is_refused_never_a_server_error(approved, world):
    """A flip inside a member's compressed bytes made zlib raise where the package was read: a 500
    instead of the refusal (found by the journeys, issue #16). Every one of 80 places answers 422,
    or is accepted only where the files read back unchanged (bits deflate never reads)."""
    centre = register(approved, world)
    good = fetch(approved).content
    for i in range(80):
        raw = bytearray(good)
        raw[len(raw) * i // 80] ^= 0x01
        r = send(approved, bytes(raw), centre)
        assert r.status_code in (201, 422), (i, r.status_code, r.text[:200])
        if r.status_code == 201:
            assert members(bytes(raw)) == members(good), i


def test_r_pub_2_an_unknown_key_is_refused(approved, world):
    centre = register(approved, world)
    files = members(fetch(approved).content)
    stranger = Ed25519PrivateKey.generate()
    sig = json.loads(files["manifest.sig"])
    sig["signature"] = base64.urlsafe_b64encode(stranger.sign(files["manifest.json"])).decode().rstrip("=")
    sig["kid"] = "0" * 16
    files["manifest.sig"] = json.dumps(sig).encode()
    assert_refusal(send(approved, rezip(files), centre), 422, "unknown_institution_key", "R-PUB-2")
    # The registered kid with another key's signature: the signature does not verify.
    files = members(fetch(approved).content)
    sig = json.loads(files["manifest.sig"])
    sig["signature"] = base64.urlsafe_b64encode(stranger.sign(files["manifest.json"])).decode().rstrip("=")
    files["manifest.sig"] = json.dumps(sig).encode()
    assert_refusal(send(approved, rezip(files), centre), 422, "package_signature_invalid", "R-PUB-2")


def resign(sw, files: dict[str, bytes], change) -> bytes:
    """The institution itself signs a manifest it changed: a signature proves who, not what is true."""
    manifest = json.loads(files["manifest.json"])
    change(manifest)
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with Session(sw.engine) as db:
        kid, signature = keys.sign(db, sw.institution_id, body, manifest_time(manifest))
        db.commit()
    files = {**files, "manifest.json": body, "manifest.sig": json.dumps({"kid": kid, "signature": signature}).encode()}
    return rezip(files)


def manifest_time(manifest):
    from datetime import datetime

    return datetime.fromisoformat(manifest["created_at"])


def test_r_pub_2_counts_that_disagree_with_the_files_are_refused(approved, world):
    centre = register(approved, world)
    files = members(fetch(approved).content)

    def more(m):
        m["counts"]["passed"] += 1

    assert_refusal(send(approved, resign(approved, files, more), centre), 422, "package_counts_mismatch", "R-PUB-2")

    def other_seal(m):
        m["seal"]["digest"] = "0" * 64

    assert_refusal(send(approved, resign(approved, files, other_seal), centre), 422, "package_seal_invalid")


def test_r_pub_2_only_the_provinces_centre_registers_and_receives(approved, world):
    register(approved, world)
    other = bearer(world.token("centre-sc2", "centre", None, province="四川"))
    assert_refusal(send(approved, fetch(approved).content, other), 403, "forbidden")
    # An institution's office or a scorer is no centre: refused before the package is read, and
    # nothing is kept of it (no refused rows from anyone signed in).
    assert_refusal(send(approved, b"not a zip", approved.admin), 403, "forbidden")
    assert_refusal(send(approved, b"not a zip", approved.scorer(0)), 403, "forbidden")
    with Session(approved.engine) as db:
        assert db.exec(select(ReceivedReport)).all() == []
    r = approved.client.post(
        "/api/v1/centre/institution-keys",
        headers=other,
        json={"uscc": uscc_of(approved), "province": "四川", "keys": []},
    )
    assert_refusal(r, 403, "forbidden")


def file_room_record(sw, world, part: str = "theory") -> None:
    """The first proctor of the part's first room produces its exam-room record (R-DAY-3): archived
    with the ended session's sign-in sheets."""
    from examday.plans.models import ExamSession, ProctorAssignment
    from examday.registry.models import Room

    with Session(sw.engine) as db:
        sid = db.exec(
            select(ExamSession.id).where(ExamSession.batch_id == sw.batch_id, ExamSession.part == part)
        ).first()
        first = db.exec(
            select(ProctorAssignment).where(ProctorAssignment.session_id == sid).order_by(ProctorAssignment.id)
        ).first()
        code = db.get(Room, first.room_id).code
    proctor = bearer(world.token("proctor-record", "proctor", sw.institution_id, staff_id=first.staff_id))
    url = f"/api/v1/batches/{sw.batch_id}/sessions/{sid}/rooms/{code}/record"
    r = sw.client.post(url, headers=proctor, json={})
    assert r.status_code == 201, r.text


def file_supervision_report(sw, world) -> None:
    """The quality supervisor files the report (R-SUP-1), archived as the batch's supervision_form."""
    from tests.integration.proctor.test_supervision import REPORT

    supervisor = bearer(world.token("supervisor", "supervisor", sw.institution_id))
    r = sw.client.post(f"/api/v1/batches/{sw.batch_id}/supervision/report", headers=supervisor, json=REPORT)
    assert r.status_code == 201, r.text


def test_r_pub_2_the_package_holds_the_records_as_pdf_and_names_the_filing(sw, world, clock):
    """Issue #17, R-PUB-2: the package carries the sign-in sheets, the exam-room records and the
    supervision report as PDF under ``records/``, each listed in the manifest with its SHA-256;
    the manifest names the filing number, the occupation and the level."""
    import hashlib

    file_room_record(sw, world)
    file_supervision_report(sw, world)
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200  # the lock archives every ended session's sign-in sheets
    sw.approve()
    r = fetch(sw)
    assert r.status_code == 200, r.text
    files = members(r.content)
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    records = sorted(p for p in files if p.startswith("records/"))
    kinds = {p.removeprefix("records/").split("-", 1)[0] for p in records}
    assert kinds == {"sign_in_sheet", "room_record", "supervision_form"}, records
    for path in records:
        assert files[path].startswith(b"%PDF-") and path.endswith(".pdf"), path
        assert listed[path]["sha256"] == hashlib.sha256(files[path]).hexdigest()
        assert listed[path]["size"] == len(files[path])
    assert manifest["institution"]["filing_number"] == "JL-2025-001"  # tests/builders.py's filing
    batch = manifest["batch"]
    assert (batch["occupation_code"], batch["occupation_name"], batch["level"]) == ("6-31-01-03", "电工", 4)
    centre = register(sw, world)
    assert send(sw, r.content, centre).status_code == 201  # and the centre verifies it whole
    html = sw.client.get("/centre/reports", headers=centre).text  # filed on time, no incident
    assert '<td class="tier-b">0</td><td class="tier-c">0</td><td class="late-supervision">0</td>' in html
