"""The centre's dashboard of the reports received (上报情况): R-PUB-2, R-SUP-1, R-DISC-1, issue #17.

``GET /centre/reports``: per institution of the centre's province registered here, the batches
reported on time or late, the packages refused and why, the blocked batches, the tier (b)/(c)
incidents, the late supervision reports and each batch's last verification
(``scoring.centre_reports``); ``GET /centre/reports.xlsx``: the same as a workbook.

Two forms on the page, the same services as the API (issue #17):
``POST /centre/reports/keys`` — register an institution's public keys (登记公钥) from the JSON of
its ``GET /api/v1/institutions/{iid}/ticket-keys``, as ``POST /api/v1/centre/institution-keys``;
``POST /centre/reports/package`` — a package brought on a USB stick (数据包导入), verified and kept
as ``POST /api/v1/centre/reports`` and ``examday report import`` do; a refused one is kept as a
refusal too, so the dashboard lists it. Each answers the page in place with the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from examday.errors import Refusal
from examday.records import archive
from examday.web import Ctx, page_action, requires_role
from scoring import centre_reports, exports, report_keys, report_receive

CENTRE = [requires_role("centre", "admin")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


def _page(ctx: Ctx, **extra: Any) -> Template:
    return Template(
        "centre_reports.html",
        context={
            "user": ctx.user,
            "institutions": centre_reports.dashboard(ctx.db, ctx.user),
            "now": ctx.now,
            **extra,
        },
    )


@get("/centre/reports", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def reports_page(ctx: Ctx) -> Template:
    return _page(ctx)


@get("/centre/reports.xlsx", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def reports_xlsx(ctx: Ctx) -> Response:
    data = centre_reports.dashboard_xlsx(ctx.db, ctx.user, ctx.now)
    return Response(content=data, media_type=XLSX, headers=exports.disposition("centre-reports.xlsx"))


def _file(upload: UploadFile | None, what_zh: str, what_en: str) -> bytes:
    if upload is None or not hasattr(upload, "file"):
        raise Refusal("file_required", f"请选择{what_zh}", f"Choose the {what_en}.", "R-PUB-2")
    upload.file.seek(0)
    return bytes(upload.file.read())


def _listed_keys(raw: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """The keys and the revoked key ids of a ticket-keys JSON document (``{"keys": [...],
    "revoked_kids": [...]}``), or the keys of a bare list, as the CLI reads it."""
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    listed = doc.get("keys") if isinstance(doc, dict) else doc
    revoked = doc.get("revoked_kids", []) if isinstance(doc, dict) else []
    if (
        not isinstance(listed, list)
        or not all(isinstance(k, dict) for k in listed)
        or not isinstance(revoked, list)
        or not all(isinstance(k, str) for k in revoked)
    ):
        raise Refusal(
            "keys_file_invalid",
            "公钥文件不是机构的准考证公钥 JSON",
            "The file is not the institution's ticket-keys JSON.",
            "R-PUB-2",
        )
    return listed, revoked


@dataclass
class KeysForm:
    uscc: str = ""
    province: str = ""
    name: str = ""
    file: UploadFile | None = None


@post("/centre/reports/keys", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def keys_submit(ctx: Ctx, data: Annotated[KeysForm, MULTIPART]) -> Response:
    def run() -> dict[str, Any]:
        listed, revoked = _listed_keys(
            _file(data.file, "机构的准考证公钥 JSON 文件", "institution's ticket-keys JSON file")
        )
        return report_keys.register_keys(
            ctx.db, ctx.user, ctx.now, data.uscc.strip(), data.name.strip(), data.province.strip(), listed, revoked
        )

    return page_action(ctx, run, lambda body: _page(ctx, keys=body), lambda r: _page(ctx, error=r, form="keys"))


@dataclass
class PackageForm:
    file: UploadFile | None = None


@post("/centre/reports/package", guards=CENTRE, sync_to_thread=True, include_in_schema=False, opt={"autolock": False})
def package_submit(ctx: Ctx, data: Annotated[PackageForm, MULTIPART]) -> Response:
    """As the API: a refusal changes nothing, and its record goes in on its own afterwards (R-PUB-2)."""
    kept: dict[str, bytes] = {}

    def run() -> dict[str, Any]:
        kept["data"] = _file(data.file, "上报数据包（ZIP）", "report package (ZIP)")
        return report_receive.receive(ctx.db, ctx.user, None, ctx.now, kept["data"], archive.store_of(ctx.db), "page")

    def refused(r: Refusal) -> Template:
        if "data" in kept and r.status != 403:
            report_receive.keep_refusal(ctx.state.engine, r, kept["data"], ctx.now, ctx.user, "page")
        return _page(ctx, error=r, form="package")

    return page_action(ctx, run, lambda receipt: _page(ctx, received=receipt), refused)


ROUTES: list = [reports_page, reports_xlsx, keys_submit, package_submit]
