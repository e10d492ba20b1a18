"""One exam day walked through the pages, step by step, as the people of the day would.

The steps of ``test_exam_day.py`` (the day: plan, door, rooms, scoring) and then of
``test_exam_day_review.py`` (publicity, lock, the centre's review, the archive) are separate
tests that share one ``Story``: one database (SQLite, and PostgreSQL when
EXAMDAY_TEST_POSTGRES_URL is set), one live server and one test clock for the whole
package, the modules in that order. Each step starts where the one before left off, so a
failed step skips the ones after it, in either module, instead of failing them for its sake.
``day.py`` says who is who among the candidates and what their results must be.

What a person could not do in the browser in the time is arranged here: the clock
(the 10-working-day filing rule, the entry window, the 5-working-day publicity) and
the registry — institution, rooms, staff and accounts — through the services, as
``tests/builders.py`` does. Everything else happens on the pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from examday.accounts.services.accounts import create_account
from examday.actor import SYSTEM
from examday.clock import CST, FixedClock
from examday.settings import Settings
from tests import builders
from tests.browser.conftest import tablet_context
from tests.conftest import BACKENDS, empty_database
from tests.e2e.live import live

PASSWORD = "journey-pass-2026"
START = datetime(2026, 11, 26, 8, 0, tzinfo=CST)  # a Thursday, 12 working days before the exam
_failed: dict[tuple[str, str], str] = {}


@dataclass
class Story:
    """What the day has made so far, for the next step to start from."""

    url: str
    app: Any
    clock: FixedClock
    folder: Path
    institution_id: int
    proctors: list[int]
    examiners: list[int]
    facts: dict[str, Any] = field(default_factory=dict)

    def at(self, path: str) -> str:
        return self.url + path

    @property
    def engine(self):
        return self.app.state.engine

    def set_time(self, when: datetime) -> None:
        self.clock.at = when


def _accounts(db: Session, app, now: datetime, iid: int, proctors: list[int], examiners: list[int]) -> None:
    people = [
        ("office", "admin", None),
        ("kiosk1", "kiosk", None),
        ("proctor1", "proctor", proctors[0]),
        ("evaluator1", "evaluator", examiners[0]),
        ("evaluator2", "evaluator", examiners[1]),
        ("chief1", "chief", examiners[2]),
    ]
    for username, role, staff_id in people:
        create_account(db, SYSTEM, now, app.state.passwords, username, role, iid, None, staff_id, PASSWORD)
    # The provincial centre of 吉林 (the institution's province): no institution of its own (R-CERT-1).
    create_account(db, SYSTEM, now, app.state.passwords, "centre-jl", "centre", None, "吉林", None, PASSWORD)


@pytest.fixture(scope="package", params=BACKENDS)
def story(request, tmp_path_factory, pg_schema_url):
    from examday.app import create_app

    folder = tmp_path_factory.mktemp(f"journey-{request.param}")
    settings = Settings(
        database_url=empty_database(request.param, folder, pg_schema_url),
        data_dir=folder / "data",
        hook_secret="journey-hook-secret",
        secret_key="journey-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    clock = FixedClock(START)
    app = create_app(settings, clock)
    with Session(app.state.engine, expire_on_commit=False) as db:
        inst = builders.institution(db, clock.now())
        builders.rooms(db, inst)
        people = builders.staff(db, inst)
        proctors = [p.id for p in people["proctor"]]
        examiners = [e.id for e in people["examiner"]]
        _accounts(db, app, clock.now(), inst.id, proctors, examiners)
        db.commit()
        iid = inst.id
    with live(app) as url:
        yield Story(url, app, clock, folder, iid, proctors, examiners)


@pytest.fixture
def person(browser):
    """``person()`` opens a new browser profile (a tablet of its own); all are closed after the step."""
    contexts = []

    def open_page():
        context = tablet_context(browser)
        # The suite shares a small machine: a step waits for its page, however busy the machine is.
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, story: Story, username: str) -> None:
    """At the login page (asked for, or sent there): name and password, as typed."""
    if "/login" not in page.url:
        page.goto(story.at("/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def notice(page) -> str:
    return page.locator("[role=status]").first.inner_text()


def step_of(item) -> tuple[str, str]:
    """The day a step belongs to: this package's story on one backend."""
    backend = item.callspec.params.get("story", "") if hasattr(item, "callspec") else ""
    return str(Path(str(item.fspath)).parent), backend


def pytest_runtest_makereport(item, call):
    if call.excinfo is not None and call.when == "call" and "story" in getattr(item, "fixturenames", ()):
        _failed.setdefault(step_of(item), item.name)


def pytest_runtest_setup(item):
    earlier = _failed.get(step_of(item))
    if earlier is not None and "story" in getattr(item, "fixturenames", ()):
        pytest.skip(f"an earlier step of this day failed: {earlier}")
