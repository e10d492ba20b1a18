"""Spreadsheets read within hard limits (R-PLAN-1) and written so that no cell runs as a formula.

A candidate list arrives from outside the server: a 2 KB XLSX whose <dimension>
claims 16,384 columns by 1,048,576 rows, or a zip that unpacks to hundreds of
megabytes, is refused whole before any row is built (file_too_large, 413).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from examday.errors import Refusal
from examday.plans.importer import parse_candidates
from examday.spreadsheets import MAX_COLUMNS, MAX_ROWS, csv_row, xlsx_cell, xlsx_row
from tests.unit.examday import hostile_xlsx

TODAY = date(2026, 11, 26)
ROOT = Path(__file__).resolve().parents[3]
MEMORY_BUDGET_MB = 50


FORMULA_LIKE = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")']
PLAIN = ["张伟", "55.0", "a=b", " =1", ""]


def test_csv_cells_that_would_run_as_formulas_start_with_an_apostrophe():
    assert csv_row(FORMULA_LIKE) == ["'" + v for v in FORMULA_LIKE]
    assert csv_row(PLAIN) == PLAIN
    assert csv_row([-5, 2.5, None]) == [-5, 2.5, None]  # numbers stay numbers


def test_xlsx_cells_that_would_run_as_formulas_are_strings():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(xlsx_row(ws, FORMULA_LIKE))
    ws.append([xlsx_cell(ws, v) for v in [*PLAIN, -5, 2.5]])
    buf = io.BytesIO()
    wb.save(buf)
    rows = list(load_workbook(io.BytesIO(buf.getvalue())).active.iter_rows())
    assert [c.value for c in rows[0]] == [v.replace("\r", "\n") for v in FORMULA_LIKE]  # XML reads CR as LF
    assert {c.data_type for c in rows[0]} == {"s"} and all(c.quotePrefix for c in rows[0])
    assert [c.value for c in rows[1]] == [*PLAIN[:-1], None, -5, 2.5]
    assert [c.data_type for c in rows[1][-2:]] == ["n", "n"]


def refused(content: bytes) -> Refusal:
    started = time.monotonic()
    with pytest.raises(Refusal) as caught:
        parse_candidates(content, TODAY, "名单.xlsx")
    assert time.monotonic() - started < 5
    return caught.value


def test_the_hand_made_package_is_a_readable_candidate_list():
    parsed = parse_candidates(hostile_xlsx.fine(), TODAY)
    assert parsed.errors == [] and [r.name for r in parsed.rows] == ["张伟"]


# R-PLAN-1: the declared dimension is not trusted; a row past the limit refuses the file whole.
def test_a_dimension_bomb_is_refused_quickly():
    r = refused(hostile_xlsx.dimension_bomb())
    assert (r.code, r.rule, r.status) == ("file_too_large", "R-PLAN-1", 413)
    assert r.message and r.message_en and r.detail["limit"] == "rows"


def test_a_cell_in_column_xfd_is_refused():
    r = refused(hostile_xlsx.wide_row())
    assert (r.code, r.detail["limit"]) == ("file_too_large", "columns")


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = hostile_xlsx.zip_bomb()
    assert len(bomb) < 300_000
    r = refused(bomb)
    assert (r.code, r.rule, r.detail["limit"]) == ("file_too_large", "R-PLAN-1", "unpacked_bytes")


def test_a_csv_past_the_limits_is_refused_whole():
    header = "name,id_number\n"
    assert refused_csv(hostile_xlsx.blank_lines_csv(1)).detail["limit"] == "rows"
    assert refused_csv(hostile_xlsx.commas_csv(1)).detail["limit"] == "columns"
    assert refused_csv((header + "\n" * MAX_ROWS + "张伟,1\n").encode()).detail["limit"] == "rows"
    assert refused_csv((header + "," * MAX_COLUMNS + "x\n").encode()).detail["limit"] == "columns"
    # Blank lines past the last row, and empty cells past the last column, are no reason to refuse.
    fine = header + "张伟," + hostile_xlsx.ID + "," * 80 + "\n" + "\n" * MAX_ROWS
    assert [r.name for r in parse_candidates(fine.encode(), TODAY).rows] == ["张伟"]


def refused_csv(content: bytes) -> Refusal:
    with pytest.raises(Refusal) as caught:
        parse_candidates(content, TODAY, "名单.csv")
    assert (caught.value.code, caught.value.rule, caught.value.status) == ("file_too_large", "R-PLAN-1", 413)
    return caught.value


PROBE = """
import json, resource, sys, tracemalloc
sys.path.insert(0, {root!r})
_, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (min(3 << 30, hard if hard >= 0 else 3 << 30), hard))
from datetime import date
from openpyxl import Workbook, load_workbook

from examday.errors import Refusal
from examday.plans.importer import parse_candidates
from examday.spreadsheets import MAX_COLUMNS, MAX_ROWS, csv_row, xlsx_cell, xlsx_row


def kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


content = open({path!r}, "rb").read()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM, the peak resident size, to the present size
before = kb("VmRSS")
tracemalloc.start()
try:
    parse_candidates(content, date(2026, 11, 26), {name!r})
    outcome = "read"
except Refusal as r:
    outcome = r.code
except MemoryError:
    outcome = "MemoryError"
python_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({{"outcome": outcome, "rss_mb": (kb("VmHWM") - before) / 1024, "python_mb": python_peak / 2**20}}))
"""


# R-PLAN-1: importing a hostile XLSX costs little memory: peak resident size above the baseline, in a subprocess.
@pytest.mark.parametrize("name", ["dimension_bomb", "zip_bomb", "blank_lines_csv", "commas_csv"])
def test_importing_a_hostile_file_stays_within_the_memory_budget(name, tmp_path):
    # Built here, not in the probe: making the bomb would raise the probe's baseline.
    path = tmp_path / (f"{name}.csv" if name.endswith("_csv") else f"{name}.xlsx")
    path.write_bytes(getattr(hostile_xlsx, name)())
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT), path=str(path), name=path.name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"\n{name}: peak resident {got['rss_mb']:.1f} MB above baseline, "
        f"Python allocations {got['python_mb']:.1f} MB, outcome {got['outcome']}"
    )
    assert got["outcome"] == "file_too_large"
    assert got["rss_mb"] < MEMORY_BUDGET_MB and got["python_mb"] < MEMORY_BUDGET_MB
