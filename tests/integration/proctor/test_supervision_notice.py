"""The supervision deadline on the installation's calendar (R-SUP-1, R-CAL): a holiday notice
the installation administrator enters moves the deadline, and whether a report was on time
is judged on it, when filed and on every read after."""

from __future__ import annotations

from datetime import date, datetime

from examday.clock import CST
from tests.integration.proctor.support import room_world
from tests.integration.proctor.test_supervision import REPORT, path, status
from tests.notices import enter_notice, notice_of

# Thursday 26 November 2026: Fri 27, Mon 30 and Tue 1 December are the three working days after.
PACKAGE_DEADLINE = date(2026, 12, 1)
# The notice as entered makes Friday 27 and Monday 30 November days off: the third working day is 3 December.
OFF = (date(2026, 11, 27), date(2026, 11, 30))


def test_a_report_filed_on_time_by_the_entered_notice_is_on_time_R_SUP_1_R_CAL(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    db.commit()
    assert status(client, rw)["deadline"] == PACKAGE_DEADLINE.isoformat()
    enter_notice(client, world, notice_of(2026, holidays=OFF))
    got = status(client, rw, "centre")
    assert (got["deadline"], got["deadline_provisional"]) == ("2026-12-03", False)

    clock.at = datetime(2026, 12, 2, 10, 0, tzinfo=CST)  # after the package's deadline, before the notice's
    assert status(client, rw)["met"] is None  # still open, not overdue
    resp = client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=REPORT)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["deadline"], resp.json()["met"]) == ("2026-12-03", True)
    for who in ("admin", "centre", "supervisor"):
        got = status(client, rw, who)
        assert (got["deadline"], got["met"], got["report"]["met"]) == ("2026-12-03", True, True)


def test_a_notice_entered_after_the_report_rejudges_it_R_SUP_1_R_CAL(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    db.commit()
    clock.at = datetime(2026, 12, 2, 10, 0, tzinfo=CST)
    resp = client.post(path(rw, "/report"), headers=rw.h("supervisor"), json=REPORT)
    assert (resp.json()["deadline"], resp.json()["met"]) == ("2026-12-01", False)  # late on the packages' calendar
    # The correction arrives later: the report was on time all along, and every read says so.
    enter_notice(client, world, notice_of(2026, holidays=OFF))
    got = status(client, rw, "centre")
    assert (got["deadline"], got["met"]) == ("2026-12-03", True)
    assert (got["report"]["deadline"], got["report"]["met"]) == ("2026-12-03", True)
    assert got["report"]["recorded"] == {"deadline": "2026-12-01", "met": False}  # what the filing said
