"""The command line's backups, restores, upgrades and nightly job (issue #19): ``examday backup``,
``examday backup verify``, ``examday restore``, ``examday migrate [--check]`` and ``examday
serve --nightly HH:MM``. The mechanics are storage's (storage/backup*.py, storage/upgrade.py);
what only examday knows — the audit chain and the seals (R-AUDIT-1), the models the schema must
match — is checked here on the restored database.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from sqlmodel import Session

from examday.clock import CST, Clock
from examday.settings import Settings

log = logging.getLogger("examday.backup")


def blob_root(settings: Settings) -> Path | None:
    """The local blob folder the backup copies; None when the blobs are in S3 (listed by reference)."""
    if str(settings.blob_url or "").startswith("s3://"):
        return None
    return Path(settings.data_dir) / "blobs"


def installation_checks(url: str) -> list[str]:
    """examday's own checks on a restored database: the audit chain and every lock's seal
    (R-AUDIT-1, R-SCORE-3), and, at the newest revision, tables exactly as the models say."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from examday import audit
    from examday.models import metadata
    from examday.providers import register_all
    from scoring.services.lock import verify_seals
    from storage.db import MIGRATIONS, make_engine

    register_all()  # the seals read attendance through a port
    engine = make_engine(url)
    problems: list[str] = []
    try:
        with Session(engine) as db:
            broken = audit.verify_all(db)  # every chain (issue #18)
            if broken:
                problems += [str(b) for b in broken]
            else:
                problems += verify_seals(db)
        with engine.connect() as c:
            ctx = MigrationContext.configure(c, opts={"compare_type": False})
            if set(ctx.get_current_heads()) == {ScriptDirectory(str(MIGRATIONS)).get_current_head()}:
                drift = compare_metadata(ctx, metadata)
                if drift:
                    problems.append(f"the tables differ from this examday's models: {drift[:3]}")
    finally:
        engine.dispose()
    return problems


def run_backup(settings: Settings, to: Path | None, passphrase: str | None, out: TextIO) -> int:
    from storage.backup import BackupFailed, take_backup
    from storage.backup_rotation import rotate

    secrets = None
    if passphrase is not None:
        secrets = {"EXAMDAY_SECRET_KEY": settings.secret_key, "EXAMDAY_HOOK_SECRET": settings.hook_secret}
    try:
        r = take_backup(
            settings.database_url,
            settings.data_dir,
            to,
            blob_root=blob_root(settings),
            secrets=secrets,
            passphrase=passphrase,
        )
    except (BackupFailed, ValueError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    m = r.manifest
    for w in r.warnings:
        print(f"WARNING {w}", file=out)
    heads = m.get("audit_heads") or {}
    print(
        f"backup {r.path}: {r.size:,} bytes in {r.seconds:.1f} s; revision {m['database']['revision']},"
        f" {len(heads)} audit chains ({sum(h['seq'] for h in heads.values()):,} entries), {sum(m['tables'].values()):,} rows, {m['blobs']['copied']} blobs,"
        f" {m['video']['segments']} video segments by reference{', secrets sealed' if m['with_secrets'] else ''}",
        file=out,
    )
    for gone in rotate(r.path.parent):
        print(f"rotated out {gone.name}", file=out)
    return 0


def cmd_backup(args, settings: Settings) -> int:
    passphrase = None
    if args.with_secrets:
        passphrase = sys.stdin.readline().rstrip("\n")
        if not passphrase:
            print("--with-secrets: no passphrase on standard input", file=sys.stderr)
            return 2
    return run_backup(settings, Path(args.to) if args.to else None, passphrase, sys.stdout)


def cmd_backup_verify(args, settings: Settings) -> int:
    from storage.backup_restore import verify_backup

    v = verify_backup(Path(args.file), [installation_checks], settings.database_url)
    if not v.ok:
        print(f"backup {args.file} REFUSED: {v.problems[0]}", file=sys.stderr)
        for p in v.problems[1:10]:
            print(f"  also: {p}", file=sys.stderr)
        return 1
    head = v.manifest.get("audit_head") or {}
    heads = v.manifest.get("audit_heads") or {"0": head}  # a backup made before issue #18: the one chain
    print(
        f"backup {args.file} holds: every file matches its checksum, {len(v.manifest['tables'])} tables as counted,"
        f" revision {v.manifest['database']['revision']}, {len(heads)} audit chains to their heads"
        f" ({sum(int(h.get('seq') or 0) for h in heads.values()):,} entries) and the seals verified"
    )
    return 0


def cmd_restore(args, settings: Settings) -> int:
    from examday.providers import register_all
    from storage.backup_archive import BackupDamaged
    from storage.backup_restore import restore, sealed_secrets
    from storage.backup_secrets import BadPassphrase

    register_all()
    secrets = None
    if args.with_secrets:  # unsealed before anything is touched: a wrong passphrase restores nothing
        try:
            secrets = sealed_secrets(Path(args.file), sys.stdin.readline().rstrip("\n"))
        except (BackupDamaged, BadPassphrase) as exc:
            print(f"restore refused: {exc}", file=sys.stderr)
            return 1
    try:
        v, copied = restore(
            Path(args.file), settings.database_url, blob_root(settings), [installation_checks], args.force
        )
    except BackupDamaged as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    if not v.ok:
        print(f"restored from {args.file}, but it does NOT verify: {v.problems[0]}", file=sys.stderr)
        return 1
    print(f"restored from {args.file}: {copied} blob files; verified (checksums, counts, audit chain, seals)")
    if secrets is not None:
        _write_secrets(settings, secrets)
    elif v.manifest.get("with_secrets"):
        print(
            "the backup holds sealed secrets: restore --with-secrets, or set EXAMDAY_SECRET_KEY and EXAMDAY_HOOK_SECRET"
        )
    else:
        print("set EXAMDAY_SECRET_KEY and EXAMDAY_HOOK_SECRET as they were: tickets and signatures depend on them")
    return 0


def _write_secrets(settings: Settings, secrets: dict[str, str]) -> None:
    """The unsealed secrets into the data folder's files, which a server without them set in its
    environment reads (examday/settings.py); 0600 (R-PRIV-1)."""
    import os

    for var, name in (("EXAMDAY_SECRET_KEY", ".secret-key"), ("EXAMDAY_HOOK_SECRET", ".hook-secret")):
        path = Path(settings.data_dir) / name
        tmp = path.with_name(name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets[var])
        os.replace(tmp, path)
    print(f"the secrets were unsealed into {settings.data_dir}/.secret-key and .hook-secret")


def cmd_migrate(args, settings: Settings) -> int:
    from storage.upgrade import UpgradeFailed, pending, upgrade

    todo = pending(settings.database_url)
    if args.check:
        if not todo.revisions:
            print(f"schema at {todo.current}: nothing to apply")
            return 0
        print(f"schema at {todo.current or 'nothing (a new database)'}; would apply:")
        for rev, doc in todo.revisions:
            print(f"  {rev}  {doc}")
        print("a backup would be taken first" if todo.has_data else "no data yet: no backup needed")
        return 1
    try:
        saved = upgrade(settings.database_url, settings.data_dir, blob_root=blob_root(settings), out=sys.stdout)
    except UpgradeFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"schema at {pending(settings.database_url).head}" + (f" (backup before: {saved})" if saved else ""))
    return 0


