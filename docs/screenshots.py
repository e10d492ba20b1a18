"""The guide's screenshots (docs/img/*.png), taken from the real demo in headless Chromium.

    .venv/bin/python docs/screenshots.py                      # a fresh demo in a temporary folder
    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:8100 --only desk,proctor

Without ``--url`` it runs ``examday demo`` on a free port with its database and
data folder in a temporary directory (nothing of yours is touched), walks each
role's journey the way the guide tells it — the office sets the skill rubric
and panel, the desk checks candidates in, a proctor records an incident,
examiners sign scores, the chief sees a disagreement — and saves one PNG per
page at tablet size (1024×768), shrunk to a palette so the repository stays
small. A shot that fails is named at the end and the others are still taken;
the exit status is 1 then.

With ``--url`` it uses a demo that is already running (each run checks in more
candidates, so a demo gets used up after a few dozen runs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from screenshot_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HERE,
    PHONE,
    PIN,
    RUBRIC,
    Demo,
    Shots,
    api,
    check_in_some,
    china_time_wanted,
    disagree,
    free_port,
    open_skill_sitting,
    set_pins,
    split,
    start_demo,
    stop,
    survey,
    ticket,
    wait_healthy,
)

# -- each role's journey ----------------------------------------------------------------------------


def anonymous(s: Shots, d: Demo) -> None:
    p = s.page(None)
    p.goto(s.url + "/login")
    s.save(p, "login")
    if d.older:
        p.goto(f"{s.url}/public/batches/{d.older}/publicity.html")
        s.save(p, "public-publicity")
        phone = s.page(None, PHONE)  # the page a candidate opens from a link on their phone
        phone.goto(f"{s.url}/public/batches/{d.older}/publicity.html")
        s.save(phone, "public-publicity-phone", max_height=1400)
        phone.context.close()
    p.context.close()


def office(s: Shots, d: Demo) -> None:
    p = s.page("office")
    s.save(p, "office-home")
    for path, name in (
        ("/office", "office"),
        ("/office/rooms", "office-rooms"),
        ("/office/staff", "office-staff"),
        ("/office/batches", "office-batches"),
        (f"/office/batches/{d.today}", "office-batch"),
    ):
        p.goto(s.url + path)
        s.save(p, name)
    p.locator("#check").scroll_into_view_if_needed()
    s.save(p, "office-batch-check", top=False)
    p.goto(f"{s.url}/office/candidates/{d.candidates[0]['id']}")
    s.save(p, "office-candidate")
    p.goto(f"{s.url}/office/batches/{d.today}/seating")
    s.save(p, "office-seating")
    p.locator(".charts figure").first.scroll_into_view_if_needed()
    p.wait_for_timeout(500)
    s.save(p, "office-seating-chart", top=False)
    p.goto(f"{s.url}/office/batches/{d.today}/coverage")
    s.save(p, "office-coverage")
    office_scores(s, d, p)
    p.context.close()
    with api(d.url, "office") as o:
        png = o.get(f"/api/v1/candidates/{d.candidates[0]['id']}/ticket.png")
        png.raise_for_status()
    ticket(png.content, s.out / "ticket.png")
    s.taken.append("ticket")


def office_scores(s: Shots, d: Demo, p) -> None:
    """The skill rubric and panel (R-SCORE-3, R-PANEL-1), on the scores page where there is one."""
    if d.panel() is None:
        examiners = [sid for sid, u in d.scorers.items() if u not in d.chiefs][:2]
        chief = next(sid for sid, u in d.scorers.items() if u in d.chiefs)
        if s.visit(p, f"/office/batches/{d.today}/scores"):
            p.select_option("#f-rubric select[name=part]", "skill")
            p.fill(
                "#f-rubric textarea[name=items]",
                "\n".join(f"{i['code']},{i['title']},{i['max_points']}" for i in RUBRIC),
            )
            p.click("#f-rubric button[type=submit]")
            p.wait_for_load_state()
            p.select_option("#f-panel select[name=part]", "skill")
            for sid in (*examiners, chief):
                p.check(f"#f-panel input[name=examiner][value='{sid}']")
            p.select_option("#f-panel select[name=chief]", str(chief))
            p.click("#f-panel button[type=submit]")
            p.wait_for_load_state()
        else:
            with api(d.url, "office") as o:
                o.put(f"/api/v1/batches/{d.today}/rubrics/skill", json={"items": RUBRIC}).raise_for_status()
                o.post(
                    f"/api/v1/batches/{d.today}/panels",
                    json={"part": "skill", "examiner_ids": [*examiners, chief], "chief_id": chief},
                ).raise_for_status()
    if s.visit(p, f"/office/batches/{d.today}/scores"):
        s.save(p, "office-scores")
        p.locator("#setup").scroll_into_view_if_needed()
        s.save(p, "office-scores-setup", top=False)
    if d.older and s.visit(p, f"/office/batches/{d.older}/scores"):
        p.locator("#publicity").scroll_into_view_if_needed()
        s.save(p, "office-scores-locked", top=False)
    if d.older and s.visit(p, f"/office/batches/{d.older}/certificates"):
        s.save(p, "office-certificates")


def desk(s: Shots, d: Demo) -> None:
    waiting = d.expected()
    p = s.page("kiosk1")
    p.goto(s.url + "/desk")
    p.select_option("#batch", str(d.today))
    s.save(p, "desk")

    def check_in(ticket_number: str, id_number: str) -> None:
        p.evaluate("document.getElementById('answer').className = 'card'")
        p.fill("#ticket", ticket_number)
        p.press("#ticket", "Enter")  # a handheld scanner ends with Enter: the desk moves on to the ID number
        p.fill("#id_number", id_number)
        p.click("#checkin button[type=submit]")
        p.wait_for_selector("#answer.ok, #answer.no")

    # The demo's own kiosks are at work too: a candidate they took first is passed over.
    for first in waiting[:6]:
        check_in(first["ticket_number"], first["id_number"])
        if p.locator("#answer.ok").count():
            break
    else:  # late in the day (China time) the demo's check-in is closed
        raise RuntimeError("the demo refused a check-in: " + p.inner_text("#answer").replace("\n", " "))
    second, third = (c for c in waiting[waiting.index(first) + 1 :][:2])
    s.save(p, "desk-accepted")
    check_in(second["ticket_number"], make_wrong_id(second["id_number"]))
    s.save(p, "desk-refused")
    check_in(first["ticket_number"], first["id_number"])
    s.save(p, "desk-already")
    p.fill("#q", third["name"])
    p.press("#q", "Enter")
    p.wait_for_selector("#results li")
    if p.locator("#results li button").count() == 0:
        raise RuntimeError("the desk found nobody by name: " + p.inner_text("#results"))
    p.locator("#results").scroll_into_view_if_needed()
    s.save(p, "desk-search", top=False)
    p.context.close()


def make_wrong_id(number: str) -> str:
    """Another well-formed ID number (valid check digit, R-FMT-ID): the ticket and the person disagree."""
    body = number[:14] + f"{(int(number[14:17]) + 7) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(a) * w for a, w in zip(body, weights)) % 11]


def proctor(s: Shots, d: Demo) -> None:
    check_in_some(d, 12)
    p = s.page("proctor1")
    p.goto(s.url + "/proctor")
    s.save(p, "proctor-home")
    p.goto(f"{s.url}/proctor/batches/{d.today}")
    p.wait_for_selector("#live[data-state=live]")
    p.wait_for_timeout(300)
    s.save(p, "proctor-dashboard")
    p.click(".seat[data-status=present]")
    p.wait_for_selector("#panel:not([hidden])")
    kinds = p.locator("#f-incident select[name=kind] option").evaluate_all("os => os.map(o => o.value)")
    if "whispering_or_signalling" in kinds:
        p.select_option("#f-incident select[name=kind]", "whispering_or_signalling")
    p.fill("#f-incident input[name=description]", "与邻座交头接耳，警告后仍继续")
    p.click("#f-incident button")
    p.click("#incident-yes")  # the confirmation step (issue #16)
    p.wait_for_selector("#p-msg.accepted, #p-msg.refusal")
    p.wait_for_timeout(500)
    s.save(p, "proctor-incident", top=False)
    p.click("#p-close")
    p.wait_for_timeout(300)
    s.save(p, "proctor-after-incident")
    p.goto(f"{s.url}/proctor/batches/{d.today}/records")
    s.save(p, "proctor-records")
    if d.older and s.visit(p, f"/proctor/batches/{d.older}/records"):
        if p.locator("#f-produce").count():
            p.fill("#f-produce textarea[name=remarks]", "考试秩序良好")
            p.click("#f-produce button")
            p.wait_for_load_state()
        if p.locator("#f-confirm").count():
            p.click("#f-confirm button")
            p.wait_for_load_state()
        s.save(p, "proctor-record")
    p.context.close()


def office_day(s: Shots, d: Demo) -> None:
    """The batch page as the office's day view, once the door is busy: each candidate's state at
    the door, and the search over the list (a name's first character finds a few)."""
    p = s.page("office")
    p.goto(f"{s.url}/office/batches/{d.today}")
    p.fill("#candidate-search", d.candidates[0]["name"][:1])
    p.locator("#candidates").scroll_into_view_if_needed()
    s.save(p, "office-batch-day", top=False)
    p.context.close()


def supervisor(s: Shots, d: Demo) -> None:
    p = s.page("supervisor1")
    p.goto(f"{s.url}/proctor/batches/{d.today}")
    p.wait_for_selector("#live[data-state=live]")
    areas = p.locator("#f-finding select[name=area] option").evaluate_all("os => os.map(o => o.value)")
    if "rooms_equipment" in areas:
        p.select_option("#f-finding select[name=area]", "rooms_equipment")
    p.fill("#f-finding input[name=text]", "T01 考场后方摄像头未接入录像，已告知考务办公室")
    p.click("#f-finding button")
    p.wait_for_selector("#finding-msg.accepted, #finding-msg.refusal")
    p.locator("#f-finding").scroll_into_view_if_needed()
    s.save(p, "supervisor-dashboard", top=False)
    p.goto(f"{s.url}/proctor/batches/{d.today}/supervision")
    s.save(p, "supervisor-findings")
    if d.older and s.visit(p, f"/proctor/batches/{d.older}/supervision") and p.locator("#f-report").count():
        for area in p.locator("#f-report textarea[required]").all():
            area.fill("符合要求")
        p.select_option("#f-report select[name=opinion]", "valid")
        p.locator("#f-report").scroll_into_view_if_needed()
        s.save(p, "supervisor-report", top=False)
    p.goto(s.url + "/office")  # not the supervisor's page: the refusal as a page (issue #16)
    s.save(p, "refusal-page")
    p.context.close()


def evaluators(s: Shots, d: Demo) -> None:
    panel = d.panel()
    if panel is None:
        raise RuntimeError("today's skill part has no panel: run the office journey first")
    try:
        admitted = open_skill_sitting(d)
    except RuntimeError as e:  # nobody at the skill part's door: no score can be signed
        print(f"evaluators: {e}", file=sys.stderr)
        admitted = []
    on_panel = [d.scorers[sid] for sid in panel["examiner_ids"]]
    examiner = next(u for u in on_panel if u not in d.chiefs)
    set_pins(d, [u for u in on_panel if u != examiner])
    p = s.page(examiner)
    p.goto(s.url + "/evaluate/pin")  # the PIN that signs every score (R-SCORE-1), set on the tablet
    if p.locator("input[name=old_pin]").count():  # scored the older batch: the PIN is being changed
        p.fill("input[name=old_pin]", PIN)
    p.fill("input[name=pin]", PIN)
    p.fill("input[name=pin_again]", PIN)
    p.click("form button[type=submit]")
    p.wait_for_selector("p.accepted, p.refusal")
    s.save(p, "evaluate-pin")
    p.goto(s.url + "/evaluate")
    s.save(p, "evaluate-home")
    p.goto(f"{s.url}/evaluate/{d.today}/skill")
    s.save(p, "evaluate-part")
    # One who came in at the skill sitting's door: the others answer candidate_not_admitted.
    links = [p.locator("table.worklist tbody tr", has_text=n).locator("a") for n in admitted]
    next((a for a in links if a.count()), p.locator("table.worklist a")).first.click()
    p.wait_for_selector("form input#pin")
    inputs = p.locator("input[id^=item-]")
    maxima = [float(inputs.nth(i).get_attribute("max")) for i in range(inputs.count())]
    for i, points in enumerate(split(83.5, [{"code": i, "max_points": m} for i, m in enumerate(maxima)]).values()):
        p.fill(f"#item-{i}", str(points))
    p.fill("#pin", PIN)
    s.save(p, "evaluate-entry")
    if admitted:
        p.click("#submit")
        p.wait_for_selector("#accepted, #refusal")
        s.save(p, "evaluate-signed")
    else:
        s.skipped.append("evaluate-signed (no candidate admitted to the skill part)")
    p.context.close()

    if admitted:
        with api(d.url, "office") as o:
            rows = o.get(f"/api/v1/batches/{d.today}/scores").json()["candidates"]
        target = next(
            r["id"]
            for r in reversed(rows)
            if r["parts"]["skill"]["status"] == "pending" and not r["parts"]["skill"]["entries"]
        )
        disagree(d, panel, target)
    chief = next(u for u in on_panel if u in d.chiefs)
    p = s.page(chief)
    p.goto(f"{s.url}/evaluate/{d.today}/arbitration")
    s.save(p, "evaluate-arbitration")
    if s.visit(p, f"/evaluate/{d.today}/results"):
        s.save(p, "evaluate-results")
    p.context.close()


def centre(s: Shots, d: Demo) -> None:
    for username, pages in (
        (
            "centre-jl",
            (("/", "centre-home"), ("/office", "centre-institutions"), ("/centre/reviews", "centre-reviews")),
        ),
        ("centre-jl", (("/centre/reports", "centre-reports"),)),
        (
            "root",
            (
                ("/", "root-home"),
                ("/office", "root-institutions"),
                ("/admin/institutions", "admin-institutions"),
                ("/admin/calendar", "admin-calendar"),
            ),
        ),
    ):
        p = s.page(username)
        for path, name in pages:
            if s.visit(p, path):
                s.save(p, name)
        p.context.close()


JOURNEYS: dict[str, Callable[[Shots, Demo], None]] = {
    "anonymous": anonymous,
    "office": office,
    "desk": desk,
    "proctor": proctor,
    "office_day": office_day,
    "supervisor": supervisor,
    "evaluators": evaluators,
    "centre": centre,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a demo already running (default: start a fresh one)")
    ap.add_argument("--out", type=Path, default=HERE / "img")
    ap.add_argument("--only", help="comma-separated journeys: " + ",".join(JOURNEYS))
    ap.add_argument("--size", default="1024x768", help="window size, WIDTHxHEIGHT")
    ap.add_argument("--start-timeout", type=float, default=600, help="seconds to wait for the demo to be seeded")
    ap.add_argument(
        "--china-time",
        metavar="HH:MM",
        help="the China time of day the fresh demo believes it is (needs libfaketime); "
        "by default 09:00 when it is evening or night in China and libfaketime is installed",
    )
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    chosen = args.only.split(",") if args.only else list(JOURNEYS)
    args.out.mkdir(parents=True, exist_ok=True)
    proc, tmp, clock = None, None, None
    began = time.monotonic()
    try:
        if args.url:
            url = args.url.rstrip("/")
        else:
            tmp = tempfile.TemporaryDirectory(prefix="examday-shots-")
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            china_time = china_time_wanted(args.china_time)
            told = f" at {china_time} China time" if china_time else ""
            print(f"seeding the demo in {tmp.name}{told}, serving on {url} …", flush=True)
            clock, proc = start_demo(Path(tmp.name), port, china_time)
        wait_healthy(url, proc, Path(tmp.name) / "demo.log" if tmp else None, args.start_timeout)
        demo = survey(url)
        demo.clock = clock
        from playwright.sync_api import sync_playwright

        failed = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            shots = Shots(browser, url, args.out, size)
            for name in chosen:
                try:
                    JOURNEYS[name](shots, demo)
                except Exception:
                    failed.append(name)
                    traceback.print_exc()
            browser.close()
        print(
            f"{len(shots.taken)} screenshots in {args.out} in {time.monotonic() - began:.0f} s: {', '.join(shots.taken)}"
        )
        if shots.skipped:
            print(f"shots skipped (their old pictures stay): {', '.join(shots.skipped)}")
        if failed:
            print(f"FAILED journeys: {', '.join(failed)}", file=sys.stderr)
            return 1
        return 0
    finally:
        if proc is not None:
            stop(proc)
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
