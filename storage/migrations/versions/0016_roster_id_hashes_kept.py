"""roster id hashes kept

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:01:55.292089

Issue #18, R-PRIV-1: the offline roster's slow ID hashes (kiosk/idhash.py) are made once for
the installation and kept in ``rosteridhash``, instead of once per server process in memory.
The table starts empty: the next roster of each batch makes its hashes, as a restart did before.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rosteridhash",
        sa.Column("candidate_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("made_with", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("salt", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.PrimaryKeyConstraint("candidate_id"),
    )


def downgrade() -> None:
    op.drop_table("rosteridhash")
