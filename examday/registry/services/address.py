"""The exam site's address (考点地址) an institution's tickets print (issue #16).

Entered by the institution's exam office or the installation administrator (who may write an
institution is decided in :mod:`examday.access`), on the audit chain; blank clears it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from examday import audit
from examday.access import institution_for_write
from examday.actor import Actor
from examday.errors import Refusal
from examday.registry.models import Institution

MAX_ADDRESS = 300


def set_address(db: Session, actor: Actor, now: datetime, iid: int, address: str | None) -> Institution:
    """The caller commits."""
    inst = institution_for_write(db, actor, iid)
    text = " ".join((address or "").split()) or None
    if text is not None and len(text) > MAX_ADDRESS:
        raise Refusal(
            "address_too_long",
            f"地址不超过{MAX_ADDRESS}个字符",
            f"An address has at most {MAX_ADDRESS} characters.",
            None,
            422,
        )
    before = inst.address
    if text != before:
        inst.address = text
        db.add(inst)
        db.flush()
        audit.record(
            db, actor, "institution.address", "institution", inst.id, {"address": [before, text]}, now, inst.id
        )
    return inst
