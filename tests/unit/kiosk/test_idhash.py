"""The roster's ID hash (R-PRIV-1, issue #14 finding 5): argon2id with a salt per candidate."""

from __future__ import annotations

from datetime import date

import pytest

from examday.identity import make_id_number
from kiosk import idhash

ID = make_id_number(date(1990, 3, 4), seq=4)
OTHER = make_id_number(date(1990, 3, 5), seq=4)


def test_a_typed_number_matches_its_own_hash_only():
    salt, digest = idhash.entry(ID)
    assert idhash.matches(ID, salt, digest)
    assert idhash.matches(f" {ID.lower()} ", salt, digest)  # typed with a lower-case x
    assert not idhash.matches(OTHER, salt, digest)
    assert not idhash.matches(ID, "not base64!", digest) and not idhash.matches(ID, salt, "zz")


def test_two_candidates_with_one_number_get_different_salts_and_hashes():
    assert idhash.entry(ID) != idhash.entry(ID)


@pytest.mark.parametrize("change", [{"alg": "sha256"}, {"memory_kib": 1024}, {"time_cost": 1000}, {"parallelism": 64}])
def test_the_kiosk_refuses_parameters_outside_its_limits(change):
    salt, digest = idhash.entry(ID)
    with pytest.raises(ValueError):
        idhash.matches(ID, salt, digest, {**idhash.PARAMS, **change})
