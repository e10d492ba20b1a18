"""Every page of the demo, as every role of the demo, read as a person reads it (issue #16).

The demo's day (``examday demo``'s seed: two filed batches today, a locked one before) is served
live; each role signs in on the login page's service and opens every GET page the app has (the
route handlers outside the OpenAPI document, path parameters filled with the demo's ids: today's
first batch and the locked one, both parts, a candidate). A page that answers is rendered in
Chromium and its visible text (Playwright's ``inner_text`` of the body) is read:

- no bare code: a snake_case word anywhere, or — in the Chinese text, outside the English lines
  beneath (``<small>``, ``[lang=en]``) and the user name — a code of the glossary or an enum
  value (``theory``, ``recording``, ``proctor`` …) as a lowercase word;
- no ISO time (``2026-12-06T11:25``): times are China time, in words or ``09:05``.

Refusal codes belong in the refusal's own block, in ``<code class="code">``: those elements are
left out. Each refused page is read once per role and status (the one error page).

The same walk opens each page at 1024×768 (tablet) and 390×844 (phone); a page that scrolls
sideways fails (wide tables scroll in their own container, ``.table-wrap``).

Both tests report every offending page at once.
"""

from __future__ import annotations

import re

import pytest

from examday.glossary import TERMS
from examday.registry.site_rules import ROOM_KINDS

# The walk itself (the ``walk`` fixture, registered in conftest.py) is tests/browser/demo_walk.py.

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/])")
ROLE_CODES = ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor", "centre", "staff", "examiner")


def _codes() -> set[str]:
    """Codes and enum values a person must never read bare: the glossary's, the roles, room kinds."""
    out = {c for group in TERMS.values() for c in group if re.fullmatch(r"[a-z][a-z0-9_]*", c) and len(c) > 1}
    return out | set(ROLE_CODES) | set(ROOM_KINDS)


CODES = _codes()
CODE_WORD = re.compile(
    r"(?<![\w./@:-])(" + "|".join(sorted(map(re.escape, CODES), key=len, reverse=True)) + r")(?![\w@/])"
)


def _around(text: str, m: re.Match[str]) -> str:
    start, end = max(0, m.start() - 18), min(len(text), m.end() + 18)
    return " ".join(text[start:end].split())


ENGLISH_BEFORE = re.compile(r"[A-Za-z]{2,}[ (\"'-]*$")


def _in_english(text: str, m: re.Match[str]) -> bool:
    """The word is part of an English phrase ("Exam organisation", "The batch is invalid",
    "Employer (enterprise)") — an English line where <small> cannot be (an <option>) — rather
    than a code standing alone beside Chinese, a number or a comma ("理论考场 theory",
    "应到 expected 0", "proctor,staff")."""
    return ENGLISH_BEFORE.search(text[max(0, m.start() - 40) : m.start()]) is not None


def offences(text: dict[str, str]) -> list[str]:
    """Each offending string with the words around it, once."""
    every, zh = text.get("all", ""), text.get("zh", "")
    found = [f"ISO time {m.group(0)!r} in «{_around(every, m)}»" for m in ISO_TIME.finditer(every)]
    found += [f"code {m.group(0)!r} in «{_around(every, m)}»" for m in SNAKE.finditer(every)]
    found += [f"code {m.group(0)!r} in «{_around(zh, m)}»" for m in CODE_WORD.finditer(zh) if not _in_english(zh, m)]
    return sorted(set(found))


def test_every_page_is_reached(walk):
    """Not vacuous: every page path was filled with the demo's ids, and most answered someone."""
    assert not walk["unfilled"], f"pages the walk has no ids for (add them to ids): {walk['unfilled']}"
    answered = {s.url for s in walk["seen"] if s.status == 200}
    assert len(answered) >= len(walk["paths"]) // 2, sorted(answered)


def test_every_page_has_the_favicon(walk):
    missing = sorted({s.url for s in walk["seen"] if not s.icon})
    assert not missing, f"pages without the favicon: {missing}"


def test_every_refusal_on_a_page_is_a_page(walk):
    """A refused page (403, 404, 409 …) shows the refusal's block — Chinese, English, code, rule,
    what to do next, a way back — never raw JSON (issue #16)."""
    raw = sorted(f"{s.url} as {s.role} ({s.status})" for s in walk["seen"] if s.status >= 400 and not s.refusal)
    assert not raw, "refusals not shown as a page:\n" + "\n".join(raw)
    assert any(s.status == 403 for s in walk["seen"]) and any(s.status == 404 for s in walk["seen"])


def test_no_bare_code_or_iso_time_in_visible_text(walk):
    bad = []
    for s in walk["seen"]:
        if found := offences(s.text):
            bad.append(f"{s.url} as {s.role} ({s.status}):\n    " + "\n    ".join(found))
    assert not bad, f"{len(bad)} pages show codes or ISO times:\n" + "\n".join(bad)


def test_no_page_scrolls_sideways(walk):
    bad = []
    for s in walk["seen"]:
        for name, (scroll, inner) in s.widths.items():
            if scroll > inner:
                bad.append(f"{s.url} as {s.role} at {name} ({inner} px): {scroll} px wide")
    assert not bad, f"{len(bad)} pages scroll sideways:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "text, bad",
    [
        ("理论 theory 11:45–13:15", True),  # the issue's session buttons
        ("T01-C1 recording", True),  # camera chips
        ("人员 proctor,staff", True),
        ("覆盖 no_hook_received", True),
        ("签到 2026-12-06T11:25:21.343086+08:00", True),
        ("考务组织 · Exam organisation", False),  # an English line in an <option>
        ("已报送 2026-12-06 09:05", False),
    ],
)
def test_the_check_catches_the_issues_examples(text, bad):
    """The detector itself: the bare codes and ISO times issue #16 found, and no English phrase."""
    assert bool(offences({"all": text, "zh": text})) is bad, offences({"all": text, "zh": text})
