"""Issue #19: `examday backup verify` refuses a damaged backup — a byte changed, a file missing, a
manifest that disagrees, an audit chain edited inside the snapshot (R-AUDIT-1) — with the reason,
and a non-zero exit."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from examday import cli
from examday.cli_backup import blob_root, installation_checks
from examday.demo.seed import seed_demo
from storage.backup import MANIFEST, SQLITE_MEMBER, take_backup
from storage.backup_restore import verify_backup
from storage.db import make_engine, migrate
from tests.integration.storage.backup_support import installation

Members = dict[str, bytes]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    from datetime import datetime

    from examday.clock import CST, FixedClock

    folder = tmp_path_factory.mktemp("installation")
    url = f"sqlite:///{folder / 'examday.db'}"
    migrate(url)
    settings = installation(url, folder)
    engine = make_engine(url)
    seed_demo(engine, settings, FixedClock(datetime(2026, 11, 26, 8, 0, tzinfo=CST)), io.StringIO())
    engine.dispose()
    return take_backup(url, settings.data_dir, blob_root=blob_root(settings)).path


def members(path: Path) -> Members:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def rebuild(good: Path, out: Path, change: Callable[[Members], None], fix_checksums: bool = False) -> Path:
    """The backup again, with ``change`` made to its files (and, if asked, the manifest's checksums
    made to agree, as a careful forger would)."""
    files = members(good)
    change(files)
    if fix_checksums:
        manifest = json.loads(files[MANIFEST])
        manifest["files"] = {
            n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in files.items() if n != MANIFEST
        }
        files[MANIFEST] = json.dumps(manifest).encode()
    with tarfile.open(out, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def refused(path: Path) -> str:
    v = verify_backup(path, [installation_checks])
    assert not v.ok
    return v.problems[0]


def test_the_good_backup_verifies(good):
    v = verify_backup(good, [installation_checks])
    assert v.ok, v.problems


def test_one_byte_changed_in_the_database_is_refused(good, tmp_path):
    def flip(files: Members) -> None:
        db = bytearray(files[SQLITE_MEMBER])
        db[len(db) // 2] ^= 0x01
        files[SQLITE_MEMBER] = bytes(db)

    reason = refused(rebuild(good, tmp_path / "b.tar.gz", flip))
    assert reason.startswith(f"{SQLITE_MEMBER}: SHA-256") and "differs from the manifest" in reason


@pytest.mark.parametrize("at", [i / 40 for i in range(1, 40)] + [0.999999])
def test_one_byte_changed_in_the_archive_file_is_refused(good, tmp_path, at):
    """A flipped byte that changes what the archive holds is named as damage: a CI run once met a
    flip that made tarfile stop early, and the reason read 'manifest.json is missing'. Deflate has
    bits no output depends on (and gzip's header has a date no checksum covers); a flip there
    leaves the backup whole, and it verifies."""
    data = bytearray(good.read_bytes())
    pos = min(len(data) - 1, int(len(data) * at))
    data[pos] ^= 0x01
    damaged = tmp_path / "b.tar.gz"
    damaged.write_bytes(bytes(data))
    try:
        same = gzip.decompress(bytes(data)) == gzip.decompress(good.read_bytes())
    except (OSError, EOFError, zlib.error):
        same = False
    if same:
        assert verify_backup(damaged, [installation_checks]).ok
        return
    reason = refused(damaged)
    assert "cannot be read" in reason or "SHA-256" in reason, (pos, reason)


def test_a_missing_blob_is_refused(good, tmp_path):
    blob = next(n for n in members(good) if n.startswith("blobs/"))
    reason = refused(rebuild(good, tmp_path / "b.tar.gz", lambda f: f.pop(blob)))
    assert reason == f"{blob}: listed in the manifest, missing from the archive"


def test_a_missing_database_is_refused(good, tmp_path):
    reason = refused(rebuild(good, tmp_path / "b.tar.gz", lambda f: f.pop(SQLITE_MEMBER)))
    assert "missing from the archive" in reason


def test_a_missing_manifest_is_refused(good, tmp_path):
    assert refused(rebuild(good, tmp_path / "b.tar.gz", lambda f: f.pop(MANIFEST))) == "manifest.json is missing"


def test_a_manifest_whose_counts_disagree_is_refused(good, tmp_path):
    def miscount(files: Members) -> None:
        manifest = json.loads(files[MANIFEST])
        manifest["tables"]["candidate"] += 1
        files[MANIFEST] = json.dumps(manifest).encode()

    reason = refused(rebuild(good, tmp_path / "b.tar.gz", miscount))
    assert reason.startswith("table candidate:") and "the manifest says" in reason


def test_a_manifest_whose_audit_head_disagrees_is_refused(good, tmp_path):
    def other_head(files: Members) -> None:
        manifest = json.loads(files[MANIFEST])
        manifest["audit_head"]["hash"] = "0" * 64
        files[MANIFEST] = json.dumps(manifest).encode()

    assert refused(rebuild(good, tmp_path / "b.tar.gz", other_head)).startswith("audit head")


def test_a_file_the_manifest_does_not_list_is_refused(good, tmp_path):
    def extra(files: Members) -> None:
        files["blobs/zz/zz/smuggled.pdf"] = b"%PDF-"

    assert (
        refused(rebuild(good, tmp_path / "b.tar.gz", extra))
        == "blobs/zz/zz/smuggled.pdf: in the archive but not in the manifest"
    )


def test_an_audit_entry_edited_in_the_snapshot_is_refused_even_with_checksums_to_match(good, tmp_path):
    # R-AUDIT-1: every checksum agrees (recomputed), but the restored chain does not hold.
    def edit(files: Members) -> None:
        db = tmp_path / "edit.sqlite3"
        db.write_bytes(files[SQLITE_MEMBER])
        c = sqlite3.connect(db)
        c.execute("UPDATE auditentry SET action = 'batch.nothing' WHERE seq = 5")
        where.extend(c.execute("SELECT chain, chain_seq FROM auditentry WHERE seq = 5").fetchone())
        c.commit()
        c.close()
        files[SQLITE_MEMBER] = db.read_bytes()

    where: list[int] = []
    reason = refused(rebuild(good, tmp_path / "b.tar.gz", edit, fix_checksums=True))
    chain, at = where  # issue #18: the break is named with its chain and its place in it
    of = "of the installation" if chain == 0 else f"of institution {chain}"
    assert reason == f"audit chain {of} broken at entry {at}: content does not match its hash (edited)"


def test_the_command_exits_non_zero_with_the_reason(good, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXAMDAY_DATABASE_URL", f"sqlite:///{tmp_path / 'here.db'}")
    monkeypatch.setenv("EXAMDAY_DATA_DIR", str(tmp_path / "data"))
    blob = next(n for n in members(good) if n.startswith("blobs/"))
    damaged = rebuild(good, tmp_path / "b.tar.gz", lambda f: f.pop(blob))
    assert cli.main(["backup", "verify", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert "REFUSED" in err and f"{blob}: listed in the manifest, missing from the archive" in err
    assert cli.main(["backup", "verify", str(good)]) == 0
    assert "holds" in capsys.readouterr().out


def test_a_backup_from_a_newer_examday_is_refused(good, tmp_path):
    def newer(files: Members) -> None:
        db = tmp_path / "newer.sqlite3"
        db.write_bytes(files[SQLITE_MEMBER])
        c = sqlite3.connect(db)
        c.execute("UPDATE alembic_version SET version_num = 'f00d'")
        c.commit()
        c.close()
        files[SQLITE_MEMBER] = db.read_bytes()
        manifest = json.loads(files[MANIFEST])
        manifest["database"]["revision"] = "f00d"
        files[MANIFEST] = json.dumps(manifest).encode()

    reason = refused(rebuild(good, tmp_path / "b.tar.gz", newer, fix_checksums=True))
    assert reason == "schema revision f00d is unknown to this examday (a newer version made the backup)"
