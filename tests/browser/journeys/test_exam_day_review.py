"""The same exam day, after the scores (``test_exam_day.py`` ran its first steps on this story).

The office publishes for 5 working days, hears an objection, locks and exports, and the results,
the public page and the export say why a part is void, cheating or absent (R-PUB-1, R-PRIV-1,
R-DISC-1, R-ID-1); the centre of the province signs in, is told of the tier (b) and (c)
incidents, returns the batch with a reason and then approves it on its review page — only then
may certificates be issued, and the centre marks the reported data received (R-CERT-1,
R-PUB-2); the office opens the batch's archive: the sign-in sheets, the exam-room record, the
supervision report, the score summary, the seal and the results export, each with its retention
class (R-ARCH-1, R-DAY-3, R-SUP-1).

Each step is a test; they run in this order on one story (see conftest.py).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from examday.identity import mask_id_number
from tests.browser.journeys.conftest import notice, sign_in
from tests.browser.journeys.day import ABSENT_WORDS, INCIDENT_WORDS, PEOPLE, at, profiles, scores_page

pytestmark = pytest.mark.browser
RESULT_ZH = {"pass": "合格", "fail": "不合格", "absent": "缺考", "cheating": "按作弊处理", "void": "成绩无效"}
# Why a result is what it is, as the results, the public page and the export say it.
REASONS = {
    "b": INCIDENT_WORDS["copying"][2],
    "v": INCIDENT_WORDS["leaving_without_leave"][2],
    "c": INCIDENT_WORDS["using_electronic_device"][2],
    "x": ABSENT_WORDS,
}


@pytest.fixture(autouse=True)
def the_day_so_far(story):
    """These steps go on from test_exam_day.py's on the same story; alone, they have nothing to start from."""
    if "role" not in story.facts:
        pytest.skip("the day's first steps (test_exam_day.py) did not run on this story")


def test_6_the_office_publishes_hears_an_objection_locks_and_exports(story, person):
    f = story.facts
    ids, role, day = f["ids"], f["role"], profiles(f)
    story.set_time(at(15, 8, 30))  # Tuesday morning: today counts as the first day of publicity
    page = person()
    scores_page(page, story)
    page.click("text=公示成绩")
    assert notice(page).startswith("成绩已公示")
    # R-PUB-1: 5 working days from Tue 15 December is Mon 21 December; the lock from the 22nd.
    assert page.inner_text("#pub-window") == "2026-12-15 至 2026-12-21"
    assert page.inner_text("#lock-from") == "2026-12-22"

    page.click("#public-link")
    public = page.inner_text("#results")
    assert all(mask_id_number(idn) in public and idn not in public for _, idn in PEOPLE)  # R-PRIV-1
    assert all(name not in public for name, _ in PEOPLE if len(name) > 1)
    assert "合格" in public and "67.7" in public
    for r, words in REASONS.items():  # R-DISC-1, R-ID-1: the reason goes to the public page
        row = page.locator("#results tbody tr", has_text=f["tickets"][role[r]]).inner_text()
        assert words in row and RESULT_ZH[day[role[r]].result] in row, (r, row)
    c_row = page.locator("#results tbody tr", has_text=f["tickets"][role["c"]]).locator("td").all_inner_texts()
    assert c_row[3:5] == ["无效", "无效"]  # tier (c): every part of the sitting
    x_row = page.locator("#results tbody tr", has_text=f["tickets"][role["x"]]).locator("td").all_inner_texts()
    assert x_row[3:5] == ["缺考", "缺考"]  # the no-show: absent from both parts
    page.go_back()

    page.select_option("#f-objection select[name=candidate_id]", str(ids[role["f"]]))
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
    scores_page(page, story)  # the session of a week ago has expired: signed in again
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
    f["digest"] = digest = page.inner_text("#seal-digest").split()[-1]

    with page.expect_download(timeout=60_000) as got:
        page.click("a[href$='/results.xlsx']")
    xlsx = story.folder / got.value.suggested_filename
    got.value.save_as(xlsx)
    sheet = load_workbook(xlsx).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("序号", "准考证号", "姓名", "身份证号") and rows[1][7] == "原因 reason"
    body = [r for r in rows[2:] if r and r[1] in f["tickets"]]
    assert [r[1] for r in body] == f["tickets"]
    for r, (name, idn), p in zip(body, PEOPLE, day):
        assert (r[2], r[3]) == (name, idn)  # the office's export carries full numbers
        for cell, want in ((r[4], p.theory_cell), (r[5], p.skill_cell)):
            assert cell == want if want in ("缺考", "作弊", "无效") else Decimal(str(cell)) == Decimal(want)
        assert r[6] == RESULT_ZH[p.result]
    for who, words in REASONS.items():  # R-DISC-1, R-ID-1: the reason goes to the export
        assert words in body[role[who]][7], (who, body[role[who]])
    assert not body[role["a"]][7]  # a clean pass has no reason to give
    assert any(r and r[0] == "摘要 digest (sha256)" and r[1] == digest for r in rows)


