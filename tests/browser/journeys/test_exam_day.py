"""An exam day from plan to scores, walked through the pages in headless Chromium.

The installation's administrator sets the exam site's address and enters next year's holiday
notice (R-CAL); the exam office files a plan, prints the tickets with that address and sees the
room's seating chart (R-PLAN-1, R-PLAN-4, R-SEAT-1); the desk checks candidates in, at the
door of each part (R-DAY-1, R-TIME-1, R-ID-1); the proctor sees the room live and records an
incident of each tier — (a) leaving without leave, (b) copying, (c) using an electronic
device — on three candidates and produces the exam-room record (R-DAY-3, R-DISC-1), which the
office's exam-day view shows; one candidate never comes (缺考, R-ID-1); three examiners score
alone and sign, the chief settles a spread and sees the results with each tier applied
(R-SCORE-1, R-PANEL-1, R-SCORE-3); the quality supervisor notes a finding and files the
supervision report (R-SUP-1). ``test_exam_day_review.py`` goes on with the same day:
publicity, lock, export, the centre's review and the archive.

Each step is a test; they run in this order on one story (see conftest.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from examday.identity import mask_id_number
from examday.plans.models import Candidate, ExamSession
from examday.plans.services.seating import seats_now
from tests.browser.journeys.conftest import START, notice, sign_in
from tests.browser.journeys.day import (
    INCIDENT_WORDS,
    PEOPLE,
    SCORERS,
    at,
    cast,
    cell,
    items_of,
    profiles,
    scores_page,
)
from tests.integration.examday.plans_world import csv_bytes
from tests.integration.examday.plans_world import person as candidate_person

pytestmark = pytest.mark.browser
GREEN = "rgb(27, 127, 58)"


ADDRESS = "长春市人民大街1号"
# Next year's notice as the administrator types it: days off, a run as FROM~TO, and a weekend worked.
NOTICE_2027 = ("2027-01-01\n2027-02-08~2027-02-12", "2027-02-20")


def test_0_the_installation_admin_sets_the_site_and_the_calendar(story, person):
    """R-CAL, issue #16: the installation's administrator (系统管理员) on their own pages."""
    year = START.year + 1
    page = person()
    page.goto(story.at("/"))
    sign_in(page, story, "root")
    row = page.locator("#institutions tbody tr", has_text="示范职业技能评价中心")
    assert "有效" in row.inner_text()  # the filing's state, in words
    assert str(year) in page.inner_text("#notices .warn")  # next year is provisional until entered

    page.click("a[href='/admin/institutions']")
    page.locator(f"#inst-{story.institution_id} + tr.inst-actions summary").click()
    form = page.locator(f"form[action='/admin/institutions/{story.institution_id}/address']")
    form.locator("input[name=address]").fill(ADDRESS)
    form.locator("button").click()
    assert notice(page).startswith("考点地址已更新")
    assert ADDRESS in page.inner_text(f"#inst-{story.institution_id}")

    page.click("a[href='/admin/calendar']")
    assert "暂定日历" in page.inner_text(f"#year-{year}")
    page.fill("#enter input[name=year]", str(year))
    page.fill("#enter textarea[name=holidays]", NOTICE_2027[0])
    page.fill("#enter textarea[name=workdays]", NOTICE_2027[1])
    page.click("#enter button")
    assert notice(page).startswith("放假通知已录入")
    entered = page.inner_text(f"#year-{year}")
    assert "已录入放假通知" in entered and "2027-02-10" in entered and "2027-02-20" in entered
    page.click("a[href='/']")
    assert page.locator("#notices .warn").count() == 0 and f"{year} 年" in page.inner_text("#notices")


