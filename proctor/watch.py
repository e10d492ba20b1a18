"""``proctor watch``: a room's live state in a terminal (考场实时状态, R-DAY-3).

    proctor watch --server http://127.0.0.1:8000 --token TOKEN --batch 12 [--room T01]

Connects to ``WS /ws/batches/{bid}`` with the bearer token, prints the
snapshot, then the room again after every change. It keeps the feed's
promise on its side: an event whose ``seq`` is not the last one plus one
means something was missed, so it asks for a fresh snapshot; a dropped
connection is retried with backoff and starts again from a snapshot. A
refusal (bad token, not your batch) ends it with exit status 2.

Seat map symbols: ``·`` expected, ``P`` present, ``L`` late, ``A`` absent,
``!`` incident, ``✓`` handed in, blank: no candidate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any, TextIO

SYMBOL = {"expected": "·", "present": "P", "late": "L", "absent": "A", "incident": "!"}


def ws_url(server: str, batch_id: int) -> str:
    server = server.rstrip("/")
    if server.startswith("https://"):
        server = "wss://" + server[len("https://") :]
    elif server.startswith("http://"):
        server = "ws://" + server[len("http://") :]
    elif not server.startswith(("ws://", "wss://")):
        server = "ws://" + server
    return f"{server}/ws/batches/{batch_id}"


def render_room(room: dict[str, Any]) -> str:
    """One room as text: counts, cameras, alerts and the seat map."""
    closed = room.get("cutoff_passed")
    lines = [
        f"{room['room_code']} {room.get('room_name') or ''}".rstrip(),
        f"  应到 expected {room['expected']}  实到 present {room['present']}  迟到 late {room['late']}  "
        + (f"缺考 absent {room['absent']}" if closed else f"未到 waiting {room.get('waiting', 0)}")
        + f"  违纪 incidents {room['incidents']}  交卷 handed in {room.get('handed_in', 0)}",
        "  cameras: " + (", ".join(f"{c['code']} {c['state']}" for c in room.get("cameras", [])) or "none"),
    ]
    for a in room.get("alerts", []):
        detail = a.get("camera") or a.get("candidate_id") or f"{a.get('present')}/{a.get('capacity')}"
        lines.append(f"  ALERT {a['kind']}: {detail}")
    seats = room.get("seats")
    if seats is not None:
        cols = room.get("cols") or 6
        rows = room.get("rows") or -(-max(room.get("capacity") or 1, 1) // cols)
        by_no = {s["seat"]: s for s in seats if s.get("seat")}
        for r in range(rows):
            cells = []
            for c in range(cols):
                s = by_no.get(r * cols + c + 1)
                cells.append(" " if s is None else ("✓" if s.get("handed_in") else SYMBOL.get(s["status"], "?")))
            lines.append("  " + " ".join(cells))
        for s in seats:
            if not s.get("seat"):
                lines.append(f"  (no seat) {s['ticket_number']} {s['status']}")
    for i in room.get("incident_list", []):
        lines.append(
            f"  违纪 {str(i.get('at', ''))[11:16]} #{i['candidate_id']} {i.get('label', i['kind'])} ({i['tier']})"
        )
    return "\n".join(lines)


class RoomView:
    """The client's copy of the rooms, kept by snapshots and events."""

    def __init__(self, room: str | None = None) -> None:
        self.room = room
        self.seq: int | None = None
        self.rooms: dict[str, dict[str, Any]] = {}
        self.session: dict[str, Any] | None = None

    def snapshot(self, msg: dict[str, Any]) -> None:
        self.seq = msg["seq"]
        self.session = msg.get("session")
        self.rooms = {r["room_code"]: r for r in msg["rooms"] if self.room in (None, r["room_code"])}

    def event(self, msg: dict[str, Any]) -> str:
        """Apply one event; "gap" when one was missed, "ignored" when not about our rooms, else "applied"."""
        if self.seq is None:
            return "ignored"  # waiting for the snapshot asked for
        if msg["seq"] != self.seq + 1:
            self.seq = None
            return "gap"
        self.seq = msg["seq"]
        room = self.rooms.get(msg.get("room_code") or "")
        if (
            room is None
            or "room" not in msg
            or (self.session and msg.get("session_id") not in (None, self.session["id"]))
        ):
            return "ignored"
        changed = ([msg["seat_state"]] if msg.get("seat_state") else []) + msg.get("seats", [])
        seats = [s for s in room.get("seats", []) if s["candidate_id"] not in {c["candidate_id"] for c in changed}]
        self.rooms[room["room_code"]] = {**room, **msg["room"], "seats": seats + changed}
        return "applied"


