"""Settings from the environment (CONTRACT.md "Configuration"), with defaults
that need no configuration: a SQLite file and a data folder in the working
directory."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from storage.blobs_s3 import S3Config


@dataclass
class Settings:
    database_url: str = ""
    data_dir: Path = field(default_factory=lambda: Path("examday-data"))
    redis_url: str | None = None
    hook_secret: str = ""
    secret_key: str = ""
    # Tests lower the KDF cost; production keeps argon2's defaults.
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    # S3-compatible storage (storage/blobs_s3.py): ``s3://bucket/prefix`` puts the
    # blobs there instead of the data folder; the connection is for video too.
    blob_url: str = ""
    s3: S3Config = field(default_factory=lambda: S3Config.from_env())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        s = cls(
            database_url=env.get("EXAMDAY_DATABASE_URL", ""),
            data_dir=Path(env.get("EXAMDAY_DATA_DIR", "examday-data")),
            redis_url=env.get("EXAMDAY_REDIS_URL") or None,
            hook_secret=env.get("EXAMDAY_HOOK_SECRET", ""),
            secret_key=env.get("EXAMDAY_SECRET_KEY", ""),
            blob_url=env.get("EXAMDAY_BLOB_URL", ""),
            s3=S3Config.from_env(env),
        )
        return s.resolved()

    def resolved(self) -> Settings:
        self.data_dir = Path(self.data_dir).absolute()
        if not self.database_url:
            self.database_url = f"sqlite:///{Path('examday.db').absolute()}"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.hook_secret:
            self.hook_secret = _persisted_secret(self.data_dir / ".hook-secret")
        if not self.secret_key:
            self.secret_key = _persisted_secret(self.data_dir / ".secret-key")
        return self


def _persisted_secret(path: Path) -> str:
    """A secret made once per installation, so restarts keep sessions and hooks valid."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value
