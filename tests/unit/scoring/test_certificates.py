"""Certificate numbers (R-FMT-CERT) and eligibility (R-CERT-1)."""

from __future__ import annotations

import pytest

from examday.errors import Refusal
from scoring.certificates import (
    CertificateNumber,
    certificate_number,
    eligible_for_certificate,
    is_certificate_number,
    parse_certificate_number,
)

GOOD = dict(kind="Y", institution_code="0123", province_code="22", site_serial="000456", year=2025, level=3, serial=78)


# R-FMT-CERT: Y/S, institution 4, province 2, site 6, year 2, level 1, serial 6.
@pytest.mark.parametrize(
    "change, expected",
    [
        ({}, "Y012322000456253000078"),
        ({"kind": "S"}, "S012322000456253000078"),
        ({"institution_code": "0000"}, "Y000022000456253000078"),  # provincially filed
        ({"province_code": "51"}, "Y012351000456253000078"),
        ({"year": 2030, "level": 1}, "Y012322000456301000078"),
        ({"year": 2000, "level": 5, "serial": 1}, "Y012322000456005000001"),
        ({"serial": 999_999}, "Y012322000456253999999"),
        ({"site_serial": "999999"}, "Y012322999999253000078"),
    ],
)
def test_certificate_number(change, expected):
    number = certificate_number(**{**GOOD, **change})
    assert number == expected
    assert len(number) == 22
    assert is_certificate_number(number)


@pytest.mark.parametrize(
    "change, bad",
    [
        ({"kind": "X"}, ["kind"]),
        ({"kind": "y"}, ["kind"]),
        ({"institution_code": "123"}, ["institution_code"]),
        ({"institution_code": "12345"}, ["institution_code"]),
        ({"institution_code": "12a4"}, ["institution_code"]),
        ({"institution_code": 123}, ["institution_code"]),
        ({"province_code": "00"}, ["province_code"]),
        ({"province_code": "2"}, ["province_code"]),
        ({"province_code": "99"}, ["province_code"]),
        ({"province_code": "２２"}, ["province_code"]),  # full-width digits
        ({"site_serial": "12345"}, ["site_serial"]),
        ({"year": 25}, ["year"]),
        ({"year": 2100}, ["year"]),
        ({"level": 0}, ["level"]),  # R-LEVEL: 1–5
        ({"level": 6}, ["level"]),
        ({"level": True}, ["level"]),
        ({"serial": 0}, ["serial"]),
        ({"serial": 1_000_000}, ["serial"]),
        ({"serial": "78"}, ["serial"]),
        ({"kind": "Z", "level": 7, "serial": -1}, ["kind", "level", "serial"]),
    ],
)
def test_certificate_number_refused(change, bad):
    with pytest.raises(Refusal) as caught:
        certificate_number(**{**GOOD, **change})
    assert caught.value.code == "certificate_number_invalid"
    assert caught.value.rule == "R-FMT-CERT"
    assert [p["part"] for p in caught.value.detail["problems"]] == bad


@pytest.mark.parametrize(
    "text, ok",
    [
        ("Y012322000456253000078", True),
        ("S000011000001251000001", True),
        ("Y01232200045625300007", False),  # 21 characters
        ("Y0123220004562530000789", False),  # 23
        ("X012322000456253000078", False),
        ("y012322000456253000078", False),
        ("Y012300000456253000078", False),  # province 00
        ("Y012322000456256000078", False),  # level 6
        ("Y012322000456250000078", False),  # level 0
        ("Y012322000456253000000", False),  # serial 0
        ("Y01232200045625300007８", False),  # full-width digit
        ("Y012322000456253000078\n", False),
        ("", False),
        (None, False),
        (12345, False),
    ],
)
def test_is_certificate_number(text, ok):
    assert is_certificate_number(text) is ok


def test_parse_round_trips():
    parsed = parse_certificate_number(certificate_number(**GOOD))
    assert parsed == CertificateNumber(**GOOD)


# R-CERT-1: only those who passed.
@pytest.mark.parametrize(
    "result, ok",
    [
        ("pass", True),
        ("fail", False),
        ("absent", False),
        ("incomplete", False),
        ("PASS", False),
        (None, False),
    ],
)
def test_eligible_for_certificate(result, ok):
    assert eligible_for_certificate(result) is ok
