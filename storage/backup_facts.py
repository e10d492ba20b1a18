"""What a backup's manifest states about its database, read the same way when the backup is
made and when it is checked (issue #19): the rows of every table, the audit chains' heads
(sequence and hash of each: one chain per institution and the installation's, issue #18), the schema revision, the blobs and video segments it refers to and the
institutions' public signing keys.

Plain SQL on one connection: at backup time the connection reads the snapshot itself (the
SQLite copy, or the PostgreSQL transaction whose snapshot ``pg_dump`` shares), so the facts
and the dumped data are the same moment. storage imports nothing of examday: the table names
below are the database's, not the models'.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

AUDIT_HEAD = "audithead"
BLOBS = "blob"
SEGMENTS = "segment"
TICKET_KEYS = "ticketkey"
VERSION_TABLE = "alembic_version"


def table_names(conn: Connection) -> list[str]:
    return sorted(inspect(conn).get_table_names())


def row_counts(conn: Connection) -> dict[str, int]:
    """Every table's rows, the migrations' own bookkeeping table aside."""
    return {
        t: int(conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one())
        for t in table_names(conn)
        if t != VERSION_TABLE
    }


def revision(conn: Connection) -> str | None:
    if VERSION_TABLE not in table_names(conn):
        return None
    rows = [r[0] for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]
    return ",".join(sorted(rows)) or None


def _chain_key(conn: Connection) -> tuple[str, int]:
    """The head's key column and the installation chain's key: ``id`` = 1 before migration 0015
    (the single chain), ``chain`` = 0 since."""
    columns = {c["name"] for c in inspect(conn).get_columns(AUDIT_HEAD)}
    return ("chain", 0) if "chain" in columns else ("id", 1)


def audit_head(conn: Connection) -> dict[str, Any] | None:
    """The installation chain's last sequence number and hash (R-AUDIT-1) — before issue #18 the
    only chain — None on a database without one."""
    if AUDIT_HEAD not in table_names(conn):
        return None
    key, installation = _chain_key(conn)
    row = conn.execute(text(f"SELECT seq, hash FROM {AUDIT_HEAD} WHERE {key} = :k"), {"k": installation}).first()
    return {"seq": int(row[0]), "hash": str(row[1])} if row else {"seq": 0, "hash": None}


def audit_heads(conn: Connection) -> dict[str, dict[str, Any]] | None:
    """Every chain's head by chain ("0": the installation's, else the institution's id), None on a
    database without them. A database before migration 0015 has the one chain, named "0"."""
    if AUDIT_HEAD not in table_names(conn):
        return None
    key, installation = _chain_key(conn)
    rows = conn.execute(text(f"SELECT {key}, seq, hash FROM {AUDIT_HEAD} ORDER BY {key}")).all()
    return {str(0 if k == installation else k): {"seq": int(s), "hash": str(h)} for k, s, h in rows}


def live_blobs(conn: Connection) -> list[dict[str, Any]]:
    """The blobs the database refers to and has not purged: key, SHA-256, size."""
    if BLOBS not in table_names(conn):
        return []
    rows = conn.execute(
        text(f"SELECT DISTINCT key, sha256, size FROM {BLOBS} WHERE purged_at IS NULL ORDER BY key")
    ).all()
    return [{"key": str(k), "sha256": str(h), "size": int(s)} for k, h, s in rows]


def video_segments(conn: Connection) -> list[dict[str, Any]]:
    """The recorded segments not purged, by reference: where the file is and its checksum."""
    if SEGMENTS not in table_names(conn):
        return []
    rows = conn.execute(
        text(
            f"SELECT id, camera_id, path, sha256, bytes, state, started_at, ended_at FROM {SEGMENTS}"
            " WHERE purged_at IS NULL AND path <> '' ORDER BY id"
        )
    ).all()
    return [
        {
            "id": int(i),
            "camera_id": int(cam),
            "path": str(p),
            "sha256": h,
            "size": None if n is None else int(n),
            "state": str(st),
            "started_at": str(a),
            "ended_at": None if b is None else str(b),
        }
        for i, cam, p, h, n, st, a, b in rows
    ]


def public_keys(conn: Connection) -> list[dict[str, Any]]:
    """The institutions' Ed25519 public keys, which check the admission tickets and the locked
    batches' seals (the private halves stay in the database dump, never in this list)."""
    if TICKET_KEYS not in table_names(conn):
        return []
    rows = conn.execute(
        text(f"SELECT kid, institution_id, public_key, created_at, revoked_at FROM {TICKET_KEYS} ORDER BY id")
    ).all()
    return [
        {
            "kid": str(k),
            "institution_id": int(i),
            "public_key": str(p),
            "created_at": str(c),
            "revoked_at": None if r is None else str(r),
        }
        for k, i, p, c, r in rows
    ]


def has_data(conn: Connection) -> bool:
    """True when any table holds a row: an installation in use, not a fresh one."""
    return any(
        conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() is not None
        for t in table_names(conn)
        if t != VERSION_TABLE
    )


def schema_fingerprint(conn: Connection) -> list[tuple[str, ...]]:
    """The schema as the database lists it, to tell whether a failed upgrade left anything behind."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name"))
    else:
        rows = conn.execute(
            text(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
                " WHERE table_schema = current_schema() ORDER BY table_name, column_name"
            )
        )
    return [tuple(str(v) for v in r) for r in rows]
