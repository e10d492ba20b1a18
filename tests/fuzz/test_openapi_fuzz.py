"""The OpenAPI document, fuzzed with schemathesis once per role.

For every operation the schema lists, schemathesis generates requests that fit the schema
(positive) and requests that break it (negative); each goes to a live server as one role.
Two properties must hold for every answer:

- no 5xx, ever: hostile input is refused, it never crashes a handler;
- every 4xx is a refusal in the contract's shape (CONTRACT.md): JSON with a snake_case
  ``code``, ``message`` (zh), ``message_en``, ``rule`` (an R-… ID or null) and ``detail``.

The run is bounded (a few examples per operation and mode, no deadline, no shrinking, no
example database) so that the whole directory stays within a few minutes on two cores; it
is derandomized, so the suite sends the same cases every time (see SCALE and RANDOM below).
Each generated case is sent as every role; failures are reported per role, one line per answer.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

# The suite's run is small and the same every time (derandomized), so it never flakes; a deeper,
# random run: EXAMDAY_FUZZ_SCALE=10 EXAMDAY_FUZZ_RANDOM=1 ./dev test tests/fuzz
SCALE = max(1, int(os.environ.get("EXAMDAY_FUZZ_SCALE", "1")))
RANDOM = os.environ.get("EXAMDAY_FUZZ_RANDOM") == "1"
EXAMPLES = {GenerationMode.POSITIVE: 4 * SCALE, GenerationMode.NEGATIVE: 3 * SCALE}
ROLES = ["anonymous", "centre", "supervisor", "kiosk", "proctor", "evaluator", "chief", "admin"]
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
RULE = re.compile(r"^R-[A-Z0-9-]+$")


def refusal_problems(resp: requests.Response | Any) -> str | None:
    """Why a 4xx answer is not in the contract's refusal shape, or None when it is."""
    if "application/json" not in resp.headers.get("content-type", ""):
        return f"not JSON ({resp.headers.get('content-type')})"
    try:
        body = resp.json()
    except ValueError:
        return "unparseable JSON"
    if not isinstance(body, dict):
        return "not an object"
    missing = {"code", "message", "message_en", "rule", "detail"} - set(body)
    if missing:
        return f"missing {sorted(missing)}"
    if not (isinstance(body["code"], str) and CODE.match(body["code"])):
        return f"code {body['code']!r}"
    if not (isinstance(body["message"], str) and body["message"].strip()):
        return "empty message"
    if not (isinstance(body["message_en"], str) and body["message_en"].strip()):
        return "empty message_en"
    if body["rule"] is not None and not (isinstance(body["rule"], str) and RULE.match(body["rule"])):
        return f"rule {body['rule']!r}"
    if not isinstance(body["detail"], dict):
        return "detail not an object"
    return None


@pytest.fixture(scope="module")
def schema(fuzz_world):
    doc = requests.get(fuzz_world.url + "/schema/openapi.json", timeout=30).json()
    loaded = schemathesis.openapi.from_dict(doc)
    known = fuzz_world.known

    @loaded.hook
    def flatmap_path_parameters(context, params):
        # Half the time, point the request at something that exists, so it reaches the handler's rules.
        if not params or not any(k in known for k in params):
            return st.just(params)
        real = {k: st.sampled_from(known[k]) if k in known else st.just(v) for k, v in params.items()}
        return st.one_of(st.just(params), st.fixed_dictionaries(real))

    return loaded


def fuzz_operation(
    operation,
    mode: GenerationMode,
    base_url: str,
    roles: dict[str, dict[str, str]],
    session: requests.Session,
    failures: dict[str, list[str]],
) -> int:
    """Generate a few cases for one operation and send each as every role; returns how many were sent."""
    sent = {"n": 0}

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        for role, headers in roles.items():
            sent["n"] += 1
            check(case, role, headers)

    def check(case, role: str, headers: dict[str, str]) -> None:
        try:
            resp = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        except requests.RequestException as exc:  # the server dropped the connection: as bad as a 500
            failures[role].append(f"{operation.label} [{mode.value}]: no answer ({type(exc).__name__})")
            return
        where = f"{operation.label} [{mode.value}] → {resp.status_code}"
        if resp.status_code >= 500:
            failures[role].append(f"{where}: {resp.text[:300]}\n    {case.as_curl_command(headers=headers)[:600]}")
        elif resp.status_code >= 400 and (problem := refusal_problems(resp)):
            failures[role].append(f"{where}: not a refusal: {problem}: {resp.text[:200]}")

    try:
        run()
    except Unsatisfiable:
        pass  # nothing in this operation can be made invalid (no parameters, no body): nothing to negate
    except Exception as exc:  # a generation problem is reported, it does not hide the other operations
        for role in roles:
            failures[role].append(
                f"{operation.label} [{mode.value}]: could not generate ({type(exc).__name__}: {exc})"[:400]
            )
    return sent["n"]


@pytest.fixture(scope="module")
def fuzz_run(fuzz_world, schema) -> dict[str, Any]:
    """The whole run: every operation, both modes, each generated case sent as every role in turn
    (generation is the expensive part, so it is done once per case, not once per role)."""
    roles = {role: ({"Authorization": f"Bearer {tok}"} if tok else {}) for role, tok in fuzz_world.tokens.items()}
    roles = {role: roles[role] for role in ROLES}
    failures: dict[str, list[str]] = {role: [] for role in ROLES}
    started, cases, operations = time.monotonic(), 0, 0
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            for mode in EXAMPLES:
                cases += fuzz_operation(operation, mode, fuzz_world.url, roles, session, failures)
    seconds = time.monotonic() - started
    print(
        f"\nfuzz: {operations} operations, {cases} requests ({cases // len(ROLES)} cases × {len(ROLES)} roles) "
        f"in {seconds:.1f}s"
    )
    return {"failures": failures, "cases": cases, "operations": operations}


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_as_every_role_never_crashes_and_refuses_in_shape(fuzz_run, role):
    failures = fuzz_run["failures"][role]
    assert fuzz_run["operations"] > 50 and fuzz_run["cases"] > 0
    assert not failures, f"{len(failures)} failing answers as {role}:\n" + "\n".join(failures)
