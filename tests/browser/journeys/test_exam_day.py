"""An exam day from plan to export, walked through the pages in headless Chromium.

The exam office files a plan and prints the tickets (R-PLAN-1, R-PLAN-4, R-SEAT-1); the
desk checks a candidate in (R-DAY-1, R-TIME-1, R-ID-1); the proctor sees the room live
and records an incident (R-DAY-3, R-DISC-1); three examiners score alone and sign, the
chief settles a spread and sees the result (R-SCORE-1, R-PANEL-1, R-SCORE-3); the office
publishes for 5 working days, hears an objection, locks and exports (R-PUB-1, R-PRIV-1);
the centre reviews the locked batch before any certificate, and the office's page shows
the reporting deadline (R-CERT-1, R-PUB-2).

Each step is a test; they run in this order on one story (see conftest.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import actor_of
from examday.clock import CST
from examday.identity import mask_id_number
from examday.plans.models import Candidate
from examday.plans.services.seating import seats_now
from tests import builders
from tests.browser.journeys.conftest import notice, sign_in
from tests.integration.examday.plans_world import csv_bytes
from tests.integration.examday.plans_world import person as candidate_person

pytestmark = pytest.mark.browser

# Five candidates: name and ID number as on the list the office imports.
PEOPLE = [candidate_person(k) for k in range(1, 6)]
# Theory from the exam system; each examiner's skill total; what the summary must say.
THEORY = ["85", "0", "72.5", "缺考", "90"]  # the second copied (the exam system voids the paper: 0)
SKILL = [(80, 82, 78), (70, 71, 69), (55, 58, 57), (65, 66, 64), (60, 75, 68)]  # the last spreads 15 > 10
SKILL_FINAL = ["80.0", "70.0", "56.7", "65.0", "67.7"]
RESULTS = ["pass", "fail", "fail", "absent", "pass"]
SCORERS = [("evaluator1", "1357"), ("evaluator2", "2468"), ("chief1", "3690")]
GREEN = "rgb(27, 127, 58)"


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=CST)


def items_of(total: int) -> list[str]:
    """A total split over the rubric A1 (20) / A2 (50) / A3 (30)."""
    a1, a2 = total // 5, total // 2
    return [str(a1), str(a2), str(total - a1 - a2)]


def test_1_office_files_the_plan_and_prints_tickets(story, person):
    page = person()
    page.goto(story.at("/"))
    sign_in(page, story, "office")
    page.click("a[href='/office/batches']")
    p, e = story.proctors, story.examiners
    assert "T01" in page.locator("details").text_content()  # the rooms and staff the form may name
    page.fill("input[name=occupation_code]", "6-31-01-03")
    page.select_option("select[name=level]", "4")
    page.fill("input[name=exam_date]", "2026-12-14")
    page.fill("input[name=theory_start]", "09:00")
    page.fill("input[name=theory_end]", "10:30")
    page.fill("input[name=theory_rooms]", "T01, T02")
    page.fill("input[name=theory_staff]", f"T01:{p[0]},{p[1]}; T02:{p[2]},{p[3]}")
    page.fill("input[name=skill_start]", "13:30")
    page.fill("input[name=skill_end]", "16:00")
    page.fill("input[name=skill_rooms]", "S01")
    page.fill("input[name=skill_staff]", f"S01:{e[0]},{e[1]},{e[2]}")  # the panel of three (R-PLAN-1)
    page.click("text=创建草稿")
    page.wait_for_url(re.compile(r"/office/batches/\d+$"))
    bid = int(page.url.rsplit("/", 1)[1])
    story.facts["bid"] = bid
    assert "草稿" in page.inner_text("#status")
    check = page.inner_text("#check")
    assert "R-PLAN-1" in check and "The plan has no candidates." in check

    names = story.folder / "考生名单.csv"
    names.write_bytes(csv_bytes(5))
    page.set_input_files("input[name=file]", str(names))
    page.click("form[action$='/candidates'] button")
    assert notice(page).startswith("已导入 5 名考生")
    rows = page.locator("table tbody tr").filter(has=page.locator("td.id"))
    assert rows.count() == 5
    tickets = {}
    for i in range(5):
        cells = rows.nth(i).locator("td").all_inner_texts()
        tickets[cells[1]] = cells[0]
        assert cells[2] in {idn for _, idn in PEOPLE}  # the office sees the numbers in full
    story.facts["tickets"] = [tickets[name] for name, _ in PEOPLE]
    assert "R-PLAN-4" in page.inner_text("#check")  # nobody reviewed the candidates yet

    page.click("text=待审核的 5 名考生均符合申报条件")
    assert notice(page).startswith("已完成申报条件审核")
    assert "全部检查通过" in page.inner_text("#check")
    page.click("text=报送认定计划")
    assert notice(page).startswith("认定计划已报送")
    assert "已报送" in page.inner_text("#status")

    page.click("#seating-link")
    page.fill("input[name=seed]", "20261214")
    page.click("text=编排座位并出具准考证")
    assert notice(page).startswith("座位已编排")
    assert page.inner_text("#seated") == "5"
    filled = [int(t.split("/")[0]) for t in page.locator(".room .fill").all_inner_texts()]
    assert sum(filled) == 5 and all(n <= 30 for n in filled)  # R-SEAT-1

    with page.expect_download(timeout=90_000) as got:  # the first PDF loads the CJK font
        page.click("a[href$='/tickets.pdf']")
    pdf = story.folder / "tickets.pdf"
    got.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Pages:\s+2$", info, re.M), info  # four tickets to an A4 page
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert all(t in text for t in story.facts["tickets"])
    else:
        assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 2

    with page.expect_response(lambda r: r.url.endswith("/rooms/T01/chart.png"), timeout=60_000) as chart:
        page.locator("a[href$='/rooms/T01/chart.png']").first.click()
    assert chart.value.status == 200 and chart.value.headers["content-type"] == "image/png"
    assert chart.value.body().startswith(b"\x89PNG")
    with Session(story.engine) as db:
        ids = {c.ticket_number: c.id for c in db.exec(select(Candidate).where(Candidate.batch_id == bid)).all()}
        seats = seats_now(db, bid)
    story.facts["ids"] = [ids[t] for t in story.facts["tickets"]]
    story.facts["seats"] = [seats[cid] for cid in story.facts["ids"]]


def _check_in(page, ticket: str, id_number: str) -> str:
    before = page.inner_text("#answer")
    page.fill("#ticket", ticket)
    page.fill("#id_number", id_number)
    page.click("#checkin button[type=submit]")
    expect(page.locator("#answer")).not_to_have_text(before, timeout=30_000)
    expect(page.locator("#ticket")).to_have_value("", timeout=30_000)  # the desk is ready for the next person
    return page.inner_text("#answer")


def test_2_the_desk_checks_a_candidate_in(story, person):
    f = story.facts
    in_t01 = sorted((seat, i) for i, (room, seat) in enumerate(f["seats"]) if room == "T01")
    assert len(in_t01) >= 2, f["seats"]
    f["a"], f["b"] = in_t01[0][1], in_t01[1][1]
    a, b = f["a"], f["b"]
    story.set_time(at(14, 8, 20))  # 40 minutes before the theory session
    page = person()
    page.goto(story.at("/desk"))
    sign_in(page, story, "kiosk1")
    page.wait_for_url(re.compile(r"/desk$"))
    page.select_option("#batch", str(f["bid"]))
    answer = _check_in(page, f["tickets"][a], PEOPLE[a][1])
    assert "入场时间未到" in answer and "Entry has not opened yet" in answer  # R-TIME-1

    story.set_time(at(14, 8, 35))
    answer = _check_in(page, f["tickets"][a], PEOPLE[a][1])
    room, seat = f["seats"][a]
    assert page.locator("#answer.ok").count() == 1
    assert "签到成功" in answer and f"考场 {room} · {seat} 号座位" in answer and f"Room {room}, seat {seat}" in answer
    assert mask_id_number(PEOPLE[a][1]) in answer and PEOPLE[a][1] not in answer  # R-PRIV-1

    # Someone else's (valid) number against B's ticket: refused, in Chinese and English.
    answer = _check_in(page, f["tickets"][b], candidate_person(99)[1])
    assert page.locator("#answer.no").count() == 1
    assert "身份证号与准考证不符" in answer and "The ID number does not match the ticket" in answer
    assert "id_mismatch" in answer and "R-ID-1" in answer


def test_3_the_proctor_sees_the_room_live_and_records_an_incident(story, person):
    f = story.facts
    a, b = f["a"], f["b"]
    page = person()
    page.goto(story.at("/"))
    sign_in(page, story, "proctor1")
    page.click("a[href='/proctor']")
    page.click(f"a[href='/proctor/batches/{f['bid']}']")
    page.wait_for_selector("#live[data-state=live]")
    assert page.locator(".tile").count() == 1  # proctor1 watches T01 only

    def seat(i: int):
        return page.locator(f'.seat[data-room="T01"][data-seat="{f["seats"][i][1]}"]')

    assert seat(a).get_attribute("data-status") == "present"
    assert seat(a).evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
    assert seat(b).get_attribute("data-status") == "expected"

    desk = person()
    desk.goto(story.at("/desk"))
    sign_in(desk, story, "kiosk1")
    desk.select_option("#batch", str(f["bid"]))
    assert "签到成功" in _check_in(desk, f["tickets"][b], PEOPLE[b][1])
    # The proctor's page turns the seat green by itself, without a reload.
    page.wait_for_selector(f'.seat[data-room="T01"][data-seat="{f["seats"][b][1]}"][data-status="present"]')
    assert page.inner_text('.tile[data-room="T01"] [data-count="present"]') == "2"

    story.set_time(at(14, 9, 10))  # the paper is being written
    seat(b).click()
    page.select_option("#f-incident select[name=kind]", "copying")
    page.fill("#f-incident input[name=description]", "抄袭邻座答案")
    page.click("#f-incident button")
    page.wait_for_selector("#p-msg.accepted")
    page.wait_for_selector(f'.seat[data-room="T01"][data-seat="{f["seats"][b][1]}"][data-status="incident"]')
    listed = page.inner_text('.tile[data-room="T01"] .incidents')
    assert "抄袭他人答案" in listed and f["tickets"][b] in listed  # R-DISC-1
    assert page.inner_text('.tile[data-room="T01"] [data-count="incidents"]') == "1"


def _scores_page(page, story) -> None:
    page.goto(story.at(f"/office/batches/{story.facts['bid']}"))
    if "/login" in page.url:
        sign_in(page, story, "office")
    page.click("#scores-link")
    page.wait_for_url(re.compile(r"/scores$"))


def _cell(page, i: int, part: str) -> str:
    return page.inner_text(f"#scores tr[data-candidate='{i}'] td[data-part='{part}']").split()[0]


def _the_rest_came_through_the_door(story) -> None:
    """Arranged, as a person could not do it in the time: the candidates the desk did not check in
    came in at the door of each part (R-ID-1), but the fourth missed the theory part (缺考)."""
    f = story.facts
    ids = f["ids"]
    theory = [cid for i, cid in enumerate(ids) if i not in (3, f["a"], f["b"])]
    with Session(story.engine) as db:
        office = actor_of(db.exec(select(Account).where(Account.username == "office")).one())
        builders.admit(db, office, f["bid"], theory, ("theory",))
        builders.admit(db, office, f["bid"], ids, ("skill",))


def _verdicts(f) -> tuple[list[str], list[str]]:
    """The theory cells and results once the copier's incident (tier b) applies: that part is
    treated as cheating, whatever the exam system's file says (R-DISC-1)."""
    cells = ["85.0", "0.0", "72.5", "缺考", "90.0"]
    return (
        ["作弊" if i == f["b"] else c for i, c in enumerate(cells)],
        ["cheating" if i == f["b"] else r for i, r in enumerate(RESULTS)],
    )