def test_7_the_centre_reviews_on_its_page_and_the_office_issues_certificates(story, person):
    """R-CERT-1: certificates only after the centre's review (复核); R-PUB-2: the reporting deadline."""
    f = story.facts
    bid, role = f["bid"], f["role"]
    story.set_time(at(22, 10, 0))
    office = person()
    scores_page(office, story)
    assert office.get_attribute("#review", "data-state") == "awaiting"
    assert office.locator("#certificates-link").count() == 0  # linked once the centre has approved
    # The certificates page refuses as the API does: nothing issued before the review.
    office.goto(story.at(f"/office/batches/{bid}/certificates"))
    _issue_certificates(office)
    assert office.get_attribute("#refusal", "data-code") == "review_pending"
    assert "评价中心尚未复核通过" in office.inner_text("#refusal")
    office.goto(story.at(f"/office/batches/{bid}/scores"))

    centre = person()
    centre.goto(story.at("/"))
    sign_in(centre, story, "centre-jl")
    centre.click("a[href='/centre/reviews']")
    batch = centre.locator(f"#batch-{bid}")
    assert batch.get_attribute("data-state") == "awaiting"
    assert f["digest"] in batch.locator(".digest").inner_text()
    assert batch.locator(".locked-on").inner_text() == "2026-12-22"
    assert batch.locator(".summary .count").inner_text() == str(len(PEOPLE))
    counts = {
        k: batch.locator(f".summary [data-result='{k}'] b").inner_text()
        for k in ("pass", "fail", "void", "cheating", "absent")
    }
    assert counts == {"pass": "3", "fail": "1", "void": "2", "cheating": "1", "absent": "1"}
    # R-DISC-1: the centre is told of the tier (b) and (c) incidents, not of tier (a).
    told = batch.locator(".incidents li")
    assert sorted(told.evaluate_all("els => els.map(e => e.dataset.tier)")) == ["b", "c"]
    assert f["tickets"][role["b"]] in told.all_inner_texts()[0] + told.all_inner_texts()[1]
    assert f["tickets"][role["c"]] in " ".join(told.all_inner_texts())
    assert f["tickets"][role["v"]] not in batch.locator(".incidents").inner_text()

    # A return needs its reasons: refused on the page, in the refusal's words, and nothing changes.
    batch.locator("button[value=return]").click()
    assert centre.get_attribute("#refusal", "data-code") == "review_reasons_required"
    assert "退回须写明理由" in centre.inner_text("#refusal") and "R-CERT-1" in centre.inner_text("#refusal")
    batch = centre.locator(f"#batch-{bid}")
    assert batch.get_attribute("data-state") == "awaiting"
    batch.locator("textarea[name=reasons]").fill("技能考场签到表缺少考评员签字")
    batch.locator("button[value=return]").click()
    assert notice(centre).startswith("已退回")
    assert centre.locator(f"#batch-{bid}").get_attribute("data-state") == "returned"
    office.reload()
    assert office.get_attribute("#review", "data-state") == "returned"
    assert office.inner_text("#review-reasons") == "技能考场签到表缺少考评员签字"

    # The office puts it right outside the seal; the centre reviews again and approves.
    centre.locator(f"#batch-{bid} button[value=approve]").click()
    assert notice(centre).startswith("已复核通过")
    batch = centre.locator(f"#batch-{bid}")
    assert batch.get_attribute("data-state") == "approved" and batch.locator("form.review").count() == 0
    assert list(batch.locator(".history li").evaluate_all("els => els.map(e => e.dataset.decision)")) == [
        "return",
        "approve",
    ]
    office.reload()
    assert office.get_attribute("#review", "data-state") == "approved"
    office.click("#certificates-link")  # R-CERT-1, R-FMT-CERT: the office issues on its page
    _issue_certificates(office)
    assert notice(office).startswith("证书编号已生成")
    numbers = office.locator("#certificates td.cert-no").all_inner_texts()
    assert len(numbers) == 3 and all(re.fullmatch(r"S000022000012264\d{6}", n) for n in numbers)  # the 3 passes
    issued = {
        "reporting_deadline": office.inner_text("#reporting-deadline"),
        "issue_date": office.inner_text("#issue-date"),
    }
    office.goto(story.at(f"/office/batches/{bid}/scores"))
    assert office.inner_text("#reporting-deadline") == issued["reporting_deadline"]
    assert office.inner_text("#issue-date") == issued["issue_date"] == "2026-12-22"

    # R-PUB-2: the centre sees the reporting deadline and marks the data received.
    centre.reload()
    batch = centre.locator(f"#batch-{bid}")
    assert batch.locator(".report .deadline").inner_text() == issued["reporting_deadline"]
    batch.locator("form.received button").click()
    assert notice(centre).startswith("已签收该批次上报数据")
    assert "已签收" in centre.locator(f"#batch-{bid} .report").inner_text()
    office.reload()
    assert "评价中心已签收" in office.inner_text("#report-received")
    # The centre reads the batch's archive from its page (R-ARCH-1), but uploads nothing to it.
    centre.click(f"#batch-{bid} a.archive")
    centre.wait_for_url(re.compile(rf"/office/batches/{bid}/archive$"))
    assert "封存记录" in centre.inner_text("table") and centre.locator("input[type=file]").count() == 0


