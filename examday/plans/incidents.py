"""What the exam-room record says happened to a candidate: a reading port onto proctor's incidents.

R-DISC-1: an incident's tier decides the candidate's result — (a) that part's score is void,
(b) that part is treated as cheating, (c) every part of the sitting is void. Incidents are
proctor's tables and scoring may not import proctor: proctor registers an
:class:`IncidentReader` at start-up (``examday.providers``); scoring and the centre's list read
through :func:`incidents`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlmodel import Session


class IncidentFact(NamedTuple):
    """One incident as results need it: which parts it voids, and whether it is cheating."""

    id: int
    batch_id: int
    candidate_id: int
    session_id: int
    part: str
    kind: str
    tier: str  # a | b | c
    voided_parts: tuple[str, ...]
    cheating: bool
    at: datetime


class IncidentReader(Protocol):
    def incidents(self, db: Session, batch_ids: Collection[int]) -> list[IncidentFact]: ...


_reader: list[IncidentReader] = []


def provide(reader: IncidentReader) -> None:
    """Proctor's registration; again replaces."""
    _reader[:] = [reader]


def incidents(db: Session, batch_ids: Collection[int]) -> list[IncidentFact]:
    """The incidents recorded in these batches, oldest first."""
    if not _reader:
        raise RuntimeError("no incident reader registered: examday.providers.register_all() did not run")
    return _reader[0].incidents(db, batch_ids)
