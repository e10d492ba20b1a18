"""Reading a backup back (issue #19): every file against the manifest's SHA-256 and size, nothing
missing and nothing extra, and the database it holds against the manifest's row counts, audit
head and schema revision. A damaged backup is refused with the first reason found; the checks
that need examday's own code (the audit chain, the seals) are passed in by the caller
(examday/cli_backup.py), since storage imports nothing of examday.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from storage import backup_facts as facts
from storage.backup import FORMAT, MANIFEST
from storage.modes import PRIVATE_FILE


class BackupDamaged(Exception):
    """The backup cannot be trusted; ``str()`` says why."""


@dataclass
class ArchiveCheck:
    manifest: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    extracted: dict[str, Path] = field(default_factory=dict)


def check_archive(path: Path, extract_to: Path | None = None, extract: tuple[str, ...] = ()) -> ArchiveCheck:
    """Stream through the archive hashing every member; extract the members whose names start
    with one of ``extract`` into ``extract_to``."""
    seen: dict[str, dict[str, Any]] = {}
    extracted: dict[str, Path] = {}
    manifest_bytes: bytes | None = None
    try:
        with tarfile.open(path, "r:gz") as tar:
            for m in tar:
                if not m.isfile():
                    return ArchiveCheck(None, [f"{m.name}: not a plain file (a backup holds files only)"])
                if m.name.startswith("/") or ".." in Path(m.name).parts:
                    return ArchiveCheck(None, [f"{m.name}: a path outside the backup"])
                src = tar.extractfile(m)
                assert src is not None
                if m.name == MANIFEST:
                    manifest_bytes = src.read()
                    continue
                sha, size = hashlib.sha256(), 0
                out = None
                if extract_to is not None and m.name.startswith(extract):
                    target = extract_to / m.name
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    out = os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "wb")
                    extracted[m.name] = target
                try:
                    while block := src.read(1 << 20):
                        sha.update(block)
                        size += len(block)
                        if out is not None:
                            out.write(block)
                finally:
                    if out is not None:
                        out.close()
                seen[m.name] = {"sha256": sha.hexdigest(), "size": size}
            # tarfile stops quietly at a damaged header after the first member, before gzip has
            # read its trailer; reading to the end makes gzip check its CRC, so a flipped byte
            # anywhere is named as damage instead of as a member gone missing.
            while tar.fileobj is not None and tar.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        return ArchiveCheck(None, [f"the archive cannot be read ({type(exc).__name__}: {exc})"])
    if manifest_bytes is None:
        return ArchiveCheck(None, ["manifest.json is missing"])
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        return ArchiveCheck(None, [f"manifest.json is not valid JSON ({exc})"])
    problems = _compare_files(manifest, seen)
    return ArchiveCheck(manifest, problems, extracted)


def _compare_files(manifest: dict[str, Any], seen: dict[str, dict[str, Any]]) -> list[str]:
    if manifest.get("format") != FORMAT:
        return [f"unknown backup format {manifest.get('format')!r} (this examday reads {FORMAT})"]
    listed: dict[str, dict[str, Any]] = manifest.get("files") or {}
    problems = []
    for name, want in sorted(listed.items()):
        got = seen.get(name)
        if got is None:
            problems.append(f"{name}: listed in the manifest, missing from the archive")
        elif got["sha256"] != want.get("sha256"):
            problems.append(f"{name}: SHA-256 {got['sha256']} differs from the manifest's {want.get('sha256')}")
        elif got["size"] != want.get("size"):
            problems.append(f"{name}: {got['size']} bytes, the manifest says {want.get('size')}")
    problems += [f"{name}: in the archive but not in the manifest" for name in sorted(set(seen) - set(listed))]
    member = (manifest.get("database") or {}).get("member")
    if member not in listed:
        problems.append("the manifest names no database file")
    blobs = manifest.get("blobs") or {}
    in_archive = sum(1 for n in listed if n.startswith("blobs/") and n != "blobs/by-reference.json")
    if blobs.get("store") == "local" and in_archive != blobs.get("copied"):
        problems.append(f"the manifest counts {blobs.get('copied')} blob files, the archive lists {in_archive}")
    return problems


def compare_database(engine: Engine, manifest: dict[str, Any]) -> list[str]:
    """The restored database against the manifest: every table's rows, every audit chain's head, the revision."""
    problems = []
    with engine.connect() as conn:
        counts = facts.row_counts(conn)
        head = facts.audit_head(conn)
        heads = facts.audit_heads(conn)
        revision = facts.revision(conn)
    want = manifest.get("tables") or {}
    for table in sorted(set(want) | set(counts)):
        if want.get(table) != counts.get(table):
            problems.append(f"table {table}: {counts.get(table)} rows, the manifest says {want.get(table)}")
    if head != manifest.get("audit_head"):
        problems.append(f"audit head {head} differs from the manifest's {manifest.get('audit_head')}")
    if "audit_heads" in manifest:  # a backup made before issue #18 names the one chain above
        want_heads = manifest["audit_heads"] or {}
        for chain in sorted(set(want_heads) | set(heads or {}), key=lambda c: int(c)):
            if (heads or {}).get(chain) != want_heads.get(chain):
                problems.append(
                    f"audit head of chain {chain} {(heads or {}).get(chain)} differs from the manifest's"
                    f" {want_heads.get(chain)}"
                )
    if revision != (manifest.get("database") or {}).get("revision"):
        problems.append(
            f"schema revision {revision} differs from the manifest's {manifest['database'].get('revision')}"
        )
    return problems


def known_revision(revision: str | None, script_location: Path | None = None) -> str | None:
    """None when this examday's migrations know ``revision``; else why not."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from storage.db import MIGRATIONS

    if revision is None:
        return "the backup's database has no schema revision (not made by examday's migrations)"
    scripts = ScriptDirectory(str(script_location or MIGRATIONS))
    for rev in revision.split(","):
        try:
            if scripts.get_revision(rev) is None:
                raise CommandError(rev)
        except CommandError:
            return f"schema revision {rev} is unknown to this examday (a newer version made the backup)"
    return None


def sqlite_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}")
