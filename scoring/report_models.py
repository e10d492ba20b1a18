"""The tables of the report to the evaluation centre (数据上报, R-PUB-2, issue #17).

On a centre's installation: the institutions' public keys it registered (``ReportKey``), the
report tokens it issued to institutions (``ReportToken``), the packages it received or refused
(``ReceivedReport``) and the audit checkpoints those packages carried (``ReceivedCheckpoint``).
On an institution's installation: the state of each batch's push to its centre (``ReportPush``).
An installation may be both; the tables do not mix (the centre's name institutions by USCC).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class ReportKey(SQLModel, table=True):
    """An institution's public key as the centre registered it (登记公钥); retired on rotation."""

    __tablename__ = "report_key"
    __table_args__ = (UniqueConstraint("uscc", "kid", name="uq_report_key_uscc_kid"),)
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, index=True)
    name: str = Field(default="", max_length=200)
    province: str = Field(max_length=40)
    kid: str = Field(max_length=64, index=True)
    public_key: str = Field(max_length=100)  # raw Ed25519, base64
    registered_at: datetime = Field(sa_type=UTCDateTime)
    registered_by: int | None = None
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReportToken(SQLModel, table=True):
    """A token the centre issued to one institution, for pushing its packages (上报令牌)."""

    __tablename__ = "report_token"
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = None
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReceivedReport(SQLModel, table=True):
    """A package the centre verified (``accepted``) or refused with its reason code."""

    __tablename__ = "received_report"
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(default="", max_length=18, index=True)
    batch_ref: int | None = None  # the batch's id on the institution's installation
    sha256: str = Field(max_length=64, index=True)
    size: int
    status: str = Field(max_length=20)  # accepted | refused
    code: str | None = Field(default=None, max_length=60)
    manifest: str = Field(default="{}")  # the manifest as received (JSON), when it could be read
    blob_key: str | None = Field(default=None, max_length=200)
    issue_date: str | None = Field(default=None, max_length=10)
    received_at: datetime = Field(sa_type=UTCDateTime)
    received_by: int | None = None
    via: str = Field(default="api", max_length=20)  # api | token | cli


class ReceivedCheckpoint(SQLModel, table=True):
    """An institution's signed audit checkpoint, as the centre keeps it (R-AUDIT-1)."""

    __tablename__ = "received_checkpoint"
    __table_args__ = (UniqueConstraint("uscc", "seq", "hash", "reason", name="uq_received_checkpoint"),)
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, index=True)
    # Issue #18: v1 signed the installation's single chain, v2 the institution's own; a sequence
    # number is compared only with checkpoints of the same chain.
    version: str = Field(
        default="examday-checkpoint/v1", max_length=40, sa_column_kwargs={"server_default": "examday-checkpoint/v1"}
    )
    seq: int
    hash: str = Field(max_length=64)
    at: str = Field(max_length=40)
    reason: str = Field(max_length=20)
    kid: str = Field(max_length=64)
    signature: str = Field(max_length=200)
    received_at: datetime = Field(sa_type=UTCDateTime)


class ReportPush(SQLModel, table=True):
    """The push of one batch's package to the centre: not sent, sent, acknowledged, refused."""

    __tablename__ = "report_push"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", unique=True)
    state: str = Field(default="pending", max_length=20)  # pending | sent | acknowledged | refused
    attempts: int = 0
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    code: str | None = Field(default=None, max_length=60)
    sha256: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
