"""Spreadsheets that are safe to open and safe to read (表格的导出与导入).

Writing. Excel and LibreOffice take a text cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return for a formula: a candidate
named ``=HYPERLINK("http://x","y")`` would become a live link in the exam
office's results (CSV injection). Every export the server writes goes through
``csv_row`` or ``xlsx_cell``: in CSV such a cell gets a leading apostrophe
(OWASP's advice), in XLSX it is stored as a string with the quote prefix, so it
is never a formula. Numbers stay numbers: only text is neutralised. The rule
is the same for every text cell, the seal's URL-safe base64 signature included
(it may begin with ``-``): a program reading a CSV drops one leading
apostrophe; the XLSX holds the value unchanged.

Reading. An XLSX is a zip of XML parts that declares its own sizes, and a
worksheet declares its own ``<dimension>``. ``read_xlsx`` believes neither:
before openpyxl builds a single row it checks the number of parts and their
unpacked size (a zip bomb; ``zipfile`` never unpacks past a part's declared
size), refuses any DOCTYPE (entity expansion), counts the elements of every
XML part, and streams each worksheet counting the rows and columns it actually
holds. A file past a limit is refused whole (``file_too_large``, 413) under the
caller's rule; the rows are then read by openpyxl in read-only mode with its
dimensions reset and the limits passed in, so nothing is padded to a claimed
size. ``read_csv`` holds a CSV to the same rows and columns, line by line, so a
file of nothing but line breaks or commas is refused rather than built.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from xml.parsers import expat

from openpyxl.cell import WriteOnlyCell

from examday.errors import Refusal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

MAX_ROWS = 20_000  # rows holding a cell, and the last row number that may hold one
MAX_COLUMNS = 50  # cells in a row, and the last column (AX) that may hold one
MAX_PARTS = 100  # files inside the zip; Excel writes about a dozen
MAX_UNPACKED_BYTES = 32 << 20  # all parts together, as declared (and enforced by zipfile)
MAX_STRING_ELEMENTS = 250_000  # XML elements in the shared strings: two per string, 125,000 strings
MAX_PART_ELEMENTS = 40_000  # in any other part but a worksheet: openpyxl builds an object per style (~600 B)
MAX_ROW_ELEMENTS = MAX_COLUMNS * 16  # elements inside one <row>: cells, values, rich-text runs
MAX_LINE_CHARS = 16_384  # one CSV line: 50 columns of a few hundred characters
MAX_LINES = 10 * MAX_ROWS  # blank lines past the last row are skipped, but not without end
_CHUNK = 64 << 10
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?\d+")

_LIMITS = {
    "unpacked_bytes": (f"解压后超过 {MAX_UNPACKED_BYTES >> 20} MB", f"over {MAX_UNPACKED_BYTES >> 20} MB unpacked"),
    "parts": (f"包含超过 {MAX_PARTS} 个部件", f"more than {MAX_PARTS} parts inside"),
    "elements": ("结构过于复杂", "too many XML elements in one part"),
    "rows": (f"超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows"),
    "columns": (f"超过 {MAX_COLUMNS} 列", f"more than {MAX_COLUMNS} columns"),
}


# -- writing ---------------------------------------------------------------------


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """The value, with an apostrophe before text a spreadsheet would run as a formula."""
    return "'" + value if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def xlsx_cell(ws: Any, value: Any, **style: Any) -> Any:
    """A write-only cell; formula-like text is kept a string, with the quote prefix Excel uses for typed text."""
    cell = WriteOnlyCell(ws, value=value)
    if is_formula_like(value):
        cell.data_type = "s"  # openpyxl made it "f" for a leading "="
        cell.quotePrefix = True
    for name, v in style.items():
        setattr(cell, name, v)
    return cell


def xlsx_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """Cells for ``ws.append``: formula-like text wrapped, everything else as it is."""
    return [xlsx_cell(ws, v) if is_formula_like(v) else v for v in values]


# -- reading ---------------------------------------------------------------------


class UnreadableSpreadsheet(Exception):
    """Not an XLSX openpyxl can read: the caller says so in its own words."""


class _TooLarge(Exception):
    def __init__(self, limit: str) -> None:
        self.limit = limit


def too_large(limit: str, rule: str | None) -> Refusal:
    zh, en = _LIMITS[limit]
    return Refusal(
        "file_too_large",
        f"文件{zh}，已整体拒绝，未导入任何内容；请只保留所需的行和列，或另存为 CSV",
        f"The file has {en}; it was refused whole and nothing was imported. "
        "Keep only the rows and columns needed, or save it as CSV.",
        rule,
        413,
        {"limit": limit, "max_rows": MAX_ROWS, "max_columns": MAX_COLUMNS, "max_unpacked_bytes": MAX_UNPACKED_BYTES},
    )


def _column(ref: str | None, previous: int) -> int:
    if not ref:
        return previous + 1
    m = _CELL_REF.fullmatch(ref)
    if m is None:
        raise UnreadableSpreadsheet(ref)
    n = 0
    for ch in m.group(1).upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Scan:
    """Expat handlers that count what a part holds and stop at the first limit passed."""

    def __init__(self, name: str) -> None:
        self.worksheet = name.startswith("xl/worksheets/")
        self.max_elements = MAX_STRING_ELEMENTS if name.endswith("sharedStrings.xml") else MAX_PART_ELEMENTS
        self.elements = 0
        self.rows_with_cells = 0
        self.row = 0
        self.in_row = False
        self.row_elements = 0
        self.column = 0
        self.row_has_cell = False

    def doctype(self, *_: Any) -> None:
        raise UnreadableSpreadsheet("DOCTYPE")  # no XLSX writer emits one; it is how entity bombs start

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if not self.worksheet:
            if self.elements > self.max_elements:
                raise _TooLarge("elements")
            return
        local = name.rpartition(":")[2]
        if self.in_row:
            self.row_elements += 1
            if self.row_elements > MAX_ROW_ELEMENTS:
                raise _TooLarge("columns")
            if local == "c":
                # Numbered as openpyxl numbers them: the r attribute, else one past the cell before.
                self.column = _column(attrs.get("r"), self.column)
                if self.column > MAX_COLUMNS:
                    raise _TooLarge("columns")
                if not self.row_has_cell:
                    self.row_has_cell = True
                    self.rows_with_cells += 1
                    if self.row > MAX_ROWS or self.rows_with_cells > MAX_ROWS:
                        raise _TooLarge("rows")
        elif local == "row":
            try:
                self.row = int(attrs["r"]) if "r" in attrs else self.row + 1
            except ValueError as e:
                raise UnreadableSpreadsheet("row number") from e
            self.in_row, self.row_elements, self.column, self.row_has_cell = True, 0, 0, False

    def end(self, name: str) -> None:
        if self.in_row and name.rpartition(":")[2] == "row":
            self.in_row = False


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    scan = _Scan(info.filename)
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = scan.doctype
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    with archive.open(info) as part:
        while chunk := part.read(_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def check_xlsx(content: bytes, rule: str | None) -> None:
    """Refuse (``file_too_large``) a package past any limit, reading no more of it than the limits allow."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_PARTS:
                raise too_large("parts", rule)
            if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
                raise too_large("unpacked_bytes", rule)
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    _scan_part(archive, info)
    except _TooLarge as e:
        raise too_large(e.limit, rule) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, expat.ExpatError, NotImplementedError, OSError, EOFError) as e:
        raise UnreadableSpreadsheet(type(e).__name__) from e


