"""Signed, hash-chained versions of a score entry (评分记录).

Rules enforced here:

- R-SCORE-1 — each examiner scores independently and signs the score.
- R-SCORE-2 — marking and entering scores leave a full trace (全过程留痕): a
  correction is a new version that points at the one before; nothing is
  overwritten.

The chain. One chain per entry, i.e. per (batch, candidate, part, examiner).
Version 1 has no previous hash; version n+1 carries the hash of version n.
The hash is sha256 over a canonical JSON of the version (sorted keys, no
spaces, UTF-8, points as one-decimal strings so 7.5 and 7.50 hash alike), so
editing any stored field of any version, or removing or reordering versions,
is found by ``verify_chain`` without any secret.

The signature. ``sign_entry`` is an HMAC-SHA256 whose key is derived from a
per-examiner secret and the examiner's PIN:

    key       = HMAC(examiner_secret, "examday/score-pin/v1" ‖ PIN)
    signature = "v1:" ‖ hex HMAC(key, "examday/score-entry/v1" ‖ entry hash)

- The secret is random, one per examiner, and held by the server outside the
  score tables (a secrets store, or derived from the installation key).
  Someone who can edit the database but not read the secrets cannot make a
  signature that verifies. Tablets hold nothing worth stealing.
- The PIN confirms intent: a signature exists only if the examiner typed the
  PIN when the score was entered. A session left open on a tablet, or a
  colleague at the same screen, cannot sign for them (R-STAFF-4: everyone
  acts under their own name). The server never stores the PIN; to check a
  typed PIN it keeps an enrolment tag, ``sign_entry(ENROLMENT_HASH, pin,
  secret)``, and compares with ``verify_signature``.
- Verifying a signature needs the PIN too: it is done as the score is taken,
  at the examiner's sign-off of their scoring record, or in a dispute with
  the examiner present. Tamper evidence at rest does not depend on it: the
  hash chain, the audit log and the lock seal need no secret.
- Limits, stated plainly: a PIN is short, so whoever holds an examiner's
  secret and one signed entry could try every PIN offline. The scheme stops
  database-only tampering and signing without the examiner; it is not
  non-repudiation against the server's operator, which would need a key
  pair on the examiner's device. The "v1:" prefix leaves room for that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from examday.errors import Refusal
from scoring.rubric import has_one_decimal_at_most, quantize_points, to_points

SIGNATURE_SCHEME = "v1"
ENROLMENT_HASH = hashlib.sha256(b"examday/pin-enrolment/v1").hexdigest()
MIN_SECRET_BYTES = 16
_HASH_RE = re.compile(r"[0-9a-f]{64}")
_PIN_RE = re.compile(r"[0-9]{4,12}")


def _canonical_points(value: object) -> str:
    number = to_points(value)
    if number is None:
        raise ValueError(f"not a number of points: {value!r}")
    # Keep any extra precision visible rather than rounding it into the hash.
    shown = quantize_points(number) if has_one_decimal_at_most(number) else number
    return format(shown, "f")


def _canonical_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(
    prev_hash: str | None,
    batch_id: Any,
    candidate_id: Any,
    part: str,
    examiner_id: Any,
    items: Mapping[str, object],
    version: int,
    at_iso: str,
) -> str:
    """sha256 hex of one version of an entry, chained to the previous version's hash.

    Ids are hashed as strings so that 7 and "7" (database int, JSON string)
    give the same hash.
    """
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("version must be an int of 1 or more")
    if not isinstance(at_iso, str) or not at_iso:
        raise ValueError("at_iso must be a non-empty ISO 8601 string")
    body = {
        "v": 1,
        "prev": prev_hash,
        "batch_id": str(batch_id),
        "candidate_id": str(candidate_id),
        "part": str(part),
        "examiner_id": str(examiner_id),
        "items": {str(code): _canonical_points(points) for code, points in items.items()},
        "version": version,
        "at": at_iso,
    }
    return hashlib.sha256(_canonical_json(body)).hexdigest()


def _check_pin(pin: object) -> str:
    if not isinstance(pin, str) or not _PIN_RE.fullmatch(pin):
        raise Refusal("pin_invalid", "签名密码须为4至12位数字", "The signing PIN must be 4 to 12 digits.", "R-SCORE-1")
    return pin


def _signing_key(pin: str, examiner_secret: bytes) -> bytes:
    if not isinstance(examiner_secret, (bytes, bytearray)) or len(examiner_secret) < MIN_SECRET_BYTES:
        raise ValueError(f"examiner_secret must be at least {MIN_SECRET_BYTES} bytes")
    return hmac.new(bytes(examiner_secret), b"examday/score-pin/v1\x00" + pin.encode("ascii"), hashlib.sha256).digest()


def sign_entry(hash_hex: str, pin: str, examiner_secret: bytes) -> str:
    """The examiner's signature over one version's hash (see the module docstring)."""
    if not isinstance(hash_hex, str) or not _HASH_RE.fullmatch(hash_hex.lower()):
        raise ValueError("hash_hex must be 64 hex digits")
    key = _signing_key(_check_pin(pin), examiner_secret)
    mac = hmac.new(key, b"examday/score-entry/v1\x00" + hash_hex.lower().encode("ascii"), hashlib.sha256)
    return f"{SIGNATURE_SCHEME}:{mac.hexdigest()}"


def verify_signature(hash_hex: str, signature: str, pin: str, examiner_secret: bytes) -> bool:
    """True when ``signature`` was made over ``hash_hex`` with this PIN and secret."""
    try:
        expected = sign_entry(hash_hex, pin, examiner_secret)
    except (Refusal, ValueError):
        return False
    return isinstance(signature, str) and hmac.compare_digest(expected, signature)


@dataclass(frozen=True)
class EntryVersion:
    """One stored version of an examiner's score entry for a candidate's part."""

    batch_id: Any
    candidate_id: Any
    part: str
    examiner_id: Any
    items: Mapping[str, Decimal]
    version: int
    at_iso: str
    prev_hash: str | None
    hash: str
    signature: str | None = field(default=None, compare=False)

    def identity(self) -> tuple[str, str, str, str]:
        return (str(self.batch_id), str(self.candidate_id), str(self.part), str(self.examiner_id))

    def recomputed_hash(self) -> str:
        return entry_hash(
            self.prev_hash,
            self.batch_id,
            self.candidate_id,
            self.part,
            self.examiner_id,
            self.items,
            self.version,
            self.at_iso,
        )


def new_version(
    previous: EntryVersion | None,
    *,
    batch_id: Any,
    candidate_id: Any,
    part: str,
    examiner_id: Any,
    items: Mapping[str, Decimal],
    at_iso: str,
) -> EntryVersion:
    """The next version of an entry: version 1 when there is none, else previous + 1.

    Refuses ``entry_chain_mismatch`` when ``previous`` belongs to another
    entry: a chain never crosses candidates, parts or examiners.
    """
    if previous is not None and previous.identity() != (str(batch_id), str(candidate_id), str(part), str(examiner_id)):
        raise Refusal(
            "entry_chain_mismatch",
            "评分记录版本不属于同一考生、科目和考评员",
            "The previous version belongs to another entry.",
            "R-SCORE-2",
        )
    version = 1 if previous is None else previous.version + 1
    prev_hash = None if previous is None else previous.hash
    digest = entry_hash(prev_hash, batch_id, candidate_id, part, examiner_id, items, version, at_iso)
    return EntryVersion(batch_id, candidate_id, part, examiner_id, dict(items), version, at_iso, prev_hash, digest)


_FIELDS = ("batch_id", "candidate_id", "part", "examiner_id", "items", "version", "at_iso", "prev_hash", "hash")


def _as_version(raw: EntryVersion | Mapping[str, Any]) -> EntryVersion:
    if isinstance(raw, EntryVersion):
        return raw
    return EntryVersion(**{name: raw[name] for name in _FIELDS}, signature=raw.get("signature"))


def verify_chain(versions: Sequence[EntryVersion | Mapping[str, Any]]) -> int | None:
    """Index of the first broken version, or None when the whole chain holds.

    A version is broken when it cannot be read, belongs to another entry,
    is not numbered one after the previous (starting at 1), does not point at
    the previous version's stored hash, or its stored hash is not the hash of
    its content. Accepts ``EntryVersion`` or mappings with the same keys.
    """
    first: EntryVersion | None = None
    previous: EntryVersion | None = None
    for index, raw in enumerate(versions):
        try:
            current = _as_version(raw)
            first = first or current
            expected_prev = None if previous is None else previous.hash
            intact = (
                current.identity() == first.identity()
                and current.version == index + 1
                and current.prev_hash == expected_prev
                and isinstance(current.hash, str)
                and hmac.compare_digest(current.recomputed_hash(), current.hash)
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            intact = False
        if not intact:
            return index
        previous = current
    return None
