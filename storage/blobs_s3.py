"""S3-compatible object storage (AWS S3, MinIO, Ceph, a cloud provider's OSS/COS):
the blob store behind the same calls as the local folder, and the object
facts the video checks and the purge need.

Configuration (CONTRACT.md "Configuration", README "S3-compatible storage"):
an :class:`S3Config` — endpoint (None: AWS), region, addressing (``path`` for
MinIO and most self-hosted stores, ``virtual`` or ``auto``) — that
examday/settings.py builds from the ``EXAMDAY_S3_*`` variables and hands down;
nothing here reads the environment. Credentials come from boto3's usual chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile or an instance role)
and are never read or logged here.

Integrity: every object is written with its SHA-256 as an S3 checksum, which
the store checks against the bytes it received and keeps; reading a blob hashes
what came back against the hash in its (content-addressed) key. An object is
never overwritten: ``If-None-Match: *`` makes a second writer fail instead
(stores without conditional writes get a HEAD first; the bytes are the same
anyway, the key being their hash).
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, NamedTuple

from storage.blobs import StoredFile

SCHEME = "s3://"
# A single PUT takes up to 5 GiB; a segment is never near that.
MAX_SINGLE_PUT = 5 * 1024**3
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class S3Error(RuntimeError):
    """The store refused or could not be reached; the message never carries credentials."""


@dataclass(frozen=True)
class S3Config:
    endpoint_url: str | None = None
    region: str | None = None
    addressing: str = "auto"  # path | virtual | auto


def is_s3(location: str | None) -> bool:
    return location is not None and location.startswith(SCHEME)


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` → ``("bucket", "some/key")``; the key may be empty (a bucket root)."""
    if not is_s3(url):
        raise ValueError("not an s3:// location")
    bucket, _, key = url[len(SCHEME) :].partition("/")
    if not _BUCKET.match(bucket):
        raise ValueError("not a valid bucket name")
    if ".." in key.split("/"):
        raise ValueError("an object key may not climb out of its prefix")
    return bucket, key


def url(bucket: str, key: str) -> str:
    return f"{SCHEME}{bucket}/{key}"


_clients: dict[S3Config, Any] = {}
_clients_lock = threading.Lock()


