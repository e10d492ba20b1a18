"""The password policy (密码规则): whoever sets a password sets one nobody guesses (R-STAFF-4).

An account's actions are attributable to its person only while nobody else can sign in as them,
so a password is at least 10 characters, not the username, and not a common password. "Common"
is measured, not listed by hand: zxcvbn (Dropbox's estimator, on PyPI) rates how many guesses an
attacker with the leaked-password lists, keyboard runs, repeats, sequences and dates would need,
and a password found within a million guesses (its score 0 or 1) is refused. zxcvbn's lists come
from English-language leaks, so the Chinese-typical ones (``woaini1314``, ``5201314520``,
``a123456789``...) are added from ``common_passwords.txt`` beside this module.

The check runs wherever a password is set: ``POST /api/v1/accounts``, ``examday account add``
and the demo, all through ``services/accounts.create_account``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from examday.errors import Refusal

MIN_LENGTH = 10
# Longer is refused rather than cut: argon2 would hash it all, and a pasted file is no password.
MAX_LENGTH = 256
# zxcvbn's score 2 and above: more than 10^6 guesses.
MIN_SCORE = 2
# zxcvbn's matching is superlinear in length; the first 72 characters decide (its own default).
ESTIMATE_CHARS = 72
LIST_FILE = Path(__file__).with_name("common_passwords.txt")

# zxcvbn keeps its dictionaries, the caller's words among them, in module globals: one estimate
# at a time, since handlers run in worker threads.
_lock = threading.Lock()
_loaded = False


def _chinese_list() -> list[str]:
    lines = LIST_FILE.read_text(encoding="utf-8").splitlines()
    return [w.strip().lower() for w in lines if w.strip() and not w.startswith("#")]


def guess_score(password: str, words: list[str]) -> int:
    """zxcvbn's score 0-4 for ``password``, with ``words`` (the username, the system's name) as
    things an attacker tries first."""
    global _loaded
    from zxcvbn import zxcvbn
    from zxcvbn.matching import add_frequency_lists

    with _lock:
        if not _loaded:
            add_frequency_lists({"chinese_passwords": _chinese_list()})
            _loaded = True
        return int(zxcvbn(password[:ESTIMATE_CHARS], user_inputs=words)["score"])


def _weak(reason: str, zh: str, en: str) -> Refusal:
    return Refusal("weak_password", zh, en, "R-STAFF-4", 422, {"reason": reason, "min_length": MIN_LENGTH})


def password_refusal(password: str, username: str) -> Refusal | None:
    """Why ``password`` may not be ``username``'s, or None."""
    if len(password) < MIN_LENGTH:
        return _weak(
            "too_short",
            f"密码至少需要 {MIN_LENGTH} 个字符",
            f"A password has at least {MIN_LENGTH} characters.",
        )
    if len(password) > MAX_LENGTH:
        return Refusal(
            "password_too_long",
            f"密码最多 {MAX_LENGTH} 个字符",
            f"A password has at most {MAX_LENGTH} characters.",
            "R-STAFF-4",
            422,
        )
    if username and password.casefold() == username.casefold():
        return _weak("username", "密码不能与用户名相同", "The password may not be the username.")
    if guess_score(password, [username, "examday"]) < MIN_SCORE:
        return _weak(
            "common",
            "密码过于常见或容易猜到（常用密码、键盘顺序、重复或连续的字符、日期、用户名加数字），请换一个",
            "This password is common or easy to guess (a well-known password, a keyboard run, repeated or "
            "sequential characters, a date, the username with digits): choose another.",
        )
    return None
