"""Encryption of personal data at rest and keyed lookup hashes.

Personal fields are Fernet-encrypted before they reach the database; a blind index (HMAC of a
normalised value) lets staff find "the same phone number" without storing it in clear.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """Stored data could not be decrypted with any configured key."""


class DataCipher:
    """Encrypts and decrypts text with the configured keys (the first one encrypts)."""

    def __init__(self, keys: list[str], lookup_secret: bytes) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        self._lookup_secret = lookup_secret

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError(
                "stored value cannot be decrypted with the configured keys"
            ) from exc

    def lookup_hash(self, kind: str, normalised: str) -> str:
        """A stable keyed hash for exact-match lookups (e.g. the same E.164 number)."""
        message = f"{kind}\x00{normalised}".encode()
        return hmac.new(self._lookup_secret, message, hashlib.sha256).hexdigest()


def new_data_key() -> str:
    return Fernet.generate_key().decode()
