"""An institution's retention profile (保存期限配置), R-VIDEO-1: which province's periods its
records are kept for — Jilin keeps exam video 1 year, Sichuan 5 — or ``strict``, the longest
of every province.

The installation administrator or the province's centre chooses it
(:func:`examday.access.can_set_retention_profile`), never the institution's own office. A
profile is ``strict`` or the institution's own province's: a Sichuan institution on Jilin's
periods would purge its video after one year of the five its rules ask.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from examday import audit
from examday.access import can_set_retention_profile
from examday.actor import Actor
from examday.errors import Refusal, forbidden, not_found
from examday.registry.models import Institution
from examday.registry.provinces import normalise_province
from storage.retention import DEFAULT_PROFILE, PROFILES, RetentionClass

# The provinces with periods of their own (storage.retention's profile names).
PROVINCE_PROFILES = {"吉林": "jilin", "四川": "sichuan", "福建": "fujian"}


def allowed_profiles(inst: Institution) -> list[str]:
    own = PROVINCE_PROFILES.get(normalise_province(inst.province) or "")
    return [DEFAULT_PROFILE, *([own] if own else [])]


def profile_body(inst: Institution) -> dict[str, Any]:
    table = PROFILES.get(inst.profile, PROFILES[DEFAULT_PROFILE])
    return {
        "institution_id": inst.id,
        "profile": inst.profile,
        "allowed": allowed_profiles(inst),
        "years": {cls.value: table[cls] for cls in RetentionClass},  # None: kept permanently
    }


def set_profile(db: Session, actor: Actor, now: datetime, institution_id: int, profile: str) -> dict[str, Any]:
    """Choose the institution's retention profile (R-VIDEO-1), audited. The caller commits."""
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise not_found("institution")
    if not can_set_retention_profile(actor, inst):
        raise forbidden("Only the installation administrator or the province's centre chooses the retention profile.")
    allowed = allowed_profiles(inst)
    if profile not in allowed:
        raise Refusal(
            "profile_not_for_province",
            f"该机构只能选择以下保存期限配置：{'、'.join(allowed)}",
            f"This institution's retention profile is one of: {', '.join(allowed)}.",
            "R-VIDEO-1",
            422,
            {"allowed": allowed, "province": inst.province},
        )
    before = inst.profile
    if before != profile:
        inst.profile = profile
        db.add(inst)
        db.flush()
        audit.record(
            db,
            actor,
            "institution.retention_profile",
            "institution",
            inst.id,
            {"profile": [before, profile]},
            now,
            inst.id,
        )
    return profile_body(inst)
