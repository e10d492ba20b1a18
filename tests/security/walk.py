"""The walk of test_route_by_role.py: every classified operation of the OpenAPI document, each
case and caller (issue #14). Run once for the package (tests/security/conftest.py), before the
pages' walk, so that what the installation administrator changes comes in a fixed order."""

from __future__ import annotations

import json
from typing import Any

from proctor.hooks_sign import SIGNATURE_HEADER, sign
from tests.security.routes import ROUTES, call_for
from tests.security.world import RouteWorld

ROOT = "installation_admin"
RECORDER_KEY_HEADER = "X-Examday-Recorder"  # proctor/hooks_sign.py: which recorder key signs the hook
ACTORS = ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor", "centre", "anonymous")
METHODS = ("get", "post", "put", "patch", "delete")


def cases_of(key: tuple[str, str]) -> list[tuple[str, str]]:
    """(case, actor) pairs a row is walked with, installation administrator aside."""
    route = ROUTES[key]
    out = [("B", a) for a in ACTORS]
    if route.signed:
        out.append(("B", "recorder"))
    if route.room:
        out.append(("room", "proctor"))
    if route.examiner:
        out += [("examiner", "evaluator"), ("examiner", "chief")]
    return out


def operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in METHODS]


def _answer(resp) -> dict[str, Any]:
    kind = resp.headers.get("content-type", "")
    text = resp.text if ("json" in kind or "text" in kind or "csv" in kind) else ""
    code = None
    if "json" in kind:
        try:
            body = resp.json()
            code = body.get("code") if isinstance(body, dict) else None
        except ValueError:
            pass
    return {"status": resp.status_code, "code": code, "type": kind, "text": text}


def _send(w: RouteWorld, doc: dict[str, Any], method: str, path: str, case: str, actor: str) -> dict[str, Any]:
    route = ROUTES[(method, path)]
    ids = {"B": w.b, "room": w.a_room, "examiner": w.a_examiner, "A": w.a_examiner}[case]
    op = doc["paths"][path][method.lower()]
    call = call_for(method, path, op, doc.get("components", {}).get("schemas", {}), ids, route)
    if actor == "recorder":  # A's recorder: the body signed with A's recorder key
        kid, secret = w.recorder
        raw = json.dumps(call.json).encode()
        headers = {"Content-Type": "application/json", RECORDER_KEY_HEADER: kid} if secret else {}
        headers[SIGNATURE_HEADER] = sign(raw, secret or "none")
        resp = w.client.request(method, call.url, content=raw, headers=headers)
    else:
        resp = w.client.request(
            method, call.url, json=call.json, files=call.files, params=call.params, headers=w.headers(actor)
        )
    out = _answer(resp)
    out["request"] = f"{method} {call.url} {call.params or ''} {call.json if call.json is not None else ''}".strip()
    return out


def run_walk(app, w: RouteWorld) -> dict[str, Any]:
    """Every classified operation, each case and caller. The installation administrator goes after
    the calls naming B, so that what they may change there does not change what the others meet,
    and before the lists, which then also hold what they made of B (an institution of B's province,
    B suspended, so that B's batches are among the blocked ones)."""
    doc = app.openapi_schema.to_schema()
    ops = operations(doc)
    answers: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    known = [op for op in ops if op in ROUTES]
    lists = [op for op in known if ROUTES[op].kind == "own"]
    # The control: A's exam office reads A's own objects through the same calls.
    for method, path in known:
        if method == "GET" and ROUTES[(method, path)].kind == "foreign":
            answers[(method, path, "A", "admin")] = _send(w, doc, method, path, "A", "admin")
    for method, path in known:
        for case, actor in cases_of((method, path)):
            if (method, path) not in lists:
                answers[(method, path, case, actor)] = _send(w, doc, method, path, case, actor)
    for method, path in known:
        answers[(method, path, "B", ROOT)] = _send(w, doc, method, path, "B", ROOT)
    for method, path in lists:
        for case, actor in cases_of((method, path)):
            answers[(method, path, case, actor)] = _send(w, doc, method, path, case, actor)
    return {"doc": doc, "ops": ops, "answers": answers, "world": w}
