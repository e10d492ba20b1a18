"""Every table of every package, gathered for migrations and tests.

Each package owns its tables; importing them here only registers them on the
one metadata that Alembic compares against.
"""
from sqlmodel import SQLModel

import examday.accounts.models  # noqa: F401
import examday.audit  # noqa: F401
import examday.calendar_notices  # noqa: F401
import examday.plans.models  # noqa: F401
import examday.plans.seating_models  # noqa: F401  (issue #4: room drops, seat changes)
import examday.registry.models  # noqa: F401
import kiosk.models  # noqa: F401
import proctor.models  # noqa: F401
import proctor.video_models  # noqa: F401  (issue #7: segments, hooks, camera health)
import scoring.models  # noqa: F401
import storage.blobs  # noqa: F401
import storage.holds  # noqa: F401  (issue #7: legal holds)
import storage.retention_models  # noqa: F401  (issue #7: purge intents, archived key documents)

metadata = SQLModel.metadata


def install_extras(engine) -> None:
    """DDL that ``create_all`` does not emit (triggers); the migrations run the same functions."""
    try:
        from scoring.ddl import install_lock_triggers
    except ImportError:
        return
    install_lock_triggers(engine)
