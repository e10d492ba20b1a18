"""A server process's share of PostgreSQL connections (issue #18): bench/province's four workers of
30 connections each passed PostgreSQL's default max_connections of 100 and got "too many clients"."""

from __future__ import annotations

from examday.settings import Settings
from storage.db import make_engine


def test_the_budget_splits_into_kept_and_opened_under_load():
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none", 22)  # nothing connects yet
    assert engine.pool.size() == 7 and engine.pool._max_overflow == 15  # type: ignore[attr-defined]
    assert make_engine("postgresql://nobody@127.0.0.1:1/none").pool.size() == 10  # one process: 30


def test_the_setting_is_read_from_the_environment(tmp_path):
    env = {"EXAMDAY_DATA_DIR": str(tmp_path), "EXAMDAY_DB_CONNECTIONS": "22"}
    assert Settings.from_env(env).db_connections == 22
    assert Settings.from_env({"EXAMDAY_DATA_DIR": str(tmp_path)}).db_connections == 30
