"""skill sittings and printed tickets

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06 08:45:00.000000

Issue #15 (R-SEAT-1): a skill room's workstations are drawn once per sitting, so
a seat names its sitting (``seat.sitting``, 0 where everyone sits together) and
the unique key of a station holds per sitting; a ticket records when it was
last drawn for printing (``ticket.printed_at``): once tickets are out, the
batch's seats are frozen and only recorded moves change them.

The seat table's unique key changes, which on SQLite copies the table and
drops its lock triggers (R-SCORE-3); they are put back below, a frozen copy of
scoring.ddl's for that table.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_LOCKED = "(SELECT status FROM batch WHERE id = {row}.batch_id) = 'locked'"
_SQLITE_SEAT_TRIGGERS = [
    "DROP TRIGGER IF EXISTS seat_locked_upd",
    "CREATE TRIGGER seat_locked_upd BEFORE UPDATE ON seat FOR EACH ROW WHEN "
    f"{_LOCKED.format(row='OLD')} OR {_LOCKED.format(row='NEW')} BEGIN SELECT RAISE(ABORT, 'locked'); END",
    "DROP TRIGGER IF EXISTS seat_locked_del",
    "CREATE TRIGGER seat_locked_del BEFORE DELETE ON seat FOR EACH ROW WHEN "
    f"{_LOCKED.format(row='OLD')} BEGIN SELECT RAISE(ABORT, 'locked'); END",
]
_CANDIDATE_LOCKED = (
    "(SELECT b.status FROM batch b JOIN candidate c ON c.batch_id = b.id WHERE c.id = {row}.candidate_id) = 'locked'"
)
_SQLITE_TICKET_TRIGGERS = [
    "DROP TRIGGER IF EXISTS ticket_locked_upd",
    "CREATE TRIGGER ticket_locked_upd BEFORE UPDATE ON ticket FOR EACH ROW WHEN "
    f"{_CANDIDATE_LOCKED.format(row='OLD')} OR {_CANDIDATE_LOCKED.format(row='NEW')} "
    "BEGIN SELECT RAISE(ABORT, 'locked'); END",
    "DROP TRIGGER IF EXISTS ticket_locked_del",
    "CREATE TRIGGER ticket_locked_del BEFORE DELETE ON ticket FOR EACH ROW WHEN "
    f"{_CANDIDATE_LOCKED.format(row='OLD')} BEGIN SELECT RAISE(ABORT, 'locked'); END",
]
_OLD_KEY = ("batch_id", "part", "room_id", "seat_no")
_NEW_KEY = ("batch_id", "part", "sitting", "room_id", "seat_no")


def _seat_as_it_was() -> sa.Table:
    """The seat table of 0002 without its station key, for SQLite's table copy."""
    return sa.Table(
        "seat",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("part", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("seat_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "part", "candidate_id"),
        sa.Index("ix_seat_batch_id", "batch_id"),
        sa.Index("ix_seat_candidate_id", "candidate_id"),
    )


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy), so the ticket table keeps its lock triggers on SQLite.
    op.add_column("ticket", sa.Column("printed_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    sitting = sa.Column("sitting", sa.Integer(), nullable=False, server_default="0")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("seat", recreate="always", copy_from=_seat_as_it_was()) as batch_op:
            batch_op.add_column(sitting)
            batch_op.create_unique_constraint("uq_seat_station_sitting", list(_NEW_KEY))
        for statement in _SQLITE_SEAT_TRIGGERS:
            op.execute(statement)
    else:
        op.add_column("seat", sitting)
        op.drop_constraint("seat_batch_id_part_room_id_seat_no_key", "seat", type_="unique")
        op.create_unique_constraint("seat_batch_id_part_sitting_room_id_seat_no_key", "seat", list(_NEW_KEY))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        table = _seat_as_it_was()
        table.append_column(sa.Column("sitting", sa.Integer(), nullable=False, server_default="0"))
        table.append_constraint(sa.UniqueConstraint(*_NEW_KEY, name="uq_seat_station_sitting"))
        with op.batch_alter_table("seat", recreate="always", copy_from=table) as batch_op:
            batch_op.drop_constraint("uq_seat_station_sitting", type_="unique")
            batch_op.drop_column("sitting")
            batch_op.create_unique_constraint("uq_seat_station", list(_OLD_KEY))
        for statement in _SQLITE_SEAT_TRIGGERS:
            op.execute(statement)
    else:
        op.drop_constraint("seat_batch_id_part_sitting_room_id_seat_no_key", "seat", type_="unique")
        op.create_unique_constraint("seat_batch_id_part_room_id_seat_no_key", "seat", list(_OLD_KEY))
        op.drop_column("seat", "sitting")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("printed_at")
    if op.get_bind().dialect.name == "sqlite":
        # The column's removal may copy the table, and its triggers go with the copy.
        for statement in _SQLITE_TICKET_TRIGGERS:
            op.execute(statement)
