"""The installation's two secrets in a backup, only when asked (``--with-secrets``, issue #19):
sealed with a key derived from a passphrase (scrypt, then AES-256-GCM), so a backup copied to
a shared disk or a USB stick does not hand over the key that signs sessions and derives the
examiners' signing keys (R-PRIV-1). ``cryptography`` is already a dependency (examday/keys.py).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "examday-secrets/1"
# scrypt at 2^15 × 8: ~0.1 s and 32 MiB, once per backup and per restore.
N, R, P = 1 << 15, 8, 1
MIN_PASSPHRASE = 12


class BadPassphrase(ValueError):
    pass


def _key(passphrase: str, salt: bytes, n: int = N, r: int = R, p: int = P) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def seal(secrets: dict[str, str], passphrase: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BadPassphrase(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, json.dumps(secrets).encode(), FORMAT.encode())
    doc: dict[str, Any] = {
        "format": FORMAT,
        "kdf": {"name": "scrypt", "n": N, "r": R, "p": P, "salt": base64.b64encode(salt).decode()},
        "cipher": "AES-256-GCM",
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    return json.dumps(doc, indent=1).encode()


def unseal(data: bytes, passphrase: str) -> dict[str, str]:
    doc = json.loads(data)
    if doc.get("format") != FORMAT:
        raise BadPassphrase(f"unknown secrets format {doc.get('format')!r}")
    kdf = doc["kdf"]
    key = _key(passphrase, base64.b64decode(kdf["salt"]), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
    try:
        plain = AESGCM(key).decrypt(
            base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"]), FORMAT.encode()
        )
    except InvalidTag:
        raise BadPassphrase("wrong passphrase, or the sealed secrets were changed") from None
    return dict(json.loads(plain))