def client(cfg: S3Config) -> Any:
    """One boto3 client per configuration: clients are thread-safe to use, slow to make."""
    with _clients_lock:
        if cfg not in _clients:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:  # pragma: no cover - the s3 extra is not installed
                raise S3Error("S3 storage needs boto3: pip install 'examday[s3]'") from None
            # Checksums only where we ask for them: third-party stores refuse the
            # SDK's default streaming CRC trailers.
            # Retries: standard mode, 3 attempts unless AWS_MAX_ATTEMPTS says otherwise.
            conf = Config(
                s3={"addressing_style": cfg.addressing},
                retries={"mode": "standard"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                connect_timeout=5,
                read_timeout=60,
            )
            _clients[cfg] = boto3.session.Session().client(
                "s3", endpoint_url=cfg.endpoint_url, region_name=cfg.region, config=conf
            )
        return _clients[cfg]


def _code(exc: Exception) -> tuple[str, int]:
    resp = getattr(exc, "response", None) or {}
    return str(resp.get("Error", {}).get("Code", "")), int(resp.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _is_client_error(exc: Exception) -> bool:
    return type(exc).__name__ in ("ClientError", "NoSuchKey") or hasattr(exc, "response")


class ObjectFacts(NamedTuple):
    size: int
    sha256: str | None  # the store's own full-object SHA-256, when it kept one
    modified: datetime | None


def head(cli: Any, bucket: str, key: str) -> ObjectFacts | None:
    """What the store says of one object; None when there is none."""
    try:
        h = cli.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except Exception as exc:
        if _is_client_error(exc) and _code(exc)[1] == 404:
            return None
        raise S3Error(f"HEAD {bucket}/{key} failed: {_code(exc)[0] or type(exc).__name__}") from None
    checksum = h.get("ChecksumSHA256") or ""
    # A multipart upload's checksum is of its parts ("...-N"), not of the object.
    sha = base64.b64decode(checksum).hex() if checksum and "-" not in checksum else None
    if h.get("ChecksumType") not in (None, "FULL_OBJECT"):
        sha = None
    return ObjectFacts(int(h["ContentLength"]), sha, h.get("LastModified"))


def hash_object(cli: Any, bucket: str, key: str, chunk: int = 1 << 20) -> tuple[str, int] | None:
    """SHA-256 and size of the bytes the store returns now; None when there is no object."""
    try:
        body = cli.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as exc:
        if _is_client_error(exc) and _code(exc)[1] == 404:
            return None
        raise S3Error(f"GET {bucket}/{key} failed: {_code(exc)[0] or type(exc).__name__}") from None
    h, size = hashlib.sha256(), 0
    try:
        with body:
            while block := body.read(chunk):
                h.update(block)
                size += len(block)
    except Exception as exc:  # the connection dropped half-way: no verdict on the object
        raise S3Error(f"GET {bucket}/{key} broke off: {type(exc).__name__}") from None
    return h.hexdigest(), size


_no_conditional: set[int] = set()  # clients whose store ignores If-None-Match


def put(
    cli: Any,
    bucket: str,
    key: str,
    body: bytes | IO[bytes],
    sha256: str,
    size: int,
    content_type: str = "application/octet-stream",
) -> str:
    """Write an object once: "stored", "exists" (same SHA-256 already there) or "conflict" (other bytes).

    The store checks the body against ``sha256`` and refuses a mismatch; the
    answer's checksum is compared too, for stores that keep it without checking.
    """
    if size > MAX_SINGLE_PUT:
        raise S3Error("an object over 5 GiB needs a multipart upload; cut shorter segments")
    there = head(cli, bucket, key) if id(cli) in _no_conditional else None
    if there is not None:
        return _same(cli, bucket, key, there, sha256)
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
    args = dict(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentLength=size,
        ContentType=content_type,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=checksum,
        Metadata={"sha256": sha256},
    )
    try:
        if id(cli) not in _no_conditional:
            args["IfNoneMatch"] = "*"
        answer = cli.put_object(**args)
    except Exception as exc:
        if not _is_client_error(exc):
            raise S3Error(f"PUT {bucket}/{key} failed: {type(exc).__name__}") from None
        code, status = _code(exc)
        if status in (412, 409) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
            there = head(cli, bucket, key)
            return _same(cli, bucket, key, there, sha256) if there is not None else "conflict"
        if status == 501 or code == "NotImplemented":
            # A store without conditional writes: HEAD first from now on.
            _no_conditional.add(id(cli))
            if hasattr(body, "seek"):
                body.seek(0)
            return put(cli, bucket, key, body, sha256, size, content_type)
        raise S3Error(f"PUT {bucket}/{key} refused: {code or status}") from None
    kept = answer.get("ChecksumSHA256")
    if kept and kept != checksum:
        raise S3Error(f"PUT {bucket}/{key}: the store kept other bytes than were sent")
    return "stored"


def _same(cli: Any, bucket: str, key: str, there: ObjectFacts, sha256: str) -> str:
    if there.sha256 is None:
        hashed = hash_object(cli, bucket, key)
        return "exists" if hashed and hashed[0] == sha256 else "conflict"
    return "exists" if there.sha256 == sha256 else "conflict"


def delete_many(cli: Any, bucket: str, keys: list[str]) -> dict[str, str]:
    """Delete up to any number of keys, 1,000 a request: key → "deleted" or the store's error code.

    S3 answers a delete of a missing key as done; in a versioned bucket a
    delete only hides the object (see README: use an unversioned bucket or
    expire noncurrent versions).
    """
    out: dict[str, str] = {}
    for i in range(0, len(keys), 1000):
        part = keys[i : i + 1000]
        try:
            answer = cli.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in part], "Quiet": True})
        except Exception as exc:
            code = _code(exc)[0] if _is_client_error(exc) else type(exc).__name__
            out.update((k, code or "error") for k in part)
            continue
        failed = {e["Key"]: e.get("Code", "error") for e in answer.get("Errors", [])}
        out.update((k, failed.get(k, "deleted")) for k in part)
    return out


class S3BlobStore:
    """The blob store in a bucket under a prefix; keys are the local store's keys."""

    def __init__(self, cli: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = cli, bucket, prefix.strip("/")

    @classmethod
    def from_url(cls, blob_url: str, cfg: S3Config) -> S3BlobStore:
        bucket, prefix = parse_url(blob_url)
        return cls(client(cfg), bucket, prefix)

    @property
    def location(self) -> str:
        return url(self.bucket, self.prefix + "/" if self.prefix else "")

    def object_key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError("blob key escapes the store")
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, data: bytes, suffix: str = "") -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest[2:4]}/{digest}{suffix}"
        outcome = put(self.client, self.bucket, self.object_key(key), data, digest, len(data))
        if outcome == "conflict":  # the key is the hash: other bytes there are damage, not a race
            raise S3Error(f"blob {key} exists with other bytes")
        return StoredFile(key, digest, len(data))

    def read(self, key: str) -> bytes:
        try:
            data = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()
        except Exception as exc:
            if _is_client_error(exc) and _code(exc)[1] == 404:
                raise FileNotFoundError(key) from None
            raise S3Error(f"GET blob {key} failed: {_code(exc)[0] or type(exc).__name__}") from None
        name = key.rsplit("/", 1)[-1]
        if not name.startswith(hashlib.sha256(data).hexdigest()):
            raise S3Error(f"blob {key} does not hash to its name: damaged in the store")
        return data

    def exists(self, key: str) -> bool:
        return head(self.client, self.bucket, self.object_key(key)) is not None

    def delete(self, key: str) -> bool:
        """Only the retention purge calls this."""
        return delete_many(self.client, self.bucket, [self.object_key(key)])[self.object_key(key)] == "deleted"

    def stale_files(self, older_than: float) -> Iterator[str]:
        """Keys of objects last written before ``older_than`` (epoch seconds), for the orphan sweep."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        cut = len(self.prefix) + 1 if self.prefix else 0
        for page in pages:
            for obj in page.get("Contents", []):
                if obj["LastModified"].timestamp() <= older_than:
                    yield obj["Key"][cut:]
