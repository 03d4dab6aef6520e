"""intake.phone.normalise: Danish and foreign numbers, withheld caller IDs, and what is refused."""

from __future__ import annotations

import pytest

from intake.phone import MAX_INPUT_LENGTH, PhoneKind, normalise


@pytest.mark.parametrize(
    "raw",
    [
        "20123456",
        "20 12 34 56",
        "+45 20 12 34 56",
        "004520123456",
        "0045 20 12 34 56",
        "+45-20-12-34-56",
        "(+45) 20.12.34.56",
        "  20 12 34 56  ",
        "tel:+4520123456",
    ],
)
def test_danish_formats_become_e164(raw: str) -> None:
    number = normalise(raw)

    assert number.kind is PhoneKind.VALID
    assert number.e164 == "+4520123456"
    assert number.foreign is False


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 20 7946 0958", "+442079460958"),  # United Kingdom, London
        ("0044 20 7946 0958", "+442079460958"),
        ("+46 8 123 456 78", "+46812345678"),  # Sweden, Stockholm
        ("+46 70 123 45 67", "+46701234567"),  # Sweden, mobile
        ("+49 30 12345678", "+493012345678"),  # Germany, Berlin
        ("+49 151 23456789", "+4915123456789"),  # Germany, mobile
    ],
)
def test_valid_foreign_numbers_are_kept_and_marked_foreign(raw: str, e164: str) -> None:
    number = normalise(raw)

    assert number.kind is PhoneKind.VALID
    assert number.e164 == e164
    assert number.foreign is True


def test_whether_a_number_is_foreign_depends_on_the_home_region() -> None:
    number = normalise("+46 8 123 456 78", region="SE")

    assert number.kind is PhoneKind.VALID
    assert number.foreign is False


@pytest.mark.parametrize(
    "raw",
    [
        "anonymous",
        "Anonymous",
        "Restricted",
        "RESTRICTED",
        "unknown",
        "private",
        "blocked",
        "withheld",
        "unavailable",
        "",
        "   ",
        None,
    ],
)
def test_withheld_words_are_withheld_without_a_number(raw: str | None) -> None:
    number = normalise(raw)

    assert number.kind is PhoneKind.WITHHELD
    assert number.e164 is None


@pytest.mark.parametrize(
    "raw",
    [
        "+266696687",  # ANONYMOUS
        "+7378742833",  # RESTRICTED
        "+2562533",  # BLOCKED
        "+8656696",  # UNKNOWN
        "+86282452253",  # UNAVAILABLE
        "00266696687",
        "+266 696 687",
    ],
)
def test_keypad_sentinels_are_withheld_not_numbers(raw: str) -> None:
    number = normalise(raw)

    assert number.kind is PhoneKind.WITHHELD
    assert number.e164 is None


def test_whatsapp_prefix_is_understood() -> None:
    number = normalise("whatsapp:+4520123456")

    assert number.kind is PhoneKind.VALID
    assert number.e164 == "+4520123456"
    assert number.foreign is False


def test_prefixes_are_case_insensitive() -> None:
    assert normalise("WhatsApp:+4520123456").e164 == "+4520123456"
    assert normalise("TEL:+4520123456").e164 == "+4520123456"
    assert normalise("WhatsApp:Anonymous").kind is PhoneKind.WITHHELD


def test_whatsapp_withheld_is_withheld() -> None:
    assert normalise("whatsapp:anonymous").kind is PhoneKind.WITHHELD


@pytest.mark.parametrize(
    "raw",
    [
        "12345678",  # no Danish number starts with 1
        "+4520123",  # too short
        "2012345",  # seven digits
        "abc",
        "20 12 34 5a",
        "2012345678901234567890123456789012345",  # too long to be a number at all
        "112",  # the emergency number is not a callback number
        "114",
        "+45 112",
        "20123456; DROP TABLE contacts",
    ],
)
def test_invalid_input_is_invalid_without_a_number(raw: str) -> None:
    number = normalise(raw)

    assert number.kind is PhoneKind.INVALID
    assert number.e164 is None
    assert number.foreign is False


def test_length_limit_applies_after_surrounding_spaces_are_stripped() -> None:
    assert normalise("20123456".rjust(MAX_INPUT_LENGTH + 10)).kind is PhoneKind.VALID

    too_long = "20 12 34 56" + " " * MAX_INPUT_LENGTH + "0"
    assert normalise(too_long).kind is PhoneKind.INVALID


def test_same_number_written_differently_normalises_identically() -> None:
    spellings = ["20123456", "+45 20 12 34 56", "004520123456", "whatsapp:+4520123456"]

    assert len({normalise(raw).e164 for raw in spellings}) == 1
