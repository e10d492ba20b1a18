"""Where a video segment lives and what is true of it (R-VIDEO-1, R-AUDIT-1).

A segment's location, as its recorder's signed hook reported it, is either an
absolute path on this machine or an ``s3://bucket/key`` object in the
S3-compatible store the settings connect to (:mod:`storage.blobs_s3`). The
hook check, the re-check and the purge ask this module, whichever it is.

Checking an object: HEAD says whether it is there and its size; the store's
own full-object SHA-256 (kept when the object was written with that checksum,
as examday's recorder does) is compared with the hook's. An object without one
is read and hashed, as a local file is. Metadata the uploader wrote
(``x-amz-meta-sha256``) is not evidence: it is the same party's claim as the hook.

Where a file may be (issue #14): a local path must resolve — symlinks followed
— inside one of the video folders (``EXAMDAY_VIDEO_DIRS``, unset the data
folder's ``video``); the hook refuses any other (:func:`local_refusal`) and the
purge resolves the path again just before it deletes (:func:`unlink_local`), so
a symlink swapped in after the hook cannot point it outside.

Deleting: the purge deletes a segment object only under a prefix named in
``EXAMDAY_VIDEO_S3_PREFIXES`` — unset, no S3 video is ever deleted — and never
inside the blob store's prefix, whatever a hook said.

Nothing here reads the environment: the settings (examday/settings.py) hand
down the store's :class:`S3Config` and the places, as :class:`VideoPlaces`.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from storage import blobs_s3
from storage.blobs import sha256_file
from storage.blobs_s3 import S3Config, S3Error, is_s3
from storage.errors import Refusal

log = logging.getLogger("examday.storage.purge")


def unavailable(exc: Exception) -> Refusal:
    # 503: a recorder retries the hook later instead of the segment being judged missing.
    return Refusal(
        "video_store_unavailable",
        "录像存储暂时无法访问，请稍后重试",
        f"The video store cannot be reached now; try again ({exc}).",
        "R-VIDEO-1",
        503,
    )


class VideoSettings(Protocol):
    """What the settings object (examday.settings.Settings) tells about video."""

    @property
    def s3(self) -> S3Config: ...
    @property
    def video_dirs(self) -> tuple[Path, ...]: ...  # EXAMDAY_VIDEO_DIRS, resolved
    @property
    def video_s3_prefixes(self) -> tuple[tuple[str, str], ...]: ...  # EXAMDAY_VIDEO_S3_PREFIXES
    @property
    def blob_url(self) -> str: ...  # EXAMDAY_BLOB_URL


@dataclass(frozen=True)
class VideoPlaces:
    """The settings the segment checks and deletes need, taken once per purge or request."""

    s3: S3Config = field(default_factory=S3Config)
    dirs: tuple[Path, ...] = ()  # the only folders segment files may be in and are deleted from
    s3_prefixes: tuple[tuple[str, str], ...] = ()  # (bucket, prefix): the only places S3 video is deleted
    blob_url: str = ""

    @classmethod
    def from_settings(cls, settings: VideoSettings) -> VideoPlaces:
        return cls(settings.s3, tuple(settings.video_dirs), tuple(settings.video_s3_prefixes), settings.blob_url or "")


def verify(location: str, sha256: str | None, size: int | None, s3: S3Config) -> str:
    """The state a finished segment's file earns: valid, file_missing, checksum_mismatch or invalid.
    An ``s3://`` location is checked in the store ``s3`` connects to."""
    if not sha256 or not location:
        return "invalid"
    want = sha256.strip().lower()
    if is_s3(location):
        return _verify_object(location, want, size, s3)
    p = Path(location)
    if not p.is_absolute() or not p.is_file():
        return "file_missing"
    try:
        digest, actual = sha256_file(p)
    except OSError:
        return "file_missing"
    if digest != want or (size is not None and int(size) != actual):
        return "checksum_mismatch"
    return "valid"


def _verify_object(location: str, want: str, size: int | None, s3: S3Config) -> str:
    try:
        bucket, key = blobs_s3.parse_url(location)
    except ValueError:
        return "file_missing"
    if not key:
        return "file_missing"
    try:
        cli = blobs_s3.client(s3)
        facts = blobs_s3.head(cli, bucket, key)
        if facts is None:
            return "file_missing"
        if size is not None and int(size) != facts.size:
            return "checksum_mismatch"
        if facts.sha256 is not None:
            return "valid" if facts.sha256 == want else "checksum_mismatch"
        hashed = blobs_s3.hash_object(cli, bucket, key)
    except S3Error as exc:
        raise unavailable(exc) from None
    if hashed is None:
        return "file_missing"
    return "valid" if hashed[0] == want else "checksum_mismatch"


