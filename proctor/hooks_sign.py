"""Signing of recorder hooks (录像回调签名).

R-AUDIT-1, R-VIDEO-1: coverage is built from recorder hooks, so a hook must
come from a recorder that holds ``EXAMDAY_HOOK_SECRET``; anyone else could
fake a complete recording. CONTRACT.md: ``X-Examday-Signature: sha256=HEX``,
the HMAC-SHA256 of the raw body bytes. The recorder signs, the server checks,
both with these two functions. The secret is an institution's recorder key's
when ``X-Examday-Recorder`` names one (issue #14; proctor/services/recorder_keys.py).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Examday-Signature"
# Names the institution's recorder key the signature is made with (proctor.services.recorder_keys);
# without it the signature is with the installation's EXAMDAY_HOOK_SECRET.
KEY_HEADER = "X-Examday-Recorder"
_PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for ``body``: ``sha256=`` and the lowercase hex HMAC."""
    if not secret:
        raise ValueError("the hook secret is empty")
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header_value: str | None) -> bool:
    """Whether ``header_value`` signs ``body``; constant-time, so the
    comparison leaks nothing about how much of a forged signature was right."""
    if not header_value or not secret:
        return False
    expected = sign(body, secret).encode("ascii")
    return hmac.compare_digest(expected, header_value.strip().lower().encode("utf-8"))
