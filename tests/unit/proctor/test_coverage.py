"""Video coverage rules (R-VIDEO-1): constructed timelines, one camera at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proctor.coverage import (
    Gap,
    OfflineSpan,
    SegmentFact,
    camera_coverage,
    coverage_by_camera,
    stale_cameras,
)

T0 = datetime(2025, 6, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
NO_MARGIN = timedelta(0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def seg(a: float, b: float, state: str = "valid", camera: str = "C1") -> SegmentFact:
    return SegmentFact(camera, at(a), at(b), state)


def run(segments, spans=(), start=0, end=100, **kw):
    kw.setdefault("margin", NO_MARGIN)
    return camera_coverage("C1", at(start), at(end), segments, spans, **kw)


def spans_of(gaps: list[Gap]) -> list[tuple[float, float, str]]:
    return [((g.start - T0).total_seconds(), (g.end - T0).total_seconds(), g.cause) for g in gaps]


def test_back_to_back_segments_cover_the_window():  # R-VIDEO-1
    cov = run([seg(i, i + 10) for i in range(0, 100, 10)])
    assert cov.complete and cov.gaps == []
    assert cov.covered == [(at(0), at(100))]


def test_overlapping_and_unsorted_segments_merge():  # R-VIDEO-1
    cov = run([seg(50, 100), seg(0, 30), seg(20, 60), seg(25, 26)])
    assert cov.covered == [(at(0), at(100))]
    assert cov.complete


def test_other_cameras_are_ignored():
    cov = run([seg(0, 100, camera="C2")])
    assert spans_of(cov.gaps) == [(0, 100, "no_hook_received")]


@pytest.mark.parametrize(
    "segments, gaps",
    [
        # jitter of up to the tolerance between segments is not a gap
        ([seg(0, 50), seg(51.5, 100)], []),
        ([seg(0, 50), seg(52, 100)], []),
        ([seg(0, 50), seg(52.5, 100)], [(50, 52.5, "no_hook_received")]),
        # nor at the window's edges
        ([seg(1.5, 99)], []),
        ([seg(5, 100)], [(0, 5, "no_hook_received")]),
        ([seg(0, 90)], [(90, 100, "no_hook_received")]),
        ([], [(0, 100, "no_hook_received")]),
    ],
)
def test_gaps_longer_than_the_tolerance(segments, gaps):  # R-VIDEO-1
    cov = run(segments)
    assert spans_of(cov.gaps) == gaps
    assert cov.complete is (gaps == [])


def test_margin_widens_the_window_at_both_edges():  # R-VIDEO-1
    cov = run([seg(0, 100)], margin=timedelta(seconds=60))
    assert spans_of(cov.gaps) == [(-60, 0, "no_hook_received"), (100, 160, "no_hook_received")]
    assert run([seg(-61, 161)], margin=timedelta(seconds=60)).complete


def test_default_margin_is_a_minute():  # R-VIDEO-1
    cov = camera_coverage("C1", at(0), at(100), [seg(-60, 160)], [])
    assert cov.complete and cov.window_start == at(-60) and cov.window_end == at(160)


def test_segments_are_clipped_to_the_window():
    cov = run([seg(-500, 500)])
    assert cov.covered == [(at(0), at(100))]


@pytest.mark.parametrize(
    "state, cause",
    [
        ("file_missing", "file_missing"),
        ("checksum_mismatch", "checksum_mismatch"),
        ("purged", "purged"),
        ("invalid", "invalid_segment"),
    ],
)
def test_a_bad_segment_explains_its_gap(state, cause):  # R-VIDEO-1, R-AUDIT-1
    cov = run([seg(0, 40), seg(40, 50, state), seg(50, 100)])
    assert spans_of(cov.gaps) == [(40, 50, cause)]
    assert not cov.complete


def test_camera_offline_mid_session():  # R-VIDEO-1
    cov = run([seg(0, 30), seg(70, 100)], [OfflineSpan("C1", at(30), at(70))])
    assert spans_of(cov.gaps) == [(30, 70, "camera_offline")]


def test_camera_offline_still_going_reaches_the_window_end():  # R-VIDEO-1
    cov = run([seg(0, 60)], [OfflineSpan("C1", at(60), None)])
    assert spans_of(cov.gaps) == [(60, 100, "camera_offline")]


def test_video_of_an_offline_camera_does_not_count():  # R-VIDEO-1: a black lens is not monitoring
    segments = [seg(0, 100)]
    spans = [OfflineSpan("C1", at(40), at(60))]
    assert spans_of(run(segments, spans).gaps) == [(40, 60, "camera_offline")]
    assert run(segments, spans, offline_voids_video=False).complete


def test_priority_where_causes_overlap():  # R-VIDEO-1
    segments = [seg(0, 10), seg(10, 40, "file_missing"), seg(20, 30, "purged"), seg(90, 100)]
    spans = [OfflineSpan("C1", at(35), at(50))]
    cov = run(segments, spans)
    assert spans_of(cov.gaps) == [
        (10, 20, "file_missing"),
        (20, 30, "purged"),
        (30, 35, "file_missing"),
        (35, 50, "camera_offline"),
        (50, 90, "no_hook_received"),
    ]


def test_checksum_mismatch_outranks_missing_and_invalid():  # R-VIDEO-1, R-AUDIT-1
    segments = [seg(0, 100, "invalid"), seg(0, 100, "file_missing"), seg(40, 60, "checksum_mismatch")]
    cov = run(segments)
    assert spans_of(cov.gaps) == [
        (0, 40, "file_missing"),
        (40, 60, "checksum_mismatch"),
        (60, 100, "file_missing"),
    ]


def test_a_jittery_cause_leaves_no_sliver():  # R-VIDEO-1
    # The offline report lands a second after the video stops: one gap, one cause.
    cov = run([seg(0, 30), seg(70, 100)], [OfflineSpan("C1", at(31), at(69.5))])
    assert spans_of(cov.gaps) == [(30, 70, "camera_offline")]


def test_open_segment_counts_while_it_is_still_recording():  # R-VIDEO-1
    segments = [seg(0, 50), seg(50, 62, "open")]  # open: end = expected finish
    cov = run(segments, now=at(55))
    assert cov.complete and cov.window_end == at(55)
    assert cov.covered == [(at(0), at(55))]


def test_open_segment_overdue_or_judged_afterwards_is_a_gap():  # R-VIDEO-1
    segments = [seg(0, 50), seg(50, 62, "open")]
    assert spans_of(run(segments, now=at(80)).gaps) == [(50, 80, "no_hook_received")]
    assert spans_of(run(segments).gaps) == [(50, 100, "no_hook_received")]


def test_the_future_is_not_a_gap():  # R-VIDEO-1
    cov = run([seg(0, 40)], now=at(41))
    assert cov.complete and cov.window_end == at(41)
    before = run([], now=at(-10))
    assert before.gaps == [] and before.window_end == before.window_start


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        camera_coverage("C1", datetime(2025, 6, 14, 9), datetime(2025, 6, 14, 11), [], [])
    with pytest.raises(ValueError):
        SegmentFact("C1", at(0), at(1), "half-done")


def test_coverage_by_camera_reports_silent_cameras_too():  # R-VIDEO-1
    result = coverage_by_camera(["C1", "C2"], at(0), at(100), [seg(0, 100)], [], margin=NO_MARGIN)
    assert result["C1"].complete
    assert spans_of(result["C2"].gaps) == [(0, 100, "no_hook_received")]


def test_stale_cameras():  # R-VIDEO-1
    last = {"A": at(90), "B": at(50), "C": None}
    assert stale_cameras(last, at(100), timedelta(seconds=30)) == ["B", "C"]
    assert stale_cameras(last, at(100), timedelta(seconds=60)) == ["C"]


def test_a_whole_batch_day_has_only_its_explained_gaps():  # R-VIDEO-1: 10 rooms x 2 cameras x 8 h of 10-s segments
    # Speed is measured in bench/coverage.py; here only the answer over a realistic day.
    cameras = [f"R{r:02d}-{c}" for r in range(10) for c in "AB"]
    segments = []
    for n, cam in enumerate(cameras):
        for i in range(8 * 360):
            state = "valid" if (i + n) % 97 else "file_missing"
            segments.append(SegmentFact(cam, at(i * 10 - 60), at(i * 10 - 50 + (i % 3) * 0.3), state))
    spans = [OfflineSpan(cam, at(3600), at(3700)) for cam in cameras[::3]]
    result = coverage_by_camera(cameras, at(0), at(8 * 3600 - 120), segments, spans)
    assert len(segments) == 57_600
    assert all(not c.complete for c in result.values())
    assert all(g.cause in {"file_missing", "camera_offline"} for c in result.values() for g in c.gaps)
