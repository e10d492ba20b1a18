"""R-ID-1 / R-FMT-ID, R-INST-1 / R-FMT-USCC and R-PRIV-1: identity formats."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from examday.errors import Refusal
from examday.identity import (
    birth_date,
    id_digest,
    id_number_problem,
    make_id_number,
    mask_id_number,
    mask_name,
    uscc_problem,
    validate_id_number,
    validate_uscc,
)

TODAY = date(2026, 5, 20)
VALID_ID = "11010519491231002X"  # RULES.md R-FMT-ID example


# R-FMT-ID: valid numbers are returned normalised.
@pytest.mark.parametrize(
    "text, expected",
    [
        (VALID_ID, VALID_ID),
        ("11010519491231002x", VALID_ID),  # lowercase x
        ("  11010519491231002X\n", VALID_ID),  # stray whitespace
        ("\t11010519491231002x ", VALID_ID),
        ("１１０１０５１９４９１２３１００２Ｘ", VALID_ID),  # full-width input
        (make_id_number(date(2000, 2, 29)), make_id_number(date(2000, 2, 29))),
        (make_id_number(TODAY), make_id_number(TODAY)),  # born today
        (make_id_number(date(1900, 1, 1), "440305", 7, True), make_id_number(date(1900, 1, 1), "440305", 7, True)),
    ],
)
def test_valid_id_numbers(text, expected):
    assert validate_id_number(text, TODAY) == expected
    assert id_number_problem(text, TODAY) is None


# R-ID-1: every wrong number is refused with its reason.
@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "wrong_length"),
        ("   ", "wrong_length"),
        (None, "wrong_length"),
        ("11010519491231002", "wrong_length"),
        ("11010519491231002X1", "wrong_length"),
        ("110105491231002", "wrong_length"),  # old 15-digit format
        ("1101051949123100 2X", "wrong_length"),
        ("11010519491231002Y", "bad_characters"),
        ("1101051949123100X2", "bad_characters"),  # X only allowed last
        ("11010519491231-02X", "bad_characters"),
        ("A10105194912310021", "bad_characters"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "bad_characters"),  # non-ASCII digits
        ("11010519490230002X", "bad_birth_date"),  # 30 February
        ("11010519491331002X", "bad_birth_date"),  # month 13
        ("11010519490001002X", "bad_birth_date"),  # month 0
        ("11010519490100002X", "bad_birth_date"),  # day 0
        ("11010519490431002X", "bad_birth_date"),  # 31 April
        ("11010519000229002X", "bad_birth_date"),  # 1900 was no leap year
        ("11010500000101002X", "bad_birth_date"),  # year 0000
        ("11010516000101002X", "bad_birth_date"),  # nobody that old holds one
        (make_id_number(date(2026, 5, 21)), "future_birth_date"),
        (make_id_number(date(2099, 1, 1)), "future_birth_date"),
        ("110105194912310021", "bad_check_digit"),
        ("110105194912310020", "bad_check_digit"),
        ("11010519491231003X", "bad_check_digit"),  # one digit mistyped
        ("11010519491213002X", "bad_check_digit"),  # two digits swapped
    ],
)
def test_invalid_id_numbers(text, reason):
    assert id_number_problem(text, TODAY) == reason
    with pytest.raises(Refusal) as caught:
        validate_id_number(text, TODAY)
    refusal = caught.value
    assert refusal.code == "invalid_id_number"
    assert refusal.rule == "R-ID-1"
    assert refusal.status == 422
    assert refusal.detail["reason"] == reason
    assert refusal.message and refusal.message_en


@pytest.mark.parametrize(
    "text, zh, en",
    [
        ("11010519491231002", "实际为17位", "this one has 17"),
        ("1101051949123100X2", "第17位", "Character 17"),
        ("11010519490230002X", "出生日期", "birth date"),
        (make_id_number(date(2030, 1, 1)), "晚于今天", "after today"),
        ("110105194912310021", "校验位", "check digit"),
    ],
)
def test_id_messages_say_what_is_wrong(text, zh, en):
    # R-ID-1: the refusal names the reason in both languages.
    with pytest.raises(Refusal) as caught:
        validate_id_number(text, TODAY)
    assert zh in caught.value.message
    assert en in caught.value.message_en


@pytest.mark.parametrize(
    "text",
    ["110105194912310021", "11010519490230002X", make_id_number(date(2030, 1, 1), "320102")],
)
def test_id_messages_do_not_repeat_the_number(text):
    # R-PRIV-1: refusals are shown and logged; they carry no personal data.
    with pytest.raises(Refusal) as caught:
        validate_id_number(text, TODAY)
    body = str(caught.value.body())
    assert text[6:14] not in body
    assert text not in body


def test_check_digit_follows_the_weights():
    # R-FMT-ID: recompute the check digit independently of the module.
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for seq in range(1, 120):
        for female in (False, True):
            number = make_id_number(date(1985, 7, 9), "510104", seq, female)
            total = sum(int(c) * w for c, w in zip(number[:17], weights))
            assert number[17] == "10X98765432"[total % 11]
            assert int(number[16]) % 2 == (0 if female else 1)
            assert validate_id_number(number, TODAY) == number


@pytest.mark.parametrize(
    "birth, region, seq, female, expected",
    [
        (date(1949, 12, 31), "110105", 1, True, VALID_ID),
        (date(1949, 12, 31), "110105", 1, False, "110105194912310011"),
        (date(2000, 1, 1), "110105", 500, False, "110105200001019993"),
    ],
)
def test_make_id_number(birth, region, seq, female, expected):
    assert make_id_number(birth, region, seq, female) == expected


def test_make_id_number_makes_many_distinct_numbers():
    numbers = {
        make_id_number(date(1990, 1, d), seq=s, female=f)
        for d in range(1, 29)
        for s in range(1, 60)
        for f in (False, True)
    }
    assert len(numbers) == 28 * 59 * 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"region": "11010"},
        {"region": "11010A"},
        {"seq": 0},
        {"seq": 501},
        {"seq": 500, "female": True},
    ],
)
def test_make_id_number_refuses_impossible_arguments(kwargs):
    with pytest.raises(ValueError):
        make_id_number(date(1990, 1, 1), **kwargs)


@pytest.mark.parametrize(
    "text, expected",
    [
        (VALID_ID, date(1949, 12, 31)),
        ("11010519491231002x", date(1949, 12, 31)),
        ("110105194912310021", date(1949, 12, 31)),  # check digit not needed
        (make_id_number(date(2008, 2, 29)), date(2008, 2, 29)),
    ],
)
def test_birth_date(text, expected):
    assert birth_date(text) == expected


@pytest.mark.parametrize("text", ["1101051949", "11010519490230002X", "1101051949123100Z2"])
def test_birth_date_refuses_malformed_numbers(text):
    with pytest.raises(Refusal):
        birth_date(text)


# R-INST-1 / R-FMT-USCC: valid codes.
@pytest.mark.parametrize(
    "text, expected",
    [
        ("91350200776049653A", "91350200776049653A"),
        ("91440101MA5CJQ4N59", "91440101MA5CJQ4N59"),
        ("91440101ma5cjq4n59", "91440101MA5CJQ4N59"),
        (" 91350200776049653A ", "91350200776049653A"),
        ("９１３５０２００７７６０４９６５３Ａ", "91350200776049653A"),
    ],
)
def test_valid_uscc(text, expected):
    assert validate_uscc(text) == expected
    assert uscc_problem(text) is None


# R-INST-1: a code whose check character is wrong is refused.
@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "wrong_length"),
        (None, "wrong_length"),
        ("91350200776049653", "wrong_length"),
        ("91350200776049653AA", "wrong_length"),
        ("913502007760496", "wrong_length"),
        ("91350200776049653I", "bad_characters"),  # I is not in the alphabet
        ("91440101MA5CJQ4NO9", "bad_characters"),  # O
        ("S1350200776049653A", "bad_characters"),  # S
        ("91440101MV5CJQ4N59", "bad_characters"),  # V
        ("91440101MA5CJQ4NZ9", "bad_characters"),  # Z
        ("91350200-76049653A", "bad_characters"),
        ("91350200776049653B", "bad_check_character"),
        ("91440101MA5CJQ4N58", "bad_check_character"),
        ("91440101MA5CJQ4M59", "bad_check_character"),
        ("91350200776094653A", "bad_check_character"),  # two digits swapped
    ],
)
def test_invalid_uscc(text, reason):
    assert uscc_problem(text) == reason
    with pytest.raises(Refusal) as caught:
        validate_uscc(text)
    refusal = caught.value
    assert refusal.code == "invalid_uscc"
    assert refusal.rule == "R-INST-1"
    assert refusal.status == 422
    assert refusal.detail["reason"] == reason
    assert refusal.message and refusal.message_en


@pytest.mark.parametrize(
    "text, zh, en",
    [
        ("9135020077604965", "实际为16位", "this one has 16"),
        ("91350200776049653I", "第18位字符“I”", "Character 18 ('I')"),
        ("91350200776049653B", "校验码", "check character"),
    ],
)
def test_uscc_messages_say_what_is_wrong(text, zh, en):
    with pytest.raises(Refusal) as caught:
        validate_uscc(text)
    assert zh in caught.value.message
    assert en in caught.value.message_en


def test_uscc_check_follows_the_weights():
    # R-FMT-USCC: recompute independently and flip the last character.
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    for body in ("91350200776049653", "91440101MA5CJQ4N5", "12100000400000624", "52110000MJ0000000"):
        total = sum(alphabet.index(c) * w for c, w in zip(body, weights))
        check = alphabet[(31 - total % 31) % 31]
        assert validate_uscc(body + check) == body + check
        for wrong in alphabet:
            if wrong != check:
                assert uscc_problem(body + wrong) == "bad_check_character"


# R-FMT-USCC: the two ends of the check alphabet, written out rather than recomputed. A weighted
# sum that divides by 31 gives the check character 0 (not index 31); a remainder of 1 gives Y.
@pytest.mark.parametrize(
    "code, wrong",
    [
        ("911100001016928680", "911100001016928681"),
        ("9135020077604965A0", "9135020077604965AY"),
        ("9111000010169286JY", "9111000010169286JX"),
        ("9135020077604965LY", "9135020077604965L0"),
    ],
)
def test_uscc_check_characters_0_and_y(code, wrong):
    assert validate_uscc(code) == code
    assert uscc_problem(wrong) == "bad_check_character"


# R-PRIV-1: masks.
@pytest.mark.parametrize(
    "number, masked",
    [
        ("220102199001011234", "220102********1234"),
        (VALID_ID, "110105********002X"),
        ("11010519491231002x", "110105********002X"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_id_number(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小明", "欧**明"),
        ("三", "*"),
        (" 李四 ", "李*"),
        ("买买提·艾力", "买****力"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_id_digest():
    # R-PRIV-1: the kiosk roster carries keyed digests of the normalised number.
    salt = b"0123456789abcdef"
    expected = hmac.new(salt, VALID_ID.encode(), hashlib.sha256).hexdigest()
    assert id_digest(VALID_ID, salt) == expected
    assert id_digest(" 11010519491231002x", salt) == expected
    assert id_digest(VALID_ID, b"another salt....") != expected
    assert len(expected) == 64 and VALID_ID not in expected


@pytest.mark.parametrize("salt", [b"", "text salt"])
def test_id_digest_needs_a_bytes_salt(salt):
    with pytest.raises(ValueError):
        id_digest(VALID_ID, salt)  # type: ignore[arg-type]
