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
``tests/builders.py`` does. Everything else happens on the pages: no step calls the API
of its own (issue #16); files come from the pages' links (``expect_download``).

Widths (issue #16): a day is walked in one window, a tablet (1024×768) or a phone (390×844),
and every page any step opens is measured after it loads, and again when the step ends: a page
wider than the window (``document.documentElement.scrollWidth > innerWidth``) fails the step.
Which days run is ``DAYS``: each width once and each backend once (see there for why not all four).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session

from examday.accounts.services.accounts import create_account
from examday.actor import SYSTEM
from examday.clock import CST, FixedClock
from tests import builders
from tests.browser.conftest import WIDTHS, tablet_context
from tests.conftest import BACKENDS, empty_database
from tests.e2e.live import live
from tests.support import fast_settings

PASSWORD = "journey-pass-2026"
START = datetime(2026, 11, 26, 8, 0, tzinfo=CST)  # a Thursday, 12 working days before the exam
_failed: dict[tuple[str, str], str] = {}


def _days() -> list[tuple[str, str]]:
    """(backend, width) of each day walked. The width changes only what the browser lays out and the
    backend only what the server stores, so a day per width and a day per backend cover both: with
    PostgreSQL, SQLite on a phone and PostgreSQL on a tablet; without it, SQLite at both widths.
    Measured on the 2-core CI-sized machine (issue #16): a day takes about 2 min on SQLite and
    2.6 min on PostgreSQL at either width; the two days before this change took 3 min in all, these
    two take about 4.7, all four 9.5 - over 6 minutes more, where the suite has about 5 to spare.
    ``EXAMDAY_TEST_JOURNEY_DAYS=all`` walks all four."""
    widths = list(WIDTHS)
    if len(BACKENDS) == 1 or os.environ.get("EXAMDAY_TEST_JOURNEY_DAYS") == "all":
        return [(b, w) for b in BACKENDS for w in widths]
    return [("sqlite", "phone"), ("postgres", "tablet")]


DAYS = _days()
# The page's own measurement, run after each load (and once more when late content has come in).
_WATCH_WIDTH = """(() => {
  const measure = () => { if (window.__examdayWidth) window.__examdayWidth(location.href,
    document.documentElement.scrollWidth, window.innerWidth); };
  addEventListener('load', () => { measure(); setTimeout(measure, 700); });
})();"""
_MEASURE = "() => [location.href, document.documentElement.scrollWidth, window.innerWidth]"


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
    width: str = "tablet"  # the window every person of this day uses (WIDTHS)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return WIDTHS[self.width]

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
        ("supervisor1", "supervisor", None),  # the quality supervisor (质量督导员, R-SUP-1)
    ]
    for username, role, staff_id in people:
        create_account(db, SYSTEM, now, app.state.passwords, username, role, iid, None, staff_id, PASSWORD)
    # The installation's administrator (系统管理员): an admin of no institution.
    create_account(db, SYSTEM, now, app.state.passwords, "root", "admin", None, None, None, PASSWORD)
    # The provincial centre of 吉林 (the institution's province): no institution of its own (R-CERT-1).
    create_account(db, SYSTEM, now, app.state.passwords, "centre-jl", "centre", None, "吉林", None, PASSWORD)


@pytest.fixture(scope="package", params=DAYS, ids=[f"{b}-{w}" for b, w in DAYS])
def story(request, tmp_path_factory, pg_schema_url):
    from examday.app import create_app

    backend, width = request.param
    folder = tmp_path_factory.mktemp(f"journey-{backend}-{width}")
    settings = fast_settings(empty_database(backend, folder, pg_schema_url), folder / "data")
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
        yield Story(url, app, clock, folder, iid, proctors, examiners, width)


@pytest.fixture
def person(browser, story):
    """``person()`` opens a new browser profile (a device of its own, at the day's width); all are
    closed after the step, which fails if any page it opened scrolled sideways (issue #16)."""
    contexts, pages = [], []
    wide: dict[str, tuple[int, int]] = {}

    def measured(_source, url: str, scroll: int, inner: int) -> None:
        if scroll > inner:
            wide.setdefault(url, (scroll, inner))

    def open_page():
        context = tablet_context(browser, story.size)
        # The suite shares a small machine: a step waits for its page, however busy the machine is.
        context.set_default_timeout(30_000)
        context.expose_binding("__examdayWidth", measured)
        context.add_init_script(_WATCH_WIDTH)
        contexts.append(context)
        pages.append(context.new_page())
        return pages[-1]

    yield open_page
    for page in pages:
        if not page.is_closed() and page.url.startswith(story.url):
            try:
                page.wait_for_load_state("load", timeout=5_000)
                measured(None, *page.evaluate(_MEASURE))
            except PlaywrightError:  # still navigating (the step failed mid-way): its loads were measured
                pass
    for context in contexts:
        context.close()
    assert not wide, f"pages wider than the {story.width}'s {story.size[0]} px: " + "; ".join(
        f"{url} is {scroll} px" for url, (scroll, _) in wide.items()
    )


def fits(page) -> None:
    """The page as it is now fits its window: no sideways scrolling (issue #16)."""
    url, scroll, inner = page.evaluate(_MEASURE)
    assert scroll <= inner, f"{url} is {scroll} px wide in a window of {inner}"


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
    """The day a step belongs to: this package's story on one backend, at one width."""
    day = item.callspec.params.get("story", "") if hasattr(item, "callspec") else ""
    return str(Path(str(item.fspath)).parent), str(day)


def pytest_runtest_makereport(item, call):
    # A page too wide fails the step at its teardown (the person fixture): the day stops there too.
    if call.excinfo is not None and call.when in ("call", "teardown") and "story" in getattr(item, "fixturenames", ()):
        _failed.setdefault(step_of(item), item.name)


def pytest_runtest_setup(item):
    earlier = _failed.get(step_of(item))
    if earlier is not None and "story" in getattr(item, "fixturenames", ()):
        pytest.skip(f"an earlier step of this day failed: {earlier}")
