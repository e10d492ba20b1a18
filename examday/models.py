"""Every table of every package, gathered for migrations and tests.

Each package owns its tables; importing them here only registers them on the
one metadata that Alembic compares against.
"""

from sqlmodel import SQLModel

import examday.accounts.models
import examday.audit
import examday.calendar_notices
import examday.checkpoints
import examday.plans.models
import examday.plans.seating_models
import examday.registry.models  # noqa: F401
import kiosk.models  # noqa: F401
import proctor.models
import proctor.video_models  # noqa: F401
import scoring.models
import scoring.report_models  # noqa: F401
import storage.blobs
import storage.holds
import storage.retention_models  # noqa: F401

metadata = SQLModel.metadata


def install_extras(engine) -> None:
    """DDL that ``create_all`` does not emit (triggers); the migrations run the same functions."""
    try:
        from scoring.ddl import install_lock_triggers
    except ImportError:
        return
    install_lock_triggers(engine)