def describe(msg: dict[str, Any]) -> str:
    bits = [f"#{msg['seq']}", msg.get("event", "?"), msg.get("room_code") or ""]
    if msg.get("candidate_id") is not None:
        seat = msg.get("seat_state") or {}
        bits.append(f"{seat.get('ticket_number', msg['candidate_id'])} → {seat.get('status', '')}")
    return " ".join(b for b in bits if b)


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def watch(
    server: str,
    token: str,
    batch_id: int,
    room: str | None = None,
    out: TextIO = sys.stdout,
    once: bool = False,
    max_events: int | None = None,
    retry_max: float = 30.0,
) -> int:
    """Print the room's live state until interrupted (or ``once``/``max_events``); the exit status."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    view, seen, delay = RoomView(room), 0, 1.0

    def show(header: str) -> None:
        print(f"[{_stamp()}] {header}", file=out)
        for r in view.rooms.values():
            print(render_room(r), file=out)
        out.flush()

    while True:
        try:
            with connect(
                ws_url(server, batch_id), additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
            ) as ws:
                delay = 1.0
                for raw in ws:
                    msg = json.loads(raw)
                    kind = msg.get("type")
                    if kind == "error":
                        print(f"{msg.get('message')} — {msg.get('message_en')}", file=sys.stderr)
                        return 2
                    if kind == "snapshot":
                        view.snapshot(msg)
                        s = view.session
                        show(
                            f"snapshot #{msg['seq']}"
                            + (f" · {s['part']} {s['starts_at'][11:16]}–{s['ends_at'][11:16]}" if s else "")
                            + ("" if view.rooms else " · no room to show")
                        )
                        if once:
                            return 0
                    elif kind == "event":
                        result = view.event(msg)
                        if result == "gap":
                            print(f"[{_stamp()}] missed an event before #{msg['seq']}: asking for a snapshot", file=out)
                            ws.send(json.dumps({"type": "snapshot"}))
                        elif result == "applied":
                            show(describe(msg))
                            seen += 1
                            if max_events is not None and seen >= max_events:
                                return 0
        except InvalidStatus as exc:
            print(f"refused: HTTP {exc.response.status_code}", file=sys.stderr)
            return 2
        except (ConnectionClosed, OSError, TimeoutError) as exc:
            print(f"[{_stamp()}] connection lost ({type(exc).__name__}); retrying in {delay:.0f} s", file=out)
            out.flush()
        view.seq = None
        time.sleep(delay)
        delay = min(retry_max, delay * 2)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="proctor", description="Proctor tools (监考工具).")
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("watch", help="print a room's live state as it changes")
    w.add_argument("--server", required=True, help="examday server, e.g. http://127.0.0.1:8000")
    w.add_argument("--token", required=True, help="your bearer token (examday token issue USERNAME)")
    w.add_argument("--batch", required=True, type=int, help="batch id")
    w.add_argument("--room", help="only this room code")
    w.add_argument("--once", action="store_true", help="print the snapshot and exit")
    w.add_argument("--events", type=int, default=None, help="exit after this many changes")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return watch(args.server, args.token, args.batch, args.room, once=args.once, max_events=args.events)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
