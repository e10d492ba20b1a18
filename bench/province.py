"""Bench: a province's Saturday morning on one installation (R-DAY-1, R-DAY-3, R-VIDEO-1; issue #18).

bench/morning.py's exam morning, fifty times over on one installation: 50 institutions, each with
its own batch, 20,000 candidates in all, arriving on the morning's Beta curve over the 45-minute
entry window squeezed into ``--minutes`` (5 by default: about 65 check-ins/s at the peak's
average); 80 kiosks (kiosk/program.py's own client, each at one institution's door), 200 feed
screens (one exam office per institution, the rest its proctors, each on their room), 400 cameras
sending signed segment hooks every 10 s of real time; ``examday serve --workers 4`` (four processes
on one port) on PostgreSQL and Redis. The pieces are bench/morning's (morning_world,
morning_clients); what is new here is the many institutions, the CPU split by process kind, the
lock waits in PostgreSQL (bench/province_probe.py) and the plot (bench/province_plot.py).

    .venv/bin/python -m bench.province                                              # the full morning
    .venv/bin/python -m bench.province --institutions 5 --candidates 2000 --minutes 1   # a quick look
    [--kiosks 80] [--screens 200] [--cameras 400] [--workers 4] [--hook-every 10] [--segment-kb 64]
    [--postgres URL] [--redis URL] [--json bench/out/province.json] [--keep]

Seeding is not part of the measured morning; it is timed and printed. The plot goes next to the
JSON (bench/out/province.png by default). Exit status 0 when there were no errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session

from bench import morning_world as W
from bench import province_probe as P
from bench.morning import MORNING_MINUTES, START_AT, finish, say, shared_arguments, spread, tally_errors
from bench.morning_clients import Door, Recorders, Screens, after, arrivals
from bench.province_plot import plot
from examday.clock import CST

OUT = ROOT / "bench" / "out"


def share(total: int, parts: int, k: int) -> int:
    """Part k of ``total`` split as evenly as may be into ``parts``."""
    return total // parts + (k < total % parts)


def seed(url: str, args) -> list[W.World]:
    """One World per institution, all in one session (bulk inserts through the test builders)."""
    from storage.db import make_engine

    engine = make_engine(url)
    now = datetime.now(CST)
    worlds = []
    with Session(engine, expire_on_commit=False) as db:
        for k in range(args.institutions):
            n = share(args.candidates, args.institutions, k)
            kiosks = max(1, share(args.kiosks, args.institutions, k))
            screens = share(args.screens, args.institutions, k)
            cameras = share(args.cameras, args.institutions, k)
            worlds.append(W.seed_institution(db, now, n, kiosks, screens, min(1, screens), cameras, k))
    engine.dispose()
    return worlds


def feed_delays(screens: Screens, accepted_at: dict[int, float], people: list[dict], drain: float = 20.0):
    """(accepted wall time, delay) of every (screen, check-in it should show) pair, and how many
    never arrived; waits up to ``drain`` s for stragglers."""
    where = {p["id"]: (p["batch"], p["room"]) for p in people}
    due = {
        id(s): [c for c in accepted_at if where[c][0] == s.batch_id and (s.room is None or where[c][1] == s.room)]
        for s in screens.screens
    }
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and any(c not in s.received for s in screens.screens for c in due[id(s)]):
        time.sleep(0.2)
    pairs, missed = [], 0
    for s in screens.screens:
        for c in due[id(s)]:
            if c in s.received:
                pairs.append((accepted_at[c], s.received[c] - accepted_at[c]))
            else:
                missed += 1
    return pairs, missed


def make_rosters(urls: list[str], worlds: list, workers: int) -> None:
    """Each batch's first roster, as an institution's kiosks load it before the morning: the
    server makes one argon2id hash per candidate then (kiosk/services/roster_hashes.py), tens of
    milliseconds each. Not part of the measured morning; a kiosk gives up on a roster after
    ROSTER_TIMEOUT, which 20,000 candidates' hashes on two cores would exceed."""

    def first(k: int) -> None:
        w = worlds[k]
        r = httpx.get(
            f"{urls[k % len(urls)]}/api/v1/batches/{w.batch_id}/roster",
            headers={"Authorization": f"Bearer {w.kiosk_tokens[0]}"},
            timeout=3600,
        )
        r.raise_for_status()

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(first, range(len(worlds))))


