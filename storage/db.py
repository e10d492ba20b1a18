"""The database engine, sessions and migrations.

SQLite (a file, WAL, foreign keys on) by default, PostgreSQL when
``EXAMDAY_DATABASE_URL`` says so. SQLite transactions start with
``BEGIN IMMEDIATE``: the audit chain and the check-in uniqueness read the
current head and then write, and a deferred SQLite transaction could read a
head that another writer moves before it upgrades to a write lock.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from storage.modes import PRIVATE_FILE, private_file, tighten

MIGRATIONS = Path(__file__).parent / "migrations"


def _private_sqlite_file(url: str) -> None:
    """The database file 0600 before SQLite first opens it: SQLite makes its -wal and -shm files
    with the database file's mode, so all three stay private to the server's account (R-PRIV-1).
    An existing installation's looser files are tightened (storage/modes.py logs it)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite will say so itself
    private_file(path)
    for companion in ("-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + companion), PRIVATE_FILE)


def make_engine(url: str, connections: int = 30) -> Engine:
    # hide_parameters: a failed statement's message would otherwise carry its values, ID numbers
    # among them, into whatever logs the error (R-PRIV-1).
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy's "begin" event emit BEGIN ourselves (pysqlite's own
            # transaction handling would start a deferred transaction).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # A connection that only reads (``read_only=True``, the token lookup of every request)
            # takes a snapshot without the write lock: it need not queue behind a writer.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # A database that stops answering must give a quick error (a 503, and the kiosks go offline),
    # not a hang: connecting gives up after 3 s, a connection whose packets go unanswered for 10 s
    # is dropped, and a request waits at most 10 s for a free connection. ``connections`` caps what
    # this process holds: several processes must stay under the server's max_connections together.
    kept = max(2, connections // 3)
    return create_engine(
        url,
        pool_size=kept,
        max_overflow=max(0, connections - kept),
        pool_pre_ping=True,
        pool_timeout=10,
        hide_parameters=True,
        connect_args={"connect_timeout": 3, "tcp_user_timeout": 10000},
    )


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema up to date (``examday serve`` does this first)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
