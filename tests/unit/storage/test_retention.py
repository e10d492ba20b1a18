"""Retention classes and the purge decision (R-VIDEO-1, R-SCORE-2, R-ARCH-1)."""

from __future__ import annotations

from datetime import date

import pytest

from examday.errors import Refusal
from storage.retention import (
    PROFILES,
    Period,
    PurgeCandidate,
    RetentionClass,
    decide_purge,
    disk_alert,
    expires_on,
    iter_purge_decisions,
    period,
)

C = RetentionClass


@pytest.mark.parametrize(
    "cls, profile, years",
    [
        (C.EXAM_VIDEO, "strict", 5),  # R-VIDEO-1: the stricter of Jilin and Sichuan
        (C.EXAM_VIDEO, "jilin", 1),  # R-VIDEO-1
        (C.EXAM_VIDEO, "sichuan", 5),  # R-VIDEO-1
        (C.EXAM_VIDEO, "fujian", 5),  # R-ARCH-1: video is electronic material there
        (C.CANDIDATE_ANSWERS, "strict", 1),  # R-SCORE-2
        (C.CANDIDATE_ANSWERS, "jilin", 1),  # R-SCORE-2
        (C.SCORING_RECORDS, "strict", 1),  # R-SCORE-2
        (C.SCORING_RECORDS, "sichuan", 1),  # R-SCORE-2
        (C.ELECTRONIC_RECORDS, "strict", 5),  # R-ARCH-1
        (C.ELECTRONIC_RECORDS, "fujian", 5),  # R-ARCH-1
        (C.PAPER_SCANS, "strict", 3),  # R-ARCH-1
        (C.PAPER_SCANS, "jilin", 3),  # R-ARCH-1
    ],
)
def test_period_by_profile_and_class(cls, profile, years):
    assert period(cls, profile) == Period(years)
    assert period(cls.value, profile) == Period(years)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_key_documents_are_permanent_everywhere(profile):  # R-ARCH-1
    assert period(C.KEY_DOCUMENTS, profile) is None
    assert expires_on(C.KEY_DOCUMENTS, profile, date(2020, 1, 1)) is None


def test_strict_is_never_shorter_than_any_province():  # R-VIDEO-1, R-ARCH-1
    for cls in RetentionClass:
        strict = PROFILES["strict"][cls]
        for name, table in PROFILES.items():
            if strict is not None:
                assert table[cls] is not None and table[cls] <= strict, (name, cls)


def test_default_profile_is_strict():
    assert period(C.EXAM_VIDEO) == Period(5)


@pytest.mark.parametrize(
    "created, profile, expected",
    [
        (date(2024, 6, 14), "jilin", date(2025, 6, 14)),  # R-VIDEO-1
        (date(2024, 6, 14), "strict", date(2029, 6, 14)),  # R-VIDEO-1
        (date(2024, 2, 29), "jilin", date(2025, 2, 28)),  # calendar years: 29 Feb -> 28 Feb
        (date(2024, 2, 29), "sichuan", date(2029, 2, 28)),
        (date(2023, 2, 28), "jilin", date(2024, 2, 28)),
    ],
)
def test_video_expires_after_calendar_years(created, profile, expected):  # R-VIDEO-1
    assert expires_on(C.EXAM_VIDEO, profile, created) == expected
    assert created + period(C.EXAM_VIDEO, profile) == expected


def item(id_, cls=C.EXAM_VIDEO, created=date(2024, 6, 14), held=False, kind="segment"):
    return PurgeCandidate(kind, id_, cls, created, held)


def by_id(decisions):
    return {d.id: (d.purge, d.reason) for d in decisions}


def test_jilin_video_goes_after_one_year_strict_keeps_it():  # R-VIDEO-1
    items = [item("v")]
    assert by_id(decide_purge(items, "jilin", date(2025, 6, 14))) == {"v": (False, "not_expired")}
    assert by_id(decide_purge(items, "jilin", date(2025, 6, 15))) == {"v": (True, "expired")}
    assert by_id(decide_purge(items, "strict", date(2025, 6, 15))) == {"v": (False, "not_expired")}
    assert by_id(decide_purge(items, "strict", date(2029, 6, 15))) == {"v": (True, "expired")}


def test_held_items_are_never_purged():  # R-VIDEO-1, R-SCORE-2
    items = [item("v", held=True), item("a", C.CANDIDATE_ANSWERS, date(2000, 1, 1), held=True)]
    assert by_id(decide_purge(items, "jilin", date(2060, 1, 1))) == {
        "v": (False, "legal_hold"),
        "a": (False, "legal_hold"),
    }


def test_permanent_items_are_never_purged():  # R-ARCH-1
    items = [item("k", C.KEY_DOCUMENTS, date(1990, 1, 1)), item("kh", C.KEY_DOCUMENTS, held=True)]
    decisions = decide_purge(items, "jilin", date(2200, 1, 1))
    assert by_id(decisions) == {"k": (False, "permanent"), "kh": (False, "permanent")}
    assert all(d.expires_on is None for d in decisions)


def test_not_yet_expired_items_are_kept():  # R-SCORE-2, R-ARCH-1
    today = date(2025, 6, 14)
    items = [
        item("answers", C.CANDIDATE_ANSWERS, date(2024, 6, 14)),  # expires today: kept today
        item("scores", C.SCORING_RECORDS, date(2024, 6, 13)),  # expired yesterday
        item("paper", C.PAPER_SCANS, date(2022, 6, 15)),
        item("paper-old", C.PAPER_SCANS, date(2022, 6, 13)),
        item("elec", C.ELECTRONIC_RECORDS, date(2021, 1, 1)),
    ]
    assert by_id(decide_purge(items, "strict", today)) == {
        "answers": (False, "not_expired"),
        "scores": (True, "expired"),
        "paper": (False, "not_expired"),
        "paper-old": (True, "expired"),
        "elec": (False, "not_expired"),
    }


def test_decisions_keep_order_kind_and_expiry():
    decisions = decide_purge([item("b", kind="blob"), item("a")], "jilin", date(2030, 1, 1))
    assert [(d.id, d.kind, d.expires_on) for d in decisions] == [
        ("b", "blob", date(2025, 6, 14)),
        ("a", "segment", date(2025, 6, 14)),
    ]


def test_decisions_stream_lazily():
    def endless():
        n = 0
        while True:
            n += 1
            yield item(str(n))

    it = iter_purge_decisions(endless(), "jilin", date(2030, 1, 1))
    assert next(it).id == "1" and next(it).id == "2"


def test_unknown_profile_or_class_is_refused():
    with pytest.raises(Refusal) as exc:
        period(C.EXAM_VIDEO, "atlantis")
    assert exc.value.code == "unknown_retention_profile"
    with pytest.raises(Refusal) as exc:
        decide_purge([item("x", "holiday_photos")], "strict", date(2030, 1, 1))
    assert exc.value.code == "unknown_retention_class"


@pytest.mark.parametrize(
    "free, total, alert",
    [(50, 100, False), (10, 100, False), (9, 100, True), (0, 100, True), (0, 0, True)],
)
def test_disk_alert_only_alerts(free, total, alert):  # R-VIDEO-1: a full disk never triggers a purge
    assert disk_alert(free, total) is alert


def test_disk_alert_threshold():
    assert disk_alert(19, 100, threshold=0.2)
    assert not disk_alert(20, 100, threshold=0.2)
