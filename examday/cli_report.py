"""The command line of the report to the centre (issue #17, R-PUB-2, R-AUDIT-1):

``examday report export BID [--to FILE]``: write the signed package of a locked, approved batch;
``examday report import FILE``: on a centre's installation, verify a package and keep it
(exit 1 with the reason code on a broken one);
``examday report keys USCC --province P [--name N] FILE``: register an institution's public keys
(the JSON of ``GET /api/v1/institutions/{iid}/ticket-keys``), again for a rotation;
``examday report token USCC``: issue the institution's report token (printed once);
``examday report checkpoints USCC [--to FILE]``: the checkpoints the centre holds, for
``examday audit verify --checkpoints FILE`` on the institution's installation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlmodel import Session

from examday.actor import Actor
from examday.clock import Clock
from examday.settings import Settings

# The operator at the command line acts as the installation (as ``account add`` does).
OPERATOR = Actor(None, "operator", "admin", None)


def _setup(settings: Settings):
    from examday.cli import _engine
    from examday.records import archive
    from storage.blobs import open_blob_store

    engine = _engine(settings)
    blobs = open_blob_store(settings)
    archive.use_store(engine, blobs)
    return engine, blobs


def _refused(r) -> int:
    print(f"{r.code}: {r.message} / {r.message_en}{f' ({r.rule})' if r.rule else ''}", file=sys.stderr)
    if r.detail:
        print(json.dumps(r.detail, ensure_ascii=False), file=sys.stderr)
    return 1


def cmd_export(args, settings: Settings) -> int:
    from examday.errors import Refusal
    from scoring import report_package

    engine, _ = _setup(settings)
    with Session(engine) as db:
        try:
            name, data = report_package.package_for(db, OPERATOR, args.bid, Clock().now())
        except Refusal as r:
            return _refused(r)
        db.commit()
    out = Path(args.to or name)
    out.write_bytes(data)
    print(out)
    return 0


def cmd_import(args, settings: Settings) -> int:
    from examday.errors import Refusal
    from scoring import report_receive

    engine, blobs = _setup(settings)
    data = Path(args.file).read_bytes()
    now = Clock().now()
    with Session(engine) as db:
        try:
            body = report_receive.receive(db, OPERATOR, None, now, data, blobs, "cli")
        except Refusal as r:
            db.rollback()
            report_receive.keep_refusal(engine, r, data, now, None, "cli")
            return _refused(r)
        db.commit()
    print(f"accepted: {body['uscc']} batch {body['batch_ref']} sha256 {body['sha256']}")
    return 0


def cmd_keys(args, settings: Settings) -> int:
    from examday.errors import Refusal
    from scoring import report_keys

    engine, _ = _setup(settings)
    doc = json.loads(Path(args.file).read_text())
    listed = doc.get("keys", doc) if isinstance(doc, dict) else doc
    revoked = doc.get("revoked_kids", []) if isinstance(doc, dict) else []
    with Session(engine) as db:
        try:
            body = report_keys.register_keys(
                db, OPERATOR, Clock().now(), args.uscc, args.name or "", args.province, list(listed), list(revoked)
            )
        except Refusal as r:
            return _refused(r)
        db.commit()
    for k in body["keys"]:
        print(f"{k['kid']}\t{'retired ' + k['retired_at'] if k['retired_at'] else 'active'}")
    return 0


def cmd_token(args, settings: Settings) -> int:
    from examday.errors import Refusal
    from scoring import report_keys

    engine, _ = _setup(settings)
    with Session(engine) as db:
        try:
            body = report_keys.issue_token(db, OPERATOR, Clock().now(), args.uscc)
        except Refusal as r:
            return _refused(r)
        db.commit()
    print(body["report_token"])
    return 0


def cmd_checkpoints(args, settings: Settings) -> int:
    from scoring import report_receive

    engine, _ = _setup(settings)
    with Session(engine) as db:
        held = report_receive.held_checkpoints(db, OPERATOR, args.uscc)
    text = json.dumps(held, ensure_ascii=False, indent=1)
    if args.to:
        Path(args.to).write_text(text)
        print(args.to)
    else:
        print(text)
    return 0


def verify_checkpoints(db: Session, path: str) -> str | None:
    """``audit verify --checkpoints FILE``: the first checkpoint the chain no longer passes through."""
    from examday import checkpoints

    doc = json.loads(Path(path).read_text())
    held = doc.get("checkpoints", doc) if isinstance(doc, dict) else doc
    broken = checkpoints.verify_through(db, list(held))
    return None if broken is None else str(broken)


def add_commands(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser("report", help="the signed report package to the centre").add_subparsers(
        dest="sub", required=True
    )
    e = rep.add_parser("export", help="write the signed package of a locked, approved batch")
    e.add_argument("bid", type=int)
    e.add_argument("--to", "--out", dest="to", help="the file to write (default report-USCC-batch-BID.zip)")
    e.set_defaults(fn=cmd_export)
    i = rep.add_parser("import", help="on a centre: verify a package and keep it")
    i.add_argument("file")
    i.set_defaults(fn=cmd_import)
    k = rep.add_parser("keys", help="on a centre: register an institution's public keys (ticket-keys JSON)")
    k.add_argument("uscc")
    k.add_argument("file")
    k.add_argument("--province", required=True)
    k.add_argument("--name")
    k.set_defaults(fn=cmd_keys)
    t = rep.add_parser("token", help="on a centre: issue an institution's report token")
    t.add_argument("uscc")
    t.set_defaults(fn=cmd_token)
    c = rep.add_parser("checkpoints", help="on a centre: the checkpoints held for an institution (JSON)")
    c.add_argument("uscc")
    c.add_argument("--to")
    c.set_defaults(fn=cmd_checkpoints)
