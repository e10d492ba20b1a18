"""Browser fixtures: the real app under uvicorn on a free localhost port, and a
headless Chromium page on a tablet-sized window.

- ``live_server``: starts ``app`` (the test app: the ``settings`` database and
  the ``clock`` fixture, so a test can move time) in a background thread and
  yields ``LiveServer(url, app)``; stops it after the test.
- ``browser`` (session): Playwright's Chromium from ``/usr/bin/chromium``.
- ``page``: a fresh context per test, 1024×768 with touch, zh-CN. Use
  ``page_size`` to parametrize another window (``PHONE``, 390×844, or e.g. (800, 1280)).
- ``WIDTHS``: the two windows every page must fit without sideways scrolling (issue #16).

Every test here is marked ``browser``; it is skipped when Chromium is absent.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("EXAMDAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = (1024, 768)
PHONE = (390, 844)
WIDTHS = {"tablet": TABLET, "phone": PHONE}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: Any

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def live_server(app):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_size() -> tuple[int, int]:
    return TABLET


def tablet_context(browser, size: tuple[int, int] = TABLET):
    """A fresh browser profile (its own cookies) on a touch tablet, in Chinese, on China time."""
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    # How long a step may wait, not how fast it must be (speed is the benchmarks'): on the 2-core
    # CI machine under xdist, a form that produces a PDF record took over 10 s to answer.
    context.set_default_timeout(30_000)
    return context


@pytest.fixture
def page(browser, page_size):
    context = tablet_context(browser, page_size)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


# The demo's day walked page by page, once per session for every module that reads it.
from tests.browser.demo_walk import walk  # noqa: E402, F401
