"""The guide and the scaling notes say only what is true of the code.

docs/guide.md and docs/scaling.md are read by people who will not read the
code, so every picture they show must exist, every demo account they name must
be one the demo makes, every setting they name must be one the code reads,
every option they type must be one the program takes, and every link inside
them must land on a heading. The README's configuration tables name exactly the
variables examday/settings.py reads, and no other module reads the environment.
"""

from __future__ import annotations

import argparse
import re
import shlex
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDE = DOCS / "guide.md"
SCALING = DOCS / "scaling.md"
CODE_DIRS = ["examday", "kiosk", "proctor", "scoring", "storage", "bench"]


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def code_blocks(doc: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", doc, re.S | re.M)


# -- pictures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [GUIDE, SCALING], ids=lambda p: p.name)
def test_every_picture_exists(doc):
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text(doc))
    if doc == GUIDE:
        assert len(images) >= 20, "the guide shows the real pages"
    missing = [i for i in images if not (doc.parent / i).is_file()]
    assert not missing, f"{doc.name} shows pictures that are not in docs/: {missing}"


def test_every_screenshot_is_shown():
    shown = set(re.findall(r"\(img/([^)\s]+)\)", text(GUIDE)))
    unused = sorted(p.name for p in (DOCS / "img").glob("*.png") if p.name not in shown)
    assert not unused, f"screenshots the guide does not show: {unused}"


def test_screenshots_py_takes_every_picture_the_guide_shows():
    """Issue #16: docs/screenshots.py retakes every screenshot. Each picture the guide shows is one
    the script saves (``s.save(page, "name")`` or the ticket), and it saves none the guide leaves out."""
    script = text(DOCS / "screenshots.py")
    taken = set(re.findall(r"\bs\.save\(\s*\w+,\s*\"([\w-]+)\"", script))
    taken |= {name for _path, name in re.findall(r'\(f?"(/[^"]*)", "([\w-]+)"\)', script)}  # (path, name) lists
    taken |= {"ticket"} if 's.taken.append("ticket")' in script else set()
    shown = {Path(i).stem for i in re.findall(r"\(img/([^)\s]+)\.png\)", text(GUIDE))}
    assert len(taken) >= 40, sorted(taken)
    assert not shown - taken, f"pictures the guide shows that screenshots.py does not take: {sorted(shown - taken)}"
    assert not taken - shown, f"pictures screenshots.py takes that the guide does not show: {sorted(taken - shown)}"


def test_pictures_stay_small():
    for png in (DOCS / "img").glob("*.png"):
        assert png.stat().st_size < 400_000, f"{png.name} is large: run docs/screenshots.py again"


# -- demo accounts ------------------------------------------------------------------------------

ACCOUNT = re.compile(r"`((?:office|kiosk|proctor|evaluator|chief|supervisor|centre|root)[\w-]*)`")


def test_every_demo_account_named_exists():
    from examday.demo.seed import ACCOUNTS

    made = {username for username, *_ in ACCOUNTS(1)}
    doc = text(GUIDE)
    demo_part = doc.split("## The installation administrator")[0]  # later: accounts the guide creates
    named = set(ACCOUNT.findall(demo_part)) - {"proctor"}  # `proctor watch` is the program
    assert {"office", "kiosk1", "proctor1", "evaluator1", "chief1", "supervisor1", "centre-jl", "root"} <= named
    assert named <= made, f"the guide names accounts the demo does not make: {sorted(named - made)}"
    assert "examday-demo" in doc


# -- settings -----------------------------------------------------------------------------------


