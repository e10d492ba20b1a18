"""The access policy's plain decisions (examday/access.py, issue #14): role × object,
table-driven, without the web layer or a database."""

from __future__ import annotations

import pytest

from examday.access import (
    BatchView,
    can_check_in,
    can_read_institution,
    can_read_scores,
    can_write_institution,
    is_filing_authority,
    room_view,
    same_province,
    sees_institution,
)
from examday.actor import Actor
from examday.errors import Refusal
from examday.plans.models import Batch
from examday.registry.models import Institution

JILIN = Institution(id=1, name="示范中心", uscc="x", province="吉林")
JILIN_SPELT = Institution(id=2, name="另一中心", uscc="y", province="吉林省")
SICHUAN = Institution(id=3, name="四川中心", uscc="z", province="四川")


def actor(role: str, institution_id: int | None = 1, province: str | None = None, staff_id: int | None = None):
    return Actor(7, f"u-{role}", role, institution_id, province, staff_id)


INSTALL_ADMIN = actor("admin", None)
CENTRE_JL = actor("centre", None, "吉林")
CENTRE_JL_SPELT = actor("centre", None, "吉林省")
CENTRE_SC = actor("centre", None, "四川省")
CENTRE_NOWHERE = actor("centre", None, None)
OWN = {r: actor(r) for r in ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor")}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("吉林", "吉林", True),
        ("吉林省", "吉林", True),
        ("吉林", "吉林省", True),
        ("广西壮族自治区", "广西", True),
        ("北京市", "北京", True),
        ("吉林", "四川", False),
        (None, None, False),  # an unknown province matches nothing, not even itself
        ("火星", "火星", False),
        ("", "吉林", False),
    ],
)
def test_one_province_however_spelt(a, b, same):
    assert same_province(a, b) is same


@pytest.mark.parametrize(
    ("who", "inst", "reads"),
    [
        (INSTALL_ADMIN, SICHUAN, True),
        (CENTRE_JL, JILIN, True),
        (CENTRE_JL, JILIN_SPELT, True),
        (CENTRE_JL_SPELT, JILIN, True),
        (CENTRE_JL_SPELT, JILIN_SPELT, True),
        (CENTRE_JL, SICHUAN, False),
        (CENTRE_SC, SICHUAN, True),
        (CENTRE_NOWHERE, JILIN, False),
        *[(a, JILIN, True) for a in OWN.values()],
        *[(a, SICHUAN, False) for a in OWN.values()],
        (actor("admin", 3), JILIN, False),
        (actor("proctor", None), JILIN, False),
        (actor("system", None), JILIN, False),
    ],
)
def test_who_reads_an_institution(who, inst, reads):
    assert can_read_institution(who, inst) is reads


@pytest.mark.parametrize(
    ("who", "writes"),
    [
        (INSTALL_ADMIN, True),
        (OWN["admin"], True),
        (actor("admin", 3), False),
        (CENTRE_JL, False),  # the centre reads the plans; the institution's office writes them
        *[(OWN[r], False) for r in ("kiosk", "proctor", "evaluator", "chief", "supervisor")],
    ],
)
def test_who_writes_an_institution(who, writes):
    assert can_write_institution(who, JILIN) is writes


def test_the_filing_authority_is_the_province_centre():
    """R-INST-2: the centre of the institution's province, however either is spelt."""
    assert is_filing_authority(CENTRE_JL_SPELT, JILIN) and is_filing_authority(CENTRE_JL, JILIN_SPELT)
    assert is_filing_authority(INSTALL_ADMIN, SICHUAN)
    assert not is_filing_authority(CENTRE_JL, SICHUAN) and not is_filing_authority(OWN["admin"], JILIN)


@pytest.mark.parametrize(
    ("role", "scores", "door", "watches"),
    [
        ("admin", True, True, True),
        ("centre", True, False, True),
        ("supervisor", True, False, True),
        ("proctor", False, False, True),
        ("evaluator", True, False, False),
        ("chief", True, False, False),
        ("kiosk", False, True, False),
    ],
)
def test_role_by_object(role, scores, door, watches):
    """The docstring table of examday/access.py, row by row, for the institution's own people."""
    who = CENTRE_JL_SPELT if role == "centre" else OWN[role]
    assert can_read_scores(who, JILIN) is scores
    assert can_check_in(who, JILIN) is door
    assert sees_institution(who, JILIN) is watches
    # Nobody of another institution or province gets any of it.
    stranger = CENTRE_SC if role == "centre" else actor(role, 3)
    assert not (can_read_scores(stranger, JILIN) or can_check_in(stranger, JILIN) or sees_institution(stranger, JILIN))


def test_a_proctors_view_holds_their_rooms_only():
    """R-DAY-3 (issue #14 finding 9): a proctor's view sees their rooms, by code and by id."""
    batch = Batch(id=5, institution_id=1, occupation_code="6-31-01-03", level=4, parts="theory", exam_date=None)
    view = room_view(OWN["proctor"], batch, JILIN, {11: "T01"})
    assert view.sees("T01") and not view.sees("T02") and not view.sees(None)
    assert view.sees_room_id(11) and not view.sees_room_id(12) and not view.sees_room_id(None)
    view.require_room("T01")
    with pytest.raises(Refusal) as refused:
        view.require_room("T02")
    assert refused.value.status == 403 and refused.value.code == "forbidden"
    full = room_view(OWN["admin"], batch, JILIN, None)
    assert isinstance(full, BatchView) and full.full
    assert full.sees("T02") and full.sees(None) and full.sees_room_id(99)