def exists(location: str, s3: S3Config) -> bool:
    if not location:
        return False
    if not is_s3(location):
        return Path(location).is_file()
    try:
        bucket, key = blobs_s3.parse_url(location)
    except ValueError:
        return False
    try:
        return bool(key) and blobs_s3.head(blobs_s3.client(s3), bucket, key) is not None
    except S3Error as exc:
        raise unavailable(exc) from None


def inside(real: str, roots: list[Path] | tuple[Path, ...]) -> bool:
    """Whether the resolved path ``real`` lies below one of ``roots`` (never a root itself)."""
    p = Path(real)
    return any(p != r and p.is_relative_to(r) for r in roots)


def local_refusal(path: str, roots: list[Path] | tuple[Path, ...]) -> str | None:
    """Why a hook may not name this local path, or None: it must be absolute and resolve,
    symlinks followed, inside a video folder (R-VIDEO-1)."""
    if not os.path.isabs(path):
        return "not_absolute"
    if not roots:
        return "no_video_dirs"
    if not inside(os.path.realpath(path), roots):
        return "outside_video_dirs"
    return None


def unlink_local(path: str, roots: list[Path]) -> str:
    """Delete one segment file: "deleted", "absent", or why not.

    The path is resolved again here, at the moment of deletion, and the resolved file is what
    is deleted: a symlink put in place since the hook cannot send the purge outside the video
    folders. No folders, nothing is deleted."""
    if not path or not os.path.isabs(path):
        return "absent"
    if not roots:
        return "no_video_dirs"
    real = os.path.realpath(path)
    if not inside(real, roots):
        return "outside_video_dirs"
    try:
        if not stat.S_ISREG(os.lstat(real).st_mode):
            return "not_a_file"
        os.unlink(real)
        return "deleted"
    except FileNotFoundError:
        return "absent"
    except OSError as exc:
        log.error("purge: cannot delete a segment file (%s)", type(exc).__name__)
        return "error"


def _under(key: str, prefix: str) -> bool:
    return not prefix or key.startswith(prefix + "/")


def s3_refusal(location: str, places: VideoPlaces) -> str | None:
    """Why the purge may not delete this object, or None."""
    try:
        bucket, key = blobs_s3.parse_url(location)
    except ValueError:
        return "absent"
    if not key or key.endswith("/"):
        return "absent"
    if blobs_s3.is_s3(places.blob_url):
        b_bucket, b_prefix = blobs_s3.parse_url(places.blob_url)
        if bucket == b_bucket and _under(key, b_prefix.strip("/")):
            return "inside_blob_store"
    if not places.s3_prefixes:
        return "no_video_s3_prefixes"
    if not any(bucket == b and _under(key, p) for b, p in places.s3_prefixes):
        return "outside_video_dirs"
    return None


def location_refusal(location: str, places: VideoPlaces) -> str | None:
    """Why a hook may not report a segment at ``location``, or None (R-VIDEO-1): a local path
    outside the video folders; an object inside the blob store, or — when prefixes are set —
    outside ``EXAMDAY_VIDEO_S3_PREFIXES`` (unset, S3 video is accepted and never deleted)."""
    if not is_s3(location):
        return local_refusal(location, places.dirs)
    why = s3_refusal(location, places)
    return why if why in ("inside_blob_store", "outside_video_dirs") else None  # a bad URL: file_missing


def delete_objects(locations: list[str], places: VideoPlaces) -> list[str]:
    """Delete segment objects, a request per bucket and thousand keys: an outcome per location,
    "deleted" or why not (as the purge's local deletes answer)."""
    out: list[str] = [""] * len(locations)
    by_bucket: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, loc in enumerate(locations):
        why = s3_refusal(loc, places)
        if why is not None:
            out[i] = why
        else:
            bucket, key = blobs_s3.parse_url(loc)
            by_bucket[bucket].append((i, key))
    for bucket, items in by_bucket.items():
        try:
            done = blobs_s3.delete_many(blobs_s3.client(places.s3), bucket, [k for _, k in items])
        except S3Error:
            done = {}
        for i, key in items:
            out[i] = "deleted" if done.get(key) == "deleted" else "error"
    return out
