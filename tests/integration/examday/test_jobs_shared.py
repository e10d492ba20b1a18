"""Long work survives more than one server process (issue #16, with issue #18's four processes):
a print job started on one process is read — its progress, then its PDF — through another on the
same database and data folder; only its starter reads it (R-PRIV-1); its files are private and
deleted an hour after it finished."""

from __future__ import annotations

import os
import stat
import time

from litestar.testing import TestClient

from examday import jobs
from tests.integration.examday.test_seating_api import make_world
from tests.support import bearer


def test_a_print_job_started_on_one_process_is_read_through_another(world, client, settings, clock):
    from examday.app import create_app

    w = make_world(world, n=12)
    bid = w["bid"]
    assert client.post(f"/api/v1/batches/{bid}/seating", headers=w["admin"]).status_code == 200
    r = client.post(f"/office/batches/{bid}/tickets/print", headers=w["admin"], follow_redirects=False)
    assert r.status_code == 303, r.text
    job = r.headers["location"]
    # A second server process: its own application, memory and connections; the same database
    # and data folder, as behind nginx.
    with TestClient(create_app(settings, clock)) as second:
        page = second.get(job, headers=w["admin"]).text
        deadline = time.monotonic() + 60
        while 'id="pdf-link"' not in page:
            assert "/ 12 张" in page and 'http-equiv="refresh"' in page, page[-800:]
            assert time.monotonic() < deadline
            time.sleep(0.2)
            page = second.get(job, headers=w["admin"]).text
        assert "12 张准考证已生成" in page
        pdf = second.get(f"{job}/tickets.pdf", headers=w["admin"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        # The same office's other account reads it on neither process (R-PRIV-1).
        other = bearer(world.token("office-b", "admin", w["iid"]))
        for c in (client, second):
            assert c.get(job, headers=other).status_code == 404
            assert c.get(f"{job}/tickets.pdf", headers=other).status_code == 404
        # A made-up or path-like id is no job.
        assert second.get(f"/office/batches/{bid}/tickets/print/..%2F..%2Fx", headers=w["admin"]).status_code == 404

    job_id = job.rsplit("/", 1)[1]
    folder = settings.data_dir / jobs.FOLDER
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{job_id}.json", f"{job_id}.out"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((folder / f).stat().st_mode) == 0o600 for f in files)
    # An hour after it finished, the job and its PDF are gone from the disk.
    clock.advance(minutes=59)
    assert client.get(job, headers=w["admin"]).status_code == 200
    clock.advance(minutes=2)
    assert client.get(job, headers=w["admin"]).status_code == 404
    assert list(folder.iterdir()) == []


def test_a_job_whose_process_stopped_is_shown_as_failed(settings, clock):
    """A job not heard from for ten minutes died with its process: the page says to try again
    rather than refreshing for ever (issue #16)."""
    bid, account = 3, 7

    def never_ends(progress):
        time.sleep(3600)  # a daemon thread: the test does not wait for it
        return b""

    job = jobs.start(settings.data_dir, clock, "tickets", bid, account, 2, never_ends, filename="x", media_type="x")
    assert jobs.find(settings.data_dir, clock.now(), job.id, bid, account).state == "running"
    clock.advance(minutes=11)
    assert jobs.find(settings.data_dir, clock.now(), job.id, bid, account).failed
    assert jobs.find(settings.data_dir, clock.now(), job.id, bid + 1, account) is None  # another batch's
    assert jobs.find(settings.data_dir, clock.now(), job.id, bid, account + 1) is None  # another account's
    # A write cut short by a stopped process leaves a temporary file: gone once it is an hour old.
    stale = settings.data_dir / jobs.FOLDER / f".{job.id}.json.1.2.tmp"
    stale.write_bytes(b"{")
    jobs.expire(settings.data_dir, clock.now())
    assert stale.exists()
    os.utime(stale, (time.time() - 3700, time.time() - 3700))
    jobs.expire(settings.data_dir, clock.now())
    assert not stale.exists()
