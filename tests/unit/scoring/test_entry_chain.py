"""Signed, hash-chained score entry versions (R-SCORE-1, R-SCORE-2)."""

from __future__ import annotations

from dataclasses import asdict, replace
from decimal import Decimal as D

import pytest

from examday.errors import Refusal
from scoring.entry_chain import (
    ENROLMENT_HASH,
    EntryVersion,
    entry_hash,
    new_version,
    sign_entry,
    verify_chain,
    verify_signature,
)

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
IDS = dict(batch_id="B1", candidate_id="C7", part="skill", examiner_id="E2")
BASE = dict(
    prev_hash=None,
    batch_id="B1",
    candidate_id="C7",
    part="skill",
    examiner_id="E2",
    items={"A1": D("30"), "A2": D("45.5")},
    version=1,
    at_iso="2025-10-15T10:00:00+08:00",
)


def chain(*item_sets: dict) -> list[EntryVersion]:
    out: list[EntryVersion] = []
    for i, items in enumerate(item_sets):
        out.append(new_version(out[-1] if out else None, items=items, at_iso=f"2025-10-15T10:0{i}:00+08:00", **IDS))
    return out


THREE = chain({"A1": D(30), "A2": D("45.5")}, {"A1": D(31), "A2": D("45.5")}, {"A1": D(31), "A2": D(46)})


def test_hash_is_sha256_hex_and_stable():
    h = entry_hash(**BASE)
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == entry_hash(**BASE)


@pytest.mark.parametrize(
    "change",
    [
        {"prev_hash": "0" * 64},
        {"batch_id": "B2"},
        {"candidate_id": "C8"},
        {"part": "theory"},
        {"examiner_id": "E3"},
        {"items": {"A1": D("30.1"), "A2": D("45.5")}},
        {"items": {"A1": D("30")}},
        {"items": {"A1": D("30"), "A2": D("45.5"), "A3": D(0)}},
        {"version": 2},
        {"at_iso": "2025-10-15T10:00:01+08:00"},
    ],
)
def test_hash_covers_every_field(change):
    assert entry_hash(**{**BASE, **change}) != entry_hash(**BASE)


@pytest.mark.parametrize(
    "change",
    [
        {"items": {"A2": D("45.50"), "A1": D("30.0")}},  # key order and trailing zeros
        {"items": {"A1": 30, "A2": "45.5"}},
        {"items": {"A1": 30.0, "A2": 45.5}},
        {"batch_id": "B1"},
    ],
)
def test_hash_is_canonical(change):
    assert entry_hash(**{**BASE, **change}) == entry_hash(**BASE)


def test_ids_hash_as_strings():
    assert entry_hash(**{**BASE, "batch_id": 1}) == entry_hash(**{**BASE, "batch_id": "1"})


@pytest.mark.parametrize(
    "change", [{"version": 0}, {"version": True}, {"at_iso": ""}, {"items": {"A1": "x"}}, {"items": {"A1": None}}]
)
def test_hash_refuses_malformed(change):
    with pytest.raises(ValueError):
        entry_hash(**{**BASE, **change})


def test_new_version_links_and_numbers():
    assert [v.version for v in THREE] == [1, 2, 3]
    assert THREE[0].prev_hash is None
    assert THREE[1].prev_hash == THREE[0].hash
    assert THREE[2].prev_hash == THREE[1].hash


def test_new_version_never_crosses_entries():
    with pytest.raises(Refusal) as caught:
        new_version(
            THREE[-1],
            batch_id="B1",
            candidate_id="C8",
            part="skill",
            examiner_id="E2",
            items={"A1": D(1)},
            at_iso="2025-10-15T11:00:00+08:00",
        )
    assert caught.value.code == "entry_chain_mismatch"


# R-SCORE-2: an edited, removed or reordered version is found.
@pytest.mark.parametrize(
    "versions, broken",
    [
        (THREE, None),
        (THREE[:1], None),
        ([], None),
        ([replace(THREE[0], items={"A1": D(40), "A2": D("45.5")})] + THREE[1:], 0),  # edited score
        (THREE[:1] + [replace(THREE[1], items={"A1": D(50), "A2": D("45.5")})] + THREE[2:], 1),
        (THREE[:2] + [replace(THREE[2], at_iso="2025-10-15T09:00:00+08:00")], 2),  # back-dated
        (THREE[:2] + [replace(THREE[2], examiner_id="E3")], 2),
        ([THREE[0], THREE[2]], 1),  # version removed
        (THREE[1:], 0),  # first removed
        ([THREE[1], THREE[0], THREE[2]], 0),  # reordered
        (THREE[:1] + [replace(THREE[1], hash="0" * 64)] + THREE[2:], 1),  # hash forged
        (THREE + [THREE[2]], 3),  # replayed
    ],
)
def test_verify_chain(versions, broken):
    assert verify_chain(versions) == broken


