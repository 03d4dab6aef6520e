"""crypto.DataCipher: encryption at rest with key rotation, and keyed lookup hashes."""

from __future__ import annotations

import re

import pytest

from crypto import DataCipher, DecryptionError, new_data_key

SECRET = b"lookup-secret-lookup-secret-lookup"
PLAINTEXT = "Karen Jensen, +4520123456, Nørrebrogade 1"


def test_round_trip() -> None:
    cipher = DataCipher([new_data_key()], SECRET)

    assert cipher.decrypt(cipher.encrypt(PLAINTEXT)) == PLAINTEXT


def test_round_trip_of_empty_and_non_ascii_text() -> None:
    cipher = DataCipher([new_data_key()], SECRET)

    for text in ("", "æøå ÆØÅ — 🙂", "x" * 10_000):
        assert cipher.decrypt(cipher.encrypt(text)) == text


def test_ciphertext_hides_the_plaintext_and_is_never_repeated() -> None:
    cipher = DataCipher([new_data_key()], SECRET)

    first = cipher.encrypt(PLAINTEXT)
    second = cipher.encrypt(PLAINTEXT)

    assert first != PLAINTEXT
    assert "Karen" not in first
    assert "4520123456" not in first
    assert first != second


def test_wrong_key_cannot_decrypt() -> None:
    token = DataCipher([new_data_key()], SECRET).encrypt(PLAINTEXT)
    other = DataCipher([new_data_key()], SECRET)

    with pytest.raises(DecryptionError):
        other.decrypt(token)


def test_tampered_or_garbage_token_cannot_decrypt() -> None:
    cipher = DataCipher([new_data_key()], SECRET)
    token = cipher.encrypt(PLAINTEXT)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    for bad in (tampered, "not a token", ""):
        with pytest.raises(DecryptionError):
            cipher.decrypt(bad)


def test_rotation_decrypts_tokens_made_with_the_old_key() -> None:
    old_key, new_key = new_data_key(), new_data_key()
    old_token = DataCipher([old_key], SECRET).encrypt(PLAINTEXT)

    rotated = DataCipher([new_key, old_key], SECRET)

    assert rotated.decrypt(old_token) == PLAINTEXT


def test_rotation_encrypts_with_the_first_key() -> None:
    old_key, new_key = new_data_key(), new_data_key()
    rotated = DataCipher([new_key, old_key], SECRET)

    token = rotated.encrypt(PLAINTEXT)

    assert DataCipher([new_key], SECRET).decrypt(token) == PLAINTEXT
    with pytest.raises(DecryptionError):
        DataCipher([old_key], SECRET).decrypt(token)


def test_keys_with_surrounding_whitespace_are_accepted() -> None:
    key = new_data_key()
    token = DataCipher([key], SECRET).encrypt(PLAINTEXT)

    assert DataCipher([f" {key}\n"], SECRET).decrypt(token) == PLAINTEXT


def test_at_least_one_key_is_needed() -> None:
    with pytest.raises(ValueError, match="key"):
        DataCipher([], SECRET)


def test_a_malformed_key_is_refused() -> None:
    with pytest.raises(ValueError, match="Fernet key"):
        DataCipher(["not-a-fernet-key"], SECRET)


def test_lookup_hash_is_stable_and_independent_of_the_data_key() -> None:
    first = DataCipher([new_data_key()], SECRET)
    second = DataCipher([new_data_key()], SECRET)

    digest = first.lookup_hash("phone", "+4520123456")

    assert digest == first.lookup_hash("phone", "+4520123456")
    assert digest == second.lookup_hash("phone", "+4520123456")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert "4520123456" not in digest


def test_lookup_hash_differs_by_value_kind_and_secret() -> None:
    cipher = DataCipher([new_data_key()], SECRET)
    other_secret = DataCipher([new_data_key()], SECRET + b"-other")

    digest = cipher.lookup_hash("phone", "+4520123456")

    assert digest != cipher.lookup_hash("phone", "+4520123457")
    assert digest != cipher.lookup_hash("email", "+4520123456")
    assert digest != other_secret.lookup_hash("phone", "+4520123456")


def test_lookup_hash_kind_and_value_cannot_be_shifted_into_each_other() -> None:
    cipher = DataCipher([new_data_key()], SECRET)

    assert cipher.lookup_hash("ab", "c") != cipher.lookup_hash("a", "bc")
