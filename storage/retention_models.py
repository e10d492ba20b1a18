"""Tables of retention (档案保存): the purge's intents and the archive of key documents.

R-ARCH-1: the key documents are kept permanently as files with their hashes;
``ArchivedDocument`` says what each archived blob is and which batch it
belongs to. R-VIDEO-1, R-ARCH-1: a purge that stops half-way must leave
nothing the next run cannot settle; ``PurgeIntent`` is the note it writes
(and commits) before it deletes a file, and removes once the row says purged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class PurgeIntent(SQLModel, table=True):
    """A record the purge is about to delete (待清理): written before its file goes."""

    __table_args__ = (UniqueConstraint("kind", "object_id", name="uq_purgeintent_object"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # segment | blob
    object_id: int
    run_at: datetime = Field(sa_type=UTCDateTime)


class ArchivedDocument(SQLModel, table=True):
    """A document of a batch's paper trail (存档材料), kept for its retention class: the key
    documents permanently (R-ARCH-1), a results export as an electronic record, a scan as paper.

    ``ref`` names what an automatic document is of (``session:3:room:7``, ``lock``): one
    document per batch, kind and ref, so archiving the same thing again finds the first;
    an upload has none (NULLs are distinct in a unique key, on SQLite and PostgreSQL).
    """

    __table_args__ = (UniqueConstraint("batch_id", "kind", "ref", name="uq_archiveddocument_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    blob_id: int = Field(foreign_key="blob.id", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    kind: str = Field(max_length=30)
    filename: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=100)
    retention_class: str = Field(default="key_documents", max_length=40)
    ref: str | None = Field(default=None, max_length=80)
    archived_at: datetime = Field(sa_type=UTCDateTime)
    archived_by: int | None = None  # account id; None for the system
    archived_by_name: str = Field(default="", max_length=100)
