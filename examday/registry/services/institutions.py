"""Institution services: create an institution (机构) with its filing (备案) and
scope (认定范围), list what the caller may see, change its kind. Changes of the
filing's status (suspend, revoke, reinstate, renew) are in ``filings``.

Rules: R-INST-1 and R-FMT-USCC (the USCC checks; only the installation
administrator may record an override, with a reason, on the audit chain),
R-INST-2 (3-year filings, renewal inside the 90-day window, suspension and
revocation by the filing authority), R-INST-3 (scope), R-LEVEL.

Who acts: the installation administrator on every institution; a provincial
centre (the filing authority, 省级职业技能鉴定中心) creates institutions of its
province and suspends, revokes or reinstates their filings; an institution's
own admin records its renewal (the new 备案回执) and nothing else here.

An institution's kind (R-LEVEL) — enterprise (用人单位/企业), training_org
(社会培训评价组织) or school (技工院校) — is given when it is registered and
changed by the installation administrator only, on the audit chain; only an
enterprise's scope may list 学徒工, 特级技师 and 首席技师.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from examday import audit
from examday import levels as lv
from examday.access import can_change_institution_kind, institution_for_read, same_province, visible_institution_ids
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import Refusal, conflict, forbidden, not_found
from examday.identity import validate_uscc
from examday.registry import rules
from examday.registry.models import Filing, Institution, ScopeEntry
from examday.registry.provinces import normalise_province


def _same_province(actor: Actor, province: str) -> bool:
    return actor.role == "centre" and same_province(actor.province, province)


def today_of(now: datetime) -> date:
    return now.astimezone(CST).date()


# -- reading -------------------------------------------------------------------


def filings_of(db: Session, iid: int) -> list[Filing]:
    return list(db.exec(select(Filing).where(Filing.institution_id == iid).order_by(col(Filing.valid_from))).all())


def scope_rows(db: Session, iid: int) -> list[ScopeEntry]:
    return list(db.exec(select(ScopeEntry).where(ScopeEntry.institution_id == iid).order_by(col(ScopeEntry.id))).all())


def current_standing(db: Session, iid: int, today: date) -> rules.Standing:
    """R-INST-2: the filing that governs ``today`` (plan filing asks ``.may_run_exams``)."""
    return rules.standing(filings_of(db, iid), today)


def filing_view(f: Filing | None, today: date) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "id": f.id,
        "number": f.number,
        "valid_from": f.valid_from.isoformat(),
        "valid_until": f.valid_until.isoformat(),
        "status": f.status,
        "state": rules.filing_state(f.status, f.valid_from, f.valid_until, today),
    }


def summary(inst: Institution, st: rules.Standing, today: date) -> dict[str, Any]:
    return {
        "id": inst.id,
        "name": inst.name,
        "uscc": inst.uscc,
        "province": inst.province,
        "kind": inst.kind,
        "kind_zh": rules.KIND_ZH.get(inst.kind, inst.kind),
        "uscc_override": inst.uscc_override_reason is not None,
        "filing_state": st.state,
        "filing": filing_view(st.filing, today),
        "renewal": {"renewal_window": st.renewal_window, "days_left": st.days_left},
    }


def institution_view(db: Session, inst: Institution, today: date) -> dict[str, Any]:
    assert inst.id is not None
    from examday.registry.services.rooms import site_readiness
    from examday.registry.services.staff import full_time_staff_count

    st = rules.standing(filings_of(db, inst.id), today)
    body = summary(inst, st, today)
    problems = site_readiness(db, inst.id) + rules.staff_count_violations(full_time_staff_count(db, inst.id))
    warnings = [v.as_dict() for v in problems]
    if st.renewal_window:
        until = st.filing.valid_until.isoformat()
        warnings.insert(
            0,
            {
                "code": "renewal_window",
                "rule": "R-INST-2",
                "message": f"备案将于{until}到期（剩余{st.days_left}天），请在到期前申请延续",
                "message_en": f"The filing expires on {until} ({st.days_left} days left): apply for renewal now.",
                "detail": {"renewal_window": True, "days_left": st.days_left, "valid_until": until},
            },
        )
    body.update(
        {
            "profile": inst.profile,
            "uscc_override_reason": inst.uscc_override_reason,
            "created_at": iso(inst.created_at),
            "may_run_exams": st.may_run_exams,
            "next_filing": filing_view(st.next_filing, today),
            "filings": [filing_view(f, today) for f in filings_of(db, inst.id)],
            "scope": [
                {
                    "id": s.id,
                    "occupation_code": s.occupation_code,
                    "occupation_name": s.occupation_name,
                    "work_type": s.work_type,
                    "levels": rules.stored_levels(s.levels),
                    "levels_label": lv.levels_label(rules.stored_levels(s.levels)),
                }
                for s in scope_rows(db, inst.id)
            ],
            "warnings": warnings,
        }
    )
    return body


def list_institutions(db: Session, actor: Actor) -> list[Institution]:
    """Installation administrator: all; centre: its province; everyone else: their own (examday.access)."""
    q = select(Institution).order_by(col(Institution.id))
    ids = visible_institution_ids(db, actor)
    if ids is None:
        return list(db.exec(q).all())
    return list(db.exec(q.where(col(Institution.id).in_(ids))).all()) if ids else []


def get_institution(db: Session, actor: Actor, iid: int) -> Institution:
    return institution_for_read(db, actor, iid)


# -- creating ------------------------------------------------------------------


def _checked_uscc(actor: Actor, text: str, override_reason: str | None) -> tuple[str, str | None]:
    reason = (override_reason or "").strip() or None
    try:
        return validate_uscc(text), None
    except Refusal as r:
        # R-FMT-USCC: only a wrong check character may be overridden, only by the
        # installation administrator, only with a reason (audited by the caller).
        if r.detail.get("reason") != "bad_check_character" or reason is None:
            r.detail.setdefault("override", "installation administrator only, with uscc_override_reason")
            raise
        if not actor.is_installation_admin:
            raise Refusal(
                "forbidden",
                "只有系统管理员可以登记未通过校验的统一社会信用代码",
                "Only the installation administrator may record a USCC that fails its check.",
                "R-FMT-USCC",
                403,
            ) from None
        if len(reason) > 500:
            raise Refusal(
                "override_reason_too_long", "说明不超过500字", "The reason is at most 500 characters.", "R-FMT-USCC"
            ) from None
        return unicodedata.normalize("NFKC", text).strip().upper(), reason


def create_institution(
    db: Session,
    actor: Actor,
    now: datetime,
    name: str,
    uscc: str,
    province: str,
    filing: dict[str, Any],
    scope: list[dict[str, Any]],
    uscc_override_reason: str | None = None,
    kind: str = "training_org",
) -> Institution:
    """One transaction: the institution, its filing and its scope. The caller commits.

    R-LEVEL: ``kind`` decides whether the scope may list the enterprise tiers.
    """
    if not (actor.is_installation_admin or actor.role == "centre"):
        raise forbidden("Only the installation administrator or a provincial centre creates institutions.")
    prov = normalise_province(province)
    if prov is None:
        raise Refusal(
            "invalid_province",
            "省份无效",
            "Name a province of mainland China (e.g. 吉林).",
            "R-INST-1",
            422,
            {"province": province},
        )
    if actor.role == "centre" and not _same_province(actor, prov):
        raise forbidden("A centre creates institutions of its own province only.")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise Refusal("invalid_name", "机构名称须为1至200字", "The institution's name is 1-200 characters.", "R-INST-1")
    _check_kind(kind)
    code, override = _checked_uscc(actor, uscc, uscc_override_reason)
    problems = rules.filing_violations(
        filing.get("number"), filing.get("valid_from"), filing.get("valid_until"), filing.get("status") or "active"
    )
    problems += rules.scope_row_violations(scope, kind)
    rules.check(problems)
    if db.exec(select(Institution).where(Institution.uscc == code)).first() is not None:
        raise conflict(
            "uscc_taken",
            "该统一社会信用代码的机构已存在",
            "An institution with this USCC exists.",
            "R-INST-1",
            uscc=code,
        )
    inst = Institution(name=name, uscc=code, province=prov, uscc_override_reason=override, kind=kind, created_at=now)
    db.add(inst)
    try:
        db.flush()
    except IntegrityError:  # a concurrent request took the code first
        db.rollback()
        raise conflict(
            "uscc_taken",
            "该统一社会信用代码的机构已存在",
            "An institution with this USCC exists.",
            "R-INST-1",
            uscc=code,
        ) from None
    assert inst.id is not None  # flushed: the database gave it an id
    f = Filing(
        institution_id=inst.id,
        number=filing["number"].strip(),
        valid_from=filing["valid_from"],
        valid_until=filing["valid_until"],
        status=filing.get("status") or "active",
        created_at=now,
    )
    db.add(f)
    rows = []
    for s in scope:
        row = ScopeEntry(
            institution_id=inst.id,
            occupation_code=s["occupation_code"].strip(),
            occupation_name=s["occupation_name"].strip(),
            work_type=(s.get("work_type") or "").strip() or None,
            levels=rules.levels_text(rules.parse_levels(s["levels"], enterprise=kind == "enterprise")),
        )
        db.add(row)
        rows.append(row)
    db.flush()
    audit.record(
        db,
        actor,
        "institution.create",
        "institution",
        inst.id,
        {
            "name": name,
            "uscc": code,
            "province": prov,
            "kind": kind,
            "filing": {
                "number": f.number,
                "valid_from": f.valid_from,
                "valid_until": f.valid_until,
                "status": f.status,
            },
            "scope": [
                {
                    "occupation_code": r.occupation_code,
                    "occupation_name": r.occupation_name,
                    "work_type": r.work_type,
                    "levels": r.levels,
                }
                for r in rows
            ],
        },
        now,
        inst.id,
    )
    if override is not None:
        audit.record(
            db,
            actor,
            "institution.uscc_override",
            "institution",
            inst.id,
            {"uscc": code, "reason": override},
            now,
            inst.id,
        )
    return inst


# -- kind (R-LEVEL) ------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in rules.INSTITUTION_KINDS:
        raise Refusal(
            "invalid_institution_kind",
            "机构类型须为用人单位（企业）、社会培训评价组织或技工院校",
            "An institution's kind is enterprise, training_org or school.",
            "R-LEVEL",
            422,
            {"kind": kind, "kinds": list(rules.INSTITUTION_KINDS)},
        )


def change_kind(
    db: Session, actor: Actor, now: datetime, iid: int, kind: str, reason: str | None = None
) -> Institution:
    """The installation administrator corrects an institution's kind (R-LEVEL). The caller commits.

    An institution whose scope lists 学徒工, 特级技师 or 首席技师 stays an enterprise:
    its scope would no longer be one it may hold (``scope_has_enterprise_tiers``).
    """
    if not can_change_institution_kind(actor):
        raise forbidden("Only the installation administrator changes an institution's kind.")
    inst = db.get(Institution, iid)
    if inst is None:
        raise not_found("institution")
    _check_kind(kind)
    before = inst.kind
    if kind == before:
        return inst
    tiers = sorted(
        {
            lv.level_name(x)[0]
            for s in scope_rows(db, iid)
            for x in rules.stored_levels(s.levels)
            if lv.is_enterprise_tier(x)
        }
    )
    if kind != "enterprise" and tiers:
        raise conflict(
            "scope_has_enterprise_tiers",
            f"该机构的备案范围含企业自设等级（{'、'.join(tiers)}），只能是用人单位（企业）",
            f"This institution's scope lists enterprise tiers ({', '.join(tiers)}): it stays an enterprise.",
            "R-LEVEL",
            tiers=tiers,
        )
    inst.kind = kind
    db.add(inst)
    db.flush()
    audit.record(
        db,
        actor,
        "institution.kind",
        "institution",
        iid,
        {"kind": [before, kind], "reason": (reason or "").strip() or None},
        now,
        iid,
    )
    return inst
