"""The kiosk when the server is out of reach (离线签到): the cached roster, the offline decision,
and the queue of records uploaded on reconnect (``POST /api/v1/checkins/sync``).

R-DAY-1: an offline kiosk verifies the ticket's signature with the institution's
public keys and the typed ID number against the hash of the candidate the ticket
names (``kiosk/idhash.py``; the ticket's own digest is keyed with a secret the
kiosk does not get), and decides with the same ``kiosk/rules.py`` as the server;
every attempt is queued with its scan time and the kiosk's clock offset.
R-PRIV-1: the roster has per-candidate memory-hard hashes and no digit of any
ID number. The queue must
hold the typed numbers until the server has them (the sync contract carries
``id_number``), so its file is private to the kiosk user (0600) and each record
is removed once the server has answered it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from examday.clock import parse_iso
from examday.identity import mask_id_number
from kiosk import answer, idhash, rules


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Store:
    """The kiosk's folder: who it is, the rosters, and the queue (JSON lines)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.queue_path = self.root / "queue.jsonl"
        self._lock = threading.Lock()

    # -- identity and rosters --------------------------------------------------
    def save_me(self, me: dict[str, Any]) -> None:
        _write_private(self.root / "me.json", json.dumps(me))

    def load_me(self) -> dict[str, Any] | None:
        p = self.root / "me.json"
        return json.loads(p.read_text()) if p.exists() else None

    def save_roster(self, roster: dict[str, Any]) -> None:
        _write_private(self.root / f"roster-{int(roster['batch']['id'])}.json", json.dumps(roster, ensure_ascii=False))

    def rosters(self) -> dict[int, dict[str, Any]]:
        out = {}
        for p in sorted(self.root.glob("roster-*.json")):
            r = json.loads(p.read_text(encoding="utf-8"))
            out[int(r["batch"]["id"])] = r
        return out

    # -- the queue -------------------------------------------------------------
    def enqueue(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            fd = os.open(self.queue_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())  # a power cut after "accepted" must not lose the record

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.queue_path.exists():
                return []
            out = []
            for line in self.queue_path.read_text(encoding="utf-8").splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue  # a line torn by a crash mid-write: the rest still goes
            return out

    def drop(self, nonces: Iterable[str]) -> None:
        gone = set(nonces)
        with self._lock:
            if not self.queue_path.exists():
                return
            keep = [
                line
                for line in self.queue_path.read_text(encoding="utf-8").splitlines()
                if line.strip() and _nonce_of(line) not in gone
            ]
            _write_private(self.queue_path, "".join(k + "\n" for k in keep))


def _nonce_of(line: str) -> str | None:
    try:
        return json.loads(line).get("kiosk_nonce")
    except ValueError:
        return None


def _keys(rosters: dict[int, dict[str, Any]]) -> tuple[dict[str, str], set[str], set[str]]:
    public: dict[str, str] = {}
    revoked_kids: set[str] = set()
    revoked_tokens: set[str] = set()
    for r in rosters.values():
        for k in r["keys"]["keys"]:
            if k.get("revoked"):
                revoked_kids.add(k["kid"])
            else:
                public[k["kid"]] = k["public_key"]
        revoked_tokens.update(r.get("revoked_token_ids", []))
    return public, revoked_kids, revoked_tokens


def _facts(roster: dict[str, Any], ticket_number: str):
    b = roster["batch"]
    batch = rules.BatchFacts(
        int(b["id"]),
        int(b["institution_id"]),
        datetime.fromisoformat(b["exam_date"]).date(),
        int(b["entry_open_minutes"]),
        int(b["entry_close_minutes"]),
        b.get("status", "filed"),
    )
    sessions = [
        rules.SessionFacts(int(s["id"]), s["part"], parse_iso(s["starts_at"]), parse_iso(s["ends_at"]))
        for s in roster["sessions"]
    ]
    row = next((c for c in roster["candidates"] if c["ticket_number"] == ticket_number), None)
    cand = None
    prior: dict[int, rules.PriorCheckIn] = {}
    if row is not None:
        cand = rules.CandidateFacts(
            candidate_id=int(row["id"]),
            name=row["name"],
            ticket_number=row["ticket_number"],
            id_digest="",  # the roster has a hash to check against instead (id_check)
            status=row["status"],
            eligibility=row.get("eligibility", "eligible"),
            room_code=row.get("room_code"),
            room_id=row.get("room_id"),
            seat_no=row.get("seat"),
            room_name=row.get("room_name"),
            # The skill sitting and workstation drawn (R-SEAT-1): absent from a roster of before issue #15.
            sitting=row.get("sitting"),
            station_room_code=row.get("station_room_code"),
            station_room_id=row.get("station_room_id"),
            station_room_name=row.get("station_room_name"),
            station_no=row.get("station"),
        )
        for p in row.get("checked_in", []):
            prior[int(p["session_id"])] = rules.PriorCheckIn(parse_iso(p["at"]), p.get("kiosk", ""))
    return batch, sessions, cand, prior, row


def id_check(roster: dict[str, Any], row: dict[str, Any] | None) -> rules.IdCheck:
    """The typed number against the candidate's roster hash: one argon2id hash (R-ID-1, R-PRIV-1)."""

    def check(number: str) -> bool:
        if row is None or not row.get("id_hash") or "id_hash" not in roster:
            return False  # a roster of the old format: no way to tell, so no
        return idhash.matches(number, row["id_salt"], row["id_hash"], roster["id_hash"])

    return check


def decide(
    rosters: dict[int, dict[str, Any]],
    ticket: str,
    id_number: str,
    now: datetime,
    kiosk_institution_id: int | None,
    kiosk_name: str,
    local: dict[tuple[int, int], datetime],
) -> tuple[int, dict[str, Any], rules.Decision]:
    """Judge a check-in with the cached rosters as the server would; ``local`` maps
    (session id, candidate id) to the time this kiosk let them in while offline."""
    claims = rules.check_ticket(ticket, *_keys(rosters))  # R-DAY-1: signature and revocation
    if isinstance(claims, rules.Decision):
        return claims.status, claims.body(), claims
    presented = rules.Presented.from_claims(claims)
    roster = rosters.get(claims.batch_id)
    if roster is None:
        d = rules.decide(presented, None, [], None, id_number, b"-", now, kiosk_institution_id)
        return d.status, d.body(), d
    batch, sessions, cand, prior, row = _facts(roster, claims.ticket_number)
    if cand is not None:
        for (sid, cid), at in local.items():
            if cid == cand.candidate_id:
                prior.setdefault(sid, rules.PriorCheckIn(at, kiosk_name))
    check = id_check(roster, row)
    d = rules.decide(presented, batch, sessions, cand, id_number, check, now, kiosk_institution_id, prior)
    if not d.accepted:
        return d.status, d.body(), d
    assert cand is not None  # an accepted decision names its candidate
    # The number typed, now known to be theirs, masked; the same answer as the server's (kiosk/answer.py).
    body = answer.accepted(d, batch.batch_id, sessions, mask_id_number(id_number))
    return 200, {**body, "offline": True}, d


def local_acceptances(store: Store) -> dict[tuple[int, int], datetime]:
    """What this kiosk let in while offline and has not yet synced (kept with each queued record)."""
    out: dict[tuple[int, int], datetime] = {}
    for rec in store.pending():
        if rec.get("offline_status") == "accepted" and rec.get("session_id") and rec.get("candidate_id"):
            at = parse_iso(rec["scanned_at"]) + timedelta(milliseconds=rec.get("clock_offset_ms") or 0)
            out[(int(rec["session_id"]), int(rec["candidate_id"]))] = at
    return out


def sync(client, store: Store, chunk: int = 200) -> list[dict[str, Any]]:
    """Upload the queue; a record leaves the queue once the server has answered it.

    Raises the transport error when the server is still out of reach; the queue is kept.
    """
    results: list[dict[str, Any]] = []
    pending = store.pending()
    for i in range(0, len(pending), chunk):
        part = pending[i : i + chunk]
        body = [
            {
                k: r[k]
                for k in (
                    "ticket",
                    "id_number",
                    "kiosk_nonce",
                    "scanned_at",
                    "clock_offset_ms",
                    "photo",
                    "offline_status",
                )
                if r.get(k) is not None
            }
            for r in part
        ]
        resp = client.post("/api/v1/checkins/sync", json=body)
        if resp.status_code != 200:
            raise RuntimeError(f"sync refused: HTTP {resp.status_code} {resp.text[:200]}")
        answered = resp.json()
        results.extend(answered)
        store.drop(r["kiosk_nonce"] for r in answered)
    return results
