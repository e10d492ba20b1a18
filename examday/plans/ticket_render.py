"""Admission tickets (准考证) as PNG and PDF, and the drawing kit every printed
exam-day paper shares (the room papers are in ``examday.plans.room_sheets``).

Rules: R-DAY-1 (the ticket carries the QR code checked at the kiosk), R-SEAT-1
(the seat on the ticket), R-PRIV-1 (only the masked ID number is printed).

A ticket is laid out once, in millimetres, as a list of drawing operations;
Pillow paints them for the PNG and fpdf2 writes them into the PDF (text and
lines as vectors, the QR as a bitmap), so the two can never drift apart.
"""

from __future__ import annotations

import io
import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import zxingcpp
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from examday.levels import level_name, level_title
from examday.settings import cjk_font_override

CST = ZoneInfo("Asia/Shanghai")
DPI = 150
TICKET_MM = (148.0, 105.0)  # A6 landscape
FONT_PACKAGE = "fonts-noto-cjk"
_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
PARTS = {"theory": ("理论知识考试", "Theory"), "skill": ("技能操作考核", "Skill"), "review": ("综合评审", "Review")}
_GRAY = 110
_ONE_MM = DPI / 25.4

Session = tuple[str, datetime, datetime]


class CjkFontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class TicketView:
    institution: str
    ticket_number: str
    name: str
    masked_id: str
    occupation_name: str
    occupation_code: str
    level: int
    parts: Sequence[str]
    sessions: Sequence[Session]
    room_code: str
    seat: int | None
    qr_text: str
    photo: bytes | None = None
    # Where the candidate sits a part held in several sittings, by part: the skill sitting's
    # workstation, e.g. {"skill": "S01 工位 5"}, its own schedule line (R-SEAT-1, issue #15).
    places: Mapping[str, str] = field(default_factory=dict)
    # Issue #16: the room's name beside its code, the exam site's address, and the entry window
    # of the filed plan (R-TIME-1: from the institution's timing profile, kept with the plan).
    room_name: str = ""
    address: str = ""
    entry_open_minutes: int = 30
    entry_close_minutes: int = 30


def find_cjk_font() -> Path:
    """The regular CJK font file used for every paper (env EXAMDAY_CJK_FONT overrides)."""
    return _face()[0]


@lru_cache(maxsize=1)
def _face() -> tuple[Path, int, Path | None]:
    override = cjk_font_override()
    for path in (override,) if override else _FONT_CANDIDATES:
        if Path(path).is_file():
            # Face 2 of the Noto CJK collections is Simplified Chinese; face 0
            # (Japanese) would draw some characters the Japanese way.
            index = 2 if re.search(r"Noto(Sans|Serif)CJK-\w+\.ttc$", path) else 0
            bold = Path(path.replace("Regular", "Bold"))
            return Path(path), index, bold if bold != Path(path) and bold.is_file() else None
    raise CjkFontMissing(
        f"No Chinese (CJK) font found. Install the Debian package {FONT_PACKAGE} "
        f"(apt-get install -y {FONT_PACKAGE}), or fonts-wqy-microhei, "
        "or point EXAMDAY_CJK_FONT at a .ttc/.otf/.ttf file."
    )


@lru_cache(maxsize=64)
def _pil_font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path, index, bold_path = _face()
    # Basic layout: Chinese and Latin need no shaping, and raqm is several times slower.
    return ImageFont.truetype(
        str(bold_path if bold and bold_path else path), px, index=index, layout_engine=ImageFont.Layout.BASIC
    )


def _width_mm(text: str, pt: float, bold: bool = False) -> float:
    return _em_widths(text, bold) * pt * 25.4 / 72


@lru_cache(maxsize=8192)
def _em_widths(text: str, bold: bool) -> float:
    return _pil_font(100, bold).getlength(text) / 100


