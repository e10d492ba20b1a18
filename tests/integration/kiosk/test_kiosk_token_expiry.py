"""The kiosk program tells its operator plainly that its token has expired (R-STAFF-4, issue #14
finding 11): the exam office then issues a new one instead of hunting for a network fault."""

from __future__ import annotations

from examday.accounts.services.tokens import DEFAULT_LIFETIMES
from kiosk import offline
from kiosk.program import Kiosk


def test_an_expired_kiosk_token_is_shown_as_such_R_STAFF_4(world, client, clock, tmp_path, caplog):
    iid = world.institution()
    token = world.token("kiosk1", "kiosk", iid, lifetimes=DEFAULT_LIFETIMES)
    kiosk = Kiosk("http://testserver.local", token, offline.Store(tmp_path / "kiosk"))
    kiosk.http.close()
    client.headers["Authorization"] = f"Bearer {token}"
    kiosk.http = client  # the real server, in process
    clock.advance(days=31)
    kiosk.prepare()
    assert "token has expired" in caplog.text
    answer = kiosk.check_in("ticket", "110105194912310021", None)
    assert (answer.kind, answer.code, answer.title_zh) == ("refused", "token_expired", "签到机令牌已过期")
    assert not kiosk.store.pending()  # nothing was queued as if the network were down
    # A token revoked (not expired) is the office's business: "not authorised".
    fresh = world.token("kiosk2", "kiosk", iid)
    client.headers["Authorization"] = f"Bearer {fresh}"
    client.post("/api/v1/tokens/revoke", json={"token": fresh})
    answer = kiosk.check_in("ticket", "110105194912310021", None)
    assert (answer.kind, answer.code) == ("refused", "forbidden")
