"""A whole exam world for scoring tests, built with tests/builders.py, with
accounts for the exam office, the five examiners (the first is the chief) and
their signing PINs; every step after that goes through the HTTP API."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import actor_of
from examday.plans.models import Batch
from examday.registry.models import Staff
from scoring.models import Panel, TheoryImport
from tests import builders
from tests.support import bearer

# The day before the clock fixture's Thursday: the exam was sat yesterday and is scored this
# morning, so every session has started and everyone admitted may be scored (R-SCORE-1, R-ID-1).
EXAM_DAY = date(2026, 11, 25)
PIN = "246810"
SKILL_RUBRIC = [
    {"code": "A1", "title": "安全操作", "max_points": 40},
    {"code": "A2", "title": "接线工艺", "max_points": 35},
    {"code": "A3", "title": "通电试验", "max_points": 25},
]


def items_for(total: float) -> dict[str, float]:
    """Points on the skill rubric adding up to ``total`` (0..100), one decimal."""
    a1 = min(40.0, total)
    a2 = min(35.0, round(total - a1, 1))
    a3 = round(total - a1 - a2, 1)
    return {"A1": a1, "A2": a2, "A3": a3}


@dataclass
class ScoringWorld:
    client: Any
    world: Any
    engine: Any
    batch_id: int
    institution_id: int
    candidates: list[int]
    tickets: list[str]
    examiners: list[int]
    admin: dict[str, str]
    tokens: dict[int, str] = field(default_factory=dict)
    centre: dict[str, str] = field(default_factory=dict)

    def scorer(self, i: int) -> dict[str, str]:
        return bearer(self.tokens[self.examiners[i]])

    def rubric(self, part: str = "skill", items: list[dict] | None = None):
        return self.client.put(
            f"/api/v1/batches/{self.batch_id}/rubrics/{part}", json={"items": items or SKILL_RUBRIC}, headers=self.admin
        )

    def panel(self, part: str = "skill", members: list[int] | None = None, chief: int | None = None):
        members = self.examiners[:3] if members is None else members
        return self.client.post(
            f"/api/v1/batches/{self.batch_id}/panels",
            json={"part": part, "examiner_ids": members, "chief_id": self.examiners[0] if chief is None else chief},
            headers=self.admin,
        )

    def enter(
        self,
        i: int,
        candidate: int,
        total: float | None = None,
        part: str = "skill",
        items: dict | None = None,
        pin: str = PIN,
    ):
        body = {
            "batch_id": self.batch_id,
            "candidate_id": candidate,
            "part": part,
            "items": items if items is not None else items_for(total),
            "pin": pin,
        }
        return self.client.post("/api/v1/score-entries", json=body, headers=self.scorer(i))

    def import_theory(
        self, rows: list[tuple[str, str]] | None = None, text: str | None = None, reason: str | None = None
    ):
        """The office imports a theory file: a draft version until the chief countersigns it."""
        if text is None:
            rows = rows if rows is not None else [(t, "80") for t in self.tickets]
            text = "ticket_number,score\n" + "".join(f"{t},{s}\n" for t, s in rows)
        return self.client.post(
            f"/api/v1/batches/{self.batch_id}/theory-scores",
            files={"file": ("theory.csv", io.BytesIO(text.encode("utf-8")), "text/csv")},
            data={"reason": reason} if reason is not None else None,
            headers=self.admin,
        )

    def countersign(self, import_id: int, i: int = 0, pin: str = PIN):
        """The chief (examiner ``i``) countersigns a theory version with the PIN (R-SCORE-3, R-PANEL-1)."""
        return self.client.post(
            f"/api/v1/batches/{self.batch_id}/theory-imports/{import_id}/countersign",
            json={"pin": pin},
            headers=self.scorer(i),
        )

    def theory(self, rows: list[tuple[str, str]] | None = None, text: str | None = None, reason: str | None = None):
        """Import and have the chief countersign: the theory scores as the exam system gave them.

        Before that there must be a chief: without a panel, the skill panel is set. A version
        after a countersigned one is a correction and names a reason (one is made up here)."""
        with Session(self.engine) as db:
            has_panel = db.exec(select(Panel.id).where(Panel.batch_id == self.batch_id)).first() is not None
            correcting = (
                db.exec(
                    select(TheoryImport.id).where(
                        TheoryImport.batch_id == self.batch_id, TheoryImport.state == "signed"
                    )
                ).first()
                is not None
            )
        if not has_panel and self.batch_status() == "filed":
            self.rubric()
            self.panel()
        r = self.import_theory(rows, text, reason if reason is not None or not correcting else "考试系统重新导出")
        if r.status_code == 201:
            signed = self.countersign(r.json()["import_id"])
            assert signed.status_code == 200, signed.text
        return r

    def scores(self, headers: dict[str, str] | None = None) -> dict:
        r = self.client.get(f"/api/v1/batches/{self.batch_id}/scores", headers=headers or self.admin)
        assert r.status_code == 200, r.text
        return r.json()

    def part(self, candidate: int, part: str = "skill", headers: dict[str, str] | None = None) -> dict:
        for c in self.scores(headers)["candidates"]:
            if c["id"] == candidate:
                return c["parts"][part]
        raise KeyError(candidate)

    def score_all_skill(self, totals: tuple[float, ...] = (80, 82, 84)) -> None:
        for cand in self.candidates:
            for i, t in enumerate(totals):
                r = self.enter(i, cand, t)
                assert r.status_code == 201, r.text

    def ready_for_publicity(self) -> None:
        """Rubric, panel of three, every skill score in, theory imported."""
        assert self.rubric().status_code == 200
        assert self.panel().status_code == 201
        self.score_all_skill()
        assert self.theory().status_code == 201

    def publish(self) -> dict:
        r = self.client.post(f"/api/v1/batches/{self.batch_id}/publicity", headers=self.admin)
        assert r.status_code == 201, r.text
        return r.json()

    def lock(self):
        return self.client.post(f"/api/v1/batches/{self.batch_id}/lock", headers=self.admin)

    def review(self, decision: str = "approve", reasons: list[str] | None = None):
        """The centre of the institution's province (吉林) reviews the locked batch (复核, R-CERT-1)."""
        if not self.centre:
            self.centre = bearer(self.world.token("centre-review", "centre", None, province="吉林"))
        body = {"decision": decision, "reasons": reasons or []}
        return self.client.post(f"/api/v1/batches/{self.batch_id}/review", json=body, headers=self.centre)

    def approve(self) -> dict:
        """The centre approves the locked batch: certificates may follow (R-CERT-1)."""
        r = self.review("approve")
        assert r.status_code == 201, r.text
        return r.json()

    def sit(self, candidates: list[int] | None = None, parts: tuple[str, ...] | None = None) -> None:
        """Admit candidates (all by default) to their sessions of these parts (all by default), as the door would."""
        with Session(self.engine, expire_on_commit=False) as db:
            office = db.exec(select(Account).where(Account.username == "office")).one()
            builders.admit(db, actor_of(office), self.batch_id, candidates, parts)

    def batch_status(self) -> str:
        with Session(self.engine) as db:
            return db.get(Batch, self.batch_id).status

    def update_staff(self, staff_id: int, **values: Any) -> None:
        with Session(self.engine) as db:
            s = db.get(Staff, staff_id)
            for k, v in values.items():
                setattr(s, k, v)
            db.add(s)
            db.commit()


