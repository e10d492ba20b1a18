"""The proctors' dashboard in headless Chromium (R-DAY-3): a check-in made through the
API turns the seat's colour on the page, live; a proctor records an incident from the
tablet and the seat turns purple; the page fits a tablet."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlmodel import select

from examday.accounts.models import Account
from tests.integration.proctor.support import room_world

pytestmark = pytest.mark.browser
PASSWORD = "proctor-pass-2026"
GREY, GREEN, PURPLE = "rgb(158, 158, 166)", "rgb(27, 127, 58)", "rgb(123, 63, 160)"


@pytest.fixture
def rooms(db, world, clock):
    rw = room_world(db, world, clock.now())
    # proctors[0] acts under one account only (R-STAFF-4): the tablet signs in as it, with a password.
    account = db.exec(select(Account).where(Account.staff_id == rw.proctors[0].id)).one()
    account.password_hash = world.app.state.passwords.hash(PASSWORD)
    db.add(account)
    db.commit()
    rw.tablet_user = account.username
    clock.advance(minutes=40)  # 08:40: entry open
    return rw


def sign_in(page, live_server, rw) -> None:
    page.goto(live_server.at(f"/proctor/batches/{rw.batch_id}"))
    assert "/login" in page.url
    page.fill("input[name=username]", rw.tablet_user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"/proctor/batches/{rw.batch_id}$"))
    page.wait_for_selector("#live[data-state=live]")


def seat(page, room: str, n: int):
    return page.locator(f'.seat[data-room="{room}"][data-seat="{n}"]')


def colour(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_check_in_through_the_api_turns_the_seat_green(page, live_server, rooms):
    rw = rooms
    sign_in(page, live_server, rw)
    cand = rw.in_room("T01")[1]
    n = rw.seat_of[cand.id][1]
    assert page.locator(".tile").count() == 1  # p1 proctors T01 only
    assert seat(page, "T01", n).get_attribute("data-status") == "expected"
    assert colour(seat(page, "T01", n)) == GREY
    resp = httpx.post(
        live_server.at("/api/v1/checkins"),
        headers=rw.h("kiosk"),
        json={
            "ticket_number": cand.ticket_number,
            "batch_id": rw.batch_id,
            "id_number": cand.id_number,
            "kiosk_nonce": uuid.uuid4().hex,
        },
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
    page.wait_for_selector(f'.seat[data-room="T01"][data-seat="{n}"][data-status="present"]')
    assert colour(seat(page, "T01", n)) == GREEN
    assert page.locator('.tile[data-room="T01"] [data-count="present"]').inner_text() == "1"


def test_proctor_records_an_incident_from_the_tablet(page, live_server, rooms, clock):
    rw = rooms
    cand = rw.in_room("T01")[0]
    httpx.post(
        live_server.at("/api/v1/checkins"),
        headers=rw.h("kiosk"),
        json={
            "ticket_number": cand.ticket_number,
            "batch_id": rw.batch_id,
            "id_number": cand.id_number,
            "kiosk_nonce": uuid.uuid4().hex,
        },
        timeout=10,
    ).raise_for_status()
    clock.advance(minutes=30)  # 09:10
    sign_in(page, live_server, rw)
    n = rw.seat_of[cand.id][1]
    seat(page, "T01", n).click()
    # No kind is chosen for the proctor (issue #16): the placeholder cannot be submitted.
    assert page.input_value("#f-incident select[name=kind]") == ""
    page.fill("#f-incident input[name=description]", "抄袭邻座")
    page.click("#f-incident button")
    assert page.locator("#incident-confirm").is_hidden()
    # Each kind says beside it what its tier does to the result (R-DISC-1).
    options = page.locator("#f-incident select[name=kind] option[value=copying]").inner_text()
    assert "抄袭他人答案" in options and "该科目按作弊处理" in options
    page.select_option("#f-incident select[name=kind]", "copying")
    assert "treated as cheating" in page.inner_text("#tier-note")
    page.click("#f-incident button")
    # A confirmation step before anything is recorded.
    assert "抄袭他人答案" in page.inner_text("#incident-confirm") and "该科目按作弊处理" in page.inner_text(
        "#incident-confirm"
    )
    assert seat(page, "T01", n).get_attribute("data-status") != "incident"
    page.click("#incident-yes")
    page.wait_for_selector("#p-msg.accepted")
    page.wait_for_selector(f'.seat[data-room="T01"][data-seat="{n}"][data-status="incident"]')
    assert colour(seat(page, "T01", n)) == PURPLE
    listed = page.locator('.tile[data-room="T01"] .incidents').inner_text()
    assert "抄袭他人答案" in listed and "抄袭邻座" in listed  # the description on the tile


@pytest.mark.parametrize("page_size", [(768, 1024), (1024, 768)])
def test_fits_a_tablet(page, live_server, rooms, page_size):
    rw = rooms
    sign_in(page, live_server, rw)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = seat(page, "T01", 1).bounding_box()
    assert box["width"] >= 34 and box["height"] >= 34  # big enough to tap


def test_supervisor_watches_and_notes_a_finding(page, live_server, rooms, world):
    rw = rooms
    world.token("tablet-sup", "supervisor", rw.institution_id, password=PASSWORD)
    page.goto(live_server.at(f"/proctor/batches/{rw.batch_id}"))
    page.fill("input[name=username]", "tablet-sup")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live[data-state=live]")
    assert page.locator(".tile").count() == 2 and page.locator("#f-incident").count() == 0  # R-SUP-1: read-only
    page.select_option("#f-finding select[name=area]", "rooms_equipment")
    page.fill("#f-finding input[name=text]", "T02 后方摄像头角度偏")
    page.click("#f-finding button")
    page.wait_for_selector("#finding-msg.accepted")
    got = httpx.get(live_server.at(f"/api/v1/batches/{rw.batch_id}/supervision"), headers=rw.h("admin"), timeout=10)
    assert [(f["area"], f["text"], f["by"]) for f in got.json()["findings"]] == [
        ("rooms_equipment", "T02 后方摄像头角度偏", "tablet-sup")
    ]
