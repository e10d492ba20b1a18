"""Bench: check-in at the door, 8 kiosks at once (R-DAY-1).

A live server (uvicorn, one process) on SQLite, and on PostgreSQL when
``EXAMDAY_BENCH_POSTGRES_URL`` is set; a filed batch of 2,000 seated
candidates with issued tickets; 8 kiosk clients (threads, one httpx client and
one kiosk account each) check every candidate in once, as fast as the server
answers. Each request is a real check-in: signature, revocation, windows, ID
digest, the attempt row, the Attendance row, the audit entry, the live event.
Prints p50/p90/p99/max latency, throughput and the server process's CPU per
check-in (utime + stime from /proc) per database. Target: p99 < 50 ms.

``--against <git-ref>`` runs the same bench on that ref's code too (a temporary
``git worktree``, removed at the end: it seeds and serves with its own code) and
prints both side by side; ``--profile`` writes py-spy flame graphs of the
server's back-to-back half to bench/out/ (``pip install py-spy``).

    .venv/bin/python bench/checkin.py [--candidates 2000] [--kiosks 8] [--photo] [--against b838c08] [--profile]
    EXAMDAY_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/checkin.py
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

WORLD = ROOT / "bench" / "checkin_world.py"  # seeding and serving, run with the code tree under test
OUT = ROOT / "bench" / "out"


def photo_b64() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((640, 360), 40).convert("RGB").save(buf, "JPEG", quality=80)
    return base64.b64encode(buf.getvalue()).decode()


def phase(base: str, tokens: list[str], people: list[dict], pace: float | None, pic: str | None) -> dict:
    """Every kiosk checks its share in: every ``pace`` seconds (a door), or back to back (saturation)."""
    kiosks = len(tokens)
    lat: list[list[float]] = [[] for _ in range(kiosks)]
    codes: list[dict[int, int]] = [{} for _ in range(kiosks)]
    start = threading.Barrier(kiosks + 1)

    def kiosk(k: int) -> None:
        mine = people[k::kiosks]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens[k]}"}, timeout=30) as c:
            for _ in range(10):  # warm the connection and the server's caches, not counted
                c.post(
                    "/api/v1/checkins", json={"ticket": "EX1.warm", "id_number": "x", "kiosk_nonce": uuid.uuid4().hex}
                )
            start.wait()
            t_start = time.perf_counter() + (k * pace / kiosks if pace else 0)  # kiosks out of step
            for i, p in enumerate(mine):
                if pace:
                    delay = t_start + i * pace - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                body = {**p, "kiosk_nonce": uuid.uuid4().hex}
                if pic:
                    body["photo"] = pic
                t = time.perf_counter()
                r = c.post("/api/v1/checkins", json=body)
                lat[k].append(time.perf_counter() - t)
                codes[k][r.status_code] = codes[k].get(r.status_code, 0) + 1

    threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(kiosks)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_lat = sorted(x for per in lat for x in per)
    status: dict[int, int] = {}
    for per in codes:
        for s, n in per.items():
            status[s] = status.get(s, 0) + n
    q = statistics.quantiles(all_lat, n=100, method="inclusive")
    return {
        "requests": len(all_lat),
        "status": status,
        "p50_ms": q[49] * 1000,
        "p90_ms": q[89] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": all_lat[-1] * 1000,
        "throughput": len(all_lat) / elapsed,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process (Linux): what one check-in costs, whatever else runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_db(root: Path, label: str, db_url: str, args: argparse.Namespace, profile: Path | None = None) -> list[dict]:
    """Seed and serve with the code under ``root`` (this tree, or a ref's worktree); the clients are the same."""
    world = [sys.executable, str(WORLD)]
    seeded = subprocess.run(
        [*world, "seed", str(root), db_url, str(args.candidates), str(args.kiosks)],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    sown = json.loads(seeded.stdout)
    people, tokens = sown["people"], sown["tokens"]
    data_dir = tempfile.mkdtemp(prefix="examday-bench-data-")
    port = _free_port()
    enrich = str(int(not args.no_feed_state))
    proc = subprocess.Popen(
        [*world, "serve", str(root), db_url, data_dir, str(port), enrich, args.http, args.loop], cwd=root
    )
    base = f"http://127.0.0.1:{port}"
    pic = photo_b64() if args.photo else None
    spy = None
    try:
        _wait(base)
        half = args.candidates // 2
        cpu0 = cpu_seconds(proc.pid)
        paced = phase(base, tokens, people[:half], args.pace, pic)
        if profile is not None:  # the back-to-back half only; its CPU figure then counts the sampling too
            profile.parent.mkdir(parents=True, exist_ok=True)
            py_spy = Path(sys.executable).with_name("py-spy")
            spy = subprocess.Popen(
                [str(py_spy), "record", "--pid", str(proc.pid), "--rate", "250", "--gil", "--format", "flamegraph"]
                + ["--output", str(profile)],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1)  # py-spy attached before the first request
        cpu1 = cpu_seconds(proc.pid)
        burst = phase(base, tokens, people[half:], None, pic)
        cpu2 = cpu_seconds(proc.pid)
        warm = 10 * args.kiosks  # the warm-up refusals ran inside each phase too
        paced["cpu_ms"] = (cpu1 - cpu0) * 1000 / (paced["requests"] + warm)
        burst["cpu_ms"] = (cpu2 - cpu1) * 1000 / (burst["requests"] + warm)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes the flame graph on its way out
            spy.wait(60)
        proc.terminate()
        proc.wait(10)
    return [
        {"code": label, "db": label_db, "mode": mode, **r}
        for label_db, mode, r in (
            (_db_name(db_url), f"paced {args.pace * 1000:.0f} ms", paced),
            (_db_name(db_url), "back to back", burst),
        )
    ]


def _db_name(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """The ref's code in a temporary ``git worktree``, removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="examday-bench-ref-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)
        shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(base: str, timeout: float = 180) -> None:  # a loaded machine imports slowly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def _pg_schema_url(base: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base[len("postgresql://") :]
    schema = f"examday_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=2000)
    ap.add_argument("--kiosks", type=int, default=8)
    ap.add_argument("--photo", action="store_true", help="each check-in carries a ~40 KB JPEG, as the kiosk sends")
    ap.add_argument(
        "--pace",
        type=float,
        default=0.25,
        help="seconds between two check-ins at one kiosk in the paced run (a real door: 5-15 s)",
    )
    ap.add_argument(
        "--no-feed-state",
        action="store_true",
        help="diagnosis: publish events without the live feed's room state (proctor/feed.py enrich)",
    )
    ap.add_argument(
        "--against",
        metavar="GIT_REF",
        help="also run the same bench on this ref's code (a temporary git worktree), side by side",
    )
    ap.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        default="auto",
        help="uvicorn's HTTP parser for every server of the run; auto, as examday serve: httptools when installed",
    )
    ap.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="uvicorn's event loop for every server of the run; auto, as examday serve: uvloop when installed",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="py-spy flame graph of the server's back-to-back half, under bench/out/ (CPU figures then include it)",
    )
    args = ap.parse_args()
    pg = os.environ.get("EXAMDAY_BENCH_POSTGRES_URL")
    results: list[dict] = []
    with ExitStack() as stack:
        codes = [("this tree", ROOT)]
        if args.against:
            codes.insert(0, (args.against, stack.enter_context(worktree(args.against))))
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="examday-bench-"))
        for db in ("sqlite", "postgresql") if pg else ("sqlite",):
            for i, (label, root) in enumerate(codes):
                svg = OUT / f"checkin-{db}-{_slug(label)}.svg" if args.profile else None
                if db == "sqlite":
                    results += run_db(root, label, f"sqlite:///{tmp}/bench{i}.db", args, svg)
                    continue
                assert pg is not None
                url, drop = _pg_schema_url(pg)
                try:
                    results += run_db(root, label, url, args, svg)
                finally:
                    drop()
    print(
        f"\ncheck-in: {args.candidates} candidates, {args.kiosks} concurrent kiosks, one uvicorn process"
        f"{', with photo' if args.photo else ''}{', events without room state' if args.no_feed_state else ''};"
        f" {os.cpu_count()} CPUs shared by server and clients; uvicorn {args.http}, {args.loop}"
        f"{'; PROFILED: CPU figures include py-spy sampling' if args.profile else ''}"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at the end: {load:.1f}")
    print(
        f"{'code':<12}{'db':<11}{'mode':<15}{'requests':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'req/s':>8}{'cpu ms/req':>11}  status"
    )
    for r in results:
        print(
            f"{r['code'][:11]:<12}{r['db']:<11}{r['mode']:<15}{r['requests']:>9}{r['p50_ms']:>9.1f}{r['p90_ms']:>9.1f}"
            f"{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}{r['throughput']:>8.0f}{r['cpu_ms']:>11.1f}  {r['status']}"
        )
    if args.profile:
        print(f"flame graphs: {OUT}/checkin-<db>-<code>.svg")
    mine = [r for r in results if r["code"] == "this tree"]
    ok = all(r["p99_ms"] < 50 for r in mine if r["mode"].startswith("paced")) and all(
        set(r["status"]) == {200} for r in mine
    )
    print("target p99 < 50 ms at the paced door:", "met" if ok else "NOT met")
    return 0 if ok else 1


def _slug(label: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in label)


if __name__ == "__main__":
    raise SystemExit(main())