def build(
    client,
    world,
    engine,
    clock,
    n_candidates: int = 4,
    level: int = 4,
    exam_day: date = EXAM_DAY,
    config: str | None = None,
    pins: bool = True,
    admit: bool = True,
) -> ScoringWorld:
    with Session(engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, clock.now(), exam_day, n_candidates=n_candidates, level=level)
        if config is not None:
            b = db.get(Batch, w["batch"].id)
            b.config = config
            db.add(b)
            db.commit()
        sw = ScoringWorld(
            client=client,
            world=world,
            engine=engine,
            batch_id=w["batch"].id,
            institution_id=w["institution"].id,
            candidates=[c.id for c in w["candidates"]],
            tickets=[c.ticket_number for c in w["candidates"]],
            examiners=[s.id for s in w["staff"]["examiner"]],
            admin={},
        )
    sw.admin = bearer(world.token("office", "admin", sw.institution_id))
    for i, sid in enumerate(sw.examiners):
        role = "chief" if i == 0 else "evaluator"
        sw.tokens[sid] = world.token(f"examiner{i}", role, sw.institution_id, staff_id=sid)
        if pins:
            r = client.post("/api/v1/me/pin", json={"pin": PIN}, headers=bearer(sw.tokens[sid]))
            assert r.status_code == 200, r.text
    if admit:
        sw.sit()
    return sw
