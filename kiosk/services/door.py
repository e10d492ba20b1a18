"""What comes to the door (签到): one attempt as a kiosk or the desk sent it, its photo and
its nonce, and the turn a check-in takes at the database on SQLite.

R-DAY-1: every attempt is stored with its photo; a broken photo is refused online
(``invalid_photo``) and dropped from a sync; a kiosk nonce is 1-80 characters. The photo's
file is written before the transaction (``keep_photos``) so the fsync holds up no other
kiosk. Judging and storing the attempt: ``kiosk/services/checkin.py``.
"""

from __future__ import annotations

import base64
import binascii
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from examday.errors import Refusal
from storage.blobs import BlobStore, StoredFile

MAX_PHOTO_BYTES = 2 * 1024 * 1024


@dataclass
class Attempt:
    """One presentation at the door, as the kiosk or the desk sent it."""

    id_number: str
    kiosk_nonce: str
    ticket: str | None = None  # the QR text
    ticket_number: str | None = None  # typed at the desk
    candidate_id: int | None = None  # found by name at the desk
    batch_id: int | None = None  # narrows a typed ticket number
    photo: bytes | None = None
    scanned_at: datetime | None = None  # offline records only
    offline_status: str | None = None  # what the offline kiosk told the candidate
    photo_file: StoredFile | None = None  # the photo already written to the blob store
    clock_offset_ms: int | None = None  # offline: the server's clock minus the kiosk's, as the kiosk knew it

    @property
    def scan_time(self) -> datetime | None:
        """When the kiosk scanned, on the server's clock (R-TIME-1)."""
        if self.scanned_at is None:
            return None
        return self.scanned_at + timedelta(milliseconds=self.clock_offset_ms or 0)


def keep_photos(blobs: BlobStore, attempts: list[Attempt]) -> None:
    """Write the photos' files before the transaction: the fsync then holds up no other kiosk.
    The store is content-addressed, so a replayed or refused attempt leaves no second copy."""
    for a in attempts:
        if a.photo and a.photo_file is None:
            a.photo_file = blobs.put(a.photo, ".jpg")


def decode_photo(text: str | None, strict: bool = True) -> bytes | None:
    """A base64 JPEG, or None; a broken one is refused online and dropped from a sync."""
    if not text:
        return None
    try:
        data = base64.b64decode(text.split(",", 1)[-1] if text.startswith("data:") else text, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if data[:3] == b"\xff\xd8\xff" and len(data) <= MAX_PHOTO_BYTES:
        return data
    if not strict:
        return None
    raise Refusal(
        "invalid_photo",
        "现场照片无效：需为不超过2MB的JPEG图片（base64）",
        "The photo must be a base64 JPEG of at most 2 MB.",
        None,
        422,
    )


def check_nonce(nonce: str) -> str:
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 80:
        raise Refusal(
            "invalid_nonce",
            "缺少或无效的 kiosk_nonce（1–80 个字符）",
            "kiosk_nonce is missing or invalid (1-80 characters).",
            None,
            422,
        )
    return nonce


_GATES: dict[int, threading.Lock] = {}
_GATES_LOCK = threading.Lock()


def gate(engine: Engine):
    """On SQLite, check-in transactions of this process take turns at a Python lock.

    SQLite has one writer at a time anyway (``BEGIN IMMEDIATE``); a writer that
    finds it busy sleeps in growing steps (up to 100 ms) and can lose the race
    again and again, which at a busy door turned into seconds-long waits. A lock
    queues them instead. PostgreSQL needs no gate: the unique keys and row locks
    do the work across processes.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _GATES_LOCK:
        return _GATES.setdefault(id(engine), threading.Lock())
