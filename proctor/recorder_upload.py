"""What leaves examday's recorder: signed hooks and, with ``--upload``, the segment files.

:class:`HookSender` delivers hook bodies in order from a thread, retried with
backoff while the server is down and spooled to ``pending-hooks.jsonl`` if the
recorder stops first; the next run sends them. Each carries an ``id`` so the
server can drop a repeat.

:class:`SegmentUploader` (R-VIDEO-1, R-AUDIT-1) puts each finished segment
into S3-compatible storage from another thread — recording never waits on the
network — with its SHA-256 as the object's checksum, which the store checks
and keeps; only then is the segment's ``segment_finished`` hook, naming the
``s3://bucket/key`` object, handed to the sender, and the local file removed.
An object is never overwritten. Segments not yet uploaded are listed in
``pending-uploads.jsonl`` as soon as they are cut, so a crash or a stop loses
none: the next run uploads and reports them (the hook's ``id`` is kept, so a
repeat is dropped by the server).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from proctor.hooks_sign import KEY_HEADER, SIGNATURE_HEADER, sign
from storage import blobs_s3
from storage.blobs_s3 import S3Config, S3Error

log = logging.getLogger("examday.recorder")
Post = Callable[[str, bytes, dict[str, str]], int]  # (url, body, headers) -> HTTP status
HOOK_PATH = "/api/v1/hooks/recorder"
PENDING_FILE = "pending-hooks.jsonl"
REJECTED_FILE = "rejected-hooks.jsonl"
UPLOADS_FILE = "pending-uploads.jsonl"
CONTENT_TYPES = {".mp4": "video/mp4", ".avi": "video/x-msvideo"}


class _InOrder:
    """A queue one thread works through in order: an item that fails is retried, with
    backoff, before any behind it; ``close()`` waits a while, then stops the thread."""

    RETRY = "retry"

    def _start(self, name: str, items: list[Any], backoff: float, backoff_max: float) -> None:
        self.backoff, self.backoff_max = backoff, backoff_max
        self._pending: deque[Any] = deque(items)
        self._cond = threading.Condition()
        self._closing = self._abandon = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _stop(self, timeout: float, keep: Callable[[list[Any]], None]) -> int:
        """Wait up to ``timeout`` for the queue to drain; ``keep`` the rest (under the lock)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        with self._cond:
            self._abandon = True
            self._cond.notify()
            left = list(self._pending)
            keep(left)
        return len(left)

    def _run(self) -> None:
        delay = self.backoff
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending or self._abandon:
                    return
                item = self._pending[0]
            outcome = self._attempt(item)
            if outcome == self.RETRY:
                log.warning("%s: not done, retrying in %.1f s", self._thread.name, delay)
                with self._cond:
                    # New items notify too; only close() may cut the wait short.
                    deadline = time.monotonic() + delay
                    while not self._abandon and (left := deadline - time.monotonic()) > 0:
                        self._cond.wait(left)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff
            with self._cond:
                if not self._settle(item, outcome):
                    return
                self._pending.popleft()
            self._after(item, outcome)

    def _attempt(self, item: Any) -> str:
        raise NotImplementedError

    def _settle(self, item: Any, outcome: str) -> bool:
        """Under the lock, before the item leaves the queue; False stops the thread, the item kept."""
        return True

    def _after(self, item: Any, outcome: str) -> None:
        pass


class HookSender(_InOrder):
    """Delivers hook bodies in order from a thread, without losing any."""

    def __init__(
        self,
        server: str,
        secret: str,
        spool_dir: Path | None = None,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        post: Post | None = None,
        key_id: str | None = None,  # the institution's recorder key ``secret`` belongs to
    ) -> None:
        self.url, self.secret, self.spool_dir = server.rstrip("/") + HOOK_PATH, secret, spool_dir
        self.key_id = key_id
        if post is None:
            client = httpx.Client(timeout=5.0)

            def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
                return client.post(url, content=body, headers=headers).status_code

            post = http_post
        self._post = post
        self.delivered = 0
        earlier: list[bytes] = []
        if spool_dir is not None and (spool_dir / PENDING_FILE).exists():
            # Hooks left by an earlier run go first, since the server expects
            # order; the file stays until close() rewrites it, so a crash now
            # loses nothing (the ``id`` lets the server drop a repeat).
            earlier = [x for x in (spool_dir / PENDING_FILE).read_bytes().splitlines() if x.strip()]
            log.info("resending %d hooks from an earlier run", len(earlier))
        self._start("examday-hooks", earlier, backoff, backoff_max)

    def submit(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self._cond:
            self._pending.append(body)
            self._cond.notify()

    def close(self, timeout: float = 10.0) -> int:
        """Wait up to ``timeout`` for the queue to drain; spool and count the rest."""
        return self._stop(timeout, self._spool)

    def _spool(self, left: list[bytes]) -> None:
        if self.spool_dir is None:
            return
        spool = self.spool_dir / PENDING_FILE
        if left:
            spool.write_bytes(b"".join(body + b"\n" for body in left))
            log.warning("server unreachable: %d hooks kept in %s", len(left), spool)
        else:
            spool.unlink(missing_ok=True)

    def _after(self, body: bytes, outcome: str) -> None:
        if outcome == "ok":
            self.delivered += 1
        elif self.spool_dir is not None:
            # Resending a hook the server refuses (bad signature, unknown
            # camera) would block every hook behind it: kept for a person.
            log.error("server refused a hook; kept in %s", REJECTED_FILE)
            with open(self.spool_dir / REJECTED_FILE, "ab") as f:
                f.write(body + b"\n")

    def _attempt(self, body: bytes) -> str:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.secret)}
        if self.key_id:
            headers[KEY_HEADER] = self.key_id
        try:
            status = self._post(self.url, body, headers)
        except (httpx.HTTPError, OSError) as exc:
            log.debug("hook post failed: %s", exc)
            return self.RETRY
        if 200 <= status < 300:
            return "ok"
        return self.RETRY if status in (408, 425, 429) or status >= 500 else "rejected"


