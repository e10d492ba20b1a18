"""One name for the coverage page (issue #16): it was 视频覆盖 on the office home, 录像完整性 on the
batch page, 录像覆盖 on the live rooms and 监控录像覆盖 as its own heading. Now every link to it
and its heading print the glossary's one term, after the regulations' 完整监控视频 (R-VIDEO-1)."""

from __future__ import annotations

from pathlib import Path

from examday.glossary import words
from examday.pages import batch_links

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [p for pkg in ("examday", "kiosk", "proctor", "scoring") for p in (ROOT / pkg).rglob("*.html")]
OLD_NAMES = ("视频覆盖", "录像完整性", "录像覆盖")


def test_r_video_1_every_link_and_the_heading_use_the_glossary_term():
    assert words("page", "coverage") == ("监控视频完整性", "Video coverage")
    assert [(zh, en) for href, zh, en in batch_links(7) if href.endswith("/coverage")] == [words("page", "coverage")]
    linking = [p for p in SOURCES if "/coverage" in p.read_text(encoding="utf-8") or p.name == "coverage.html"]
    assert {p.name for p in linking} >= {"plans_batch.html", "dashboard.html", "coverage.html"}
    for p in linking:
        assert "'coverage'|term('page')" in p.read_text(encoding="utf-8"), p
    stale = [(p.name, n) for p in SOURCES for n in OLD_NAMES if n in p.read_text(encoding="utf-8")]
    assert stale == []
