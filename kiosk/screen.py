"""The kiosk's full-screen answer (签到结果): where to go, or why not and what to do, in Chinese
and English beside the camera preview (R-DAY-1). OpenCV cannot draw Chinese, so Pillow draws the
text with the CJK font onto the frame; ``--headless`` prints ``describe()`` instead.

R-PRIV-1: the screen shows the masked ID number only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SCREEN = (1280, 720)
COLOURS = {  # RGB panels: a colour the candidate reads from across the room
    "ready": (40, 44, 52),
    "prompt": (22, 78, 160),
    "accepted": (27, 127, 58),
    "refused": (179, 38, 30),
    "warn": (166, 99, 0),
}


@dataclass
class Answer:
    kind: str  # ready | prompt | accepted | refused | warn
    title_zh: str
    title_en: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (Chinese, English)
    code: str | None = None


def ready() -> Answer:
    return Answer("ready", "请出示准考证二维码", "Show the QR code on your admission ticket")


def prompt(masked_id_typed: str = "") -> Answer:
    lines = [(masked_id_typed, "")] if masked_id_typed else []
    return Answer("prompt", "请刷身份证或输入身份证号", "Swipe your ID card or type your ID number", lines)


def from_response(status: int, body: dict[str, Any], offline: bool = False) -> Answer:
    """What to show for the server's answer (or the offline kiosk's own)."""
    note = (
        [("网络中断：已离线核验，恢复后自动上传", "Offline: checked here, uploaded when the network is back")]
        if offline
        else []
    )
    if status == 200 and body.get("status") == "accepted":
        cand = body.get("candidate") or {}
        lines = [(f"{cand.get('name', '')}  {cand.get('masked_id', '')}", "")]
        sitting = body.get("sitting") or {}
        if body.get("room_code") and sitting:
            # A skill sitting (R-SEAT-1, issue #15): the skill room, the sitting, the workstation.
            hhmm = str(sitting.get("starts_at") or "")[11:16]
            room = f"{body.get('room_name') or ''} {body['room_code']}".strip()
            lines.insert(
                0,
                (
                    f"{room}  ·  第{sitting.get('no')}场（共{sitting.get('of')}场）{hhmm}  ·  {body.get('station')} 号工位",
                    f"Room {body['room_code']}, sitting {sitting.get('no')} of {sitting.get('of')} at {hhmm}, "
                    f"workstation {body.get('station')}",
                ),
            )
        elif body.get("room_code"):
            lines.insert(
                0,
                (
                    f"考场 {body['room_code']}  ·  {body.get('seat')} 号座位",
                    f"Room {body['room_code']}, seat {body.get('seat')}",
                ),
            )
        else:
            lines.insert(0, ("请到考务室领取座位", "Please ask the exam office for your seat"))
        if body.get("late"):
            lines.append(("考试已开始，请尽快入场", "The exam has started: please go in now"))
        return Answer("accepted", "签到成功", "Checked in", lines + note)
    code = body.get("code") or "error"
    lines = [(body.get("message") or "签到未通过", body.get("message_en") or "Check-in refused")]
    detail = body.get("detail") or {}
    if code == "already_checked_in" and detail.get("room_code"):
        lines.append(
            (
                f"您的座位：考场 {detail['room_code']} · {detail.get('seat')} 号（签到机 {detail.get('kiosk', '')}）",
                f"Your seat: room {detail['room_code']}, seat {detail.get('seat')} (kiosk {detail.get('kiosk', '')})",
            )
        )
    if code == "wrong_sitting" and detail.get("room_code"):
        lines.append(
            (
                f"您的工位：考场 {detail['room_code']} · {detail.get('station')} 号工位",
                f"Your workstation: room {detail['room_code']}, workstation {detail.get('station')}",
            )
        )
    # Not a dead end: the candidate comes back at their own time.
    kind = "warn" if code in ("not_open_yet", "already_checked_in", "wrong_sitting") else "refused"
    return Answer(kind, "签到未通过", "Not checked in", lines + note, code)


def network_error() -> Answer:
    return Answer(
        "refused",
        "无法核验",
        "Cannot check",
        [
            (
                "网络中断且没有离线名单，请到签到台人工核验",
                "No network and no offline roster: please go to the check-in desk",
            )
        ],
    )


def not_authorised(code: str | None) -> Answer:
    """A 401 or 403: nobody checks in here until the exam office acts. An expired token
    (R-STAFF-4) says so, so that the office issues a new one rather than hunting for a fault."""
    if code == "token_expired":
        return Answer(
            "refused",
            "签到机令牌已过期",
            "This kiosk's token has expired",
            [("请考务室重新签发令牌", "Ask the exam office for a new token")],
            "token_expired",
        )
    return Answer(
        "refused",
        "签到机未授权",
        "This kiosk is not authorised",
        [("请联系考务室", "Call the exam office")],
        "forbidden",
    )


def describe(a: Answer) -> str:
    """One log line of what the screen would show (headless mode, tests)."""
    parts = [f"[{a.kind}] {a.title_zh} / {a.title_en}"] + [f"{zh} / {en}" if en else zh for zh, en in a.lines]
    return " | ".join(parts)


@lru_cache(maxsize=16)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        from examday.plans.ticket_render import find_cjk_font

        path = find_cjk_font()
    except Exception:
        return ImageFont.load_default(px)
    # Face 2 of the Noto Sans CJK collection is Simplified Chinese.
    index = 2 if path.suffix == ".ttc" and path.name.startswith("NotoSansCJK") else 0
    return ImageFont.truetype(str(path), px, index=index)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    out, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width and line:
            cut = line.rfind(" ")
            if cut > 0 and ch != " " and line.isascii():
                out.append(line[:cut])
                line = line[cut + 1 :] + ch
            else:
                out.append(line)
                line = ch.lstrip()
        else:
            line += ch
    if line:
        out.append(line)
    return out


def render(frame: np.ndarray | None, a: Answer, size: tuple[int, int] = SCREEN) -> np.ndarray:
    """A BGR image for ``cv2.imshow``: the camera preview on the left, the answer on the right."""
    w, h = size
    img = Image.new("RGB", size, COLOURS.get(a.kind, COLOURS["ready"]))
    preview_w = int(w * 0.42)
    if frame is not None and frame.size:
        fh, fw = frame.shape[:2]
        scale = min(preview_w / fw, h / fh)
        rgb = frame[:, :, ::-1] if frame.ndim == 3 else np.stack([frame] * 3, axis=-1)
        cam = Image.fromarray(np.ascontiguousarray(rgb)).resize((max(1, int(fw * scale)), max(1, int(fh * scale))))
        img.paste(cam, (0, (h - cam.height) // 2))
    draw = ImageDraw.Draw(img)
    x, y, width = preview_w + 40, 50, w - preview_w - 80
    for text, px, fill in ((a.title_zh, 72, (255, 255, 255)), (a.title_en, 34, (235, 235, 235))):
        for line in _wrap(draw, text, _font(px), width):
            draw.text((x, y), line, font=_font(px), fill=fill)
            y += int(px * 1.3)
    y += 20
    for zh, en in a.lines:
        for line in _wrap(draw, zh, _font(44), width):
            draw.text((x, y), line, font=_font(44), fill=(255, 255, 255))
            y += 58
        for line in _wrap(draw, en, _font(28), width) if en else []:
            draw.text((x, y), line, font=_font(28), fill=(225, 225, 225))
            y += 38
        y += 14
    return np.asarray(img)[:, :, ::-1].copy()
