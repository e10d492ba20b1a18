"""Issue #14, finding 3 (R-AUDIT-1, R-VIDEO-1): a recorder touches only its own institution's video.

Before, one installation-wide hook secret served every institution: one institution's recorder
could post segments for another's cameras (forging its coverage) or report them offline. Now an
institution's exam office issues its own recorder keys; a hook signed with one touches only that
institution's cameras, and the installation secret no longer touches an institution that has keys.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from examday import audit
from examday.audit import AuditEntry
from examday.registry.models import Camera, Room
from proctor.hooks_sign import KEY_HEADER, SIGNATURE_HEADER, sign
from proctor.models import RecorderKey
from proctor.recorder_upload import HookSender
from proctor.video_models import CameraOffline, HookReceipt, Segment
from tests import builders
from tests.support import DEMO_USCC, OTHER_USCC, assert_refusal

from .video_support import SECRET, at, hook, post_hook, video_world, write_file


@pytest.fixture
def vw(db, world, clock):
    w = video_world(db, world, clock.now())
    clock.advance(hours=1, minutes=15)  # 09:15
    return w


@pytest.fixture
def other(db, world, clock):
    """A second institution with the same room and camera codes (T01-C1 ...), and its admin."""
    inst = builders.institution(db, at(8, 0), uscc=OTHER_USCC, province="四川")  # registered before the day
    builders.rooms(db, inst)
    db.commit()
    return inst.id, world.token("office-sc", "admin", inst.id)


@pytest.fixture
def vdir(settings):
    return settings.data_dir / "video"


def keyed(client, payload: dict, kid: str, secret: str):
    body = json.dumps(payload, default=str).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret), KEY_HEADER: kid}
    return client.post("/api/v1/hooks/recorder", content=body, headers=headers)


def issue(client, iid: int, headers: dict, label: str = "site 1") -> dict:
    r = client.post(f"/api/v1/institutions/{iid}/recorder-keys", json={"label": label}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def camera_institution(engine, camera_id: int) -> int:
    with Session(engine) as s:
        return s.get(Room, s.get(Camera, camera_id).room_id).institution_id


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_an_office_issues_lists_rotates_and_revokes_its_keys_on_the_audit_chain(client, vw, engine, clock):  # R-AUDIT-1
    key = issue(client, vw.institution_id, vw.h("admin"))
    assert key["kid"].startswith("rk_") and len(key["secret"]) >= 40 and key["active"] is True
    listed = client.get(f"/api/v1/institutions/{vw.institution_id}/recorder-keys", headers=vw.h("admin")).json()
    assert [k["kid"] for k in listed["keys"]] == [key["kid"]] and "secret" not in listed["keys"][0]
    with Session(engine) as s:
        assert key["secret"] not in json.dumps([r.model_dump(mode="json") for r in s.exec(select(RecorderKey))])
    r = client.post(
        f"/api/v1/institutions/{vw.institution_id}/recorder-keys/{key['kid']}/rotate", headers=vw.h("admin")
    )
    assert r.status_code == 201
    new = r.json()
    assert new["kid"] != key["kid"] and new["secret"] != key["secret"]
    assert new["replaces"]["kid"] == key["kid"] and new["replaces"]["active"] is True  # the overlap
    r = client.delete(f"/api/v1/institutions/{vw.institution_id}/recorder-keys/{new['kid']}", headers=vw.h("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"] and r.json()["active"] is False
    with Session(engine) as s:
        actions = s.exec(select(AuditEntry.action).where(AuditEntry.object_type == "recorder_key")).all()
        assert sorted(actions) == sorted(
            ["recorder_key.issue", "recorder_key.issue", "recorder_key.rotate", "recorder_key.revoke"]
        )
        assert all(key["secret"] not in e.diff for e in s.exec(select(AuditEntry)))
        assert audit.verify(s) is None


def test_only_the_institutions_office_manages_its_keys(client, vw, other):  # R-AUDIT-1
    other_iid, other_admin = other
    url = f"/api/v1/institutions/{vw.institution_id}/recorder-keys"
    assert_refusal(client.post(url, json={}, headers={"Authorization": f"Bearer {other_admin}"}), 403, "forbidden")
    assert_refusal(client.get(url, headers={"Authorization": f"Bearer {other_admin}"}), 403, "forbidden")
    assert client.post(url, json={}, headers=vw.h("p1")).status_code == 403  # a proctor
    assert client.post(url, json={}, headers=vw.h("supervisor")).status_code == 403
    key = issue(client, vw.institution_id, vw.h("admin"))
    r = client.delete(f"{url}/{key['kid']}", headers={"Authorization": f"Bearer {other_admin}"})
    assert_refusal(r, 403, "forbidden")
    # Its own admin cannot reach this key through its own institution either.
    r = client.delete(
        f"/api/v1/institutions/{other_iid}/recorder-keys/{key['kid']}",
        headers={"Authorization": f"Bearer {other_admin}"},
    )
    assert_refusal(r, 404, "not_found")


def test_a_key_touches_only_its_own_institutions_cameras(client, vw, other, engine, vdir):  # R-AUDIT-1, R-VIDEO-1
    """Before: any recorder holding the one secret posted segments and outages for any camera."""
    other_iid, other_admin = other
    mine = issue(client, other_iid, {"Authorization": f"Bearer {other_admin}"})
    path, sha, size = write_file(vdir / "T01-C1")
    forged = hook(
        "segment_finished",
        "T01-C1",
        at(9, 10),
        started_at=at(9, 0),
        ended_at=at(9, 10),
        path=path,
        sha256=sha,
        bytes=size,
        institution=DEMO_USCC,
    )
    assert_refusal(keyed(client, forged, mine["kid"], mine["secret"]), 403, "recorder_not_of_institution", "R-AUDIT-1")
    offline = hook("camera_offline", "T02-C1", at(9, 12), reason="black", institution=DEMO_USCC)
    assert_refusal(keyed(client, offline, mine["kid"], mine["secret"]), 403, "recorder_not_of_institution")
    assert count(engine, Segment) == 0 and count(engine, CameraOffline) == 0 and count(engine, HookReceipt) == 0
    # Without naming the institution, the same codes mean the key's own camera, never the other's.
    del forged["institution"]
    r = keyed(client, forged, mine["kid"], mine["secret"])
    assert r.status_code == 200 and r.json()["segment_state"] == "valid"
    with Session(engine) as s:
        seg = s.exec(select(Segment)).one()
    assert seg.institution_id == other_iid and camera_institution(engine, seg.camera_id) == other_iid
    # A forged signature under a real key id is refused like any other.
    offline = hook("camera_offline", "T01-C1", at(9, 12), reason="black")
    assert_refusal(keyed(client, offline, mine["kid"], "not-the-secret"), 401, "bad_signature")


def test_once_an_institution_has_keys_the_installation_secret_no_longer_touches_it(
    client, vw, other, engine, vdir
):  # R-AUDIT-1
    other_iid, other_admin = other
    path, sha, size = write_file(vdir / "T01-C1")
    payload = hook(
        "segment_finished",
        "T01-C1",
        at(9, 10),
        started_at=at(9, 0),
        ended_at=at(9, 10),
        path=path,
        sha256=sha,
        bytes=size,
        institution=OTHER_USCC,
    )
    assert post_hook(client, payload).status_code == 200  # no keys yet: the contract's secret works
    key = issue(client, other_iid, {"Authorization": f"Bearer {other_admin}"})
    later = {**payload, "id": "again", "started_at": at(9, 10).isoformat(), "ended_at": at(9, 12).isoformat()}
    assert_refusal(post_hook(client, later), 403, "recorder_key_required", "R-AUDIT-1")
    r = client.delete(
        f"/api/v1/institutions/{other_iid}/recorder-keys/{key['kid']}",
        headers={"Authorization": f"Bearer {other_admin}"},
    )
    assert r.status_code == 200
    assert_refusal(post_hook(client, later), 403, "recorder_key_required")  # not even after revoking
    # An institution without keys of its own still takes the installation secret.
    ours = {**later, "id": "ours", "institution": "91350200776049653A"}
    assert post_hook(client, ours, secret=SECRET).status_code == 200


def test_a_rotated_key_runs_on_for_the_overlap_and_a_revoked_one_stops_at_once(client, vw, clock, vdir):  # R-AUDIT-1
    old = issue(client, vw.institution_id, vw.h("admin"))
    url = f"/api/v1/institutions/{vw.institution_id}/recorder-keys"
    new = client.post(f"{url}/{old['kid']}/rotate", headers=vw.h("admin")).json()

    def online(t, kid, secret, n):
        return keyed(client, {**hook("camera_online", "T01-C1", t), "id": f"on-{n}"}, kid, secret)

    assert online(at(9, 15), old["kid"], old["secret"], 1).status_code == 200  # within the overlap
    assert online(at(9, 15), new["kid"], new["secret"], 2).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert_refusal(online(clock.now(), old["kid"], old["secret"], 3), 401, "recorder_key_inactive")
    assert online(clock.now(), new["kid"], new["secret"], 4).status_code == 200
    assert client.delete(f"{url}/{new['kid']}", headers=vw.h("admin")).status_code == 200
    assert_refusal(online(clock.now(), new["kid"], new["secret"], 5), 401, "recorder_key_inactive")
    assert_refusal(online(clock.now(), "rk_nosuchkey", new["secret"], 6), 401, "recorder_key_inactive")
    # A rotated-away or revoked key cannot be rotated again.
    assert_refusal(client.post(f"{url}/{old['kid']}/rotate", headers=vw.h("admin")), 401, "recorder_key_inactive")
    assert clock.now() - at(9, 15) > timedelta(hours=1)


def test_the_recorder_program_names_its_key(client, vw, vdir):  # R-AUDIT-1
    key = issue(client, vw.institution_id, vw.h("admin"))
    sent: list[dict[str, str]] = []

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        sent.append(headers)
        return client.post("/api/v1/hooks/recorder", content=body, headers=headers).status_code

    sender = HookSender("http://examday", key["secret"], None, post=post, key_id=key["kid"])
    sender.submit(hook("camera_online", "T01-C1", at(9, 15)))
    assert sender.close(5.0) == 0 and sender.delivered == 1
    assert sent[0][KEY_HEADER] == key["kid"]
