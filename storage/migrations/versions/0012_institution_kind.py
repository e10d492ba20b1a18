"""institution kind

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:40:00.000000

Issue #15 (R-LEVEL): an institution is an enterprise (用人单位/企业), a social
training and evaluation organisation (社会培训评价组织) or a technical school
(技工院校). Only an enterprise may add 学徒工, 特级技师 and 首席技师 to its levels.
Institutions registered before this revision were evaluation organisations:
they read as ``training_org``.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "institution",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="training_org"),
    )


def downgrade() -> None:
    op.drop_column("institution", "kind")
