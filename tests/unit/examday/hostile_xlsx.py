"""Hostile XLSX files for the reader's limits (R-PLAN-1): small on the wire, huge once believed."""

from __future__ import annotations

import io
import zipfile

from examday.identity import make_id_number

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
ID = make_id_number(__import__("datetime").date(1990, 5, 17), seq=1)


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet(rows: str, dimension: str = "A1:XFD1048576") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def package(sheet_xml: str, shared_strings: str | None = None, level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        z.writestr(
            "xl/sharedStrings.xml",
            shared_strings
            or '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>',
        )
    return buf.getvalue()


HEADER = '<row r="1">' + _inline("A1", "姓名") + _inline("B1", "身份证号") + "</row>"
ONE = '<row r="2">' + _inline("A2", "张伟") + _inline("B2", ID) + "</row>"


def dimension_bomb() -> bytes:
    """About 1 KB: claims A1:XFD1048576 (16,384 columns by 1,048,576 rows) and holds three sparse rows."""
    return package(sheet(HEADER + ONE + '<row r="1048576">' + _inline("A1048576", "x") + "</row>"))


def wide_row() -> bytes:
    """One row whose single cell sits in the last column, XFD."""
    return package(sheet(HEADER + ONE + '<row r="3">' + _inline("XFD3", "x") + "</row>"))


def zip_bomb(megabytes: int = 100) -> bytes:
    """A shared string of `megabytes` MB of one letter: a few hundred KB on the wire."""
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>" + "A" * (megabytes << 20) + "</t></si></sst>"
    )
    return package(sheet(HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>', "A1:B2"), sst)


def fine() -> bytes:
    """The same hand-made package, honest: proves the builder makes a readable file."""
    return package(sheet(HEADER + ONE, "A1:B2"))


# The same limits hold a CSV (they fit in the upload's 20 MB limit; Python objects cost more).
def blank_lines_csv(megabytes: int = 19) -> bytes:
    """A header and 19 million line breaks: 1.5 GB and a minute of list-building, before the limits."""
    return b"name,id_number\n" + b"\n" * (megabytes << 20)


def commas_csv(megabytes: int = 19) -> bytes:
    """A header and one line of 19 million commas."""
    return b"name,id_number\n" + b"," * (megabytes << 20)
