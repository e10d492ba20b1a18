"""The exam office's pages built for the day (issue #16): the new-batch form (staff by name per room,
the occupation from the filed scope, levels by name, any number of skill sittings, a date too close
refused before saving, R-PLAN-1) and the batch page as an exam-day view (each candidate's state from
check-in's record, R-ID-1; a filed plan's filing stands, R-PLAN-1)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.actor import Actor
from examday.clock import CST
from examday.plans import admission
from examday.plans.models import Candidate, ExamSession
from tests.integration.examday.plans_world import EXAM, counts, office, ready
from tests.integration.examday.test_plans_pages import form


def test_the_form_offers_the_scope_levels_by_name_and_staff_by_name(world, client, clock):
    o = office(world, clock)
    page = client.get("/office/batches", headers=o.headers).text
    assert '<option value="6-31-01-03|"' in page  # the occupation from the filed scope
    assert "四级 / 中级工" in page and "一级 / 高级技师" in page
    assert '<option value="-1"' not in page  # R-LEVEL: an enterprise's tier only for an enterprise
    assert f'name="s0_staff" value="T01:{o.proctors[0]}"' in page  # staff picked, not typed as ids
    assert f'name="s1_staff" value="S01:{o.examiners[0]}"' in page
    assert "T01:1,2" not in page  # no placeholder that looks like a value
    first = re.search(r'name="exam_date" required min="([0-9-]+)"', page).group(1)
    assert first == "2026-12-10"  # the 10th working day after 2026-11-26 (R-CAL)


def test_a_date_too_close_is_refused_before_saving_with_the_last_filing_day(world, client, clock):
    """R-PLAN-1: no draft is made for a date whose last filing day has passed."""
    o = office(world, clock)
    before = counts(world.engine)
    page = client.post(
        "/office/batches/new", data=form(o, exam_date="2026-12-02"), headers=o.headers, follow_redirects=False
    )
    assert page.status_code == 422
    assert '<code class="code">exam_date_too_soon</code>' in page.text and "R-PLAN-1" in page.text
    assert "最迟报送日期是 2026-11-18" in page.text and "最早可选 2026-12-10" in page.text
    assert counts(world.engine) == before
    # The first date still possible is taken, and its draft can still be filed.
    r = client.post(
        "/office/batches/new", data=form(o, exam_date="2026-12-10"), headers=o.headers, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    check = client.get(f"/api/v1/batches/{r.headers['location'].rsplit('/', 1)[1]}/check", headers=o.headers).json()
    assert "filed_too_late" not in {v["code"] for v in check["violations"]}


def test_any_number_of_skill_sittings_each_with_its_examiners(world, client, clock):
    o = office(world, clock)
    e = o.examiners
    data = form(o)
    data.update(
        {
            "s7_part": "skill",
            "s7_start": "16:15",
            "s7_end": "17:45",
            "s7_rooms": ["S01"],
            "s7_staff": [f"S01:{e[2]}", f"S01:{e[3]}"],
            "s8_part": "skill",  # a sitting added and left empty is not part of the plan
            "s8_start": "",
            "s8_end": "",
        }
    )
    r = client.post("/office/batches/new", data=data, headers=o.headers, follow_redirects=False)
    assert r.status_code == 303, r.text
    batch = client.get(f"/api/v1/batches/{r.headers['location'].rsplit('/', 1)[1]}", headers=o.headers).json()
    skill = [s for s in batch["sessions"] if s["part"] == "skill"]
    assert len(skill) == 2
    assert [p["id"] for p in skill[1]["proctors"]["S01"]] == [e[2], e[3]]


def test_the_batch_page_shows_each_candidates_day_and_that_the_filing_stands(world, client, clock):
    """R-ID-1: 已签到 with the time from check-in's record, 缺考 once the entry window closed;
    R-PLAN-1: the filed plan's page says the filing stands instead of a red deadline line."""
    o = office(world, clock)
    bid = ready(client, o, n=3)
    assert client.post(f"/api/v1/batches/{bid}/file", headers=o.headers).status_code == 200
    clock.at = datetime(EXAM.year, EXAM.month, EXAM.day, 9, 30, tzinfo=CST)  # theory 09:00-10:30
    world.token("desk1", "kiosk", o.iid)
    with Session(world.engine, expire_on_commit=False) as db:
        theory = db.exec(select(ExamSession).where(ExamSession.batch_id == bid, ExamSession.part == "theory")).one()
        first = db.exec(
            select(Candidate).where(Candidate.batch_id == bid).order_by(col(Candidate.ticket_number))
        ).first()
        desk = db.exec(select(Account).where(Account.username == "desk1")).one()
        actor = Actor(desk.id, desk.username, desk.role, o.iid)
        admission.admit(db, actor, theory.starts_at, bid, theory.id, first.id, None, "入场核验身份证件 (test)", "desk")
        db.commit()
    page = client.get(f"/office/batches/{bid}", headers=o.headers).text
    row = page.split(first.ticket_number, 1)[1].split("</tr>", 1)[0]
    assert "已签到 09:00" in row  # China time, no ISO "T"
    assert "缺考" in page  # the others: the entry window (15 minutes, strict profile) has closed
    assert "报送有效" in page and "the filing stands" in page
    assert 'id="candidate-search"' in page and f'data-search="{first.ticket_number} {first.name}' in page
    for link in ("/proctor/batches/", "/coverage", "/desk", "/scores"):
        assert link in page


def test_an_import_error_names_the_column_as_the_file_named_it(world, client, clock):
    """R-ID-1 errors by row and column: a file with Chinese headers reads 身份证号, not id_number."""
    o = office(world, clock)
    r = client.post("/office/batches/new", data=form(o), headers=o.headers, follow_redirects=False)
    url = r.headers["location"]
    text = "姓名,身份证号码,工作单位\n张三,123,某厂\n"
    page = client.post(f"{url}/candidates", files={"file": ("名单.csv", text.encode(), "text/csv")}, headers=o.headers)
    assert page.status_code == 422
    cells = re.findall(r"<tr><td>2</td><td>([^<]*)</td>", page.text)
    assert cells == ["身份证号码"]  # as the file wrote it
    page = client.post(
        f"{url}/candidates", files={"file": ("名单.csv", "姓名\n张三\n".encode(), "text/csv")}, headers=o.headers
    )
    assert "<td>身份证号</td>" in page.text and "id_number" not in page.text.split('id="refusal"')[1].split("</div>")[0]
