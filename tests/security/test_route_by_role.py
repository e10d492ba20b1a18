"""Every route of the OpenAPI document, as every role, with another institution's ids (issue #14;
R-PRIV-1, R-STAFF-4, R-DAY-3).

The authorization twin of tests/fuzz/test_openapi_fuzz.py: where the fuzzer sends malformed
input, this sends well-formed calls that name what the caller may not reach, and fails on any
2xx that leaks. Callers are every role of institution A (吉林) — admin, kiosk, the proctor of
room T01, evaluator, chief, internal supervisor — the centre of 吉林, anonymous, and the
installation administrator (who may see all); their calls name institution B (四川): its
institution, batches, candidates, check-ins, staff, accounts, keys, holds and objections.
The A proctor also calls the room operations with room T02 of A's own batch, A's evaluator
and chief the examiner operations with another examiner of A, and A's recorder (holding A's
recorder key) signs a hook naming B's camera.

A 2xx to a call that names B is a leak, except for the installation administrator (and for a
centre of B's province, which is not among the callers). A call naming nothing of B (lists,
the caller's own things) may answer 2xx, but not with B's markers in it: B's name, USCC,
candidates' names or ticket numbers. tests/security/routes.py classifies every operation and
says why each public one is public; a new operation fails test_every_operation_is_classified
until it gets a row. tests/security/walk.py sends the calls (once for the package);
tests/security/test_pages_by_role.py does the same for the pages and the live feed.

Leaks not fixed yet are in KNOWN_LEAKS, marked xfail(strict): fixing one turns its case into
an XPASS, which fails and asks the fixer to remove the entry.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.security.routes import ROOT_CANNOT_REACH, ROUTES
from tests.security.walk import ROOT, cases_of
from tests.security.world import RouteWorld

# (method, path, case, actor) -> what leaks; remove the entry when the leak is fixed. Empty since
# the access policy (e843c1e, 1e4226d): before it, the proctor of T01 read T02's candidates,
# seats, check-ins, seating chart, door list and sign-in sheet.
KNOWN_LEAKS: dict[tuple[str, str, str, str], str] = {}


def b_markers_in(w: RouteWorld, text: str) -> list[str]:
    found = [m for m in w.b_markers if m in text]
    if re.search(rf'"institution_id":\s*{w.b.iid}\b', text):
        found.append(f"institution_id {w.b.iid}")
    return found


def leak(w: RouteWorld, key: tuple[str, str, str, str], a: dict[str, Any]) -> str | None:
    """What the answer gives away, or None."""
    method, path, case, actor = key
    route = ROUTES[(method, path)]
    if route.kind == "public" or actor == ROOT:
        return None
    text = a["text"]
    if case == "B" and a["status"] >= 300 and (found := b_markers_in(w, text)):
        return f"the refusal carries B's data: {found}"
    if not 200 <= a["status"] < 300:
        return None
    if case == "B":
        found = b_markers_in(w, text)
        if route.kind == "own":
            return f"B's data in the answer: {found}" if found else None
        if route.sync:  # one result per record: a leak only if B's record was taken
            return f"B's check-in accepted: {text[:200]}" if '"accepted"' in text or found else None
        return f"{a['status']} to a call naming B's objects"
    markers = w.room_markers + ['"room_code":"T02"'] if case == "room" else w.examiner_markers
    if actor in route.readers:
        return None
    if method != "GET":
        return f"{a['status']}: acted for another {'room' if case == 'room' else 'examiner'}"
    if case == "room" and "json" not in a["type"]:
        return f"{a['status']}: another room's {a['type']}"
    found = [m for m in markers if m in text.replace(": ", ":")]
    return f"another {'room' if case == 'room' else 'examiner'}'s data: {found}" if found else None


def test_every_operation_is_classified(walk):
    """A new operation fails here until routes.py says how to call it (or why it is public)."""
    ops = set(walk["ops"])
    unclassified = sorted(ops - set(ROUTES))
    stale = sorted(k for k in set(ROUTES) - ops if not ROUTES[k].pending)
    assert not unclassified, f"operations with no row in tests/security/routes.py: {unclassified}"
    assert not stale, f"rows for operations no longer in the OpenAPI document: {stale}"
    walked = {(m, p) for m, p, _, _ in walk["answers"]}
    assert walked == ops, "every operation of the document is walked"
    for key, route in ROUTES.items():
        assert route.kind in ("public", "foreign", "own"), key
        assert (route.kind == "public") == bool(route.why), f"{key}: a public row says why, only it"


def test_the_calls_reach_the_authorization_decision(walk):
    """The bodies and parameters pass validation: the installation administrator, whom no rule of
    scope stops, is not refused for the input's shape; nor is every caller refused alike."""
    bad = []
    for method, path in walk["ops"]:
        if ROUTES.get((method, path), None) is None or ROUTES[(method, path)].kind == "public":
            continue
        a = walk["answers"][(method, path, "B", ROOT)]
        if (method, path) not in ROOT_CANNOT_REACH and (a["status"] == 400 or a["code"] == "invalid_input"):
            bad.append(f"{a['request']} → {a['status']} {a['text'][:300]}")
    assert not bad, "calls that die in validation:\n" + "\n".join(bad)
    reached = [
        op
        for op in walk["ops"]
        if any(
            a["status"] not in (400, 401, 403) and a["code"] != "invalid_input"
            for (m, p, _, _), a in walk["answers"].items()
            if (m, p) == op
        )
    ]
    assert len(reached) >= 0.8 * len(walk["ops"]), "too few calls get past validation and the role guard"