def test_1_office_files_the_plan_and_prints_tickets(story, person):
    page = person()
    page.goto(story.at("/"))
    sign_in(page, story, "office")
    page.click("a[href='/office/batches']")
    p, e = story.proctors, story.examiners
    assert "T01" in page.locator("#batch-form").text_content()  # the rooms and staff the form may name
    page.select_option("select[name=occupation]", "6-31-01-03|")  # from the filed scope (no work type)
    page.select_option("select[name=level]", "4")  # 四级 / 中级工
    page.fill("input[name=exam_date]", "2026-12-14")
    page.fill("input[name=s0_start]", "09:00")
    page.fill("input[name=s0_end]", "10:30")
    for room, staff in (("T01", p[:2]), ("T02", p[2:4])):  # staff picked by name per room
        page.check(f"input[name=s0_rooms][value={room}]")
        for sid in staff:
            page.check(f"input[name=s0_staff][value='{room}:{sid}']")
    page.fill("input[name=s1_start]", "13:30")
    page.fill("input[name=s1_end]", "16:00")
    page.check("input[name=s1_rooms][value=S01]")
    for sid in e[:3]:  # the panel of three (R-PLAN-1)
        page.check(f"input[name=s1_staff][value='S01:{sid}']")
    page.click("text=创建草稿")
    page.wait_for_url(re.compile(r"/office/batches/\d+$"))
    bid = int(page.url.rsplit("/", 1)[1])
    story.facts["bid"] = bid
    assert "草稿" in page.inner_text("#status")
    check = page.inner_text("#check")
    assert "R-PLAN-1" in check and "The plan has no candidates." in check

    n = len(PEOPLE)
    names = story.folder / "考生名单.csv"
    names.write_bytes(csv_bytes(n))
    page.set_input_files("input[name=file]", str(names))
    page.click("form[action$='/candidates'] button")
    assert notice(page).startswith(f"已导入 {n} 名考生")
    rows = page.locator("table tbody tr").filter(has=page.locator("td.id"))
    assert rows.count() == n
    tickets = {}
    for i in range(n):
        cells = rows.nth(i).locator("td").all_inner_texts()
        tickets[cells[1]] = cells[0]
        assert cells[2] in {idn for _, idn in PEOPLE}  # the office sees the numbers in full
    story.facts["tickets"] = [tickets[name] for name, _ in PEOPLE]
    assert "R-PLAN-4" in page.inner_text("#check")  # nobody reviewed the candidates yet

    page.click(f"text=待审核的 {n} 名考生均符合申报条件")
    assert notice(page).startswith("已完成申报条件审核")
    assert "全部检查通过" in page.inner_text("#check")
    page.click("text=报送认定计划")
    assert notice(page).startswith("认定计划已报送")
    assert "已报送" in page.inner_text("#status")

    page.click("#seating-link")
    page.fill("input[name=seed]", "20261214")
    page.click("text=编排座位并出具准考证")
    assert notice(page).startswith("座位已编排")
    assert page.inner_text("#seated") == str(n)
    filled = [int(t.split("/")[0]) for t in page.locator(".room .fill").all_inner_texts()]
    assert sum(filled) == n and all(k <= 30 for k in filled)  # R-SEAT-1
    # The skill part's workstations, drawn by lot before the tickets print them (R-SEAT-1): the
    # desk checks a candidate in for the skill part at their own sitting only.
    page.fill("#stations form input[name=seed]", "20261214")
    page.click("#stations form button")
    assert notice(page).startswith("技能工位已抽签")
    assert page.locator("#sittings tr.sitting td").nth(2).inner_text() == f"{n} / 10"

    page.click("#print-tickets button")  # drawn in the background: the page shows the count, then the link
    page.wait_for_selector("#pdf-link", timeout=90_000)  # the first PDF loads the CJK font
    with page.expect_download(timeout=90_000) as got:
        page.click("#pdf-link")
    pdf = story.folder / "tickets.pdf"
    got.value.save_as(pdf)
    page.click("a[href$='/seating']")
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Pages:\s+2$", info, re.M), info  # four tickets to an A4 page
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert all(t in text for t in story.facts["tickets"])
        assert ADDRESS in text  # the site's address the installation's administrator set (issue #16)
    else:
        assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 2

    # The seating page shows each room's chart, the picture its link opens (a person looks, prints).
    href = page.locator("a[href$='/rooms/T01/chart.png']").first.get_attribute("href")
    chart = page.locator(f"#rooms .charts img[src='{href}']")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    width, height = chart.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > 300 and height > 300, (width, height)  # a chart drawn to print, not a broken-image icon
    with Session(story.engine) as db:
        ids = {c.ticket_number: c.id for c in db.exec(select(Candidate).where(Candidate.batch_id == bid)).all()}
        seats = seats_now(db, bid)
        sessions = db.exec(select(ExamSession).where(ExamSession.batch_id == bid).order_by(col(ExamSession.id))).all()
    story.facts["ids"] = [ids[t] for t in story.facts["tickets"]]
    story.facts["seats"] = [seats[cid] for cid in story.facts["ids"]]
    story.facts["sessions"] = {s.part: s.id for s in sessions}
    story.facts["role"] = cast(story.facts["seats"])  # who does what on the day (day.py)


