"""Issue #19: an upgrade cannot lose a day. Before a pending migration is applied to a database with
data, a backup is taken; a migration failing halfway leaves the previous schema and data as they
were; and the pre-upgrade backup restores. The failing migration is injected in a copy of the
migrations folder, after whatever the real head is (new migrations may appear)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from examday import cli
from examday.cli_backup import blob_root, installation_checks
from examday.demo.seed import seed_demo
from storage import backup_facts as facts
from storage.backup_restore import restore
from storage.db import MIGRATIONS, make_engine, migrate
from storage.upgrade import UpgradeFailed, pending, upgrade
from tests.integration.storage.backup_support import BACKENDS, installation, new_database

HALFWAY = '''"""an injected migration that fails halfway"""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO scratch (id) VALUES (1)")
    with op.batch_alter_table("institution") as b:
        b.add_column(sa.Column("nickname", sa.String(20), nullable=True))
    op.execute("UPDATE institution SET name = 'half-migrated'")
    {commit}
    raise RuntimeError("injected failure halfway")


def downgrade() -> None:
    pass
'''

# A migration that commits what it did before failing (alembic's autocommit_block): the rollback
# cannot undo it, so the upgrade restores the pre-upgrade backup.
COMMITS = "with op.get_context().autocommit_block():\n        pass"


def migrations_with_failure(folder: Path, commit: bool) -> Path:
    copy = folder / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    (copy / "versions" / "9999_fails_halfway.py").write_text(
        HALFWAY.format(head=head, commit=COMMITS if commit else "pass")
    )
    return copy


def state(url: str) -> tuple:
    engine = make_engine(url)
    with engine.connect() as c:
        s = (facts.revision(c), facts.schema_fingerprint(c), facts.row_counts(c), facts.audit_head(c))
        name = c.execute(text("SELECT name FROM institution WHERE id = 1")).scalar_one()
    engine.dispose()
    return (*s, name)


@pytest.mark.parametrize("commit", [False, True], ids=["rolled-back", "committed-halfway"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_migration_failing_halfway_leaves_the_database_as_it_was(backend, commit, tmp_path, clock):
    with new_database(backend, tmp_path / "src") as url, new_database(backend, tmp_path / "again") as again:
        migrate(url)
        settings = installation(url, tmp_path / "src")
        engine = make_engine(url)
        seed_demo(engine, settings, clock, io.StringIO())
        engine.dispose()
        before = state(url)
        scripts = migrations_with_failure(tmp_path, commit)
        assert [r for r, _ in pending(url, scripts).revisions] == ["9999"]

        out = io.StringIO()
        with pytest.raises(UpgradeFailed, match="injected failure halfway") as failed:
            upgrade(url, settings.data_dir, blob_root=blob_root(settings), out=out, script_location=scripts)
        saved = next((settings.data_dir / "backups").glob("examday-pre-upgrade-*.tar.gz"))
        assert f"backup first: {saved}" in out.getvalue()  # said before it began
        assert str(saved) in str(failed.value)
        if commit:
            assert "restored from" in str(failed.value)
        else:
            assert "as it was before the upgrade" in str(failed.value)
        assert state(url) == before  # schema, revision, every table's rows, the audit head, the data
        assert installation_checks(url) == []

        # The pre-upgrade backup restores into an empty installation and verifies.
        target = installation(again, tmp_path / "again")
        v, _ = restore(saved, again, blob_root(target), [installation_checks])
        assert v.ok, v.problems
        assert state(again) == before


def test_migrate_check_says_what_would_change_and_changes_nothing(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'examday.db'}"
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    previous = ScriptDirectory(str(MIGRATIONS)).get_revision(head).down_revision
    from alembic import command

    from storage.db import alembic_config

    command.upgrade(alembic_config(url), str(previous))
    monkeypatch.setenv("EXAMDAY_DATABASE_URL", url)
    monkeypatch.setenv("EXAMDAY_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["migrate", "--check"]) == 1
    said = capsys.readouterr().out
    assert f"schema at {previous}; would apply:" in said and f"  {head}" in said
    assert pending(url).current == previous  # nothing changed
    assert cli.main(["migrate"]) == 0
    assert f"schema at {head}" in capsys.readouterr().out
    assert not (tmp_path / "data" / "backups").exists()  # no data yet: nothing to back up
    assert cli.main(["migrate", "--check"]) == 0
    assert "nothing to apply" in capsys.readouterr().out


def one_release_behind(url: str, previous: str) -> None:
    """The seeded database as an installation one release behind would hold it. The demo's audit
    history is written at head, on per-institution chains that 0014 cannot hold (0015 refuses to
    go back over them, issue #18), so it is cleared before the downgrade; the demo's other rows
    stay. Upgrading old chains themselves is tests/integration/storage/test_migration_0015.py's."""
    from alembic import command

    from storage.db import alembic_config

    engine = make_engine(url)
    with engine.begin() as c:
        for table in ("audit_checkpoint", "auditentry", "audithead"):
            c.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    command.downgrade(alembic_config(url), previous)


def test_migrate_on_a_database_with_data_backs_up_before_it_upgrades(tmp_path, monkeypatch, capsys, clock):
    url = f"sqlite:///{tmp_path / 'examday.db'}"
    scripts = ScriptDirectory(str(MIGRATIONS))
    previous = scripts.get_revision(scripts.get_current_head()).down_revision
    migrate(url)
    settings = installation(url, tmp_path)
    engine = make_engine(url)
    seed_demo(engine, settings, clock, io.StringIO())
    engine.dispose()

    one_release_behind(url, str(previous))
    monkeypatch.setenv("EXAMDAY_DATABASE_URL", url)
    monkeypatch.setenv("EXAMDAY_DATA_DIR", str(settings.data_dir))
    # `examday migrate` (cli_backup.cmd_migrate) calls storage.upgrade.upgrade itself and says so on
    # standard output; a server start goes through cli._engine (the next test).
    assert cli.main(["migrate"]) == 0
    saved = list((settings.data_dir / "backups").glob("examday-pre-upgrade-*.tar.gz"))
    assert len(saved) == 1 and f"backup first: {saved[0]}" in capsys.readouterr().out
    assert pending(url).revisions == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_server_start_on_a_database_with_data_backs_up_before_it_upgrades(backend, tmp_path, capsys, clock):
    """R-AUDIT-1 / issue #19: `examday serve` (and every command on the database) opens it through
    cli._engine, which on a database with data one migration behind takes the pre-upgrade backup,
    says where on standard error, and upgrades; the backup holds the data as it was, at the old
    revision, and restores into an empty installation with the audit chain and seals holding."""
    with new_database(backend, tmp_path / "src") as url, new_database(backend, tmp_path / "again") as again:
        scripts = ScriptDirectory(str(MIGRATIONS))
        head = scripts.get_current_head()
        previous = scripts.get_revision(head).down_revision
        migrate(url)
        settings = installation(url, tmp_path / "src")
        engine = make_engine(url)
        seed_demo(engine, settings, clock, io.StringIO())
        engine.dispose()
        one_release_behind(url, str(previous))
        engine = make_engine(url)
        with engine.connect() as c:
            rows = facts.row_counts(c)
        engine.dispose()
        capsys.readouterr()

        cli._engine(settings).dispose()  # as cmd_serve does, before any worker starts
        [saved] = (settings.data_dir / "backups").glob("examday-pre-upgrade-*.tar.gz")
        said = capsys.readouterr().err
        assert f"upgrading the schema from {previous} to {head} ({head}); backup first: {saved}" in said
        assert pending(url).revisions == []
        assert installation_checks(url) == []

        cli._engine(settings).dispose()  # the next start: nothing pending, no second backup
        assert len(list((settings.data_dir / "backups").glob("examday-pre-upgrade-*.tar.gz"))) == 1
        assert "backup first" not in capsys.readouterr().err

        # Restored, it is brought to this release's schema before examday's checks read it (they
        # once read the old schema through the new models and crashed).
        target = installation(again, tmp_path / "again")
        v, _ = restore(saved, again, blob_root(target), [installation_checks])
        assert v.ok, v.problems
        assert v.manifest["database"]["revision"] == previous and pending(again).revisions == []
        assert {t: n for t, n in v.manifest["tables"].items() if t in rows} == rows


def test_a_backup_one_release_old_verifies_by_upgrading_a_scratch_copy(tmp_path, clock):
    # `backup verify` opens, migrates and audits the snapshot (CONTRACT.md); the backup is untouched.

    from storage.backup import take_backup
    from storage.backup_restore import verify_backup

    url = f"sqlite:///{tmp_path / 'examday.db'}"
    scripts = ScriptDirectory(str(MIGRATIONS))
    previous = scripts.get_revision(scripts.get_current_head()).down_revision
    migrate(url)
    settings = installation(url, tmp_path)
    engine = make_engine(url)
    seed_demo(engine, settings, clock, io.StringIO())
    engine.dispose()
    one_release_behind(url, str(previous))
    made = take_backup(url, settings.data_dir, blob_root=blob_root(settings))
    assert made.manifest["database"]["revision"] == previous
    v = verify_backup(made.path, [installation_checks])
    assert v.ok, v.problems
    assert pending(url).current == previous  # the installation itself was not upgraded


@pytest.mark.skipif("postgres" not in BACKENDS, reason="EXAMDAY_TEST_POSTGRES_URL not set")
def test_processes_starting_together_take_one_pre_upgrade_backup(tmp_path, clock):
    # Four `examday serve` behind the proxy start at once on a database one release behind: one
    # backs up and upgrades, the others wait for it and find nothing to do.
    import subprocess
    import sys

    with new_database("postgres", tmp_path / "pg") as url:
        scripts = ScriptDirectory(str(MIGRATIONS))
        previous = scripts.get_revision(scripts.get_current_head()).down_revision
        migrate(url)
        settings = installation(url, tmp_path / "pg")
        engine = make_engine(url)
        seed_demo(engine, settings, clock, io.StringIO())
        engine.dispose()
        one_release_behind(url, str(previous))
        code = (
            "import sys; from pathlib import Path; from storage.upgrade import upgrade;"
            " upgrade(sys.argv[1], Path(sys.argv[2]), blob_root=Path(sys.argv[2]) / 'blobs', out=sys.stdout)"
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, url, str(settings.data_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        assert [rc for rc, _, _ in results] == [0, 0, 0], [err[-2000:] for _, _, err in results]
        assert sum("backup first" in out for _, out, _ in results) == 1
        assert len(list((settings.data_dir / "backups").glob("examday-pre-upgrade-*.tar.gz"))) == 1
        assert pending(url).revisions == []
