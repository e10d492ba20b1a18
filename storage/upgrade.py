"""Schema upgrades that cannot lose a day (issue #19).

Before a pending migration is applied to a database that holds data, a backup is taken
(``examday-pre-upgrade-*.tar.gz`` in the backups folder) and where it is is said. The
migrations run in one transaction (storage/migrations/env.py): PostgreSQL and SQLite both roll
DDL back, so a migration failing halfway leaves the database as it was. Should anything
survive the rollback all the same (the schema, the revision or a table's rows differ from
before), the database is restored from the pre-upgrade backup at once. ``examday migrate
--check`` lists what would be applied and changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import create_engine, text

from storage import backup_facts as facts
from storage.backup import PRE_UPGRADE, sqlalchemy_url, sqlite_path, take_backup


class UpgradeFailed(RuntimeError):
    pass


@dataclass
class Pending:
    current: str | None
    head: str
    revisions: list[tuple[str, str]]  # (revision, its first docstring line), oldest first
    has_data: bool


def _config(url: str, script_location: Path | None):
    from storage.db import alembic_config

    cfg = alembic_config(url)
    if script_location is not None:
        cfg.set_main_option("script_location", str(script_location))
    return cfg


def _exists(url: str) -> bool:
    path = sqlite_path(url)
    return path is None or path.exists()


def pending(url: str, script_location: Path | None = None) -> Pending:
    """What an upgrade would apply, read without changing anything."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config(url, script_location))
    head = scripts.get_current_head() or ""
    current: str | None = None
    data = False
    if _exists(url):
        engine = create_engine(sqlalchemy_url(url))
        try:
            with engine.connect() as c:
                heads = MigrationContext.configure(c).get_current_heads()
                current = ",".join(heads) or None
                data = facts.has_data(c)
        finally:
            engine.dispose()
    revs = []
    for rev in scripts.iterate_revisions(head, current or "base"):
        revs.append((rev.revision, (rev.doc or "").strip().splitlines()[0] if rev.doc else ""))
    return Pending(current, head, list(reversed(revs)), data)


def _state(url: str) -> tuple[Any, ...]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as c:
            return (facts.revision(c), facts.schema_fingerprint(c), facts.row_counts(c))
    finally:
        engine.dispose()


@contextlib.contextmanager
def _one_upgrader(url: str) -> Iterator[None]:
    """Several PostgreSQL processes starting together: one backs up and upgrades, the others wait
    and then find nothing pending (a session lock, besides env.py's transaction lock)."""
    if sqlite_path(url) is not None:
        yield
        return
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as c:
            c.execute(text("SELECT pg_advisory_lock(7242032, hashtext(current_schema()))"))
            c.commit()
            try:
                yield
            finally:
                c.execute(text("SELECT pg_advisory_unlock(7242032, hashtext(current_schema()))"))
                c.commit()
    finally:
        engine.dispose()


def upgrade(
    url: str,
    data_dir: Path,
    *,
    blob_root: Path | None,
    out: TextIO,
    backup_dir: Path | None = None,
    script_location: Path | None = None,
) -> Path | None:
    """Bring the schema to head; the pre-upgrade backup's path when one was taken."""
    from alembic import command

    from storage.backup_restore import restore_database

    with _one_upgrader(url):
        todo = pending(url, script_location)
        if not todo.revisions:
            return None
        saved: Path | None = None
        before: tuple[Any, ...] | None = None
        if todo.has_data:
            result = take_backup(url, data_dir, backup_dir, blob_root=blob_root, prefix=PRE_UPGRADE)
            saved = result.path
            print(
                f"upgrading the schema from {todo.current} to {todo.head}"
                f" ({', '.join(r for r, _ in todo.revisions)}); backup first: {saved}",
                file=out,
                flush=True,
            )
            before = _state(url)
        try:
            command.upgrade(_config(url, script_location), "head")
        except Exception as exc:
            if before is None or saved is None:
                raise UpgradeFailed(f"the schema upgrade failed: {exc}") from exc
            if _state(url) == before:
                said = "the database is as it was before the upgrade"
            else:
                restore_database(saved, url, force=True)
                same = _state(url) == before
                said = f"the database was restored from {saved}" + ("" if same else ", and STILL differs: check it")
            raise UpgradeFailed(f"the schema upgrade failed ({exc}); {said}; the backup is {saved}") from exc
    return saved
