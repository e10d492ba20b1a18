"""The demo's moving day, played against a live server at a fast pace: the test's clock jumps 20 s a
step and the script does what is due. Everything goes through the real HTTP API (R-DAY-1, R-VIDEO-1)."""

from __future__ import annotations

import io
import logging
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from examday.audit import AuditEntry, verify
from examday.demo.live import DemoDay
from examday.demo.seed import seed_demo
from examday.plans.models import Candidate
from proctor.services.video import check_stale
from proctor.video_models import Segment
from tests.e2e.live import live
from tests.support import World, bearer


@pytest.fixture
def day(app, engine, settings, clock):
    made = seed_demo(engine, settings, clock, io.StringIO())
    with live(app) as url:
        out = io.StringIO()
        sim = DemoDay(settings, url, engine=engine, now=clock.now(), segment_seconds=120, out=out)
        office = World(app, engine, clock).token("watcher", "admin", 1)
        yield made, sim, out, url, office
        sim.client.close()


def play_until(sim: DemoDay, app, clock, end, step=timedelta(seconds=20)) -> None:
    while clock.now() < end:
        clock.advance(seconds=step.total_seconds())
        sim.run_due(clock.now())
        check_stale(app.state, clock.now())  # the app's ticker does this every 5 s of real time


def test_kiosks_and_cameras_play_the_entry_window(day, app, engine, clock, caplog):
    caplog.set_level(logging.DEBUG)
    made, sim, out, url, office = day
    first = made["start"]  # 08:20; entry 07:50–08:35 (R-TIME-1, strict profile)
    [sitting, _] = sim.sittings
    assert sitting.batch_id == made["today"][0] and sitting.expected == 90
    play_until(sim, app, clock, first + timedelta(minutes=18))

    # The server answered each attempt as the script meant: most in, the planned refusals (R-DAY-1, R-ID-1).
    first_batch = [(a, code) for a, code in sim.results if a.batch_id == sitting.batch_id]
    assert all(code == a.expect for a, code in first_batch), [
        (a.ticket_number, a.expect, c) for a, c in first_batch if c != a.expect
    ]
    codes = Counter(code for _, code in first_batch)
    # The one past the cutoff holds a later skill sitting, so the door gives its entry time (R-TIME-1, R-SEAT-1).
    assert codes["id_mismatch"] == 3 and codes["already_checked_in"] == 2 and codes["not_open_yet"] == 1
    admitted = {a.ticket_number for a, code in first_batch if code == "accepted"}
    assert len(admitted) == 90 - sitting.stay_away and sitting.stay_away == 4

    with httpx.Client(base_url=url, headers=bearer(office)) as http:
        rooms = http.get(f"/api/v1/batches/{sitting.batch_id}/rooms").json()
        # R-DAY-3: after the cutoff, who did not get in is absent; the late ones are marked.
        assert sum(r["present"] for r in rooms) == len(admitted) and sum(r["late"] for r in rooms) == 3
        assert sum(r["absent"] for r in rooms) == sitting.stay_away and all(r["cutoff_passed"] for r in rooms)
        cover = http.get(f"/api/v1/batches/{sitting.batch_id}/coverage").json()
    theory = cover["sessions"][0]
    cams = {c["code"]: c for r in theory["rooms"] for c in r["cameras"]}
    assert set(cams) == {"T01-C1", "T01-C2", "T02-C1", "T02-C2", "T03-C1", "T03-C2"}
    # R-VIDEO-1: every camera covered so far but the one that went quiet around the start.
    assert all(c["complete"] for code, c in cams.items() if code != "T03-C2"), cams
    quiet = cams["T03-C2"]
    assert not quiet["complete"] and sum(g["seconds"] for g in quiet["gaps"]) > 3 * 60
    with Session(engine) as db:
        states = Counter(s.state for s in db.exec(select(Segment)).all())
        assert states["valid"] > 0 and set(states) <= {"valid", "open"}  # files on disk, hashes match
        assert verify(db) is None
        stale = db.exec(select(AuditEntry).where(AuditEntry.action == "camera.stale")).all()
        assert stale and all('"T03-C2"' in e.diff for e in stale)  # the quiet camera, and only it

        # R-PRIV-1: no ID number on the terminal or in any log record, not even the wrong ones typed.
        numbers = {c.id_number for c in db.exec(select(Candidate)).all()} | {a.id_number for a, _ in sim.results}
    said = out.getvalue() + sim.summary(clock.now()) + sim.describe() + caplog.text
    assert "checked in" in out.getvalue()
    assert not [n for n in numbers if n in said]


def test_demo_command_plays_the_day_unless_told_not_to(tmp_path, monkeypatch):
    from examday import cli
    from examday.demo import live as demo_live
    from examday.demo import seed as demo

    monkeypatch.setenv("EXAMDAY_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("EXAMDAY_DATA_DIR", str(tmp_path / "data"))
    seeded, played, served = [], [], []
    monkeypatch.setattr(demo, "seed_demo", lambda engine, settings, clock, out, base_url: seeded.append(base_url))
    monkeypatch.setattr(
        demo_live, "start_simulation", lambda settings, clock, base_url, out=None: played.append(base_url)
    )
    monkeypatch.setattr(cli, "cmd_serve", lambda args, settings: served.append((args.host, args.port)) or 0)
    assert cli.main(["demo", "--port", "8123", "--no-simulate"]) == 0
    assert seeded == ["http://127.0.0.1:8123"] and played == [] and served == [("127.0.0.1", 8123)]
    assert cli.main(["demo", "--port", "8124"]) == 0
    assert played == ["http://127.0.0.1:8124"]
