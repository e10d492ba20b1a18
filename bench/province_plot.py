"""bench/province.py's plot (Pillow, no plotting library): latency over the morning.

Top: every check-in (blue) and every (screen, check-in) feed delivery (orange) by the time it
was sent, on a log scale, with each series' p99 per 5-second bin as a line and the targets
(50 ms, 100 ms) dashed. Bottom: check-ins per second, achieved (bars) against arrivals (line),
and the database backends waiting on a lock (red)."""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 1400, 820
LEFT, RIGHT = 80, 30
TOP_Y0, TOP_Y1 = 50, 520
BOT_Y0, BOT_Y1 = 570, 780
LO_MS, HI_MS = 1.0, 10_000.0
BIN = 5.0
BLUE, ORANGE, RED, GREY = (40, 90, 200), (240, 140, 20), (200, 30, 30), (150, 150, 150)


def _font(size: int):
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def plot(
    path: Path,
    title: str,
    t0: float,
    checkins: list[tuple[float, float]],  # (wall time sent, seconds)
    feed: list[tuple[float, float]],  # (wall time accepted, seconds to the screen)
    planned: list[float],  # arrival offsets (s)
    waits: list[tuple[float, int, int]],  # (wall time, active backends, waiting on a lock)
) -> None:
    span = max([t - t0 for t, _ in checkins] + planned + [1.0]) + 2
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    small, big = _font(13), _font(16)

    def x(t: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * min(max(t, 0.0), span) / span

    def y_ms(ms: float) -> float:
        f = (math.log10(min(max(ms, LO_MS), HI_MS)) - math.log10(LO_MS)) / (math.log10(HI_MS) - math.log10(LO_MS))
        return TOP_Y1 - f * (TOP_Y1 - TOP_Y0)

    d.text((LEFT, 12), title, fill="black", font=big)
    for ms in (1, 10, 100, 1000, 10000):
        d.line([(LEFT, y_ms(ms)), (W - RIGHT, y_ms(ms))], fill=(230, 230, 230))
        d.text((8, y_ms(ms) - 8), f"{ms:g} ms", fill="black", font=small)
    for target, colour in ((50, BLUE), (100, ORANGE)):
        for x0 in range(LEFT, W - RIGHT, 12):
            d.line([(x0, y_ms(target)), (x0 + 6, y_ms(target))], fill=colour)
    rnd = random.Random(1)
    shown = feed if len(feed) <= 30000 else rnd.sample(feed, 30000)
    for series, colour in ((shown, ORANGE), (checkins, BLUE)):
        for t, s in series:
            px, py = x(t - t0), y_ms(s * 1000)
            d.rectangle([px - 1, py - 1, px + 1, py + 1], fill=colour)
    for series, colour in ((feed, ORANGE), (checkins, BLUE)):
        bins: dict[int, list[float]] = {}
        for t, s in series:
            bins.setdefault(int((t - t0) // BIN), []).append(s * 1000)
        pts = [(x((b + 0.5) * BIN), y_ms(_p99(v))) for b, v in sorted(bins.items())]
        if len(pts) > 1:
            d.line(pts, fill=colour, width=3)
    d.text((W - 520, TOP_Y0 + 4), "blue: check-in (p99 per 5 s, target 50 ms)", fill=BLUE, font=small)
    d.text((W - 520, TOP_Y0 + 22), "orange: feed, accepted to screen (p99, target 100 ms)", fill=ORANGE, font=small)

    # Bottom: rates per second.
    done: dict[int, int] = {}
    for t, _ in checkins:
        done[int((t - t0) // BIN)] = done.get(int((t - t0) // BIN), 0) + 1
    due: dict[int, int] = {}
    for a in planned:
        due[int(a // BIN)] = due.get(int(a // BIN), 0) + 1
    top_rate = max([v / BIN for v in done.values()] + [v / BIN for v in due.values()] + [1.0]) * 1.1
    top_wait = max([w for _, _, w in waits] + [1])

    def y_rate(r: float) -> float:
        return BOT_Y1 - (BOT_Y1 - BOT_Y0) * r / top_rate

    for b, n in sorted(done.items()):
        d.rectangle([x(b * BIN) + 1, y_rate(n / BIN), x((b + 1) * BIN) - 1, BOT_Y1], fill=(170, 190, 230))
    line = [(x((b + 0.5) * BIN), y_rate(n / BIN)) for b, n in sorted(due.items())]
    if len(line) > 1:
        d.line(line, fill="black", width=2)
    wl = [(x(t - t0), BOT_Y1 - (BOT_Y1 - BOT_Y0) * w / top_wait) for t, _, w in waits if t >= t0]
    if len(wl) > 1:
        d.line(wl, fill=RED, width=1)
    d.line([(LEFT, BOT_Y1), (W - RIGHT, BOT_Y1)], fill="black")
    d.text((8, BOT_Y0 - 6), f"{top_rate:.0f}/s", fill="black", font=small)
    d.text((8, BOT_Y1 - 14), "0", fill="black", font=small)
    d.text(
        (LEFT, BOT_Y0 - 26),
        f"check-ins/s achieved (bars) and arriving (line); red: backends waiting on a lock (max {top_wait})",
        fill="black",
        font=small,
    )
    for s in range(0, int(span) + 1, max(10, int(span / 12) // 10 * 10)):
        d.line([(x(s), BOT_Y1), (x(s), BOT_Y1 + 5)], fill=GREY)
        d.text((x(s) - 8, BOT_Y1 + 8), f"{s}s", fill="black", font=small)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