@lru_cache(maxsize=4096)
def _text_mask(text: str, px: int, bold: bool, align: str) -> tuple[Image.Image, int, int]:
    # CJK outlines are slow to rasterise and a batch repeats most strings
    # (institution, occupation, times, room codes), so each is drawn once.
    font = _pil_font(px, bold)
    anchor = {"l": "ls", "m": "ms", "r": "rs"}[align]
    # Whole pixels: FreeType's box is integral; Pillow's typing allows floats for other fonts.
    left, top, right, bottom = (int(v) for v in font.getbbox(text, anchor=anchor))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=font, anchor=anchor)
    return mask, left, top


# Drawing operations, all in millimetres from the top left; a text's y is its baseline.
_Text = namedtuple("_Text", "x y text pt bold gray align", defaults=(False, 0, "l"))
_Line = namedtuple("_Line", "x1 y1 x2 y2 width", defaults=(0.25,))
_Box = namedtuple("_Box", "x y w h width fill", defaults=(0.25, None))
_Qr = namedtuple("_Qr", "x y size modules")  # modules: bool array, True is dark
_Photo = namedtuple("_Photo", "x y w h data")


def _fit(
    text: str, width: float, pt: float, bold: bool = False, floor: float = 5.5, cut: bool = True
) -> tuple[str, float]:
    """Shrink to fit the width, and only then cut with an ellipsis (never, if not ``cut``)."""
    used = _width_mm(text, pt, bold)
    if used > width:
        pt = pt * width / used * 0.995
        if cut:
            pt = max(floor, pt)
    while len(text) > 1 and _width_mm(text, pt, bold) > width:
        text = text[:-2] + "…"
    return text, pt


def _label(ops: list, x: float, y: float, zh: str, en: str, pt: float = 7.0) -> float:
    """A bilingual label; returns where the value may start."""
    ops.append(_Text(x, y, zh, pt, gray=_GRAY))
    x2 = x + _width_mm(zh, pt) + 0.8
    ops.append(_Text(x2, y, en, pt * 0.78, gray=_GRAY))
    return x2 + _width_mm(en, pt * 0.78) + 1.5


def qr_modules(text: str) -> np.ndarray:
    # zxing-cpp's encoder: ~0.5 ms against ~17 ms for the pure-Python one,
    # which alone would eat most of the 20 ms budget per ticket.
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


def _when(start: datetime, end: datetime) -> str:
    def local(t: datetime) -> datetime:
        return t.astimezone(CST) if t.tzinfo else t

    a, b = local(start), local(end)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M}–{tail}"


def _part(part: str) -> tuple[str, str]:
    return PARTS.get(part, (part, ""))


_FIELDS = (
    ("准考证号", "Ticket No."),
    ("姓名", "Name"),
    ("身份证号", "ID No."),
    ("职业", "Occupation"),
    ("等级", "Level"),
)


@lru_cache(maxsize=1)
def _static_ops() -> tuple[tuple, tuple[float, ...]]:
    """What every ticket shares, laid out once; also where each field's value starts."""
    width, height = TICKET_MM
    ops: list = [
        _Box(2.5, 2.5, width - 5, height - 5, 0.35),
        _Text(width / 2, 18.5, "准考证  ADMISSION TICKET", 14, True, align="m"),
        _Line(6, 21, width - 6, 21, 0.3),
    ]
    starts = [_label(ops, 31, 29 + i * 6.4, zh, en) for i, (zh, en) in enumerate(_FIELDS)]
    starts.append(_label(ops, 6, 65, "考场", "Room", 8))
    starts.append(_label(ops, 50, 65, "座位", "Seat", 8))
    ops.append(_Line(6, 68.5, 78, 68.5, 0.2))
    _label(ops, 6, 73, "考试安排", "Schedule")
    ops.append(_Text(112, 87.2, "入场签到请出示此码", 7.5, align="m"))
    ops.append(_Text(112, 90.6, "Show this code at check-in", 6, gray=_GRAY, align="m"))
    ops.append(_Line(6, 93.5, width - 6, 93.5, 0.2))
    return tuple(ops), tuple(starts)


