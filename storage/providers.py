"""What the domain packages tell storage at start-up, so that storage imports none of them.

The purge and the holds must see domain facts: which video segments an
institution has, which cameras a held batch used and when, which retention
profile an institution chose, and where the audit chain is. storage registers
nothing by itself; each domain package has one ``register()`` that hands its
providers to the functions below, and :func:`examday.providers.register_all`
calls them all, once, before the application or a command line runs (as
pretix's data shredders are registered by the plugins that own the data).

Registering again replaces what was there, so calling ``register()`` twice is
harmless. Asking for a provider nobody registered is a programming error
(start-up was skipped), not a refusal: it raises :class:`NotRegistered`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.retention import RetentionClass

if TYPE_CHECKING:
    from storage.holds import HoldMatcher


class NotRegistered(RuntimeError):
    """No package registered this provider: ``examday.providers.register_all()`` did not run."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a :class:`RetentionSource`, as the purge decides on it."""

    id: int
    label: str
    path: str  # its file: a path under EXAMDAY_VIDEO_DIRS or an s3:// object (storage.video_files)
    state: str
    start: datetime  # when it was made: its retention runs from this day
    end: datetime
    channel: int  # what recorded it (a camera): a hold on the channel, or a window over it, covers it


class RetentionSource(Protocol):
    """Records of one kind kept under retention, and owned by a domain package.

    The purge reads them institution by institution, oldest first, and stamps
    the ones whose files it deleted; it never deletes a row.
    """

    kind: str
    retention_class: RetentionClass

    def due(self, engine: Engine, institution_id: int, before: datetime, chunk: int) -> Iterator[list[Record]]:
        """The institution's unpurged records made before ``before``, oldest first, ``chunk`` at a time."""
        ...

    def unpurged(self, db: Session, ids: Collection[int]) -> dict[int, int]:
        """Of ``ids``, those still there and not purged, with their institution."""
        ...

    def records(self, db: Session, institution_id: int, ids: Collection[int]) -> list[Record]:
        """The records ``ids`` of one institution, by id."""
        ...

    def mark_purged(self, db: Session, ids: Collection[int], now: datetime) -> None:
        """Stamp ``ids`` purged in ``db``'s transaction (the caller commits)."""
        ...


class HoldTarget(Protocol):
    """One type of object a legal hold may be placed on (``storage.holds.HOLD_OBJECT_TYPES``)."""

    def institution_of(self, db: Session, object_id: int) -> int | None:
        """The institution the object belongs to; :class:`LookupError` when there is no such object."""
        ...

    def cover(self, db: Session, object_id: int, matcher: HoldMatcher) -> None:
        """Add what a hold on the object keeps from the purge to ``matcher``."""
        ...


class InstitutionProfiles(Protocol):
    def __call__(self, db: Session, only: int | None = None) -> list[tuple[int, str | None]]:
        """``(institution id, retention profile)`` of every institution (or of ``only``), by id."""
        ...


class AuditSink(Protocol):
    def __call__(
        self,
        db: Session,
        action: str,
        object_type: str,
        object_id: Any,
        diff: dict[str, Any],
        now: datetime,
        institution_id: int | None,
    ) -> None:
        """Append one entry by the system to the audit chain, in ``db``'s transaction."""
        ...


_sources: dict[str, RetentionSource] = {}
_hold_targets: dict[str, HoldTarget] = {}
_single: dict[str, Callable[..., Any]] = {}


def register_source(source: RetentionSource) -> None:
    _sources[source.kind] = source


def register_hold_target(object_type: str, target: HoldTarget) -> None:
    _hold_targets[object_type] = target


def register_profiles(lookup: InstitutionProfiles) -> None:
    _single["profiles"] = lookup


def register_audit(sink: AuditSink) -> None:
    _single["audit"] = sink


def sources() -> list[RetentionSource]:
    """Every registered source, in the order they were registered."""
    return list(_sources.values())


def source(kind: str) -> RetentionSource:
    try:
        return _sources[kind]
    except KeyError:
        raise NotRegistered(f"no retention source for {kind!r}") from None


def hold_target(object_type: str) -> HoldTarget:
    try:
        return _hold_targets[object_type]
    except KeyError:
        raise NotRegistered(f"no hold target for {object_type!r}") from None


def profiles() -> InstitutionProfiles:
    return _get("profiles")


def audit() -> AuditSink:
    return _get("audit")


def _get(name: str) -> Any:
    try:
        return _single[name]
    except KeyError:
        raise NotRegistered(f"no {name} provider") from None
