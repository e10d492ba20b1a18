"""Write the next Alembic revision from the models: ``python -m storage.makemigration "message"``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from storage.db import MIGRATIONS, alembic_config, migrate


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    existing = sorted(p.name for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    rev = f"{int(existing[-1][:4]) + 1:04d}" if existing else "0001"
    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{Path(d) / 'm.db'}"
        migrate(url)
        command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev)
    for p in (MIGRATIONS / "versions").glob(f"{rev}_*.py"):
        slug = "_".join(message.lower().split()[:4]).replace(":", "").replace(",", "")
        p.rename(p.with_name(f"{rev}_{slug}.py"))


if __name__ == "__main__":
    main()
