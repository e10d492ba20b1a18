"""The ``examday`` command line (CONTRACT.md "Command line")."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session, select

from examday.actor import ROLES, SYSTEM
from examday.clock import Clock
from examday.settings import Settings, share_connections


def _engine(settings: Settings):
    from examday.cli_backup import blob_root
    from examday.providers import register_all
    from storage.db import make_engine
    from storage.upgrade import UpgradeFailed, upgrade

    register_all()  # every command on the database may purge, hold or read through a port
    try:
        # A pending migration on a database with data: a backup first, and no half-applied schema (#19).
        upgrade(settings.database_url, settings.data_dir, blob_root=blob_root(settings), out=sys.stderr)
    except UpgradeFailed as exc:
        raise SystemExit(str(exc)) from exc
    return make_engine(settings.database_url)


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from examday.app import create_app

    workers = getattr(args, "workers", 1)
    if workers > 1 and not settings.redis_url:
        # Without the shared bus a check-in served by one process never reaches a screen on another.
        print("--workers above 1 needs EXAMDAY_REDIS_URL (the live feed across processes)", file=sys.stderr)
        return 2
    _engine(settings).dispose()  # migrate once, before any worker starts
    app = create_app(settings) if workers == 1 else None
    if args.nightly is not None:  # the embedded default's backup, purge and audit check (#19)
        from examday.cli_backup import start_nightly

        start_nightly(settings, args.nightly, Clock(), sys.stdout)
        print(f"nightly backup, purge and audit verify at {args.nightly:%H:%M} China time", flush=True)
    from scoring import report_push  # the report to the centre and the hourly checkpoint (issue #17)

    report_push.start(settings, Clock())
    if settings.centre_url:
        print(f"reporting approved batches to {settings.centre_url}", flush=True)
    if app is not None:
        print(f"examday serving on http://{args.host}:{args.port}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
        return 0
    # N processes on one socket, bound here and inherited by each worker (the kernel hands each
    # connection to one of them); uvicorn restarts a worker that dies. Each worker builds its app
    # from the same environment (the secrets are on disk by now); the background jobs above
    # (nightly, report push) run once, in this supervising process.
    each = share_connections(workers)
    print(
        f"examday serving on http://{args.host}:{args.port} with {workers} processes"
        f" (up to {each} database connections each)",
        flush=True,
    )
    uvicorn.run(
        "examday.app:create_app",
        factory=True,
        workers=workers,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
    )
    return 0


def cmd_demo(args, settings: Settings) -> int:
    from examday.demo.seed import seed_demo

    engine = _engine(settings)
    base_url = f"http://127.0.0.1:{args.port}"
    seed_demo(engine, settings, Clock(), out=sys.stdout, base_url=base_url)
    engine.dispose()
    if args.simulate:  # kiosks and cameras at work through the API once the server is up (demo_live.py)
        from examday.demo.live import start_simulation

        start_simulation(settings, Clock(), base_url, out=sys.stdout)
    args.host = "127.0.0.1"
    return cmd_serve(args, settings)


def cmd_account_add(args, settings: Settings) -> int:
    from examday.accounts.services.accounts import Passwords, create_account
    from examday.registry.models import Institution

    engine = _engine(settings)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if args.password_stdin and not password:
        print("no password on stdin", file=sys.stderr)
        return 2
    with Session(engine) as db:
        iid = None
        if args.institution:
            inst = db.exec(select(Institution).where(Institution.uscc == args.institution)).first()
            if inst is None:
                print(f"no institution with USCC {args.institution}", file=sys.stderr)
                return 2
            iid = inst.id
        from examday.errors import Refusal

        try:
            acc = create_account(
                db,
                SYSTEM,
                Clock().now(),
                Passwords(settings.password_time_cost, settings.password_memory_kib),
                args.username,
                args.role,
                iid,
                args.province,
                args.staff,
                password,
            )
        except Refusal as r:
            # The operator may make any kind of account, but binds it to staff as the office must,
            # and gives it a password nobody guesses.
            return _refused(r)
        db.commit()
        print(f"account {acc.username} ({acc.role}) created, id {acc.id}")
    return 0


def _refused(r) -> int:
    print(f"{r.code}: {r.message} / {r.message_en}{f' ({r.rule})' if r.rule else ''}", file=sys.stderr)
    return 2


def cmd_token_issue(args, settings: Settings) -> int:
    """A bearer token that expires (R-STAFF-4): after the installation's lifetime for the
    account's role, or sooner with --hours/--days."""
    from datetime import timedelta

    from examday.accounts.services.accounts import find_account, issue_token
    from examday.accounts.services.tokens import TokenLifetimes
    from examday.errors import Refusal

    engine = _engine(settings)
    asked = (
        timedelta(hours=args.hours)
        if args.hours is not None
        else timedelta(days=args.days)
        if args.days is not None
        else None
    )
    with Session(engine) as db:
        try:
            acc = find_account(db, args.username)
        except Refusal:
            print(f"no account {args.username}", file=sys.stderr)
            return 2
        try:
            lifetimes = TokenLifetimes.from_settings(settings)
            token = issue_token(db, acc, Clock().now(), by=SYSTEM, lifetimes=lifetimes, lifetime=asked)
        except Refusal as r:
            return _refused(r)
        db.commit()
    print(token)
    return 0


