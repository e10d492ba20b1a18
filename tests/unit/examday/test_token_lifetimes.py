"""Token lifetimes (R-STAFF-4): a kiosk's 30 days, a person's 14 hours, configurable, and
issued shorter on request but never longer (issue #14 finding 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from examday.accounts.models import AccessToken
from examday.accounts.services.tokens import DEFAULT_LIFETIMES, TokenLifetimes, expires_at, lifetime_for, state_of
from examday.settings import Settings

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_defaults_a_kiosk_30_days_a_person_14_hours_R_STAFF_4():
    assert lifetime_for("bearer", "kiosk", DEFAULT_LIFETIMES) == timedelta(days=30)
    for role in ("admin", "proctor", "evaluator", "chief", "supervisor", "centre"):
        assert lifetime_for("bearer", role, DEFAULT_LIFETIMES) == timedelta(hours=14)
    assert lifetime_for("session", "kiosk", DEFAULT_LIFETIMES) == timedelta(hours=14)


def test_a_shorter_lifetime_may_be_asked_never_a_longer_one():
    assert lifetime_for("bearer", "kiosk", DEFAULT_LIFETIMES, timedelta(days=2)) == timedelta(days=2)
    for asked in (timedelta(days=31), timedelta(0), timedelta(hours=-1)):
        with pytest.raises(Exception) as e:
            lifetime_for("bearer", "kiosk", DEFAULT_LIFETIMES, asked)
        assert getattr(e.value, "code", None) == "token_lifetime_too_long"


def test_the_settings_configure_them(tmp_path):
    data = {"EXAMDAY_DATA_DIR": str(tmp_path / "data")}
    s = Settings.from_env({**data, "EXAMDAY_KIOSK_TOKEN_DAYS": "7", "EXAMDAY_PERSON_TOKEN_HOURS": "2"})
    assert TokenLifetimes.from_settings(s) == TokenLifetimes(timedelta(days=7), timedelta(hours=2))
    assert (Settings().kiosk_token_days, Settings().person_token_hours) == (30, 14)
    for bad in ("0", "-3", "many", "1.5"):
        with pytest.raises(ValueError, match="EXAMDAY_KIOSK_TOKEN_DAYS"):
            Settings.from_env({**data, "EXAMDAY_KIOSK_TOKEN_DAYS": bad})


def test_a_token_without_expiry_from_an_older_installation_lasts_the_default():
    old = AccessToken(account_id=1, token_hash="x", kind="bearer", created_at=NOW - timedelta(days=31))
    assert expires_at(old, "kiosk") == NOW - timedelta(days=1) and state_of(old, "kiosk", NOW) == "expired"
    fresh = AccessToken(account_id=1, token_hash="y", kind="bearer", created_at=NOW - timedelta(hours=1))
    assert state_of(fresh, "proctor", NOW) == "active"
    fresh.revoked_at = NOW
    assert state_of(fresh, "proctor", NOW) == "revoked"
