"""The centre's two forms on /centre/reports (issue #17, R-PUB-2): the institution's keys from its
ticket-keys JSON, and a package brought on a USB stick — the same services as
``POST /api/v1/centre/institution-keys`` and ``POST /api/v1/centre/reports``, answered on the page."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from scoring.report_models import ReceivedReport, ReportKey
from tests.integration.scoring.test_report_package import PROVINCE, fetch, uscc_of
from tests.support import bearer

HTML = {"Accept": "text/html"}


def keys_json(sw) -> bytes:
    return sw.client.get(f"/api/v1/institutions/{sw.institution_id}/ticket-keys", headers=sw.admin).content


def post_keys(sw, headers, uscc: str, data: bytes, province: str = PROVINCE):
    return sw.client.post(
        "/centre/reports/keys",
        data={"uscc": uscc, "province": province, "name": "机构"},
        files={"file": ("keys.json", data, "application/json")},
        headers={**headers, **HTML},
    )


def post_package(sw, headers, data: bytes):
    return sw.client.post(
        "/centre/reports/package",
        files={"file": ("report.zip", data, "application/zip")},
        headers={**headers, **HTML},
    )


def test_r_pub_2_the_centre_registers_keys_and_imports_a_package_on_its_page(approved, world):
    sw = approved
    centre = bearer(world.token("centre-forms", "centre", None, province=PROVINCE))
    uscc = uscc_of(sw)
    r = post_keys(sw, centre, uscc, keys_json(sw))
    assert r.status_code == 200, r.text
    assert 'id="keys-registered"' in r.text and "有效" in r.text
    with Session(sw.engine) as db:
        assert db.exec(select(ReportKey).where(ReportKey.uscc == uscc)).first() is not None

    package = fetch(sw).content
    r = post_package(sw, centre, package)
    assert r.status_code == 200, r.text
    assert 'id="package-received"' in r.text and "核验通过" in r.text
    assert f'data-batch="{sw.batch_id}"' in r.text
    assert 'data-on-time="True"' in r.text  # the dashboard beneath shows the batch, on time
    with Session(sw.engine) as db:
        rows = db.exec(select(ReceivedReport).where(ReceivedReport.uscc == uscc)).all()
        assert [(x.status, x.via) for x in rows] == [("accepted", "page")]


def test_r_pub_2_a_changed_package_is_refused_on_the_page_and_kept_as_refused(approved, world):
    sw = approved
    centre = bearer(world.token("centre-forms", "centre", None, province=PROVINCE))
    assert post_keys(sw, centre, uscc_of(sw), keys_json(sw)).status_code == 200
    package = bytearray(fetch(sw).content)
    package[len(package) // 2] ^= 0x01  # one byte changed
    r = post_package(sw, centre, bytes(package))
    assert r.status_code == 422, r.text
    assert 'id="refusal"' in r.text and "R-PUB-2" in r.text and '<code class="code">' in r.text
    assert 'id="package-received"' not in r.text
    with Session(sw.engine) as db:
        rows = db.exec(select(ReceivedReport)).all()
        assert [x.status for x in rows] == ["refused"]  # the refusal is kept; nothing was received


def test_r_pub_2_the_keys_form_refuses_what_is_not_a_keys_file_and_changes_nothing(approved, world):
    sw = approved
    centre = bearer(world.token("centre-forms", "centre", None, province=PROVINCE))
    r = post_keys(sw, centre, uscc_of(sw), b"not json")
    assert r.status_code == 422 and 'data-code="keys_file_invalid"' in r.text
    bad = json.dumps({"keys": [{"kid": "00000000", "public_key": "AAAA"}]}).encode()
    r = post_keys(sw, centre, uscc_of(sw), bad)
    assert r.status_code == 422 and 'data-code="public_key_invalid"' in r.text
    with Session(sw.engine) as db:
        assert db.exec(select(ReportKey)).first() is None


def test_r_pub_2_another_provinces_centre_is_refused_on_both_forms(approved, world):
    """R-PUB-2 via examday.access.can_act_as_centre_for: the centre of 四川 registers nothing of a 吉林
    institution and receives none of its packages."""
    sw = approved
    jilin = bearer(world.token("centre-forms", "centre", None, province=PROVINCE))
    assert post_keys(sw, jilin, uscc_of(sw), keys_json(sw)).status_code == 200
    sichuan = bearer(world.token("centre-sc", "centre", None, province="四川"))
    assert post_keys(sw, sichuan, uscc_of(sw), keys_json(sw), province="四川").status_code == 403
    r = post_package(sw, sichuan, fetch(sw).content)
    assert r.status_code == 403 and 'id="package-received"' not in r.text
    with Session(sw.engine) as db:
        assert db.exec(select(ReceivedReport)).first() is None
