"""Ticket QR token: R-DAY-1 (refusals with their reason), R-PRIV-1 (no ID number in the code)."""

from __future__ import annotations

import base64
import json
import re
from datetime import date

import pytest

from examday.errors import Refusal
from examday.ticket_token import (
    ID_DIGEST_BYTES,
    PREFIX,
    TicketClaims,
    generate_key,
    id_digest,
    id_matches,
    issue,
    new_token_id,
    public_keys_document,
    verify,
)

SECRET = b"institution-secret-for-tests"
ID_NUMBER = "11010519491231002X"


@pytest.fixture(scope="module")
def key():
    return generate_key()


def _claims(ticket: str = "2026051000123", **over) -> TicketClaims:
    base = dict(
        ticket_number=ticket,
        batch_id=4821,
        exam_date=date(2026, 5, 10),
        id_digest=id_digest(ID_NUMBER, SECRET),
        token_id=new_token_id(),
    )
    base.update(over)
    return TicketClaims(**base)


def _refused(code: str, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as err:
        verify(*args, **kwargs)
    assert err.value.code == code
    assert err.value.rule == "R-DAY-1" and err.value.status == 422
    return err.value


def test_round_trip_keeps_every_claim(key):
    kid, pem, pub = key
    claims = _claims()
    text = issue(pem, kid, claims)
    got = verify(text, {kid: pub})
    assert got.ticket_number == claims.ticket_number
    assert got.batch_id == claims.batch_id
    assert got.exam_date == claims.exam_date
    assert got.token_id == claims.token_id
    assert got.id_digest == claims.id_digest[: 2 * ID_DIGEST_BYTES]
    assert id_matches(got, id_digest(ID_NUMBER, SECRET))  # R-DAY-1
    assert not id_matches(got, id_digest("110105194912310038", SECRET))
    # Kiosk scanners type a trailing newline.
    assert verify(text + "\r\n", {kid: pub}) == got


@pytest.mark.parametrize("ticket", ["2026051000123", "0007", "0", "T2026-05-0012", "京2026甲001", "9" * 40])
def test_ticket_numbers_of_any_shape_survive(key, ticket):
    kid, pem, pub = key
    assert verify(issue(pem, kid, _claims(ticket)), {kid: pub}).ticket_number == ticket


def test_text_is_compact_ascii_and_holds_no_id_number(key):  # R-PRIV-1
    kid, pem, _ = key
    text = issue(pem, kid, _claims(batch_id=123456))
    assert text.startswith(PREFIX)
    assert re.fullmatch(r"EX1\.[A-Za-z0-9_-]+", text)
    assert len(text) <= 140
    raw = base64.urlsafe_b64decode(text[4:] + "==")
    assert ID_NUMBER.encode() not in raw and b"19491231" not in raw


def test_every_flipped_byte_is_refused(key):  # R-DAY-1
    kid, pem, pub = key
    text = issue(pem, kid, _claims())
    raw = bytearray(base64.urlsafe_b64decode(text[4:] + "=="))
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        forged = PREFIX + base64.urlsafe_b64encode(bytes(bad)).decode().rstrip("=")
        err = _refused("invalid_ticket", forged, {kid: pub})
        assert err.detail["reason"] in {"signature", "unknown_key"}


def test_tampered_character_truncated_and_garbage_are_refused(key):  # R-DAY-1
    kid, pem, pub = key
    text = issue(pem, kid, _claims())
    middle = len(text) // 2
    swapped = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    _refused("invalid_ticket", swapped, {kid: pub})
    for cut in (1, 2, 10, len(text) - 4):
        _refused("invalid_ticket", text[:-cut], {kid: pub})
    for garbage in (
        "",
        "EX1.",
        "hello",
        "EX2." + text[4:],
        text.lower(),
        text + "A",
        "EX1.!!!!",
        "EX1." + "A" * 200,
        None,
        12345,
        "x" * 5000,
    ):
        _refused("invalid_ticket", garbage, {kid: pub})


def test_wrong_key_and_unknown_kid_are_refused(key):  # R-DAY-1
    kid, pem, _ = key
    other_kid, _, other_pub = generate_key()
    text = issue(pem, kid, _claims())
    # Right kid, wrong public key: the signature cannot hold.
    assert _refused("invalid_ticket", text, {kid: other_pub}).detail["reason"] == "signature"
    assert _refused("invalid_ticket", text, {other_kid: other_pub}).detail["reason"] == "unknown_key"
    assert _refused("invalid_ticket", text, {}).detail["reason"] == "unknown_key"


def test_revoked_key_and_revoked_token_are_refused(key):  # R-DAY-1
    kid, pem, pub = key
    claims = _claims()
    text = issue(pem, kid, claims)
    err = _refused("revoked_ticket", text, {kid: pub}, revoked_kids=frozenset({kid}))
    assert err.detail["reason"] == "key_revoked"
    # A withdrawn key may no longer be published at all.
    _refused("revoked_ticket", text, {}, revoked_kids=frozenset({kid}))
    err = _refused("revoked_ticket", text, {kid: pub}, revoked_token_ids=frozenset({claims.token_id}))
    assert err.detail["reason"] == "token_revoked"
    # The reissued ticket has a fresh token id and still passes.
    reissued = issue(pem, kid, _claims(token_id=new_token_id()))
    assert verify(reissued, {kid: pub}, revoked_token_ids=frozenset({claims.token_id}))


def test_a_forgery_under_a_revoked_key_is_still_called_invalid(key):
    kid, pem, pub = key
    text = issue(pem, kid, _claims())
    forged = text[:-3] + ("AAA" if text[-3:] != "AAA" else "BBB")
    _refused("invalid_ticket", forged, {kid: pub}, revoked_kids=frozenset({kid}))


def test_issue_refuses_a_kid_that_is_not_the_keys_own(key):
    kid, pem, _ = key
    other_kid, _, _ = generate_key()
    with pytest.raises(ValueError):
        issue(pem, other_kid, _claims())
    with pytest.raises(ValueError):
        issue(pem, kid, _claims(token_id="not-hex"))
    with pytest.raises(ValueError):
        issue(pem, kid, _claims(exam_date=date(1999, 12, 31)))


def test_public_keys_document_is_json_and_verifies(key):
    kid, pem, pub = key
    doc = public_keys_document({kid: pub}, revoked_kids={"00000000"})
    json.dumps(doc)
    (entry,) = doc["keys"]
    assert entry["kid"] == kid and entry["crv"] == "Ed25519" and entry["revoked"] is False
    assert doc["revoked_kids"] == ["00000000"]
    # What a kiosk reads back from the document is enough to verify offline.
    text = issue(pem, kid, _claims())
    assert verify(text, {e["kid"]: e["x"] for e in doc["keys"]}).batch_id == 4821
