"""The admission-ticket QR token (准考证二维码): signed, compact, checkable offline.

Rules: R-DAY-1 (check-in verifies the ticket together with the ID number, and
every refusal carries its reason) and R-PRIV-1 (the printed code never carries
the ID number, only a keyed digest of it).

Text form: ``EX1.`` + base64url (no padding) of::

    kid(4) | token_id(8) | exam_date(2) | batch_id(varint) | id_digest(12)
    | ticket_number(rest) | Ed25519 signature(64)

The ticket number comes last so it needs no length byte; an all-digit ticket
number is packed as an integer with a digit count, which keeps a 13-digit
ticket near 136 characters (one QR version 8 symbol at level M). The signature
covers ``EX1`` and every byte before it, so the prefix is bound too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from examday.errors import Refusal

# One keyed digest for the whole system (R-PRIV-1): the ticket and the server's
# register must agree, so this module re-exports it rather than defining its own.
from examday.identity import id_digest

__all__ = [
    "TicketClaims",
    "generate_key",
    "id_digest",
    "id_matches",
    "issue",
    "new_token_id",
    "public_keys_document",
    "verify",
]

PREFIX = "EX1."
_DOMAIN = b"EX1"
# 96 bits: the digest is signed, so it only has to tell the right ID from a
# wrong one at the kiosk; 16 bytes would push a typical token past 140 chars.
ID_DIGEST_BYTES = 12
TOKEN_ID_BYTES = 8
KID_BYTES = 4
_SIG_BYTES = 64
_EPOCH = date(2000, 1, 1)
_NUMERIC_FLAG = 0x80
_MIN_BODY = KID_BYTES + TOKEN_ID_BYTES + 2 + 1 + ID_DIGEST_BYTES + 2
_MAX_TEXT = 600
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class TicketClaims:
    ticket_number: str
    batch_id: int
    exam_date: date
    id_digest: str
    token_id: str


def new_token_id() -> str:
    """A fresh random token id; a reissued ticket gets a new one so the old can be revoked."""
    return secrets.token_hex(TOKEN_ID_BYTES)


def id_matches(claims: TicketClaims, digest_hex: str) -> bool:
    """Does the ID presented at the kiosk match the ticket? (R-DAY-1)"""
    want = claims.id_digest.lower()
    got = digest_hex.strip().lower()[: len(want)]
    return len(want) == ID_DIGEST_BYTES * 2 and hmac.compare_digest(want, got)


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).digest()[:KID_BYTES].hex()


def generate_key() -> tuple[str, bytes, str]:
    """A new signing key: (kid, private key as PKCS#8 PEM, raw public key in base64)."""
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_id(raw), pem, base64.b64encode(raw).decode("ascii")


def issue(private_pem: bytes, kid: str, claims: TicketClaims) -> str:
    private = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError("ticket keys are Ed25519")
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    # A kid that names another key would make every ticket of the batch fail
    # at the door on exam day; refuse it here, where it is cheap to fix.
    if kid != key_id(raw):
        raise ValueError(f"kid {kid!r} does not belong to this private key")
    body = _pack(kid, claims)
    return PREFIX + _b64encode(body + private.sign(_DOMAIN + body))


def verify(
    text: object,
    public_keys: Mapping[str, str],
    revoked_kids: frozenset[str] | set[str] = frozenset(),
    revoked_token_ids: frozenset[str] | set[str] = frozenset(),
) -> TicketClaims:
    """Check a scanned ticket code and return its claims (R-DAY-1).

    Raises ``invalid_ticket`` for anything that is not an intact code signed by
    a known key, and ``revoked_ticket`` for a revoked key or token id.
    """
    if not isinstance(text, str):
        raise _invalid("format")
    # Keyboard-wedge scanners append CR/LF; nothing else is forgiven.
    text = text.strip()
    if len(text) > _MAX_TEXT or not text.startswith(PREFIX):
        raise _invalid("format")
    blob = _b64decode(text[len(PREFIX) :])
    if blob is None or len(blob) < _MIN_BODY + _SIG_BYTES:
        raise _invalid("format")
    body, signature = blob[:-_SIG_BYTES], blob[-_SIG_BYTES:]
    kid = body[:KID_BYTES].hex()
    raw_b64 = public_keys.get(kid)
    if raw_b64 is None:
        # A withdrawn key may be gone from the key set; still say why.
        if kid in revoked_kids:
            raise _revoked("key_revoked", kid=kid)
        raise _invalid("unknown_key", kid=kid)
    try:
        _public_key(raw_b64).verify(signature, _DOMAIN + body)
    except InvalidSignature:
        raise _invalid("signature", kid=kid) from None
    claims = _unpack(body)
    if claims is None:
        # Signed but unreadable means a newer or broken issuer, not a forgery.
        raise _invalid("format", kid=kid)
    if kid in revoked_kids:
        raise _revoked("key_revoked", kid=kid)
    if claims.token_id in revoked_token_ids:
        raise _revoked("token_revoked", kid=kid, token_id=claims.token_id)
    return claims


def public_keys_document(
    keys: Mapping[str, str], revoked_kids: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The JSON answer of GET ticket-keys: what a kiosk needs to verify offline."""
    entries = []
    for kid in sorted(keys):
        raw = _raw_public(keys[kid])
        entries.append(
            {
                "kid": kid,
                "alg": "EdDSA",
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
                "public_key": base64.b64encode(raw).decode("ascii"),
                "revoked": kid in revoked_kids,
            }
        )
    return {
        "format": PREFIX.rstrip("."),
        "prefix": PREFIX,
        "algorithm": "Ed25519",
        "signed_message": "ASCII 'EX1' followed by the decoded token minus its last 64 bytes",
        "layout": [
            f"kid:{KID_BYTES}",
            f"token_id:{TOKEN_ID_BYTES}",
            "exam_date:2 (days since 2000-01-01, big-endian)",
            "batch_id:LEB128",
            f"id_digest:{ID_DIGEST_BYTES} (HMAC-SHA256 prefix)",
            "ticket_number:rest (first byte 0x80|digits then big-endian integer, or 0x00 then UTF-8)",
            f"signature:{_SIG_BYTES}",
        ],
        "keys": entries,
        # Listed so an offline kiosk can say "revoked" rather than "unknown key".
        "revoked_kids": sorted(revoked_kids),
    }


def _pack(kid: str, claims: TicketClaims) -> bytes:
    if not (len(kid) == KID_BYTES * 2 and _HEX.fullmatch(kid)):
        raise ValueError("kid must be 8 lowercase hex characters")
    token_id = claims.token_id
    if not (len(token_id) == TOKEN_ID_BYTES * 2 and _HEX.fullmatch(token_id)):
        raise ValueError("token_id must be 16 lowercase hex characters")
    digest = claims.id_digest.lower()
    if len(digest) < ID_DIGEST_BYTES * 2 or len(digest) % 2 or not _HEX.fullmatch(digest):
        raise ValueError(f"id_digest must be hex of at least {ID_DIGEST_BYTES} bytes")
    days = (claims.exam_date - _EPOCH).days
    if not 0 <= days < 1 << 16:
        raise ValueError("exam_date out of range")
    if claims.batch_id < 0:
        raise ValueError("batch_id must not be negative")
    return b"".join(
        (
            bytes.fromhex(kid),
            bytes.fromhex(token_id),
            days.to_bytes(2, "big"),
            _varint(claims.batch_id),
            bytes.fromhex(digest)[:ID_DIGEST_BYTES],
            _pack_ticket(claims.ticket_number),
        )
    )


def _pack_ticket(ticket: str) -> bytes:
    if not ticket:
        raise ValueError("ticket_number is empty")
    if ticket.isascii() and ticket.isdigit() and len(ticket) < _NUMERIC_FLAG:
        value = int(ticket)
        return bytes([_NUMERIC_FLAG | len(ticket)]) + value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    encoded = ticket.encode("utf-8")
    if len(encoded) > 120:
        raise ValueError("ticket_number is too long for the QR code")
    return b"\x00" + encoded


def peek(text: object) -> tuple[str, str] | None:
    """The key id and token id a code names, read WITHOUT checking its signature: only to fetch
    the one key and ticket ``verify`` then checks it against (issue #18). None for anything
    ``verify`` would refuse as malformed anyway."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > _MAX_TEXT or not text.startswith(PREFIX):
        return None
    blob = _b64decode(text[len(PREFIX) :])
    if blob is None or len(blob) < _MIN_BODY + _SIG_BYTES:
        return None
    claims = _unpack(blob[:-_SIG_BYTES])
    return (blob[:KID_BYTES].hex(), claims.token_id) if claims is not None else None


def _unpack(body: bytes) -> TicketClaims | None:
    try:
        pos = KID_BYTES
        token_id = body[pos : pos + TOKEN_ID_BYTES].hex()
        pos += TOKEN_ID_BYTES
        exam_date = _EPOCH + timedelta(days=int.from_bytes(body[pos : pos + 2], "big"))
        pos += 2
        batch_id, pos = _read_varint(body, pos)
        digest = body[pos : pos + ID_DIGEST_BYTES]
        pos += ID_DIGEST_BYTES
        head, tail = body[pos], body[pos + 1 :]
        if head & _NUMERIC_FLAG:
            ticket = str(int.from_bytes(tail, "big")).zfill(head & 0x7F)
        elif head == 0:
            ticket = tail.decode("utf-8")
        else:
            return None
        claims = TicketClaims(ticket, batch_id, exam_date, digest.hex(), token_id)
        # Only the canonical encoding is accepted, so one ticket has one text.
        if len(digest) != ID_DIGEST_BYTES or _pack(body[:KID_BYTES].hex(), claims) != body:
            return None
        return claims
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
        if shift > 63:
            raise ValueError("varint too long")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes | None:
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if _b64encode(data) == text else None


def _raw_public(raw_b64: str) -> bytes:
    # Keys are stored as standard base64; accept the URL-safe form too.
    text = raw_b64.strip().replace("-", "+").replace("_", "/")
    raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


@lru_cache(maxsize=256)
def _public_key(raw_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw_public(raw_b64))


def _invalid(reason: str, **detail: str) -> Refusal:
    return Refusal(
        "invalid_ticket",
        "准考证二维码无效",
        "The admission ticket code is not valid.",
        "R-DAY-1",
        422,
        {"reason": reason, **detail},
    )


def _revoked(reason: str, **detail: str) -> Refusal:
    return Refusal(
        "revoked_ticket",
        "该准考证已作废，请使用补发的准考证",
        "This admission ticket has been revoked; use the reissued ticket.",
        "R-DAY-1",
        422,
        {"reason": reason, **detail},
    )