def run(args) -> dict:
    url, schema, drop = W.make_schema(args.postgres)
    say(f"schema {schema}")
    servers: list[W.Server] = []
    tmp = Path(tempfile.mkdtemp(prefix="examday-province-"))
    try:
        servers = W.start_servers(url, args.redis, tmp / "data", schema[-8:], n=1, workers=args.workers)
        t = time.monotonic()
        worlds = seed(url, args)
        seeded = time.monotonic() - t
        say(f"seeded {args.institutions} institutions, {args.candidates} candidates in {seeded:.1f} s")
        W.wait_up(servers)
        time.sleep(2)  # every worker up, not only the first to answer
        say(f"servers up on {servers[0].url}: examday serve --workers {args.workers}")
        urls = [s.url for s in servers]
        t = time.monotonic()
        make_rosters(urls, worlds, args.workers)
        say(
            f"the rosters' ID hashes made in {time.monotonic() - t:.0f} s (once for the installation, before the morning)"
        )
        people = [p for w in worlds for p in w.people]
        screens = Screens(
            urls, [x for w in worlds for x in w.watchers], [w.batch_id for w in worlds for _ in w.watchers]
        )
        # 4 workers x (10 + 20 pooled connections) may exceed PostgreSQL's default 100: screens
        # switched on all in one instant would each hold one for their snapshot.
        screens.start(timeout=300, stagger=0.05)
        seconds = args.minutes * 60
        lead = 5 + args.candidates / 500  # time for the kiosks to load their rosters
        starts = after(lead + seconds * START_AT)
        for w in worlds:
            W.set_start(url, w, starts)
        door = Door(
            urls,
            [t for w in worlds for t in w.kiosk_tokens],
            [w.batch_id for w in worlds for _ in w.kiosk_tokens],
            tmp / "kiosks",
        )
        ready_by = time.monotonic() + lead
        door.prepare()
        say(f"{len(screens.screens)} screens connected, {len(door.kiosks)} kiosks have their rosters: doors open")
        shift = time.monotonic() - ready_by
        time.sleep(max(0.0, -shift))
        cams = [c for w in worlds for c in w.cameras]
        recorders = Recorders(urls, cams, W.HOOK_SECRET, args.hook_every, tmp / "data" / "video", args.segment_kb)
        waits = P.LockWaits(url, servers)
        cpu0 = P.cpu_now(url, args.redis, servers)
        t0 = time.time()
        waits.start()
        recorders.start()
        queue = arrivals(people, seconds)
        result = door.run(queue)
        say("last arrival done")
        hooks = recorders.close()
        cpu1 = P.cpu_now(url, args.redis, servers)
        locks = waits.stop()
        pairs, missed = feed_delays(screens, result.accepted_at, people)
        leftovers = door.leftovers()
        screens.close()
        every = W.World([w.batch_id for w in worlds], 0, people, [], [], [])  # type: ignore[arg-type]
        db = W.count(url, every)
    finally:
        W.stop_servers(servers)
        if not args.keep:
            drop()
    cpu = P.cpu_spent(cpu0, cpu1)
    n_req = len(result.latencies)
    accepted = result.outcomes.get("accepted", 0)
    per_checkin = {k: cpu[k] * 1000 / max(1, n_req) for k in ("servers_s", "postgres_s", "redis_s", "clients_s")}
    r = {
        "setup": {
            "institutions": args.institutions,
            "candidates": args.candidates,
            "kiosks": len(door.kiosks),
            "screens": len(screens.screens),
            "cameras": len(cams),
            "hook_every_s": args.hook_every,
            "segment_kb": args.segment_kb,
            "workers": args.workers,
            "morning_min": MORNING_MINUTES,
            "run_s": seconds,
            "squeeze": MORNING_MINUTES * 60 / seconds,
            "seed_s": round(seeded, 1),
            "doors_late_s": round(max(0.0, shift), 1),
            "cpus": os.cpu_count(),
            "load_end": round(os.getloadavg()[0], 1),
        },
        "checkin": {
            "requests": n_req,
            **spread(result.latencies),
            "per_s": n_req / result.seconds,
            "accepted_per_s": accepted / result.seconds,
            "peak_arrivals_per_s": peak(q.at for q in queue),
            "door_wait_p99_s": sorted(result.waits)[int(0.99 * (len(result.waits) - 1))] if result.waits else 0,
            "door_wait_max_s": max(result.waits, default=0),
            "outcomes": dict(result.outcomes),
            "late": db["late"],
        },
        "feed": {"pairs": len(pairs), **spread([d for _, d in pairs])},
        "hooks": {
            "sent": len(hooks.latencies) + sum(hooks.errors.values()),
            **spread(hooks.latencies),
            "per_s": len(hooks.latencies) / max(1.0, cpu["wall_s"]),
            "statuses": {str(k): v for k, v in hooks.statuses.items()},
        },
        "db": {"attendance": len(db["attendance"]), "checkins": db["checkins"], "offline": db["offline"]},
        "cpu": {**cpu, "per_checkin_ms": {k[:-2]: round(v, 2) for k, v in per_checkin.items()}},
        "locks": locks,
        "errors": tally_errors(people, result, hooks, screens, missed, leftovers, db),
    }
    png = Path(args.json).with_suffix(".png") if args.json else OUT / "province.png"
    title = (
        f"examday province morning: {args.institutions} institutions, {args.candidates} candidates in "
        f"{seconds:.0f} s, {args.workers} serve processes, {len(cams)} cameras"
    )
    plot(
        png,
        title,
        t0,
        list(zip(result.sent_at, result.latencies)),
        pairs,
        [q.at for q in queue],
        waits.timeline,
    )
    r["plot"] = str(png)
    return r


