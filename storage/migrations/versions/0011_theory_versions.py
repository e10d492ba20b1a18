"""theory versions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:00:00.000000

Issue #15 (R-SCORE-3, R-PANEL-1): a theory import is a version, signed by the office
account that imports it and countersigned by the panel's chief with the signing PIN before
it becomes the scores; a later version before publicity is a correction with a reason and
the per-candidate changes. Imports made before this revision became the scores as they
came in: they read as ``signed`` version 1, with no countersignature.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("theory_import", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("theory_import", sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    op.add_column(
        "theory_import",
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, server_default="signed"),
    )
    op.add_column("theory_import", sa.Column("countersigned_by", sa.Integer(), nullable=True))
    op.add_column("theory_import", sa.Column("countersigned_staff_id", sa.Integer(), nullable=True))
    op.add_column(
        "theory_import", sa.Column("countersigned_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("theory_import", sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
    op.add_column(
        "theory_import",
        sa.Column("changes", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    for column in (
        "changes",
        "signature",
        "countersigned_at",
        "countersigned_staff_id",
        "countersigned_by",
        "state",
        "reason",
        "version",
    ):
        op.drop_column("theory_import", column)
