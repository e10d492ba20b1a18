"""HTTP routes of video (CONTRACT.md "Video"; R-VIDEO-1).

``POST /api/v1/hooks/recorder`` takes no bearer token: the HMAC of the raw
body is its authentication (:mod:`proctor.services.hooks`). The rest are for people:
coverage for the admin, supervisor, centre and the proctors of the rooms.
Holds and the retention preview are :mod:`examday.records.controllers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Template

from examday import hot_path
from examday.errors import Refusal
from examday.web import Ctx, RequestContext, requires_role
from proctor.coverage import DEFAULT_MARGIN, DEFAULT_TOLERANCE
from proctor.hooks_sign import KEY_HEADER, SIGNATURE_HEADER
from proctor.services import hooks, video, video_verify
from storage.video_files import VideoPlaces

watchers = [requires_role("admin", "supervisor", "centre", "proctor")]
office = [requires_role("admin")]


# A hot path (examday/hot_path.py): body, signature, segment, commit and event in one worker thread.
@post("/api/v1/hooks/recorder", status_code=200)
async def recorder_hook(request: Request) -> Response:
    """200 ``{status: "stored"|"duplicate", outcome, segment_id?, segment_state?}``; 401
    ``bad_signature`` or ``recorder_key_inactive``; 403 ``recorder_not_of_institution`` (a key of
    another institution) or ``recorder_key_required`` (the installation secret, for an institution
    with keys of its own); 404 ``unknown_camera``; 409 ``ambiguous_camera`` or
    ``segment_already_finished``; 422 ``invalid_hook``, ``hook_time_in_future``,
    ``hook_time_before_camera`` or ``path_outside_video_dirs``; 503 ``video_store_unavailable``
    when an ``s3://`` segment cannot be checked now (the recorder sends the hook again)."""
    peer = request.client.host if request.client else None
    signature, key = request.headers.get(SIGNATURE_HEADER), request.headers.get(KEY_HEADER) or None

    def hook(ctx: RequestContext, body: bytes) -> Response:
        settings = ctx.state.settings
        auth = hooks.HookAuth(settings.hook_secret, settings.secret_key, signature, key)
        result = hooks.receive(ctx.db, auth, body, ctx.now, peer, places=VideoPlaces.from_settings(settings))
        ctx.queue_events(result.events)
        return Response(result.body(), status_code=200)

    return await hot_path.run(request, None, hook)


def _seconds(value: float | None, default: timedelta, name: str, upper: float) -> timedelta:
    if value is None:
        return default
    if not 0 <= value <= upper:
        raise Refusal(
            "invalid_input",
            f"{name} 超出范围",
            f"{name} must be between 0 and {upper:g} seconds.",
            None,
            422,
            {"field": name},
        )
    return timedelta(seconds=value)


@get("/api/v1/batches/{bid:int}/coverage", guards=watchers, sync_to_thread=True)
def coverage(
    ctx: Ctx, bid: FromPath[int], tolerance: FromQuery[float | None] = None, margin: FromQuery[float | None] = None
) -> dict[str, Any]:
    return video.batch_coverage(
        ctx.db,
        ctx.user,
        bid,
        ctx.now,
        _seconds(tolerance, DEFAULT_TOLERANCE, "tolerance", 3600),
        _seconds(margin, DEFAULT_MARGIN, "margin", 3600),
    )


@dataclass
class VerifyIn:
    deep: bool = False


@post("/api/v1/batches/{bid:int}/coverage/verify", guards=office, sync_to_thread=True, status_code=200)
def verify_files(ctx: Ctx, bid: FromPath[int], data: JSONBody[VerifyIn | None] = None) -> dict[str, Any]:
    return video_verify.verify_segments(
        ctx.db, ctx.user, bid, ctx.now, deep=bool(data and data.deep), s3=ctx.state.settings.s3
    )


# -- the exam office's page --------------------------------------------------------------------------


def verdict(camera: dict[str, Any], final: bool) -> str:
    """What the page says of one camera in one session (issue #16): ``not_started`` while nothing
    of the session can be judged yet (never a green 完整 over 0 minutes); ``gaps``; ``unconfirmed``
    while the session runs and the camera's state is 未知 (no recorder has spoken: a camera nobody
    has heard from is not complete); ``complete`` once the session is over, ``so_far`` before (R-VIDEO-1)."""
    if camera["window_seconds"] <= 0:
        return "not_started"
    if not camera["complete"]:
        return "gaps"
    if not final and camera["state"] == "unknown":
        return "unconfirmed"
    return "complete" if final else "so_far"


def _with_verdicts(data: dict[str, Any]) -> dict[str, Any]:
    for s in data["sessions"]:
        for r in s["rooms"]:
            for c in r["cameras"]:
                c["verdict"] = verdict(c, s["final"])
        found = {c["verdict"] for r in s["rooms"] for c in r["cameras"]}
        no_camera = any(not r["cameras"] for r in s["rooms"])
        s["verdict"] = (
            "not_started"
            if not s["started"]
            else "gaps"
            if "gaps" in found or no_camera
            else "unconfirmed"
            if "unconfirmed" in found
            else ("complete" if s["final"] else "so_far")
        )
    started = [s for s in data["sessions"] if s["started"]]
    data["verdict"] = (
        "not_started"
        if not started
        else "gaps"
        if any(s["verdict"] == "gaps" for s in started)
        else "unconfirmed"
        if any(s["verdict"] == "unconfirmed" for s in started)
        else ("complete" if data["final"] else "so_far")
    )
    return data


@get("/office/batches/{bid:int}/coverage", guards=watchers, sync_to_thread=True, include_in_schema=False)
def coverage_page(ctx: Ctx, bid: FromPath[int]) -> Template:
    data = _with_verdicts(video.batch_coverage(ctx.db, ctx.user, bid, ctx.now))
    return Template("coverage.html", context={"actor": ctx.user, "cov": data})


ROUTES = [recorder_hook, coverage, verify_files, coverage_page]
