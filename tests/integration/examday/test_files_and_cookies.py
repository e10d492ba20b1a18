"""The installation's files and the session cookie (R-PRIV-1, issue #14 finding 11).

The SQLite file holds ID numbers and private keys, the data folder photos and scans: both are
the server account's alone (files 0600, folders 0700) on a fresh installation, and an older
installation's looser modes are tightened on start, with a log line that names only the path
and the modes. The session cookie is ``Secure`` when the sign-in came over HTTPS: the ASGI
scope's own scheme, ``X-Forwarded-Proto`` from a trusted proxy only, or
``EXAMDAY_SECURE_COOKIES``.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from examday.app import create_app
from examday.models import metadata
from examday.settings import Settings

# -- files (SQLite only: PostgreSQL keeps its own files) --------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """The usual default umask, under which files come out world-readable unless made private."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def fresh_settings(root: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{root / 'examday.db'}",
        data_dir=root / "data",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()


def test_a_fresh_installation_is_private_to_the_server(tmp_path, clock, loose_umask):
    app = create_app(fresh_settings(tmp_path), clock)
    engine = app.state.engine
    metadata.create_all(engine)
    with TestClient(app) as client, engine.connect() as conn:
        assert client.get("/login").status_code == 200
        conn.execute(text("SELECT count(*) FROM account"))  # the WAL's -shm, held open
        app.state.blobs.put(b"a candidate's photo", ".jpg")
        db = tmp_path / "examday.db"
        files = [db, db.with_name("examday.db-wal"), db.with_name("examday.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    data = tmp_path / "data"
    folders = [data, *(p for p in data.rglob("*") if p.is_dir())]
    assert len(folders) >= 4  # data, blobs and the blob's two levels
    assert {str(p): oct(mode(p)) for p in folders} == {str(p): "0o700" for p in folders}
    secrets = [data / ".secret-key", data / ".hook-secret"]
    assert {p.name: oct(mode(p)) for p in secrets} == {p.name: "0o600" for p in secrets}


def test_an_older_installation_is_tightened_on_start_and_says_so(tmp_path, clock, loose_umask, caplog):
    db = tmp_path / "examday.db"
    conn = sqlite3.connect(db)  # an installation made before: 0644, its WAL files too
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    data = tmp_path / "data"
    for folder in (data / "blobs" / "ab", data / "video"):
        folder.mkdir(parents=True)
    for p in (data, data / "blobs", data / "video"):
        p.chmod(0o755)
    assert mode(db) == 0o644 and mode(db.with_name("examday.db-wal")) == 0o644
    with caplog.at_level(logging.WARNING, logger="examday.storage"):
        create_app(fresh_settings(tmp_path), clock)
    conn.close()
    assert mode(db) == 0o600
    assert mode(data) == mode(data / "blobs") == mode(data / "video") == 0o700
    lines = [r.getMessage() for r in caplog.records if r.name == "examday.storage"]
    assert any(str(db) in line for line in lines) and any(str(data / "blobs") in line for line in lines)
    shape = re.compile(r"tightened the permissions of \S+ from 0[0-7]{3} to 0[0-7]{3}")
    assert all(shape.fullmatch(line) for line in lines), lines  # the path and the modes, nothing else


# -- the session cookie -----------------------------------------------------------------------


def sign_in(app, world, base_url: str = "http://testserver.local", headers: dict[str, str] | None = None) -> str:
    world.token("office-web", "admin", world.institution(), password="s3cret-pass-1")
    with TestClient(app, base_url=base_url) as c:
        resp = c.post(
            "/login",
            data={"username": "office-web", "password": "s3cret-pass-1", "next": "/"},
            headers=headers or {},
            follow_redirects=False,
        )
    assert resp.status_code in (302, 303), resp.text
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("examday_session=")
    return cookie


def is_secure(cookie: str) -> bool:
    return "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_cookie_over_plain_http_is_not_secure(app, world):
    assert not is_secure(sign_in(app, world))


def test_cookie_over_https_is_secure(app, world):
    assert is_secure(sign_in(app, world, base_url="https://testserver.local"))


def test_forwarded_https_from_a_trusted_proxy_makes_it_secure(app, world):
    app.state.settings.trusted_proxies = ("10.0.0.0/8", "testclient")  # the test client's address
    assert is_secure(sign_in(app, world, headers={"X-Forwarded-Proto": "https"}))


def test_forwarded_https_from_anyone_else_is_ignored(app, world):
    # No trusted proxy (the default): the header is anyone's to send.
    assert not is_secure(sign_in(app, world, headers={"X-Forwarded-Proto": "https"}))


def test_forwarded_https_from_an_untrusted_address_is_ignored(app, world):
    app.state.settings.trusted_proxies = ("10.0.0.1",)
    assert not is_secure(sign_in(app, world, headers={"X-Forwarded-Proto": "https"}))


def test_secure_cookies_setting_forces_it(app, world):
    app.state.settings.secure_cookies = True
    assert is_secure(sign_in(app, world))


def test_the_settings_are_read_from_the_environment(tmp_path):
    env = {
        "EXAMDAY_DATA_DIR": str(tmp_path / "data"),
        "EXAMDAY_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        "EXAMDAY_SECURE_COOKIES": "1",
    }
    s = Settings.from_env(env)
    assert s.trusted_proxies == ("127.0.0.1", "10.0.0.0/8") and s.secure_cookies is True
    bare = Settings.from_env({"EXAMDAY_DATA_DIR": str(tmp_path / "data")})
    assert bare.trusted_proxies == () and bare.secure_cookies is False
