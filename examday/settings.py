"""Settings from the environment (CONTRACT.md "Configuration"), with defaults
that need no configuration: a SQLite file and a data folder in the working
directory.

This is the only module that reads ``EXAMDAY_*`` variables (README
"Configuration"): the server's become a :class:`Settings`, passed down to
whatever needs them (storage gets plain values: it imports nothing from
examday); the programs around the server — the kiosk, the recorder, the
paper renderer's font — read theirs through the small accessors at the end.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage import blobs_s3
from storage.blobs_s3 import S3Config
from storage.modes import PRIVATE_DIR, private_dir, tighten

ADDRESSING = ("path", "virtual", "auto")
# The data folder's subfolders the server and the demo make; tightened on start if an older
# installation left them readable by others (new ones are made 0700).
PRIVATE_SUBFOLDERS = ("blobs", "video", "keys")


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
    s3: S3Config = field(default_factory=S3Config)
    # Video (storage/video_files.py): the only folders a hook's segment file may be in and the
    # purge deletes from (unset: ``<data_dir>/video``), and the only s3:// prefixes as
    # (bucket, prefix) the purge deletes segment objects from. No prefixes: no S3 video is deleted.
    video_dirs: tuple[Path, ...] = ()
    video_s3_prefixes: tuple[tuple[str, str], ...] = ()
    # How long after its session ends an offline kiosk's record still counts (kiosk/rules.py
    # offline_refusal, R-DAY-1); None: until the end of the session's China-time day.
    offline_sync_grace_minutes: int | None = None
    # The session cookie's Secure flag (examday.web.cookie_is_secure): X-Forwarded-Proto is
    # believed only from these addresses (or networks); ``secure_cookies`` sets it always.
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False
    # Bearer tokens expire (examday/accounts/services/tokens.py, R-STAFF-4): a kiosk's after
    # these days, a person's (a tablet's, a script's) after these hours; one may be issued shorter.
    kiosk_token_days: int = 30
    person_token_hours: int = 14
    # The report to the evaluation centre (scoring/report_push.py, R-PUB-2, issue #17): the centre's
    # examday URL and the report token it issued to this institution; unset, nothing is pushed
    # (the package still goes by ``examday report export`` and a USB stick). The push loop looks
    # for approved batches to send (and signs the hourly audit checkpoint) every so many seconds.
    centre_url: str = ""
    centre_report_token: str = ""
    report_push_seconds: int = 60
    # PostgreSQL connections one server process may hold (a third kept open, the rest opened
    # under load). ``serve --workers N`` divides 90 among its processes when this is unset, so
    # four of them stay under PostgreSQL's default max_connections of 100 (issue #18).
    db_connections: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The server's settings: EXAMDAY_DATABASE_URL, EXAMDAY_DATA_DIR, EXAMDAY_REDIS_URL,
        EXAMDAY_HOOK_SECRET, EXAMDAY_SECRET_KEY, EXAMDAY_BLOB_URL, the S3 connection
        (:func:`s3_config`), EXAMDAY_VIDEO_DIRS, EXAMDAY_VIDEO_S3_PREFIXES,
        EXAMDAY_TRUSTED_PROXIES, EXAMDAY_SECURE_COOKIES, EXAMDAY_KIOSK_TOKEN_DAYS,
        EXAMDAY_PERSON_TOKEN_HOURS, EXAMDAY_CENTRE_URL, EXAMDAY_CENTRE_REPORT_TOKEN,
        EXAMDAY_REPORT_PUSH_SECONDS and EXAMDAY_DB_CONNECTIONS."""
        env = dict(os.environ if env is None else env)
        s = cls(
            database_url=env.get("EXAMDAY_DATABASE_URL", ""),
            data_dir=Path(env.get("EXAMDAY_DATA_DIR", "examday-data")),
            redis_url=env.get("EXAMDAY_REDIS_URL") or None,
            hook_secret=env.get("EXAMDAY_HOOK_SECRET", ""),
            secret_key=env.get("EXAMDAY_SECRET_KEY", ""),
            blob_url=env.get("EXAMDAY_BLOB_URL", ""),
            s3=s3_config(env),
            video_dirs=_video_dirs(env.get("EXAMDAY_VIDEO_DIRS", "")),
            video_s3_prefixes=_video_s3_prefixes(env.get("EXAMDAY_VIDEO_S3_PREFIXES", "")),
            trusted_proxies=tuple(a for a in re.split(r"[,\s]+", env.get("EXAMDAY_TRUSTED_PROXIES", "")) if a),
            secure_cookies=env.get("EXAMDAY_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes", "on"),
            kiosk_token_days=_positive(env, "EXAMDAY_KIOSK_TOKEN_DAYS", 30),
            person_token_hours=_positive(env, "EXAMDAY_PERSON_TOKEN_HOURS", 14),
            centre_url=env.get("EXAMDAY_CENTRE_URL", "").strip().rstrip("/"),
            centre_report_token=env.get("EXAMDAY_CENTRE_REPORT_TOKEN", "").strip(),
            report_push_seconds=_positive(env, "EXAMDAY_REPORT_PUSH_SECONDS", 60),
            db_connections=_positive(env, "EXAMDAY_DB_CONNECTIONS", 30),
        )
        return s.resolved()

    def resolved(self) -> Settings:
        self.data_dir = Path(self.data_dir).absolute()
        if not self.database_url:
            self.database_url = f"sqlite:///{Path('examday.db').absolute()}"
        # Photos, scans and the installation's secrets: the server's account only (R-PRIV-1).
        private_dir(self.data_dir)
        for sub in PRIVATE_SUBFOLDERS:
            tighten(self.data_dir / sub, PRIVATE_DIR)
        if not self.video_dirs:
            # Never "anywhere": a signed hook's path must lie in the data folder's own video folder
            # (issue #14, R-VIDEO-1).
            self.video_dirs = ((self.data_dir / "video").resolve(),)
        if not self.hook_secret:
            self.hook_secret = _persisted_secret(self.data_dir / ".hook-secret")
        if not self.secret_key:
            self.secret_key = _persisted_secret(self.data_dir / ".secret-key")
        return self


