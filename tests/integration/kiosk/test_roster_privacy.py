"""A stolen kiosk roster yields no ID numbers (issue #14, finding 5; R-PRIV-1, DESIGN.md
"Who is trusted with what").

The roster carried the digest key (``id_salt``), a fast keyed digest of each ID number and a
masked ID with the region and the last four characters: the birth date was all that was left
to guess, and every number of a 20-candidate roster came back in seconds of plain Python
(``recover`` below is that attack). Now each candidate has a random salt of their own and a
memory-hard hash (argon2id), and the roster shows no digit of the number at all.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from datetime import date, timedelta

import httpx
import pytest

from examday.identity import id_digest, mask_id_number
from kiosk import idhash, offline
from tests.integration.kiosk.support import body, checkin_world
from tests.support import bearer

N = 6


@pytest.fixture
def w(db, clock, settings):
    return checkin_world(db, clock.now(), settings.secret_key, n=N)


@pytest.fixture
def roster(client, world, w):
    r = client.get(
        f"/api/v1/batches/{w.batch_id}/roster", headers=bearer(world.token("kiosk1", "kiosk", w.institution_id))
    )
    assert r.status_code == 200, r.text
    return r.json()


def recover(roster: dict, row: dict) -> str | None:
    """The finding's attack: region and tail from the masked ID, the key from the roster,
    then every birth date of 60 years against the keyed digest."""
    salt = base64.b64decode(roster["id_salt"])
    masked = row["masked_id"]
    region, tail = masked[:6], masked[-4:]
    day = date(1950, 1, 1)
    while day < date(2010, 1, 1):
        number = f"{region}{day:%Y%m%d}{tail}"
        if hmac.compare_digest(id_digest(number, salt), row["id_digest"]):
            return number
        day += timedelta(days=1)
    return None


def test_the_roster_gives_no_id_number_away_R_PRIV_1(roster, w):
    with pytest.raises(KeyError):  # nothing left to run the attack on: no key, no digest, no mask
        recover(roster, roster["candidates"][0])
    assert "id_salt" not in roster and roster["id_hash"]["alg"] == "argon2id"
    by_ticket = {c.ticket_number: c for c in w.candidates}
    salts = set()
    for row in roster["candidates"]:
        number = by_ticket[row["ticket_number"]].id_number
        # The ticket number is the institution's own serial (test data may share digits with a tail).
        shown = {k: v for k, v in row.items() if k not in ("id_salt", "id_hash", "ticket_number")}
        # Neither the region, the birth date nor the tail appears anywhere but inside the hash.
        for part in (number[:6], number[6:14], number[-4:]):
            assert part not in str(shown), (part, shown)
        assert not {"masked_id", "id_digest"} & set(row)
        salts.add(row["id_salt"])
        params = roster["id_hash"]
        assert idhash.matches(number, row["id_salt"], row["id_hash"], params)
        assert not idhash.matches(
            w.candidates[0].id_number if number != w.candidates[0].id_number else w.candidates[1].id_number,
            row["id_salt"],
            row["id_hash"],
            params,
        )
    assert len(salts) == N  # a salt per candidate: no guess is tried against two at once
    # Memory-hard and slow enough per guess (bench/roster.py measures the cost on the machine).
    assert roster["id_hash"]["memory_kib"] >= 19 * 1024 and roster["id_hash"]["time_cost"] >= 2


def test_the_offline_kiosk_still_checks_the_id_with_the_roster_R_DAY_1(roster, w, clock, tmp_path):
    store = offline.Store(tmp_path / "kiosk")
    store.save_roster(roster)
    rosters = store.rosters()
    now, inst = clock.now() + timedelta(minutes=40), w.institution_id
    status, ok, _ = offline.decide(rosters, w.qr(0), w.candidates[0].id_number, now, inst, "kiosk1", {})
    assert status == 200 and ok["candidate"]["masked_id"] == mask_id_number(w.candidates[0].id_number)
    status, no, _ = offline.decide(rosters, w.qr(0), w.candidates[1].id_number, now, inst, "kiosk1", {})
    assert (status, no["code"], no["rule"]) == (422, "id_mismatch", "R-ID-1")


def test_a_check_in_does_not_wait_for_a_first_roster_R_DAY_1(db, clock, settings, world, live_server):
    # Nothing made yet: this is the morning's first roster. The hashes take tens of milliseconds
    # each; the roster's transaction has ended by then (on SQLite it would hold the write lock),
    # so the door keeps answering.
    big = checkin_world(db, clock.now(), settings.secret_key, n=40)
    clock.advance(minutes=40)
    headers = bearer(world.token("kiosk1", "kiosk", big.institution_id))
    done: dict[str, float] = {}

    def fetch() -> None:
        r = httpx.get(f"{live_server}/api/v1/batches/{big.batch_id}/roster", headers=headers, timeout=120)
        assert r.status_code == 200
        done["roster"] = time.monotonic()

    t = threading.Thread(target=fetch)
    t.start()
    time.sleep(0.3)
    r = httpx.post(f"{live_server}/api/v1/checkins", json=body(big, 0), headers=headers, timeout=60)
    done["checkin"] = time.monotonic()
    t.join()
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert done["checkin"] < done["roster"]