def cmd_token_list(args, settings: Settings) -> int:
    """An account's tokens, one a line: id, kind, state, issued, expires (never the token)."""
    from examday.accounts.services.accounts import find_account
    from examday.accounts.services.tokens import list_tokens
    from examday.errors import Refusal

    engine = _engine(settings)
    with Session(engine) as db:
        try:
            acc = find_account(db, args.username)
            assert acc.id is not None
            listed = list_tokens(db, SYSTEM, acc.id, Clock().now(), args.all)
        except Refusal as r:
            return _refused(r)
    for t in listed:
        print(f"{t['id']}\t{t['kind']}\t{t['state']}\t{t['created_at']}\t{t['expires_at']}")
    return 0


def cmd_token_revoke(args, settings: Settings) -> int:
    from examday.accounts.services.tokens import revoke_by_id
    from examday.errors import Refusal

    engine = _engine(settings)
    with Session(engine) as db:
        try:
            revoke_by_id(db, SYSTEM, args.id, Clock().now())
        except Refusal as r:
            return _refused(r)
        db.commit()
    print(f"token {args.id} revoked")
    return 0


def cmd_audit_verify(args, settings: Settings) -> int:
    from examday import audit

    held = getattr(args, "checkpoints", None)  # --checkpoints FILE (issue #17)
    engine = _engine(settings)
    with Session(engine) as db:
        breaks = audit.verify_all(db)  # every chain: the installation's and each institution's (#18)
        problem = "\n".join(str(b) for b in breaks) or None
        extra: list[str] = []
        if problem is None:
            from scoring.services.lock import verify_seals  # every lock's signed seal (R-SCORE-3)

            extra = verify_seals(db)
        if problem is None and not extra and held:
            from examday.cli_report import verify_checkpoints  # R-AUDIT-1: the centre's copies (#17)

            broken = verify_checkpoints(db, held)
            extra = [broken] if broken else []
    if problem is not None:
        print(str(problem))
        return 1
    if extra:
        for line in extra:
            print(line)
        return 1
    print("audit chain holds" + (" and passes through every checkpoint" if held else ""))  # every chain
    return 0


def cmd_retention_purge(args, settings: Settings) -> int:
    try:
        from storage.purge import run_purge
    except ImportError:
        print("retention purge: nothing is past its period yet (no retention classes registered)")
        return 0
    engine = _engine(settings)
    return run_purge(engine, settings, Clock(), dry_run=args.dry_run, out=sys.stdout)


def parser() -> argparse.ArgumentParser:
    from examday.cli_backup import add_commands, hh_mm

    p = argparse.ArgumentParser(prog="examday", description="examday 考务系统")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="migrate the database, then serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--nightly", type=hh_mm, metavar="HH:MM", help="back up, purge and verify the audit daily then")
    s.add_argument(
        "--workers", type=int, default=1, help="server processes sharing the port (above 1 needs EXAMDAY_REDIS_URL)"
    )
    s.set_defaults(fn=cmd_serve)
    d = sub.add_parser("demo", help="seed a demo exam day on an empty database, then serve")
    d.add_argument("--port", type=int, default=8000)
    d.add_argument(
        "--no-simulate",
        dest="simulate",
        action="store_false",
        help="serve the seeded day still: no arrivals at the kiosks, no camera segments",
    )
    d.set_defaults(fn=cmd_demo, nightly=None)
    acc = sub.add_parser("account").add_subparsers(dest="sub", required=True)
    a = acc.add_parser("add")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--institution", help="the institution's USCC")
    a.add_argument("--province")
    a.add_argument("--staff", type=int)
    a.add_argument("--password-stdin", action="store_true")
    a.set_defaults(fn=cmd_account_add)
    tok = sub.add_parser("token").add_subparsers(dest="sub", required=True)
    t = tok.add_parser("issue", help="print a new bearer token, which expires")
    t.add_argument("username")
    life = t.add_mutually_exclusive_group()
    life.add_argument("--hours", type=int, help="expire sooner: after this many hours")
    life.add_argument("--days", type=int, help="expire sooner: after this many days")
    t.set_defaults(fn=cmd_token_issue)
    tl = tok.add_parser("list", help="the account's live tokens: id, kind, state, issued, expires")
    tl.add_argument("username")
    tl.add_argument("--all", action="store_true", help="expired and revoked ones too")
    tl.set_defaults(fn=cmd_token_list)
    tr = tok.add_parser("revoke", help="revoke a token by its id (from token list)")
    tr.add_argument("id", type=int)
    tr.set_defaults(fn=cmd_token_revoke)
    au = sub.add_parser("audit").add_subparsers(dest="sub", required=True)
    av = au.add_parser("verify")
    av.add_argument("--checkpoints", metavar="FILE", help="the centre's checkpoints (JSON) the chain must pass through")
    av.set_defaults(fn=cmd_audit_verify)
    r = sub.add_parser("retention").add_subparsers(dest="sub", required=True)
    pu = r.add_parser("purge")
    pu.add_argument("--dry-run", action="store_true")
    pu.set_defaults(fn=cmd_retention_purge)
    add_commands(sub)  # backup, backup verify, restore, migrate (examday/cli_backup.py)
    from examday.cli_report import add_commands as add_report_commands

    add_report_commands(sub)  # report export, import, keys, token, checkpoints (issue #17)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.fn(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
