"""Bench: an exam morning under load (R-DAY-1, R-DAY-3, R-VIDEO-1; issue 9).

2,000 candidates arrive over the 45 minutes from entry opening (30 min before the start) to 15 min
after it, on a Beta(3, 3.5) curve that peaks some 10 minutes before the start; the morning is
squeezed into ``--minutes`` of real time (3 by default: 15 times faster than life), and the
session's start is moved to the squeezed start, so whoever comes after it is late on the server
too. On PostgreSQL (a schema of its own, dropped at the end) with two ``examday serve`` processes
sharing Redis:

* 8 kiosks (kiosk/program.py's own ``Kiosk``: nonces, its 5 s timeout, its offline fallback), half
  on each process; 2 % of the candidates type someone else's ID number first (refused
  ``id_mismatch``, then the right one), 0.5 % scan again once in (``already_checked_in``);
* 40 screens on the live feed, half on each process: 2 exam-office screens see the whole batch,
  38 proctors their own room; feed delay is from the kiosk's "accepted" to the event on a screen;
* 40 cameras whose recorders finish a segment and start the next every 10 s of *real* time (not
  squeezed: the server's hook load per second is what 40 cameras really send), signed hooks
  with the file's SHA-256 and size (1 MB files, hashed by the server), half on each process.

At the end the database is counted: exactly one attendance per candidate, every check-in and
every hook on record. Errors (must be 0): 5xx answers, kiosks falling back to offline (timeouts,
dropped connections), answers other than the one due, sequence gaps, feed events never
delivered, screens disconnected, candidates lost or doubled, hooks lost. CPU: the server
processes (/proc), their PostgreSQL backends (when PostgreSQL runs here) and Redis (INFO).

    .venv/bin/python -m bench.morning                                   # the full morning, ~4 min
    .venv/bin/python -m bench.morning --candidates 200 --minutes 0.5    # a quick look
    [--postgres postgresql://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/9]
    [--kiosks 8] [--screens 40] [--offices 2] [--cameras 40] [--hook-every 10] [--segment-kb 1024]
    [--json out.json] [--keep]

PostgreSQL and Redis default to ``EXAMDAY_BENCH_POSTGRES_URL`` and ``EXAMDAY_BENCH_REDIS_URL``.
Exit status 0 when there were no errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import morning_world as W
from bench.morning_clients import Door, Recorders, Screens, after, arrivals

MORNING_MINUTES = 45  # entry opens 30 minutes before the start; the last arrive 15 minutes after it
START_AT = 30 / MORNING_MINUTES


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def feed_delays(
    screens: Screens, accepted_at: dict[int, float], room_of: dict[int, str], drain: float = 15.0
) -> tuple[list[float], int]:
    """Delay of every (screen, check-in it should show) pair; waits up to ``drain`` s for stragglers."""

    def due(s):
        return [c for c in accepted_at if s.room is None or room_of[c] == s.room]

    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and any(c not in s.received for s in screens.screens for c in due(s)):
        time.sleep(0.1)
    delays, missed = [], 0
    for s in screens.screens:
        for c in due(s):
            if c in s.received:
                delays.append(s.received[c] - accepted_at[c])
            else:
                missed += 1
    return delays, missed


def spread(values: list[float]) -> dict[str, float]:
    """p50, p99 and max of latencies in seconds, as milliseconds."""
    return {
        "p50_ms": pct(values, 50) * 1000,
        "p99_ms": pct(values, 99) * 1000,
        "max_ms": max(values, default=float("nan")) * 1000,
    }


def tally_errors(people: list[dict], result, hooks, screens: Screens, missed: int, leftovers: int, db: dict) -> dict:
    """Everything that must be 0 (see the module docstring); shared with bench/province.py."""
    present = db["attendance"]
    return {
        "checkin_5xx": sum(n for s, n in result.statuses.items() if s >= 500),
        "kiosk_offline": sum(result.offline.values()),
        "unexpected_answers": sum(result.unexpected.values()),
        "left_in_kiosk_queue": leftovers,
        "sequence_gaps": sum(s.gaps for s in screens.screens),
        "events_missed": missed,
        "screens_dropped": sum(s.dropped for s in screens.screens),
        "lost": sum(1 for p in people if p["id"] not in present),
        "doubled": sum(1 for n in present.values() if n > 1),
        "offline_conflicts": db["conflicts"],
        "hook_5xx": sum(n for s, n in hooks.statuses.items() if s >= 500),
        "hook_errors": sum(hooks.errors.values()),
        "hooks_not_stored": (hooks.started - sum(db["segments"].values()))
        + (hooks.finished - db["segments"].get("valid", 0)),
    }


def say(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def run(args) -> dict:
    url, schema, drop = W.make_schema(args.postgres)
    say(f"schema {schema}")
    servers = []
    tmp = Path(tempfile.mkdtemp(prefix="examday-morning-"))
    try:
        servers = W.start_servers(url, args.redis, tmp / "data", schema[-8:])  # they boot while we seed
        t = time.monotonic()
        world = W.seed(url, args.candidates, args.kiosks, args.screens, args.offices, args.cameras)
        seeded = time.monotonic() - t
        say(f"seeded in {seeded:.1f} s")
        W.wait_up(servers)
        say("servers up")
        urls = [s.url for s in servers]
        screens = Screens(urls, world.watchers, world.batch_id)
        screens.start()
        seconds = args.minutes * 60
        lead = 3 + args.candidates / 500  # time for the kiosks to load their rosters
        W.set_start(url, world, after(lead + seconds * START_AT))
        door = Door(urls, world.kiosk_tokens, world.batch_id, tmp / "kiosks")
        ready_by = time.monotonic() + lead
        door.prepare()
        say("screens connected, kiosks have their rosters: the doors open")
        shift = time.monotonic() - ready_by  # > 0: the doors opened late, the session's start did not move
        time.sleep(max(0.0, -shift))
        recorders = Recorders(
            urls, world.cameras, W.HOOK_SECRET, args.hook_every, tmp / "data" / "video", args.segment_kb
        )
        cpu0 = W.cpu_now(url, args.redis, servers)
        recorders.start()
        queue = arrivals(world.people, seconds)
        result = door.run(queue)
        say("last arrival done")
        hooks = recorders.close()
        room_of = {p["id"]: p["room"] for p in world.people}
        delays, missed = feed_delays(screens, result.accepted_at, room_of)
        cpu1 = W.cpu_now(url, args.redis, servers)
        leftovers = door.leftovers()
        screens.close()
        db = W.count(url, world)
    finally:
        W.stop_servers(servers)
        if not args.keep:
            drop()
    pg_cpu = sum(v - cpu0.pg.get(pid, 0.0) for pid, v in cpu1.pg.items())
    server_cpu = [b - a for a, b in zip(cpu0.servers, cpu1.servers)]
    present = db["attendance"]
    errors = tally_errors(world.people, result, hooks, screens, missed, leftovers, db)
    n_req = len(result.latencies)
    return {
        "setup": {
            "candidates": args.candidates,
            "kiosks": args.kiosks,
            "screens": args.screens,
            "offices": args.offices,
            "cameras": len(world.cameras),
            "hook_every_s": args.hook_every,
            "segment_kb": args.segment_kb,
            "morning_min": MORNING_MINUTES,
            "run_s": seconds,
            "squeeze": MORNING_MINUTES * 60 / seconds,
            "servers": len(servers),
            "seed_s": round(seeded, 1),
            "doors_late_s": round(max(0.0, shift), 1),
            "cpus": os.cpu_count(),
            "load_end": round(os.getloadavg()[0], 1),
        },
        "checkin": {
            "requests": n_req,
            "p50_ms": pct(result.latencies, 50) * 1000,
            "p99_ms": pct(result.latencies, 99) * 1000,
            "max_ms": max(result.latencies) * 1000,
            "per_s": n_req / result.seconds,
            "door_wait_p99_s": pct(result.waits, 99),
            "door_wait_max_s": max(result.waits),
            "outcomes": dict(result.outcomes),
            "statuses": {str(k): v for k, v in result.statuses.items()},
            "late": db["late"],
            "offline": dict(result.offline),
        },
        "feed": {
            "pairs": len(delays),
            "p50_ms": pct(delays, 50) * 1000,
            "p99_ms": pct(delays, 99) * 1000,
            "max_ms": max(delays, default=float("nan")) * 1000,
            "resyncs": sum(s.resyncs for s in screens.screens),
        },
        "hooks": {
            "sent": len(hooks.latencies) + sum(hooks.errors.values()),
            "p50_ms": pct(hooks.latencies, 50) * 1000,
            "p99_ms": pct(hooks.latencies, 99) * 1000,
            "max_ms": max(hooks.latencies, default=float("nan")) * 1000,
            "statuses": {str(k): v for k, v in hooks.statuses.items()},
            "segments": db["segments"],
        },
        "db": {"attendance": len(present), "checkins": db["checkins"], "offline_checkins": db["offline"]},
        "cpu": {
            "servers_s": [round(x, 2) for x in server_cpu],
            "per_checkin_ms": sum(server_cpu) * 1000 / max(1, n_req),
            "postgres_s": round(pg_cpu, 2),
            "redis_s": round(cpu1.redis - cpu0.redis, 2),
            "wall_s": round(cpu1.at - cpu0.at, 1),
        },
        "errors": errors,
    }


def report(r: dict) -> None:
    s, c, f, h, cpu, e = r["setup"], r["checkin"], r["feed"], r["hooks"], r["cpu"], r["errors"]
    print(
        f"\nexam morning: {s['candidates']} candidates over {s['morning_min']} min squeezed into {s['run_s']:.0f} s "
        f"(x{s['squeeze']:.0f}); {s['kiosks']} kiosks, {s['screens']} screens ({s['offices']} office), "
        f"{s['cameras']} cameras every {s['hook_every_s']:g} s real time; {s['servers']} examday serve + "
        f"PostgreSQL + Redis; {s['cpus']} CPUs shared with the clients, load {s['load_end']} at the end"
        + (f"; doors opened {s['doors_late_s']} s late" if s["doors_late_s"] else "")
    )
    rows = [
        (
            "check-in",
            f"{c['requests']} requests, {c['per_s']:.1f}/s",
            f"p50 {c['p50_ms']:.0f} ms  p99 {c['p99_ms']:.0f} ms  max {c['max_ms']:.0f} ms",
        ),
        (
            "  answers",
            ", ".join(f"{k} {v}" for k, v in sorted(c["outcomes"].items())),
            f"late {c['late']}; door wait p99 {c['door_wait_p99_s']:.2f} s, max {c['door_wait_max_s']:.2f} s",
        ),
        (
            "feed",
            f"{f['pairs']} (screen, check-in) pairs",
            f"p50 {f['p50_ms']:.0f} ms  p99 {f['p99_ms']:.0f} ms  max {f['max_ms']:.0f} ms; resyncs {f['resyncs']}",
        ),
        (
            "hooks",
            f"{h['sent']} sent, {h['statuses']}",
            f"p50 {h['p50_ms']:.0f} ms  p99 {h['p99_ms']:.0f} ms  max {h['max_ms']:.0f} ms; segments {h['segments']}",
        ),
        (
            "database",
            f"{r['db']['attendance']} present",
            f"check-ins {r['db']['checkins']}, offline {r['db']['offline_checkins']}",
        ),
        (
            "CPU",
            f"servers {' + '.join(f'{x:.1f}' for x in cpu['servers_s'])} s over {cpu['wall_s']} s",
            f"{cpu['per_checkin_ms']:.1f} ms/check-in (all work); PostgreSQL backends {cpu['postgres_s']} s, "
            f"Redis {cpu['redis_s']} s",
        ),
        ("errors", str(sum(e.values())), ", ".join(f"{k} {v}" for k, v in e.items() if v) or "none"),
    ]
    for name, a, b in rows:
        print(f"{name:<10} {a:<44} {b}")


def shared_arguments(p: argparse.ArgumentParser) -> None:
    """The options bench/morning and bench/province share: the cameras' pace, the services, the output."""
    p.add_argument("--hook-every", type=float, default=10.0, help="seconds of real time between a camera's segments")
    p.add_argument(
        "--postgres", default=os.environ.get("EXAMDAY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    p.add_argument("--redis", default=os.environ.get("EXAMDAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--keep", action="store_true", help="keep the schema (examday_morning_*) to look at")


def finish(args: argparse.Namespace, r: dict, report: Callable[[dict], None]) -> int:
    """Print the figures, write them to ``--json`` if asked; exit status 0 only without errors."""
    report(r)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(r, indent=1, default=str))
    return 0 if sum(r["errors"].values()) == 0 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--minutes", type=float, default=3.0, help="real minutes the 45-minute morning is squeezed into")
    p.add_argument("--kiosks", type=int, default=8)
    p.add_argument("--screens", type=int, default=40, help="live-feed clients: --offices of them see every room")
    p.add_argument("--offices", type=int, default=2)
    p.add_argument("--cameras", type=int, default=40)
    p.add_argument("--segment-kb", type=int, default=1024)
    shared_arguments(p)
    args = p.parse_args(argv)
    return finish(args, run(args), report)


if __name__ == "__main__":
    raise SystemExit(main())