class SegmentUploader(_InOrder):
    """Uploads finished segments in order from a thread, then hands their hooks to ``sender``."""

    def __init__(
        self,
        target: str,
        out_dir: Path,
        sender: HookSender,
        spool_dir: Path,
        s3: S3Config | None = None,  # the store (None: AWS's defaults); main() builds it from EXAMDAY_S3_*
        keep_local: bool = False,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        client: Any = None,
    ) -> None:
        self.bucket, prefix = blobs_s3.parse_url(target)
        self.prefix, self.out_dir = prefix.strip("/"), Path(out_dir).resolve()
        self.sender, self.journal, self.keep_local = sender, spool_dir / UPLOADS_FILE, keep_local
        self._client, self._s3 = client, s3 or S3Config()
        self.uploaded: list[str] = []
        earlier = []
        if self.journal.exists():
            earlier = [json.loads(x) for x in self.journal.read_bytes().splitlines() if x.strip()]
            log.info("uploading %d segments left by an earlier run", len(earlier))
        self._start("examday-uploads", earlier, backoff, backoff_max)

    def location(self, local: Path) -> str:
        """The object a local segment becomes: the same folders under the prefix."""
        rel = Path(local).resolve().relative_to(self.out_dir).as_posix()
        return blobs_s3.url(self.bucket, f"{self.prefix}/{rel}" if self.prefix else rel)

    def submit(self, local: Path, hook: dict[str, Any]) -> None:
        item = {"file": str(local), "hook": hook}
        with self._cond:
            self._pending.append(item)
            # Listed before anything else happens: a crash now still uploads it next run.
            with open(self.journal, "ab") as f:
                f.write(json.dumps(item, ensure_ascii=False).encode() + b"\n")
                f.flush()
                os.fsync(f.fileno())
            self._cond.notify()

    def close(self, timeout: float = 10.0) -> int:
        """Wait up to ``timeout`` for the uploads; the rest stay listed for the next run."""
        left = self._stop(timeout, self._rewrite)
        if left:
            log.warning("store unreachable: %d segments wait in %s", left, self.journal)
        return left

    def _rewrite(self, items: list[dict[str, Any]]) -> None:
        if not items:
            self.journal.unlink(missing_ok=True)
            return
        tmp = self.journal.with_suffix(".tmp")
        tmp.write_bytes(b"".join(json.dumps(i, ensure_ascii=False).encode() + b"\n" for i in items))
        os.replace(tmp, self.journal)

    def _attempt(self, item: dict[str, Any]) -> str:
        try:
            item["hook"] = self._upload(Path(item["file"]), dict(item["hook"]))
        except (S3Error, OSError) as exc:
            log.warning("segment not uploaded: %s", exc)
            return self.RETRY
        return "uploaded"

    def _settle(self, item: dict[str, Any], outcome: str) -> bool:
        if self._abandon:
            return False  # close() has kept it listed: the next run reports it
        self.sender.submit(item["hook"])  # before the list forgets it; a repeat is dropped by its id
        self._rewrite(list(self._pending)[1:])
        return True

    def _after(self, item: dict[str, Any], outcome: str) -> None:
        self.uploaded.append(item["hook"]["path"])
        if not self.keep_local:
            Path(item["file"]).unlink(missing_ok=True)

    def _upload(self, local: Path, hook: dict[str, Any]) -> dict[str, Any]:
        if self._client is None:
            self._client = blobs_s3.client(self._s3)
        bucket, key = blobs_s3.parse_url(hook["path"])
        if not local.exists():
            # Uploaded by an earlier run that stopped before its list was rewritten, or lost:
            # the hook reports it either way and the server judges what is there.
            return hook
        with open(local, "rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() != hook["sha256"]:
                raise OSError(f"{local} changed after it was cut")  # never upload other bytes
            for _ in range(2):
                f.seek(0)
                outcome = blobs_s3.put(
                    self._client,
                    bucket,
                    key,
                    f,
                    hook["sha256"],
                    hook["bytes"],
                    CONTENT_TYPES.get(local.suffix, "application/octet-stream"),
                )
                if outcome != "conflict":
                    return hook
                # Another recording already holds that name (a clock set back): keep both.
                stem, dot, ext = key.rpartition(".")
                key = f"{stem}-{hook['sha256'][:12]}{dot}{ext}" if dot else f"{key}-{hook['sha256'][:12]}"
                hook["path"] = blobs_s3.url(bucket, key)
        raise S3Error(f"no free name for {local.name}")
