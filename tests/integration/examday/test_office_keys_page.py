"""The office's ticket-keys page (准考证签名密钥, issue #16): the keys with their dates and states, the
public keys as a file for the centre, and a rotation that needs a tick (R-DAY-1: a key verifies what it
signed until revoked). The centre of the province looks; nobody else's office does. And the
installation administrator's home warns only of a year the calendar does not know (R-CAL)."""

from __future__ import annotations

from tests.support import OTHER_USCC, bearer

HTML = {"Accept": "text/html"}


def _rotate(client, headers, iid: int, confirm: str = "yes"):
    return client.post(
        "/office/keys/rotate", data={"iid": str(iid), "confirm": confirm}, headers=headers, follow_redirects=False
    )


def test_the_office_rotates_its_key_and_downloads_the_public_keys(world, client):
    """R-DAY-1: after a rotation the new key signs, the old one still verifies; both are in the file."""
    iid = world.institution()
    office = {**bearer(world.token("office-k", "admin", iid)), **HTML}
    page = client.get("/office/keys", headers=office)
    assert page.status_code == 200 and 'id="no-keys"' in page.text
    refused = _rotate(client, office, iid, confirm="")
    assert refused.status_code == 422 and '<code class="code">confirmation_required</code>' in refused.text
    assert 'id="no-keys"' in refused.text  # nothing made
    for _ in range(2):
        r = _rotate(client, office, iid)
        assert r.status_code == 303 and r.headers["location"] == f"/office/keys?iid={iid}&done=rotated"
    page = client.get(f"/office/keys?iid={iid}&done=rotated", headers=office).text
    assert "已更换签名密钥" in page
    assert page.count('data-state="active"') == 1 and page.count('data-state="verifying"') == 1
    assert "在用（签发新准考证）" in page and "仅核验已发出的准考证" in page and "verifying<" not in page
    assert f'href="/api/v1/institutions/{iid}/ticket-keys" download="ticket-keys-' in page
    keys = client.get(f"/api/v1/institutions/{iid}/ticket-keys", headers=bearer(world.token("k-api", "admin", iid)))
    listed = [k["kid"] for k in keys.json()["keys"]]
    assert len(listed) == 2 and all(f'data-kid="{kid}"' in page for kid in listed)


def test_the_centre_reads_the_keys_and_another_office_nothing(world, client):
    iid = world.institution()
    other = world.institution(uscc=OTHER_USCC, name="四川评价中心", province="四川")
    office = {**bearer(world.token("office-k2", "admin", iid)), **HTML}
    assert _rotate(client, office, iid).status_code == 303
    centre = {**bearer(world.token("centre-k", "centre", None, province="吉林")), **HTML}
    page = client.get(f"/office/keys?iid={iid}", headers=centre)
    assert page.status_code == 200 and 'id="key-list"' in page.text and 'action="/office/keys/rotate"' not in page.text
    assert _rotate(client, centre, iid).status_code == 403  # the centre looks, the office rotates
    stranger = {**bearer(world.token("office-sc", "admin", other)), **HTML}
    assert client.get(f"/office/keys?iid={iid}", headers=stranger).status_code == 403
    r = _rotate(client, stranger, iid)
    assert r.status_code == 403 and "示范职业技能评价中心" not in r.text


def test_the_installation_home_warns_only_of_a_provisional_year(world, client):
    """R-CAL: 2026 is in the calendar package, 2027 (on 26 November 2026) is not yet."""
    root = {**bearer(world.token("root-k", "admin")), **HTML}
    text = client.get("/", headers=root).text
    warning = text.split('id="notices"')[1].split("</p>")[0]
    assert "尚未录入 2027 年" in warning and "2026" not in warning