def share_connections(workers: int) -> int:
    """``serve --workers N``: each worker builds its settings from the environment, and 30
    connections each would take four of them past PostgreSQL's default max_connections of 100
    (bench/province met "too many clients", issue #18); unless set, each gets 90 ÷ N."""
    if not os.environ.get("EXAMDAY_DB_CONNECTIONS"):
        os.environ["EXAMDAY_DB_CONNECTIONS"] = str(max(6, 90 // workers))
    return _positive(os.environ, "EXAMDAY_DB_CONNECTIONS", 30)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1")
    return int(raw)


def _persisted_secret(path: Path) -> str:
    """A secret made once per installation, so restarts keep sessions and hooks valid."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def _video_dirs(raw: str) -> tuple[Path, ...]:
    """EXAMDAY_VIDEO_DIRS (os.pathsep-separated): the only folders a hook's segment file may lie
    in and the purge deletes from — a wrong path in a hook cannot take anything else with it.
    Unset, :meth:`Settings.resolved` makes it the data folder's ``video``."""
    return tuple(Path(p).resolve() for p in raw.split(os.pathsep) if p.strip())


def _video_s3_prefixes(raw: str) -> tuple[tuple[str, str], ...]:
    """EXAMDAY_VIDEO_S3_PREFIXES: ``s3://bucket/prefix`` entries, separated by commas or spaces."""
    out = []
    for entry in re.split(r"[,\s]+", raw.strip()):
        if entry:
            bucket, prefix = blobs_s3.parse_url(entry)
            out.append((bucket, prefix.strip("/")))
    return tuple(out)


# -- the programs around the server ------------------------------------------------------------


def s3_config(env: Mapping[str, str] | None = None) -> S3Config:
    """The S3-compatible store's connection, for the server and for ``examday-recorder
    --upload``: EXAMDAY_S3_ENDPOINT_URL (unset: AWS), EXAMDAY_S3_REGION and
    EXAMDAY_S3_ADDRESSING (path, virtual or auto; ValueError otherwise). Credentials are
    boto3's business (AWS_*), never read here."""
    env = os.environ if env is None else env
    addressing = (env.get("EXAMDAY_S3_ADDRESSING") or "auto").strip().lower()
    if addressing not in ADDRESSING:
        raise ValueError("EXAMDAY_S3_ADDRESSING must be path, virtual or auto")
    return S3Config(env.get("EXAMDAY_S3_ENDPOINT_URL") or None, env.get("EXAMDAY_S3_REGION") or None, addressing)


@dataclass(frozen=True)
class KioskEnv:
    token: str | None  # the kiosk account's bearer token
    data_dir: str  # the roster cache and offline queue, ``~`` not yet expanded


def kiosk_program_env(env: Mapping[str, str] | None = None) -> KioskEnv:
    """``examday-kiosk``'s defaults: EXAMDAY_KIOSK_TOKEN (for ``--token``) and
    EXAMDAY_KIOSK_DIR (for ``--data-dir``, default ``~/.examday-kiosk``)."""
    env = os.environ if env is None else env
    return KioskEnv(env.get("EXAMDAY_KIOSK_TOKEN"), env.get("EXAMDAY_KIOSK_DIR", "~/.examday-kiosk"))


@dataclass(frozen=True)
class RecorderEnv:
    hook_secret: str | None  # the secret the recorder signs with: its key's, or the installation's
    key_id: str | None = None  # the institution's recorder key the secret belongs to


def recorder_program_env(env: Mapping[str, str] | None = None) -> RecorderEnv:
    """``examday-recorder``'s defaults for ``--secret`` and ``--key-id``: EXAMDAY_HOOK_SECRET and
    EXAMDAY_RECORDER_KEY_ID (an institution's recorder key, proctor/services/recorder_keys.py).
    Its ``--upload`` store is :func:`s3_config` (EXAMDAY_S3_*), read only when it uploads."""
    env = os.environ if env is None else env
    return RecorderEnv(env.get("EXAMDAY_HOOK_SECRET"), env.get("EXAMDAY_RECORDER_KEY_ID") or None)


def cjk_font_override(env: Mapping[str, str] | None = None) -> str | None:
    """EXAMDAY_CJK_FONT: the .ttc/.otf/.ttf file every paper (tickets, seat plans, the
    exam-room record) and the kiosk's screen use instead of the installed CJK fonts."""
    env = os.environ if env is None else env
    return env.get("EXAMDAY_CJK_FONT") or None
