"""R-LEVEL over HTTP on SQLite and PostgreSQL (issue #15): an enterprise (用人单位) may add 学徒工
below level 5 and 特级技师 / 首席技师 above level 1, inside its filed scope (R-INST-3); nobody
else may. An institution's kind is given at registration and changed by the installation
administrator only, on the audit chain. A tier is shown by its name, never as "-1级"."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.plans.models import Batch
from examday.registry.models import Institution, ScopeEntry
from tests import builders
from tests.integration.examday.plans_world import Office, batch_row, counts, office, plan_body, ready
from tests.support import DEMO_USCC, OTHER_USCC, assert_refusal, bearer

CHIEF, SPECIAL, APPRENTICE = -1, 0, 6


@pytest.fixture
def root(world):
    return bearer(world.token("root", "admin"))


def registration(kind: str | None, *scopes: tuple[str, str, object], uscc: str = DEMO_USCC) -> dict:
    body = {
        "name": "长春示范机械制造有限公司",
        "uscc": uscc,
        "province": "吉林",
        "filing": {"number": "吉人社技评备〔2025〕021号", "valid_from": "2025-03-01", "valid_until": "2028-02-29"},
        "scope": [{"occupation_code": c, "occupation_name": n, "levels": lv} for c, n, lv in scopes],
    }
    if kind is not None:
        body["kind"] = kind
    return body


def enterprise(world, client, root, levels: object = "5、4、3、2、1、首席技师") -> Office:
    """An enterprise registered over HTTP with tiers in its scope, then given rooms and staff."""
    r = client.post(
        "/api/v1/institutions", headers=root, json=registration("enterprise", ("6-31-01-03", "电工", levels))
    )
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    with Session(world.engine, expire_on_commit=False) as db:
        inst = db.get(Institution, iid)
        rooms = builders.rooms(db, inst)
        people = builders.staff(db, inst)
        db.commit()
        o = Office(
            iid,
            "",
            {x.code: x.id for x in rooms},
            [p.id for p in people["proctor"]],
            [p.id for p in people["examiner"]],
        )
    o.token = world.token(f"office{iid}", "admin", iid)
    return o


def file(client, o: Office, bid: int):
    return client.post(f"/api/v1/batches/{bid}/file", headers=o.headers)


def test_r_level_an_enterprise_files_a_chief_technician_batch_inside_its_scope(world, client, root):
    o = enterprise(world, client, root)
    view = client.get(f"/api/v1/institutions/{o.iid}", headers=root).json()
    assert (view["kind"], view["kind_zh"]) == ("enterprise", "用人单位（企业）")
    assert view["scope"][0]["levels"] == [5, 4, 3, 2, 1, CHIEF]
    assert view["scope"][0]["levels_label"] == "5、4、3、2、1、首席技师"
    with Session(world.engine) as db:
        assert db.exec(select(ScopeEntry.levels).where(ScopeEntry.institution_id == o.iid)).one() == "5,4,3,2,1,-1"

    bid = ready(client, o, level=CHIEF)
    # R-PLAN-3: 首席技师 takes theory, skill and the comprehensive review, as level 1.
    assert batch_row(world.engine, bid).part_list() == ["theory", "skill", "review"]
    check = client.get(f"/api/v1/batches/{bid}/check", headers=o.headers).json()
    assert check["ok"], check
    r = file(client, o, bid)
    assert r.status_code == 200 and r.json()["status"] == "filed"

    # R-LEVEL: the batch page, the list and the results name the tier, never "-1级".
    page = client.get(f"/office/batches/{bid}", headers=o.headers).text
    assert "首席技师" in page and "Chief technician" in page and "-1级" not in page
    listing = client.get(f"/office/batches?iid={o.iid}", headers=o.headers).text
    assert "首席技师" in listing and "-1级" not in listing
    results = client.get(f"/api/v1/batches/{bid}/results.csv", headers=o.headers)
    assert results.status_code == 200, results.text
    lines = [row[0] for row in csv.reader(io.StringIO(results.content.decode("utf-8-sig"))) if row]
    title = next(x for x in lines if x.startswith("成绩汇总表"))
    assert "首席技师" in title and "-1级" not in title
    office_page = client.get(f"/office?iid={o.iid}", headers=o.headers).text
    assert "用人单位（企业）" in office_page and "5、4、3、2、1、首席技师" in office_page


def test_r_level_a_training_organisation_scope_with_tiers_is_refused_row_by_row(world, client, root):
    before = counts(world.engine)
    body = registration(
        "training_org",
        ("6-31-01-03", "电工", "5、学徒工"),
        ("4-03-02-01", "中式烹调师", "5、4"),
        ("6-18-01-01", "车工", ["3", "特级技师"]),
    )
    got = assert_refusal(
        client.post("/api/v1/institutions", headers=root, json=body), 422, "enterprise_tier_needs_enterprise", "R-LEVEL"
    )
    rows = [(v["code"], v["rule"], v["detail"]["row"], v["detail"]["level"]) for v in got["detail"]["violations"]]
    assert rows == [
        ("enterprise_tier_needs_enterprise", "R-LEVEL", 1, "学徒工"),
        ("enterprise_tier_needs_enterprise", "R-LEVEL", 3, "特级技师"),
    ]
    # Without a kind an institution is a training organisation: the same refusal.
    got = assert_refusal(
        client.post(
            "/api/v1/institutions", headers=root, json=registration(None, *[("6-31-01-03", "电工", "首席技师")])
        ),
        422,
        "enterprise_tier_needs_enterprise",
        "R-LEVEL",
    )
    # Numbers stay 1-5, for an enterprise too.
    bad = registration("enterprise", ("6-31-01-03", "电工", [5, -1]))
    assert_refusal(client.post("/api/v1/institutions", headers=root, json=bad), 422, "invalid_level", "R-LEVEL")
    assert_refusal(
        client.post("/api/v1/institutions", headers=root, json=registration("factory", ("6-31-01-03", "电工", "5"))),
        422,
        "invalid_institution_kind",
        "R-LEVEL",
    )
    assert counts(world.engine) == before


def test_r_level_a_tier_outside_the_enterprise_scope_is_refused(world, client, root):
    o = enterprise(world, client, root)  # scope: 5..1 and 首席技师, not 特级技师
    bid = ready(client, o, level=SPECIAL)
    before = counts(world.engine)
    got = assert_refusal(file(client, o, bid), 422, "plan_rejected", "R-PLAN-1")
    v = {x["code"]: x for x in got["detail"]["violations"]}
    assert set(v) == {"outside_scope"} and v["outside_scope"]["rule"] == "R-INST-3"
    assert "特级技师" in v["outside_scope"]["message"] and "0级" not in v["outside_scope"]["message"]
    assert counts(world.engine) == before and batch_row(world.engine, bid).status == "draft"


def test_r_level_only_an_enterprise_runs_a_tier(world, client, clock):
    o = office(world, clock)  # a training organisation whose scope is 5..1
    before = counts(world.engine)
    r = client.post("/api/v1/batches", json=plan_body(o, level=APPRENTICE), headers=o.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_batch"
    assert [e["code"] for e in r.json()["detail"]["errors"]] == ["enterprise_tier_needs_enterprise"]
    assert counts(world.engine) == before
    # A draft that reached a tier anyway (an institution's kind corrected since) does not file.
    bid = ready(client, o, level=5)
    with Session(world.engine) as db:
        b = db.get(Batch, bid)
        b.level = APPRENTICE
        db.add(b)
        scope = db.exec(select(ScopeEntry).where(ScopeEntry.institution_id == o.iid)).one()
        scope.levels = "6,5,4,3,2,1"
        db.add(scope)
        db.commit()
    got = assert_refusal(file(client, o, bid), 422, "plan_rejected", "R-PLAN-1")
    v = {x["code"]: x for x in got["detail"]["violations"]}
    assert set(v) == {"enterprise_tier_needs_enterprise"} and v["enterprise_tier_needs_enterprise"]["rule"] == "R-LEVEL"


def test_the_installation_administrator_changes_the_kind_on_the_audit_chain(world, client, root, clock):
    o = office(world, clock, uscc=OTHER_USCC)
    assert client.get(f"/api/v1/institutions/{o.iid}", headers=root).json()["kind"] == "training_org"
    # The institution's own admin may not.
    r = client.put(f"/api/v1/institutions/{o.iid}/kind", headers=o.headers, json={"kind": "enterprise"})
    assert r.status_code == 403
    r = client.put(
        f"/api/v1/institutions/{o.iid}/kind", headers=root, json={"kind": "enterprise", "reason": "营业执照"}
    )
    assert r.status_code == 200 and r.json()["kind"] == "enterprise"
    with Session(world.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "institution.kind")).one()
    assert json.loads(entry.diff) == {"kind": ["training_org", "enterprise"], "reason": "营业执照"}
    assert_refusal(
        client.put(f"/api/v1/institutions/{o.iid}/kind", headers=root, json={"kind": "guild"}),
        422,
        "invalid_institution_kind",
        "R-LEVEL",
    )

    e = enterprise(world, client, root)  # its scope lists 首席技师
    before = counts(world.engine)
    got = assert_refusal(
        client.put(f"/api/v1/institutions/{e.iid}/kind", headers=root, json={"kind": "school"}),
        409,
        "scope_has_enterprise_tiers",
        "R-LEVEL",
    )
    assert got["detail"]["tiers"] == ["首席技师"]
    assert counts(world.engine) == before
    with Session(world.engine) as db:
        assert db.get(Institution, e.iid).kind == "enterprise"
