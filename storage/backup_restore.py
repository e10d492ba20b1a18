"""``examday backup verify`` and ``examday restore`` (issue #19): a backup proves itself by being
restored — into a temporary place to verify it, into the installation to restore it — and
checked there against its manifest and by the caller's checks (the audit chain and the seals,
R-AUDIT-1). A restore refuses to overwrite an installation in use unless forced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage import backup_facts as facts
from storage.backup import PG_MEMBER, SQLITE_MEMBER, pg_conninfo, sqlalchemy_url, sqlite_path
from storage.backup_archive import BackupDamaged, check_archive, compare_database, known_revision
from storage.modes import PRIVATE_FILE, private_dirs

# A check run on a restored database's URL: what is wrong with it, nothing when it holds.
Check = Callable[[str], list[str]]


@dataclass
class Verified:
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _opened(path: Path, work: Path) -> tuple[dict[str, Any], Path]:
    if not Path(path).is_file():
        raise BackupDamaged(f"no backup at {path}")
    checked = check_archive(Path(path), work, ("database/",))
    if checked.problems or checked.manifest is None:
        raise BackupDamaged(checked.problems[0] if checked.problems else "unreadable")
    manifest = checked.manifest
    return manifest, checked.extracted[manifest["database"]["member"]]


def _pg_restore(dump: Path, url: str, schema: str | None) -> None:
    """Restore a custom-format dump into the database ``url`` names, in one transaction. The
    schema itself is made here, not by the dump (it may exist, empty, like ``public``)."""
    if shutil.which("pg_restore") is None:
        raise BackupDamaged("pg_restore is not installed (apt-get install postgresql-client)")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupDamaged(f"pg_restore cannot read the dump: {listing.stderr.strip()[-300:]}")
    toc = "\n".join(line for line in listing.stdout.splitlines() if " SCHEMA - " not in line)
    with tempfile.NamedTemporaryFile("w", suffix=".toc", delete=False) as f:
        f.write(toc)
    try:
        if schema:
            engine = create_engine(sqlalchemy_url(url))
            with engine.begin() as c:
                c.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                here = c.execute(text("SELECT current_schema()")).scalar_one()
            engine.dispose()
            if here != schema:
                raise BackupDamaged(
                    f"the backup's tables are in schema {schema}; this database's search path is {here}"
                )
        with pg_conninfo(url) as conninfo:
            run = subprocess.run(
                ["pg_restore", "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error"]
                + ["-L", f.name, f"--dbname={conninfo}", str(dump)],
                capture_output=True,
                text=True,
            )
        if run.returncode != 0:
            raise BackupDamaged(f"pg_restore failed: {run.stderr.strip()[-500:]}")
    finally:
        os.unlink(f.name)


@contextlib.contextmanager
def _scratch_postgres(url: str) -> Iterator[str]:
    """A new database on the same server for the verification, dropped afterwards (the account
    needs CREATEDB)."""
    name = f"examday_verify_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _check_restored(url: str, manifest: dict[str, Any], checks: list[Check], upgrade: bool = False) -> list[str]:
    """The restored database against its manifest, then — ``upgrade`` — brought to this examday's
    schema as a server start would (the caller's checks read it through this examday's models),
    then the caller's checks."""
    engine = create_engine(sqlalchemy_url(url))
    try:
        problems = compare_database(engine, manifest)
    finally:
        engine.dispose()
    unknown = known_revision((manifest.get("database") or {}).get("revision"))
    if unknown:
        problems.append(unknown)
    if problems:
        return problems
    if upgrade:
        from storage.db import migrate

        try:
            migrate(url)
        except Exception as exc:
            return [f"the backup's database does not upgrade to this examday's schema ({type(exc).__name__}: {exc})"]
    for check in checks:
        problems += check(url)
    return problems


def verify_backup(path: Path, checks: list[Check], postgres_url: str | None = None) -> Verified:
    """Open the backup in a temporary place, check every file, restore its database there and
    check it. A PostgreSQL dump is restored into a scratch database on ``postgres_url``'s server."""
    with tempfile.TemporaryDirectory(prefix="examday-verify-") as tmp:
        try:
            manifest, dbfile = _opened(path, Path(tmp))
        except BackupDamaged as exc:
            return Verified({}, [str(exc)])
        member = manifest["database"]["member"]
        if member == SQLITE_MEMBER:
            return Verified(manifest, _check_restored(f"sqlite:///{dbfile}", manifest, checks, upgrade=True))
        if member != PG_MEMBER:
            return Verified(manifest, [f"unknown database file {member}"])
        if not postgres_url or not postgres_url.startswith("postgresql"):
            return Verified(
                manifest, ["a PostgreSQL backup is verified on a PostgreSQL server: set EXAMDAY_DATABASE_URL"]
            )
        try:
            with _scratch_postgres(postgres_url) as scratch:
                _pg_restore(dbfile, scratch, manifest["database"].get("schema"))
                return Verified(manifest, _check_restored(scratch, manifest, checks, upgrade=True))
        except BackupDamaged as exc:
            return Verified(manifest, [str(exc)])
        except DBAPIError as exc:  # most often: the account may not CREATE DATABASE
            return Verified(
                manifest,
                [f"no scratch database to verify in (the account needs CREATEDB): {str(exc.orig).strip()[:200]}"],
            )


