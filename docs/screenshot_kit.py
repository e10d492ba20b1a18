"""What docs/screenshots.py stands on: the demo server in a temporary folder, HTTP clients
signed in as the demo's accounts, what the demo holds, and a browser that saves small PNGs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PASSWORD = "examday-demo"
CHROMIUM = os.environ.get("EXAMDAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CST = timezone(timedelta(hours=8))
PIN = "2468"
PHONE = (390, 844)  # a phone held upright
RUBRIC = [
    {"code": "A1", "title": "安全文明操作", "max_points": 20},
    {"code": "A2", "title": "线路敷设与接线工艺", "max_points": 40},
    {"code": "A3", "title": "通电调试", "max_points": 30},
    {"code": "A4", "title": "工具仪表使用", "max_points": 10},
]


# -- the demo server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen | None, log: Path | None, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"examday demo stopped (exit {proc.returncode}):\n{log.read_text() if log else ''}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the demo did not answer at {url} within {seconds:.0f} s")


FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")  # Debian's libfaketime


def china_time_wanted(asked: str | None) -> str | None:
    """The China time of day the demo should start at (``HH:MM``), or None for the real one.

    The demo's first theory sitting starts 20 minutes after it starts, but not after the day is
    out: late in the evening (China time) its check-in is closed and the desk's shots cannot be
    taken. Then, when libfaketime is installed, the demo starts at 09:00 of the same day."""
    if asked:
        return asked
    hour = datetime.now(CST).hour
    if (hour >= 20 or hour < 7) and FAKETIME_LIB.exists():
        return "09:00"
    return None


class DemoClock:
    """The demo server's clock, through libfaketime's timestamp file: an offset from the real time
    that the server re-reads every second, so the script can move the demo on to the afternoon's
    skill sitting (the examiners score only once their part has started, R-SCORE-1)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0.0

    def env(self) -> dict[str, str]:
        return {
            "LD_PRELOAD": str(FAKETIME_LIB),
            "FAKETIME_TIMESTAMP_FILE": str(self.path),
            "FAKETIME_CACHE_DURATION": "1",
            "TZ": "UTC",
        }

    def now(self) -> datetime:
        return datetime.now(CST) + timedelta(seconds=self.offset)

    def set(self, when: datetime) -> None:
        self.offset = max(self.offset, (when - datetime.now(CST)).total_seconds())  # never backwards
        self.path.write_text(f"{self.offset:+.0f}\n")
        time.sleep(2.5)  # the server reads the file again within a second