def _issue_certificates(office) -> None:
    """The form as the clerk fills it: the kind preselected from the institution's kind (a training
    organisation: S), the institution code of a provincially filed institution, the site's serial."""
    assert office.locator("input[name=kind][value=S]").is_checked()
    office.fill("input[name=institution_code]", "0000")
    office.fill("input[name=site_serial]", "000012")
    office.click("#f-certificates button[type=submit]")


KEPT = {
    "签到表": "永久保存",  # R-DAY-3: produced from the check-ins when each session ended
    "考场记录": "永久保存",
    "质量督导报告": "永久保存",  # filed by the supervisor on its page (R-SUP-1)
    "成绩汇总表": "永久保存",
    "封存记录": "永久保存",
    "成绩导出": "电子资料（5年）",
}


def test_8_the_office_opens_the_batchs_archive(story, person):
    """R-ARCH-1: the key documents of the day archived by themselves, each with its retention class."""
    f = story.facts
    page = person()
    page.goto(story.at(f"/office/batches/{f['bid']}"))
    sign_in(page, story, "office")
    page.click("#archive-link")
    page.wait_for_url(re.compile(r"/archive$"))
    rows = [r.split("\t") for r in page.locator("table tbody tr").all_inner_texts()]
    listed: dict[str, list[tuple[str, str]]] = {}
    for cells in rows:
        listed.setdefault(cells[0].split()[0], []).append((cells[1], cells[2]))
    for kind, kept in KEPT.items():
        assert kind in listed, (kind, rows)
        assert all(k.startswith(kept) for _, k in listed[kind]), (kind, listed[kind])
    sheets = " ".join(name for name, _ in listed["签到表"])
    assert all(room in sheets for room in ("T01", "T02", "S01")), sheets  # each room of each session
    assert len(listed["考场记录"]) == 1 and "T01" in listed["考场记录"][0][0]
    assert all("permanently" in k for kind in ("签到表", "封存记录") for _, k in listed[kind])
