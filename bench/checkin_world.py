"""The server side of ``bench/checkin.py``: the seeded world and the server process, for one code tree.

Run as a script, with the code tree first on ``sys.path``, so that ``--against <ref>`` seeds and
serves that ref's own code (a ``git worktree``) while the clients stay the same:

    python bench/checkin_world.py seed  <root> <db_url> <candidates> <kiosks>   # prints JSON
    python bench/checkin_world.py serve <root> <db_url> <data_dir> <port> <enrich 0|1> [<http> <loop>]
"""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

AT = datetime(2026, 11, 26, 8, 40, tzinfo=timezone(timedelta(hours=8)))  # entry for the 09:00 session


def _use(root: str) -> None:
    """This code tree's packages, ahead of the editable install of the main checkout."""
    sys.path.insert(0, root)
    import examday

    where = Path(examday.__file__).resolve()
    if not where.is_relative_to(Path(root).resolve()):
        raise SystemExit(f"examday imported from {where}, not from {root}")


def serve(db_url: str, data_dir: str, port: int, enrich: bool, http: str = "auto", loop: str = "auto") -> None:
    """The server process: the app on a fixed clock, one uvicorn worker; uvicorn's HTTP parser
    and event loop named, so that both trees of a comparison are served alike."""
    import uvicorn

    from examday.app import create_app
    from examday.clock import FixedClock
    from examday.settings import Settings

    settings = Settings(
        database_url=db_url, data_dir=Path(data_dir), hook_secret="bench", secret_key="bench-secret"
    ).resolved()
    app = create_app(settings, FixedClock(AT))
    if not enrich:  # diagnosis: the check-in alone, without the live feed's room state per event
        app.state.events.set_enricher(None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, http=http, loop=loop)


def seed(db_url: str, n: int, kiosks: int) -> dict:
    """A filed batch with n seated, ticketed candidates; kiosk tokens. Straight into the database."""
    from sqlmodel import Session

    from examday.accounts.services.accounts import Passwords, create_account, issue_token
    from examday.actor import SYSTEM
    from examday.app import package_routers
    from examday.models import install_extras, metadata
    from examday.plans.models import Seat
    from examday.plans.tickets import current_ticket, issue_batch_tickets
    from storage.db import make_engine
    from tests import builders

    package_routers()  # every package's tables on the metadata
    engine = make_engine(db_url)
    metadata.create_all(engine)
    install_extras(engine)
    now = AT.replace(hour=7)
    with Session(engine, expire_on_commit=False) as db:
        inst = builders.institution(db, now)
        rooms = builders.rooms(db, inst, theory=math.ceil(n / 30))
        theory = [r for r in rooms if r.kind == "theory"]
        people = builders.staff(db, inst, n_proctors=2 * len(theory))
        batch = builders.batch(db, inst, AT.date(), theory, people["proctor"], now=now)
        cands = builders.candidates(db, batch, n, now=now)
        for i, c in enumerate(cands):
            db.add(
                Seat(
                    batch_id=batch.id, part="theory", candidate_id=c.id, room_id=theory[i // 30].id, seat_no=i % 30 + 1
                )
            )
        issue_batch_tickets(db, SYSTEM, batch, "bench-secret", now)
        db.commit()
        people_out = [{"ticket": current_ticket(db, c.id).qr_text, "id_number": c.id_number} for c in cands]
        tokens = []
        pw = Passwords(1, 1024)
        for k in range(kiosks):
            acc = create_account(db, SYSTEM, now, pw, f"kiosk{k + 1}", "kiosk", inst.id, None, None, None)
            tokens.append(issue_token(db, acc, now, by=SYSTEM))
        db.commit()
    engine.dispose()
    return {"people": people_out, "tokens": tokens}


def main(argv: list[str]) -> int:
    what, root, *rest = argv
    _use(root)
    if what == "seed":
        json.dump(seed(rest[0], int(rest[1]), int(rest[2])), sys.stdout)
    elif what == "serve":
        serve(rest[0], rest[1], int(rest[2]), rest[3] == "1", *rest[4:6])
    else:
        raise SystemExit(f"unknown command {what}")
    return 0


if __name__ == "__main__":
    sys.path.pop(0)  # bench/ itself: the code tree named on the command line comes first
    raise SystemExit(main(sys.argv[1:]))
