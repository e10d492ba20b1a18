"""Reading the exam system's theory file (R-SCORE-3: absent is not zero; all rows or none)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from examday.errors import Refusal
from examday.plans.models import Candidate
from examday.spreadsheets import MAX_LINE_CHARS, MAX_LINES
from scoring.theory_import import parse_rows

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def roster(*tickets: str) -> dict[str, Candidate]:
    return {
        t: Candidate(id=i, batch_id=1, name="x", id_number="x", ticket_number=t, created_at=NOW)
        for i, t in enumerate(tickets, start=1)
    }


def test_header_is_optional_and_blank_lines_are_skipped():
    report, errors = parse_rows("A1,90\n\nA2, 60.5 \n", roster("A1", "A2"))
    assert errors == []
    assert [(r["row"], r["ticket_number"], r["status"], r["score"]) for r in report] == [
        (1, "A1", "scored", D("90")),
        (3, "A2", "scored", D("60.5")),
    ]


def test_absence_words():
    report, errors = parse_rows(
        "准考证号,成绩\nA1,缺考\nA2,absent\nA3,\nA4,-\nA5", roster("A1", "A2", "A3", "A4", "A5")
    )
    assert errors == [] and {r["status"] for r in report} == {"absent"}
    assert all(r["score"] is None for r in report)


def test_zero_is_a_score_not_an_absence():
    report, _ = parse_rows("A1,0\n", roster("A1"))
    assert (report[0]["status"], report[0]["score"]) == ("scored", D("0"))


def test_every_problem_is_reported():
    _, errors = parse_rows("A1,90,extra\n,80\nA2,100.1\n", roster("A1", "A2", "A3"))
    assert [(e["row"], e["code"]) for e in errors] == [
        (1, "wrong_columns"),
        (2, "required"),
        (3, "out_of_range"),
        (None, "ticket_missing"),
        (None, "ticket_missing"),
    ]


def test_an_empty_file_is_refused():
    _, errors = parse_rows("", roster())
    assert [e["code"] for e in errors] == ["empty"]


# Issue #14 finding 8: the theory file is held to the candidate list's limits (examday/spreadsheets.py).
def test_a_file_of_blank_lines_is_refused_before_it_is_built():
    with pytest.raises(Refusal) as caught:
        parse_rows("A1,90\n" + "\n" * (MAX_LINES + 1), roster("A1"))
    assert (caught.value.code, caught.value.status, caught.value.detail["limit"]) == ("file_too_large", 413, "rows")
    with pytest.raises(Refusal) as caught:
        parse_rows("A1," + "," * (MAX_LINE_CHARS + 1), roster("A1"))
    assert caught.value.detail["limit"] == "columns"
