"""Database triggers that keep a locked batch's scores as they were sealed (封存).

R-SCORE-3 says nobody alters a score, R-AUDIT-1 that records are never
tampered with. The API refuses changes to a locked batch; these triggers make
the database refuse them too, for anyone who goes around the API:

- every scoring table with a ``batch_id``: INSERT, UPDATE and DELETE are
  refused (message ``locked``) when the batch is locked, before or after the
  update (a row cannot be moved into or out of a locked batch);
- ``score_entry`` and ``arbitration_step`` are append-only at all times: an
  UPDATE is refused (``append_only``) even before the lock (R-SCORE-2);
- ``batch_seal``: UPDATE and DELETE refused once its batch is locked (the seal
  is inserted in the lock's transaction before the batch's status flips);
- ``batch``: a locked batch row cannot be updated (unlocked, or its config —
  the pass mark — changed) or deleted;
- what the results and certificates rest on (finding 6 of issue #14): a
  locked batch's ``candidate`` rows (names, ID and ticket numbers; INSERT
  refused too, a new row would be a new line of the results), and its
  ``seat``, ``ticket``, ``checkin``, ``attendance``, ``certificate_issue`` and
  ``certificate`` rows refuse UPDATE and DELETE. INSERT stays open on those:
  certificates are issued after the lock, and a kiosk logs a refused scan of
  a locked batch's ticket (and completes that record's ``response``, the one
  check-in column left open). The centre's review (``batch_review``) and its
  receipt of the reported data (``report_receipt``) exist only for a locked
  batch, so for them this is append-only (R-CERT-1, R-PUB-2). Blobs and video segments carry no trigger, so the
  retention purge still stamps them purged (R-VIDEO-1, R-ARCH-1).

``install_lock_triggers`` is idempotent: it drops and recreates each trigger
in one transaction, so running it again also brings an older definition up
to date.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

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
# The candidate table is frozen like the scoring tables (INSERT, UPDATE and DELETE).
CANDIDATE_TABLE = "candidate"
# UPDATE and DELETE refused once the batch is locked; INSERT stays open.
KEPT_TABLES = ("seat", "checkin", "attendance", "certificate_issue", "certificate", "batch_review", "report_receipt")
# A check-in's every column but ``response``: the kiosk completes a refused offline record's answer with
# its conflict flag in the transaction that writes it (kiosk/services/checkin.py), also for a locked
# batch. The answer is what a replay of the nonce gets back, not a fact the results rest on.
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
# No batch_id of its own: its batch is its candidate's.
TICKET_TABLE = "ticket"

_LOCKED = "(SELECT status FROM batch WHERE id = {row}.batch_id) = 'locked'"
_CANDIDATE_LOCKED = (
    "(SELECT b.status FROM batch b JOIN candidate c ON c.batch_id = b.id WHERE c.id = {row}.candidate_id) = 'locked'"
)


def _sqlite_statements() -> list[str]:
    out: list[str] = []

    def trigger(name: str, when: str, table: str, condition: str, message: str) -> None:
        out.append(f"DROP TRIGGER IF EXISTS {name}")
        out.append(
            f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )

    for t in (*LOCKED_TABLES, CANDIDATE_TABLE):
        trigger(f"{t}_locked_ins", "INSERT", t, _LOCKED.format(row="NEW"), "locked")
    for t, locked in (
        *((t, _LOCKED) for t in (*LOCKED_TABLES, CANDIDATE_TABLE, *KEPT_TABLES)),
        (TICKET_TABLE, _CANDIDATE_LOCKED),
    ):
        when = f"UPDATE OF {', '.join(CHECKIN_KEPT_COLUMNS)}" if t == "checkin" else "UPDATE"
        trigger(f"{t}_locked_upd", when, t, f"{locked.format(row='OLD')} OR {locked.format(row='NEW')}", "locked")
        trigger(f"{t}_locked_del", "DELETE", t, locked.format(row="OLD"), "locked")
    for t in APPEND_ONLY:
        # Checked after the lock trigger's name sorts; either way the update is refused.
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


def lock_trigger_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return _sqlite_statements()
    if dialect == "postgresql":
        return _pg_statements()
    raise ValueError(f"no lock triggers for the {dialect} dialect")


def install_lock_triggers(engine: Engine) -> None:
    """Create (or recreate) the lock triggers; safe to run any number of times."""
    statements = lock_trigger_statements(engine.dialect.name)
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
