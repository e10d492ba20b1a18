"""The kiosk's conversation with the server (签到机客户端): who it is, today's rosters, one
check-in, the offline fallback and the upload of the offline queue (R-DAY-1, R-TIME-1).

A dropped connection is retried once with the same ``kiosk_nonce`` (on the next
``--server`` when several are given), so a check-in whose answer was lost is answered from
the server's record instead of being made twice. The server's clock decides (R-TIME-1): the
kiosk learns how far its own clock is off from the times in the server's answers and uses
the server's time offline too. Offline it decides with the cached roster
(``kiosk/offline.py``, the same ``kiosk/rules.py`` as the server, skill sittings included).
The program around it (camera, keyboard, screen): ``kiosk/program.py``.

R-PRIV-1: ID numbers are never logged.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from examday.clock import iso, parse_iso
from kiosk import offline, screen

log = logging.getLogger("examday.kiosk")
# The connection broke before an answer came: the request may or may not have reached the server.
DROPPED = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
RETRY_PAUSE = 0.3  # seconds before retrying the same server (a restart, a blip)
ROSTER_TIMEOUT = 120.0  # seconds: see Kiosk.prepare


class Kiosk:
    def __init__(
        self,
        server: str | list[str],
        token: str,
        store: offline.Store,
        batches: list[int] | None = None,
        timeout: float = 5.0,
        start: datetime | None = None,
    ) -> None:
        self.servers = [s.rstrip("/") for s in ([server] if isinstance(server, str) else server)]
        self._current = 0
        self.http = httpx.Client(
            base_url=self.servers[0],
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout, connect=2.0),
        )
        self.store = store
        self.batches = batches
        self.me: dict[str, Any] = store.load_me() or {}
        self.online = True
        # The kiosk's own clock, used only offline (the server's clock decides online); tests pin it.
        self._start, self._mono = start, time.monotonic()
        self.clock_offset = timedelta(0)  # the server's clock minus ours, from the server's last answer

    def own_now(self) -> datetime:
        if self._start is None:
            return datetime.now(UTC)
        return self._start + timedelta(seconds=time.monotonic() - self._mono)

    def now(self) -> datetime:
        """The server's time as far as this kiosk knows it: what offline decisions and scan times use."""
        return self.own_now() + self.clock_offset

    def _learn_clock(self, server_time: Any, sent: datetime) -> None:
        # R-TIME-1: a kiosk clock minutes off must not move anyone into (or out of) the entry window
        # offline. The server stamps its answers with the time it took the request; ours then was
        # ``sent``, give or take the trip there.
        if isinstance(server_time, str):
            with contextlib.suppress(ValueError):
                self.clock_offset = parse_iso(server_time) - sent

    def _next_server(self) -> None:
        if len(self.servers) > 1:
            self._current = (self._current + 1) % len(self.servers)
            self.http.base_url = self.servers[self._current]
            log.info("switching to server %s", self.servers[self._current])

    def _post(self, path: str, body: Any) -> tuple[httpx.Response, bool]:
        """POST, and once more with the same body when the connection drops: the nonce in the body
        makes the repeat safe, a request that did reach the server gets its stored answer back.
        Also says whether it was the repeat that answered."""
        try:
            return self.http.post(path, json=body), False
        except DROPPED as e:
            log.info("%s from %s: retrying with the same nonce", type(e).__name__, self.http.base_url)
            self._next_server()
            if len(self.servers) == 1:
                time.sleep(RETRY_PAUSE)
            return self.http.post(path, json=body), True

    # -- server ----------------------------------------------------------------
    def prepare(self) -> None:
        """Who we are and today's rosters, for when the network goes (best effort)."""
        try:
            me = self.http.get("/api/v1/me")
            if refusal_code(me) == "token_expired":
                log.error("this kiosk's token has expired: ask the exam office for a new one (examday token issue)")
            me.raise_for_status()
            self.me = me.json()
            self.store.save_me(self.me)
            ids = self.batches or [b["id"] for b in self.http.get("/api/v1/checkin-batches").json()]
            for bid in ids:
                sent = self.own_now()
                # A first roster takes the server one argon2id hash per candidate (kiosk/idhash.py).
                r = self.http.get(f"/api/v1/batches/{bid}/roster", timeout=ROSTER_TIMEOUT)
                if r.status_code == 200:
                    roster = r.json()
                    self.store.save_roster(roster)
                    self._learn_clock(roster.get("generated_at"), sent)
            log.info("ready: %s, rosters for batches %s", self.me.get("username"), ids)
        except (httpx.HTTPError, ValueError) as e:
            log.warning("server not reachable at start (%s); using cached rosters", type(e).__name__)
            if isinstance(e, httpx.TransportError):
                self._next_server()

    def sync(self) -> None:
        if not self.store.pending():
            return
        try:
            results = offline.sync(self.http, self.store)
        except (httpx.HTTPError, RuntimeError) as e:
            log.info("sync postponed: %s", type(e).__name__)
            if isinstance(e, httpx.TransportError):
                self._next_server()
            return
        self.online = True
        for r in results:
            if (r.get("detail") or {}).get("offline_conflict"):
                log.warning("offline conflict flagged for the proctors: nonce %s (%s)", r["kiosk_nonce"], r.get("code"))
        log.info("synced %d offline records", len(results))

    def check_in(self, ticket: str, id_number: str, photo: bytes | None) -> screen.Answer:
        nonce = uuid.uuid4().hex
        payload: dict[str, Any] = {"ticket": ticket, "id_number": id_number, "kiosk_nonce": nonce}
        if photo:
            payload["photo"] = base64.b64encode(photo).decode("ascii")
        sent = self.own_now()
        try:
            r, repeated = self._post("/api/v1/checkins", payload)
            if r.status_code < 500 and r.status_code not in (401, 403):
                body = r.json()
                if r.status_code == 200 and not repeated:  # a replayed answer carries the first request's time
                    self._learn_clock(body.get("at"), sent)
                answer = screen.from_response(r.status_code, body)
                if not self.online:  # back from offline: the queue goes up now
                    self.online = True
                    self.sync()
                return answer
            if r.status_code in (401, 403):
                return screen.not_authorised(refusal_code(r))
        except httpx.HTTPError as e:
            log.warning("server unreachable (%s): deciding offline", type(e).__name__)
        self.online = False
        return self._offline(payload, sent, self.clock_offset)

    def _offline(self, payload: dict[str, Any], scanned_at: datetime, offset: timedelta) -> screen.Answer:
        """``scanned_at`` on the kiosk's own clock; ``offset`` the server's clock minus it."""
        rosters = self.store.rosters()
        if not rosters:
            return screen.network_error()
        status, body, d = offline.decide(
            rosters,
            payload["ticket"],
            payload["id_number"],
            scanned_at + offset,  # decided on the server's time, as far as the kiosk knows it
            self.me.get("institution_id"),
            self.me.get("username", "this kiosk"),
            offline.local_acceptances(self.store),
        )
        # The same nonce goes to the server later: if the first request did reach it, the answer is replayed.
        # The kiosk's own scan time and its offset go separately: the server corrects one by the
        # other and keeps both, so a kiosk's wrong clock stays visible (R-TIME-1).
        self.store.enqueue(
            {
                **payload,
                "scanned_at": iso(scanned_at),
                "clock_offset_ms": round(offset.total_seconds() * 1000),
                "offline_status": "accepted" if status == 200 else "refused",
                "session_id": d.session.session_id if d.accepted and d.session else None,
                "candidate_id": d.candidate.candidate_id if d.accepted and d.candidate else None,
            }
        )
        return screen.from_response(status, body, offline=True)


def refusal_code(r: httpx.Response) -> str | None:
    if r.status_code < 400:
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
