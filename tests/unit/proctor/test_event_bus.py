"""The event bus behind the live feed (R-DAY-3): numbers rise by one per batch in the
order events are handed over, also from many threads, and events that queue up while
one is being enriched go out together with one enrichment."""

from __future__ import annotations

import threading
import time

from examday.events import EventBus


def test_numbers_rise_by_one_per_batch_from_many_threads():
    bus = EventBus()
    seen: list[tuple[int, int, int]] = []
    bus.subscribe(lambda bid, m: seen.append((bid, m["seq"], m["i"])))

    def publish(k: int) -> None:
        for i in range(50):
            bus.publish(1 + k % 2, "note", "T01", i=k * 100 + i)

    threads = [threading.Thread(target=publish, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for bid in (1, 2):
        seqs = [s for b, s, _ in seen if b == bid]
        assert sorted(seqs) == list(range(1, 201)) and bus.current_seq(bid) == 200


def test_queued_events_share_one_enrichment_and_keep_their_order():
    bus = EventBus()
    calls: list[list[int]] = []

    def enricher(bid, messages):
        calls.append([m["i"] for m in messages])
        time.sleep(0.05)  # a slow read: the others queue up behind it
        return [{**m, "room": {"enriched": True}} for m in messages]

    bus.set_enricher(enricher)
    out: dict[int, int] = {}
    sent: list[dict] = []
    bus.subscribe(lambda bid, m: sent.append(m))
    threads = [
        threading.Thread(target=lambda i=i: out.__setitem__(i, bus.publish(7, "checkin", "T01", i=i)))
        for i in range(12)
    ]
    for t in threads:
        t.start()
        time.sleep(0.002)
    for t in threads:
        t.join()
    assert sorted(out.values()) == list(range(1, 13))  # every publisher gets its own number
    assert len(calls) < 12 and sum(len(c) for c in calls) == 12  # batched enrichment
    flat = [i for c in calls for i in c]
    assert [out[i] for i in flat] == list(range(1, 13))  # numbered in the order they were handed over
    assert all(m["room"] == {"enriched": True} for m in sent)


def test_a_failing_enricher_still_sends_the_event():
    bus = EventBus()

    def broken(bid, messages):
        raise RuntimeError("database away")

    bus.set_enricher(broken)
    got = []
    bus.subscribe(lambda bid, m: got.append(m))
    assert bus.publish(3, "incident", "T02", candidate_id=5) == 1
    assert got[0]["event"] == "incident" and "room" not in got[0]