def _check_in(page, ticket: str, id_number: str) -> str:
    before = page.inner_text("#answer")
    page.fill("#ticket", ticket)
    page.fill("#id_number", id_number)
    page.click("#checkin button[type=submit]")
    expect(page.locator("#answer")).not_to_have_text(before, timeout=30_000)
    # The desk is ready for the next person; after a refusal it keeps the ticket number (issue #16).
    expect(page.locator("#id_number")).to_have_value("", timeout=30_000)
    return page.inner_text("#answer")


def test_2_the_desk_checks_a_candidate_in(story, person):
    f = story.facts
    f["a"], f["b"] = f["role"]["a"], f["role"]["b"]  # the first two seats of T01
    a, b = f["a"], f["b"]
    story.set_time(at(14, 8, 20))  # 40 minutes before the theory session
    page = _desk(story, person)
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


def _record_incident(page, story, i: int, when, description: str) -> None:
    """The proctor taps the candidate's seat and records an incident of their profile's kind (R-DISC-1)."""
    f = story.facts
    kind = profiles(f)[i].incident
    assert kind is not None
    story.set_time(when)
    page.click(f'.seat[data-room="T01"][data-seat="{f["seats"][i][1]}"]')
    page.select_option("#f-incident select[name=kind]", kind)
    page.fill("#f-incident input[name=description]", description)
    page.click("#f-incident button")
    page.click("#incident-yes")  # the confirmation step (issue #16)
    page.wait_for_selector("#p-msg.accepted")
    page.wait_for_selector(f'.seat[data-room="T01"][data-seat="{f["seats"][i][1]}"][data-status="incident"]')
    # The tile lists it in words: the ticket, the kind, what its tier does, and the proctor's description.
    item = page.locator('.tile[data-room="T01"] .incidents li', has_text=f["tickets"][i])
    listed = item.inner_text()
    assert INCIDENT_WORDS[kind][0] in listed and INCIDENT_WORDS[kind][2].removeprefix("违纪：") in listed
    assert item.locator(".desc").inner_text() == description
    page.click("#p-close")  # the panel covers the lower seats


def test_3_the_proctor_sees_the_room_live_and_records_an_incident_of_each_tier(story, person):
    f = story.facts
    a, b, v, c = (f["role"][r] for r in ("a", "b", "v", "c"))
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

    desk = _desk(story, person)
    for i in (b, v, c):
        assert "签到成功" in _check_in(desk, f["tickets"][i], PEOPLE[i][1])
    # T02's three come through the same door; its fourth never comes (缺考, R-ID-1).
    for r in ("f", "s", "p"):
        i = f["role"][r]
        assert f"考场 T02 · {f['seats'][i][1]} 号座位" in _check_in(desk, f["tickets"][i], PEOPLE[i][1])
    # The proctor's page turns the seats green by themselves, without a reload.
    page.wait_for_selector(f'.seat[data-room="T01"][data-seat="{f["seats"][b][1]}"][data-status="present"]')
    expect(page.locator('.tile[data-room="T01"] [data-count="present"]')).to_have_text("4")

    # The paper is being written: one incident of each tier, on three candidates (R-DISC-1).
    _record_incident(page, story, b, at(14, 9, 10), "抄袭邻座答案")  # (b)
    _record_incident(page, story, v, at(14, 9, 40), "未经监考员许可离开考场约十分钟")  # (a)
    _record_incident(page, story, c, at(14, 9, 50), "考试中使用手机查询答案")  # (c)
    assert page.inner_text('.tile[data-room="T01"] [data-count="incidents"]') == "3"
    _the_office_sees_the_day(story, person)

    # After the session the proctor produces the exam-room record (考场记录表, R-DAY-3) on its
    # page, reads it and confirms it under their own account (R-STAFF-4); it goes to the batch's
    # archive (R-ARCH-1).
    story.set_time(at(14, 10, 35))
    page.click("#records-link")
    page.click(f'#pairs a[data-session="{f["sessions"]["theory"]}"][data-room="T01"]')
    page.fill("#f-produce textarea[name=remarks]", "三起违纪，已当场处理")
    page.click("#f-produce button")
    expect(page.locator("#notice")).to_contain_text("考场记录表已生成")
    incidents = page.inner_text("#incidents")
    for kind in ("copying", "leaving_without_leave", "using_electronic_device"):
        assert INCIDENT_WORDS[kind][0] in incidents
    assert "抄袭邻座答案" in incidents and page.inner_text("#remarks") == "三起违纪，已当场处理"
    page.click("#f-confirm button")
    expect(page.locator("#notice")).to_contain_text("已确认")
    assert page.locator("#confirmations li").count() == 1


