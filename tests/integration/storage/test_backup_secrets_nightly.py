"""Issue #19: the secrets are in a backup only when asked, sealed with a passphrase from standard
input (R-PRIV-1), and come back only with it; `examday serve --nightly` runs the backup, the purge
and the audit verification once a day; the last good backup is there for the office page; blobs in
S3 are listed by reference. The command line's `backup --to DIR`, its rotation of old backups,
and `restore`'s refusal of an installation in use without `--force`."""

from __future__ import annotations

import io
import tarfile
from datetime import datetime, time
from time import monotonic, sleep

import pytest

from examday import cli
from examday.cli_backup import next_run, nightly_once
from examday.clock import CST
from examday.demo.seed import seed_demo
from storage.backup import last_backup
from storage.db import make_engine, migrate
from tests.integration.storage.backup_support import installation

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def seeded(tmp_path, monkeypatch, clock):
    url = f"sqlite:///{tmp_path / 'examday.db'}"
    migrate(url)
    settings = installation(url, tmp_path)
    engine = make_engine(url)
    seed_demo(engine, settings, clock, io.StringIO())
    engine.dispose()
    monkeypatch.setenv("EXAMDAY_DATABASE_URL", url)
    monkeypatch.setenv("EXAMDAY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("EXAMDAY_SECRET_KEY", "the-installation-secret-key-0123456789abcdef")
    monkeypatch.setenv("EXAMDAY_HOOK_SECRET", "the-installation-hook-secret-0123456789abcd")
    return settings


def everything_in(path) -> bytes:
    with tarfile.open(path, "r:gz") as tar:
        return b"".join(tar.extractfile(m).read() for m in tar)  # type: ignore[union-attr]


def only_backup(settings):
    [path] = (settings.data_dir / "backups").glob("examday-backup-*.tar.gz")
    return path


def test_no_secret_is_in_a_backup_unless_asked(seeded, capsys):
    assert cli.main(["backup"]) == 0
    path = only_backup(seeded)
    content = everything_in(path)
    assert b"the-installation-secret-key" not in content and b"the-installation-hook-secret" not in content
    with tarfile.open(path, "r:gz") as tar:
        assert "secrets.sealed" not in tar.getnames()
    assert path.stat().st_mode & 0o077 == 0  # the server's account only (R-PRIV-1)


def test_sealed_secrets_come_back_with_the_passphrase_only(seeded, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert cli.main(["backup", "--with-secrets"]) == 0
    path = only_backup(seeded)
    content = everything_in(path)
    assert b"the-installation-secret-key" not in content  # sealed, not copied
    with tarfile.open(path, "r:gz") as tar:
        assert "secrets.sealed" in tar.getnames()

    # Into an empty installation whose own secrets are not set: a wrong passphrase restores nothing.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.setenv("EXAMDAY_DATABASE_URL", f"sqlite:///{fresh / 'examday.db'}")
    monkeypatch.setenv("EXAMDAY_DATA_DIR", str(fresh / "data"))
    monkeypatch.delenv("EXAMDAY_SECRET_KEY")
    monkeypatch.delenv("EXAMDAY_HOOK_SECRET")
    monkeypatch.setattr("sys.stdin", io.StringIO("not the passphrase at all\n"))
    assert cli.main(["restore", "--with-secrets", str(path)]) == 1
    assert "wrong passphrase" in capsys.readouterr().err
    assert not (fresh / "examday.db").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert cli.main(["restore", "--with-secrets", str(path)]) == 0
    assert (fresh / "data" / ".secret-key").read_text() == "the-installation-secret-key-0123456789abcdef"
    assert (fresh / "data" / ".hook-secret").read_text() == "the-installation-hook-secret-0123456789abcd"
    assert (fresh / "data" / ".secret-key").stat().st_mode & 0o077 == 0


def test_a_short_passphrase_is_refused(seeded, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["backup", "--with-secrets"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    assert not list((seeded.data_dir / "backups").glob("examday-backup-*.tar.gz"))


def test_the_nightly_job_backs_up_purges_and_verifies(seeded, clock):
    assert last_backup(seeded.data_dir) is None
    out = io.StringIO()
    codes = nightly_once(seeded, clock, out)
    assert codes == {"backup": 0, "purge": 0, "audit": 0}, out.getvalue()
    said = out.getvalue()
    assert "retention purge on" in said and "nightly on 2026-11-26: backup ok, purge ok, audit ok" in said
    when, path, ok = last_backup(seeded.data_dir)
    assert ok and path == only_backup(seeded) and when.tzinfo is not None
    path.write_bytes(b"truncated")  # the file no longer what was written: not a good backup
    assert last_backup(seeded.data_dir)[2] is False


def test_the_nightly_time_is_china_time_and_always_ahead():
    at = time(2, 30)
    evening = datetime(2026, 11, 26, 23, 0, tzinfo=CST)
    assert next_run(evening, at) == datetime(2026, 11, 27, 2, 30, tzinfo=CST)
    early = datetime(2026, 11, 26, 1, 0, tzinfo=CST)
    assert next_run(early, at) == datetime(2026, 11, 26, 2, 30, tzinfo=CST)
    assert next_run(datetime(2026, 11, 26, 2, 30, tzinfo=CST), at) == datetime(2026, 11, 27, 2, 30, tzinfo=CST)
    assert cli.parser().parse_args(["serve", "--nightly", "02:30"]).nightly == at
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["serve", "--nightly", "25:00"])


def test_serve_nightly_runs_the_job_in_a_thread_at_its_time(seeded, monkeypatch):
    from examday.cli_backup import start_nightly
    from examday.clock import FixedClock

    clock = FixedClock(datetime(2026, 11, 26, 2, 29, 59, tzinfo=CST))  # a second before 02:30
    out = io.StringIO()
    stop = start_nightly(seeded, time(2, 30), clock, out)
    try:
        deadline = monotonic() + 60
        while "nightly on" not in out.getvalue() and monotonic() < deadline:
            sleep(0.1)
    finally:
        stop.set()
    assert "backup ok, purge ok, audit ok" in out.getvalue()
    assert last_backup(seeded.data_dir)[2] is True


def test_blobs_in_s3_are_listed_by_reference_with_their_checksums(tmp_path, s3, clock):
    import json

    from examday.cli_backup import blob_root, installation_checks
    from storage.backup import take_backup
    from storage.backup_restore import verify_backup

    url = f"sqlite:///{tmp_path / 'examday.db'}"
    migrate(url)
    settings = installation(url, tmp_path)
    settings.blob_url, settings.s3 = f"s3://{s3.bucket}/prod", s3.config
    engine = make_engine(url)
    seed_demo(engine, settings, clock, io.StringIO())
    engine.dispose()
    assert blob_root(settings) is None
    made = take_backup(url, settings.data_dir, blob_root=None)
    assert made.manifest["blobs"]["store"] == "by_reference" and made.manifest["blobs"]["copied"] == 0
    with tarfile.open(made.path, "r:gz") as tar:
        names = tar.getnames()
        listed = json.loads(tar.extractfile("blobs/by-reference.json").read())  # type: ignore[union-attr]
    assert [n for n in names if n.startswith("blobs/")] == ["blobs/by-reference.json"]
    assert listed and len(listed) == made.manifest["blobs"]["count"]
    assert all(s3.has(f"prod/{b['key']}") and len(b["sha256"]) == 64 for b in listed)
    assert verify_backup(made.path, [installation_checks]).ok


def test_backup_to_a_folder_puts_the_archive_there_and_it_verifies(seeded, tmp_path, capsys):
    """R-AUDIT-1 / issue #19: `examday backup --to DIR` writes the archive into DIR (a disk kept
    apart), not the data folder's backups, records it as the last good backup, and `backup verify`
    finds it whole."""
    elsewhere = tmp_path / "usb-disk" / "examday"
    assert cli.main(["backup", "--to", str(elsewhere)]) == 0
    [path] = elsewhere.glob("examday-backup-*.tar.gz")
    assert f"backup {path}:" in capsys.readouterr().out
    assert not list(seeded.data_dir.rglob("examday-backup-*.tar.gz"))
    assert elsewhere.stat().st_mode & 0o077 == 0 and path.stat().st_mode & 0o077 == 0  # R-PRIV-1
    assert [p.name for p in elsewhere.iterdir()] == [path.name]  # no temporary file left beside it
    assert cli.main(["backup", "verify", str(path)]) == 0
    assert f"backup {path} holds: every file matches its checksum" in capsys.readouterr().out
    _, recorded, ok = last_backup(seeded.data_dir)
    assert recorded == path and ok


def test_backup_rotates_out_the_backups_the_policy_no_longer_keeps(seeded, capsys):
    """R-AUDIT-1 / issue #19: `examday backup` ends by rotating its folder (the newest of each of the
    last 14 days, the first of each of the last 12 months), says each archive it deletes, and leaves
    a pre-upgrade backup alone."""
    from datetime import UTC, timedelta

    from storage.backup import PRE_UPGRADE, take_backup
    from storage.backup_rotation import CHINA

    url, folder = seeded.database_url, seeded.data_dir / "backups"
    now = datetime.now(UTC)
    day = (now - timedelta(days=40)).astimezone(CHINA).date()  # past the 14 days, within the 12 months

    def made(when: datetime, prefix: str | None = None):
        kw = {"prefix": prefix} if prefix else {}
        return take_backup(url, seeded.data_dir, blob_root=seeded.data_dir / "blobs", now=when, **kw).path

    too_old = made(now - timedelta(days=400))  # before the last 12 months
    first_of_month = made(datetime.combine(day, time(1, 0), CHINA))  # the first of its month: kept
    later_that_day = made(datetime.combine(day, time(2, 0), CHINA))  # the month keeps its first only
    yesterday = made(now - timedelta(days=1))  # the newest of a recent day: kept
    pre_upgrade = made(now - timedelta(days=400), PRE_UPGRADE)  # never rotates
    assert cli.main(["backup"]) == 0
    said = capsys.readouterr().out
    assert f"rotated out {too_old.name}" in said and f"rotated out {later_that_day.name}" in said
    assert said.count("rotated out") == 2
    newest = max(folder.glob("examday-backup-*.tar.gz"))
    assert newest not in (too_old, first_of_month, later_that_day, yesterday)
    assert sorted(p.name for p in folder.glob("*.tar.gz")) == sorted(
        p.name for p in (first_of_month, yesterday, newest, pre_upgrade)
    )


def test_restore_refuses_an_installation_in_use_without_force_and_changes_nothing(seeded, tmp_path, capsys):
    """R-AUDIT-1 / issue #19: `examday restore FILE` into an installation whose database holds data,
    or whose blob folder holds files, exits 1 with the reason and touches nothing; `--force` then
    replaces it."""
    from sqlalchemy import text

    from storage import backup_facts as facts
    from storage.blobs import sha256_file

    assert cli.main(["backup"]) == 0
    path = only_backup(seeded)
    engine = make_engine(seeded.database_url)
    with engine.begin() as c:
        c.execute(text("UPDATE institution SET name = 'changed since the backup' WHERE id = 1"))

    def state() -> tuple:
        with engine.connect() as c:
            db = (facts.row_counts(c), facts.audit_heads(c), c.execute(text("SELECT name FROM institution")).all())
        blobs = sorted((str(p), sha256_file(p)[0]) for p in (seeded.data_dir / "blobs").rglob("*") if p.is_file())
        return db, blobs

    before = state()
    assert before[1]  # the seeded lock archived its documents: blob files to lose
    capsys.readouterr()
    assert cli.main(["restore", str(path)]) == 1
    err = capsys.readouterr().err
    assert "restore refused: the installation is in use (its database holds data): restore --force replaces it" in err
    assert state() == before

    # An empty database beside a blob folder with files is in use too.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXAMDAY_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
        assert cli.main(["restore", str(path)]) == 1
    assert f"the installation is in use (its blob folder {seeded.data_dir / 'blobs'} holds files)" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "empty.db").exists() and state() == before

    assert cli.main(["restore", "--force", str(path)]) == 0
    assert "verified (checksums, counts, audit chain, seals)" in capsys.readouterr().out
    with engine.connect() as c:
        assert c.execute(text("SELECT name FROM institution WHERE id = 1")).scalar_one() != "changed since the backup"
    engine.dispose()