def in_use(url: str, blob_root: Path | None) -> str | None:
    """Why the installation is not empty, or None."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        pass
    else:
        engine = create_engine(sqlalchemy_url(url))
        try:
            with engine.connect() as c:
                if facts.has_data(c):
                    return "its database holds data"
        finally:
            engine.dispose()
    if blob_root is not None and blob_root.is_dir() and any(p.is_file() for p in blob_root.rglob("*")):
        return f"its blob folder {blob_root} holds files"
    return None


def _restore_sqlite(dbfile: Path, url: str) -> None:
    target = sqlite_path(url)
    assert target is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    src = sqlite3.connect(dbfile)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # page by page into the target, through its own journal: all or nothing
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _empty_postgres(url: str, schema: str) -> None:
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def restore_database(path: Path, url: str, force: bool = False) -> dict[str, Any]:
    """Only the database, from a checked archive (the pre-upgrade backup after a failed upgrade)."""
    with tempfile.TemporaryDirectory(prefix="examday-restore-") as tmp:
        manifest, dbfile = _opened(path, Path(tmp))
        member = manifest["database"]["member"]
        if (member == SQLITE_MEMBER) != url.startswith("sqlite"):
            raise BackupDamaged(f"the backup holds {member}; the installation's database is another kind")
        if member == SQLITE_MEMBER:
            _restore_sqlite(dbfile, url)
        else:
            schema = manifest["database"].get("schema") or "public"
            if force:
                _empty_postgres(url, schema)
            _pg_restore(dbfile, url, schema)
    return manifest


def restore_blobs(path: Path, blob_root: Path) -> int:
    """The archive's blobs into the blob folder, each written whole then renamed; an existing
    file with the same name is the same blob (content-addressed) and stays."""
    n = 0
    with tarfile.open(path, "r:gz") as tar:
        for m in tar:
            if not m.isfile() or not m.name.startswith("blobs/") or m.name == "blobs/by-reference.json":
                continue
            key = m.name[len("blobs/") :]
            target = (blob_root / key).resolve()
            if blob_root.resolve() not in target.parents:
                raise BackupDamaged(f"{m.name}: a blob key outside the blob folder")
            if target.exists():
                continue
            private_dirs(blob_root, target.parent)
            src = tar.extractfile(m)
            assert src is not None
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
            n += 1
    return n


def restore(
    path: Path, url: str, blob_root: Path | None, checks: list[Check], force: bool = False
) -> tuple[Verified, int]:
    """Restore database and blobs into the installation, then verify it as ``backup verify``
    verifies a backup, plus every blob file against its checksum. A backup made by an older
    release (the pre-upgrade one) is brought to this examday's schema, as the next server start
    would, before examday's checks read it: the backup file itself stays as it was."""
    why = in_use(url, blob_root)
    if why and not force:
        raise BackupDamaged(f"the installation is in use ({why}): restore --force replaces it")
    manifest = restore_database(path, url, force=force)  # checks every file of the archive first
    copied = 0
    if blob_root is not None and (manifest.get("blobs") or {}).get("store") == "local":
        copied = restore_blobs(path, blob_root)
    problems = _check_restored(url, manifest, checks, upgrade=True)
    if blob_root is not None:
        problems += _check_blob_files(manifest, blob_root)
    return Verified(manifest, problems), copied


def _check_blob_files(manifest: dict[str, Any], blob_root: Path) -> list[str]:
    from storage.blobs import sha256_file

    problems = []
    for name, want in manifest.get("files", {}).items():
        if not name.startswith("blobs/") or name == "blobs/by-reference.json":
            continue
        p = blob_root / name[len("blobs/") :]
        if not p.is_file():
            problems.append(f"blob {name} missing after the restore")
        elif sha256_file(p)[0] != want["sha256"]:
            problems.append(f"blob {name} differs from the backup after the restore")
    return problems


def sealed_secrets(path: Path, passphrase: str) -> dict[str, str]:
    """The secrets a ``--with-secrets`` backup sealed, after every file of it checked out."""
    from storage.backup_secrets import unseal

    checked = check_archive(Path(path))
    if checked.problems or checked.manifest is None:
        raise BackupDamaged(checked.problems[0] if checked.problems else "unreadable")
    if not checked.manifest.get("with_secrets"):
        raise BackupDamaged("this backup was made without --with-secrets")
    with tarfile.open(path, "r:gz") as tar:
        member = tar.extractfile("secrets.sealed")
        assert member is not None
        return unseal(member.read(), passphrase)
