"""recorder keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:40:00.000000

Finding 3 of issue #14 (R-AUDIT-1, R-VIDEO-1): a recorder key per institution,
so one institution's recorder cannot sign hooks for another's cameras. The
secrets are derived from the installation's secret key, never stored.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recorderkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kid"),
    )
    with op.batch_alter_table("recorderkey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recorderkey_institution_id"), ["institution_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recorderkey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recorderkey_institution_id"))
    op.drop_table("recorderkey")
