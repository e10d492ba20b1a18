"""What bench/province.py watches while the morning runs: the CPU of every process kind (the
``examday serve`` workers, their PostgreSQL backends, Redis, the bench's own clients, the whole
machine) and the database backends waiting on locks (who waits on whom: with one audit chain
for the installation, the check-ins of two institutions queue on its head row)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from bench import morning_world as W
from bench.checkin import cpu_seconds


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


@dataclass
class Cpu:
    servers: dict[int, float]  # every serve process (supervisor and workers)
    pg: dict[int, float]
    redis: float
    clients: float  # this process: the kiosks, screens and recorders
    machine: tuple[float, float]
    at: float = field(default_factory=time.monotonic)


def cpu_now(url: str, redis_url: str, servers: list[W.Server]) -> Cpu:
    pids = [pid for s in servers for pid in s.pids()]
    t = os.times()
    return Cpu(
        {pid: cpu_seconds(pid) for pid in pids},
        W.pg_backends(url, servers),
        W.redis_cpu(redis_url),
        t.user + t.system,
        machine_cpu(),
    )


def cpu_spent(a: Cpu, b: Cpu) -> dict:
    """Seconds of CPU between two readings; a backend or worker that appeared between them counts
    from zero, one that went away is missed (the pools keep theirs open)."""

    def delta(x: dict[int, float], y: dict[int, float]) -> float:
        return sum(v - x.get(pid, 0.0) for pid, v in y.items() if v == v)  # nan: gone

    busy, total = b.machine[0] - a.machine[0], b.machine[1] - a.machine[1]
    return {
        "servers_s": round(delta(a.servers, b.servers), 2),
        "per_server_s": [round(b.servers[p] - a.servers.get(p, 0.0), 2) for p in b.servers],
        "postgres_s": round(delta(a.pg, b.pg), 2),
        "redis_s": round(b.redis - a.redis, 2),
        "clients_s": round(b.clients - a.clients, 2),
        "machine_busy": round(busy / total, 3) if total else float("nan"),
        "wall_s": round(b.at - a.at, 1),
    }


_NOISE = re.compile(r"\s+")


class LockWaits:
    """Samples pg_stat_activity every ``every`` s: how many of our backends are running a statement,
    how many of them wait on a lock, and on which statement (and what the blocker runs)."""

    def __init__(self, url: str, servers: list[W.Server], every: float = 0.2) -> None:
        self.engine = create_engine(url, pool_size=1)
        self.names = [s.app_name for s in servers]
        self.every = every
        self.samples = 0
        self.active = 0
        self.waiting = 0
        self.by_statement: Counter = Counter()
        self.by_blocker: Counter = Counter()
        self.timeline: list[tuple[float, int, int]] = []  # (wall time, active, waiting on a lock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        q = text(
            "SELECT a.pid, a.wait_event_type, left(a.query, 200), "
            "(SELECT left(b.query, 200) FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1]) "
            "FROM pg_stat_activity a WHERE a.application_name = ANY(:n) AND a.state = 'active'"
        )
        with self.engine.connect() as c:
            while not self._stop.wait(self.every):
                rows = c.execute(q, {"n": self.names}).all()
                c.rollback()
                waiting = [r for r in rows if r[1] == "Lock"]
                self.samples += 1
                self.active += len(rows)
                self.waiting += len(waiting)
                self.timeline.append((time.time(), len(rows), len(waiting)))
                for r in waiting:
                    self.by_statement[self.statement(r[2])] += 1
                    self.by_blocker[self.statement(r[3] or "?")] += 1

    @staticmethod
    def statement(sql: str) -> str:
        return _NOISE.sub(" ", sql)[:70]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(5)
        self.engine.dispose()
        wait_s = self.waiting * self.every  # backend-seconds spent waiting, estimated from the samples
        return {
            "samples": self.samples,
            "active_mean": round(self.active / max(1, self.samples), 2),
            "waiting_mean": round(self.waiting / max(1, self.samples), 2),
            "lock_wait_backend_s": round(wait_s, 1),
            "waiting_on": dict(self.by_statement.most_common(4)),
            "blocked_by": dict(self.by_blocker.most_common(4)),
        }
