"""Room papers (考场用表): the seating chart (座位表), the door list (门贴), the
sign-in sheet template (签到表) and, after the session, the sign-in sheet filled from the
check-ins as a PDF for the archive, drawn with the ticket's drawing kit.

Rules: R-SEAT-1 (the chart shows each desk's candidate, kept-free seats
marked), R-DAY-3 (the sign-in sheet with its blank signature column; after the
session, produced from what happened: time, photo, kiosk, late marks, absentees),
R-PRIV-1 (masked names on anything posted up, masked ID numbers only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from fpdf import FPDF

from examday.plans.ticket_render import (
    _GRAY,
    CST,
    Session,
    _Box,
    _Canvas,
    _face,
    _fit,
    _label,
    _Line,
    _part,
    _pdf_paint,
    _Photo,
    _Text,
    _when,
)

__all__ = [
    "SignedIn",
    "draw_table",
    "render_door_list_png",
    "render_pdf",
    "render_seating_chart_png",
    "render_signin_record_pdf",
    "render_signin_sheet_png",
]


def render_seating_chart_png(
    room_code: str,
    room_name: str,
    rows: int,
    cols: int,
    seats: dict[int, tuple[str, str]],
    blocked: Iterable[int] = (),
    seat_count: int | None = None,
    skill: bool = False,
) -> bytes:
    """The room's seating chart (R-SEAT-1), posted at the door: masked names only (R-PRIV-1).

    ``seat_count`` leaves out grid cells past the room's last seat. ``skill``: a skill room's
    workstations (工位表): no lectern and blackboard at the front (issue #16).
    """
    cell_w, cell_h, margin, top = 30.0, 17.0, 8.0, 34.0
    width = max(180.0, 2 * margin + cols * cell_w)
    height = top + rows * cell_h + margin + 6
    stop = set(blocked)
    title = "工位表 Workstations" if skill else "座位表 Seating chart"
    ops: list = [_Text(width / 2, 12, f"{room_name} {room_code}  {title}", 14, True, align="m")]
    if not skill:
        ops += [_Box(width / 2 - 40, 17, 80, 8, 0.3, 235), _Text(width / 2, 22.8, "讲台 · 黑板  Front", 9, align="m")]
    left = (width - cols * cell_w) / 2
    last = rows * cols if seat_count is None else min(seat_count, rows * cols)
    for seat in range(1, last + 1):
        r, c = divmod(seat - 1, cols)
        x, y = left + c * cell_w, top + r * cell_h
        if seat in stop:
            ops += [
                _Box(x + 1, y + 1, cell_w - 2, cell_h - 2, 0.2, 215),
                _Text(x + 2.5, y + 5.5, str(seat), 8, True, gray=_GRAY),
                _Text(x + cell_w / 2, y + 12, "停用 Not in use", 7, gray=_GRAY, align="m"),
            ]
            continue
        ops += [_Box(x + 1, y + 1, cell_w - 2, cell_h - 2, 0.25), _Text(x + 2.5, y + 5.5, str(seat), 8, True)]
        if seat in seats:
            ticket, name = seats[seat]
            text, pt = _fit(ticket, cell_w - 4, 7)
            ops.append(_Text(x + cell_w / 2, y + 10.5, text, pt, align="m"))
            ops.append(_Text(x + cell_w / 2, y + 15, _fit(name, cell_w - 4, 8)[0], 8, True, align="m"))
    return _Canvas(width, height).paint(ops).png()


def _table(
    ops: list,
    x: float,
    y: float,
    widths: Sequence[float],
    header: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[str]],
    row_h: float,
    pt: float = 9,
) -> float:
    """A ruled table; returns the y below it."""
    total = sum(widths)
    ops.append(_Box(x, y, total, row_h, 0.3, 232))
    cx = x
    for w, (zh, en) in zip(widths, header):
        _label(ops, cx + 1.5, y + row_h * 0.68, zh, en, 8)
        cx += w
    for i, row in enumerate(rows, start=1):
        top = y + i * row_h
        ops.append(_Box(x, top, total, row_h, 0.2))
        cx = x
        for w, cell in zip(widths, row):
            text, size = _fit(cell, w - 3, pt)
            ops.append(_Text(cx + 1.5, top + row_h * 0.68, text, size))
            cx += w
    cx = x
    for w in widths[:-1]:
        cx += w
        ops.append(_Line(cx, y, cx, y + (len(rows) + 1) * row_h, 0.2))
    return y + (len(rows) + 1) * row_h


draw_table = _table  # for the other papers drawn as PDF (the score summary at the lock)


def render_door_list_png(room: str, session: Session | None, entries: Sequence[tuple[str, str, int]]) -> bytes:
    """The list posted on the door, by ticket number: (ticket_number, masked name, seat) (R-PRIV-1)."""
    ordered = sorted(entries, key=lambda e: e[0])
    columns = 1 if len(ordered) <= 40 else 2
    per_column = max(1, math.ceil(len(ordered) / columns))
    row_h = 6.5
    height = max(297.0, 40 + (per_column + 1) * row_h + 12)
    ops: list = [_Text(105, 14, f"{room}  考生名单 Candidates", 15, True, align="m")]
    if session:
        zh, en = _part(session[0])
        ops.append(_Text(105, 22, f"{zh} {en}  {_when(session[1], session[2])}", 9.5, align="m"))
    ops.append(_Text(105, 29, f"共 {len(ordered)} 人  {len(ordered)} candidates", 8.5, gray=_GRAY, align="m"))
    widths = (40.0, 30.0, 20.0) if columns == 2 else (70.0, 60.0, 30.0)
    header = (("准考证号", "Ticket No."), ("姓名", "Name"), ("座位", "Seat"))
    for k in range(columns):
        chunk = ordered[k * per_column : (k + 1) * per_column]
        x = 15 + k * 95 if columns == 2 else 25
        _table(ops, x, 34, widths, header, [(t, n, str(s)) for t, n, s in chunk], row_h)
    return _Canvas(210, height).paint(ops).png()


def render_signin_sheet_png(
    room: str, session: Session | None, rows: Sequence[tuple[int, str, str, str]], institution: str = ""
) -> bytes:
    """签到表 with a signature column (R-DAY-3): (seat, ticket_number, name, masked_id)."""
    ordered = sorted(rows, key=lambda r: r[0])
    row_h = 7.5  # 30 candidates (R-SEAT-1 default) fit one A4 page
    height = max(297.0, 36 + (len(ordered) + 1) * row_h + 24)
    ops: list = []
    if institution:
        ops.append(_Text(105, 12, _fit(institution, 180, 10)[0], 10, align="m"))
    ops.append(_Text(105, 21, "考生签到表  Sign-in sheet", 15, True, align="m"))
    line = room
    if session:
        zh, en = _part(session[0])
        line = f"{room}   {zh} {en}   {_when(session[1], session[2])}"
    text, pt = _fit(line, 190, 9.5)
    ops.append(_Text(105, 29, text, pt, align="m"))
    widths = (16.0, 38.0, 28.0, 42.0, 36.0, 24.0)
    header = (
        ("座位", "Seat"),
        ("准考证号", "Ticket No."),
        ("姓名", "Name"),
        ("身份证号", "ID No."),
        ("签名", "Signature"),
        ("备注", "Note"),
    )
    body = [(str(seat), ticket, name, masked, "", "") for seat, ticket, name, masked in ordered]
    bottom = _table(ops, 8, 36, widths, header, body, row_h, 9.5)
    ops.append(_Text(8, bottom + 8, f"应到 Expected: {len(ordered)}    实到 Present: ______    缺考 Absent: ______", 9))
    ops.append(
        _Text(8, bottom + 16, "监考员签名 Proctors: ______________  ______________    日期 Date: ____________", 9)
    )
    return _Canvas(210, height).paint(ops).png()


class SignedIn(NamedTuple):
    """One line of the sign-in sheet as it happened; ``at`` None: absent (缺考)."""

    seat: int | None
    ticket_number: str
    name: str
    masked_id: str
    at: datetime | None = None
    late: bool = False
    kiosk: str = ""
    photo: bytes | None = None


def render_pdf(pages: Sequence[list], created_at: datetime | None = None, size=(210.0, 297.0)) -> bytes:
    """Pages of drawing operations as one PDF (A4 portrait), text kept vector."""
    path, index, bold = _face()
    pdf = FPDF(orientation="P", unit="mm", format=size)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creation_date(created_at or datetime(2000, 1, 1, tzinfo=UTC))
    pdf.add_font("cjk", "", str(path), collection_font_number=index)
    pdf.add_font("cjk", "B", str(bold or path), collection_font_number=index)
    for ops in pages or [[]]:
        pdf.add_page()
        _pdf_paint(pdf, ops, 0.0, 0.0, 1.0)
    return bytes(pdf.output())


_PER_PAGE = 20


def render_signin_record_pdf(
    room: str, session: Session | None, rows: Sequence[SignedIn], institution: str, produced_at: datetime
) -> bytes:
    """签到表 as it happened (R-DAY-3): each candidate's check-in time, the photo taken at the door,
    the kiosk, late marks, and the absentees (缺考); ID numbers masked (R-PRIV-1)."""
    ordered = sorted(rows, key=lambda r: (r.seat is None, r.seat or 0, r.ticket_number))
    present = sum(1 for r in ordered if r.at is not None)
    late = sum(1 for r in ordered if r.late)
    chunks = [ordered[i : i + _PER_PAGE] for i in range(0, len(ordered), _PER_PAGE)] or [[]]
    widths = (12.0, 34.0, 24.0, 36.0, 16.0, 22.0, 28.0, 22.0)
    header = (
        ("座位", "Seat"),
        ("准考证号", "Ticket"),
        ("姓名", "Name"),
        ("身份证号", "ID No."),
        ("照片", "Photo"),
        ("签到时间", "Time"),
        ("签到设备", "Kiosk"),
        ("备注", "Note"),
    )
    row_h = 12.0
    line = room
    if session:
        zh, en = _part(session[0])
        line = f"{room}   {zh} {en}   {_when(session[1], session[2])}"
    pages = []
    for n, chunk in enumerate(chunks, start=1):
        ops: list = []
        if institution:
            ops.append(_Text(105, 12, _fit(institution, 180, 10)[0], 10, align="m"))
        ops.append(_Text(105, 21, "考生签到表（签到记录）  Sign-in sheet as recorded", 14, True, align="m"))
        text, pt = _fit(line, 190, 9.5)
        ops.append(_Text(105, 28, text, pt, align="m"))
        body = []
        for r in chunk:
            when = r.at.astimezone(CST).strftime("%H:%M:%S") if r.at else ""
            note = "缺考 Absent" if r.at is None else ("迟到 Late" if r.late else "")
            body.append((str(r.seat or ""), r.ticket_number, r.name, r.masked_id, "", when, r.kiosk, note))
        bottom = _table(ops, 7, 33, widths, header, body, row_h, 9)
        x_photo = 7 + sum(widths[:4])
        for i, r in enumerate(chunk, start=1):
            if r.photo:
                ops.append(_Photo(x_photo + 1, 33 + i * row_h + 0.8, widths[4] - 2, row_h - 1.6, r.photo))
        if n == len(chunks):
            ops.append(
                _Text(
                    7,
                    bottom + 8,
                    f"应到 Expected: {len(ordered)}    实到 Present: {present}    "
                    f"缺考 Absent: {len(ordered) - present}    迟到 Late: {late}",
                    9,
                )
            )
            ops.append(
                _Text(7, bottom + 15, f"生成于 Produced {produced_at.astimezone(CST):%Y-%m-%d %H:%M} (examday)", 8)
            )
        ops.append(_Text(203, 290, f"{n}/{len(chunks)}", 8, gray=_GRAY, align="r"))
        pages.append(ops)
    return render_pdf(pages, produced_at)
