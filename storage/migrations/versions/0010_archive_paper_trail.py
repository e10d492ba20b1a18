"""archive paper trail

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:35:00.000000

Issue #15, the paper trail (R-ARCH-1, R-DAY-3, R-SCORE-2): an archived document carries
its retention class and what it is of (``ref``), one per batch, kind and ref; its content
type may be a spreadsheet's, longer than 40 characters.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archiveddocument", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "retention_class",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default="key_documents",
            )
        )
        batch_op.add_column(sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.alter_column(
            "content_type",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
            type_=sqlmodel.sql.sqltypes.AutoString(length=100),
            existing_nullable=False,
        )
        batch_op.create_unique_constraint("uq_archiveddocument_ref", ["batch_id", "kind", "ref"])
    with op.batch_alter_table("archiveddocument", schema=None) as batch_op:
        batch_op.alter_column("retention_class", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("archiveddocument", schema=None) as batch_op:
        batch_op.drop_constraint("uq_archiveddocument_ref", type_="unique")
        batch_op.alter_column(
            "content_type",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=100),
            type_=sqlmodel.sql.sqltypes.AutoString(length=40),
            existing_nullable=False,
        )
        batch_op.drop_column("ref")
        batch_op.drop_column("retention_class")
