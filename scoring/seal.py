"""The seal of a locked batch (封存): one digest over its results and score entries.

Enforces R-SCORE-3 ("nobody alters a score") and R-AUDIT-1 (records are never
tampered with) at the lock: the digest is printed on the exports (成绩汇总表),
so any later change to a result or an entry gives a different seal.

Canonical form: each row becomes canonical JSON (sorted keys, no spaces,
UTF-8); the rows of ``results`` and of ``entries`` are sorted by that text,
so the order in which a database returns them does not matter. Only the
top-level order is ignored: a list inside a row keeps its order. Decimals are
written with one decimal place when that is exact (85 and 85.0 seal alike),
dates and datetimes in ISO 8601, sets sorted. Floats are refused: a score is
a Decimal, and a float here means a lossy value slipped in.

Versions: the digest and the signed payload name the version they follow,
and each seal records it (``batch_seal.version``), so a seal keeps verifying
as it was made. v1 covered each candidate's id, ticket number, part scores
and result; v2 (finding 6 of issue #14) adds what the exports print beside
them — the name and a keyed digest of the ID number (``id_digest``: never the
number itself, R-PRIV-1) — so swapping two names or ID numbers breaks it.

v3 (issue #15) follows the exam day's rules (``RULES``): a part the candidate was not
admitted to is absent (R-ID-1), an incident voids a part or makes it cheating (R-DISC-1),
and the result follows. Each part carries that verdict (status, reason code, incident), so
erasing a check-in or an incident after the lock breaks the seal. A v1 or v2 seal was made
under the earlier rules (the result from the stored scores alone) and is recomputed under
them: its version marker, not a skipped check, is what keeps an untouched old seal whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from scoring.rubric import has_one_decimal_at_most, quantize_points

SEAL_V1 = "examday-seal/v1"
SEAL_V2 = "examday-seal/v2"
SEAL_V3 = "examday-seal/v3"
SEAL_VERSION = SEAL_V3  # what a new lock seals
SEAL_VERSIONS = (SEAL_V1, SEAL_V2, SEAL_V3)
# The rules a version's results follow: before issue #15 a result came from the stored part
# scores alone; since v3 the exam day decides parts first (attendance R-ID-1, incidents R-DISC-1).
RULES = {SEAL_V1: "stored-scores", SEAL_V2: "stored-scores", SEAL_V3: "exam-day"}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a sealed number must be finite")
        return format(quantize_points(value) if has_one_decimal_at_most(value) else value, "f")
    if isinstance(value, float):
        raise TypeError("floats cannot be sealed; use Decimal")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"row keys must be strings, not {type(key).__name__}")
            out[key] = _plain(item)
        return out
    if isinstance(value, Set):
        return sorted((_plain(v) for v in value), key=_text)
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    raise TypeError(f"cannot seal a {type(value).__name__}")


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _rows(rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    plain = [_plain(row) for row in rows]
    if not all(isinstance(row, dict) for row in plain):
        raise TypeError("each row must be a mapping")
    return sorted(plain, key=_text)


def seal_digest(
    results: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]], version: str = SEAL_VERSION
) -> str:
    """sha256 hex over the batch's results and entries, independent of row order."""
    if version not in SEAL_VERSIONS:
        raise ValueError(f"unknown seal version {version!r}")
    body = {"seal": version, "results": _rows(results), "entries": _rows(entries)}
    return hashlib.sha256(_text(body).encode("utf-8")).hexdigest()
