"""Bearer tokens are handed to programs on their command lines (README: `examday-kiosk --token "$T"`)."""

from __future__ import annotations

from examday.accounts.services import accounts


def test_a_token_never_begins_with_a_dash(monkeypatch):
    # argparse reads a value beginning with "-" as an option: the kiosk would not start.
    drawn = iter(["-dash-first", "--two-dashes", "fine-token"])
    monkeypatch.setattr(accounts.secrets, "token_urlsafe", lambda n: next(drawn))
    assert accounts.new_token() == "fine-token"


def test_tokens_are_long_and_distinct():
    tokens = {accounts.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) >= 43 and not t.startswith("-") for t in tokens)