def test_recomputing_an_edited_version_breaks_the_next_link():
    edited = replace(THREE[1], items={"A1": D(99), "A2": D(0)})
    edited = replace(edited, hash=edited.recomputed_hash())
    assert verify_chain([THREE[0], edited, THREE[2]]) == 2


def test_verify_chain_accepts_mappings_and_flags_unreadable_rows():
    rows = [asdict(v) for v in THREE]
    assert verify_chain(rows) is None
    rows[1]["items"] = {"A1": "31.0", "A2": "45.5"}  # same value as stored text
    assert verify_chain(rows) is None
    del rows[2]["hash"]
    assert verify_chain(rows) == 2
    assert verify_chain([{"nonsense": True}]) == 0


def test_chain_of_another_entry_cannot_be_spliced_in():
    other = new_version(
        None,
        batch_id="B1",
        candidate_id="C8",
        part="skill",
        examiner_id="E2",
        items={"A1": D(1)},
        at_iso="2025-10-15T10:00:00+08:00",
    )
    spliced = new_version(
        other,
        batch_id="B1",
        candidate_id="C8",
        part="skill",
        examiner_id="E2",
        items={"A1": D(2)},
        at_iso="2025-10-15T10:01:00+08:00",
    )
    assert verify_chain([THREE[0], spliced]) == 1


# R-SCORE-1: the examiner signs with their PIN; the server's per-examiner secret keys it.
def test_signature_round_trip():
    h = THREE[0].hash
    sig = sign_entry(h, "123456", SECRET)
    assert sig.startswith("v1:") and len(sig) == 3 + 64
    assert verify_signature(h, sig, "123456", SECRET)
    assert sign_entry(h, "123456", SECRET) == sig
    assert sign_entry(h.upper(), "123456", SECRET) == sig


@pytest.mark.parametrize(
    "hash_hex, pin, secret",
    [
        (THREE[1].hash, "123456", SECRET),  # another version
        (THREE[0].hash, "654321", SECRET),  # wrong PIN
        (THREE[0].hash, "1234567", SECRET),
        (THREE[0].hash, "123456", OTHER_SECRET),  # another examiner
        (THREE[0].hash, "12a456", SECRET),  # malformed PIN verifies nothing
    ],
)
def test_signature_does_not_verify_otherwise(hash_hex, pin, secret):
    sig = sign_entry(THREE[0].hash, "123456", SECRET)
    assert not verify_signature(hash_hex, sig, pin, secret)


@pytest.mark.parametrize("pin", ["", "123", "12345678901234", "12 34", "abcd", None, 1234, "１２３４"])
def test_pin_format_refused(pin):
    with pytest.raises(Refusal) as caught:
        sign_entry(THREE[0].hash, pin, SECRET)
    assert caught.value.code == "pin_invalid"
    assert caught.value.rule == "R-SCORE-1"


@pytest.mark.parametrize(
    "hash_hex, secret",
    [
        ("abc", SECRET),
        ("g" * 64, SECRET),
        (None, SECRET),
        (THREE[0].hash, b"short"),
        (THREE[0].hash, "text" * 8),
    ],
)
def test_sign_refuses_bad_inputs(hash_hex, secret):
    with pytest.raises(ValueError):
        sign_entry(hash_hex, "1234", secret)


def test_enrolment_tag_checks_a_typed_pin_without_storing_it():
    tag = sign_entry(ENROLMENT_HASH, "2468", SECRET)
    assert verify_signature(ENROLMENT_HASH, tag, "2468", SECRET)
    assert not verify_signature(ENROLMENT_HASH, tag, "2469", SECRET)
    assert "2468" not in tag


def test_tampered_signature_fails():
    sig = sign_entry(THREE[0].hash, "123456", SECRET)
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert not verify_signature(THREE[0].hash, flipped, "123456", SECRET)
    assert not verify_signature(THREE[0].hash, None, "123456", SECRET)  # type: ignore[arg-type]