def read_in_code() -> str:
    return "\n".join(text(p) for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("doc", [GUIDE, SCALING], ids=lambda p: p.name)
def test_every_setting_named_is_read_by_the_code(doc):
    named = set(re.findall(r"\bEXAMDAY_[A-Z0-9_]*[A-Z0-9]\b", text(doc)))
    code = read_in_code()
    unread = sorted(n for n in named if f'"{n}"' not in code)
    assert not unread, f"{doc.name} names settings no code reads: {unread}"


def test_the_core_settings_are_documented():
    doc = text(SCALING)
    for name in (
        "EXAMDAY_DATABASE_URL",
        "EXAMDAY_REDIS_URL",
        "EXAMDAY_SECRET_KEY",
        "EXAMDAY_HOOK_SECRET",
        "EXAMDAY_DATA_DIR",
        "EXAMDAY_VIDEO_DIRS",
    ):
        assert name in doc


# -- command lines ------------------------------------------------------------------------------


def parsers() -> dict[str, argparse.ArgumentParser]:
    from examday.cli import parser as examday_parser
    from kiosk.program import parser as kiosk_parser
    from proctor.recorder import _parser as recorder_parser
    from proctor.watch import parser as watch_parser

    return {
        "examday": examday_parser(),
        "examday-kiosk": kiosk_parser(),
        "examday-recorder": recorder_parser(),
        "proctor": watch_parser(),
    }


def sub_parser(p: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    """The parser of ``examday account add`` and the like: follow sub-commands while the words name them."""
    for word in words:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or word not in subs[0].choices:
            break
        p = subs[0].choices[word]
    return p


INVOCATION = re.compile(r"(?:^|[\s/\"'(=])(examday-kiosk|examday-recorder|examday|proctor(?= watch))(?= )(.*)$")
STOP = re.compile(r"\)|\||;|&&|>|#")


def invocations(doc: str) -> list[tuple[str, list[str]]]:
    """(program, words) of every command line in the code blocks; continuation lines joined."""
    found = []
    for block in code_blocks(doc):
        lines = block.replace("\\\n", " ").splitlines()
        # A command inside $( … ) is a command of its own; the outer one goes on after it.
        lines = [*lines, *(inner for line in lines for inner in re.findall(r"\$\(([^()]*)\)", line))]
        for line in lines:
            rest = re.sub(r"\$\([^()]*\)", "SUBSTITUTED", line)
            while (m := INVOCATION.search(rest)) is not None:
                tail = m.group(2)
                cut = STOP.search(tail)
                try:
                    words = shlex.split(tail[: cut.start()] if cut else tail)
                except ValueError:
                    words = tail.split()
                found.append((m.group(1), words))
                rest = tail
    return found


@pytest.mark.parametrize("doc", [GUIDE, SCALING], ids=lambda p: p.name)
def test_every_option_typed_is_one_the_program_takes(doc):
    programs = parsers()
    calls = invocations(text(doc))
    assert calls, "the docs show how to run the programs"
    wrong = []
    for program, words in calls:
        p = sub_parser(programs[program], [w for w in words if not w.startswith("-")])
        known = set(p._option_string_actions)
        for w in words:
            option = w.split("=")[0]
            if option.startswith("--") and option not in known:
                wrong.append(f"{program} {' '.join(words[:2])}: {option}")
    assert not wrong, f"{doc.name} types options the programs do not take: {wrong}"


# -- links --------------------------------------------------------------------------------------


def anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in heading.strip().lower() if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    body = re.sub(r"^```.*?^```", "", text(doc), flags=re.S | re.M)
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", body, re.M)}


@pytest.mark.parametrize("doc", [GUIDE, SCALING], ids=lambda p: p.name)
def test_every_link_lands(doc):
    broken = []
    for target in re.findall(r"(?<!!)\[[^\]]+\]\(([^)\s]+)\)", text(doc)):
        if target.startswith(("http://", "https://")):
            continue
        file, _, fragment = target.partition("#")
        path = doc if not file else (doc.parent / file)
        if not path.exists() or (fragment and path.suffix == ".md" and fragment not in anchors(path)):
            broken.append(target)
    assert not broken, f"{doc.name} has links that land nowhere: {broken}"


def test_anchor_matches_github():
    assert anchor("The exam office · 考务办公室") == "the-exam-office--考务办公室"
    assert anchor("S3-compatible storage for video") == "s3-compatible-storage-for-video"


# -- one settings object ------------------------------------------------------------------------

SETTINGS = ROOT / "examday" / "settings.py"
PACKAGES = ["examday", "kiosk", "proctor", "scoring", "storage"]


def readme_settings() -> set[str]:
    """The settings the README's configuration tables name: rows that begin with a variable."""
    return set(re.findall(r"^\| `(EXAMDAY_[A-Z0-9_]+)` \|", text(ROOT / "README.md"), re.M))


def test_the_readme_table_is_the_settings_module():
    read = set(re.findall(r'"(EXAMDAY_[A-Z0-9_]+)"', text(SETTINGS)))
    documented = readme_settings()
    assert read, "examday/settings.py reads the environment"
    assert not read - documented, f"settings the README's tables do not describe: {sorted(read - documented)}"
    assert not documented - read, f"the README describes settings nothing reads: {sorted(documented - read)}"


def test_only_the_settings_module_reads_the_environment():
    readers = sorted(
        str(p.relative_to(ROOT))
        for d in PACKAGES
        for p in (ROOT / d).rglob("*.py")
        if p != SETTINGS and re.search(r"\bos\.environ\b|\bgetenv\(|\benviron\.get\(", text(p))
    )
    assert not readers, f"modules that read the environment themselves: {readers}"


# -- the threat model ------------------------------------------------------------------------


def test_every_test_the_threat_model_names_exists():
    """docs/security.md promises each guarantee with a test: each test it names is there."""
    doc = text(DOCS / "security.md")
    named = set(re.findall(r"`((?:tests|bench)/[\w/.-]+)`", doc))
    assert named, "docs/security.md names no test"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"
