from alembic import context

from examday.models import metadata
from storage.db import make_engine

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    if url.startswith("sqlite"):
        # BEGIN IMMEDIATE from make_engine is fine for migrations too.
        pass
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several server processes start at once behind the proxy: one migrates, the
                # others wait here and then find the schema at head (the lock ends with the
                # transaction). Keyed by schema, so installations sharing a database don't queue.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7242031, hashtext(current_schema()))")
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("examday migrations run online only")
run_migrations_online()
