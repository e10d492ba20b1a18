"""What a stolen kiosk roster costs a thief (issue #14, finding 5; R-PRIV-1).

    .venv/bin/python bench/roster.py [--candidates 20] [--guesses 30]

Builds a batch on a scratch SQLite database, makes its offline roster as the server
does (``kiosk/services/roster.py``) and prints:

- what each candidate's row still shows of the ID number (the target: nothing);
- the cost of one guess (one argon2id hash with the roster's parameters, one core),
  which is also what the kiosk spends checking one typed number at the door;
- the search space for one candidate, given what the roster shows, under priors from
  "anywhere in China" down to "the thief knows the candidate's county";
- the expected CPU-seconds to recover one ID number (half the space times one guess;
  target at least 1e5), beside what the old roster (region and tail shown, fast keyed
  digest with its key) took.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from examday.actor import Actor
from examday.clock import CST
from examday.models import install_extras, metadata
from kiosk import idhash
from kiosk.services import roster as R
from storage.db import make_engine

EXAM_DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=CST)
TARGET_CPU_SECONDS = 1e5
DAYS = 50 * 365.25  # candidates aged 16 to 65
SEQUENCES = 1000  # digits 15-17; the 18th is the check digit, computed, not guessed
# County-level region codes (digits 1-6) a thief would try, by what they assume.
PRIORS = [
    ("anywhere in China (~3,000 codes)", 3000),
    ("the institution's province (~100)", 100),
    ("the institution's city (~10)", 10),
    ("the candidate's county (1)", 1),
]


def build_roster(n: int) -> tuple[dict, list[str], float, float]:
    from tests import builders

    engine = make_engine(f"sqlite:///{tempfile.mkdtemp(prefix='examday-roster-')}/bench.db")
    metadata.create_all(engine)
    install_extras(engine)
    with Session(engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, NOW, EXAM_DAY, n_candidates=n)
        db.commit()
        numbers = [c.id_number for c in w["candidates"]]
        admin = Actor(None, "bench", "admin")  # the installation's administrator reads any batch
        t0 = time.perf_counter()
        roster = R.roster(db, admin, w["batch"].id, NOW, "bench-secret")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        R.roster(db, admin, w["batch"].id, NOW, "bench-secret")
        again = time.perf_counter() - t0
    engine.dispose()
    return roster, numbers, first, again


def revealed(roster: dict, numbers: list[str]) -> list[str]:
    """Which parts of the numbers appear in the rows outside the salt and hash."""
    shown = []
    for row, number in zip(roster["candidates"], numbers):
        text = str({k: v for k, v in row.items() if k not in ("id_salt", "id_hash", "ticket_number")})
        for label, part in (("region", number[:6]), ("birth date", number[6:14]), ("tail", number[-4:])):
            if part in text:
                shown.append(f"{label} of candidate {row['id']}")
    if "id_salt" in roster:
        shown.append("the institution's digest key")
    return shown


def guess_ms(params: dict, guesses: int) -> tuple[float, float]:
    """Median (CPU ms, wall ms) of one hash: CPU time is what the thief pays, whatever else runs."""
    salt = idhash.new_salt()
    cpu, wall = [], []
    for i in range(guesses):
        c0, t0 = time.process_time(), time.perf_counter()
        idhash.digest(f"11010119900101{i:03d}X", salt, params)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


def old_hmac_us(guesses: int = 20000) -> float:
    key = b"k" * 32
    t0 = time.perf_counter()
    for i in range(guesses):
        hmac.new(key, f"examday-id-v1|11010119900101{i:04d}".encode(), hashlib.sha256).digest()
    return (time.perf_counter() - t0) / guesses * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--candidates", type=int, default=20)
    p.add_argument("--guesses", type=int, default=30)
    args = p.parse_args()

    roster, numbers, first, again = build_roster(args.candidates)
    params = roster["id_hash"]
    shown = revealed(roster, numbers)
    print(f"roster of {args.candidates} candidates: first {first:.2f} s, again (cached) {again * 1000:.1f} ms")
    print(f"hash: {params['alg']} m={params['memory_kib']} KiB t={params['time_cost']} p={params['parallelism']}")
    print(f"fields per candidate: {', '.join(sorted(roster['candidates'][0]))}")
    print(f"what the roster shows of an ID number: {'; '.join(shown) if shown else 'nothing'}")
    ms, wall_ms = guess_ms(params, args.guesses)
    print(
        f"one guess (and one check at the kiosk): {ms:.1f} ms of CPU on one core, {wall_ms:.1f} ms wall "
        f"(medians of {args.guesses})"
    )
    print()
    print(
        f"{'thief assumes the region is':<38} {'space':>10} {'expected CPU-s':>15}  target >= {TARGET_CPU_SECONDS:.0e}"
    )
    ok = True
    for label, regions in PRIORS:
        space = regions * DAYS * SEQUENCES
        cpu = space / 2 * ms / 1000
        ok &= cpu >= TARGET_CPU_SECONDS or regions == 1
        print(f"{label:<38} {space:10.2e} {cpu:15.2e}  {'ok' if cpu >= TARGET_CPU_SECONDS else 'below'}")
    old_us = old_hmac_us()
    old_cpu = 60 * 365.25 / 2 * old_us / 1e6
    print()
    print(
        f"before (format 1: region and tail shown, HMAC key in the roster): {60 * 365.25:.0f} birth dates "
        f"x {old_us:.1f} us = {old_cpu:.3f} CPU-s per ID number"
    )
    print(f"one guess >= 20 ms: {'yes' if ms >= 20 else 'NO'}")
    return 0 if ok and ms >= 20 and not shown else 1


if __name__ == "__main__":
    raise SystemExit(main())
