"""The centre's register of an institution's keys across a rotation (issue #17, R-PUB-2).

``scoring.report_keys``: the centre registers the institution's public keys as its
``GET /api/v1/institutions/{iid}/ticket-keys`` lists them, and again at a rotation; a key the
institution revoked is retired at the centre and "keeps verifying what it signed before" — a
package made before the retirement is still accepted, one made after it is refused
(docs/report-format.md, verifying step 3).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, timedelta

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlmodel import Session, select

from examday.plans.models import TicketKey
from tests.integration.scoring.test_report_package import fetch, members, register, rezip, send, uscc_of
from tests.support import assert_refusal


def _kid(package: bytes) -> str:
    return json.loads(members(package)["manifest.sig"])["kid"]


def _signed_later_with(sw, kid: str, package: bytes, at) -> bytes:
    """The package re-made at ``at`` and signed with the institution's key ``kid`` (the key itself,
    as whoever still holds it would)."""
    files = members(package)
    manifest = json.loads(files["manifest.json"])
    manifest["created_at"] = at.astimezone(UTC).isoformat()
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with Session(sw.engine) as db:
        pem = db.exec(select(TicketKey.private_key_pem).where(TicketKey.kid == kid)).one()
    signature = base64.urlsafe_b64encode(load_pem_private_key(pem.encode(), None).sign(body)).decode().rstrip("=")
    sig = json.dumps({"algorithm": "Ed25519", "kid": kid, "signature": signature}).encode()
    return rezip({**files, "manifest.json": body, "manifest.sig": sig})


def _registered(sw, centre) -> dict[str, str | None]:
    r = sw.client.get("/api/v1/centre/institution-keys", params={"uscc": uscc_of(sw)}, headers=centre)
    assert r.status_code == 200, r.text
    return {k["kid"]: k["retired_at"] for k in r.json()["keys"]}


def test_r_pub_2_a_rotation_registered_again_and_a_retired_key_keeps_what_it_signed(approved, world, clock):
    """Issue #17, R-PUB-2: after the institution rotates its key, its next package is refused
    until the centre registers the new key, then accepted; once the institution revokes the old
    key and the centre registers the listing again, the old key is retired there: the package it
    signed before still verifies and is accepted, one it signs afterwards is refused."""
    sw = approved
    centre = register(sw, world)
    before = fetch(sw).content  # signed with the first key, before the rotation
    old = _kid(before)

    clock.at += timedelta(minutes=30)
    r = sw.client.post(f"/api/v1/institutions/{sw.institution_id}/ticket-keys/rotate", headers=sw.admin)
    assert r.status_code == 200, r.text
    new = r.json()["kid"]
    after = fetch(sw).content
    assert (_kid(after), new != old) == (new, True)
    assert_refusal(send(sw, after, centre), 422, "unknown_institution_key", "R-PUB-2")
    register(sw, world, centre)  # the rotation registered
    assert _registered(sw, centre) == {old: None, new: None}
    r = send(sw, after, centre)
    assert (r.status_code, r.json()["status"]) == (201, "accepted"), r.text

    clock.at += timedelta(minutes=30)
    r = sw.client.post(f"/api/v1/institutions/{sw.institution_id}/ticket-keys/{old}/revoke", headers=sw.admin)
    assert r.status_code == 200, r.text
    register(sw, world, centre)  # the listing after the revocation: the old key is retired
    retired = _registered(sw, centre)
    assert retired[new] is None and retired[old] is not None
    r = send(sw, before, centre)  # made before the retirement: still verifies
    assert (r.status_code, r.json()["status"]) == (201, "accepted"), r.text
    clock.at += timedelta(minutes=5)
    late = _signed_later_with(sw, old, after, clock.now())
    assert_refusal(send(sw, late, centre), 422, "unknown_institution_key", "R-PUB-2")
