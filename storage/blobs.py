"""The blob store: files of the exam day (photos, scans, key documents, video).

Blobs are content-addressed under the data folder. A write goes to a temp
file in the same folder, is fsynced and then renamed into place, so a crash
leaves either the whole file or none; an existing blob is never overwritten
(a second write of the same bytes is the same blob). Size and SHA-256 are
recorded in the ``blob`` table, which retention (R-ARCH-1) walks.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Field, SQLModel

from storage.modes import private_dir, private_dirs
from storage.types import UTCDateTime


class Blob(SQLModel, table=True):
    """One stored file (文件) and its retention class."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(default="application/octet-stream", max_length=100)
    retention_class: str = Field(default="electronic_records", max_length=40, index=True)
    institution_id: int | None = Field(default=None, index=True)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int


class BlobStore:
    """A local folder; S3-compatible storage stands behind the same calls
    (:class:`storage.blobs_s3.S3BlobStore`, chosen by :func:`open_blob_store`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root.resolve() not in p.parents:
            raise ValueError("blob key escapes the store")
        return p

    def put(self, data: bytes, suffix: str = "") -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest[2:4]}/{digest}{suffix}"
        target = self.path(key)
        if target.exists():
            # Same name means same bytes: never rewrite a stored file.
            return StoredFile(key, digest, len(data))
        private_dirs(self.root, target.parent)  # photos and scans: the server's account only (R-PRIV-1)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, target)  # fails if another writer won the race: fine, same bytes
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return StoredFile(key, digest, len(data))

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> bool:
        """Only the retention purge calls this."""
        p = self.path(key)
        try:
            p.unlink()
            return True
        except FileNotFoundError:
            return False

    def stale_files(self, older_than: float) -> Iterator[str]:
        """Keys of files last written before ``older_than`` (epoch seconds), for the orphan sweep;
        half-written temp files among them."""
        for folder, _, files in os.walk(self.root):
            for name in files:
                p = Path(folder) / name
                try:
                    if p.stat().st_mtime > older_than:
                        continue  # may be a write in progress
                except FileNotFoundError:
                    continue
                yield p.relative_to(self.root).as_posix()


def open_blob_store(settings) -> BlobStore:
    """The store the settings name: ``EXAMDAY_BLOB_URL=s3://bucket/prefix``, else the data folder."""
    if str(getattr(settings, "blob_url", "") or "").startswith("s3://"):
        from storage.blobs_s3 import S3BlobStore

        return S3BlobStore.from_url(settings.blob_url, settings.s3)  # type: ignore[return-value]
    return BlobStore(private_dir(Path(settings.data_dir) / "blobs"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size