def start_demo(workdir: Path, port: int, china_time: str | None = None) -> tuple[DemoClock | None, subprocess.Popen]:
    env = {
        **os.environ,
        "EXAMDAY_DATABASE_URL": f"sqlite:///{workdir / 'examday.db'}",
        "EXAMDAY_DATA_DIR": str(workdir / "data"),
    }
    clock = None
    if FAKETIME_LIB.exists():
        clock = DemoClock(workdir / "faketime")
        clock.path.write_text("+0\n")
        if china_time:
            hh, mm = (int(v) for v in china_time.split(":"))
            clock.offset = (datetime.now(CST).replace(hour=hh, minute=mm, second=0) - datetime.now(CST)).total_seconds()
            clock.path.write_text(f"{clock.offset:+.0f}\n")
        env |= clock.env()
    elif china_time:
        raise SystemExit(f"--china-time needs libfaketime ({FAKETIME_LIB}): apt-get install faketime")
    for name in ("EXAMDAY_REDIS_URL", "EXAMDAY_SECRET_KEY", "EXAMDAY_HOOK_SECRET"):
        env.pop(name, None)  # a fresh, self-contained demo
    # The child gets its own copy of the descriptor: ours can close once it has started.
    with open(workdir / "demo.log", "wb") as log:
        return clock, subprocess.Popen(
            [sys.executable, "-m", "examday.cli", "demo", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# -- what the demo holds ----------------------------------------------------------------------------


@contextmanager
def api(url: str, username: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in as ``username`` through the login form, as a browser is."""
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/login", data={"username": username, "password": PASSWORD, "next": "/"})
        if r.status_code not in (302, 303):
            raise RuntimeError(f"{username} cannot sign in ({r.status_code})")
        yield c


@dataclass
class Demo:
    url: str
    today: int = 0
    older: int | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)  # today's, with full ID numbers (office view)
    scorers: dict[int, str] = field(default_factory=dict)  # staff id -> username, evaluators and chiefs
    chiefs: set[str] = field(default_factory=set)
    clock: DemoClock | None = None  # the demo server's clock, when the script may move it

    def expected(self) -> list[dict[str, Any]]:
        """Today's candidates that are seated in a theory room and not in yet, one room after another."""
        with api(self.url, "office") as o:
            rooms = o.get(f"/api/v1/batches/{self.today}/rooms").json()
        waiting = {
            s["candidate_id"]: (r["room_code"], s["seat"] or 0)
            for r in rooms
            for s in r["seats"]
            if s["status"] == "expected"
        }
        found = [c for c in self.candidates if c["id"] in waiting]
        return sorted(found, key=lambda c: waiting[c["id"]])

    def panel(self) -> dict[str, Any] | None:
        with api(self.url, "office") as o:
            return next((p for p in o.get(f"/api/v1/batches/{self.today}/panels").json() if p["part"] == "skill"), None)


def survey(url: str) -> Demo:
    from examday.demo.seed import ACCOUNTS

    d = Demo(url)
    today = datetime.now(CST).date().isoformat()
    with api(url, "office") as o:
        batches = o.get("/api/v1/batches").json()
        # The first of today's batches is the one whose check-in the demo opens first.
        todays = sorted(
            (b for b in batches if b["exam_date"] == today and b["status"] == "filed"), key=lambda b: b["id"]
        )
        if not todays:
            raise SystemExit(f"the demo has no filed batch for {today}")
        d.today = todays[0]["id"]
        d.older = next((b["id"] for b in batches if b["status"] == "locked"), None)
        d.candidates = [c for c in o.get(f"/api/v1/batches/{d.today}/candidates").json() if c["status"] == "registered"]
    for username, role, *_ in ACCOUNTS(0):
        if role in ("evaluator", "chief"):
            with api(url, username) as c:
                d.scorers[c.get("/api/v1/me").json()["staff_id"]] = username
            if role == "chief":
                d.chiefs.add(username)
    return d


def check_in_some(d: Demo, how_many: int) -> None:
    """Arrivals at the door, so the proctors' rooms have people in them."""
    with api(d.url, "kiosk2") as k:
        for c in d.expected()[:how_many]:
            k.post(
                "/api/v1/checkins",
                json={
                    "ticket_number": c["ticket_number"],
                    "batch_id": d.today,
                    "id_number": c["id_number"],
                    "kiosk_nonce": os.urandom(12).hex(),
                },
            )


def open_skill_sitting(d: Demo) -> list[str]:
    """Today's first skill sitting under way, its candidates checked in at its door: examiners
    score a part only once it has started (R-SCORE-1), and the demo starts hours before it.
    Returns the ticket numbers admitted: only they can be scored (R-ID-1)."""
    if d.clock is None:
        raise RuntimeError("scoring waits for the skill part: install libfaketime (apt-get install faketime)")
    with api(d.url, "office") as o:
        sessions = o.get(f"/api/v1/batches/{d.today}").json()["sessions"]
    first = min(datetime.fromisoformat(s["starts_at"]) for s in sessions if s["part"] == "skill")
    d.clock.set(first + timedelta(minutes=5))
    answers: dict[str, int] = {}
    admitted: list[str] = []
    with api(d.url, "kiosk2") as k:
        for c in d.candidates:  # those drawn to a later sitting are told its time (wrong_sitting)
            r = k.post(
                "/api/v1/checkins",
                json={
                    "ticket_number": c["ticket_number"],
                    "batch_id": d.today,
                    "id_number": c["id_number"],
                    "kiosk_nonce": os.urandom(12).hex(),
                },
            )
            code = "accepted" if r.is_success else r.json().get("code", str(r.status_code))
            answers[code] = answers.get(code, 0) + 1
            if r.is_success or code == "already_checked_in":
                admitted.append(c["ticket_number"])
    if not admitted:
        raise RuntimeError(f"nobody got into the skill sitting at {d.clock.now():%H:%M}: {answers}")
    return admitted


def set_pins(d: Demo, usernames: list[str]) -> None:
    for username in usernames:
        with api(d.url, username) as c:
            # The demo's examiners of the older batch have this PIN already: changing it asks for it.
            c.post("/api/v1/me/pin", json={"pin": PIN, "old_pin": PIN}).raise_for_status()


def split(total: float, items: list[dict[str, Any]]) -> dict[str, float]:
    out, left = {}, total
    for it in items:
        give = min(float(it["max_points"]), left)
        out[it["code"]], left = round(give, 1), round(left - give, 1)
    return out


def disagree(d: Demo, panel: dict[str, Any], candidate_id: int) -> None:
    """The panel far apart on one candidate: the chief gets it for arbitration."""
    for staff_id, total in zip(panel["examiner_ids"], (88, 52, 71, 70, 69, 68, 67)):
        with api(d.url, d.scorers[staff_id]) as c:
            items = c.get(f"/api/v1/batches/{d.today}/rubrics/skill").json()["items"]
            r = c.post(
                "/api/v1/score-entries",
                json={
                    "batch_id": d.today,
                    "candidate_id": candidate_id,
                    "part": "skill",
                    "items": split(total, items),
                    "pin": PIN,
                },
            )
            r.raise_for_status()


# -- the browser ------------------------------------------------------------------------------------


class Shots:
    def __init__(self, browser, url: str, out: Path, size: tuple[int, int]) -> None:
        self.browser, self.url, self.out, self.size = browser, url, out, size
        self.taken: list[str] = []
        self.skipped: list[str] = []

    def page(self, username: str | None, size: tuple[int, int] | None = None):
        width, height = size or self.size
        ctx = self.browser.new_context(
            viewport={"width": width, "height": height},
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        ctx.set_default_timeout(15_000)
        page = ctx.new_page()
        if username:
            page.goto(self.url + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
        return page

    def visit(self, page, path: str) -> bool:
        """Go to a page; False (and noted) when this version of examday does not have it."""
        response = page.goto(self.url + path)
        if response is not None and response.status == 404:
            self.skipped.append(path)
            return False
        return True

    def save(self, page, name: str, top: bool = True, max_height: int = 1000) -> None:
        """From the top of the page down to the end of its content (at most ``max_height``);
        ``top=False``: the window as it is scrolled now."""
        path = self.out / f"{name}.png"
        if top:
            page.evaluate("window.scrollTo(0, 0)")
            bottom = page.evaluate(
                "Math.ceil(document.querySelector('main').getBoundingClientRect().bottom + window.scrollY)"
            )
            height = max(320, min(max_height, bottom + 16))
            width = page.viewport_size["width"] if page.viewport_size else self.size[0]
            page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
        else:
            page.screenshot(path=str(path))
        shrink(path)
        self.taken.append(name)


def shrink(path: Path) -> None:
    """A 256-colour palette keeps text sharp at a third of the size."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def ticket(data: bytes, path: Path) -> None:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        if img.width > 800:
            img = img.resize((800, round(img.height * 800 / img.width)), Image.Resampling.LANCZOS)
        img.save(path)
    shrink(path)