def test_4_three_examiners_score_and_the_chief_sees_the_result(story, person):
    f = story.facts
    ids, e = f["ids"], story.examiners
    story.set_time(at(14, 16, 10))  # the skill session is over
    _the_rest_came_through_the_door(story)
    theory_cells, results = _verdicts(f)
    office = person()
    _scores_page(office, story)
    office.select_option("#f-rubric select[name=part]", "skill")
    office.fill("#f-rubric textarea[name=items]", "A1,操作准备,20\nA2,操作过程,50\nA3,安全文明生产,30")
    office.click("#f-rubric button")
    assert notice(office).startswith("评分细则已保存")
    assert "A1 操作准备 20" in office.inner_text("#setup tr[data-part='skill'] .rubric")
    office.select_option("#f-panel select[name=part]", "skill")
    for sid in e[:3]:
        office.check(f"#f-panel input[name=examiner][value='{sid}']")
    office.select_option("#f-panel select[name=chief]", str(e[2]))
    office.click("#f-panel button")
    assert notice(office).startswith("考评组已组建")
    assert "主考 chief" in office.inner_text("#setup tr[data-part='skill'] .panel")
    theory = story.folder / "理论成绩.csv"
    theory.write_text("准考证号,成绩\n" + "".join(f"{t},{s}\n" for t, s in zip(f["tickets"], THEORY)), encoding="utf-8")
    office.set_input_files("#theory input[name=file]", str(theory))
    office.click("#theory button")
    assert notice(office).startswith("理论成绩已导入")
    # R-SCORE-3: a draft until the panel's chief countersigns it with the PIN (below).
    assert office.get_attribute("#theory-versions tr[data-version='1']", "data-state") == "draft"

    for n, (username, pin) in enumerate(SCORERS):
        tablet = person()
        tablet.goto(story.at("/evaluate"))
        sign_in(tablet, story, username)
        tablet.click("a[href='/evaluate/pin']")
        tablet.fill("input[name=pin]", pin)
        tablet.fill("input[name=pin_again]", pin)
        tablet.click("button[type=submit]")
        assert notice(tablet).startswith("签名密码已设置")
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/skill']")
        for i, cid in enumerate(ids):
            row = tablet.locator(f"tr[data-candidate='{cid}']")
            assert row.locator("td").nth(2).inner_text() == "—"  # R-SCORE-1: no colleague's score shows
            row.locator("a").click()
            for k, points in enumerate(items_of(SKILL[i][n])):
                tablet.fill(f"#item-{k}", points)
            tablet.fill("#pin", pin)
            tablet.click("#submit")
            assert "评分已接受并签名" in tablet.inner_text("#accepted")
            assert tablet.inner_text("#accepted-total") == f"{SKILL[i][n]:.1f}"
            tablet.click("#next")
        if username != "chief1":
            continue
        # R-SCORE-3: the chief countersigns the office's theory import; only now is it the scores.
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/theory-scores']")
        tablet.fill("#theory-v1 input[name=pin]", pin)
        tablet.click("#theory-v1 button")
        assert "第1版已签认" in tablet.inner_text("#theory-signed")
        # The chief was last in: the spread of 15 on the fifth candidate waits for arbitration.
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/arbitration']")
        item = tablet.locator("section.card", has_text=f["tickets"][4])
        assert "分差超过允许范围" in item.inner_text() and "75" in item.inner_text()
        item.locator("select[name=action]").select_option("accept")
        item.locator("textarea[name=reason]").fill("三位考评员均判合格，分差来自A2项的理解不同，复核后维持")
        item.locator("button[type=submit]").click()
        assert "已确定" in notice(tablet)
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/results']")
        assert [_cell(tablet, cid, "skill") for cid in ids] == SKILL_FINAL
        got = [tablet.get_attribute(f"#scores tr[data-candidate='{cid}'] .result", "data-result") for cid in ids]
        assert got == results
        assert PEOPLE[0][1] not in tablet.content()  # the chief sees masked numbers (R-PRIV-1)
    office.reload()
    assert [_cell(office, cid, "skill") for cid in ids] == SKILL_FINAL
    assert [_cell(office, cid, "theory") for cid in ids] == theory_cells


