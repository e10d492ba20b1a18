from alembic import context
from sqlalchemy import pool

from storage.db import make_engine
from examday.models import metadata

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
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("examday migrations run online only")
run_migrations_online()
