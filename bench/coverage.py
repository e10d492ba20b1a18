"""Bench: video coverage of a batch and the purge of an exam season.

R-VIDEO-1 makes video the bulk of what examday keeps: one season of an
institution with 200 cameras, 30 exam days of 8 hours in 10-second segments,
is about 17 million segments. This shows that

* coverage of one batch (10 rooms x 2 cameras, one 8-hour day) is computed
  well under a second, and
* the retention purge (R-VIDEO-1, R-ARCH-1) walks the whole season streamed in
  chunks, in memory that does not grow with the season.

The season is generated lazily; no list of it is ever held.

    .venv/bin/python bench/coverage.py [--days 30] [--cameras 200] [--chunk 100000]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from proctor.coverage import OfflineSpan, SegmentFact, coverage_by_camera
from storage.retention import PurgeCandidate, RetentionClass, decide_purge

SEGMENT = timedelta(seconds=10)
DAY_HOURS = 8
PER_DAY = DAY_HOURS * 3600 // 10
FIRST_DAY = date(2024, 3, 2)
TODAY = date(2025, 6, 1)  # under the Jilin profile the season's first 13 weeks have expired
HELD_DAY = 3  # one exam day's video is under an objection (legal hold)


def exam_days(n: int) -> list[date]:
    # Exam days a week apart on Saturdays: the season spans about seven months.
    return [FIRST_DAY + timedelta(weeks=i) for i in range(n)]


def cameras(n: int) -> list[str]:
    return [f"R{i // 2:03d}-{'AB'[i % 2]}" for i in range(n)]


def day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai


def season_segments(days: list[date], cams: list[str], seed: int = 7) -> Iterator[SegmentFact]:
    """Every segment of the season, lazily; about 1 in 500 is not valid."""
    rng = random.Random(seed)
    bad_states = ("file_missing", "invalid", "checksum_mismatch")
    for d in days:
        starts = [day_start(d) + i * SEGMENT for i in range(PER_DAY + 1)]
        for cam in cams:
            bad = {rng.randrange(PER_DAY): rng.choice(bad_states) for _ in range(PER_DAY // 500)}
            for i in range(PER_DAY):
                yield SegmentFact(cam, starts[i], starts[i + 1], bad.get(i, "valid"))


def season_purge_candidates(days: list[date], cams: list[str], held_day: date) -> Iterator[PurgeCandidate]:
    """The same season as the purge sees it: one stored file per segment."""
    video = RetentionClass.EXAM_VIDEO
    for d in days:
        held = d == held_day
        for cam in cams:
            prefix = f"{cam}/{d:%Y%m%d}/"
            for i in range(PER_DAY):
                yield PurgeCandidate("segment", prefix + str(i), video, d, held)


def chunks(it: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(it, size)):
        yield chunk


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench_batch(days: list[date], cams: list[str]) -> None:
    batch_cams = cams[:20]
    day = days[0]
    segments = list(season_segments([day], batch_cams))
    outage = day_start(day) + timedelta(hours=2)
    spans = [OfflineSpan(batch_cams[5], outage, outage + timedelta(minutes=3))]
    start, end = day_start(day) + timedelta(minutes=2), day_start(day) + timedelta(hours=DAY_HOURS, minutes=-2)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        result = coverage_by_camera(batch_cams, start, end, segments, spans)
        best = min(best, time.perf_counter() - t)
    gaps = Counter(g.cause for c in result.values() for g in c.gaps)
    complete = sum(c.complete for c in result.values())
    print("== coverage of one batch (R-VIDEO-1)")
    print(f"   cameras              {len(batch_cams)} (10 rooms x 2)")
    print(f"   segments             {len(segments):,}")
    print("   window               8 h less 4 min, plus 60 s margin each side")
    print(f"   time (best of 5)     {best * 1000:.1f} ms")
    print(f"   complete cameras     {complete}/{len(batch_cams)}")
    print(f"   gaps by cause        {dict(gaps)}")


def purge_season(days: list[date], cams: list[str], held_day: date, chunk: int, trace: bool) -> None:
    total = len(days) * len(cams) * PER_DAY
    if trace:
        tracemalloc.start()
    reasons: Counter[str] = Counter()
    t = time.perf_counter()
    for part in chunks(season_purge_candidates(days, cams, held_day), chunk):
        for decision in decide_purge(part, "jilin", TODAY):
            reasons[decision.reason] += 1
    elapsed = time.perf_counter() - t
    print(
        f"   {len(days):>2} days: {total:>11,} segments  {elapsed:6.1f} s  ({elapsed / total * 1e6:.2f} µs each)"
        f"  peak RSS {peak_rss_mib():4.0f} MiB",
        end="",
    )
    if trace:
        print(f"  tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB", end="")
        tracemalloc.stop()
    print(f"\n            {dict(reasons)}")


def bench_purge(days: list[date], cams: list[str], chunk: int, trace: bool) -> None:
    print("== purge of the season (R-VIDEO-1, R-ARCH-1): profile 'jilin', today", TODAY)
    print(f"   {len(cams)} cameras x {len(days)} days x {PER_DAY} segments, streamed in chunks of {chunk:,}")
    print(f"   peak RSS at start {peak_rss_mib():.0f} MiB; a tenth of the season first, then all of it:")
    # ru_maxrss only ever rises: if the whole season ends at the same peak as
    # its tenth, memory is bounded by the chunk, not by the season.
    held_day = days[min(HELD_DAY, len(days) - 1)]
    purge_season(days[: max(1, len(days) // 10)], cams, held_day, chunk, trace)
    purge_season(days, cams, held_day, chunk, trace)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--cameras", type=int, default=200)
    p.add_argument("--chunk", type=int, default=100_000)
    p.add_argument("--trace", action="store_true", help="also measure with tracemalloc (several times slower)")
    args = p.parse_args(argv)
    days, cams = exam_days(args.days), cameras(args.cameras)
    gc.collect()
    bench_purge(days, cams, args.chunk, args.trace)  # first, so the batch's lists do not raise the RSS peak
    bench_batch(days, cams)
    return 0


if __name__ == "__main__":
    sys.exit(main())