def entry_notes(view: TicketView) -> tuple[str, str]:
    """The notes line: the entry window in minutes from the filed plan (R-TIME-1), and what to bring."""
    zh = (
        f"须知：开考前{view.entry_open_minutes}分钟起入场，开考{view.entry_close_minutes}分钟后不得入场；"
        "凭本证和本人身份证原件入场，对号入座。"
    )
    en = (
        f"Entry from {view.entry_open_minutes} min before the start until {view.entry_close_minutes} min after; "
        "bring this ticket and your ID card."
    )
    return zh, en


def _variable_ops(view: TicketView) -> list:
    width, _ = TICKET_MM
    starts = _static_ops()[1]
    text, pt = _fit(view.institution, width - 16, 10.5, True)
    ops: list = [_Text(width / 2, 10.5, text, pt, True, align="m"), _Photo(6, 25, 22, 29, view.photo)]
    # The door checks ticket number, ID and seat by eye: those shrink but are never cut.
    values = (
        (view.ticket_number, True, False),
        (view.name, True, True),
        (view.masked_id, False, False),
        (f"{view.occupation_name} {view.occupation_code}", False, True),
        # R-LEVEL: "3级 高级工 Advanced", an enterprise tier by its name alone ("首席技师 Chief technician").
        (f"{level_title(view.level)} {level_name(view.level)[1]}", False, True),
    )
    for i, (value, bold, cut) in enumerate(values):
        text, pt = _fit(value, 78 - starts[i], 9.5, bold, cut=cut)
        ops.append(_Text(starts[i], 29 + i * 6.4, text, pt, bold))
    text, pt = _fit(view.room_code, 28, 15, True, cut=False)
    ops.append(_Text(starts[5], 65, text, pt, True))
    # The room's name and the site's address above the room line (issue #16).
    site = "  ".join(x for x in (view.room_name, f"地址 {view.address}" if view.address else "") if x)
    if site:
        ops.append(_Text(6, 60.2, *_fit(site, 72, 8)))
    zh, en = entry_notes(view)
    ops.append(_Text(6, 97, *_fit(zh, width - 12, 7)))
    ops.append(_Text(6, 100.3, *_fit(en, width - 12, 6), gray=_GRAY))
    ops.append(_Text(starts[6], 65, "—" if view.seat is None else str(view.seat), 15, True))
    timed = {p for p, _, _ in view.sessions}
    lines = [(_part(p), _when(a, b)) for p, a, b in sorted(view.sessions, key=lambda s: s[1])]
    lines += [(_part(p), "另行通知 TBA") for p in view.parts if p not in timed]
    lines += [(("考核工位", "Station"), place) for place in view.places.values()]
    for i, ((zh, en), when) in enumerate(lines[:4]):
        text, pt = _fit(f"{zh} {en}", 30, 7.5)
        when, when_pt = _fit(when, 41, 7.5, cut=False)
        ops += [_Text(6, 78 + i * 4.2, text, pt), _Text(37, 78 + i * 4.2, when, when_pt)]
    # 58 mm gives 7 px modules at 150 dpi; the layout keeps ~4 modules clear around it.
    ops.append(_Qr(83, 25, 58, qr_modules(view.qr_text)))
    return ops


def ticket_ops(view: TicketView) -> list:
    """The ticket's layout (R-DAY-1, R-SEAT-1, R-PRIV-1: the ID is shown masked only)."""
    return [*_static_ops()[0], *_variable_ops(view)]


# Paletted output: 128 grays for text and lines, 128 colours for the photo.
# A paletted PNG skips the per-row filter search, which made RGB 5x slower.
_GRAY_INDEX = [round(v * 127 / 255) for v in range(256)]
_PHOTO_INDEX = [min(255, v + 128) for v in range(256)]
_GRAY_PALETTE = [round(i * 255 / 127) for i in range(128) for _ in range(3)]