# -- the nightly job ---------------------------------------------------------------------------


def next_run(now: datetime, at: time) -> datetime:
    """The next HH:MM, China time, strictly after ``now``."""
    local = now.astimezone(CST)
    due = datetime.combine(local.date(), at, CST)
    return due if due > local else datetime.combine(local.date() + timedelta(days=1), at, CST)


def nightly_once(settings: Settings, clock: Clock, out: TextIO) -> dict[str, int]:
    """The backup, the retention purge and the audit verification, each run even if one before
    it failed; their exit codes."""
    from storage.db import make_engine
    from storage.purge import run_purge

    codes = {"backup": run_backup(settings, None, None, out)}
    engine = make_engine(settings.database_url)
    try:
        codes["purge"] = run_purge(engine, settings, clock, dry_run=False, out=out)
    finally:
        engine.dispose()
    problems = installation_checks(settings.database_url)
    for p in problems:
        print(f"ALERT audit: {p}", file=out)
    codes["audit"] = 1 if problems else 0
    print(
        f"nightly on {clock.today()}: " + ", ".join(f"{k} {'ok' if v == 0 else f'exit {v}'}" for k, v in codes.items()),
        file=out,
        flush=True,
    )
    return codes


def start_nightly(settings: Settings, at: time, clock: Clock, out: TextIO) -> threading.Event:
    """Run :func:`nightly_once` at ``at`` every day in a background thread of ``examday serve``."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            wait = (next_run(clock.now(), at) - clock.now()).total_seconds()
            if stop.wait(max(wait, 1.0)):
                return
            try:
                nightly_once(settings, clock, out)
            except Exception:  # the server goes on serving; the next night tries again
                log.exception("the nightly job failed")

    threading.Thread(target=loop, name="examday-nightly", daemon=True).start()
    return stop


def hh_mm(value: str) -> time:
    try:
        return time.fromisoformat(value if len(value) > 4 else "0" + value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: a time of day as HH:MM") from None


def add_commands(sub) -> None:
    b = sub.add_parser("backup", help="one consistent snapshot of the installation, while it serves")
    b.add_argument("--to", help="the folder (default <data dir>/backups)")
    b.add_argument("--with-secrets", action="store_true", help="seal the two secrets in it, passphrase on stdin")
    b.set_defaults(fn=cmd_backup)
    bs = b.add_subparsers(dest="sub")
    v = bs.add_parser("verify", help="open a backup in a temporary place and check everything")
    v.add_argument("file")
    v.set_defaults(fn=cmd_backup_verify)
    r = sub.add_parser("restore", help="restore a backup into an empty installation, then verify it")
    r.add_argument("file")
    r.add_argument("--force", action="store_true", help="replace an installation in use")
    r.add_argument("--with-secrets", action="store_true", help="unseal the secrets too, passphrase on stdin")
    r.set_defaults(fn=cmd_restore)
    m = sub.add_parser("migrate", help="upgrade the schema (a backup first when there is data)")
    m.add_argument("--check", action="store_true", help="say what would be applied; change nothing (exit 1 if any)")
    m.set_defaults(fn=cmd_migrate)