# One physical line, cut at MAX_LINE_CHARS + 1 so that a line of a million commas is never one string.
_LINE = re.compile(rf"[^\r\n]{{0,{MAX_LINE_CHARS + 1}}}(?:\r\n|\r|\n)?")


def _lines(text: str, rule: str | None) -> Iterator[str]:
    pos, count = 0, 0
    while pos < len(text):
        m = _LINE.match(text, pos)
        assert m is not None  # the pattern matches at least one character wherever text remains
        line = m.group()
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            raise too_large("columns", rule)
        count += 1
        if count > MAX_LINES:
            raise too_large("rows", rule)
        pos = m.end()
        yield line


def read_csv(text: str, rule: str | None, delimiter: str = ",") -> list[list[str]]:
    """Rows of a CSV within MAX_ROWS and MAX_COLUMNS (raises ``csv.Error`` on a malformed file)."""
    rows: list[list[str]] = []
    for number, cells in enumerate(csv.reader(_lines(text, rule), delimiter=delimiter), start=1):
        if any(c.strip() for c in cells[MAX_COLUMNS:]):
            raise too_large("columns", rule)
        if number > MAX_ROWS:
            if any(c.strip() for c in cells):
                raise too_large("rows", rule)
            continue  # a blank line past the last row: not kept
        rows.append(cells[:MAX_COLUMNS])
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    return rows


def read_xlsx(content: bytes, rule: str | None, progress: Callable[[int], None] | None = None) -> list[Sequence[Any]]:
    """The first sheet's rows as values, once ``check_xlsx`` has let the file through.
    ``progress(n)`` is told the rows read every 100 (a 5,000-row sheet takes seconds, issue #16)."""
    check_xlsx(content, rule)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    # openpyxl raises zipfile, KeyError and its own errors on broken files.
    except Exception as e:
        raise UnreadableSpreadsheet(type(e).__name__) from e
    try:
        if not wb.worksheets:
            raise UnreadableSpreadsheet("no sheet")
        sheet: Any = wb.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # the declared <dimension> is the file's claim, not a fact
        rows = []
        for row in sheet.iter_rows(min_row=1, max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True):
            rows.append(row)
            if progress is not None and len(rows) % 100 == 0:
                progress(len(rows))
    except UnreadableSpreadsheet:
        raise
    except Exception as e:
        raise UnreadableSpreadsheet(type(e).__name__) from e
    finally:
        wb.close()
    while rows and not any(v is not None for v in rows[-1]):
        rows.pop()  # empty rows a sheet pads to its last formatted row
    return rows
