"""Certificate numbers and who gets a certificate (职业技能等级证书编号).

Rules enforced here:

- R-FMT-CERT — 22 characters, ``^[YS]\\d{21}$``: Y employer / S social
  organisation, 4-digit institution code ("0000" for a provincially filed
  institution), 2-digit province code, 6-digit site serial, 2-digit year,
  1-digit level (1–5), 6-digit serial.
- R-CERT-1 — certificates go only to those who passed.

Choices where the rule is silent: the province code must be a mainland
province-level code of GB/T 2260 (a typo such as "00" is refused rather than
printed on a certificate); the year is given in full (2000–2099) and written
as its last two digits; the serial runs from 1, so 000000 is not a number.
``is_certificate_number`` accepts exactly what ``certificate_number`` can
produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from examday.errors import Refusal

KINDS = ("Y", "S")
# GB/T 2260 province-level codes of mainland China.
PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
    }
)
LENGTH = 22
# [0-9], not \d: \d also matches full-width and other Unicode digits.
_SHAPE = re.compile(r"[YS][0-9]{21}")


@dataclass(frozen=True)
class CertificateNumber:
    kind: str
    institution_code: str
    province_code: str
    site_serial: str
    year: int
    level: int
    serial: int


def _digits(value: object, n: int) -> bool:
    return isinstance(value, str) and len(value) == n and all("0" <= ch <= "9" for ch in value)


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _problems(
    kind: object,
    institution_code: object,
    province_code: object,
    site_serial: object,
    year: object,
    level: object,
    serial: object,
) -> list[dict[str, str]]:
    checks = (
        ("kind", kind in KINDS, "must be Y (employer) or S (social organisation)"),
        ("institution_code", _digits(institution_code, 4), "must be 4 digits (0000 if filed by the province)"),
        (
            "province_code",
            _digits(province_code, 2) and province_code in PROVINCE_CODES,
            "must be a GB/T 2260 province code",
        ),
        ("site_serial", _digits(site_serial, 6), "must be 6 digits"),
        ("year", _int_in(year, 2000, 2099), "must be a year from 2000 to 2099"),
        ("level", _int_in(level, 1, 5), "must be a level from 1 to 5 (R-LEVEL)"),
        ("serial", _int_in(serial, 1, 999_999), "must be from 1 to 999999"),
    )
    return [{"part": name, "reason": reason} for name, ok, reason in checks if not ok]


def _refuse(problems: list[dict[str, str]], **extra: object) -> Refusal:
    return Refusal(
        "certificate_number_invalid",
        "证书编号各部分不符合统一编码规则",
        "The certificate number's parts do not follow the unified coding rule.",
        "R-FMT-CERT",
        detail={"problems": problems, **extra},
    )


def certificate_number(
    kind: str,
    institution_code: str,
    province_code: str,
    site_serial: str,
    year: int,
    level: int,
    serial: int,
) -> str:
    """The 22-character certificate number (R-FMT-CERT); every bad part is listed."""
    problems = _problems(kind, institution_code, province_code, site_serial, year, level, serial)
    if problems:
        raise _refuse(problems)
    return f"{kind}{institution_code}{province_code}{site_serial}{year % 100:02d}{level}{serial:06d}"


def parse_certificate_number(text: str) -> CertificateNumber:
    """Split a certificate number into its parts, or refuse it."""
    if not isinstance(text, str) or not _SHAPE.fullmatch(text):
        raise _refuse([{"part": "shape", "reason": f"must be {LENGTH} characters: Y or S, then 21 digits"}])
    parts = CertificateNumber(
        kind=text[0],
        institution_code=text[1:5],
        province_code=text[5:7],
        site_serial=text[7:13],
        year=2000 + int(text[13:15]),
        level=int(text[15]),
        serial=int(text[16:22]),
    )
    problems = _problems(
        parts.kind,
        parts.institution_code,
        parts.province_code,
        parts.site_serial,
        parts.year,
        parts.level,
        parts.serial,
    )
    if problems:
        raise _refuse(problems)
    return parts


def is_certificate_number(text: object) -> bool:
    """True for a well-formed certificate number (R-FMT-CERT)."""
    try:
        parse_certificate_number(text)  # type: ignore[arg-type]
    except Refusal:
        return False
    return True


def eligible_for_certificate(result: str) -> bool:
    """R-CERT-1: only a candidate whose result is ``pass`` gets a certificate.

    The centre's review (also R-CERT-1) is a state of the batch, checked by the
    service that issues; this is the per-candidate half.
    """
    return result == "pass"