def test_the_office_reads_its_own_through_the_same_calls(walk):
    """The control: A's exam office, calling every read that names B with A's own ids instead, is
    never refused (what it meets is a missing photo or a state, not 401 or 403): the refusals to
    the calls naming B are about B."""
    refused = [
        f"{a['request']} → {a['status']} {a['code']}"
        for (_, _, case, _), a in walk["answers"].items()
        if case == "A" and a["status"] in (401, 403)
    ]
    assert any(case == "A" for _, _, case, _ in walk["answers"])
    assert not refused, "A's own reads refused to A's office:\n" + "\n".join(refused)


# Lists in which the installation administrator sees B: the same lists must not show B to others.
ROOT_SEES_B_IN = [
    ("GET", "/api/v1/institutions"),
    ("GET", "/api/v1/batches"),
    ("GET", "/api/v1/centre/blocked-batches"),
    ("GET", "/api/v1/centre/notices"),
    ("GET", "/api/v1/holds"),
    ("GET", "/api/v1/retention"),
    ("GET", "/api/v1/checkin-batches"),
]


def test_the_lists_hold_b_for_the_installation_administrator(walk):
    """Not vacuous: the lists the others must not see B in do hold B."""
    blind = []
    for key in ROOT_SEES_B_IN:
        a = walk["answers"].get((*key, "B", ROOT))
        if a is not None and not b_markers_in(walk["world"], a["text"]):
            blind.append(f"{a['request']} → {a['status']} {a['text'][:200]}")
    assert not blind, "lists without B even for the installation administrator:\n" + "\n".join(blind)


def test_a_reader_sees_the_other_examiners_data(walk):
    """Not vacuous: where a role may read another examiner's data, its answer carries the marker
    that the others' answers must not."""
    w = walk["world"]
    for (method, path), route in ROUTES.items():
        for actor in route.readers:
            a = walk["answers"][(method, path, "examiner", actor)]
            assert any(m in a["text"] for m in w.examiner_markers), f"{actor}: {a['request']} → {a['text'][:300]}"


def _params():
    out = []
    for key in ROUTES:
        for case, actor in cases_of(key):
            full = (*key, case, actor)
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_LEAKS[full])] if full in KNOWN_LEAKS else []
            out.append(pytest.param(full, id=f"{key[0]} {key[1]} [{case}] {actor}", marks=marks))
    return out


@pytest.mark.parametrize("key", _params())
def test_no_leak(walk, key):
    answer = walk["answers"].get(key)
    if answer is None and ROUTES[key[:2]].pending:
        pytest.skip("not served yet")
    assert answer is not None, f"{key[0]} {key[1]} is no longer in the OpenAPI document: remove its row"
    assert answer["status"] < 500, f"{answer['request']} → {answer['status']}: {answer['text'][:300]}"
    found = leak(walk["world"], key, answer)
    assert found is None, f"{key[3]}: {answer['request']} → {found}: {answer['text'][:300]}"
