"""docs/guide.md quotes the pages' own words, and they are there (issue #16: "docs/guide.md
matches what the pages say").

The guide marks a page's words two ways:

- 「…」: on a page of the demo's morning as it is served. Each is looked for in the text of every
  page the shared walk (tests/browser/demo_walk.py) rendered, as every role: the visible text, or
  the page's whole text for what shows after a tap (the proctor's seat panel), in a closed
  ``<details>`` or in an ``<option>``.
- 『…』: a page's words in a state the morning does not reach (a draft's button, the publicity,
  the answer after an action). Each is looked for in the pages' sources: the templates, the
  static scripts and the Python modules that build the pages' words.

Whitespace counts as one space on both sides, since a line break in the guide is not one on the
page. The guide's code blocks (command lines) are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide.md"
PACKAGES = ["examday", "kiosk", "proctor", "scoring"]
# A quote starts with a non-space: "「 and 」" in the guide's own explanation is not one.
ON_A_PAGE = re.compile(r"「([^」\s][^」]*)」")
IN_A_STATE = re.compile(r"『([^』\s][^』]*)』")


def _flat(text: str) -> str:
    return " ".join(text.split())


def quotes(pattern: re.Pattern[str]) -> list[str]:
    prose = re.sub(r"^```.*?^```", "", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)
    return list(dict.fromkeys(_flat(q) for q in pattern.findall(prose)))


def _sources() -> str:
    files = [
        p
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.suffix in (".html", ".js", ".py") and p.is_file()
    ]
    # The templates' markup between words (<small>, a tag's attributes) is no part of the words.
    return _flat(re.sub(r"<[^>]+>", " ", "\n".join(p.read_text(encoding="utf-8") for p in files)))


def test_the_guide_quotes_the_pages():
    """Not vacuous: the guide quotes many of the pages' words, every role's among them."""
    on_a_page = quotes(ON_A_PAGE)
    assert len(on_a_page) >= 150, len(on_a_page)
    for word in ("签到台", "考场监控", "考场记录表", "督导记录", "评分工作台", "批次复核", "管理评价机构", "成绩公示"):
        assert word in on_a_page, word


def test_every_word_in_corner_brackets_is_on_a_page(walk):
    """「…」: each quoted word is on a page of the demo as some role sees it, a refusal's page
    among them (issue #16)."""
    pages = [(_flat(s.text.get("all", "")), _flat(s.whole)) for s in walk["seen"]]
    assert len(pages) > 50, "the walk rendered the demo's pages"
    missing = [w for w in quotes(ON_A_PAGE) if not any(w in shown or w in whole for shown, whole in pages)]
    assert not missing, f"docs/guide.md quotes words no page of the demo shows: {missing}"


def test_every_word_in_white_corner_brackets_is_in_the_pages_sources():
    """『…』: each quoted word is in a template, a script or a module that makes the pages' words
    (issue #16), so a renamed button is noticed."""
    words = quotes(IN_A_STATE)
    assert words, "the guide quotes words of pages in other states"
    source = _sources()
    missing = [w for w in words if w not in source]
    assert not missing, f"docs/guide.md quotes words no page's source has: {missing}"
