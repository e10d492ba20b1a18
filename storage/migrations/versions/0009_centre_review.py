"""centre review

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:45:00.000000

Issue #15 (R-CERT-1, R-PUB-2): the centre reviews (复核) a locked batch before any
certificate number is issued — ``batch_review``, one row per decision (approve, or
return with reasons) — and marks the reported score and certificate data received —
``report_receipt``. Both exist only for a locked batch and are kept like the
certificates: UPDATE and DELETE refused once the batch is locked (a frozen copy of
scoring.ddl's triggers for these two tables).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("batch_review", "report_receipt")
_LOCKED = "(SELECT status FROM batch WHERE id = {row}.batch_id) = 'locked'"


def _sqlite_statements() -> list[str]:
    out: list[str] = []
    for t in TABLES:
        out.append(f"DROP TRIGGER IF EXISTS {t}_locked_upd")
        out.append(
            f"CREATE TRIGGER {t}_locked_upd BEFORE UPDATE ON {t} FOR EACH ROW WHEN "
            f"{_LOCKED.format(row='OLD')} OR {_LOCKED.format(row='NEW')} BEGIN SELECT RAISE(ABORT, 'locked'); END"
        )
        out.append(f"DROP TRIGGER IF EXISTS {t}_locked_del")
        out.append(
            f"CREATE TRIGGER {t}_locked_del BEFORE DELETE ON {t} FOR EACH ROW WHEN "
            f"{_LOCKED.format(row='OLD')} BEGIN SELECT RAISE(ABORT, 'locked'); END"
        )
    return out


def _pg_statements() -> list[str]:
    # examday_refuse_if_locked() was created by 0003 and brought up to date by 0005.
    out: list[str] = []
    for t in TABLES:
        out.append(f"DROP TRIGGER IF EXISTS {t}_locked ON {t}")
        out.append(
            f"CREATE TRIGGER {t}_locked BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW "
            "EXECUTE FUNCTION examday_refuse_if_locked()"
        )
    return out


def upgrade() -> None:
    op.create_table(
        "batch_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("reasons", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("batch_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_review_batch_id"), ["batch_id"], unique=False)
    op.create_table(
        "report_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id"),
    )
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_statements() if dialect == "sqlite" else _pg_statements():
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("report_receipt")  # its triggers go with it
    with op.batch_alter_table("batch_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_review_batch_id"))
    op.drop_table("batch_review")
