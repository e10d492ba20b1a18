"""The one glossary (术语表) that turns every code shown to a person into words, Chinese first
and English beneath (issue #16), and every time into the exam site's local time.

Codes stay codes on the wire (the API, CONTRACT.md); a page never prints one bare. Terms are
grouped by what they name (``camera_state``, ``part``, ``result`` …) because one code can mean
different things in two places. Add a group or a term here, never a second map in a package.

In templates: ``{{ cam.state|term('camera_state') }}`` prints ``录像中 <small>Recording</small>``;
``|zh('part')`` and ``|en('part')`` print one language; ``{{ at|local_time }}`` prints
``2026-12-06 09:05`` (China time) for an aware datetime or an ISO string, ``|local_hm`` ``09:05``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from storage.types import CST

TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "part": {
        "theory": ("理论知识考试", "Theory"),
        "skill": ("技能操作考核", "Skill"),
        "review": ("综合评审", "Comprehensive review"),
    },
    "batch_status": {
        "draft": ("草稿", "Draft"),
        "filed": ("已报送", "Filed"),
        "publicity": ("公示中", "In publicity"),
        "locked": ("已锁定", "Locked"),
    },
    "camera_state": {
        "recording": ("录像中", "Recording"),
        "offline": ("掉线", "Offline"),
        "stale": ("无新录像", "No new footage"),
        "unknown": ("未知", "Unknown"),
    },
    "result": {
        "pass": ("合格", "Pass"),
        "fail": ("不合格", "Fail"),
        "absent": ("缺考", "Absent"),
        "cheating": ("按作弊处理", "Treated as cheating"),
        "void": ("成绩无效", "Void"),
    },
}


def words(group: str, code: Any) -> tuple[str, str]:
    """(Chinese, English) for a code; an unknown code comes back as itself, so a missing term
    shows up in the visible-text test instead of breaking the page."""
    text = "" if code is None else str(code)
    return TERMS.get(group, {}).get(text, (text, text))


def zh(code: Any, group: str) -> str:
    return words(group, code)[0]


def en(code: Any, group: str) -> str:
    return words(group, code)[1]


def term(code: Any, group: str) -> Markup:
    """``中文 <small>English</small>``, escaped, for a page."""
    z, e = words(group, code)
    return Markup("{} <small>{}</small>").format(escape(z), escape(e)) if z != e else Markup(escape(z))


def _aware(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value.astimezone(CST) if value.tzinfo else value.replace(tzinfo=CST)


def local_time(value: Any) -> str:
    """An instant as people at the exam site read it: ``2026-12-06 09:05`` (China time)."""
    at = _aware(value)
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M")


def local_hm(value: Any) -> str:
    at = _aware(value)
    return "" if at is None else at.strftime("%H:%M")


def install_template_filters(engine: Any) -> None:
    env = engine.engine
    env.filters["term"] = term
    env.filters["zh"] = zh
    env.filters["en"] = en
    env.filters["local_time"] = local_time
    env.filters["local_hm"] = local_hm
