"""Video coverage of an exam session, camera by camera (全程监控录像).

R-VIDEO-1: theory rooms and skill venues are video monitored for the whole
exam, and not providing complete monitoring video is a violation. This module
answers, from the facts the recorder hooks left behind, which stretches of a
session each camera really covered and, for every stretch it did not, why.

Pure rules: plain data in, plain data out. The caller loads the segment facts
and offline spans and passes ``now``; nothing here reads a clock or a database.

Vocabulary
----------
* A *segment* is one recorded file. Its state says whether it proves anything:
  only a ``valid`` one does. ``open`` means started and not finished yet; its
  ``end`` is the time by which it should have finished (start plus the
  recorder's segment length plus some grace).
* An *offline span* is a stretch the recorder reported the camera as offline
  (no signal, frozen picture, covered lens); ``end`` is None while it lasts.
* The *window* is the session widened by ``margin`` on both sides, so that a
  recorder clock a little off, or a recorder started at the last second, shows.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

SEGMENT_STATES = frozenset({"valid", "invalid", "file_missing", "checksum_mismatch", "purged", "open"})

# Where explanations overlap, the first one wins: a camera reported offline
# explains everything recorded or lost during that time, and a file we deleted
# on purpose (purged) says more than one that merely fails its checksum.
CAUSES = (
    "camera_offline",
    "purged",
    "checksum_mismatch",
    "file_missing",
    "invalid_segment",
    "no_hook_received",
)
_RANK = {cause: i for i, cause in enumerate(CAUSES)}
_STATE_CAUSE = {
    "purged": "purged",
    "checksum_mismatch": "checksum_mismatch",
    "file_missing": "file_missing",
    "invalid": "invalid_segment",
}

DEFAULT_MARGIN = timedelta(seconds=60)
DEFAULT_TOLERANCE = timedelta(seconds=2)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class SegmentFact:
    """What is known about one recorded segment (录像片段)."""

    camera: str
    start: datetime
    end: datetime
    state: str

    def __post_init__(self) -> None:
        if self.state not in SEGMENT_STATES:
            raise ValueError(f"unknown segment state {self.state!r}")


@dataclass(frozen=True, slots=True)
class OfflineSpan:
    """A stretch the camera was reported offline (掉线); ``end`` None while it lasts."""

    camera: str
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    start: datetime
    end: datetime
    cause: str


@dataclass(slots=True)
class CameraCoverage:
    """Coverage of one camera over the window that could be judged.

    ``window_start``/``window_end`` are the widened window actually evaluated:
    while a session is running the end stops at ``now``, so ``complete`` then
    means "no gap so far", not "the session is fully recorded".
    """

    camera: str
    covered: list[Interval]
    gaps: list[Gap]
    complete: bool
    window_start: datetime | None = field(default=None)
    window_end: datetime | None = field(default=None)


def camera_coverage(
    camera: str,
    window_start: datetime,
    window_end: datetime,
    segments: Iterable[SegmentFact],
    offline_spans: Iterable[OfflineSpan] = (),
    margin: timedelta = DEFAULT_MARGIN,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: datetime | None = None,
    offline_voids_video: bool = True,
) -> CameraCoverage:
    """Coverage of ``camera`` over the session window (R-VIDEO-1).

    ``segments`` and ``offline_spans`` may hold other cameras' facts too; they
    are ignored. See :func:`coverage_by_camera` for many cameras at once.

    With ``offline_voids_video`` (the default) video recorded while the camera
    was reported offline does not count: a file of a black or frozen picture
    is not monitoring, and R-VIDEO-1 asks for complete monitoring, not files.
    """
    ws, we = _window(window_start, window_end, margin, tolerance, now)
    segs = [s for s in segments if s.camera == camera]
    spans = [s for s in offline_spans if s.camera == camera]
    return _evaluate(camera, ws, we, segs, spans, tolerance, now, offline_voids_video)


def coverage_by_camera(
    cameras: Iterable[str],
    window_start: datetime,
    window_end: datetime,
    segments: Iterable[SegmentFact],
    offline_spans: Iterable[OfflineSpan] = (),
    margin: timedelta = DEFAULT_MARGIN,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: datetime | None = None,
    offline_voids_video: bool = True,
) -> dict[str, CameraCoverage]:
    """Coverage of several cameras sharing one window, grouping the facts once.

    A batch's facts run to tens of thousands of segments; filtering them once
    per camera would be quadratic in the number of cameras. A camera with no
    facts at all is reported with one gap over the whole window (R-VIDEO-1).
    """
    ws, we = _window(window_start, window_end, margin, tolerance, now)
    wanted = list(dict.fromkeys(cameras))
    wanted_set = set(wanted)
    segs_by: dict[str, list[SegmentFact]] = defaultdict(list)
    spans_by: dict[str, list[OfflineSpan]] = defaultdict(list)
    for seg in segments:
        if seg.camera in wanted_set:
            segs_by[seg.camera].append(seg)
    for span in offline_spans:
        if span.camera in wanted_set:
            spans_by[span.camera].append(span)
    return {
        cam: _evaluate(cam, ws, we, segs_by[cam], spans_by[cam], tolerance, now, offline_voids_video) for cam in wanted
    }


def stale_cameras(
    last_segment_end_by_camera: Mapping[str, datetime | None],
    now: datetime,
    stale_after: timedelta,
) -> list[str]:
    """Cameras whose last finished segment is older than ``stale_after``.

    A camera that never reported is stale too: silence is exactly what a
    proctor must see during the exam, before it becomes a gap (R-VIDEO-1).
    """
    return sorted(cam for cam, last in last_segment_end_by_camera.items() if last is None or now - last > stale_after)


def _window(start: datetime, end: datetime, margin: timedelta, tolerance: timedelta, now: datetime | None) -> Interval:
    for t in (start, end, now):
        if t is not None and t.tzinfo is None:
            raise ValueError("coverage times must be timezone-aware")
    if end <= start:
        raise ValueError("window_end must be after window_start")
    if margin < timedelta(0) or tolerance < timedelta(0):
        raise ValueError("margin and tolerance must not be negative")
    ws, we = start - margin, end + margin
    # The future is not a gap: a running session is judged up to now.
    if now is not None and now < we:
        we = max(now, ws)
    return ws, we


def _evaluate(
    camera: str,
    ws: datetime,
    we: datetime,
    segments: list[SegmentFact],
    spans: list[OfflineSpan],
    tolerance: timedelta,
    now: datetime | None,
    offline_voids_video: bool,
) -> CameraCoverage:
    if we <= ws:
        return CameraCoverage(camera, [], [], True, ws, we)

    valid: list[Interval] = []
    explained: dict[str, list[Interval]] = {cause: [] for cause in CAUSES[:-1]}
    for seg in segments:
        if seg.state == "valid":
            valid.append((seg.start, seg.end))
        elif seg.state == "open":
            # Only a recording still within its expected length is taken on
            # trust; once overdue (or once the session is judged for good)
            # its finish hook never came and the stretch stays unexplained.
            if now is not None and seg.start <= now <= seg.end:
                valid.append((seg.start, now))
        else:
            explained[_STATE_CAUSE[seg.state]].append((seg.start, seg.end))
    explained["camera_offline"] = [(s.start, s.end if s.end is not None else we) for s in spans]

    layers = {cause: _merge(_clip(ivs, ws, we), timedelta(0)) for cause, ivs in explained.items()}
    recorded = _merge(_clip(valid, ws, we), timedelta(0))
    if offline_voids_video:
        recorded = _subtract(recorded, layers["camera_offline"])
    covered = _merge(recorded, tolerance)

    lookup = [(cause, layers[cause], [s for s, _ in layers[cause]]) for cause in CAUSES[:-1] if layers[cause]]
    gaps: list[Gap] = []
    for gs, ge in _complement(covered, ws, we):
        if ge - gs > tolerance:
            gaps.extend(_explain(gs, ge, lookup, tolerance))
    return CameraCoverage(camera, covered, gaps, not gaps, ws, we)


def _clip(intervals: Iterable[Interval], ws: datetime, we: datetime) -> list[Interval]:
    out = []
    for s, e in intervals:
        s, e = max(s, ws), min(e, we)
        if e > s:
            out.append((s, e))
    out.sort()
    return out


def _merge(intervals: list[Interval], bridge: timedelta) -> list[Interval]:
    """Merge sorted intervals that overlap, touch, or sit within ``bridge``."""
    out: list[Interval] = []
    for s, e in intervals:
        if out and s <= out[-1][1] + bridge:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _subtract(base: list[Interval], cut: list[Interval]) -> list[Interval]:
    """``base`` minus ``cut``, both merged and sorted: one sweep, no nesting."""
    out: list[Interval] = []
    j = 0
    for s, e in base:
        while j < len(cut) and cut[j][1] <= s:
            j += 1
        k = j
        while k < len(cut) and cut[k][0] < e:
            cs, ce = cut[k]
            if cs > s:
                out.append((s, cs))
            s = max(s, ce)
            if s >= e:
                break
            k += 1
        if s < e:
            out.append((s, e))
    return out


def _complement(covered: list[Interval], ws: datetime, we: datetime) -> list[Interval]:
    out = []
    cursor = ws
    for s, e in covered:
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < we:
        out.append((cursor, we))
    return out


def _explain(
    gs: datetime,
    ge: datetime,
    lookup: list[tuple[str, list[Interval], list[datetime]]],
    tolerance: timedelta,
) -> list[Gap]:
    """Split one gap into pieces, each with the highest-priority cause there."""
    cuts = {gs, ge}
    for _, ivs, starts in lookup:
        i = max(bisect_right(starts, gs) - 1, 0)
        while i < len(ivs) and ivs[i][0] < ge:
            s, e = ivs[i]
            if e > gs:
                if s > gs:
                    cuts.add(s)
                if e < ge:
                    cuts.add(e)
            i += 1

    pieces: list[Gap] = []
    for a, b in pairwise(sorted(cuts)):
        mid = a + (b - a) / 2
        cause = next((c for c, ivs, starts in lookup if _inside(ivs, starts, mid)), CAUSES[-1])
        if pieces and pieces[-1].cause == cause:
            pieces[-1] = Gap(pieces[-1].start, b, cause)
        else:
            pieces.append(Gap(a, b, cause))
    return _absorb_slivers(pieces, tolerance)


def _inside(ivs: list[Interval], starts: list[datetime], t: datetime) -> bool:
    i = bisect_right(starts, t) - 1
    return i >= 0 and t < ivs[i][1]


def _absorb_slivers(pieces: list[Gap], tolerance: timedelta) -> list[Gap]:
    """Fold pieces no longer than the tolerance into a neighbour.

    Hook times and offline reports jitter by a second or so; without this a
    gap fully explained by an offline span would grow a one-second
    "no_hook_received" stub at each end. The sliver goes to the neighbour whose
    cause ranks higher, one pass, left to right.
    """
    if len(pieces) < 2:
        return pieces
    out: list[Gap] = []
    carry: datetime | None = None  # start of slivers waiting for the next piece
    for i, p in enumerate(pieces):
        start = carry if carry is not None else p.start
        carry = None
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if p.end - start <= tolerance and (out or nxt):
            forward = nxt is not None and (not out or _RANK[nxt.cause] < _RANK[out[-1].cause])
            if forward:
                carry = start
            else:
                out[-1] = Gap(out[-1].start, p.end, out[-1].cause)
            continue
        if out and out[-1].cause == p.cause:
            out[-1] = Gap(out[-1].start, p.end, p.cause)
        else:
            out.append(Gap(start, p.end, p.cause))
    return out