def test_5_the_office_publishes_hears_an_objection_locks_and_exports(story, person):
    f = story.facts
    ids = f["ids"]
    story.set_time(at(15, 8, 30))  # Tuesday morning: today counts as the first day of publicity
    page = person()
    _scores_page(page, story)
    page.click("text=公示成绩")
    assert notice(page).startswith("成绩已公示")
    # R-PUB-1: 5 working days from Tue 15 December is Mon 21 December; the lock from the 22nd.
    assert page.inner_text("#pub-window") == "2026-12-15 至 2026-12-21"
    assert page.inner_text("#lock-from") == "2026-12-22"

    page.click("#public-link")
    public = page.inner_text("#results")
    assert all(mask_id_number(idn) in public and idn not in public for _, idn in PEOPLE)  # R-PRIV-1
    assert all(name not in public for name, _ in PEOPLE if len(name) > 1)
    assert "合格" in public and "缺考" in public and "67.7" in public
    page.go_back()

    page.select_option("#f-objection select[name=candidate_id]", str(ids[2]))
    page.select_option("#f-objection select[name=part]", "skill")
    page.fill("#f-objection input[name=reason]", "对技能操作成绩有异议，申请复核")
    page.fill("#f-objection input[name=raised_by]", "考生本人")
    page.click("#f-objection button")
    assert notice(page).startswith("异议已登记")
    page.click("text=锁定并封存成绩")
    refusal = page.inner_text("#refusal")
    assert "2026-12-22起方可锁定" in refusal and "can lock from 2026-12-22" in refusal
    assert "异议未处理" in refusal  # every reason at once

    story.set_time(at(22, 9, 0))  # five working days later
    _scores_page(page, story)  # the session of a week ago has expired: signed in again
    assert "公示期已结束" in page.inner_text("#lock")
    page.click("text=锁定并封存成绩")
    assert page.get_attribute("#refusal", "data-code") == "objection_open"
    row = page.locator("#objections tr[data-status='open']")
    row.locator("select[name=decision]").select_option("rejected")
    row.locator("input[name=reason]").fill("复核评分记录与签名，评分无误")
    row.locator("button").click()
    assert notice(page).startswith("异议已处理")
    assert page.locator("#objections tr[data-status='rejected']").count() == 1
    page.click("text=锁定并封存成绩")
    assert notice(page).startswith("批次已锁定封存")
    assert page.get_attribute("#status", "data-status") == "locked"
    digest = page.inner_text("#seal-digest").split()[-1]

    with page.expect_download(timeout=60_000) as got:
        page.click("a[href$='/results.xlsx']")
    xlsx = story.folder / got.value.suggested_filename
    got.value.save_as(xlsx)
    sheet = load_workbook(xlsx).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("序号", "准考证号", "姓名", "身份证号")
    body = [r for r in rows[2:] if r and r[1] in f["tickets"]]
    assert [r[1] for r in body] == f["tickets"]
    want_results = {"pass": "合格", "fail": "不合格", "absent": "缺考", "cheating": "按作弊处理"}
    theory_cells, results = _verdicts(f)
    for r, (name, idn), theory, skill, result in zip(body, PEOPLE, theory_cells, SKILL_FINAL, results):
        assert (r[2], r[3]) == (name, idn)  # the office's export carries full numbers
        assert r[4] == theory if theory in ("缺考", "作弊") else Decimal(str(r[4])) == Decimal(theory)
        assert Decimal(str(r[5])) == Decimal(skill)
        assert r[6] == want_results[result]
    assert any(r and r[0] == "摘要 digest (sha256)" and r[1] == digest for r in rows)


