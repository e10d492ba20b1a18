"""One examday server process for the report tests (issue #17), on the test's running clock, with
the report push loop ``examday serve`` starts:

    python -m tests.e2e.report_server DB_URL DATA_DIR PORT AT_ISO EPOCH [CENTRE_URL REPORT_TOKEN]

Like tests/faults/server.py (the schema is the test's, built from the models, so no migration);
with a centre URL and token, it pushes approved batches there every second."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import uvicorn

from examday.app import create_app
from examday.settings import Settings
from scoring import report_push
from tests.faults.server import RunningClock
from tests.faults.support import HOOK_SECRET, SECRET_KEY


def main(argv: list[str]) -> None:
    db_url, data_dir, port, at, epoch = argv[:5]
    centre_url, token = (argv[5], argv[6]) if len(argv) > 6 else ("", "")
    settings = Settings(
        database_url=db_url,
        data_dir=Path(data_dir),
        hook_secret=HOOK_SECRET,
        secret_key=SECRET_KEY,
        password_time_cost=1,
        password_memory_kib=1024,
        centre_url=centre_url,
        centre_report_token=token,
        report_push_seconds=1,
    ).resolved()
    clock = RunningClock(datetime.fromisoformat(at), float(epoch))
    app = create_app(settings, clock)
    report_push.start(settings, clock)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
