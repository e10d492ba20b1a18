"""A refusal on a page is a page (issue #16): Chinese first, English beneath, the reason's code and
rule ID in ``<code class="code">``, what to do next and a way back; the API's answers stay JSON.
A 403 or 404 page says nothing of the object asked for (R-PRIV-1)."""

from __future__ import annotations

import re

from tests.support import bearer

HTML = {"Accept": "text/html"}


def _shape(r, status: int, code: str, header: bool = True) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html"), r.headers
    assert not header or r.headers["x-refusal-code"] == code
    text = r.text
    assert f'<code class="code">{code}</code>' in text
    assert 'id="refusal"' in text and "下一步" in text and "What to do next" in text
    assert 'href="/"' in text  # the way back: the role's home
    assert "/static/favicon.svg" in text
    return text


def test_a_supervisor_on_the_office_page_gets_a_page_not_json(world, client):
    iid = world.institution()
    sup = world.token("sup", "supervisor", iid)
    text = _shape(client.get("/office", headers={**bearer(sup), **HTML}), 403, "forbidden")
    assert "无权执行此操作" in text and "质量督导员" in text  # the header names the role in words


def test_a_missing_batch_page_says_nothing_of_the_batch(world, client):
    iid = world.institution()
    office = world.token("office", "admin", iid)
    other = world.institution(uscc="91110000100000000X", name="四川另一评价中心", province="四川")
    assert other != iid
    # No Accept header at all, as a script would send: a page route still answers with a page.
    text = _shape(client.get("/office/batches/999", headers=bearer(office)), 404, "not_found")
    assert "999" not in re.sub(r"<[^>]+>", " ", text.split("<main>")[1])


def test_root_on_the_scoring_page_is_refused_on_a_page(world, client):
    root = world.token("root", "admin")
    text = _shape(client.get("/evaluate", headers={**bearer(root), **HTML}), 403, "forbidden")
    assert "系统管理员" in text


def test_an_unknown_address_in_a_browser_is_a_page_and_the_previous_page_is_offered(world, client):
    iid = world.institution()
    office = world.token("office", "admin", iid)
    headers = {**bearer(office), **HTML, "Referer": "http://testserver.local/office?iid=1"}
    r = client.get("/no/such/page", headers=headers)
    _shape(r, 404, "not_found")
    headers["Referer"] = str(client.base_url) + "/office?iid=1"
    text = _shape(client.get("/no/such/page", headers=headers), 404, "not_found")
    assert 'href="/office?iid=1"' in text and "返回上一页" in text
    # Another site's address is never offered as the way back.
    headers["Referer"] = "https://evil.example/office"
    assert "evil.example" not in client.get("/no/such/page", headers=headers).text


def test_signed_out_on_a_page_still_goes_to_login(client):
    r = client.get("/office", headers=HTML, follow_redirects=False)
    assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/login")


def test_the_api_answers_stay_json(world, client):
    iid = world.institution()
    sup = world.token("sup", "supervisor", iid)
    for path in ("/api/v1/batches/999", "/api/v1/no-such"):
        r = client.get(path, headers={**bearer(sup), **HTML})
        assert r.headers["content-type"].startswith("application/json"), (path, r.text)
        assert set(r.json()) == {"code", "message", "message_en", "rule", "detail"}
    r = client.get("/office", headers=HTML, follow_redirects=False)
    assert r.status_code != 200


def test_an_unpublished_publicity_page_is_refused_on_a_page(world, client):
    text = _shape(client.get("/public/batches/999/publicity.html", headers=HTML), 404, "not_found")
    assert 'href="/login"' in text  # nobody signed in: the way in, not a home


def test_the_live_rooms_page_refuses_with_the_same_page(world, client):
    iid = world.institution()
    proctor = world.token("proctor", "proctor", iid)
    text = _shape(
        client.get("/proctor/batches/999", headers={**bearer(proctor), **HTML}), 404, "not_found", header=False
    )
    assert "监考员" in text
