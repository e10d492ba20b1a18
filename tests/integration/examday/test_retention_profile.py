"""An institution's retention profile (issue #15, R-VIDEO-1, R-ARCH-1), through the API.

Reproduced: the profile could not be chosen through the API at all. Now the installation
administrator or the province's centre chooses it — ``strict`` or the institution's own
province's — never the institution's own office, which would shorten the keeping of its own
video; the choice is audited and the purge follows it.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.registry.models import Institution
from tests.support import assert_refusal, bearer

SC_USCC = "91510100MA0000002X"


def _put(client, iid: int, profile: str, headers):
    return client.put(f"/api/v1/institutions/{iid}/retention-profile", json={"profile": profile}, headers=headers)


def test_the_centre_or_the_installation_chooses_the_retention_profile_R_VIDEO_1(client, world, engine):
    jl = world.institution(province="吉林")
    sc = world.institution(uscc=SC_USCC, name="四川评价中心", province="四川")
    root = bearer(world.token("root", "admin"))
    centre_jl = bearer(world.token("centre-jl", "centre", province="吉林省"))
    office_sc = bearer(world.token("office-sc", "admin", sc))

    # The Sichuan office would like Jilin's one year of video: not its choice, and not its province's.
    assert_refusal(_put(client, sc, "jilin", office_sc), 403, "forbidden")
    assert_refusal(_put(client, sc, "strict", office_sc), 403, "forbidden")
    assert_refusal(_put(client, sc, "sichuan", centre_jl), 403, "forbidden")  # another province's centre
    assert_refusal(_put(client, sc, "jilin", root), 422, "profile_not_for_province", "R-VIDEO-1")
    assert_refusal(_put(client, jl, "lunar", root), 422, "profile_not_for_province", "R-VIDEO-1")

    r = _put(client, jl, "jilin", centre_jl)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["profile"], body["allowed"]) == ("jilin", ["strict", "jilin"])
    assert body["years"]["exam_video"] == 1 and body["years"]["key_documents"] is None
    r = _put(client, sc, "sichuan", root)
    assert r.status_code == 200 and r.json()["years"]["exam_video"] == 5

    with Session(engine) as db:
        assert (db.get(Institution, jl).profile, db.get(Institution, sc).profile) == ("jilin", "sichuan")
        changes = [
            json.loads(e.diff) for e in db.exec(select(AuditEntry)).all() if e.action == "institution.retention_profile"
        ]
    assert changes == [{"profile": ["strict", "jilin"]}, {"profile": ["strict", "sichuan"]}]