def _desk(story, person):
    """The check-in desk (签到台) on its own device, signed in, the day's batch chosen."""
    desk = person()
    desk.goto(story.at("/desk"))
    sign_in(desk, story, "kiosk1")
    desk.wait_for_url(re.compile(r"/desk$"))
    desk.select_option("#batch", str(story.facts["bid"]))
    return desk


def _the_office_sees_the_day(story, person) -> None:
    """The office's exam-day view (issue #16): today's batch on its home page, with its links; on the
    batch page who came and the incidents' tiers (R-DISC-1); the live rooms with each incident's words."""
    f = story.facts
    office = person()
    office.goto(story.at("/"))
    sign_in(office, story, "office")
    today = office.locator(f"#today-batch-{f['bid']}")
    today.locator(f"a[href='/office/batches/{f['bid']}']").click()
    tally = office.inner_text("#day-tally")
    assert "已签到 7" in tally and "缺考 1" in tally and "违纪 3" in tally, tally  # the entry closed at 09:15
    for r in ("b", "v", "c"):
        i = f["role"][r]
        row = office.locator("#candidate-table tbody tr", has_text=f["tickets"][i])
        assert INCIDENT_WORDS[profiles(f)[i].incident][2] in row.locator("td.day").inner_text()
    office.fill("#candidate-search", f["tickets"][f["role"]["x"]])  # who is the one missing?
    shown = office.locator("#candidate-table tbody tr[data-search]:visible")
    expect(shown).to_have_count(1)
    assert "缺考" in shown.locator("td.day").inner_text()
    office.go_back()
    office.locator(f"#today-batch-{f['bid']} a[href='/proctor/batches/{f['bid']}']").click()
    office.wait_for_selector("#live[data-state=live]")
    assert office.locator(".tile").count() == 2  # the office sees every room
    listed = office.inner_text('.tile[data-room="T01"] .incidents')
    assert all(words in listed for words in ("抄袭邻座答案", "考试中使用手机查询答案", "该科目按作弊处理"))


def _skill_check_in(story, person) -> None:
    """The skill part's door (R-ID-1): everyone who sat the theory but the one sent home (tier c)."""
    f = story.facts
    story.set_time(at(14, 13, 10))  # 20 minutes before the skill session
    desk = _desk(story, person)
    for r in ("a", "b", "v", "f", "s", "p"):
        i = f["role"][r]
        assert "签到成功" in _check_in(desk, f["tickets"][i], PEOPLE[i][1]), r


