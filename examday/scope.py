"""Who may see and act on what: an institution's own people act on its data;
the installation administrator on everything; a centre reads its province."""

from __future__ import annotations

from sqlmodel import Session

from examday.actor import Actor
from examday.errors import forbidden, not_found
from examday.registry.models import Institution


def can_read_institution(actor: Actor, inst: Institution) -> bool:
    if actor.is_installation_admin:
        return True
    if actor.role == "centre":
        from examday.registry.services.institutions import normalise_province

        # "吉林省" on the account and "吉林" on the institution are the same province.
        return normalise_province(actor.province) == normalise_province(inst.province)
    return actor.institution_id == inst.id


def institution_for_read(db: Session, actor: Actor, institution_id: int) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise not_found("institution")
    if not can_read_institution(actor, inst):
        raise forbidden("This institution is not yours to see.")
    return inst


def institution_for_write(db: Session, actor: Actor, institution_id: int) -> Institution:
    """Only the institution's own admin (or the installation administrator) changes its data."""
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise not_found("institution")
    if not (actor.is_installation_admin or (actor.role == "admin" and actor.institution_id == inst.id)):
        raise forbidden("Only this institution's exam office may change it.")
    return inst
