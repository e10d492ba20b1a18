"""ID numbers in a batch's scores (``GET /api/v1/batches/{bid}/scores``): in full for the exam
office only, masked for every other role that reads them (R-PRIV-1)."""

from __future__ import annotations

from sqlmodel import Session

from examday.identity import mask_id_number
from examday.plans.models import Candidate
from tests.support import bearer


def id_numbers(sw) -> dict[int, str]:
    with Session(sw.engine) as db:
        return {cid: db.get(Candidate, cid).id_number for cid in sw.candidates}


def shown(sw, headers) -> dict[int, str]:
    return {c["id"]: c["id_number"] for c in sw.scores(headers)["candidates"]}


def test_scores_mask_id_numbers_for_every_role_but_the_office_R_PRIV_1(sw, world):
    full = id_numbers(sw)
    assert shown(sw, sw.admin) == full
    readers = {
        "chief": sw.scorer(0),
        "evaluator": sw.scorer(1),
        "supervisor": bearer(world.token("supervisor-1", "supervisor", sw.institution_id)),
        "centre": bearer(world.token("centre-jl", "centre", province="吉林")),
    }
    for role, headers in readers.items():
        seen = shown(sw, headers)
        assert seen == {cid: mask_id_number(n) for cid, n in full.items()}, role
        assert all(n not in str(seen) for n in full.values()), role