class _Canvas:
    """Pillow backend: paints operations at DPI on a grayscale page."""

    def __init__(self, width_mm: float, height_mm: float, base: Image.Image | None = None) -> None:
        size = (self.px(width_mm), self.px(height_mm))
        self.image = base.copy() if base is not None else Image.new("L", size, 255)
        self.draw = ImageDraw.Draw(self.image)
        self.photo: tuple[tuple[int, int], Image.Image] | None = None

    @staticmethod
    def px(mm: float) -> int:
        return round(mm * _ONE_MM)

    def paint(self, ops: Iterable) -> _Canvas:
        for op in ops:
            if isinstance(op, _Text):
                mask, left, top = _text_mask(op.text, max(1, round(op.pt * DPI / 72)), op.bold, op.align)
                self.image.paste(op.gray, (self.px(op.x) + left, self.px(op.y) + top), mask)
            elif isinstance(op, _Line):
                self.draw.line(
                    [(self.px(op.x1), self.px(op.y1)), (self.px(op.x2), self.px(op.y2))],
                    fill=0,
                    width=max(1, self.px(op.width)),
                )
            elif isinstance(op, _Box):
                box = [self.px(op.x), self.px(op.y), self.px(op.x + op.w), self.px(op.y + op.h)]
                self.draw.rectangle(box, fill=op.fill, outline=0, width=max(1, self.px(op.width)))
            elif isinstance(op, _Qr):
                self._qr(op)
            elif isinstance(op, _Photo):
                self._photo(op)
        return self

    def _qr(self, op: _Qr) -> None:
        n = op.modules.shape[0]
        # Whole pixels per module keep the edges sharp for the camera.
        unit = max(1, self.px(op.size) // n)
        symbol = np.where(op.modules, 0, 255).astype(np.uint8).repeat(unit, 0).repeat(unit, 1)
        pad = (self.px(op.size) - n * unit) // 2
        self.image.paste(Image.fromarray(symbol), (self.px(op.x) + pad, self.px(op.y) + pad))

    def _photo(self, op: _Photo) -> None:
        box = (self.px(op.x), self.px(op.y), self.px(op.x + op.w), self.px(op.y + op.h))
        picture = _open_photo(op.data, (box[2] - box[0], box[3] - box[1]))
        if picture is None:
            self.draw.rectangle(box, outline=_GRAY)
            cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
            self.draw.text((cx, cy), "照片\nPhoto", fill=_GRAY, font=_pil_font(18), anchor="mm", align="center")
            return
        x = box[0] + (box[2] - box[0] - picture.width) // 2
        y = box[1] + (box[3] - box[1] - picture.height) // 2
        self.photo = ((x, y), picture)

    def png(self) -> bytes:
        index = self.image.point(_GRAY_INDEX)
        palette = list(_GRAY_PALETTE)
        if self.photo is not None:
            (x, y), picture = self.photo
            colours = picture.quantize(128, method=Image.Quantize.FASTOCTREE)
            shifted = Image.frombytes("L", colours.size, colours.tobytes()).point(_PHOTO_INDEX)
            index.paste(shifted, (x, y))
            palette += (colours.getpalette() or [])[: 128 * 3]
        out_image = Image.frombytes("P", index.size, index.tobytes())
        out_image.putpalette(palette)
        out = io.BytesIO()
        out_image.save(out, "PNG", compress_level=1)
        return out.getvalue()


def _open_photo(data: bytes | None, fit: tuple[int, int] = (400, 400)) -> Image.Image | None:
    if not data:
        return None
    try:
        picture = Image.open(io.BytesIO(data))
        # thumbnail() lets a JPEG decode at a reduced size first (draft mode).
        picture.thumbnail(fit, Image.Resampling.BILINEAR)
        return picture.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        # A broken photo must not stop the batch's tickets from printing.
        return None


@lru_cache(maxsize=1)
def _ticket_template() -> Image.Image:
    return _Canvas(*TICKET_MM).paint(_static_ops()[0]).image


def render_ticket_png(view: TicketView) -> bytes:
    return _Canvas(*TICKET_MM, base=_ticket_template()).paint(_variable_ops(view)).png()


def render_tickets_pdf(
    views: Iterable[TicketView],
    per_page: int = 4,
    created_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Every ticket, four to an A4 landscape page (or one per A6 page); text stays vector.
    ``progress(n)`` is told after each ticket drawn (the office's page shows it, issue #16)."""
    if per_page not in (1, 4):
        raise ValueError("per_page is 1 or 4")
    path, index, bold = _face()
    width, height = TICKET_MM
    page = (height, width) if per_page == 1 else (210.0, 297.0)
    pdf = FPDF(orientation="L", unit="mm", format=page)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    # The module never reads the clock: the caller says when, or a fixed date is used.
    pdf.set_creation_date(created_at or datetime(2000, 1, 1, tzinfo=UTC))
    pdf.add_font("cjk", "", str(path), collection_font_number=index)
    pdf.add_font("cjk", "B", str(bold or path), collection_font_number=index)
    scale = 1.0 if per_page == 1 else min((297 - 12) / (2 * width), (210 - 12) / (2 * height))
    gap_x, gap_y = (297 - 2 * width * scale) / 3, (210 - 2 * height * scale) / 3
    for i, view in enumerate(views):
        slot = i % per_page
        if slot == 0:
            pdf.add_page()
        if per_page == 1:
            ox = oy = 0.0
        else:
            ox = gap_x + (slot % 2) * (width * scale + gap_x)
            oy = gap_y + (slot // 2) * (height * scale + gap_y)
        _pdf_paint(pdf, ticket_ops(view), ox, oy, scale)
        if progress is not None:
            progress(i + 1)
    if pdf.page == 0:
        pdf.add_page()
    return bytes(pdf.output())


def _pdf_paint(pdf: FPDF, ops: Iterable, ox: float, oy: float, s: float) -> None:
    pdf.set_draw_color(0)
    for op in ops:
        if isinstance(op, _Text):
            pdf.set_font("cjk", "B" if op.bold else "", op.pt * s)
            pdf.set_text_color(op.gray)
            x = ox + op.x * s
            if op.align != "l":
                shift = pdf.get_string_width(op.text)
                x -= shift / 2 if op.align == "m" else shift
            pdf.text(x, oy + op.y * s, op.text)
        elif isinstance(op, _Line):
            pdf.set_line_width(op.width * s)
            pdf.line(ox + op.x1 * s, oy + op.y1 * s, ox + op.x2 * s, oy + op.y2 * s)
        elif isinstance(op, _Box):
            pdf.set_line_width(op.width * s)
            if op.fill is not None:
                pdf.set_fill_color(op.fill)
            pdf.rect(ox + op.x * s, oy + op.y * s, op.w * s, op.h * s, "DF" if op.fill is not None else "D")
        elif isinstance(op, _Qr):
            # A bitmap with 8 pixels per module: any resampling by a viewer or
            # printer only softens module edges, and it costs one image instead
            # of ~500 rectangles per ticket.
            unit = 8
            symbol = np.where(op.modules, 0, 255).astype(np.uint8).repeat(unit, 0).repeat(unit, 1)
            pdf.image(Image.fromarray(symbol).convert("1"), ox + op.x * s, oy + op.y * s, op.size * s, op.size * s)
        elif isinstance(op, _Photo):
            x, y, w, h = ox + op.x * s, oy + op.y * s, op.w * s, op.h * s
            # About 300 dpi is plenty for a face check; a camera original is not.
            picture = _open_photo(op.data, (round(w / 25.4 * 300), round(h / 25.4 * 300)))
            if picture is None:
                pdf.set_line_width(0.2 * s)
                pdf.rect(x, y, w, h, "D")
                continue
            k = min(w / picture.width, h / picture.height)
            pw, ph = picture.width * k, picture.height * k
            jpeg = io.BytesIO()
            picture.save(jpeg, "JPEG", quality=85)
            pdf.image(jpeg, x + (w - pw) / 2, y + (h - ph) / 2, pw, ph)
