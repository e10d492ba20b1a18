"""The exam office's plan pages: list and create, import, review, check and file."""

from __future__ import annotations

from examday.identity import mask_id_number
from tests.integration.examday.plans_world import batch_row, counts, csv_bytes, office, person, ready
from tests.support import bearer


def form(o, **over):
    """The new-batch form as a person fills it (issue #16): the occupation from the filed scope,
    the level by name, rooms ticked and staff picked per room, one theory session, one skill sitting."""
    p, e = o.proctors, o.examiners
    return {
        "institution_id": str(o.iid),
        "occupation": "6-31-01-03|",
        "level": "4",
        "exam_date": "2026-12-14",
        "s0_part": "theory",
        "s0_start": "09:00",
        "s0_end": "10:30",
        "s0_rooms": ["T01", "T02"],
        "s0_staff": [f"T01:{p[0]}", f"T01:{p[1]}", f"T02:{p[2]}", f"T02:{p[3]}"],
        "s1_part": "skill",
        "s1_start": "13:30",
        "s1_end": "16:00",
        "s1_rooms": ["S01"],
        "s1_staff": [f"S01:{e[0]}", f"S01:{e[1]}"],
        **over,
    }


def test_create_import_review_check_and_file_from_the_pages(world, client, clock):
    o = office(world, clock)
    h = o.headers
    page = client.get("/office/batches", headers=h)
    assert page.status_code == 200 and "新建认定批次" in page.text and "New batch" in page.text
    r = client.post("/office/batches/new", data=form(o), headers=h, follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    url = r.headers["location"]
    bid = int(url.rsplit("/", 1)[1])
    listing = client.get("/office/batches", headers=h).text
    assert "1 项问题" in listing and "The plan has no candidates." in listing  # the list shows each draft's check
    page = client.get(url, headers=h).text
    assert "T01" in page and "09:00" in page and "理论知识考试" in page
    # The check lists what is missing, rule and both languages.
    assert "R-PLAN-1" in page and "认定计划须包含参加认定人员" in page and "The plan has no candidates." in page
    r = client.post(
        f"{url}/candidates",
        files={"file": ("名单.csv", csv_bytes(4, encoding="gbk"), "text/csv")},
        headers=h,
        follow_redirects=False,
    )
    assert r.status_code in (302, 303) and "imported=4" in r.headers["location"]
    page = client.get(r.headers["location"], headers=h).text
    assert "已导入 4 名考生" in page and person(1)[1] in page  # the admin sees full numbers
    assert "R-PLAN-4" in page
    r = client.post(f"{url}/eligibility", headers=h, follow_redirects=False)
    assert r.status_code in (302, 303)
    page = client.get(url, headers=h).text
    assert "全部检查通过" in page and "Every check passes" in page
    r = client.post(f"{url}/file", headers=h, follow_redirects=False)
    assert r.status_code in (302, 303)
    page = client.get(r.headers["location"], headers=h).text
    assert "已报送" in page and "撤回认定计划" in page and "导入" not in page.split("考生")[-1].split("<table>")[0]
    assert batch_row(world.engine, bid).status == "filed"
    listing = client.get("/office/batches", headers=h).text
    assert f"/office/batches/{bid}" in listing and "已报送" in listing
    # The registry's office page links here for one institution.
    assert f"/office/batches/{bid}" in client.get(f"/office/batches?iid={o.iid}", headers=h).text
    assert f"/office/batches/{bid}" not in client.get(f"/office/batches?iid={o.iid + 1}", headers=h).text


def test_a_bad_file_shows_every_bad_row_and_imports_nothing(world, client, clock):
    o = office(world, clock)
    r = client.post("/office/batches/new", data=form(o), headers=o.headers, follow_redirects=False)
    url = r.headers["location"]
    before = counts(world.engine)
    bad = csv_bytes(30, bad={7: "123", 19: ""})
    page = client.post(f"{url}/candidates", files={"file": ("名单.csv", bad, "text/csv")}, headers=o.headers)
    assert page.status_code == 422
    assert "未导入任何考生" in page.text and "nothing was imported" in page.text
    assert "<td>8</td>" in page.text and "<td>20</td>" in page.text
    assert counts(world.engine) == before


def test_a_refused_filing_lists_every_violation(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o, review=False)
    clock.advance(days=10)
    page = client.post(f"/office/batches/{bid}/file", headers=o.headers)
    assert page.status_code == 422
    for rule in ("R-PLAN-4", "R-PLAN-1"):
        assert rule in page.text
    assert "认定计划未通过检查" in page.text and batch_row(world.engine, bid).status == "draft"


def test_a_bad_create_form_shows_the_errors(world, client, clock):
    o = office(world, clock)
    before = counts(world.engine)
    page = client.post("/office/batches/new", data=form(o, s0_rooms=["T01", "T77"]), headers=o.headers)
    assert page.status_code == 422 and "T77" in page.text and "unknown_room" not in page.text
    assert counts(world.engine) == before


def test_the_centre_reads_masked_and_cannot_act_others_are_refused(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o, n=2)
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))
    page = client.get(f"/office/batches/{bid}", headers=centre).text
    assert person(1)[1] not in page and mask_id_number(person(1)[1]) in page  # R-PRIV-1
    assert "报送认定计划" not in page and 'type="file"' not in page
    assert client.post(f"/office/batches/{bid}/file", headers=centre).status_code == 403
    proctor = bearer(world.token("p", "proctor", o.iid))
    assert client.get("/office/batches", headers=proctor).status_code == 403
    assert (
        client.get("/office/batches", headers={"Accept": "text/html"}, follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )
