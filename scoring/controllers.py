"""HTTP routes of `scoring/`: thin translations to the service modules.

Every route that touches a batch first gives the batch the chance to lock
itself (R-PUB-1: automatically on the first request after the publicity
ends): ``scoring.router.autolock_due``, once per request, before the handler;
that lock commits on its own, so a request refused afterwards does not undo
it. The routes that do not lock this way say ``opt=NO_AUTOLOCK``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Template

from examday.rows import row_id
from examday.web import Ctx, requires_role, signed_in
from scoring import exports, public, results, theory_controllers, theory_import
from scoring.access import batch_for_read
from scoring.services import absence as absence_service
from scoring.services import arbitration as arbitration_service
from scoring.services import certificates as certificates_service
from scoring.services import entries as entries_service
from scoring.services import lock as lock_service
from scoring.services import objections as objections_service
from scoring.services import panels as panels_service
from scoring.services import publicity as publicity_service
from scoring.services import rubrics as rubrics_service

ADMIN = [requires_role("admin")]
SCORER = [requires_role("evaluator", "chief")]


NO_AUTOLOCK = {"autolock": False}


@dataclass
class RubricIn:
    items: list[dict[str, Any]]


@put("/api/v1/batches/{bid:int}/rubrics/{part:str}", guards=ADMIN, sync_to_thread=True)
def put_rubric(ctx: Ctx, bid: FromPath[int], part: FromPath[str], data: JSONBody[RubricIn]) -> dict[str, Any]:
    body = rubrics_service.set_rubric(ctx.db, ctx.user, ctx.now, bid, part, data.items)
    return body


@get("/api/v1/batches/{bid:int}/rubrics/{part:str}", guards=[signed_in], sync_to_thread=True, opt=NO_AUTOLOCK)
def get_rubric(ctx: Ctx, bid: FromPath[int], part: FromPath[str]) -> dict[str, Any]:
    batch_for_read(ctx.db, ctx.user, bid)
    return rubrics_service.rubric_body(bid, part, rubrics_service.load_items(ctx.db, bid, part))


@dataclass
class PanelIn:
    part: str
    examiner_ids: list[Any]
    chief_id: Any = None


@post("/api/v1/batches/{bid:int}/panels", guards=ADMIN, sync_to_thread=True, status_code=201)
def post_panel(ctx: Ctx, bid: FromPath[int], data: JSONBody[PanelIn]) -> dict[str, Any]:
    body = panels_service.set_panel(ctx.db, ctx.user, ctx.now, bid, data.part, data.examiner_ids, data.chief_id)
    return body


@get("/api/v1/batches/{bid:int}/panels", guards=[signed_in], sync_to_thread=True, opt=NO_AUTOLOCK)
def get_panels(ctx: Ctx, bid: FromPath[int]) -> list[dict[str, Any]]:
    batch = batch_for_read(ctx.db, ctx.user, bid)
    found = (panels_service.panel_body(ctx.db, batch, p) for p in batch.part_list())
    return [p for p in found if p is not None]


@dataclass
class EntryIn:
    batch_id: int
    candidate_id: int
    part: str
    items: dict[str, Any]
    pin: str | None = None


@post("/api/v1/score-entries", guards=SCORER, sync_to_thread=True, status_code=201)
def post_entry(ctx: Ctx, data: JSONBody[EntryIn]) -> dict[str, Any]:
    body = entries_service.submit_entry(
        ctx.db,
        ctx.user,
        ctx.now,
        ctx.state.passwords,
        ctx.state.settings.secret_key,
        data.batch_id,
        data.candidate_id,
        data.part,
        data.items,
        data.pin,
    )
    return body


@get("/api/v1/batches/{bid:int}/scores", guards=[signed_in], sync_to_thread=True)
def get_scores(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return results.scores_view(ctx.db, ctx.user, bid)


@dataclass
class TheoryUpload:
    file: UploadFile
    reason: str | None = None  # a correction (a version after a countersigned one) says why (R-SCORE-3)


@post("/api/v1/batches/{bid:int}/theory-scores", guards=ADMIN, sync_to_thread=True, status_code=201)
def post_theory(
    ctx: Ctx, bid: FromPath[int], data: Annotated[TheoryUpload, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> dict[str, Any]:
    raw = data.file.file.read()
    body = theory_import.import_theory(ctx.db, ctx.user, ctx.now, bid, data.file.filename or "", raw, data.reason)
    return body


@dataclass
class AbsenceIn:
    candidate_id: int
    part: str
    note: str = ""


@post("/api/v1/batches/{bid:int}/absences", guards=ADMIN, sync_to_thread=True, status_code=201)
def post_absence(ctx: Ctx, bid: FromPath[int], data: JSONBody[AbsenceIn]) -> dict[str, Any]:
    body = absence_service.mark_absent(ctx.db, ctx.user, ctx.now, bid, data.candidate_id, data.part, data.note)
    return body


@dataclass
class ArbitrationIn:
    action: str
    reason: str = ""


@post(
    "/api/v1/batches/{bid:int}/arbitrations/{candidate_id:int}/{part:str}",
    guards=[requires_role("chief")],
    sync_to_thread=True,
    status_code=200,
)
def post_arbitration(
    ctx: Ctx, bid: FromPath[int], candidate_id: FromPath[int], part: FromPath[str], data: JSONBody[ArbitrationIn]
) -> dict[str, Any]:
    body = arbitration_service.arbitrate(ctx.db, ctx.user, ctx.now, bid, candidate_id, part, data.action, data.reason)
    return body


@get("/api/v1/batches/{bid:int}/arbitrations", guards=[signed_in], sync_to_thread=True)
def get_arbitrations(ctx: Ctx, bid: FromPath[int]) -> list[dict[str, Any]]:
    return arbitration_service.open_arbitrations(ctx.db, ctx.user, bid)


@post("/api/v1/batches/{bid:int}/publicity", guards=ADMIN, sync_to_thread=True, status_code=201)
def post_publicity(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    body = publicity_service.start_publicity(ctx.db, ctx.user, ctx.now, bid)
    return body


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


@get("/public/batches/{bid:int}/publicity", sync_to_thread=True)
def public_publicity(ctx: Ctx, request: Request, bid: FromPath[int]) -> Any:
    body = public.public_view(ctx.db, bid)
    if _wants_html(request):
        return Template("publicity_public.html", context={"p": body, "actor": None}, media_type=MediaType.HTML)
    return body


@get("/public/batches/{bid:int}/publicity.html", sync_to_thread=True, include_in_schema=False)
def public_publicity_html(ctx: Ctx, bid: FromPath[int]) -> Template:
    return Template("publicity_public.html", context={"p": public.public_view(ctx.db, bid), "actor": None})


@dataclass
class ObjectionIn:
    candidate_id: int
    reason: str
    part: str | None = None
    raised_by: str = ""


@post("/api/v1/batches/{bid:int}/objections", guards=ADMIN, sync_to_thread=True, status_code=201)
def post_objection(ctx: Ctx, bid: FromPath[int], data: JSONBody[ObjectionIn]) -> dict[str, Any]:
    body = objections_service.raise_objection(
        ctx.db, ctx.user, ctx.now, bid, data.candidate_id, data.part, data.reason, data.raised_by
    )
    return body


@get("/api/v1/batches/{bid:int}/objections", guards=[signed_in], sync_to_thread=True)
def get_objections(ctx: Ctx, bid: FromPath[int]) -> list[dict[str, Any]]:
    return objections_service.list_objections(ctx.db, ctx.user, bid)


@dataclass
class ResolveIn:
    decision: str
    reason: str = ""
    part: str | None = None


@post("/api/v1/objections/{oid:int}/resolve", guards=ADMIN, sync_to_thread=True, status_code=200)
def post_resolve(ctx: Ctx, oid: FromPath[int], data: JSONBody[ResolveIn]) -> dict[str, Any]:
    body = objections_service.resolve_objection(ctx.db, ctx.user, ctx.now, oid, data.decision, data.reason, data.part)
    return body


@post("/api/v1/batches/{bid:int}/lock", guards=ADMIN, sync_to_thread=True, status_code=200, opt=NO_AUTOLOCK)
def post_lock(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    body = lock_service.lock_batch(ctx.db, ctx.user, ctx.now, bid)
    return body


@get("/api/v1/batches/{bid:int}/seal", guards=[signed_in], sync_to_thread=True)
def get_seal(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    batch = batch_for_read(ctx.db, ctx.user, bid)
    seal = lock_service.seal_of(ctx.db, row_id(batch))
    return {"batch_id": batch.id, "status": batch.status, "seal": lock_service.seal_body(seal) if seal else None}


def _file(content: bytes, media_type: str, name: str) -> Response:
    return Response(content=content, media_type=media_type, headers=exports.disposition(name))


@get("/api/v1/batches/{bid:int}/results.csv", guards=[signed_in], sync_to_thread=True)
def results_csv(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _file(exports.results_csv(ctx.db, ctx.user, bid), "text/csv; charset=utf-8", f"batch-{bid}-results.csv")


@get("/api/v1/batches/{bid:int}/results.xlsx", guards=[signed_in], sync_to_thread=True)
def results_xlsx(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _file(
        exports.results_xlsx(ctx.db, ctx.user, bid),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"batch-{bid}-results.xlsx",
    )


@dataclass
class CertificatesIn:
    kind: str
    institution_code: str
    site_serial: str
    issue_date: date | None = None
    province_code: str | None = None


@post("/api/v1/batches/{bid:int}/certificates", guards=ADMIN, sync_to_thread=True, status_code=201)
def post_certificates(ctx: Ctx, bid: FromPath[int], data: JSONBody[CertificatesIn]) -> dict[str, Any]:
    body = certificates_service.issue_certificates(
        ctx.db,
        ctx.user,
        ctx.now,
        bid,
        kind=data.kind,
        institution_code=data.institution_code,
        site_serial=data.site_serial,
        issue_date=data.issue_date,
        province=data.province_code,
    )
    return body


@get("/api/v1/batches/{bid:int}/certificates", guards=[signed_in], sync_to_thread=True)
def get_certificates(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return certificates_service.certificate_data(ctx.db, ctx.user, bid, ctx.now)


@get("/api/v1/batches/{bid:int}/certificates.csv", guards=[signed_in], sync_to_thread=True)
def get_certificates_csv(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _file(
        certificates_service.certificates_csv(ctx.db, ctx.user, bid, ctx.now),
        "text/csv; charset=utf-8",
        f"batch-{bid}-certificates.csv",
    )


ROUTES: list = [
    put_rubric,
    get_rubric,
    post_panel,
    get_panels,
    post_entry,
    get_scores,
    post_theory,
    post_absence,
    post_arbitration,
    get_arbitrations,
    post_publicity,
    public_publicity,
    public_publicity_html,
    post_objection,
    get_objections,
    post_resolve,
    post_lock,
    get_seal,
    results_csv,
    results_xlsx,
    post_certificates,
    get_certificates,
    get_certificates_csv,
    *theory_controllers.ROUTES,
]
