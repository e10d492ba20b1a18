"""The password policy (R-STAFF-4): at least 10 characters, not the username, not common.

Issue #14 finding 11 reported that ``1`` was accepted as a password; these show it, and the
common passwords of Chinese and English-language leaks, refused."""

from __future__ import annotations

import pytest

from examday.accounts.password_policy import LIST_FILE, MAX_LENGTH, password_refusal


@pytest.mark.parametrize("password", ["1", "123456", "abcdefghi", "密码太短了"])
def test_a_password_under_10_characters_is_refused_R_STAFF_4(password):
    r = password_refusal(password, "office")
    assert r is not None and (r.code, r.status, r.rule) == ("weak_password", 422, "R-STAFF-4")
    assert r.detail["reason"] == "too_short" and "10" in r.message and "10" in r.message_en


@pytest.mark.parametrize(
    "password",
    [
        # English-language leaks, keyboard runs, repeats and sequences (zxcvbn's own)
        "1234567890",
        "qwertyuiop",
        "password123",
        "1qaz2wsx3edc",
        "aaaaaaaaaa",
        "abcdefghij",
        "P@ssw0rd2026",
        # Chinese-typical ones (common_passwords.txt)
        "123456789a",
        "a123456789",
        "woaini1314",
        "Woaini1314",
        "5201314520",
        "1314520520",
        "147258369a",
        "qq123456789",
        "13800138000",
        "zhangwei123",
        "iloveyou1314",
    ],
)
def test_a_common_password_is_refused_R_STAFF_4(password):
    r = password_refusal(password, "office")
    assert r is not None and r.code == "weak_password" and r.detail["reason"] == "common", password
    assert "常见" in r.message and "common" in r.message_en


def test_the_username_is_no_password_R_STAFF_4():
    r = password_refusal("Proctor-Wang", "proctor-wang")
    assert r is not None and r.detail["reason"] == "username"
    refused = password_refusal("proctor-wang1", "proctor-wang")  # the username and a digit: guessed first
    assert refused is not None and refused.detail["reason"] == "common"


@pytest.mark.parametrize(
    "password", ["examday-demo", "correct horse", "teal-harbour-lantern-42", "我的密码是很长的一句话", "Kx7#qP2m!vR9"]
)
def test_a_long_uncommon_password_is_taken(password):
    assert password_refusal(password, "office") is None


def test_a_password_longer_than_256_characters_is_refused_not_cut():
    r = password_refusal("x7Qk-" * 60, "office")
    assert r is not None and r.code == "password_too_long" and len("x7Qk-" * 60) > MAX_LENGTH
    assert password_refusal("x7Qk-vM2p" * 28, "office") is None  # 252 characters: taken


def test_the_chinese_list_ships_with_the_package_and_is_a_few_thousand_long():
    words = [w for w in LIST_FILE.read_text(encoding="utf-8").splitlines() if w and not w.startswith("#")]
    assert 2000 <= len(words) <= 20000 and len(set(words)) == len(words)
    # What zxcvbn's English-language lists lack: woaini1314 is not among their 30,000.
    assert {"woaini1314", "5201314520", "woaini520", "13800138000"} <= set(words)
