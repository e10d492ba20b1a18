"""report to the centre

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:59:59.783600

Issue #17 (R-PUB-2, R-AUDIT-1): the report to the evaluation centre. On an institution's
installation, its signed audit checkpoints (``audit_checkpoint``) and the state of each batch's
push (``report_push``); on a centre's, the institutions' registered public keys
(``report_key``), the report tokens it issued (``report_token``), the packages it received or
refused (``received_report``) and the checkpoints they carried (``received_checkpoint``).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uscc", "seq", "hash", "reason", name="uq_received_checkpoint"),
    )
    with op.batch_alter_table("received_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_checkpoint_uscc"), ["uscc"], unique=False)

    op.create_table(
        "received_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("batch_ref", sa.Integer(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("manifest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("blob_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("issue_date", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.Integer(), nullable=True),
        sa.Column("via", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("received_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_report_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_received_report_uscc"), ["uscc"], unique=False)

    op.create_table(
        "report_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("province", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("registered_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=True),
        sa.Column("retired_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uscc", "kid", name="uq_report_key_uscc_kid"),
    )
    with op.batch_alter_table("report_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_key_kid"), ["kid"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_key_uscc"), ["uscc"], unique=False)

    op.create_table(
        "report_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("report_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_token_uscc"), ["uscc"], unique=False)

    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_institution_id"), ["institution_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_seq"), ["seq"], unique=False)

    op.create_table(
        "report_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("acknowledged_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id"),
    )


def downgrade() -> None:
    op.drop_table("report_push")
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_seq"))
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_institution_id"))

    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("report_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_token_uscc"))

    op.drop_table("report_token")
    with op.batch_alter_table("report_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_key_uscc"))
        batch_op.drop_index(batch_op.f("ix_report_key_kid"))

    op.drop_table("report_key")
    with op.batch_alter_table("received_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_report_uscc"))
        batch_op.drop_index(batch_op.f("ix_received_report_sha256"))

    op.drop_table("received_report")
    with op.batch_alter_table("received_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_checkpoint_uscc"))

    op.drop_table("received_checkpoint")
