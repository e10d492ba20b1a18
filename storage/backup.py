"""``examday backup``: one consistent snapshot (备份, backup) of an installation while it serves
(issue #19). A lost disk must not lose the records kept for years (R-ARCH-1) nor the chain that
proves them untouched (R-AUDIT-1): the manifest carries the head of every audit chain (one per
institution and the installation's, issue #18), and a restore is checked against them.

The archive (``examday-backup-<UTC time>.tar.gz``, 0600) holds

- ``database/examday.sqlite3``, copied through SQLite's online backup API (a reader: the
  server keeps writing), or ``database/examday.pgdump``, ``pg_dump --format=custom`` run on
  the snapshot of a REPEATABLE READ transaction that also reads the manifest's facts;
- ``blobs/<key>``: every file the snapshot's ``blob`` rows refer to (a local blob folder; an
  S3 store's blobs are listed by reference, like the video);
- ``video/segments.json``: the recorded segments by reference (path and SHA-256: video is
  too big to copy every night, and lies on the recorders' storage);
- ``keys/public-keys.json``: the institutions' public keys, which check tickets and seals;
- ``secrets.sealed``, only with ``--with-secrets`` (storage/backup_secrets.py);
- ``manifest.json``, written last: the row count of every table, the audit chain's head, the
  schema revision and the SHA-256 and size of every other file.

The archive is written under a temporary name and renamed when complete, then read back and
its checksums checked; only then is it recorded as the last good backup (:func:`last_backup`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage import backup_facts as facts
from storage.modes import PRIVATE_FILE, private_dir

FORMAT = "examday-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/examday.sqlite3"
PG_MEMBER = "database/examday.pgdump"
STATUS = "last-backup.json"
PREFIX = "examday-backup-"
PRE_UPGRADE = "examday-pre-upgrade-"


class BackupFailed(RuntimeError):
    pass


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    size: int
    warnings: list[str] = field(default_factory=list)


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory database cannot be backed up")
    return Path(database)


@contextlib.contextmanager
def pg_conninfo(url: str) -> Iterator[str]:
    """A libpq connection string for pg_dump / pg_restore (``--dbname``). The password goes into a
    0600 password file named by ``passfile``, never onto a command line other accounts can read."""
    u = make_url(url)

    def quoted(v: object) -> str:
        return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"

    parts: dict[str, object] = {"host": u.host, "port": u.port, "user": u.username, "dbname": u.database}
    for key, value in u.query.items():  # options (a search path), sslmode…: libpq's own parameters
        parts[key] = value if isinstance(value, str) else " ".join(value)
    with tempfile.TemporaryDirectory(prefix="examday-pg-") as tmp:
        if u.password is not None:
            passfile = Path(tmp) / "pgpass"
            fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            escaped = str(u.password).replace("\\", "\\\\").replace(":", "\\:")
            with os.fdopen(fd, "w") as f:
                f.write(f"*:*:*:*:{escaped}\n")
            parts["passfile"] = str(passfile)
        yield " ".join(f"{k}={quoted(v)}" for k, v in parts.items() if v is not None)


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://") :] if url.startswith("postgresql://") else url


class _Archive:
    """A tar.gz being written, and the SHA-256 and size of each file put in it."""

    def __init__(self, path: Path) -> None:
        self.tar = tarfile.open(path, "w:gz", compresslevel=1)  # noqa: SIM115 - closed by close()
        self.files: dict[str, dict[str, Any]] = {}

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add_stream(name, io.BytesIO(data), len(data))

    def add_file(self, name: str, path: Path) -> None:
        with open(path, "rb") as f:
            self.add_stream(name, f, os.fstat(f.fileno()).st_size)

    def add_stream(self, name: str, stream: IO[bytes], size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(time.time())
        reader = _Hashing(stream)
        self.tar.addfile(info, reader)
        if reader.size != size:
            raise BackupFailed(f"{name} changed size while it was copied")
        self.files[name] = {"sha256": reader.sha.hexdigest(), "size": size}

    def close(self) -> None:
        self.tar.close()


class _Hashing(io.RawIOBase):
    def __init__(self, inner: IO[bytes]) -> None:
        self.inner, self.sha, self.size = inner, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


@contextlib.contextmanager
def _snapshot(url: str, work: Path) -> Iterator[tuple[Any, Path, str]]:
    """A connection reading the snapshot, the database file made of it, and its archive name."""
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise BackupFailed(f"no database at {path}")
        copy = work / "examday.sqlite3"
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # one step: a consistent copy, WAL readers never block the server's writers
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
            src.close()
        os.chmod(copy, PRIVATE_FILE)
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as conn:
                yield conn, copy, SQLITE_MEMBER
        finally:
            engine.dispose()
        return
    if shutil.which("pg_dump") is None:
        raise BackupFailed("pg_dump is not installed (apt-get install postgresql-client)")
    engine = create_engine(sqlalchemy_url(url), isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            snap = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            dump = work / "examday.pgdump"
            # --snapshot: pg_dump sees exactly what this transaction sees, the facts below included.
            with pg_conninfo(url) as conninfo:
                run = subprocess.run(
                    ["pg_dump", "--format=custom", f"--snapshot={snap}", f"--schema={schema}", "-f", str(dump)]
                    + [f"--dbname={conninfo}"],
                    capture_output=True,
                    text=True,
                )
            if run.returncode != 0:
                raise BackupFailed(f"pg_dump failed: {run.stderr.strip()[-500:]}")
            os.chmod(dump, PRIVATE_FILE)
            conn.info["schema"] = schema
            yield conn, dump, PG_MEMBER
            conn.rollback()
    finally:
        engine.dispose()


def backup_name(now: datetime, prefix: str = PREFIX) -> str:
    return f"{prefix}{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def take_backup(
    url: str,
    data_dir: Path,
    to: Path | None = None,
    *,
    blob_root: Path | None = None,
    secrets: dict[str, str] | None = None,
    passphrase: str | None = None,
    prefix: str = PREFIX,
    now: datetime | None = None,
) -> BackupResult:
    """Write one archive of the installation into ``to`` (default ``<data_dir>/backups``).

    ``blob_root`` is the local blob folder (None when the blobs are in S3: then listed by
    reference). ``secrets`` are sealed with ``passphrase`` when given (``--with-secrets``)."""
    from storage.backup_archive import check_archive  # read back before it counts as good

    started = time.monotonic()
    now = now or datetime.now(UTC)
    folder = private_dir(Path(to) if to else Path(data_dir) / "backups")
    final = folder / backup_name(now, prefix)
    if final.exists():
        raise BackupFailed(f"{final} exists already (two backups in one second): try again")
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="examday-backup-", dir=folder) as tmp:
        work = Path(tmp)
        partial = work / (final.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        os.close(fd)
        archive = _Archive(partial)
        try:
            with _snapshot(url, work) as (conn, dbfile, member):
                manifest: dict[str, Any] = {
                    "format": FORMAT,
                    "created_at": now.astimezone(UTC).isoformat(),
                    "database": {
                        "dialect": conn.dialect.name,
                        "member": member,
                        "schema": conn.info.get("schema"),
                        "revision": facts.revision(conn),
                    },
                    "audit_head": facts.audit_head(conn),  # the installation's chain, as before #18
                    "audit_heads": facts.audit_heads(conn),  # every chain (issue #18)
                    "tables": facts.row_counts(conn),
                }
                blobs = facts.live_blobs(conn)
                segments = facts.video_segments(conn)
                keys = facts.public_keys(conn)
            archive.add_file(member, dbfile)
            with contextlib.suppress(FileNotFoundError):
                dbfile.unlink()  # the temp copy: not twice the database on disk while blobs are added
            copied, missing = _add_blobs(archive, blobs, blob_root)
            if missing:
                warnings.append(f"{len(missing)} blob file(s) the database refers to are missing: {missing[:5]}")
            manifest["blobs"] = {
                "store": "local" if blob_root is not None else "by_reference",
                "count": len(blobs),
                "copied": copied,
                "bytes": sum(b["size"] for b in blobs),
                "missing": missing,
            }
            if blob_root is None:
                archive.add_bytes("blobs/by-reference.json", _json(blobs))
            archive.add_bytes("video/segments.json", _json(segments))
            manifest["video"] = {"segments": len(segments), "bytes": sum(s["size"] or 0 for s in segments)}
            archive.add_bytes("keys/public-keys.json", _json(keys))
            manifest["public_keys"] = len(keys)
            manifest["with_secrets"] = secrets is not None
            if secrets is not None:
                from storage.backup_secrets import seal

                archive.add_bytes("secrets.sealed", seal(secrets, passphrase or ""))
            manifest["files"] = dict(archive.files)
            archive.add_bytes(MANIFEST, _json(manifest))
            archive.close()
        except BaseException:
            archive.tar.close()
            raise
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, final)
    problems = check_archive(final).problems
    if problems:
        raise BackupFailed(f"the backup written to {final} does not read back: {problems[0]}")
    result = BackupResult(final, manifest, time.monotonic() - started, final.stat().st_size, warnings)
    _record_status(Path(data_dir), result)
    return result


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()


def _add_blobs(archive: _Archive, blobs: list[dict[str, Any]], root: Path | None) -> tuple[int, list[str]]:
    if root is None:
        return 0, []
    copied, missing = 0, []
    for b in blobs:
        path = root / b["key"]
        try:
            archive.add_file(f"blobs/{b['key']}", path)
        except FileNotFoundError:
            missing.append(b["key"])  # purged after the snapshot, or lost before it: said, not hidden
            continue
        if archive.files[f"blobs/{b['key']}"]["sha256"] != b["sha256"]:
            raise BackupFailed(f"blob {b['key']} does not match its recorded SHA-256: the blob folder is damaged")
        copied += 1
    return copied, missing


def _record_status(data_dir: Path, result: BackupResult) -> None:
    status = {
        "when": result.manifest["created_at"],
        "path": str(result.path),
        "ok": True,
        "size": result.size,
        "seconds": round(result.seconds, 2),
    }
    tmp = data_dir / (STATUS + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as f:
        json.dump(status, f)
    os.replace(tmp, data_dir / STATUS)


def last_backup(data_dir: Path) -> tuple[datetime, Path, bool] | None:
    """When the last backup was made, where, and whether it is good (written completely, read back,
    and still there with the size it had): for the office page's "last good backup" line.
    None when this installation never made one."""
    try:
        status = json.loads((Path(data_dir) / STATUS).read_text())
    except (FileNotFoundError, ValueError):
        return None
    path = Path(status["path"])
    ok = bool(status.get("ok")) and path.is_file() and path.stat().st_size == status.get("size")
    return datetime.fromisoformat(status["when"]), path, ok
