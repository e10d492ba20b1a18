"""Separation of duties in accounts (issue #14, findings 1 and 2): the office cannot mint those
who check it, nor an account that signs as somebody else, nor re-key an examiner's PIN unseen.
R-STAFF-2, R-STAFF-3, R-STAFF-4, R-SCORE-1, R-RECUSE-1."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, func, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import create_account
from examday.actor import SYSTEM
from examday.audit import AuditEntry
from examday.errors import Refusal
from examday.registry.models import Staff
from tests import builders
from tests.support import OTHER_USCC, assert_refusal, bearer

EXAM_DAY = date(2026, 11, 26)


def counts(engine):
    with Session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(Account)).one(),
            db.exec(select(func.count()).select_from(AuditEntry)).one(),
        )


@pytest.fixture
def office(world, engine, clock):
    """An institution with its staff (builders.exam_world), its admin, and another institution."""
    with Session(engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, clock.now(), EXAM_DAY, n_candidates=2)
        other = builders.institution(db, clock.now(), uscc=OTHER_USCC)
        other_staff = builders.staff(db, other, n_proctors=1, n_examiners=1)
        inner = Staff(
            institution_id=w["institution"].id, name="吴静", id_number="11010519491231002X", roles="supervisor"
        )
        db.add(inner)
        db.commit()
    iid = w["institution"].id
    return {
        "iid": iid,
        "other": other.id,
        "examiners": [s.id for s in w["staff"]["examiner"]],
        "proctors": [s.id for s in w["staff"]["proctor"]],
        "inner_supervisor": inner.id,
        "other_examiner": other_staff["examiner"][0].id,
        "admin": bearer(world.token("office", "admin", iid)),
        "root": bearer(world.token("root", "admin")),
    }


def add(client, headers, **body):
    return client.post("/api/v1/accounts", headers=headers, json=body)


# Finding 1 (R-STAFF-4): the office minted a centre for its own province, which could then read
# the province's results and suspend or reinstate filings, its own included.
@pytest.mark.parametrize(
    "body",
    [
        {"role": "centre", "province": "吉林"},
        {"role": "centre", "province": "吉林", "institution": True},
        {"role": "admin"},  # an installation administrator
        {"role": "supervisor", "institution": True},  # external: the centre's, bound to no staff
    ],
    ids=["centre", "centre-in-institution", "installation-admin", "external-supervisor"],
)
def test_institution_admin_cannot_mint_those_who_check_it(world, client, office, body):
    body = dict(body)
    if body.pop("institution", False):
        body["institution_id"] = office["iid"]
    before = counts(world.engine)
    r = add(client, office["admin"], username="mine", **body)
    assert_refusal(r, 403, "installation_admin_only", "R-STAFF-4")
    assert counts(world.engine) == before  # a refusal changes nothing
    r = add(client, office["root"], username="theirs", **body)
    assert r.status_code == 201, r.text  # the installation administrator may


def test_office_creates_its_own_people_bound_to_matching_staff(client, office):
    made = [
        add(client, office["admin"], username="k1", role="kiosk", institution_id=office["iid"]),
        add(client, office["admin"], username="a2", role="admin", institution_id=office["iid"]),
        add(client, office["admin"], username="p1", role="proctor", institution_id=office["iid"]),
        add(
            client,
            office["admin"],
            username="p2",
            role="proctor",
            institution_id=office["iid"],
            staff_id=office["proctors"][0],
        ),
        add(
            client,
            office["admin"],
            username="e1",
            role="evaluator",
            institution_id=office["iid"],
            staff_id=office["examiners"][1],
        ),
        add(
            client,
            office["admin"],
            username="c1",
            role="chief",
            institution_id=office["iid"],
            staff_id=office["examiners"][0],
        ),
        add(
            client,
            office["admin"],
            username="s1",
            role="supervisor",
            institution_id=office["iid"],
            staff_id=office["inner_supervisor"],
        ),
    ]
    assert [r.status_code for r in made] == [201] * len(made), [r.text for r in made]


# Finding 2: the office signed scores as any examiner by binding an evaluator account to any staff
# member; an evaluator bound to nobody saw every colleague's entries (R-SCORE-1, R-RECUSE-1).
@pytest.mark.parametrize(
    "role, staff, status, code, rule",
    [
        ("evaluator", None, 422, "staff_required", "R-SCORE-1"),
        ("chief", None, 422, "staff_required", "R-SCORE-1"),
        ("evaluator", "proctor", 422, "staff_role_mismatch", "R-STAFF-2"),
        ("chief", "inner_supervisor", 422, "staff_role_mismatch", "R-STAFF-2"),
        ("proctor", "examiner", 422, "staff_role_mismatch", "R-STAFF-3"),
        ("supervisor", "examiner", 422, "staff_role_mismatch", "R-STAFF-2"),
        ("evaluator", "other_examiner", 422, "staff_not_in_institution", "R-STAFF-4"),
        ("evaluator", "nobody", 422, "staff_not_in_institution", "R-STAFF-4"),
        ("evaluator", "bound", 409, "staff_already_bound", "R-STAFF-4"),
        ("kiosk", "proctor", 422, "staff_not_for_role", "R-STAFF-4"),
    ],
)
def test_an_account_acts_only_as_its_own_free_staff_member_of_the_matching_role(
    world, client, office, role, staff, status, code, rule
):
    bound = office["examiners"][2]
    world.token("already", "evaluator", office["iid"], staff_id=bound)
    staff_id = {
        None: None,
        "proctor": office["proctors"][0],
        "examiner": office["examiners"][1],
        "inner_supervisor": office["inner_supervisor"],
        "other_examiner": office["other_examiner"],
        "nobody": 99999,
        "bound": bound,
    }[staff]
    before = counts(world.engine)
    r = add(client, office["admin"], username="x", role=role, institution_id=office["iid"], staff_id=staff_id)
    body = assert_refusal(r, status, code, rule)
    assert body["message"] != body["message_en"]
    assert counts(world.engine) == before


def test_a_staff_member_is_free_again_once_their_account_is_inactive(world, client, office, engine):
    sid = office["examiners"][1]
    world.token("old", "evaluator", office["iid"], staff_id=sid)
    with Session(engine) as db:
        acc = db.exec(select(Account).where(Account.username == "old")).one()
        acc.active = False
        db.add(acc)
        db.commit()
    r = add(client, office["admin"], username="new", role="evaluator", institution_id=office["iid"], staff_id=sid)
    assert r.status_code == 201, r.text


def test_the_operator_at_the_command_line_is_held_to_the_same_binding(app, engine, clock, office):
    # `examday account add` creates any account as SYSTEM, through this same service (examday/cli.py).
    with Session(engine) as db:
        for role, staff_id, code in [
            ("evaluator", None, "staff_required"),
            ("evaluator", office["other_examiner"], "staff_not_in_institution"),
            ("proctor", office["examiners"][0], "staff_role_mismatch"),
        ]:
            with pytest.raises(Refusal) as refused:
                create_account(db, SYSTEM, clock.now(), app.state.passwords, "cli", role, office["iid"], None, staff_id)
            assert refused.value.code == code
        centre = create_account(db, SYSTEM, clock.now(), app.state.passwords, "centre-jl", "centre", None, "吉林")
        assert centre.id is not None  # the operator may still make any kind of account


# R-SCORE-1: changing a PIN takes the old one; the office can only clear it, in the open.
def test_changing_a_pin_takes_the_old_one(world, client, office):
    tok = bearer(
        world.token("e1", "evaluator", office["iid"], staff_id=office["examiners"][1], password="pin-tablet-e1-2026")
    )
    assert client.post("/api/v1/me/pin", headers=tok, json={"pin": "1357"}).status_code == 200  # the first: no old
    before = counts(world.engine)
    assert_refusal(
        client.post("/api/v1/me/pin", headers=tok, json={"pin": "2468"}), 422, "old_pin_required", "R-SCORE-1"
    )
    assert_refusal(
        client.post("/api/v1/me/pin", headers=tok, json={"pin": "2468", "old_pin": "0000"}),
        403,
        "old_pin_wrong",
        "R-SCORE-1",
    )
    assert counts(world.engine) == before
    r = client.post("/api/v1/me/pin", headers=tok, json={"pin": "2468", "old_pin": "1357"})
    assert r.status_code == 200, r.text


def test_guessing_the_old_pin_locks_like_guessing_at_signing(world, client, office):
    tok = bearer(world.token("e1", "evaluator", office["iid"], staff_id=office["examiners"][1]))
    client.post("/api/v1/me/pin", headers=tok, json={"pin": "1357"})
    codes = [
        client.post("/api/v1/me/pin", headers=tok, json={"pin": "2468", "old_pin": f"{n:04d}"}).json()["code"]
        for n in range(6)
    ]
    assert codes == ["old_pin_wrong"] * 4 + ["pin_locked"] * 2, codes
    r = client.post("/api/v1/me/pin", headers=tok, json={"pin": "2468", "old_pin": "1357"})
    assert r.status_code == 429, r.text  # locked: even the right old PIN waits


def test_the_office_resets_a_pin_on_the_record_and_the_examiner_sees_it(world, client, office, engine):
    tok = bearer(world.token("e1", "evaluator", office["iid"], staff_id=office["examiners"][1]))
    client.post("/api/v1/me/pin", headers=tok, json={"pin": "1357"})
    with Session(engine) as db:
        aid = db.exec(select(Account.id).where(Account.username == "e1")).one()
    stranger = bearer(world.token("their-office", "admin", office["other"]))
    assert_refusal(client.post(f"/api/v1/accounts/{aid}/pin-reset", headers=stranger), 403, "forbidden")
    kiosk_id = add(client, office["admin"], username="k1", role="kiosk", institution_id=office["iid"]).json()["id"]
    assert_refusal(
        client.post(f"/api/v1/accounts/{kiosk_id}/pin-reset", headers=office["admin"]),
        422,
        "no_pin_to_reset",
        "R-SCORE-1",
    )
    r = client.post(f"/api/v1/accounts/{aid}/pin-reset", headers=office["admin"])
    assert r.status_code == 200 and r.json()["pin_set"] is False, r.text
    with Session(engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "account.pin_reset")).one()
    assert entry.username == "office" and entry.object_id == str(aid)
    home = client.get("/evaluate", headers=tok)
    assert "签名密码已被重置" in home.text and "office" in home.text
    assert client.post("/api/v1/me/pin", headers=tok, json={"pin": "8642"}).status_code == 200  # a new one, no old


def test_the_pin_page_asks_for_the_old_pin(world, client, office):
    tok = bearer(world.token("e1", "evaluator", office["iid"], staff_id=office["examiners"][1]))
    assert 'name="old_pin"' not in client.get("/evaluate/pin", headers=tok).text  # nothing to give yet
    r = client.post("/evaluate/pin/set", headers=tok, data={"pin": "1357", "pin_again": "1357"})
    assert r.status_code == 200 and "PIN set" in r.text
    assert 'name="old_pin"' in client.get("/evaluate/pin", headers=tok).text
    r = client.post("/evaluate/pin/set", headers=tok, data={"pin": "2468", "pin_again": "2468"})
    assert r.status_code == 422 and "原签名密码" in r.text
    r = client.post("/evaluate/pin/set", headers=tok, data={"old_pin": "1357", "pin": "2468", "pin_again": "2468"})
    assert r.status_code == 200 and "PIN set" in r.text


def test_the_chief_sees_a_panel_members_pin_reset(client, world, engine, clock):
    from tests.integration.scoring.scoring_world import build

    sw = build(client, world, engine, clock)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    with Session(engine) as db:
        aid = db.exec(select(Account.id).where(Account.username == "examiner1")).one()
    assert client.post(f"/api/v1/accounts/{aid}/pin-reset", headers=sw.admin).status_code == 200
    page = client.get(f"/evaluate/{sw.batch_id}/results", headers=sw.scorer(0))
    assert page.status_code == 200 and "签名密码重置" in page.text and "examiner1" in page.text


def test_an_evaluator_account_bound_to_nobody_from_before_sees_no_colleagues_entries(client, world, engine, clock):
    # Accounts made before the binding was enforced may still be bound to nobody (R-SCORE-1, R-RECUSE-1).
    from examday.accounts.services.accounts import issue_token
    from tests.integration.scoring.scoring_world import build

    sw = build(client, world, engine, clock)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    assert sw.enter(1, sw.candidates[0], 70).status_code == 201
    with Session(engine, expire_on_commit=False) as db:
        legacy = Account(username="legacy", role="evaluator", institution_id=sw.institution_id, created_at=clock.now())
        db.add(legacy)
        db.flush()
        token = issue_token(db, legacy, clock.now(), by=SYSTEM)
        db.commit()
    r = client.get(f"/api/v1/batches/{sw.batch_id}/scores", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert all(not p["entries"] for c in r.json()["candidates"] for p in c["parts"].values())


def test_examday_account_add_binds_staff_as_the_office_must(tmp_path):
    # The operator's command line makes any kind of account, through the same binding checks.
    from examday.registry.models import Institution
    from storage.db import make_engine
    from tests.integration.examday.test_cli import run
    from tests.support import DEMO_USCC

    assert run(["account", "add", "root", "--role", "admin"], tmp_path).returncode == 0
    eng = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with Session(eng) as db:
        inst = Institution(name="示范职业技能评价中心", uscc=DEMO_USCC, province="吉林", created_at=datetime.now(UTC))
        db.add(inst)
        db.flush()
        examiner = Staff(institution_id=inst.id, name="陈志强", id_number="11010519491231002X", roles="examiner")
        proctor = Staff(institution_id=inst.id, name="王建国", id_number="11010519491231002X", roles="proctor")
        db.add_all([examiner, proctor])
        db.commit()
        ids = {"examiner": str(examiner.id), "proctor": str(proctor.id)}
    eng.dispose()
    add = ["account", "add", "e1", "--role", "evaluator", "--institution", DEMO_USCC]
    r = run(add, tmp_path)
    assert r.returncode == 2 and "staff_required" in r.stderr and "R-SCORE-1" in r.stderr
    r = run([*add, "--staff", ids["proctor"]], tmp_path)
    assert r.returncode == 2 and "staff_role_mismatch" in r.stderr
    assert run([*add, "--staff", ids["examiner"]], tmp_path).returncode == 0
    assert run(["account", "add", "centre-jl", "--role", "centre", "--province", "吉林"], tmp_path).returncode == 0
