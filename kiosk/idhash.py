"""The ID hash in the kiosk's offline roster (签到名单): what a stolen kiosk holds instead of ID numbers.

R-PRIV-1 (DESIGN.md "Who is trusted with what": a stolen kiosk yields no ID
numbers). An ID number has little entropy: once the region and the tail are
known, only the birth date is left, a few tens of thousands of guesses. So the
roster shows no digit of the number, each candidate has a random salt of their
own (a guess is tried against one candidate, never against all of them), and the
hash is argon2id with 32 MiB and two passes: tens of milliseconds a guess on
one core (and 32 MiB of memory, which is what makes a GPU or ASIC no great help), which a kiosk spends once per check-in (the ticket's QR code says which
candidate) and an attacker spends once per guess. ``bench/roster.py`` measures
the cost and what recovering one number takes.

The server never needs this hash to check someone in (it has the number); it
makes the hashes for the roster, and the kiosk checks a typed number with them.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from argon2.low_level import Type, hash_secret_raw

ALGORITHM = "argon2id"
# Above OWASP's argon2id minimum (19 MiB, 2 passes), which measured barely 20 ms a guess here;
# one lane: more would let one guess use more cores, shortening it for the thief too.
PARAMS: dict[str, Any] = {
    "alg": ALGORITHM,
    "version": 19,
    "time_cost": 2,
    "memory_kib": 32768,
    "parallelism": 1,
    "hash_len": 32,
    "salt_bytes": 16,
    "input": "'examday-roster-id-v1|' + ID number, upper-cased (UTF-8)",
}
_DOMAIN = "examday-roster-id-v1|"
# What a kiosk accepts from a roster: enough to be slow for a thief, not so much that the door stalls.
_LIMITS = {"time_cost": (1, 10), "memory_kib": (8 * 1024, 256 * 1024), "parallelism": (1, 8), "hash_len": (16, 64)}


def new_salt() -> bytes:
    return secrets.token_bytes(int(PARAMS["salt_bytes"]))


def digest(number: str, salt: bytes, params: Mapping[str, Any] = PARAMS) -> bytes:
    """The hash of one ID number with one candidate's salt."""
    if params.get("alg") != ALGORITHM:
        raise ValueError(f"the roster's ID hash is {params.get('alg')!r}, not {ALGORITHM}")
    values = {k: int(params[k]) for k in _LIMITS}
    for k, (low, high) in _LIMITS.items():
        if not low <= values[k] <= high:
            raise ValueError(f"the roster's ID hash has {k}={values[k]}, outside {low}..{high}")
    return hash_secret_raw(
        (_DOMAIN + number.strip().upper()).encode(),
        salt,
        time_cost=values["time_cost"],
        memory_cost=values["memory_kib"],
        parallelism=values["parallelism"],
        hash_len=values["hash_len"],
        type=Type.ID,
    )


def entry(number: str, params: Mapping[str, Any] = PARAMS) -> tuple[str, str]:
    """(salt in base64, hash in hex) for a roster row, with a fresh salt."""
    salt = new_salt()
    return base64.b64encode(salt).decode("ascii"), digest(number, salt, params).hex()


def matches(number: str, salt_b64: str, hash_hex: str, params: Mapping[str, Any] = PARAMS) -> bool:
    """Is ``number`` the one behind this roster row's hash? One hash: the door's cost."""
    try:
        salt, want = base64.b64decode(salt_b64, validate=True), bytes.fromhex(hash_hex)
    except ValueError:
        return False
    return hmac.compare_digest(digest(number, salt, params), want)
