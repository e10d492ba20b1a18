"""One examday server process for the fault tests, on a clock shared with the test:

    python -m tests.faults.server DB_URL DATA_DIR PORT AT_ISO EPOCH [REDIS_URL]

The clock reads ``AT_ISO`` when the wall clock read ``EPOCH`` (``time.time()``) and runs at the
wall clock's pace, so two processes, and one restarted after a kill, tell the same time."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn

from examday.app import create_app
from examday.clock import Clock
from examday.settings import Settings
from tests.faults.support import HOOK_SECRET, SECRET_KEY


class RunningClock(Clock):
    def __init__(self, at: datetime, epoch: float) -> None:
        self.at, self.epoch = at, epoch

    def now(self) -> datetime:
        return (self.at + timedelta(seconds=time.time() - self.epoch)).astimezone(Clock().now().tzinfo)


def main(argv: list[str]) -> None:
    db_url, data_dir, port, at, epoch = argv[:5]
    settings = Settings(
        database_url=db_url,
        data_dir=Path(data_dir),
        redis_url=argv[5] if len(argv) > 5 else None,
        hook_secret=HOOK_SECRET,
        secret_key=SECRET_KEY,
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    app = create_app(settings, RunningClock(datetime.fromisoformat(at), float(epoch)))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