def test_4_three_examiners_score_and_the_chief_sees_the_result(story, person):
    f = story.facts
    ids, e = f["ids"], story.examiners
    day = profiles(f)
    _skill_check_in(story, person)
    story.set_time(at(14, 16, 10))  # the skill session is over
    office = person()
    scores_page(office, story)
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
    lines = "".join(f"{t},{p.theory}\n" for t, p in zip(f["tickets"], day))
    theory.write_text("准考证号,成绩\n" + lines, encoding="utf-8")
    office.set_input_files("#theory input[name=file]", str(theory))
    office.click("#theory button")
    assert notice(office).startswith("理论成绩已导入")
    # R-SCORE-3: a draft until the panel's chief countersigns it with the PIN (below).
    assert office.get_attribute("#theory-versions tr[data-version='1']", "data-state") == "draft"

    no_show = ids[f["role"]["x"]]
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
        if n == 0:  # R-ID-1: nobody scores the no-show, who never came in
            tablet.locator(f"tr[data-candidate='{no_show}'] a").click()
            for k, points in enumerate(items_of(60)):
                tablet.fill(f"#item-{k}", points)
            tablet.fill("#pin", pin)
            tablet.click("#submit")
            assert "未入场参加本科目考试（缺考）" in tablet.inner_text("#refusal")
            tablet.click("a[href='/evaluate/" + str(f["bid"]) + "/skill']")
        for cid, profile in zip(ids, day):
            if profile.skill is None:
                continue
            row = tablet.locator(f"tr[data-candidate='{cid}']")
            assert row.locator("td").nth(2).inner_text() == "—"  # R-SCORE-1: no colleague's score shows
            row.locator("a").click()
            for k, points in enumerate(items_of(profile.skill[n])):
                tablet.fill(f"#item-{k}", points)
            tablet.fill("#pin", pin)
            tablet.click("#submit")
            assert "评分已接受并签名" in tablet.inner_text("#accepted")
            assert tablet.inner_text("#accepted-total") == f"{profile.skill[n]:.1f}"
            tablet.click("#next")
        if username != "chief1":
            continue
        # R-SCORE-3: the chief countersigns the office's theory import; only now is it the scores.
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/theory-scores']")
        tablet.fill("#theory-v1 input[name=pin]", pin)
        tablet.click("#theory-v1 button")
        assert "第1版已签认" in tablet.inner_text("#theory-signed")
        # The chief was last in: the spread of 15 waits for arbitration.
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/arbitration']")
        item = tablet.locator("section.card", has_text=f["tickets"][f["role"]["s"]])
        assert "分差超过允许范围" in item.inner_text() and "75" in item.inner_text()
        item.locator("select[name=action]").select_option("accept")
        item.locator("textarea[name=reason]").fill("三位考评员均判合格，分差来自A2项的理解不同，复核后维持")
        item.locator("button[type=submit]").click()
        assert "已确定" in notice(tablet)
        tablet.click("a[href='/evaluate']")
        tablet.click(f"a[href='/evaluate/{f['bid']}/results']")
        # R-DISC-1, R-ID-1: each tier applied on its own, the no-show absent from both parts.
        assert [cell(tablet, cid, "skill") for cid in ids] == [p.skill_cell for p in day]
        assert [cell(tablet, cid, "theory") for cid in ids] == [p.theory_cell for p in day]
        got = [tablet.get_attribute(f"#scores tr[data-candidate='{cid}'] .result", "data-result") for cid in ids]
        assert got == [p.result for p in day]
        assert PEOPLE[0][1] not in tablet.content()  # the chief sees masked numbers (R-PRIV-1)
    office.reload()
    assert [cell(office, cid, "skill") for cid in ids] == [p.skill_cell for p in day]
    assert [cell(office, cid, "theory") for cid in ids] == [p.theory_cell for p in day]
    for role, words in (("b", "按作弊处理"), ("v", "该科目成绩无效"), ("c", "各科目成绩均无效"), ("x", "缺考")):
        reason = office.inner_text(f"#scores tr[data-candidate='{ids[f['role'][role]]}'] .result")
        assert words in reason, (role, reason)


REPORT = {
    "organisation": "考务组织有序，签到、入场与考场记录均按规定进行",
    "eligibility": "抽查考生申报材料，均符合申报条件",
    "questions_examiners": "三名考评员独立评分并签名，分差超限一例由考评组长仲裁",
    "rooms_equipment": "理论考场 T01、T02 与技能考场 S01 设备完好，录像正常",
    "fees": "按备案标准收费，无额外收费",
}


def test_5_the_supervisor_notes_a_finding_and_files_the_report(story, person):
    """R-SUP-1: the quality supervisor (质量督导员) notes what they saw and, once the exam is over,
    files the supervision report — due within 3 working days — which goes to the batch's archive."""
    f = story.facts
    story.set_time(at(14, 16, 20))
    page = person()
    page.goto(story.at("/"))
    sign_in(page, story, "supervisor1")
    page.click("a[href='/proctor']")
    page.click(f"a[href='/proctor/batches/{f['bid']}/supervision']")
    assert page.inner_text("#deadline-date") == "2026-12-17"  # Monday 14th + 3 working days
    page.select_option("#f-note select[name=area]", "rooms_equipment")
    page.fill("#f-note textarea[name=text]", "技能考场 S01 第3工位照明偏暗，已告知考务办公室")
    page.click("#f-note button")
    listed = page.inner_text("#finding-list")
    assert "考场与设备" in listed and "第3工位照明偏暗" in listed
    for area, text in REPORT.items():
        page.fill(f"#f-report textarea[name={area}]", text)
    page.select_option("#f-report select[name=opinion]", "valid")
    page.click("#f-report button")
    expect(page.locator("#notice")).to_contain_text("督导报告已提交并存档")
    assert "已按时提交" in page.inner_text("#report-state")
    assert page.inner_text("#opinion").startswith("本批次有效")
