"""Filing status services (备案状态): suspend (暂停评价活动), revoke (撤销备案), reinstate, renew (延续).

R-INST-2: suspension, revocation and reinstatement belong to the filing
authority (the province's centre or the installation administrator); an
institution's own admin records its renewal (the new 备案回执), a new 3-year
filing inside the 90-day window. Every change is on the audit chain.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from examday import audit
from examday.access import is_filing_authority
from examday.actor import Actor
from examday.errors import Refusal, conflict, forbidden, not_found
from examday.glossary import TERMS
from examday.registry import rules
from examday.registry.models import Filing, Institution
from examday.registry.services.institutions import filings_of, today_of

# -- filing status -------------------------------------------------------------

ACTIONS = ("suspend", "revoke", "reinstate", "renew")
_ALLOWED_FROM = {
    "suspend": ("active", "not_yet_valid"),
    "revoke": ("active", "suspended", "not_yet_valid"),
    "reinstate": ("suspended",),
}
_NEW_STATUS = {"suspend": "suspended", "revoke": "revoked", "reinstate": "active"}
ACTION_ZH = {"suspend": "暂停", "revoke": "撤销", "reinstate": "恢复", "renew": "延续"}
STATE_ZH = {code: words[0] for code, words in TERMS["filing_state"].items()}  # the one glossary (issue #16)


def change_filing(
    db: Session,
    actor: Actor,
    now: datetime,
    iid: int,
    action: str,
    reason: str | None = None,
    number: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Filing:
    """Suspend (暂停评价活动), revoke (撤销备案), reinstate, or renew (延续) — R-INST-2. The caller commits."""
    inst = db.get(Institution, iid)
    if inst is None:
        raise not_found("institution")
    if action not in ACTIONS:
        raise Refusal(
            "invalid_filing_action",
            "操作须为暂停、撤销、恢复或延续",
            "The action is suspend, revoke, reinstate or renew.",
            "R-INST-2",
            422,
            {"action": action},
        )
    own_admin = actor.role == "admin" and actor.institution_id == inst.id
    if not (is_filing_authority(actor, inst) or (action == "renew" and own_admin)):
        raise forbidden(
            "Only the filing authority (centre of the province or installation administrator) "
            "may do this; an institution's admin may only record its renewal."
        )
    today = today_of(now)
    filings = filings_of(db, iid)
    st = rules.standing(filings, today)
    if action == "renew":
        rules.check(rules.renewal_violations(st, today, number, valid_from, valid_until))
        # renewal_violations refuses a renewal without its number or either date
        assert number is not None and valid_from is not None and valid_until is not None
        new = Filing(
            institution_id=iid,
            number=number.strip(),
            valid_from=valid_from,
            valid_until=valid_until,
            status="active",
            created_at=now,
        )
        db.add(new)
        db.flush()
        audit.record(
            db,
            actor,
            "filing.renew",
            "filing",
            new.id,
            {"number": new.number, "valid_from": valid_from, "valid_until": valid_until, "renews": st.filing.id},
            now,
            iid,
        )
        return new
    reason = (reason or "").strip()
    if action in ("suspend", "revoke") and not reason:
        raise Refusal(
            "reason_required", "暂停或撤销备案须说明原因", "Suspending or revoking a filing needs a reason.", "R-INST-2"
        )
    if st.state not in _ALLOWED_FROM[action]:
        code = {"none": "no_filing", "active": "filing_not_suspended"}.get(st.state, f"filing_{st.state}")
        raise conflict(
            code,
            f"备案当前状态为“{STATE_ZH.get(st.state, st.state)}”，不能{ACTION_ZH[action]}",
            f"The filing is {st.state}; it cannot be {action}d.",
            "R-INST-2",
            state=st.state,
        )
    before = st.filing.status
    # The governing filing and any renewal after it share the institution's fate.
    touched = [f for f in filings if f.valid_until >= today]
    for f in touched:
        f.status = _NEW_STATUS[action]
        db.add(f)
    db.flush()
    audit.record(
        db,
        actor,
        f"filing.{action}",
        "filing",
        st.filing.id,
        {"status": [before, _NEW_STATUS[action]], "reason": reason or None, "filings": [f.id for f in touched]},
        now,
        iid,
    )
    return st.filing
