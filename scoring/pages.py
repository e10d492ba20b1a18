"""Pages of `scoring/`: the examiner's tablet (/evaluate), the chief's
arbitration view, and the PIN that signs scores (R-SCORE-1, R-PANEL-1).

Forms post to their own path (``…/sign``, ``/evaluate/pin/set``): Litestar
2.25 double-wraps a ``sync_to_thread`` GET that shares its path with a POST
when both are left out of the schema, and the GET then fails.

Server-rendered forms, no script: a tablet on the exam-room Wi-Fi posts the
form and gets the answer — accepted with the entry's version and hash, or
the refusal's reason — as a page. The pages call the same services as the API.
Every code they show (a part, a status, a result, an arbitration's reason) goes through
the one glossary, ``examday/glossary.py`` (issue #16).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.accounts.services import accounts, pins
from examday.errors import Refusal
from examday.web import Ctx, page_action, requires_role
from scoring import results, theory_pages, worklist
from scoring.access import batch_for_read, load_batch
from scoring.models import PanelMember
from scoring.services import arbitration as arbitration_service
from scoring.services import entries as entries_service

SCORERS = [requires_role("evaluator", "chief")]
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _ctx(ctx: Ctx, **extra: Any) -> dict[str, Any]:
    return {"actor": ctx.actor, **extra}


def _pin_set(ctx: Ctx) -> bool:
    account = ctx.db.get(Account, ctx.user.account_id)
    return bool(account and account.pin_hash)


@get("/evaluate", guards=SCORERS, sync_to_thread=True, include_in_schema=False)
def evaluate_home(ctx: Ctx) -> Template:
    return Template(
        "evaluate_home.html",
        context=_ctx(
            ctx,
            panels=worklist.my_panels(ctx.db, ctx.user),
            chief=worklist.chief_batches(ctx.db, ctx.user),
            pin_set=_pin_set(ctx),
            # R-SCORE-1: the office cleared this PIN; the examiner sees when and who.
            pin_resets=pins.pin_resets(ctx.db, [ctx.user.account_id] if ctx.user.account_id else []),
        ),
    )


@get("/evaluate/pin", guards=SCORERS, sync_to_thread=True, include_in_schema=False)
def pin_page(ctx: Ctx) -> Template:
    return Template("evaluate_pin.html", context=_ctx(ctx, error=None, done=False, pin_set=_pin_set(ctx)))


@post("/evaluate/pin/set", guards=SCORERS, sync_to_thread=True, include_in_schema=False, status_code=200)
def pin_submit(ctx: Ctx, data: Form) -> Response:
    pin, again = str(data.get("pin", "")), str(data.get("pin_again", ""))
    old_pin = str(data.get("old_pin", "")) or None

    def run() -> None:
        if pin != again:
            raise Refusal("pin_mismatch", "两次输入的签名密码不一致", "The two PINs differ.", "R-SCORE-1")
        # The one PIN mechanism: the same service as POST /api/v1/me/pin.
        account = ctx.db.get(Account, ctx.user.account_id)
        assert account is not None  # the account this request was just authenticated as
        accounts.set_pin(ctx.db, ctx.state.passwords, account, pin, ctx.now, old_pin)

    return page_action(
        ctx,
        run,
        lambda _: Template("evaluate_pin.html", context=_ctx(ctx, error=None, done=True, pin_set=True)),
        lambda r: Template("evaluate_pin.html", context=_ctx(ctx, error=r, done=False, pin_set=_pin_set(ctx))),
    )


@get("/evaluate/{bid:int}/{part:str}", guards=SCORERS, sync_to_thread=True, include_in_schema=False)
def evaluate_part(ctx: Ctx, bid: FromPath[int], part: FromPath[str]) -> Template:
    batch = batch_for_read(ctx.db, ctx.user, bid)
    rows = worklist.my_candidates(ctx.db, ctx.user, batch, part)
    return Template("evaluate_part.html", context=_ctx(ctx, batch=batch, part=part, rows=rows))


def _entry_page(ctx: Ctx, bid: int, part: str, cid: int, **extra: Any) -> dict[str, Any]:
    form = worklist.entry_form(ctx.db, ctx.user, bid, part, cid)
    return _ctx(ctx, **form, pin_set=_pin_set(ctx), accepted=None, error=None, typed={}, **extra)


@get("/evaluate/{bid:int}/{part:str}/{cid:int}", guards=SCORERS, sync_to_thread=True, include_in_schema=False)
def entry_page(ctx: Ctx, bid: FromPath[int], part: FromPath[str], cid: FromPath[int]) -> Template:
    return Template("evaluate_entry.html", context=_entry_page(ctx, bid, part, cid))


@post(
    "/evaluate/{bid:int}/{part:str}/{cid:int}/sign",
    guards=SCORERS,
    sync_to_thread=True,
    include_in_schema=False,
    status_code=200,
)
def entry_submit(ctx: Ctx, bid: FromPath[int], part: FromPath[str], cid: FromPath[int], data: Form) -> Response:
    form = worklist.entry_form(ctx.db, ctx.user, bid, part, cid)
    typed = {item.code: str(data.get(f"item-{i}", "")).strip() for i, item in enumerate(form["items"])}

    def page(**outcome: Any) -> Template:
        context = _entry_page(ctx, bid, part, cid)
        context.update(outcome)
        return Template("evaluate_entry.html", context=context)

    return page_action(
        ctx,
        lambda: entries_service.submit_entry(
            ctx.db,
            ctx.user,
            ctx.now,
            ctx.state.passwords,
            ctx.state.settings.secret_key,
            bid,
            cid,
            part,
            dict(typed),
            str(data.get("pin", "")),
        ),
        lambda accepted: page(accepted=accepted),
        lambda r: page(error=r, typed=typed),
    )


@get("/evaluate/{bid:int}/arbitration", guards=[requires_role("chief")], sync_to_thread=True, include_in_schema=False)
def arbitration_page(ctx: Ctx, bid: FromPath[int]) -> Template:
    batch = load_batch(ctx.db, bid)
    items = arbitration_service.open_arbitrations(ctx.db, ctx.user, bid)
    return Template("evaluate_arbitration.html", context=_ctx(ctx, batch=batch, items=items, done=None, error=None))


@post(
    "/evaluate/{bid:int}/arbitration/{cid:int}/{part:str}",
    guards=[requires_role("chief")],
    sync_to_thread=True,
    include_in_schema=False,
    status_code=200,
)
def arbitration_submit(ctx: Ctx, bid: FromPath[int], cid: FromPath[int], part: FromPath[str], data: Form) -> Response:
    def page(done: Any = None, error: Refusal | None = None) -> Template:
        batch = load_batch(ctx.db, bid)
        items = arbitration_service.open_arbitrations(ctx.db, ctx.user, bid)
        return Template(
            "evaluate_arbitration.html", context=_ctx(ctx, batch=batch, items=items, done=done, error=error)
        )

    return page_action(
        ctx,
        lambda: arbitration_service.arbitrate(
            ctx.db, ctx.user, ctx.now, bid, cid, part, data.get("action"), data.get("reason", "")
        ),
        lambda done: page(done=done),
        lambda r: page(error=r),
    )


def panel_staff(db: Session, batch_id: int) -> list[int]:
    return list(set(db.exec(select(PanelMember.staff_id).where(PanelMember.batch_id == batch_id)).all()))


@get("/evaluate/{bid:int}/results", guards=[requires_role("chief")], sync_to_thread=True, include_in_schema=False)
def results_page(ctx: Ctx, bid: FromPath[int]) -> Template:
    """The chief's view of the panel's outcome; colleagues' entries show once a part is complete (R-SCORE-1)."""
    batch = batch_for_read(ctx.db, ctx.user, bid)
    return Template(
        "evaluate_results.html",
        context=_ctx(
            ctx,
            batch=batch,
            scores=results.scores_view(ctx.db, ctx.user, bid),
            # R-SCORE-1: a cleared PIN is when the office could have signed as a panel member.
            pin_resets=pins.pin_resets_of_staff(ctx.db, batch.institution_id, panel_staff(ctx.db, bid)),
        ),
    )


@get("/evaluate/{bid:int}", guards=SCORERS, sync_to_thread=True, include_in_schema=False)
def evaluate_batch(bid: FromPath[int]) -> Redirect:
    return Redirect("/evaluate")


ROUTES = [
    evaluate_home,
    pin_page,
    pin_submit,
    arbitration_page,
    arbitration_submit,
    results_page,
    evaluate_part,
    entry_page,
    entry_submit,
    *theory_pages.ROUTES,
    evaluate_batch,
]
