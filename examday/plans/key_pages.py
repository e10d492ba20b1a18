"""The exam office's page for its signing keys (准考证签名密钥, issue #16): which keys there are and
since when, the public keys as a file to take to the centre, and a rotation.

The institution's Ed25519 key signs each ticket's QR code (R-DAY-1) and the seal of a locked batch;
the centre verifies a reported package with the public keys it registered (R-PUB-2), so after a
rotation the office takes the new file to the centre again. The download is the JSON of
``GET /api/v1/institutions/{iid}/ticket-keys`` (the kiosk program fetches it by itself); the
rotation calls the service ``POST …/ticket-keys/rotate`` calls, so the page refuses what the API
refuses. The centre of the institution's province may look; only the office (or the installation's
administrator) rotates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Response, Template

from examday.access import can_write_institution, institution_for_read
from examday.errors import Refusal
from examday.plans.services import ticket_keys
from examday.web import Ctx, page_action, requires_role

readers = [requires_role("admin", "centre")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
DONE = {
    "rotated": (
        "已更换签名密钥：新准考证用新密钥签名，已发出的准考证照常核验。请把新的公钥文件交给评价中心登记。",
        "Key rotated: new tickets are signed with it, tickets already out still verify. "
        "Take the new public-key file to the centre.",
    ),
}


def _page(
    ctx: Ctx, iid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None
) -> Template | Response:
    inst = institution_for_read(ctx.db, ctx.user, iid)
    return Template(
        "office_keys.html",
        context={
            "actor": ctx.user,
            "inst": inst,
            "keys": ticket_keys.list_keys(ctx.db, ctx.user, iid),
            "can_rotate": can_write_institution(ctx.user, inst),
            "q": f"?iid={inst.id}",
            "notice": notice,
            "error": error,
        },
    )


@get("/office/keys", guards=readers, sync_to_thread=True, include_in_schema=False)
def keys_page(ctx: Ctx, iid: FromQuery[int | None] = None, done: FromQuery[str | None] = None) -> Response:
    target = iid if iid is not None else ctx.user.institution_id
    if target is None:  # a centre or the installation's administrator: choose the institution first
        return Redirect("/office")
    return _page(ctx, target, DONE.get(done or ""))


@dataclass
class RotateForm:
    iid: str = ""
    confirm: str = ""


@post("/office/keys/rotate", guards=readers, sync_to_thread=True, include_in_schema=False)
def rotate_page(ctx: Ctx, data: Annotated[RotateForm, FORM]) -> Response:
    """A new signing key (R-DAY-1); the office ticks that it will take the new file to the centre."""
    iid = int(data.iid) if data.iid.strip().isdigit() else (ctx.user.institution_id or 0)

    def rotate() -> object:
        if data.confirm not in ("yes", "1", "on"):
            raise Refusal(
                "confirmation_required",
                "请勾选确认后再更换密钥",
                "Tick the confirmation to rotate the key.",
                "R-DAY-1",
                422,
            )
        return ticket_keys.rotate_key(ctx.db, ctx.user, ctx.now, iid)

    return page_action(ctx, rotate, f"/office/keys?iid={iid}&done=rotated", lambda r: _page(ctx, iid, error=r))


ROUTES = [keys_page, rotate_page]
