"""A hostile candidate list over HTTP (R-PLAN-1): refused whole, nothing imported, on both databases."""

from __future__ import annotations

import pytest

from tests.integration.examday.plans_world import counts, create, office, person, upload
from tests.support import assert_refusal
from tests.unit.examday import hostile_xlsx


@pytest.mark.parametrize("make", [hostile_xlsx.dimension_bomb, hostile_xlsx.wide_row, hostile_xlsx.zip_bomb])
def test_a_hostile_xlsx_is_refused_whole(world, client, clock, make):
    o = office(world, clock)
    bid = create(client, o)
    before = counts(world.engine)
    body = assert_refusal(upload(client, o, bid, make(), "名单.xlsx"), 413, "file_too_large", "R-PLAN-1")
    assert body["detail"]["limit"] in ("rows", "columns", "unpacked_bytes")
    assert counts(world.engine) == before


def test_a_name_with_a_control_character_imports_nothing(world, client, clock):
    o = office(world, clock)
    bid = create(client, o)
    (n1, id1), (n2, id2) = person(1), person(2)
    content = f'name,id_number\r\n{n1},{id1}\r\n"{n2}\x1b[2J",{id2}\r\n'.encode()
    before = counts(world.engine)
    body = assert_refusal(upload(client, o, bid, content), 422, "import_rejected")
    assert [(e["row"], e["column"], e["code"], e["rule"]) for e in body["detail"]["errors"]] == [
        (3, "name", "control_characters", "R-PLAN-1")
    ]
    assert counts(world.engine) == before
