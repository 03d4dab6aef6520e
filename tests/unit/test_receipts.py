"""intake.receipts: the reporter's receipt code, its canonical form and its stored hash."""

from __future__ import annotations

import re
import string

import pytest

from intake.receipts import (
    ALPHABET,
    CODE_LENGTH,
    InvalidReceiptCode,
    canonical,
    code_hash,
    new_code,
)

GROUPED = re.compile(r"^[^-]{4}(-[^-]{4}){4}$")
LOOK_ALIKES = set("0O1ILU")


def test_alphabet_has_no_look_alikes_and_no_repeats() -> None:
    assert not LOOK_ALIKES & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 30
    assert set(ALPHABET) <= set(string.ascii_uppercase + string.digits)


def test_new_code_is_five_groups_of_four_from_the_alphabet() -> None:
    code = new_code()

    assert GROUPED.match(code), code
    letters = code.replace("-", "")
    assert len(letters) == CODE_LENGTH == 20
    assert set(letters) <= set(ALPHABET)
    assert not LOOK_ALIKES & set(letters)


def test_new_codes_are_distinct_and_use_the_whole_alphabet() -> None:
    codes = [new_code() for _ in range(2000)]

    assert len(set(codes)) == len(codes)
    used = set("".join(codes).replace("-", ""))
    # 40,000 random letters: every one of the 30 letters appears (a biased generator would not).
    assert used == set(ALPHABET)


def test_a_new_code_is_its_own_canonical_form_without_dashes() -> None:
    code = new_code()

    assert canonical(code) == code.replace("-", "")


@pytest.mark.parametrize(
    "spelling",
    [
        "ABCD-EFGH-JKMN-PQRS-TVWX",
        "ABCDEFGHJKMNPQRSTVWX",
        "abcd-efgh-jkmn-pqrs-tvwx",
        "abcd efgh jkmn pqrs tvwx",
        "  AbCd EFGH-jkmn  pqrs--tvwx ",
        "ABCD\tEFGH\nJKMN PQRS TVWX",
    ],
)
def test_canonical_accepts_lowercase_spaces_and_dashes(spelling: str) -> None:
    assert canonical(spelling) == "ABCDEFGHJKMNPQRSTVWX"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ABCD-EFGH-JKMN-PQRS",  # 16 letters
        "ABCD-EFGH-JKMN-PQRS-TVWXY",  # 21 letters
        "ABCD-EFGH-JKMN-PQRS-TVW0",  # zero
        "ABCD-EFGH-JKMN-PQRS-TVWO",  # letter O
        "ABCD-EFGH-JKMN-PQRS-TVW1",
        "ABCD-EFGH-JKMN-PQRS-TVWI",
        "ABCD-EFGH-JKMN-PQRS-TVWL",
        "ABCD-EFGH-JKMN-PQRS-TVWU",
        "ABCD.EFGH.JKMN.PQRS.TVWX",  # dots are not separators
        "ABCD-EFGH-JKMN-PQRS-TVWÆ",
    ],
)
def test_canonical_refuses_what_cannot_be_a_code(text: str) -> None:
    with pytest.raises(InvalidReceiptCode):
        canonical(text)


def test_invalid_receipt_code_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        canonical("XYZ")


def test_code_hash_is_the_same_for_equivalent_spellings() -> None:
    code = new_code()
    spellings = [code, code.lower(), code.replace("-", " "), code.replace("-", "")]

    hashes = {code_hash(spelling) for spelling in spellings}

    assert len(hashes) == 1
    (digest,) = hashes
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_code_hash_differs_between_codes_and_does_not_contain_the_code() -> None:
    first, second = new_code(), new_code()

    assert code_hash(first) != code_hash(second)
    assert canonical(first).lower() not in code_hash(first)


def test_code_hash_refuses_an_invalid_code() -> None:
    with pytest.raises(InvalidReceiptCode):
        code_hash("not a code")
