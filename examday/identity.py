"""Identity formats: resident ID number (居民身份证号) and Unified Social
Credit Code (统一社会信用代码).

Rules: R-ID-1 and R-FMT-ID (ID number: MOD 11-2 check digit, real birth
date not in the future), R-INST-1 and R-FMT-USCC (USCC check character),
R-PRIV-1 (masks, and keyed digests so that offline rosters carry no numbers).

Refusal messages never repeat the number or the birth date they refer to:
they are shown and logged, and an ID number is personal data (R-PRIV-1).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date
from typing import Any

from examday.errors import Refusal

__all__ = [
    "birth_date",
    "id_digest",
    "id_number_problem",
    "make_id_number",
    "mask_id_number",
    "mask_name",
    "uscc_problem",
    "validate_id_number",
    "validate_uscc",
]

_DIGITS = "0123456789"

# R-FMT-ID: ISO 7064 MOD 11-2 weights and check characters.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Earlier years cannot belong to anyone issued an 18-digit number (from 1999).
_ID_MIN_BIRTH_YEAR = 1850

# R-FMT-USCC: GB 32100-2015; I, O, S, V, Z are left out to avoid misreading.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _normalise(text: object) -> str:
    # Spreadsheet cells and Chinese input methods yield full-width digits
    # and letters (１１０…Ｘ); NFKC folds them to ASCII before any check.
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip().upper()


# -- resident ID number ------------------------------------------------------


def _id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def _id_birth(number: str) -> date | None:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if born.year >= _ID_MIN_BIRTH_YEAR else None


def _id_examine(number: str, today: date | None) -> tuple[str, dict[str, Any]] | None:
    """The first problem with a normalised number, as (reason, extra detail)."""
    if len(number) != 18:
        return "wrong_length", {"length": len(number)}
    for pos, c in enumerate(number, start=1):
        if not (c in _DIGITS or (pos == 18 and c == "X")):
            return "bad_characters", {"position": pos}
    born = _id_birth(number)
    if born is None:
        return "bad_birth_date", {}
    if today is not None and born > today:
        return "future_birth_date", {}
    if _id_check_char(number[:17]) != number[17]:
        return "bad_check_digit", {}
    return None


def _id_messages(reason: str, extra: dict[str, Any]) -> tuple[str, str]:
    if reason == "wrong_length":
        n = extra["length"]
        return (f"身份证号应为18位，实际为{n}位", f"An ID number has 18 characters; this one has {n}.")
    if reason == "bad_characters":
        p = extra["position"]
        return (
            f"身份证号第{p}位字符无效：前17位只能是数字，第18位只能是数字或X",
            f"Character {p} of the ID number is invalid: the first 17 must be digits and the 18th a digit or X.",
        )
    if reason == "bad_birth_date":
        return (
            "身份证号第7至14位不是有效的出生日期（年月日）",
            "Characters 7-14 of the ID number are not a real birth date (YYYYMMDD).",
        )
    if reason == "future_birth_date":
        return (
            "身份证号第7至14位的出生日期晚于今天",
            "Characters 7-14 of the ID number give a birth date after today.",
        )
    # The expected digit is deliberately not shown: a failed check usually
    # means a mistyped digit elsewhere, and "fixing" the last one would turn
    # a wrong number into a valid-looking one.
    return (
        "身份证号校验位（第18位）与前17位不符，请逐位核对",
        "The check digit (18th character) does not match the first 17 digits; please check every digit.",
    )


def id_number_problem(text: str, today: date) -> str | None:
    """The reason code ``validate_id_number`` would refuse with, or None."""
    found = _id_examine(_normalise(text), today)
    return found[0] if found else None


def _refuse_id(reason: str, extra: dict[str, Any]) -> Refusal:
    zh, en = _id_messages(reason, extra)
    # R-ID-1: a wrong number is refused with the reason.
    return Refusal("invalid_id_number", zh, en, "R-ID-1", 422, {"reason": reason, **extra})


def validate_id_number(text: str, today: date) -> str:
    """The normalised 18-character ID number, or a ``Refusal`` (R-ID-1, R-FMT-ID)."""
    number = _normalise(text)
    found = _id_examine(number, today)
    if found:
        raise _refuse_id(*found)
    return number


def birth_date(id_number: str) -> date:
    """Birth date in characters 7-14; refuses a number too malformed to hold one."""
    number = _normalise(id_number)
    found = _id_examine(number, None)
    if found and found[0] != "bad_check_digit":
        raise _refuse_id(*found)
    return _id_birth(number)  # type: ignore[return-value]


def make_id_number(birth: date, region: str = "110105", seq: int = 1, female: bool = False) -> str:
    """A valid ID number for tests and demos.

    The 3-digit order code is odd for men and even for women, so ``seq``
    counts people of one sex: 1-500 for men (001, 003, ... 999), 1-499 for
    women (002, ... 998).
    """
    if len(region) != 6 or any(c not in _DIGITS for c in region):
        raise ValueError("region must be 6 digits")
    if not _ID_MIN_BIRTH_YEAR <= birth.year <= 9999:
        raise ValueError(f"birth year must be {_ID_MIN_BIRTH_YEAR}-9999")
    order = 2 * seq if female else 2 * seq - 1
    if not 1 <= order <= 999:
        raise ValueError("seq out of range for this sex (men 1-500, women 1-499)")
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + _id_check_char(first17)


# -- Unified Social Credit Code ----------------------------------------------


def _uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _uscc_examine(code: str) -> tuple[str, dict[str, Any]] | None:
    if len(code) != 18:
        return "wrong_length", {"length": len(code)}
    for pos, c in enumerate(code, start=1):
        if c not in _USCC_VALUE:
            return "bad_characters", {"position": pos, "character": c}
    if _uscc_check_char(code[:17]) != code[17]:
        return "bad_check_character", {}
    return None


def _uscc_messages(reason: str, extra: dict[str, Any]) -> tuple[str, str]:
    if reason == "wrong_length":
        n = extra["length"]
        return (
            f"统一社会信用代码应为18位，实际为{n}位",
            f"A Unified Social Credit Code has 18 characters; this one has {n}.",
        )
    if reason == "bad_characters":
        p, c = extra["position"], extra["character"]
        return (
            f"统一社会信用代码第{p}位字符“{c}”无效：只能是数字和除I、O、S、V、Z以外的大写字母",
            f"Character {p} ('{c}') of the Unified Social Credit Code is invalid: only "
            "digits and capital letters other than I, O, S, V and Z are used.",
        )
    return (
        "统一社会信用代码校验码（第18位）与前17位不符，请逐位核对",
        "The check character (18th) of the Unified Social Credit Code does not "
        "match the first 17; please check every character.",
    )


def uscc_problem(text: str) -> str | None:
    """The reason code ``validate_uscc`` would refuse with, or None."""
    found = _uscc_examine(_normalise(text))
    return found[0] if found else None


def validate_uscc(text: str) -> str:
    """The normalised USCC, or a ``Refusal`` (R-INST-1, R-FMT-USCC).

    An admin override for a real code that fails the check is recorded
    elsewhere; this function only says whether the code checks.
    """
    code = _normalise(text)
    found = _uscc_examine(code)
    if found:
        reason, extra = found
        zh, en = _uscc_messages(reason, extra)
        # R-INST-1: a code whose check character is wrong is refused.
        raise Refusal("invalid_uscc", zh, en, "R-INST-1", 422, {"reason": reason, **extra})
    return code


# -- privacy (R-PRIV-1) ------------------------------------------------------


def mask_id_number(n: str) -> str:
    """First 6 and last 4 characters, 8 stars between (R-PRIV-1)."""
    number = _normalise(n)
    if len(number) != 18:
        # Which characters to keep is only defined for a well-formed number.
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明, 单字 → * (R-PRIV-1)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def id_digest(id_number: str, salt: bytes) -> str:
    """Hex HMAC-SHA256 of the normalised number, keyed by ``salt`` (R-PRIV-1).

    The ticket's QR code and the server's check-in use these; the key never
    leaves the server, which stops anyone holding a ticket code from hashing
    the few billion plausible numbers to find a candidate. The kiosk's offline
    roster has its own slow hash per candidate (kiosk/idhash.py).
    """
    if not isinstance(salt, (bytes, bytearray)) or not salt:
        raise ValueError("id_digest needs a non-empty bytes salt")
    return hmac.new(bytes(salt), _normalise(id_number).encode("utf-8"), hashlib.sha256).hexdigest()
