"""Printed papers: the ticket QR reads back exactly (R-DAY-1), Chinese text is real glyphs,
masked data only on posted papers (R-PRIV-1), sign-in sheet (R-DAY-3)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from examday.levels import ALL_LEVELS, level_name
from examday.plans import ticket_render as tr
from examday.plans.room_sheets import render_door_list_png, render_seating_chart_png, render_signin_sheet_png
from examday.plans.ticket_render import TicketView, find_cjk_font, render_ticket_png, render_tickets_pdf
from examday.ticket_token import TicketClaims, generate_key, issue, new_token_id
from kiosk.qrdecode import decode

CST = ZoneInfo("Asia/Shanghai")
THEORY = ("theory", datetime(2026, 5, 10, 9, 0, tzinfo=CST), datetime(2026, 5, 10, 10, 30, tzinfo=CST))
SKILL = ("skill", datetime(2026, 5, 10, 13, 30, tzinfo=CST), datetime(2026, 5, 10, 16, 0, tzinfo=CST))


@pytest.fixture(scope="module")
def token() -> str:
    kid, pem, _ = generate_key()
    claims = TicketClaims("2026051000123", 4821, date(2026, 5, 10), "ab" * 32, new_token_id())
    return issue(pem, kid, claims)


def _photo() -> bytes:
    picture = Image.new("RGB", (300, 400), (80, 130, 190))
    ImageDraw.Draw(picture).ellipse((80, 60, 220, 220), fill=(235, 205, 175))
    out = io.BytesIO()
    picture.save(out, "JPEG")
    return out.getvalue()


def _view(qr_text: str, **over) -> TicketView:
    fields = dict(
        institution="成都市某某职业技能等级认定中心",
        ticket_number="2026051000123",
        name="欧阳娜娜",
        masked_id="110105********002X",
        occupation_name="电工",
        occupation_code="6-31-01-03",
        level=4,
        parts=("theory", "skill"),
        sessions=(THEORY, SKILL),
        room_code="T101",
        seat=12,
        qr_text=qr_text,
        photo=_photo(),
    )
    fields.update(over)
    return TicketView(**fields)


def _gray(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def test_ticket_png_qr_decodes_to_exactly_the_token(token):  # R-DAY-1
    png = render_ticket_png(_view(token))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert 820 <= image.width <= 900 and 580 <= image.height <= 640  # A6 at ~150 dpi
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(_gray(png))
    assert text == token
    side = float(np.linalg.norm(points[0][1] - points[0][0]))
    assert side >= 300  # large enough for a phone photo


def test_ticket_qr_survives_a_rough_phone_photo(token):  # R-DAY-1
    gray = _gray(render_ticket_png(_view(token)))
    h, w = gray.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 7, 0.55)
    photo = cv2.warpAffine(gray, turn, (w, h), borderValue=255)
    photo = cv2.GaussianBlur(photo, (3, 3), 0)
    ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    photo = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    # What the kiosk reads it with (kiosk/qrdecode.py). OpenCV's detector alone misses about one
    # such photo in eight (bench/qr_decoders.py measures each decoder), so it is not asserted here.
    assert decode(photo) == [token]
    assert [r.text for r in zxingcpp.read_barcodes(photo)] == [token]


def test_ticket_without_photo_or_with_a_broken_one_still_renders(token):
    for photo in (None, b"not an image"):
        png = render_ticket_png(_view(token, photo=photo, seat=None, sessions=()))
        assert cv2.QRCodeDetector().detectAndDecode(_gray(png))[0] == token


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    canvas = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(canvas).text((8, 8), char, fill=255, font=font)
    return np.asarray(canvas) > 127


def test_chinese_glyphs_are_real_not_tofu():
    font = tr._pil_font(64)
    zhang, wang = _glyph(font, "张"), _glyph(font, "王")
    missing = _glyph(font, "\U0010fffd")  # no font maps this: it draws .notdef
    assert zhang.sum() > 100 and wang.sum() > 100
    assert (zhang != wang).sum() > 100
    assert (zhang != missing).sum() > 100 and (wang != missing).sum() > 100


def test_font_covers_every_character_the_papers_print():
    from fontTools.ttLib import TTFont

    path, index, _ = tr._face()
    cmap = TTFont(str(path), fontNumber=index, lazy=True).getBestCmap()
    printed = "".join(
        [zh + en for zh, en in map(level_name, ALL_LEVELS)]  # R-LEVEL: the enterprise tiers too
        + [zh + en for zh, en in tr.PARTS.values()]
        + [
            "准考证 ADMISSION TICKET 准考证号 姓名 身份证号 职业 等级 考场 座位 考试安排 入场签到请出示此码",
            "须知：凭本证和本人身份证原件入场，对号入座，不得调换座位。 另行通知 照片 讲台·黑板 停用",
            "座位表 考生名单 共人 考生签到表 签名 备注 应到 实到 缺考 监考员签名 日期 级…–—",
            "欧阳娜娜张王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤",
        ]
    )
    absent = sorted({c for c in printed if not c.isspace() and ord(c) not in cmap})
    assert absent == []


def test_missing_font_names_the_package_to_install(monkeypatch):
    monkeypatch.setattr(tr, "_FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    monkeypatch.delenv("EXAMDAY_CJK_FONT", raising=False)
    tr._face.cache_clear()
    try:
        with pytest.raises(tr.CjkFontMissing, match="fonts-noto-cjk"):
            find_cjk_font()
    finally:
        monkeypatch.undo()
        tr._face.cache_clear()
        tr._pil_font.cache_clear()
    assert find_cjk_font().is_file()


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_pdf_has_the_right_page_count_and_is_reproducible(token):
    views = [_view(token, ticket_number=f"20260510{i:05d}", seat=i) for i in range(1, 10)]
    four_up = render_tickets_pdf(views)
    assert four_up.startswith(b"%PDF")
    assert _pages(four_up) == 3
    one_up = render_tickets_pdf(views, per_page=1)
    assert one_up.startswith(b"%PDF") and _pages(one_up) == 9
    assert b"/FontFile" in four_up  # the CJK font is embedded, so any printer shows it
    # No clock inside: the same tickets give the same bytes.
    assert render_tickets_pdf(views) == four_up
    assert _pages(render_tickets_pdf([])) == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_ticket_qr_reads_back_when_printed(token, tmp_path):  # R-DAY-1
    (tmp_path / "t.pdf").write_bytes(render_tickets_pdf([_view(token)] * 4))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", str(tmp_path / "t.pdf"), str(tmp_path / "p")],
        check=True,
    )
    page = np.asarray(Image.open(next(tmp_path.glob("p*.png"))).convert("L"))
    assert [r.text for r in zxingcpp.read_barcodes(page)] == [token] * 4


def test_seating_chart_door_list_and_signin_sheet_render():  # R-SEAT-1, R-DAY-3, R-PRIV-1
    seats = {s: (f"20260510{s:05d}", "张*") for s in range(1, 28) if s != 5}
    chart = Image.open(io.BytesIO(render_seating_chart_png("T101", "第一理论考场", 5, 6, seats, {5}, 28)))
    assert chart.format == "PNG" and chart.width > 900
    door = render_door_list_png("T101 第一理论考场", THEORY, [(t, n, s) for s, (t, n) in seats.items()])
    assert Image.open(io.BytesIO(door)).size == (1240, 1754)  # A4 at 150 dpi
    rows = [(s, t, "欧阳娜娜", "110105********002X") for s, (t, _) in seats.items()]
    sheet = render_signin_sheet_png(
        "T101 第一理论考场",
        THEORY,
        rows + [(28, "2026051000028", "李四", "1101**")] * 4,
        "成都市某某职业技能等级认定中心",
    )
    assert Image.open(io.BytesIO(sheet)).size == (1240, 1754)  # 30 rows fit one page
    for png in (door, sheet):
        ink = (_gray(png) < 128).mean()
        assert 0.01 < ink < 0.3
    many = [(s, f"T{s:04d}", "王五", "1101**") for s in range(1, 61)]
    assert Image.open(io.BytesIO(render_signin_sheet_png("T1", None, many))).height > 1754


def test_key_fields_shrink_to_fit_but_are_never_cut(token):  # R-DAY-1, R-SEAT-1
    view = _view(token, ticket_number="T2026-0510-ABCDEFG-0001", name="买买提·艾力·阿卜杜拉")
    texts = {op.text for op in tr.ticket_ops(view) if isinstance(op, tr._Text)}
    assert {view.ticket_number, view.masked_id, view.room_code, "12"} <= texts
