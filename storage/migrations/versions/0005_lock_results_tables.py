"""lock results tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 06:35:00.000000

Finding 6 of issue #14 (R-SCORE-3, R-AUDIT-1): once a batch is locked, the
database refuses changes to what its results and certificates rest on — the
candidates (names, ID and ticket numbers), seats, tickets, check-ins,
attendance and certificates — not only to its scores. The seal records the
version of the payload it signs; seals made before this revision are v1.

The DDL below is a frozen copy of scoring.ddl as of this revision: a
migration must build the same database whatever scoring.ddl becomes later.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


LOCKED_TABLES = (
    "rubric",
    "rubric_item",
    "panel",
    "panel_member",
    "score_entry",
    "part_score",
    "arbitration_step",
    "theory_import",
    "publicity",
    "objection",
)
APPEND_ONLY = ("score_entry", "arbitration_step")
SEAL_TABLE = "batch_seal"
CANDIDATE_TABLE = "candidate"
KEPT_TABLES = ("seat", "checkin", "attendance", "certificate_issue", "certificate")
CHECKIN_KEPT_COLUMNS = (
    "id",
    "batch_id",
    "session_id",
    "candidate_id",
    "ticket_number",
    "kiosk_account_id",
    "kiosk_nonce",
    "status",
    "code",
    "rule",
    "at",
    "scanned_at",
    "offline",
    "via",
    "room_id",
    "seat_no",
    "late",
    "photo_blob_id",
    "http_status",
)
TICKET_TABLE = "ticket"
NEW_TABLES = (CANDIDATE_TABLE, *KEPT_TABLES, TICKET_TABLE)

_LOCKED = "(SELECT status FROM batch WHERE id = {row}.batch_id) = 'locked'"
_CANDIDATE_LOCKED = (
    "(SELECT b.status FROM batch b JOIN candidate c ON c.batch_id = b.id WHERE c.id = {row}.candidate_id) = 'locked'"
)


def _sqlite_statements(results_tables: bool) -> list[str]:
    out: list[str] = []

    def trigger(name: str, when: str, table: str, condition: str, message: str) -> None:
        out.append(f"DROP TRIGGER IF EXISTS {name}")
        out.append(
            f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )

    frozen = (CANDIDATE_TABLE,) if results_tables else ()
    kept = KEPT_TABLES if results_tables else ()
    for t in (*LOCKED_TABLES, *frozen):
        trigger(f"{t}_locked_ins", "INSERT", t, _LOCKED.format(row="NEW"), "locked")
    pairs = [(t, _LOCKED) for t in (*LOCKED_TABLES, *frozen, *kept)]
    if results_tables:
        pairs.append((TICKET_TABLE, _CANDIDATE_LOCKED))
    for t, locked in pairs:
        when = f"UPDATE OF {', '.join(CHECKIN_KEPT_COLUMNS)}" if t == "checkin" else "UPDATE"
        trigger(f"{t}_locked_upd", when, t, f"{locked.format(row='OLD')} OR {locked.format(row='NEW')}", "locked")
        trigger(f"{t}_locked_del", "DELETE", t, locked.format(row="OLD"), "locked")
    for t in APPEND_ONLY:
        trigger(f"{t}_append_only", "UPDATE", t, "1", "append_only")
    trigger(f"{SEAL_TABLE}_locked_upd", "UPDATE", SEAL_TABLE, _LOCKED.format(row="OLD"), "locked")
    trigger(f"{SEAL_TABLE}_locked_del", "DELETE", SEAL_TABLE, _LOCKED.format(row="OLD"), "locked")
    trigger("batch_locked_upd", "UPDATE", "batch", "OLD.status = 'locked'", "locked")
    trigger("batch_locked_del", "DELETE", "batch", "OLD.status = 'locked'", "locked")
    return out


_PG_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION examday_refuse_if_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND
     (SELECT status FROM batch WHERE id = OLD.batch_id) = 'locked' THEN
    RAISE EXCEPTION 'locked' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND
     (SELECT status FROM batch WHERE id = NEW.batch_id) = 'locked' THEN
    RAISE EXCEPTION 'locked' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$""",
    """
CREATE OR REPLACE FUNCTION examday_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append_only' USING ERRCODE = 'integrity_constraint_violation';
END $$""",
    """
CREATE OR REPLACE FUNCTION examday_refuse_if_candidate_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT b.status FROM batch b JOIN candidate c ON c.batch_id = b.id WHERE c.id = OLD.candidate_id) = 'locked'
     OR (TG_OP = 'UPDATE' AND
         (SELECT b.status FROM batch b JOIN candidate c ON c.batch_id = b.id WHERE c.id = NEW.candidate_id) = 'locked')
  THEN
    RAISE EXCEPTION 'locked' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$""",
    """
CREATE OR REPLACE FUNCTION examday_refuse_locked_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'locked' THEN
    RAISE EXCEPTION 'locked' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$""",
]


def _pg_statements() -> list[str]:
    out = [f.strip() for f in _PG_FUNCTIONS]

    def trigger(name: str, events: str, table: str, function: str) -> None:
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        out.append(f"CREATE TRIGGER {name} BEFORE {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()")

    for t in (*LOCKED_TABLES, CANDIDATE_TABLE):
        trigger(f"{t}_locked", "INSERT OR UPDATE OR DELETE", t, "examday_refuse_if_locked")
    for t in KEPT_TABLES:
        update = f"UPDATE OF {', '.join(CHECKIN_KEPT_COLUMNS)}" if t == "checkin" else "UPDATE"
        trigger(f"{t}_locked", f"{update} OR DELETE", t, "examday_refuse_if_locked")
    trigger(f"{TICKET_TABLE}_locked", "UPDATE OR DELETE", TICKET_TABLE, "examday_refuse_if_candidate_locked")
    for t in APPEND_ONLY:
        trigger(f"{t}_append_only", "UPDATE", t, "examday_refuse_update")
    trigger(f"{SEAL_TABLE}_locked", "UPDATE OR DELETE", SEAL_TABLE, "examday_refuse_if_locked")
    trigger("batch_locked", "UPDATE OR DELETE", "batch", "examday_refuse_locked_batch")
    return out


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): on SQLite a table copy would drop batch_seal's triggers.
    op.add_column(
        "batch_seal",
        sa.Column(
            "version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="examday-seal/v1"
        ),
    )
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_statements(True) if dialect == "sqlite" else _pg_statements():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for t in NEW_TABLES:
            for when in ("ins", "upd", "del"):
                op.execute(f"DROP TRIGGER IF EXISTS {t}_locked_{when}")
    else:
        for t in NEW_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_locked ON {t}")
        op.execute("DROP FUNCTION IF EXISTS examday_refuse_if_candidate_locked()")
    with op.batch_alter_table("batch_seal", schema=None) as batch_op:
        batch_op.drop_column("version")
    if dialect == "sqlite":
        # The column's removal may copy the table, and its triggers go with the copy.
        for statement in _sqlite_statements(False):
            op.execute(statement)