def test_6_the_centre_reviews_and_the_office_issues_certificates(story, person):
    """R-CERT-1: certificates only after the centre's review (复核); R-PUB-2: the reporting deadline shows."""
    from examday.accounts.services.accounts import create_account
    from examday.actor import SYSTEM
    from examday.errors import Refusal
    from scoring.services import certificates as certificates_service
    from scoring.services import review as review_service

    bid = story.facts["bid"]
    page = person()
    _scores_page(page, story)
    assert page.get_attribute("#review", "data-state") == "awaiting"
    now = story.clock.now()
    with Session(story.engine, expire_on_commit=False) as db:
        office = actor_of(db.exec(select(Account).where(Account.username == "office")).one())
        with pytest.raises(Refusal) as refused:  # nothing issued before the review
            certificates_service.issue_certificates(
                db, office, now, bid, kind="Y", institution_code="0000", site_serial="000012"
            )
        db.rollback()
        assert refused.value.code == "review_pending"
        # The centre of 吉林 (the institution's province) approves, as its API call would.
        centre = actor_of(
            create_account(db, SYSTEM, now, story.app.state.passwords, "centre-jl", "centre", None, "吉林")
        )
        review_service.review_batch(db, centre, now, bid, "approve", [])
        issued = certificates_service.issue_certificates(
            db, office, now, bid, kind="Y", institution_code="0000", site_serial="000012"
        )
        db.commit()
    page.reload()
    assert page.get_attribute("#review", "data-state") == "approved"
    assert page.inner_text("#reporting-deadline") == issued["reporting_deadline"]
    assert page.inner_text("#issue-date") == issued["issue_date"]
