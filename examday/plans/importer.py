"""Reading a candidate list (考生名单) from CSV or XLSX: every bad row reported.

Pure: bytes in, rows and errors out; the service decides that one error
imports nothing. Rules: R-ID-1 (each ID number checked, with the reason),
R-PLAN-1 (the plan names its candidates: a name holds no control
characters, and an XLSX past the reader's limits is refused whole, see
examday/spreadsheets.py), R-PRIV-1 (errors name the row and
the column, never the ID number itself).

CSV files arrive as UTF-8 (with or without the BOM Excel writes for "CSV
UTF-8") or as GBK — what "CSV" means in Excel on Chinese Windows. Row numbers
are the ones a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from examday.errors import Refusal
from examday.identity import validate_id_number
from examday.spreadsheets import UnreadableSpreadsheet, read_csv, read_xlsx

COLUMNS = ("name", "id_number", "employer", "training_org", "phone")
REQUIRED = ("name", "id_number")
ALIASES = {
    "name": "name",
    "姓名": "name",
    "考生姓名": "name",
    "id_number": "id_number",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "证件号码": "id_number",
    "employer": "employer",
    "工作单位": "employer",
    "单位": "employer",
    "training_org": "training_org",
    "培训机构": "training_org",
    "培训单位": "training_org",
    "phone": "phone",
    "电话": "phone",
    "联系电话": "phone",
    "手机号": "phone",
    "手机号码": "phone",
}
# A column's name in a file whose header is Chinese (the form's own words).
_ZH_NAMES = {
    "name": "姓名",
    "id_number": "身份证号",
    "employer": "工作单位",
    "training_org": "培训机构",
    "phone": "电话",
}
_EN_NAMES = {"name": "name", "id_number": "ID number"}
MAX_LEN = {"name": 50, "employer": 200, "training_org": 200, "phone": 30}
FREE_TEXT = ("name", "employer", "training_org")
# Bidirectional overrides and isolates reorder what a reader sees (a name shown reversed).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PHONE_CHARS = set("0123456789+-() ")


@dataclass(frozen=True)
class CandidateRow:
    row: int
    name: str
    id_number: str
    employer: str | None = None
    training_org: str | None = None
    phone: str | None = None


@dataclass
class ParsedFile:
    rows: list[CandidateRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    encoding: str | None = None
    # The header as the file wrote it, by column ("id_number" → "身份证号"), so that an error names
    # the column the way the office's own file does (issue #16); ``column`` stays the code.
    headers: dict[str, str] = field(default_factory=dict)
    chinese: bool = False

    def name_columns(self) -> None:
        """Give each error the column's name as the file wrote it; a missing column in the file's language."""
        for e in self.errors:
            col = e.get("column")
            if col and "header" not in e:
                e["header"] = self.headers.get(col) or (_ZH_NAMES.get(col, col) if self.chinese else col)

    def error(self, row: int | None, column: str | None, code: str, zh: str, en: str, **extra: Any) -> None:
        self.errors.append({"row": row, "column": column, "code": code, "message": zh, "message_en": en, **extra})


def parse_candidates(
    content: bytes, today: date, filename: str | None = None, progress: Callable[[int], None] | None = None
) -> ParsedFile:
    """Rows and every error: a header problem, each bad row, each duplicate. ``progress``: the
    XLSX rows read so far (the office's page shows them, issue #16)."""
    result = ParsedFile()
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx"):
        table = _xlsx_rows(content, result, progress)
        result.encoding = "xlsx"
    else:
        table = _csv_rows(content, result)
    if table is None:
        return result
    _read_table(table, today, result)
    result.name_columns()
    return result


# -- file formats --------------------------------------------------------------


def decode_csv(content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else GBK (as GB18030)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # GB18030 reads every GBK file and the rare characters GBK lacks.
        return content.decode("gb18030"), "gbk"


def _csv_rows(content: bytes, result: ParsedFile) -> Sequence[Sequence[Any]] | None:
    try:
        text, result.encoding = decode_csv(content)
    except UnicodeDecodeError:
        result.error(
            None,
            None,
            "unreadable_file",
            "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件",
            "The file's encoding is not UTF-8 or GBK; save it as CSV (UTF-8) and try again.",
        )
        return None
    first = text[: (text.find("\n") + 1) or len(text)]  # not split(): that would copy the whole file
    # Excel's "Unicode text" is tab-separated; a header never holds a tab otherwise.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return read_csv(text, "R-PLAN-1", delimiter)  # R-PLAN-1: past the limits, refused whole
    except csv.Error:
        result.error(None, None, "unreadable_file", "CSV 文件格式错误", "The CSV file is malformed.")
        return None


def _xlsx_rows(
    content: bytes, result: ParsedFile, progress: Callable[[int], None] | None = None
) -> Sequence[Sequence[Any]] | None:
    try:
        # R-PLAN-1: a file past the reader's limits is refused whole (file_too_large), not reported by row.
        return read_xlsx(content, "R-PLAN-1", progress)
    except UnreadableSpreadsheet:
        result.error(None, None, "unreadable_file", "无法读取 XLSX 文件", "The XLSX file cannot be read.")
        return None


# -- rows ------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # Full-width characters and stray spaces come with Chinese input methods.
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header(cells: Sequence[Any], result: ParsedFile) -> dict[str, int] | None:
    index: dict[str, int] = {}
    result.chinese = any(re.search(r"[\u4e00-\u9fff]", _cell(raw)) for raw in cells)
    for i, raw in enumerate(cells):
        key = ALIASES.get(_cell(raw).lower().replace(" ", "_"))
        if key is None:
            continue
        result.headers.setdefault(key, _cell(raw))
        if key in index:
            result.error(1, key, "duplicate_column", f"表头重复：{_cell(raw)}", f"Column {key} appears twice.")
            return None
        index[key] = i
    missing = [c for c in REQUIRED if c not in index]
    for c in missing:
        zh = {"name": "姓名", "id_number": "身份证号"}[c]
        result.error(
            1,
            c,
            "missing_column",
            f"缺少“{zh}”列（表头须有“姓名”“身份证号”，可另有“工作单位”“培训机构”“电话”）",
            f"The {_EN_NAMES[c]} column is missing: the header names 姓名 (name) and 身份证号 (ID number), "
            "and may name 工作单位, 培训机构 and 电话.",
        )
    return None if missing else index


def _read_table(table: Sequence[Sequence[Any]], today: date, result: ParsedFile) -> None:
    rows = iter(enumerate(table, start=1))
    header = None
    for _, cells in rows:
        if any(_cell(c) for c in cells):
            header = _header(cells, result)
            break
    if header is None:
        if not result.errors:
            result.error(1, None, "empty_file", "文件没有内容", "The file is empty.")
        return
    seen: dict[str, int] = {}
    for number, cells in rows:
        values = {k: _cell(cells[i]) if i < len(cells) else "" for k, i in header.items()}
        if not any(values.values()):
            continue  # blank lines at the end of a sheet
        row = _read_row(
            number, values, cells[header["id_number"]] if header["id_number"] < len(cells) else None, today, result
        )
        if row is None:
            continue
        if row.id_number in seen:
            first = seen[row.id_number]
            result.error(
                number,
                "id_number",
                "duplicate_in_file",
                f"身份证号与第{first}行重复",
                f"The ID number repeats row {first}.",
                first_row=first,
            )
            continue
        seen[row.id_number] = number
        result.rows.append(row)
    if not result.rows and not result.errors:
        result.error(None, None, "no_rows", "文件中没有考生", "The file lists no candidates.")


def _read_row(number: int, values: dict[str, str], raw_id: Any, today: date, result: ParsedFile) -> CandidateRow | None:
    before = len(result.errors)
    if not values.get("name"):
        result.error(number, "name", "missing_name", "姓名为空", "The name is missing.")
    id_number = None
    if not values.get("id_number"):
        result.error(number, "id_number", "missing_id_number", "身份证号为空", "The ID number is missing.")
    else:
        try:
            id_number = validate_id_number(values["id_number"], today)  # R-ID-1
        except Refusal as r:
            zh, en = r.message, r.message_en
            if isinstance(raw_id, (int, float)):
                # A number cell keeps only 15 significant digits.
                zh += "（该单元格为数字格式，请将身份证号列设为文本格式）"
                en += " (The cell is a number; format the ID column as text.)"
            result.error(number, "id_number", "invalid_id_number", zh, en, reason=r.detail.get("reason"))
    for column in FREE_TEXT:
        if _has_control(values.get(column, "")):  # R-PLAN-1: a person's name is printed text, nothing else
            result.error(
                number,
                column,
                "control_characters",
                "含有控制字符（如换行、制表符或方向控制符），请删除",
                "Contains control characters (a line break, a tab or a direction override); remove them.",
                rule="R-PLAN-1",
            )
    for column, limit in MAX_LEN.items():
        if len(values.get(column, "")) > limit:
            result.error(number, column, "too_long", f"超过{limit}个字符", f"Longer than {limit} characters.")
    phone = values.get("phone", "")
    if phone and not (set(phone) <= _PHONE_CHARS and sum(c.isdigit() for c in phone) >= 7):
        result.error(number, "phone", "invalid_phone", "电话号码格式不正确", "The phone number is not valid.")
    if len(result.errors) > before:
        return None
    return CandidateRow(
        number,
        values["name"],
        id_number or "",
        values.get("employer") or None,
        values.get("training_org") or None,
        phone or None,
    )


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in text)


def error_rows(errors: Iterable[dict[str, Any]]) -> list[int]:
    return sorted({e["row"] for e in errors if e.get("row") is not None})
