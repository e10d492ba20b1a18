"""The centre's work for its home page (评价中心首页): a reading port onto scoring (issue #16).

R-CERT-1, R-PUB-2: the centre's day is the locked batches awaiting its review and the reported
data it is owed within 30 working days of the certificates' issue date. Both are scoring's (the
review and the packages received); examday's home page may not import scoring, so scoring
registers a :class:`CentreWorkReader` at start-up (``scoring.providers.register``) that answers
from the same services as ``/centre/reviews`` and ``/centre/reports``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from examday.actor import Actor


class CentreWorkReader(Protocol):
    def centre_work(self, db: Session, actor: Actor, now: datetime) -> dict[str, Any]: ...


_reader: list[CentreWorkReader] = []


def provide(reader: CentreWorkReader) -> None:
    """Scoring's registration; again replaces."""
    _reader[:] = [reader]


def centre_work(db: Session, actor: Actor, now: datetime) -> dict[str, Any]:
    """What the signed-in centre has to do, scoped to its province (examday.access)."""
    if not _reader:
        raise RuntimeError("no centre work reader registered: examday.providers.register_all() did not run")
    return _reader[0].centre_work(db, actor, now)
