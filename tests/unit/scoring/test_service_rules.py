"""The small pure pieces of the scoring services: the first full day of
publicity (R-PUB-1), the method when too few score to trim (R-PANEL-1),
points at the storage edge (R-SCORE-3), province codes (R-FMT-CERT)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from examday.clock import CST
from scoring.certificates import PROVINCE_CODES as GB2260
from scoring.points import from_tenths, show, text, to_tenths
from scoring.provinces import PROVINCE_CODES, province_code
from scoring.services.combine import method_for
from scoring.services.publicity import first_full_day


# R-PUB-1: a part of a day is not a day of publicity; by 09:00 China time the day counts.
@pytest.mark.parametrize(
    "moment, expected",
    [
        (datetime(2026, 11, 26, 8, 59, tzinfo=CST), date(2026, 11, 26)),
        (datetime(2026, 11, 26, 9, 0, tzinfo=CST), date(2026, 11, 26)),
        (datetime(2026, 11, 26, 9, 1, tzinfo=CST), date(2026, 11, 27)),
        (datetime(2026, 11, 26, 23, 30, tzinfo=CST), date(2026, 11, 27)),
        # 20:00 UTC on the 25th is 04:00 on the 26th in China.
        (datetime(2026, 11, 25, 20, 0, tzinfo=UTC), date(2026, 11, 26)),
    ],
)
def test_first_full_day_is_judged_in_china_time(moment, expected):
    assert first_full_day(moment) == expected


# R-PANEL-1: the trimmed mean needs five scorers; fewer (after recusal) take the mean.
@pytest.mark.parametrize(
    "configured, count, used",
    [
        ("trimmed_mean", 5, "trimmed_mean"),
        ("trimmed_mean", 7, "trimmed_mean"),
        ("trimmed_mean", 3, "mean"),
        ("median", 3, "median"),
        ("mean", 5, "mean"),
    ],
)
def test_method_for(configured, count, used):
    assert method_for(configured, count) == used


# R-SCORE-3: one decimal, exactly, through integer tenths.
@pytest.mark.parametrize(
    "points, tenths", [(D("0"), 0), (D("59.9"), 599), (D("60"), 600), (D("100.0"), 1000), (D("7.50"), 75)]
)
def test_points_round_trip_through_tenths(points, tenths):
    assert to_tenths(points) == tenths
    assert from_tenths(tenths) == points
    assert text(tenths) == format(from_tenths(tenths), "f") and show(tenths) == float(points)


def test_more_than_one_decimal_is_not_stored():
    with pytest.raises(ValueError):
        to_tenths(D("59.95"))
    assert from_tenths(None) is None and show(None) is None and text(None) == ""


# R-FMT-CERT: every province name maps to a GB/T 2260 code the certificate rule accepts.
def test_province_codes_are_gb2260():
    assert set(PROVINCE_CODES.values()) == set(GB2260)


@pytest.mark.parametrize(
    "name, code",
    [
        ("吉林", "22"),
        ("吉林省", "22"),
        ("四川省", "51"),
        ("北京市", "11"),
        ("广西壮族自治区", "45"),
        ("内蒙古自治区", "15"),
        ("新疆维吾尔自治区", "65"),
        (" 上海 ", "31"),
        ("台湾", None),
        ("", None),
        (None, None),
    ],
)
def test_province_code(name, code):
    assert province_code(name) == code
