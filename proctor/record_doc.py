"""Paper forms of the day as PNG (Pillow): the exam-room record (考场记录表, R-DAY-3)
and the supervision report (质量督导报告, R-SUP-1). Both are key documents kept
permanently (R-ARCH-1); the caller archives the bytes as a blob.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from examday.levels import level_text
from examday.plans.ticket_render import find_cjk_font

WIDTH = 1240  # A4 at 150 dpi
MARGIN = 70
LINE = 34


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font()), px)


@dataclass
class Table:
    heading: str
    columns: Sequence[str]
    widths: Sequence[float]  # fractions of the printable width
    rows: Sequence[Sequence[Any]]
    empty: str = "无 None"


@dataclass
class Form:
    title: str
    lines: list[str] = field(default_factory=list)
    blocks: list[Table | tuple[str, str]] = field(default_factory=list)  # a table, or (heading, paragraph)
    footer: list[str] = field(default_factory=list)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> list[str]:
    out: list[str] = []
    for para in str(text).split("\n"):
        line = ""
        for ch in para:
            if draw.textlength(line + ch, font=font) > width and line:
                out.append(line)
                line = ch
            else:
                line += ch
        out.append(line)
    return out


def render(form: Form) -> bytes:
    """Lay the form out on as tall a page as it needs, and return PNG bytes."""
    # Draw twice: first on a scratch page to measure, then on one of the right height.
    height = _paint(form, None)
    image = Image.new("L", (WIDTH, max(1754, height + MARGIN)), 255)
    _paint(form, image)
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _paint(form: Form, image: Image.Image | None) -> int:
    scratch = image or Image.new("L", (WIDTH, 10), 255)
    d = ImageDraw.Draw(scratch)
    draw = image is not None
    inner = WIDTH - 2 * MARGIN
    y = MARGIN
    title = _font(40)
    if draw:
        d.text((WIDTH / 2, y), form.title, font=title, fill=0, anchor="ma")
    y += 64
    body, small, bold = _font(24), _font(21), _font(26)
    for line in form.lines:
        for part in _wrap(d, line, body, inner):
            if draw:
                d.text((MARGIN, y), part, font=body, fill=0)
            y += LINE
    for block in form.blocks:
        y += 14
        if isinstance(block, tuple):
            heading, text = block
            if draw:
                d.text((MARGIN, y), heading, font=bold, fill=0)
            y += LINE + 4
            for part in _wrap(d, text or "—", body, inner):
                if draw:
                    d.text((MARGIN + 10, y), part, font=body, fill=0)
                y += LINE
            continue
        if draw:
            d.text((MARGIN, y), f"{block.heading}（{len(block.rows)}）", font=bold, fill=0)
        y += LINE + 4
        xs: list[float] = [MARGIN]
        for w in block.widths:
            xs.append(xs[-1] + w * inner)
        rows = [list(block.columns)] + [[("" if c is None else str(c)) for c in r] for r in block.rows]
        if not block.rows:
            rows.append([block.empty] + [""] * (len(block.columns) - 1))
        for i, row in enumerate(rows):
            cells = [_wrap(d, c, small, xs[k + 1] - xs[k] - 12) for k, c in enumerate(row)]
            h = max(len(c) for c in cells) * 28 + 10
            if draw:
                if i == 0:
                    d.rectangle([xs[0], y, xs[-1], y + h], fill=230)
                d.rectangle([xs[0], y, xs[-1], y + h], outline=0, width=1)
                for x in xs[1:-1]:
                    d.line([x, y, x, y + h], fill=0, width=1)
                for k, lines in enumerate(cells):
                    for j, text in enumerate(lines):
                        d.text((xs[k] + 6, y + 5 + j * 28), text, font=small, fill=0)
            y += h
    y += 24
    for line in form.footer:
        for part in _wrap(d, line, body, inner):
            if draw:
                d.text((MARGIN, y), part, font=body, fill=0)
            y += LINE
    return y


def _t(text: str | None) -> str:
    """'2026-11-26T09:00:00+08:00' as '2026-11-26 09:00' (China time, as stored by iso())."""
    return "" if not text else text[:16].replace("T", " ")


def room_record_form(
    content: dict[str, Any], confirmations: Sequence[dict[str, Any]] = (), amendments: Sequence[dict[str, Any]] = ()
) -> Form:
    c = content
    s, r, b = c["session"], c["room"], c["batch"]
    form = Form(title="考场记录表  Exam-room record")
    form.lines = [
        f"{c.get('institution', '')}",
        f"职业 Occupation：{b['occupation_name']}（{b['occupation_code']}）  等级 Level：{level_text(b['level'])}",
        f"考场 Room：{r['code']} {r['name']}   科目 Part：{s['part']}   时间 Time：{_t(s['starts_at'])} — {_t(s['ends_at'])[11:]}",
        f"监考员 Proctors：{'、'.join(p['name'] for p in c['proctors'])}",
        f"应到 Expected {c['expected']}   实到 Present {c['present']}   缺考 Absent {c['absent']}   "
        f"迟到 Late {c['late']}   违纪 Incidents {len(c['incidents'])}   提前交卷 Early hand-ins {len(c['hand_ins'])}",
    ]
    form.blocks = [
        Table(
            "缺考考生 Absent",
            ["准考证号 Ticket", "姓名 Name", "座位 Seat"],
            [0.4, 0.35, 0.25],
            [(a["ticket_number"], a["name"], a["seat"]) for a in c["absent_candidates"]],
        ),
        Table(
            "迟到考生 Late",
            ["准考证号 Ticket", "姓名 Name", "座位 Seat", "到场 Arrived"],
            [0.3, 0.25, 0.15, 0.3],
            [(a["ticket_number"], a["name"], a["seat"], _t(a["at"])[11:]) for a in c["late_candidates"]],
        ),
        Table(
            "违纪情况 Incidents (R-DISC-1)",
            ["考生 Candidate", "类型 Kind", "处理 Effect", "说明 Description", "时间 Time"],
            [0.18, 0.2, 0.2, 0.27, 0.15],
            [
                (
                    f"{i['ticket_number']} {i['name']}",
                    f"{i['label']}（{i['tier']}）",
                    i["effect"],
                    i["description"],
                    i["at"][11:16],
                )
                for i in c["incidents"]
            ],
        ),
        Table(
            "调换座位 Seat moves",
            ["考生 Candidate", "原座位 From", "新座位 To", "原因 Reason"],
            [0.3, 0.15, 0.15, 0.4],
            [(f"{m['ticket_number']} {m['name']}", m["from_seat"], m["to_seat"], m["reason"]) for m in c["seat_moves"]],
        ),
        Table(
            "提前交卷 Early hand-ins",
            ["考生 Candidate", "时间 Time"],
            [0.6, 0.4],
            [(f"{h['ticket_number']} {h['name']}", _t(h["at"])[11:]) for h in c["hand_ins"]],
        ),
        ("备注 Remarks", c.get("remarks") or "—"),
    ]
    form.footer = [f"生成 Produced：{_t(c['produced_at'])}"]
    for k in confirmations:
        form.footer.append(f"监考员确认 Confirmed by {k['name']}：{_t(k['at'])}")
    for a in amendments:
        form.blocks.append(
            (f"更正 Amendment {a['number']}（{_t(a['at'])}，{a['by']}）", f"{a['text']}\n原因 Reason：{a['reason']}")
        )
    return form


def supervision_form(body: dict[str, Any]) -> Form:
    from proctor.rules import SUPERVISION_AREA_LABELS, SUPERVISION_AREAS, VALIDITY_OPINIONS

    b = body["batch"]
    form = Form(title="质量督导报告  Supervision report")
    form.lines = [
        f"{body.get('institution', '')}",
        f"职业 Occupation：{b['occupation_name']}（{b['occupation_code']}）  等级 Level：{level_text(b['level'])}  "
        f"考试日期 Exam date：{b['exam_date']}",
        f"督导员 Supervisor：{body['supervisor']}   提交 Filed：{_t(body['filed_at'])}   "
        f"截止 Deadline：{body['deadline']}（{'按时 on time' if body['met'] else '逾期 late'}）",
    ]
    form.blocks = [(SUPERVISION_AREA_LABELS[a], body[a]) for a in SUPERVISION_AREAS]
    form.blocks.append(
        (
            "有效性意见 Opinion on validity",
            f"{VALIDITY_OPINIONS[body['opinion']]}\n{body.get('opinion_text') or ''}".strip(),
        )
    )
    form.blocks.append(
        Table(
            "督导记录 Findings",
            ["时间 Time", "方面 Area", "内容 Finding"],
            [0.22, 0.18, 0.6],
            [
                (_t(f["at"]), SUPERVISION_AREA_LABELS.get(f["area"], f["area"]), f["text"])
                for f in body.get("findings", [])
            ],
        )
    )
    return form
