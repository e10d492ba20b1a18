"""A failed statement's error does not list its values: they may be ID numbers (R-PRIV-1).

PostgreSQL's own DETAIL line may still quote a duplicate key; examday's crash handler logs
only the error's type, never its message."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine

ID_NUMBER = "220102198003151234"


def test_a_failed_statement_does_not_carry_its_values_into_the_error(db_url):
    engine = make_engine(db_url)
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE privacy_probe (id_number VARCHAR(18) UNIQUE)"))
            c.execute(text("INSERT INTO privacy_probe VALUES (:n)"), {"n": ID_NUMBER})
        with pytest.raises(IntegrityError) as caught, engine.begin() as c:
            c.execute(text("INSERT INTO privacy_probe VALUES (:n)"), {"n": ID_NUMBER})
        message = str(caught.value)
        assert "privacy_probe" in message  # the statement is named, so the error still says something
        assert "parameters hidden" in message and "'n': '" not in message
        if db_url.startswith("sqlite"):
            assert ID_NUMBER not in message
    finally:
        with engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS privacy_probe"))
        engine.dispose()
