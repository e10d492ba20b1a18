"""A real S3-compatible HTTP server for the S3 tests: moto's server mode on a free
localhost port, an external service stand-in like PostgreSQL is for the database.

The fixtures ``s3_endpoint`` and ``s3`` come from tests/integration/conftest.py:
``s3`` gives each test its own bucket, the store's S3Config as examday/settings.py
builds it from the EXAMDAY_S3_* variables of :func:`s3_vars` (the server, the purge
and the recorder are handed that config, never read the environment), and sets the
AWS_* credentials boto3 reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from storage import blobs_s3
from storage.blobs_s3 import S3Config


@dataclass
class S3World:
    endpoint: str
    config: S3Config
    client: Any
    bucket: str

    def url(self, key: str) -> str:
        return blobs_s3.url(self.bucket, key)

    def put(self, key: str, data: bytes, checksum: bool = True) -> str:
        """An object as examday's recorder writes it (checksum kept by the store), or as a
        plain uploader does (no checksum)."""
        if checksum:
            sha = hashlib.sha256(data).hexdigest()
            assert blobs_s3.put(self.client, self.bucket, key, data, sha, len(data)) == "stored"
        else:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return self.url(key)

    def has(self, key: str) -> bool:
        return blobs_s3.head(self.client, self.bucket, key) is not None

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def s3_vars(endpoint: str) -> dict[str, str]:
    """The EXAMDAY_S3_* variables an installation on this store sets (README "S3-compatible storage")."""
    return {
        "EXAMDAY_S3_ENDPOINT_URL": endpoint,
        "EXAMDAY_S3_REGION": "us-east-1",
        "EXAMDAY_S3_ADDRESSING": "path",
    }


def s3_env(monkeypatch) -> None:
    """boto3's credentials for the test server; nothing of a developer's own AWS setup."""
    for name, value in {"AWS_ACCESS_KEY_ID": "examday-test", "AWS_SECRET_ACCESS_KEY": "examday-test-secret"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
