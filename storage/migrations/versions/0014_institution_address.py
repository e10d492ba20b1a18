"""institution address

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:30:00.000000

Issue #16: the admission ticket prints the exam site's address (考点地址). The registry held no
address; an institution's is entered on the installation administrator's or the office's page.
Institutions registered before this revision have none, and their tickets print no address line.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("institution", sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("institution", "address")
