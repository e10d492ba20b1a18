"""Which parts of a candidate are already scored: a reading port onto scoring, for check-in.

R-DAY-1: an offline check-in record is believed only while the exam is still being run. Once
an examiner has signed a score for a candidate's part (评分), or a theory score was imported,
a synced record claiming that candidate for that part's session would rewrite the past the
scores rest on, so check-in refuses it. Scoring's tables are scoring's and kiosk may not import
scoring: scoring registers a :class:`ScoreReader` at start-up (``scoring.providers.register``).
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session


class ScoreReader(Protocol):
    def scored_parts(self, db: Session, candidate_id: int) -> frozenset[str]: ...


_reader: list[ScoreReader] = []


def provide(reader: ScoreReader) -> None:
    """Scoring's registration; again replaces."""
    _reader[:] = [reader]


def scored_parts(db: Session, candidate_id: int) -> frozenset[str]:
    """The parts (``theory``, ``skill`` ...) of the candidate with a signed entry or a settled score."""
    if not _reader:
        raise RuntimeError("no score reader registered: examday.providers.register_all() did not run")
    return _reader[0].scored_parts(db, candidate_id)
