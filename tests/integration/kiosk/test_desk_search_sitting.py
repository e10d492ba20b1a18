"""The desk's search for a lost ticket names where the candidate goes NOW (issue #16, R-SEAT-1):
before and during theory, the theory room and seat; once the candidate's current sitting is a
skill sitting, the skill room, the workstation (工位) and the sitting (第几场, its time) — the
same place the door's answer names on check-in (``kiosk.answer``)."""

from __future__ import annotations

import pytest

from tests.integration.kiosk.skill_world import SkillWorld, at, skill_world
from tests.support import bearer


@pytest.fixture
def sw(db, clock, settings) -> SkillWorld:
    return skill_world(db, clock.now(), settings.secret_key)


def found(client, sw, kiosk, c) -> dict:
    rows = client.get(f"/api/v1/batches/{sw.batch_id}/candidates/search", params={"q": c.name}, headers=kiosk).json()
    return next(x for x in rows if x["id"] == c.id)


def test_the_search_names_the_skill_room_workstation_and_sitting_once_the_sitting_is_current(client, clock, world, sw):
    kiosk = bearer(world.token("kiosk1", "kiosk", sw.institution_id))
    first = sw.of_sitting(0)[0]
    third = sw.of_sitting(2)[0]
    theory_room = sw.rooms[sw.theory_room[first.id]]

    clock.at = at(8, 40)  # theory's entry is open: the theory room and seat
    hit = found(client, sw, kiosk, first)
    assert (hit["room_code"], hit["room_name"], hit["part"]) == (theory_room.code, theory_room.name, "theory")
    assert hit["sitting"] is None and hit["station"] is None and hit["seat"] is not None

    clock.at = at(10, 45)  # theory is over; the first sitting's entry is open
    sitting, station = sw.station[first.id]
    hit = found(client, sw, kiosk, first)
    assert (hit["room_code"], hit["room_name"], hit["part"]) == ("S01", sw.rooms["S01"].name, "skill")
    assert hit["station"] == station and hit["seat"] == station
    assert hit["sitting"]["id"] == sitting and (hit["sitting"]["no"], hit["sitting"]["of"]) == (1, 3)
    assert hit["sitting"]["starts_at"] == "2026-11-26T11:00:00+08:00"
    # A candidate of the third sitting, at the same moment: their own sitting is next, at 16:30.
    hit = found(client, sw, kiosk, third)
    assert hit["room_code"] == "S01" and (hit["sitting"]["no"], hit["station"]) == (3, sw.station[third.id][1])


def test_the_desk_page_shows_the_place_the_search_names(client, world, sw):
    """The desk's script writes the room, workstation and sitting of each hit (issue #16)."""
    kiosk = bearer(world.token("kiosk1", "kiosk", sw.institution_id))
    page = client.get("/desk", headers={**kiosk, "Accept": "text/html"}).text
    assert "function place(" in page and "place(r)" in page
