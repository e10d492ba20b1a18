"""Reading candidate lists: UTF-8, UTF-8 with BOM, GBK, XLSX; every bad row named (R-ID-1)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from examday.identity import make_id_number
from examday.plans.importer import decode_csv, error_rows, parse_candidates

TODAY = date(2026, 11, 26)
ID1 = make_id_number(date(1990, 5, 17), seq=1)
ID2 = make_id_number(date(1988, 2, 29), seq=7, female=True)
ID3 = make_id_number(date(2001, 12, 31), seq=3)
X_ID = "11010519491231002X"  # RULES.md R-FMT-ID example


def csv_text(rows: list[list[str]], header: str = "name,id_number,employer,training_org,phone") -> str:
    return "\r\n".join([header] + [",".join(r) for r in rows]) + "\r\n"


GOOD = [
    ["张伟", ID1, "第一机械厂", "长春培训学校", "13800001111"],
    ["李秀英", ID2, "", "", ""],
    ["欧阳明", X_ID.lower(), "吉林电力", "", "0431-88886666"],
]


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gbk")])
def test_csv_in_every_encoding_excel_writes(encoding, expected):
    parsed = parse_candidates(csv_text(GOOD).encode(encoding), TODAY)
    assert parsed.errors == []
    assert parsed.encoding == expected
    assert [(r.row, r.name, r.id_number) for r in parsed.rows] == [
        (2, "张伟", ID1),
        (3, "李秀英", ID2),
        (4, "欧阳明", X_ID),
    ]
    assert parsed.rows[0].employer == "第一机械厂" and parsed.rows[0].training_org == "长春培训学校"
    assert parsed.rows[1].employer is None and parsed.rows[2].phone == "0431-88886666"


def test_chinese_headers_in_any_order_and_fullwidth_digits():
    text = "身份证号,姓名,电话\n" + "１１０１０５１９４９１２３１００２Ｘ,王芳,\n"
    parsed = parse_candidates(text.encode("gbk"), TODAY)
    assert parsed.errors == []
    assert [(r.name, r.id_number) for r in parsed.rows] == [("王芳", X_ID)]


def test_gbk_is_not_mistaken_for_utf8():
    raw = csv_text([["张伟", ID1, "", "", ""]]).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert decode_csv(raw) == (csv_text([["张伟", ID1, "", "", ""]]), "gbk")


def test_every_bad_row_is_reported_with_its_column():
    wrong_check = ID1[:17] + ("0" if ID1[17] != "0" else "1")
    rows = [
        ["张伟", ID1, "", "", ""],  # row 2 fine
        ["", ID2, "", "", ""],  # row 3 missing name
        ["李娜", wrong_check, "", "", ""],  # row 4 bad check digit (R-ID-1)
        ["王强", ID1, "", "", ""],  # row 5 duplicate of row 2
        ["赵磊", "", "", "", ""],  # row 6 missing ID number
        ["周杰", "1101051990", "", "", ""],  # row 7 too short
        ["吴涛", ID3, "", "", "call me"],  # row 8 bad phone
        ["孙明", make_id_number(date(2030, 1, 1)), "", "", ""],  # row 9 born in the future
    ]
    parsed = parse_candidates(csv_text(rows).encode("utf-8"), TODAY)
    got = [(e["row"], e["column"], e["code"]) for e in parsed.errors]
    assert got == [
        (3, "name", "missing_name"),
        (4, "id_number", "invalid_id_number"),
        (5, "id_number", "duplicate_in_file"),
        (6, "id_number", "missing_id_number"),
        (7, "id_number", "invalid_id_number"),
        (8, "phone", "invalid_phone"),
        (9, "id_number", "invalid_id_number"),
    ]
    assert error_rows(parsed.errors) == [3, 4, 5, 6, 7, 8, 9]
    by_row = {e["row"]: e for e in parsed.errors}
    assert by_row[4]["reason"] == "bad_check_digit" and by_row[9]["reason"] == "future_birth_date"
    assert by_row[5]["first_row"] == 2 and "2" in by_row[5]["message"]
    for e in parsed.errors:
        assert e["message"] and e["message_en"]
        # R-PRIV-1: an error names the row, never the number.
        assert ID1 not in e["message"] + e["message_en"] and wrong_check not in e["message"] + e["message_en"]
    assert [r.row for r in parsed.rows] == [2]


def test_missing_columns_and_empty_files():
    parsed = parse_candidates("姓名,电话\n张伟,13800001111\n".encode(), TODAY)
    assert [(e["row"], e["column"], e["code"]) for e in parsed.errors] == [(1, "id_number", "missing_column")]
    assert parse_candidates(b"", TODAY).errors[0]["code"] == "empty_file"
    assert parse_candidates(b"name,id_number\r\n\r\n", TODAY).errors[0]["code"] == "no_rows"


def test_blank_lines_are_skipped_and_rows_keep_spreadsheet_numbers():
    text = "name,id_number\n\n张伟," + ID1 + "\n,\n李娜," + ID2 + "\n"
    parsed = parse_candidates(text.encode(), TODAY)
    assert parsed.errors == []
    assert [r.row for r in parsed.rows] == [3, 5]


def xlsx(rows: list[list[object]], header=("姓名", "身份证号", "工作单位", "培训机构", "电话")) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_with_chinese_headers():
    data = xlsx([["张伟", ID1, "第一机械厂", None, 13800001111], ["李秀英", ID2, None, "长春培训学校", None]])
    parsed = parse_candidates(data, TODAY, "名单.xlsx")
    assert parsed.errors == [] and parsed.encoding == "xlsx"
    assert [(r.row, r.name, r.id_number, r.phone) for r in parsed.rows] == [
        (2, "张伟", ID1, "13800001111"),
        (3, "李秀英", ID2, None),
    ]


def test_xlsx_bad_rows_and_an_id_stored_as_a_number():
    # Excel keeps 15 significant digits: an ID typed into a number cell loses its last ones.
    as_number = float(ID3[:-1] + "0")
    data = xlsx(
        [
            ["张伟", ID1, None, None, None],
            [None, ID2, None, None, None],
            ["周杰", as_number, None, None, None],
            ["王强", ID1, None, None, None],
        ]
    )
    parsed = parse_candidates(data, TODAY)
    assert [(e["row"], e["code"]) for e in parsed.errors] == [
        (3, "missing_name"),
        (4, "invalid_id_number"),
        (5, "duplicate_in_file"),
    ]
    assert "text" in parsed.errors[1]["message_en"]


def test_a_broken_xlsx_is_unreadable_not_a_crash():
    parsed = parse_candidates(b"PK\x03\x04 not really a zip", TODAY)
    assert [e["code"] for e in parsed.errors] == ["unreadable_file"]


# R-PLAN-1: a name (or employer, training organisation) with a control character is refused by row.
def test_control_characters_in_free_text_are_refused_row_by_row():
    rows = [
        ["张伟", ID1, "", "", ""],
        ['"李\x07娜"', ID2, "", "", ""],  # a bell inside the name
        ["王强", ID3, '"第一\r\n机械厂"', "", ""],  # a line break inside the employer
        ["赵\u202e磊", X_ID, "", '"长春\t培训"', ""],  # a right-to-left override, a tab
    ]
    parsed = parse_candidates(csv_text(rows).encode("utf-8"), TODAY)
    got = [(e["row"], e["column"], e["code"], e.get("rule")) for e in parsed.errors]
    assert got == [
        (3, "name", "control_characters", "R-PLAN-1"),
        (4, "employer", "control_characters", "R-PLAN-1"),
        (5, "name", "control_characters", "R-PLAN-1"),
        (5, "training_org", "control_characters", "R-PLAN-1"),
    ]
    assert all(e["message"] and e["message_en"] for e in parsed.errors)
    assert [r.name for r in parsed.rows] == ["张伟"]


def test_a_formula_like_name_is_imported_as_text():
    # Not refused: neutralised wherever it is exported (tests/integration/scoring/test_exports.py).
    parsed = parse_candidates(csv_text([['"=HYPERLINK(""http://x"",""y"")"', ID1, "", "", ""]]).encode(), TODAY)
    assert parsed.errors == [] and parsed.rows[0].name == '=HYPERLINK("http://x","y")'