def peak(offsets, window: float = 10.0) -> float:
    """The most arrivals in any ``window`` seconds, per second."""
    ts = sorted(offsets)
    best, j = 0, 0
    for i, t in enumerate(ts):
        while ts[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best / window


def report(r: dict) -> None:
    s, c, f, h, cpu, lk, e = r["setup"], r["checkin"], r["feed"], r["hooks"], r["cpu"], r["locks"], r["errors"]
    pc = cpu["per_checkin_ms"]
    print(
        f"\nprovince morning: {s['institutions']} institutions, {s['candidates']} candidates over "
        f"{s['morning_min']} min squeezed into {s['run_s']:.0f} s (x{s['squeeze']:.0f}); {s['kiosks']} kiosks, "
        f"{s['screens']} screens, {s['cameras']} cameras every {s['hook_every_s']:g} s; examday serve --workers "
        f"{s['workers']} + PostgreSQL + Redis on {s['cpus']} CPUs shared with the clients; seeding {s['seed_s']} s"
        + (f"; doors opened {s['doors_late_s']} s late" if s["doors_late_s"] else "")
    )
    rows = [
        (
            "check-in",
            f"{c['requests']} requests, {c['per_s']:.1f}/s (peak arrivals {c['peak_arrivals_per_s']:.0f}/s)",
            f"p50 {c['p50_ms']:.0f} ms  p99 {c['p99_ms']:.0f} ms  max {c['max_ms']:.0f} ms; door wait p99 "
            f"{c['door_wait_p99_s']:.2f} s",
        ),
        ("  answers", ", ".join(f"{k} {v}" for k, v in sorted(c["outcomes"].items())), f"late {c['late']}"),
        (
            "feed",
            f"{f['pairs']} (screen, check-in) pairs",
            f"p50 {f['p50_ms']:.0f} ms  p99 {f['p99_ms']:.0f} ms  max {f['max_ms']:.0f} ms",
        ),
        (
            "hooks",
            f"{h['sent']} sent, {h['per_s']:.0f}/s",
            f"p50 {h['p50_ms']:.0f} ms  p99 {h['p99_ms']:.0f} ms  max {h['max_ms']:.0f} ms",
        ),
        (
            "CPU",
            f"per check-in: servers {pc['servers']:.1f} ms, PostgreSQL {pc['postgres']:.1f}, Redis {pc['redis']:.1f}",
            f"(clients {pc['clients']:.1f}; all work incl. hooks and feed); machine busy {cpu['machine_busy']:.0%} "
            f"over {cpu['wall_s']} s",
        ),
        (
            "locks",
            f"waiting {lk['waiting_mean']} of {lk['active_mean']} active backends",
            f"{lk['lock_wait_backend_s']} backend-s; on {lk['waiting_on']}; blocked by {lk['blocked_by']}",
        ),
        ("errors", str(sum(e.values())), ", ".join(f"{k} {v}" for k, v in e.items() if v) or "none"),
        ("plot", r["plot"], ""),
    ]
    for name, a, b in rows:
        print(f"{name:<9} {a:<60} {b}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--institutions", type=int, default=50)
    p.add_argument("--candidates", type=int, default=20000, help="in all, shared out among the institutions")
    p.add_argument("--minutes", type=float, default=5.0, help="real minutes the 45-minute morning is squeezed into")
    p.add_argument("--kiosks", type=int, default=80, help="in all; every institution has at least one")
    p.add_argument("--screens", type=int, default=200, help="in all; one per institution is its exam office")
    p.add_argument("--cameras", type=int, default=400)
    p.add_argument("--workers", type=int, default=4, help="examday serve --workers")
    p.add_argument("--segment-kb", type=int, default=64, help="segment files the server hashes (64 KB: disk)")
    shared_arguments(p)  # --json: the plot goes next to the figures
    args = p.parse_args(argv)
    return finish(args, run(args), report)


if __name__ == "__main__":
    raise SystemExit(main())
