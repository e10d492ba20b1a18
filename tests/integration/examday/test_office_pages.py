"""The exam office pages: institution, rooms, staff — bilingual, forms posting to the same services."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from examday.identity import make_id_number, mask_id_number
from examday.registry.models import Camera, Room, Staff
from tests.support import OTHER_USCC, bearer

TODAY = date(2026, 11, 26)
HTML = {"Accept": "text/html"}


def institution(client, root, uscc="91350200776049653A", province="吉林", valid_until="2028-02-29") -> int:
    r = client.post(
        "/api/v1/institutions",
        headers=root,
        json={
            "name": "长春示范职业技能评价中心" if province == "吉林" else "广州评价中心",
            "uscc": uscc,
            "province": province,
            "filing": {"number": "吉人社技评备〔2025〕018号", "valid_from": "2025-03-01", "valid_until": valid_until},
            "scope": [{"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "5、4、3"}],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def page(client, tok, url):
    return client.get(url, headers={**bearer(tok), **HTML})


def test_office_home_shows_institution_filing_and_links_in_both_languages(world, client):
    root = world.token("root", "admin")
    iid = institution(client, bearer(root))
    office = world.token("office", "admin", iid)
    r = page(client, office, "/office")
    assert r.status_code == 200, r.text
    for text in (
        "考务办公室",
        "Exam office",
        "长春示范职业技能评价中心",
        "备案状态",
        "Filing state",
        "有效",
        "6-31-01-03",
        "5、4、3",
        'href="/office/rooms?iid=',
        'href="/office/staff?iid=',
        'href="/office/batches?iid=',
        "须至少有2个配备视频监控的理论考场",
        "video-monitored theory rooms",
    ):
        assert text in r.text, text
    assert "renewal" not in r.text  # outside the window: no renewal warning


def test_office_home_warns_inside_the_renewal_window(world, client):
    # R-INST-2: the admin is warned inside the 90 days before expiry.
    root = world.token("root", "admin")
    iid = institution(client, bearer(root), valid_until=(TODAY + timedelta(days=20)).isoformat())
    r = page(client, world.token("office", "admin", iid), "/office")
    assert "请在到期前申请延续" in r.text and "apply for renewal" in r.text and "21" in r.text


def test_lists_for_installation_admin_and_centre_and_no_page_for_other_roles(world, client):
    root = world.token("root", "admin")
    jl = institution(client, bearer(root))
    institution(client, bearer(root), uscc=OTHER_USCC, province="广东")
    r = page(client, root, "/office")
    assert "机构一览" in r.text and "长春示范职业技能评价中心" in r.text and "广州评价中心" in r.text
    centre = world.token("centre-jl", "centre", province="吉林")
    r = page(client, centre, "/office")
    assert "长春示范职业技能评价中心" in r.text and "广州评价中心" not in r.text
    assert page(client, centre, f"/office?iid={jl}").status_code == 200
    assert page(client, world.token("kiosk1", "kiosk", jl), "/office").status_code == 403
    r = client.get("/office", headers=HTML, follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


def test_room_form_adds_a_room_with_cameras(world, client):
    root = world.token("root", "admin")
    iid = institution(client, bearer(root))
    office = world.token("office", "admin", iid)
    r = page(client, office, "/office/rooms")
    assert r.status_code == 200 and "登记考场" in r.text and "Add a room" in r.text
    r = client.post(
        "/office/rooms/add",
        headers={**bearer(office), **HTML},
        follow_redirects=False,
        data={
            "iid": str(iid),
            "code": "T01",
            "name": "理论考场1",
            "kind": "theory",
            "seats": "30",
            "rows": "5",
            "cols": "6",
            "cameras": "T01-C1 前方\nT01-C2 后方\n",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/office/rooms?iid={iid}"
    with Session(world.engine) as db:
        room = db.exec(select(Room).where(Room.institution_id == iid)).one()
        cams = db.exec(select(Camera).where(Camera.room_id == room.id).order_by(Camera.code)).all()
        assert (room.code, room.seats, room.rows, room.cols) == ("T01", 30, 5, 6)
        assert [(c.code, c.name) for c in cams] == [("T01-C1", "前方"), ("T01-C2", "后方")]
    r = page(client, office, "/office/rooms")
    assert (
        "T01-C1 前方" in r.text and "理论考场 <small>Theory room</small>" in r.text
    )  # words, not the code (issue #16)


def test_room_form_refusal_is_shown_in_both_languages_and_changes_nothing(world, client):
    # R-SITE-1: a theory room without a camera is refused, and the page says why.
    root = world.token("root", "admin")
    iid = institution(client, bearer(root))
    office = world.token("office", "admin", iid)
    r = client.post(
        "/office/rooms/add",
        headers={**bearer(office), **HTML},
        data={
            "iid": str(iid),
            "code": "T01",
            "name": "理论考场1",
            "kind": "theory",
            "seats": "30",
            "rows": "5",
            "cols": "6",
            "cameras": "",
        },
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "须配备视频监控" in r.text and "video monitored" in r.text and 'value="理论考场1"' in r.text
    with Session(world.engine) as db:
        assert db.exec(select(Room)).all() == []


def test_staff_page_masks_ids_except_for_admin_and_only_admin_changes(world, client):
    root = world.token("root", "admin")
    iid = institution(client, bearer(root))
    office = world.token("office", "admin", iid)
    number = make_id_number(date(1975, 3, 1))
    r = client.post(
        "/office/staff/add",
        headers={**bearer(office), **HTML},
        follow_redirects=False,
        data={
            "iid": str(iid),
            "name": "陈志强",
            "id_number": number,
            "role_examiner": "on",
            "full_time": "on",
            "skill_level": "1",
            "title": "senior",
            "examiner_card_valid_until": "2028-12-31",
            "occupations": "6-31-01-03",
        },
    )
    assert r.status_code == 303, r.text
    r = page(client, office, "/office/staff")
    assert number in r.text and "考评员" in r.text and "examiner" in r.text and "登记工作人员" in r.text
    centre = world.token("centre-jl", "centre", province="吉林")
    r = page(client, centre, f"/office/staff?iid={iid}")
    assert r.status_code == 200 and number not in r.text and mask_id_number(number) in r.text
    assert "登记工作人员" not in r.text  # no form for a reader
    r = client.post(
        "/office/staff/add",
        headers={**bearer(centre), **HTML},
        data={"iid": str(iid), "name": "王建国", "id_number": make_id_number(date(1980, 1, 1)), "role_proctor": "on"},
    )
    assert r.status_code == 403
    # R-STAFF-3 on the page: a trainer cannot be a proctor.
    r = client.post(
        "/office/staff/add",
        headers={**bearer(office), **HTML},
        data={
            "iid": str(iid),
            "name": "王建国",
            "id_number": make_id_number(date(1980, 1, 1)),
            "role_proctor": "on",
            "is_trainer": "on",
        },
    )
    assert r.status_code == 422 and "培训师资不得担任监考人员" in r.text and "never be a proctor" in r.text
    with Session(world.engine) as db:
        assert [s.name for s in db.exec(select(Staff)).all()] == ["陈志强"]
